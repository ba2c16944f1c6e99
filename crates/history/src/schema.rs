//! The schema's migrations, embedded in the binary: one folder per database
//! (`migrations/sqlite`, `migrations/postgres`) with the same versions, so both databases
//! always hold the same tables and columns. sqlx records what ran in `_sqlx_migrations`
//! and refuses a database whose applied migrations were edited (checksums).
//!
//! | version | what |
//! |---|---|
//! | 1 | `subjects`, `findings` (one lifecycle per row), `finding_events` |
//! | 2 | `daily_rollups`, `clusters`, `admission_decisions` |
//!
//! A migration is never edited once released: a change is a new version in both folders.

use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;

use sqlx::error::BoxDynError;
use sqlx::migrate::{Migration, MigrationSource, MigrationType, Migrator};

use super::url::Backend;

/// `(version, description, SQLite text, PostgreSQL text)` of every migration, in order.
const MIGRATIONS: &[(i64, &str, &str, &str)] = &[
    (
        1,
        "lifecycle",
        include_str!("../migrations/sqlite/0001_lifecycle.sql"),
        include_str!("../migrations/postgres/0001_lifecycle.sql"),
    ),
    (
        2,
        "rollups and admissions",
        include_str!("../migrations/sqlite/0002_rollups_and_admissions.sql"),
        include_str!("../migrations/postgres/0002_rollups_and_admissions.sql"),
    ),
];

/// The newest schema version this build knows.
pub const LATEST: i64 = 2;

/// The embedded migrations of one database, up to a version.
#[derive(Debug)]
struct Embedded {
    backend: Backend,
    upto: i64,
}

impl MigrationSource<'static> for Embedded {
    fn resolve(self) -> Pin<Box<dyn Future<Output = Result<Vec<Migration>, BoxDynError>> + Send + 'static>> {
        Box::pin(async move {
            Ok(MIGRATIONS
                .iter()
                .filter(|(v, ..)| *v <= self.upto)
                .map(|(version, description, sqlite, postgres)| {
                    let sql = match self.backend {
                        Backend::Sqlite => sqlite,
                        Backend::Postgres => postgres,
                    };
                    Migration::new(
                        *version,
                        Cow::Borrowed(*description),
                        MigrationType::Simple,
                        Cow::Borrowed(*sql),
                        false,
                    )
                })
                .collect())
        })
    }
}

/// The migrator of `backend` up to version `upto` ([`LATEST`] in production; tests stop
/// earlier to check upgrades from a previous version).
pub async fn migrator(backend: Backend, upto: i64) -> Result<Migrator, sqlx::migrate::MigrateError> {
    Migrator::new(Embedded { backend, upto }).await
}
