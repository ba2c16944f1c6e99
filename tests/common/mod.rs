//! Shared helpers for integration tests: locating the real third-party fixtures.
#![allow(dead_code)]

use std::path::PathBuf;

use stance::ingest::{Loaded, Parsed, Warning, parse_bytes};
use stance_core::model::Report;

/// `../shared/fixtures/<rel>` relative to the repository root.
pub fn fixture_path(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures").join(rel)
}

/// Reads a fixture's bytes; panics with the path when it is missing.
pub fn fixture_bytes(rel: &str) -> Vec<u8> {
    let p = fixture_path(rel);
    std::fs::read(&p)
        .unwrap_or_else(|e| panic!("fixture {} is missing ({e}); see ../shared/fixtures/README.md", p.display()))
}

/// Parses a fixture through the same entry point the CLI uses.
pub fn parse_fixture(rel: &str) -> (Vec<Parsed>, Vec<Warning>) {
    let (mut out, mut warnings) = (Vec::new(), Vec::new());
    parse_bytes(rel, &fixture_bytes(rel), &mut out, &mut warnings);
    (out, warnings)
}

/// Parses a fixture and returns its reports, asserting it produced no warnings.
pub fn reports(rel: &str) -> Vec<Report> {
    let (out, warnings) = parse_fixture(rel);
    assert!(warnings.is_empty(), "{rel}: unexpected warnings {warnings:#?}");
    let mut loaded = Loaded::default();
    loaded.add(out);
    loaded.reports
}

pub mod cases;
pub mod cluster;
pub mod demo;
pub mod operator;
pub mod schema;

/// An index of the given YAML documents plus real fixtures (paths under ../shared/fixtures).
pub fn mk_index(yaml: &str, fixtures: &[&str]) -> stance_core::index::PostureIndex {
    let mut loaded = Loaded::default();
    loaded.add_bytes("test.yaml", yaml.as_bytes());
    for f in fixtures {
        loaded.add_bytes(f, &fixture_bytes(f));
    }
    assert!(loaded.warnings.is_empty(), "{:#?}", loaded.warnings);
    loaded.into_index(stance_core::index::IndexConfig::default())
}
