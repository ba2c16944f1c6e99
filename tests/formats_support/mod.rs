//! Shared by the `ingest_<format>` tests of the scanner formats added for issue 13: the
//! fixtures as raw JSON (to compute expected values independently of Stance), the reports
//! Stance parses from them, and `stance findings FILE --format json` run on them.
#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet, HashMap};

use assert_cmd::Command;
use serde_json::Value;
use stance_core::model::{Finding, Report, Severity};

#[path = "../common/mod.rs"]
pub mod common;

/// A fixture as JSON.
pub fn json(rel: &str) -> Value {
    serde_json::from_slice(&common::fixture_bytes(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// The reports Stance reads from a fixture (through the same entry point as the CLI),
/// asserting there were no warnings.
pub fn reports(rel: &str) -> Vec<Report> {
    common::reports(rel)
}

/// The only report of a fixture.
pub fn one(rel: &str) -> Report {
    let mut r = reports(rel);
    assert_eq!(r.len(), 1, "{rel}: expected one report");
    r.remove(0)
}

/// `stance findings <fixtures…> --format json`: one object per distinct finding.
pub fn cli_findings(rels: &[&str]) -> Vec<Value> {
    let mut cmd = Command::cargo_bin("stance").unwrap();
    cmd.args(["findings", "--format", "json"]);
    for r in rels {
        cmd.arg(common::fixture_path(r));
    }
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("warning"), "{rels:?}: {err}");
    String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

/// The number of distinct findings `stance findings` prints for one fixture (checking the
/// stable ids are distinct too).
pub fn cli_distinct(rel: &str) -> usize {
    let lines = cli_findings(&[rel]);
    let ids: BTreeSet<&str> = lines.iter().map(|l| l["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), lines.len(), "{rel}: two output lines share an id");
    lines.len()
}

/// Counts per severity.
pub fn severities(findings: &[Finding]) -> BTreeMap<Severity, usize> {
    let mut m = BTreeMap::new();
    for f in findings {
        *m.entry(f.severity).or_default() += 1;
    }
    m
}

/// Severity counts of raw words, parsed with a given mapping.
pub fn count_by<T: Ord>(items: impl IntoIterator<Item = T>) -> BTreeMap<T, usize> {
    let mut m = BTreeMap::new();
    for i in items {
        *m.entry(i).or_default() += 1;
    }
    m
}

/// Groups of keys that share an identifier: `items` are (key, ids) pairs; two items are
/// one issue when their keys are equal and their id sets intersect (transitively). Returns
/// the number of groups. An independent, naive re-statement of an identity rule for tests.
pub fn distinct_by_ids<K: Eq + std::hash::Hash + Clone>(items: &[(K, Vec<String>)]) -> usize {
    let mut parent: Vec<usize> = (0..items.len()).collect();
    fn find(p: &mut [usize], i: usize) -> usize {
        let mut r = i;
        while p[r] != r {
            r = p[r];
        }
        p[i] = r;
        r
    }
    let mut first_with: HashMap<(K, String), usize> = HashMap::new();
    for (i, (k, ids)) in items.iter().enumerate() {
        for id in ids {
            let key = (k.clone(), id.to_ascii_uppercase());
            match first_with.get(&key) {
                Some(&j) => {
                    let (a, b) = (find(&mut parent, i), find(&mut parent, j));
                    parent[a] = b;
                }
                None => {
                    first_with.insert(key, i);
                }
            }
        }
    }
    (0..items.len()).filter(|&i| find(&mut parent, i) == i).count()
}

/// A string field of a JSON value (`""` when absent).
pub fn s<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

/// An array field of a JSON value (empty when absent or null).
pub fn arr<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    v.get(key).and_then(Value::as_array).map_or(&[], Vec::as_slice)
}
