//! Stance's posture history: remediation lifecycles (`stance_core::lifecycle`), their
//! changes over time, daily roll-ups for trends, and the admission decisions audit trail, in
//! SQLite (the default: a file) or PostgreSQL (for high availability and many clusters).
//!
//! One code path for both: sqlx's `Any` driver chooses the database from the URL at run
//! time; the SQL is written once in the dialect both accept (`INSERT … ON CONFLICT … DO
//! UPDATE … WHERE … RETURNING`, Unix-second `BIGINT` times, 0/1 booleans); only the
//! migrations differ, one folder per database with the same versions (`migrations/`).
//! Migrations run when a [`Store`] opens.
//!
//! - [`HistoryUrl`]: `sqlite:PATH` or `postgres://…`.
//! - [`Store`]: open (connect + migrate), load a cluster's lifecycles into a
//!   [`Tracker`](stance_core::lifecycle::Tracker), write its pending changes and the day's
//!   roll-ups in one transaction, apply retention, record admission decisions.
//! - [`HistoryReader`]: what `stance history` and the dashboard read: trends, time to fix,
//!   per-finding dates, overdue findings, admission decisions — one cluster or all.
//!
//! Writes are idempotent: a lifecycle row keeps the highest revision written and each
//! change is stored once per (finding, revision), so a write repeated by a new leader after
//! a failover stores nothing twice (see [`store::Written::stale`]).
#![forbid(unsafe_code)]

pub mod admission;
pub mod read;
pub mod schema;
pub mod store;
pub mod url;
mod write;

pub use admission::Decision;
pub use read::{FindingHistory, HistoryReader, Lifecycle, Scope, TrendPoint, parse_subject};
pub use store::{Store, Written};
pub use url::{Backend, HistoryUrl};

/// Why the history store could not do what was asked. Every message names the store (its
/// URL without password) and what to check.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(
        "{0:?} is not a history store URL: use sqlite:PATH (a file) or postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE"
    )]
    Url(String),
    #[error("cannot open the history store {url}: {source} (is the database reachable, and may this user connect?)")]
    Connect { url: String, source: sqlx::Error },
    #[error("cannot migrate the history store {url}: {source}")]
    Migrate { url: String, source: sqlx::migrate::MigrateError },
    #[error("history store {url}: {source}")]
    Query { url: String, source: sqlx::Error },
    #[error("history store {url}: {table}.{column} holds {value:?}, which this version of Stance cannot read")]
    Corrupt { url: String, table: &'static str, column: &'static str, value: String },
}

impl Error {
    /// True when the database could not be reached or dropped the connection (worth
    /// retrying later), as opposed to a refused statement.
    pub fn is_unavailable(&self) -> bool {
        match self {
            Error::Connect { .. } => true,
            Error::Query { source, .. } => matches!(
                source,
                sqlx::Error::Io(_)
                    | sqlx::Error::PoolTimedOut
                    | sqlx::Error::PoolClosed
                    | sqlx::Error::WorkerCrashed
                    | sqlx::Error::Tls(_)
                    | sqlx::Error::Protocol(_)
            ),
            _ => false,
        }
    }
}
