//! Trends from the history store (docs/history.md): the [`TrendSource`] `stance serve
//! --history URL` gives the dashboard — the store's daily roll-ups of open findings per
//! severity, for one application or the whole cluster (every cluster of the store unless
//! `--cluster-name` names one), over the last [`TREND_DAYS`] days. `GET /api/trends[?app=NS/NAME]`
//! answers the same points as JSON.
//!
//! The reader is async and the dashboard renders on a blocking thread: each call blocks on
//! the runtime's handle. A store that cannot answer is logged and shows as no trend.

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;
use stance_core::assessment::status::SeverityCounts;
use stance_core::lifecycle::SubjectRef;
use stance_history::{HistoryReader, Scope};

use super::{TrendPoint, TrendSource, Viewer};

/// Days of trend shown.
pub const TREND_DAYS: i64 = 90;

/// Trends read from a history store.
pub struct HistoryTrends {
    reader: HistoryReader,
    cluster: Option<String>,
    handle: tokio::runtime::Handle,
    now: Option<Timestamp>,
}

impl HistoryTrends {
    /// Reads through `reader` (on `handle`'s runtime), `cluster` only when given, up to
    /// `now` (`None`: the clock).
    pub fn new(
        reader: HistoryReader,
        cluster: Option<String>,
        handle: tokio::runtime::Handle,
        now: Option<Timestamp>,
    ) -> HistoryTrends {
        HistoryTrends { reader, cluster, handle, now }
    }
}

impl TrendSource for HistoryTrends {
    fn trend(&self, app: Option<(&str, &str)>, viewer: &Viewer) -> Vec<TrendPoint> {
        // The cluster-wide roll-up counts every namespace: only for viewers who see them all.
        let visible = match app {
            Some((ns, _)) => viewer.sees(ns),
            None => viewer.is_all(),
        };
        if !visible {
            return Vec::new();
        }
        let scope = Scope { cluster: self.cluster.clone(), subject: app.map(|(ns, name)| SubjectRef::app(ns, name)) };
        let since = self.now.unwrap_or_else(Timestamp::now) - SignedDuration::from_hours(TREND_DAYS * 24);
        match self.handle.block_on(self.reader.trends(&scope, since)) {
            Ok(rows) => points(&rows),
            Err(e) => {
                tracing::warn!(error = %e, "dashboard: cannot read trends from the history store");
                Vec::new()
            }
        }
    }
}

/// The store's rows (per day and severity) as points (per day, open findings by severity).
fn points(rows: &[stance_history::TrendPoint]) -> Vec<TrendPoint> {
    let mut out: Vec<TrendPoint> = Vec::new();
    for r in rows {
        let Ok(day) = r.day.parse::<jiff::civil::Date>() else { continue };
        let Ok(at) = day.to_zoned(jiff::tz::TimeZone::UTC).map(|z| z.timestamp()) else { continue };
        if out.last().is_none_or(|(t, _)| *t != at) {
            out.push((at, SeverityCounts::default()));
        }
        let Some((_, counts)) = out.last_mut() else { continue };
        let open = r.counts.open;
        counts.total += open;
        match r.severity.as_str() {
            "CRITICAL" => counts.critical += open,
            "HIGH" => counts.high += open,
            "MEDIUM" => counts.medium += open,
            "LOW" => counts.low += open,
            _ => counts.unknown += open,
        }
    }
    out
}

/// One point of `GET /api/trends`.
#[derive(Debug, Serialize)]
pub struct TrendJson {
    /// `YYYY-MM-DD` (UTC).
    pub day: String,
    /// Open findings by severity that day.
    pub open: SeverityCounts,
}

/// The JSON form of `points`.
pub fn json(points: &[TrendPoint]) -> Vec<TrendJson> {
    points.iter().map(|(t, c)| TrendJson { day: t.strftime("%Y-%m-%d").to_string(), open: c.clone() }).collect()
}
