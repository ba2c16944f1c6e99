//! The handed cases in `../shared/cases`, read in place (never copied).

use std::path::PathBuf;

/// `../shared/cases/<rel>` relative to the repository root.
pub fn path(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/cases").join(rel)
}
