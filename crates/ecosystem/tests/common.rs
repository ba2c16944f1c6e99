//! Shared helpers for the integration tests: reading the vectors in `tests/data`.

#![allow(dead_code)]

use std::path::PathBuf;

/// The text of `tests/data/<name>`.
pub fn data(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The lines of a `.jsonl` vector file (comment lines starting with `#` skipped).
pub fn jsonl(name: &str) -> Vec<serde_json::Value> {
    data(name)
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{name}: {l}: {e}")))
        .collect()
}
