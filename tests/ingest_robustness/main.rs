//! Bad input never crashes a server: the operator and the webhook feed the objects they
//! watch through the same parsers as the CLI, so a malformed report must become a warning
//! (or a partial result), never a panic.
//!
//! * regression tests for inputs that used to panic or to reject a whole document;
//! * property tests: every fixture under `../shared/fixtures`, randomly mutated (a leaf or
//!   subtree replaced by a random JSON value, a key deleted, the bytes truncated), and
//!   arbitrary bytes (gzip headers with garbage included) through `parse_bytes` and
//!   `parse_value`. `PROPTEST_CASES` sets the number of cases per property (default 96);
//! * determinism: parsing a fixture twice gives the same findings in the same order.

#[path = "../common/mod.rs"]
mod common;
mod properties;
mod regressions;

use std::fmt;
use std::io::Write;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::str::FromStr;
use std::sync::OnceLock;

use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{Config, TestCaseError};
use serde::Deserialize;
use serde_json::{Value, json};
use stance::ingest::{KubeObject, Parsed, Warning, parse_bytes, parse_value};
use stance_core::model::{Artifact, Component, Finding, Report, Severity};

// ---------------------------------------------------------------------------------------
// Helpers

fn run_bytes(origin: &str, bytes: &[u8]) -> (Vec<Parsed>, Vec<Warning>) {
    let (mut out, mut warnings) = (Vec::new(), Vec::new());
    parse_bytes(origin, bytes, &mut out, &mut warnings);
    (out, warnings)
}

fn run_value(origin: &str, v: &Value) -> (Vec<Parsed>, Vec<Warning>) {
    let (mut out, mut warnings) = (Vec::new(), Vec::new());
    parse_value(origin, v, &mut out, &mut warnings);
    (out, warnings)
}

/// The reports of a document that must parse without warnings.
fn reports(origin: &str, bytes: &[u8]) -> Vec<Report> {
    let (out, warnings) = run_bytes(origin, bytes);
    assert!(warnings.is_empty(), "{origin}: unexpected warnings {warnings:#?}");
    out.into_iter()
        .filter_map(|p| match p {
            Parsed::Report(r) => Some(r),
            _ => None,
        })
        .collect()
}

fn one_report(origin: &str, bytes: &[u8]) -> Report {
    let mut r = reports(origin, bytes);
    assert_eq!(r.len(), 1, "{origin}: expected one report");
    r.remove(0)
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(bytes).expect("in memory");
    e.finish().expect("in memory")
}

fn package_names(r: &Report) -> Vec<&str> {
    r.findings.iter().map(|f| f.package.as_ref().map_or("-", |p| &*p.name)).collect()
}

// ---------------------------------------------------------------------------------------
// Fixtures

/// One fixture file, read once.
struct Fixture {
    rel: String,
    bytes: Vec<u8>,
    /// YAML rather than JSON (mutated documents are written back the same way).
    yaml: bool,
    /// The documents of the file (several for a YAML stream); `None` when it is not
    /// JSON or YAML (ZAP XML): then only its bytes are mutated.
    docs: Option<Vec<Value>>,
}

impl fmt::Debug for Fixture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.rel)
    }
}

fn fixtures() -> &'static [Fixture] {
    static FIXTURES: OnceLock<Vec<Fixture>> = OnceLock::new();
    FIXTURES.get_or_init(|| {
        let root = common::fixture_path("");
        let mut paths = Vec::new();
        walk(&root, &mut paths);
        paths.sort();
        assert!(paths.len() > 50, "expected the fixtures under {} (see its README.md)", root.display());
        paths
            .into_iter()
            .map(|p| {
                let bytes = std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
                let rel = p.strip_prefix(&root).unwrap_or(&p).display().to_string();
                let first = bytes.iter().copied().find(|b| !b.is_ascii_whitespace());
                let yaml = !matches!(first, Some(b'{' | b'['));
                let docs = if yaml {
                    serde_yaml::Deserializer::from_slice(&bytes)
                        .map(Value::deserialize)
                        .filter(|d| !matches!(d, Ok(Value::Null)))
                        .collect::<Result<Vec<_>, _>>()
                        .ok()
                        .filter(|d| !d.is_empty() && d.iter().any(|v| v.is_object() || v.is_array()))
                } else {
                    serde_json::from_slice::<Value>(&bytes).ok().map(|v| vec![v])
                };
                Fixture { rel, bytes, yaml, docs }
            })
            .collect()
    })
}

fn walk(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            walk(&path, out);
        } else if path.extension().is_none_or(|e| e != "md") {
            out.push(path);
        }
    }
}

/// Everything one parse produced, in a comparable form.
#[derive(Debug, PartialEq)]
enum Outcome {
    Report { source: String, scanned: Vec<Artifact>, findings: Vec<Finding>, components: Option<Vec<Component>> },
    Other(String),
}

fn outcome(parsed: Vec<Parsed>) -> Vec<Outcome> {
    parsed
        .into_iter()
        .map(|p| match p {
            Parsed::Report(r) => Outcome::Report {
                source: format!("{:?}", r.source),
                scanned: r.scanned,
                findings: r.findings,
                components: r.components,
            },
            other => Outcome::Other(format!("{other:?}")),
        })
        .collect()
}

#[test]
fn parsing_is_deterministic() {
    let mut findings = 0;
    for f in fixtures() {
        let (a, wa) = run_bytes(&f.rel, &f.bytes);
        let (b, wb) = run_bytes(&f.rel, &f.bytes);
        let (a, b) = (outcome(a), outcome(b));
        assert_eq!(wa, wb, "{}: warnings differ", f.rel);
        for (x, y) in a.iter().zip(&b) {
            if let (Outcome::Report { findings: fx, .. }, Outcome::Report { findings: fy, .. }) = (x, y) {
                let ids = |fs: &[Finding]| fs.iter().map(|f| f.id.to_string()).collect::<Vec<_>>();
                assert_eq!(ids(fx), ids(fy), "{}: finding ids or their order differ", f.rel);
                findings += fx.len();
            }
        }
        assert!(a == b, "{}: parsing twice gave different results", f.rel);
    }
    assert!(findings > 1000, "only {findings} findings in all fixtures");
}
