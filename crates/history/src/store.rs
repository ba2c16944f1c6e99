//! A connection pool to one history store, writing and reading under one cluster's name.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use jiff::Timestamp;
use jiff::civil::Date;
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Row};
use stance_core::lifecycle::identity::parse_kind;
use stance_core::lifecycle::{Facts, FindingKey, Record, SubjectKind, SubjectRef, Tracker};
use stance_core::model::Severity;

use super::url::{Backend, HistoryUrl};
use super::{Error, HistoryReader, schema};

/// What one [`Store::write`] did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Written {
    /// Pending changes handed in (all confirmed: the caller drops them from its queue).
    pub changes: usize,
    /// Lifecycle rows inserted or updated.
    pub findings: usize,
    /// Change events inserted (a change already stored is not stored again).
    pub events: usize,
    /// Lifecycle rows the store already held at a newer revision (another writer — a new
    /// leader — got there first): the caller's records are stale and should be reloaded.
    pub stale: usize,
    /// Roll-up rows upserted.
    pub rollups: usize,
}

/// See the module documentation.
#[derive(Debug)]
pub struct Store {
    pub(crate) pool: AnyPool,
    pub(crate) url: HistoryUrl,
    pub(crate) cluster: String,
    /// Subject ids already known (subjects are never deleted).
    pub(crate) subject_ids: Mutex<HashMap<SubjectRef, i64>>,
}

/// How long a statement may wait for a pooled connection before the store counts as down.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);

impl Store {
    /// Connects to the store, brings its schema to the newest version and works under
    /// `cluster` (`--cluster-name`). A SQLite file is created when missing and switched to
    /// write-ahead logging, so readers (`stance history`) never block the writer.
    pub async fn open(url: &HistoryUrl, cluster: &str) -> Result<Store, Error> {
        Store::open_at(url, cluster, schema::LATEST).await
    }

    /// [`open`](Self::open), migrating only up to `version` (tests of upgrades).
    pub async fn open_at(url: &HistoryUrl, cluster: &str, version: i64) -> Result<Store, Error> {
        sqlx::any::install_default_drivers();
        let display = url.to_string();
        let mut options = AnyPoolOptions::new().acquire_timeout(ACQUIRE_TIMEOUT);
        options = match url.backend() {
            // One writer at a time is SQLite's rule anyway; a small pool serves the readers.
            Backend::Sqlite => options.max_connections(4).after_connect(|conn, _| {
                Box::pin(async move {
                    sqlx::query("PRAGMA synchronous = NORMAL").execute(&mut *conn).await?;
                    Ok(())
                })
            }),
            Backend::Postgres => options.max_connections(8),
        };
        let pool = options
            .connect(url.connect_url())
            .await
            .map_err(|source| Error::Connect { url: display.clone(), source })?;
        if url.backend() == Backend::Sqlite {
            sqlx::query("PRAGMA journal_mode = WAL")
                .execute(&pool)
                .await
                .map_err(|source| Error::Query { url: display.clone(), source })?;
        }
        let migrator = schema::migrator(url.backend(), version)
            .await
            .map_err(|source| Error::Migrate { url: display.clone(), source })?;
        migrator.run(&pool).await.map_err(|source| Error::Migrate { url: display.clone(), source })?;
        Ok(Store { pool, url: url.clone(), cluster: cluster.to_string(), subject_ids: Mutex::new(HashMap::new()) })
    }

    /// The cluster this store writes under.
    pub fn cluster(&self) -> &str {
        &self.cluster
    }

    /// The store's URL (password redacted when displayed).
    pub fn url(&self) -> &HistoryUrl {
        &self.url
    }

    /// A reader over every cluster in the store.
    pub fn reader(&self) -> HistoryReader {
        HistoryReader::new(self.pool.clone(), self.url.clone())
    }

    /// Closes the pool (waits for connections in use).
    pub async fn close(&self) {
        self.pool.close().await;
    }

    pub(crate) fn query_error(&self, source: sqlx::Error) -> Error {
        Error::Query { url: self.url.to_string(), source }
    }

    /// This cluster's lifecycles, ready to observe the index against. Subject ids are
    /// cached on the way.
    pub async fn load(&self) -> Result<Tracker, Error> {
        let rows = sqlx::query(
            "SELECT s.id, s.kind, s.namespace, s.name, f.kind, f.finding_id, f.what, f.first_seen, f.opened, \
             f.fixed, f.cycle, f.revision, f.severity, f.known_exploited, f.kev_due, f.risk, f.internet, f.hidden \
             FROM findings f JOIN subjects s ON s.id = f.subject WHERE s.cluster = $1",
        )
        .bind(&self.cluster)
        .fetch_all(&self.pool)
        .await
        .map_err(|e| self.query_error(e))?;
        let mut records = Vec::with_capacity(rows.len());
        let mut ids = HashMap::new();
        let d = self.decoder();
        for row in &rows {
            let (id, subject) = d.subject_of(row, 0)?;
            ids.entry(subject.clone()).or_insert(id);
            records.push((subject, d.key_of(row, 4)?, d.record_of(row, 7)?));
        }
        if let Ok(mut cache) = self.subject_ids.lock() {
            cache.extend(ids);
        }
        Ok(Tracker::from_records(records))
    }

    pub(crate) fn decoder(&self) -> Decoder<'_> {
        Decoder { url: &self.url }
    }

    pub(crate) fn get<T>(&self, row: &AnyRow, i: usize) -> Result<T, Error>
    where
        T: for<'r> sqlx::Decode<'r, sqlx::Any> + sqlx::Type<sqlx::Any>,
    {
        self.decoder().get(row, i)
    }

    pub(crate) fn key_of(&self, row: &AnyRow, at: usize) -> Result<FindingKey, Error> {
        self.decoder().key_of(row, at)
    }

    /// The ids of subjects, inserting the ones the store does not know yet.
    pub(crate) async fn subject_ids(&self, subjects: &[&SubjectRef]) -> Result<HashMap<SubjectRef, i64>, Error> {
        let mut out = HashMap::new();
        let mut missing = Vec::new();
        if let Ok(cache) = self.subject_ids.lock() {
            for s in subjects {
                match cache.get(*s) {
                    Some(id) => {
                        out.insert((*s).clone(), *id);
                    }
                    None => missing.push(*s),
                }
            }
        }
        for s in missing {
            sqlx::query(
                "INSERT INTO subjects (cluster, kind, namespace, name) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (cluster, kind, namespace, name) DO NOTHING",
            )
            .bind(&self.cluster)
            .bind(s.kind.as_str())
            .bind(&*s.namespace)
            .bind(&*s.name)
            .execute(&self.pool)
            .await
            .map_err(|e| self.query_error(e))?;
            let id: i64 = sqlx::query_scalar(
                "SELECT id FROM subjects WHERE cluster = $1 AND kind = $2 AND namespace = $3 AND name = $4",
            )
            .bind(&self.cluster)
            .bind(s.kind.as_str())
            .bind(&*s.namespace)
            .bind(&*s.name)
            .fetch_one(&self.pool)
            .await
            .map_err(|e| self.query_error(e))?;
            if let Ok(mut cache) = self.subject_ids.lock() {
                cache.insert(s.clone(), id);
            }
            out.insert(s.clone(), id);
        }
        Ok(out)
    }

    /// Deletes what is older than `cutoff`: lifecycles fixed before it (with their events),
    /// events before it, roll-ups of days before it and admission decisions before it — of
    /// this cluster only. Returns the rows deleted.
    pub async fn retain(&self, cutoff: Timestamp) -> Result<u64, Error> {
        let t = cutoff.as_second();
        let mut tx = self.pool.begin().await.map_err(|e| self.query_error(e))?;
        let mut n = 0;
        for sql in [
            "DELETE FROM finding_events WHERE at < $2 AND finding IN \
             (SELECT f.id FROM findings f JOIN subjects s ON s.id = f.subject WHERE s.cluster = $1)",
            "DELETE FROM finding_events WHERE finding IN (SELECT f.id FROM findings f JOIN subjects s \
             ON s.id = f.subject WHERE s.cluster = $1 AND f.fixed IS NOT NULL AND f.fixed < $2)",
            "DELETE FROM findings WHERE fixed IS NOT NULL AND fixed < $2 AND subject IN \
             (SELECT id FROM subjects WHERE cluster = $1)",
            "DELETE FROM daily_rollups WHERE cluster = $1 AND day < $2",
            "DELETE FROM admission_decisions WHERE cluster = $1 AND at < $2",
        ] {
            let r = sqlx::query(sql)
                .bind(&self.cluster)
                .bind(t)
                .execute(&mut *tx)
                .await
                .map_err(|e| self.query_error(e))?;
            n += r.rows_affected();
        }
        tx.commit().await.map_err(|e| self.query_error(e))?;
        Ok(n)
    }
}

/// Reads rows, naming the store in its errors.
pub(crate) struct Decoder<'a> {
    pub(crate) url: &'a HistoryUrl,
}

impl Decoder<'_> {
    /// Reads `(id, kind, namespace, name)` from column `at`.
    pub(crate) fn subject_of(&self, row: &AnyRow, at: usize) -> Result<(i64, SubjectRef), Error> {
        let id: i64 = self.get(row, at)?;
        let kind: String = self.get(row, at + 1)?;
        let namespace: String = self.get(row, at + 2)?;
        let name: String = self.get(row, at + 3)?;
        let kind = SubjectKind::parse(&kind).ok_or_else(|| self.corrupt("subjects", "kind", kind))?;
        Ok((id, SubjectRef { kind, namespace: namespace.into(), name: name.into() }))
    }

    /// Reads `(kind, finding_id, what)` from column `at`.
    pub(crate) fn key_of(&self, row: &AnyRow, at: usize) -> Result<FindingKey, Error> {
        let kind: String = self.get(row, at)?;
        let id: String = self.get(row, at + 1)?;
        let what: String = self.get(row, at + 2)?;
        let kind = parse_kind(&kind).ok_or_else(|| self.corrupt("findings", "kind", kind))?;
        Ok(FindingKey { kind, id: id.into(), what: what.into() })
    }

    /// Reads a lifecycle's columns from `first_seen` (at `at`) to `hidden`.
    pub(crate) fn record_of(&self, row: &AnyRow, at: usize) -> Result<Record, Error> {
        let time = |i: usize, column: &'static str| -> Result<Timestamp, Error> {
            let s: i64 = self.get(row, i)?;
            Timestamp::from_second(s).map_err(|_| self.corrupt("findings", column, s.to_string()))
        };
        let fixed: Option<i64> = self.get(row, at + 2)?;
        let severity: String = self.get(row, at + 5)?;
        let kev_due: Option<String> = self.get(row, at + 7)?;
        let kev_due = match kev_due {
            Some(d) => Some(d.parse::<Date>().map_err(|_| self.corrupt("findings", "kev_due", d))?),
            None => None,
        };
        let count = |i: usize, column: &'static str| -> Result<u32, Error> {
            let v: i64 = self.get(row, i)?;
            u32::try_from(v).map_err(|_| self.corrupt("findings", column, v.to_string()))
        };
        Ok(Record {
            first_seen: time(at, "first_seen")?,
            opened: time(at + 1, "opened")?,
            fixed: match fixed {
                Some(s) => {
                    Some(Timestamp::from_second(s).map_err(|_| self.corrupt("findings", "fixed", s.to_string()))?)
                }
                None => None,
            },
            cycle: count(at + 3, "cycle")?,
            revision: count(at + 4, "revision")?,
            facts: Facts {
                severity: severity_of(&severity).ok_or_else(|| self.corrupt("findings", "severity", severity))?,
                known_exploited: self.get::<i64>(row, at + 6)? != 0,
                kev_due,
                risk: count(at + 8, "risk")?,
                internet: self.get::<i64>(row, at + 9)? != 0,
                hidden: self.get::<i64>(row, at + 10)? != 0,
            },
        })
    }

    pub(crate) fn get<T>(&self, row: &AnyRow, i: usize) -> Result<T, Error>
    where
        T: for<'r> sqlx::Decode<'r, sqlx::Any> + sqlx::Type<sqlx::Any>,
    {
        row.try_get(i).map_err(|e| Error::Query { url: self.url.to_string(), source: e })
    }

    pub(crate) fn corrupt(&self, table: &'static str, column: &'static str, value: String) -> Error {
        Error::Corrupt { url: self.url.to_string(), table, column, value }
    }
}

/// The stored severity names (`CRITICAL`…), strictly.
pub(crate) fn severity_of(text: &str) -> Option<Severity> {
    Severity::WORST_FIRST.into_iter().find(|s| s.as_str() == text)
}
