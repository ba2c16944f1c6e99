//! Writing a tracker's pending changes and the day's roll-ups: one transaction, multi-row
//! statements, idempotent.
//!
//! - A lifecycle row is upserted with its newest record, and only when the stored revision
//!   is lower (`ON CONFLICT … DO UPDATE … WHERE findings.revision < excluded.revision`); the
//!   first-seen date only ever moves earlier. Rows the store held at a newer revision are
//!   not returned by `RETURNING`, counted as [`Written::stale`], and their events skipped.
//! - Events are keyed by (finding, revision): a change written twice is stored once.

use std::collections::{BTreeMap, HashMap};

use jiff::Timestamp;
use sqlx::any::AnyArguments;
use sqlx::query::Query;
use sqlx::{Any, Arguments};
use stance_core::lifecycle::summary::{RollupRow, day_start};
use stance_core::lifecycle::{Change, FindingKey, Record, SubjectRef};

use super::store::{Store, Written};
use super::{Error, url::Backend};

/// Rows per multi-row statement on PostgreSQL: 15 parameters a lifecycle row, well under its
/// 65,535 bind parameters.
const CHUNK: usize = 1000;
/// On SQLite: sqlx binds each `$N` by searching the statement's parameter names
/// (`sqlite3_bind_parameter_name`), quadratic in the parameters of one statement — 1000
/// rows (15,000 parameters) spent 90 % of a write there (perf, BENCHMARKS.md); 16 rows keep
/// the search small and the statements few.
const SQLITE_CHUNK: usize = 16;

impl Store {
    /// Rows per multi-row statement on this store's database.
    pub(crate) fn rows_per_statement(&self) -> usize {
        match self.url.backend() {
            Backend::Sqlite => SQLITE_CHUNK,
            Backend::Postgres => CHUNK,
        }
    }
}

fn b(v: bool) -> i64 {
    i64::from(v)
}

impl Store {
    /// Writes `changes` (a tracker's [`pending`](stance_core::lifecycle::Tracker::pending)
    /// queue, oldest first), the roll-up rows of the day of `at` and the cluster's last
    /// observation, in one transaction. On success every change is stored (or was already):
    /// the caller drops them from its queue.
    pub async fn write(
        &self,
        changes: &[Change],
        rollups: &[RollupRow],
        at: Timestamp,
        writer: &str,
    ) -> Result<Written, Error> {
        let mut subjects: Vec<&SubjectRef> = changes.iter().map(|c| &c.subject).collect();
        subjects.extend(rollups.iter().filter_map(|(s, ..)| s.as_ref()));
        subjects.sort();
        subjects.dedup();
        let ids = self.subject_ids(&subjects).await?;

        // The newest record of each lifecycle, and every change of it, in order.
        let mut latest: BTreeMap<(i64, &FindingKey), (&Record, Vec<&Change>)> = BTreeMap::new();
        for c in changes {
            let Some(&sid) = ids.get(&c.subject) else { continue };
            let e = latest.entry((sid, &c.key)).or_insert((&c.record, Vec::new()));
            if c.record.revision >= e.0.revision {
                e.0 = &c.record;
            }
            e.1.push(c);
        }
        let mut written = Written { changes: changes.len(), rollups: rollups.len(), ..Written::default() };
        let mut tx = self.pool.begin().await.map_err(|e| self.query_error(e))?;
        let entries: Vec<_> = latest.into_iter().collect();
        for chunk in entries.chunks(self.rows_per_statement()) {
            let mut sql = String::from(
                "INSERT INTO findings (subject, kind, finding_id, what, first_seen, opened, fixed, cycle, revision, \
                 severity, known_exploited, kev_due, risk, internet, hidden) VALUES ",
            );
            let mut args = AnyArguments::default();
            for (n, ((sid, key), (r, _))) in chunk.iter().enumerate() {
                push_row(&mut sql, n, 15);
                let _ = args.add(*sid);
                let _ = args.add(key.kind.as_str());
                let _ = args.add(&*key.id);
                let _ = args.add(&*key.what);
                let _ = args.add(r.first_seen.as_second());
                let _ = args.add(r.opened.as_second());
                let _ = args.add(r.fixed.map(|f| f.as_second()));
                let _ = args.add(i64::from(r.cycle));
                let _ = args.add(i64::from(r.revision));
                let _ = args.add(r.facts.severity.as_str());
                let _ = args.add(b(r.facts.known_exploited));
                let _ = args.add(r.facts.kev_due.map(|d| d.to_string()));
                let _ = args.add(i64::from(r.facts.risk));
                let _ = args.add(b(r.facts.internet));
                let _ = args.add(b(r.facts.hidden));
            }
            sql.push_str(
                " ON CONFLICT (subject, kind, finding_id, what) DO UPDATE SET \
                 first_seen = CASE WHEN excluded.first_seen < findings.first_seen THEN excluded.first_seen \
                 ELSE findings.first_seen END, \
                 opened = excluded.opened, fixed = excluded.fixed, cycle = excluded.cycle, \
                 revision = excluded.revision, severity = excluded.severity, \
                 known_exploited = excluded.known_exploited, kev_due = excluded.kev_due, risk = excluded.risk, \
                 internet = excluded.internet, hidden = excluded.hidden \
                 WHERE findings.revision < excluded.revision \
                 RETURNING id, subject, kind, finding_id, what",
            );
            let rows = sqlx::query_with(&sql, args).fetch_all(&mut *tx).await.map_err(|e| self.query_error(e))?;
            let mut stored: HashMap<(i64, FindingKey), i64> = HashMap::with_capacity(rows.len());
            for row in &rows {
                let id: i64 = self.get(row, 0)?;
                let sid: i64 = self.get(row, 1)?;
                stored.insert((sid, self.key_of(row, 2)?), id);
            }
            written.findings += stored.len();
            written.stale += chunk.len() - stored.len();
            // The events of the lifecycles just stored.
            let events: Vec<(i64, &Change)> = chunk
                .iter()
                .filter_map(|((sid, key), (_, cs))| stored.get(&(*sid, (*key).clone())).map(|id| (*id, cs)))
                .flat_map(|(id, cs)| cs.iter().map(move |c| (id, *c)))
                .collect();
            for ev in events.chunks(self.rows_per_statement()) {
                let mut sql = String::from(
                    "INSERT INTO finding_events (finding, revision, event, at, severity, known_exploited, risk, \
                     hidden) VALUES ",
                );
                let mut args = AnyArguments::default();
                for (n, (id, c)) in ev.iter().enumerate() {
                    push_row(&mut sql, n, 8);
                    let _ = args.add(*id);
                    let _ = args.add(i64::from(c.record.revision));
                    let _ = args.add(c.event.as_str());
                    let _ = args.add(c.at.as_second());
                    let _ = args.add(c.record.facts.severity.as_str());
                    let _ = args.add(b(c.record.facts.known_exploited));
                    let _ = args.add(i64::from(c.record.facts.risk));
                    let _ = args.add(b(c.record.facts.hidden));
                }
                sql.push_str(" ON CONFLICT (finding, revision) DO NOTHING");
                let r = sqlx::query_with(&sql, args).execute(&mut *tx).await.map_err(|e| self.query_error(e))?;
                written.events += r.rows_affected() as usize;
            }
        }
        self.write_rollups(&mut tx, rollups, &ids, at).await?;
        let q: Query<'_, Any, AnyArguments<'_>> = sqlx::query(
            "INSERT INTO clusters (name, observed, writer) VALUES ($1, $2, $3) \
             ON CONFLICT (name) DO UPDATE SET observed = excluded.observed, writer = excluded.writer",
        );
        q.bind(&self.cluster)
            .bind(at.as_second())
            .bind(writer)
            .execute(&mut *tx)
            .await
            .map_err(|e| self.query_error(e))?;
        tx.commit().await.map_err(|e| self.query_error(e))?;
        Ok(written)
    }

    async fn write_rollups(
        &self,
        tx: &mut sqlx::Transaction<'_, Any>,
        rows: &[RollupRow],
        ids: &HashMap<SubjectRef, i64>,
        at: Timestamp,
    ) -> Result<(), Error> {
        let day = day_start(at).as_second();
        for chunk in rows.chunks(self.rows_per_statement()) {
            let mut sql = String::from(
                "INSERT INTO daily_rollups (cluster, day, subject, severity, open, overdue, new, reopened, fixed, \
                 fix_seconds) VALUES ",
            );
            let mut args = AnyArguments::default();
            let mut n = 0;
            for (subject, severity, c) in chunk {
                let sid = match subject {
                    Some(s) => match ids.get(s) {
                        Some(id) => *id,
                        None => continue,
                    },
                    None => 0,
                };
                push_row(&mut sql, n, 10);
                n += 1;
                let _ = args.add(self.cluster.as_str());
                let _ = args.add(day);
                let _ = args.add(sid);
                let _ = args.add(severity.as_str());
                let _ = args.add(i64::from(c.open));
                let _ = args.add(i64::from(c.overdue));
                let _ = args.add(i64::from(c.new));
                let _ = args.add(i64::from(c.reopened));
                let _ = args.add(i64::from(c.fixed));
                let _ = args.add(c.fix_seconds);
            }
            if n == 0 {
                continue;
            }
            sql.push_str(
                " ON CONFLICT (cluster, subject, day, severity) DO UPDATE SET open = excluded.open, \
                 overdue = excluded.overdue, new = excluded.new, reopened = excluded.reopened, \
                 fixed = excluded.fixed, fix_seconds = excluded.fix_seconds",
            );
            sqlx::query_with(&sql, args).execute(&mut **tx).await.map_err(|e| self.query_error(e))?;
        }
        Ok(())
    }

    /// The database kind (for callers that report it).
    pub fn backend(&self) -> Backend {
        self.url.backend()
    }
}

/// Appends `($k, …, $k+width-1)` for row `n` (`, ` before all but the first).
fn push_row(sql: &mut String, n: usize, width: usize) {
    use std::fmt::Write;
    if n > 0 {
        sql.push_str(", ");
    }
    sql.push('(');
    for i in 0..width {
        let _ = write!(sql, "{}${}", if i == 0 { "" } else { ", " }, n * width + i + 1);
    }
    sql.push(')');
}
