//! The admission decisions audit trail (issue 12 §1, docs/history.md): the webhook's records
//! ([`AuditRecord`], handed over its bounded channel, never waiting) written to the history
//! store by a task of their own, off the admission path — the webhook never touches the
//! database.
//!
//! - One row per violation ([`decisions_of`]): requester, workload, policy, rule, effect
//!   (`deny`, `warn`, `audit`, `excepted`) and message; rows are keyed by the
//!   AdmissionRequest uid and the violation's position, so a record written twice is stored
//!   once.
//! - Every replica writes the decisions its own webhook made (not only the leader: each
//!   replica answers its own share of the API server's calls).
//! - Batched: written every [`FLUSH_EVERY`] or as soon as [`BATCH`] rows wait.
//! - Bounded: with the store down, at most [`MAX_PENDING`] rows wait in memory; beyond that
//!   the oldest are dropped and counted (`stance_history_admission_decisions_dropped_total`), a
//!   warning logged. Retention is the store's (`--history-retention-days`).

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use stance_core::policy::{Effect, Violation};
use stance_history::{Decision, HistoryUrl, Store};
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::history::HistoryMetrics;
use crate::webhook::AuditRecord;

/// Rows waiting this long at most before a write.
pub const FLUSH_EVERY: Duration = Duration::from_secs(2);
/// A write starts at once when this many rows wait.
pub const BATCH: usize = 500;
/// Rows kept in memory while the store is down; older ones are dropped (counted).
pub const MAX_PENDING: usize = 10_000;
/// After a failed write, the store is tried again this much later.
pub const RETRY_EVERY: Duration = Duration::from_secs(5);

/// The rows of one record, one per violation, in the verdict's order. The cluster is the
/// store's (filled in on write). A violation without words (the webhook words only what it
/// publishes) is described by its items and image.
pub fn decisions_of(record: &AuditRecord) -> Vec<Decision> {
    let user = if record.user_verified { record.user.clone() } else { format!("{} (unverified)", record.user) };
    record
        .violations
        .iter()
        .enumerate()
        .map(|(seq, v)| Decision {
            cluster: String::new(),
            at: record.at,
            uid: record.uid.clone(),
            seq: u32::try_from(seq).unwrap_or(u32::MAX),
            operation: record.operation.to_string(),
            username: user.clone(),
            workload: record.workload.to_string(),
            policy: v.policy.to_string(),
            rule: v.rule.to_string(),
            effect: effect(v).to_string(),
            message: message(v),
        })
        .collect()
}

fn effect(v: &Violation) -> &'static str {
    match v.effect() {
        Effect::Deny => "deny",
        Effect::Warn => "warn",
        Effect::Audit => "audit",
        Effect::Excepted => "excepted",
    }
}

fn message(v: &Violation) -> String {
    if !v.message.is_empty() {
        return v.message.clone();
    }
    let mut m = v.item_strs().join(", ");
    if let Some(image) = &v.image {
        m.push_str(if m.is_empty() { "image " } else { " in image " });
        m.push_str(&image.to_string());
    }
    m
}

/// Writes the records `rx` delivers to the store at `url` under `cluster` until `token` is
/// cancelled or the channel closes (then what waits is written once more, best effort).
pub async fn run(
    url: HistoryUrl,
    cluster: String,
    mut rx: mpsc::Receiver<AuditRecord>,
    metrics: Arc<HistoryMetrics>,
    token: CancellationToken,
) {
    let mut pending: VecDeque<Decision> = VecDeque::new();
    let mut store: Option<Store> = None;
    // After a failure the store is not tried again before this (an attempt on a store that
    // is down can take the pool's whole acquire timeout).
    let mut retry_at = Instant::now();
    let mut open = true;
    while open {
        let flush = tokio::time::sleep_until((Instant::now() + FLUSH_EVERY).max(retry_at));
        tokio::pin!(flush);
        // Collect until a batch is full (and the store may be tried), the flush time passes
        // or the channel ends.
        loop {
            tokio::select! {
                _ = token.cancelled() => { open = false; break }
                _ = &mut flush => break,
                r = rx.recv() => match r {
                    Some(record) => {
                        pending.extend(decisions_of(&record));
                        bound(&mut pending, &metrics);
                        if pending.len() >= BATCH && Instant::now() >= retry_at { break }
                    }
                    None => { open = false; break }
                },
            }
        }
        if pending.is_empty() {
            continue;
        }
        if store.is_none() {
            match Store::open(&url, &cluster).await {
                Ok(s) => store = Some(s),
                Err(e) => {
                    tracing::warn!(error = %e, pending = pending.len(), "cannot record admission decisions: kept in memory");
                    retry_at = Instant::now() + RETRY_EVERY;
                    continue;
                }
            }
        }
        let Some(s) = &store else { continue };
        let rows: Vec<Decision> = pending.iter().cloned().collect();
        match s.record_decisions(&rows).await {
            Ok(n) => {
                metrics.decisions_written.inc_by(n as u64);
                pending.clear();
            }
            Err(e) => {
                tracing::warn!(error = %e, pending = pending.len(), "cannot record admission decisions: kept in memory");
                retry_at = Instant::now() + RETRY_EVERY;
                if e.is_unavailable() {
                    store = None;
                }
            }
        }
    }
}

/// Drops the oldest rows beyond [`MAX_PENDING`], counting them.
fn bound(pending: &mut VecDeque<Decision>, metrics: &HistoryMetrics) {
    let over = pending.len().saturating_sub(MAX_PENDING);
    if over > 0 {
        pending.drain(..over);
        metrics.decisions_dropped.inc_by(over as u64);
        tracing::warn!(dropped = over, "admission decisions dropped: the history store is behind");
    }
}
