//! Reading the history: what `stance history` prints and the dashboard shows. Every
//! question takes a [`Scope`] — one cluster or all of them (the hub view of a PostgreSQL
//! store many clusters write to), one application or asset or all — and is answered with
//! the core's own summaries (`stance_core::lifecycle::summary`), so the numbers match the
//! operator's status and metrics.
//!
//! Trends come from the daily roll-ups (one row per day and severity: fast at any size);
//! time to fix, per-finding dates and overdue findings from the lifecycle rows.

use std::collections::BTreeMap;

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;
use sqlx::any::AnyArguments;
use sqlx::{AnyPool, Arguments};
use stance_core::guardrail::RemediationPolicy;
use stance_core::lifecycle::summary::{self, DAY, DailyCounts, Remediation, TimeToFix};
use stance_core::lifecycle::{FindingKey, Record, SubjectKind, SubjectRef};

use super::admission::Decision;
use super::store::{Decoder, severity_of};
use super::{Error, HistoryUrl};

/// Which part of the history a question is about.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Scope {
    /// One cluster, or every cluster in the store (`None`).
    pub cluster: Option<String>,
    /// One application or asset, or all of them (`None`).
    pub subject: Option<SubjectRef>,
}

/// One day of a trend, per severity.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TrendPoint {
    /// `YYYY-MM-DD` (UTC).
    pub day: String,
    /// `CRITICAL`, `HIGH`, …
    pub severity: String,
    #[serde(flatten)]
    pub counts: DailyCounts,
}

/// One lifecycle with its dates, as `stance history --format json` lists it.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FindingHistory {
    pub cluster: String,
    /// `namespace/name` of an application, `asset:namespace/name` of an asset.
    pub subject: String,
    pub kind: String,
    pub id: String,
    /// The package (or fingerprint, location, object) it is in.
    pub what: String,
    pub severity: String,
    pub known_exploited: bool,
    pub risk: u32,
    pub hidden: bool,
    /// RFC 3339.
    pub first_seen: String,
    /// Start of the current (or last) open period.
    pub opened: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fixed: Option<String>,
    /// Under the remediation policy given to the reader.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub due: Option<String>,
    pub overdue: bool,
    /// Open periods (2 or more: it was reopened).
    pub cycle: u32,
    /// Days from opened to fixed, when fixed (one decimal).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub days_to_fix: Option<f64>,
}

/// A lifecycle as loaded: its cluster, subject, identity and record.
pub type Lifecycle = (String, SubjectRef, FindingKey, Record);

/// See the module documentation.
#[derive(Clone, Debug)]
pub struct HistoryReader {
    pool: AnyPool,
    url: HistoryUrl,
}

impl HistoryReader {
    pub(crate) fn new(pool: AnyPool, url: HistoryUrl) -> HistoryReader {
        HistoryReader { pool, url }
    }

    fn err(&self, source: sqlx::Error) -> Error {
        Error::Query { url: self.url.to_string(), source }
    }

    /// The clusters that wrote to the store, with their last observation, by name.
    pub async fn clusters(&self) -> Result<Vec<(String, Timestamp)>, Error> {
        let rows = sqlx::query("SELECT name, observed FROM clusters ORDER BY name")
            .fetch_all(&self.pool)
            .await
            .map_err(|e| self.err(e))?;
        let d = Decoder { url: &self.url };
        rows.iter()
            .map(|r| {
                let name: String = d.get(r, 0)?;
                let t: i64 = d.get(r, 1)?;
                Ok((name, Timestamp::from_second(t).map_err(|_| d.corrupt("clusters", "observed", t.to_string()))?))
            })
            .collect()
    }

    /// Daily counts per severity from `since` on: one subject's, or the whole cluster's
    /// (every cluster's summed when the scope names none), by day then severity.
    pub async fn trends(&self, scope: &Scope, since: Timestamp) -> Result<Vec<TrendPoint>, Error> {
        let mut args = AnyArguments::default();
        let _ = args.add(summary::day_start(since).as_second());
        let mut sql = String::from(
            "SELECT r.day, r.severity, CAST(SUM(r.open) AS BIGINT), CAST(SUM(r.overdue) AS BIGINT), \
             CAST(SUM(r.new) AS BIGINT), CAST(SUM(r.reopened) AS BIGINT), CAST(SUM(r.fixed) AS BIGINT), \
             CAST(SUM(r.fix_seconds) AS BIGINT) FROM daily_rollups r",
        );
        match &scope.subject {
            Some(s) => {
                sql.push_str(" JOIN subjects s ON s.id = r.subject WHERE r.day >= $1 AND s.kind = $2 AND s.namespace = $3 AND s.name = $4");
                let _ = args.add(s.kind.as_str());
                let _ = args.add(s.namespace.to_string());
                let _ = args.add(s.name.to_string());
            }
            None => sql.push_str(" WHERE r.day >= $1 AND r.subject = 0"),
        }
        if let Some(c) = &scope.cluster {
            let _ = args.add(c.clone());
            sql.push_str(&format!(" AND r.cluster = ${}", if scope.subject.is_some() { 5 } else { 2 }));
        }
        sql.push_str(" GROUP BY r.day, r.severity ORDER BY r.day, r.severity");
        let rows = sqlx::query_with(&sql, args).fetch_all(&self.pool).await.map_err(|e| self.err(e))?;
        let d = Decoder { url: &self.url };
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let day: i64 = d.get(r, 0)?;
            let severity: String = d.get(r, 1)?;
            let n = |i: usize| -> Result<u32, Error> { Ok(u32::try_from(d.get::<i64>(r, i)?).unwrap_or(u32::MAX)) };
            let day = Timestamp::from_second(day).map_err(|_| d.corrupt("daily_rollups", "day", day.to_string()))?;
            out.push(TrendPoint {
                day: day.strftime("%Y-%m-%d").to_string(),
                severity,
                counts: DailyCounts {
                    open: n(2)?,
                    overdue: n(3)?,
                    new: n(4)?,
                    reopened: n(5)?,
                    fixed: n(6)?,
                    fix_seconds: d.get(r, 7)?,
                },
            });
        }
        // Worst severity first within a day (the stored names do not sort that way).
        out.sort_by_key(|p| (p.day.clone(), severity_of(&p.severity).map(|s| s.rank())));
        Ok(out)
    }

    /// The lifecycles of the scope that are open or were fixed at or after `since`.
    pub async fn lifecycles(&self, scope: &Scope, since: Timestamp) -> Result<Vec<Lifecycle>, Error> {
        let mut sql = String::from(
            "SELECT s.cluster, s.id, s.kind, s.namespace, s.name, f.kind, f.finding_id, f.what, f.first_seen, \
             f.opened, f.fixed, f.cycle, f.revision, f.severity, f.known_exploited, f.kev_due, f.risk, f.internet, \
             f.hidden FROM findings f JOIN subjects s ON s.id = f.subject WHERE (f.fixed IS NULL OR f.fixed >= $1)",
        );
        let mut args = AnyArguments::default();
        let _ = args.add(since.as_second());
        let mut n = 1;
        let mut bind = |sql: &mut String, column: &str, value: String| {
            n += 1;
            sql.push_str(&format!(" AND {column} = ${n}"));
            let _ = args.add(value);
        };
        if let Some(c) = &scope.cluster {
            bind(&mut sql, "s.cluster", c.clone());
        }
        if let Some(s) = &scope.subject {
            bind(&mut sql, "s.kind", s.kind.as_str().to_string());
            bind(&mut sql, "s.namespace", s.namespace.to_string());
            bind(&mut sql, "s.name", s.name.to_string());
        }
        let rows = sqlx::query_with(&sql, args).fetch_all(&self.pool).await.map_err(|e| self.err(e))?;
        let d = Decoder { url: &self.url };
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let cluster: String = d.get(r, 0)?;
            let (_, subject) = d.subject_of(r, 1)?;
            out.push((cluster, subject, d.key_of(r, 5)?, d.record_of(r, 8)?));
        }
        out.sort_by(|a, b| (&a.0, &a.1, &a.2).cmp(&(&b.0, &b.1, &b.2)));
        Ok(out)
    }

    /// Open findings, new / reopened / fixed in the last week and time to fix over the last
    /// 30 and 90 days, per cluster and subject of the scope, at `now` under `policy`.
    pub async fn remediation(
        &self,
        scope: &Scope,
        policy: &RemediationPolicy,
        now: Timestamp,
    ) -> Result<BTreeMap<(String, SubjectRef), Remediation>, Error> {
        let window = i64::from(*summary::TIME_TO_FIX_WINDOWS.iter().max().unwrap_or(&90));
        let all = self.lifecycles(scope, now - SignedDuration::from_secs(window * DAY)).await?;
        let mut by: BTreeMap<(String, SubjectRef), Vec<Record>> = BTreeMap::new();
        for (c, s, _, r) in all {
            by.entry((c, s)).or_default().push(r);
        }
        Ok(by.into_iter().map(|(k, rs)| (k, summary::remediation(&rs, policy, now))).collect())
    }

    /// Time to fix over the last 30 and 90 days for the whole scope at `now`.
    pub async fn time_to_fix(&self, scope: &Scope, now: Timestamp) -> Result<Vec<TimeToFix>, Error> {
        let window = i64::from(*summary::TIME_TO_FIX_WINDOWS.iter().max().unwrap_or(&90));
        let all = self.lifecycles(scope, now - SignedDuration::from_secs(window * DAY)).await?;
        let fixed: Vec<Record> = all.into_iter().map(|l| l.3).filter(|r| r.fixed.is_some()).collect();
        Ok(summary::time_to_fix_table(&fixed, now))
    }

    /// Every lifecycle of the scope open or fixed since `since`, with its dates (`overdue`
    /// and `due` under `policy` at `now`); with `overdue_only`, only the overdue ones.
    pub async fn findings(
        &self,
        scope: &Scope,
        since: Timestamp,
        policy: &RemediationPolicy,
        now: Timestamp,
        overdue_only: bool,
    ) -> Result<Vec<FindingHistory>, Error> {
        let rfc = |t: Timestamp| t.to_string();
        Ok(self
            .lifecycles(scope, since)
            .await?
            .into_iter()
            .filter(|(_, _, _, r)| !overdue_only || r.overdue(policy, now))
            .map(|(cluster, subject, key, r)| FindingHistory {
                cluster,
                subject: subject.to_string(),
                kind: key.kind.as_str().to_string(),
                id: key.id.to_string(),
                what: key.what.to_string(),
                severity: r.facts.severity.as_str().to_string(),
                known_exploited: r.facts.known_exploited,
                risk: r.facts.risk,
                hidden: r.facts.hidden,
                first_seen: rfc(r.first_seen),
                opened: rfc(r.opened),
                fixed: r.fixed.map(rfc),
                due: r.due(policy).map(rfc),
                overdue: r.overdue(policy, now),
                cycle: r.cycle,
                days_to_fix: r.time_to_fix().map(|d| (d.as_secs_f64() / DAY as f64 * 10.0).round() / 10.0),
            })
            .collect())
    }

    /// Admission decisions at or after `since`, newest first, at most `limit`.
    pub async fn decisions(&self, cluster: Option<&str>, since: Timestamp, limit: u32) -> Result<Vec<Decision>, Error> {
        let mut sql = String::from(
            "SELECT cluster, at, uid, seq, operation, username, workload, policy, rule, effect, message \
             FROM admission_decisions WHERE at >= $1",
        );
        let mut args = AnyArguments::default();
        let _ = args.add(since.as_second());
        if let Some(c) = cluster {
            sql.push_str(" AND cluster = $2");
            let _ = args.add(c.to_string());
        }
        sql.push_str(&format!(" ORDER BY at DESC, uid, seq LIMIT {limit}"));
        let rows = sqlx::query_with(&sql, args).fetch_all(&self.pool).await.map_err(|e| self.err(e))?;
        let d = Decoder { url: &self.url };
        rows.iter()
            .map(|r| {
                let at: i64 = d.get(r, 1)?;
                let seq: i64 = d.get(r, 3)?;
                Ok(Decision {
                    cluster: d.get(r, 0)?,
                    at: Timestamp::from_second(at)
                        .map_err(|_| d.corrupt("admission_decisions", "at", at.to_string()))?,
                    uid: d.get(r, 2)?,
                    seq: u32::try_from(seq).unwrap_or(u32::MAX),
                    operation: d.get(r, 4)?,
                    username: d.get(r, 5)?,
                    workload: d.get(r, 6)?,
                    policy: d.get(r, 7)?,
                    rule: d.get(r, 8)?,
                    effect: d.get(r, 9)?,
                    message: d.get(r, 10)?,
                })
            })
            .collect()
    }
}

/// Parses `--app NS/NAME` (or `asset:NS/NAME`) into a subject.
pub fn parse_subject(text: &str) -> Option<SubjectRef> {
    let (kind, rest) = match text.strip_prefix("asset:") {
        Some(rest) => (SubjectKind::Asset, rest),
        None => (SubjectKind::App, text),
    };
    let (ns, name) = rest.split_once('/')?;
    (!ns.is_empty() && !name.is_empty() && !name.contains('/')).then(|| SubjectRef {
        kind,
        namespace: ns.into(),
        name: name.into(),
    })
}
