//! Unit tests of the SARIF parser.

use serde_json::json;

use super::*;
use crate::model::{FindingKind, Severity, VexState};

fn one(v: Value) -> Report {
    let mut reports = parse("t.sarif", &v).expect("parses");
    assert_eq!(reports.len(), 1);
    reports.remove(0)
}

fn log(tool: Value, results: Value) -> Value {
    json!({"version": "2.1.0", "runs": [{"tool": tool, "results": results}]})
}

#[test]
fn detects_sarif_logs_only() {
    assert!(detect(&json!({"version": "2.1.0", "runs": []})));
    assert!(detect(&json!({"$schema": "https://json.schemastore.org/sarif-2.1.0.json", "runs": []})));
    assert!(!detect(&json!({"version": "2.1.0"})));
    assert!(!detect(&json!({"runs": {}, "version": "2.1.0"})));
    assert!(!detect(&json!({"SchemaVersion": 2, "Results": []})));
}

#[test]
fn wrong_types_name_the_field() {
    let e = parse("t", &json!({"version": "2.1.0", "runs": "x"})).unwrap_err().to_string();
    assert!(e.starts_with("runs:"), "{e}");
    let e = parse("t", &json!({"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x", "rules": 3}}}]}))
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("runs[0].tool.driver.rules:"), "{e}");
    assert!(e.contains("expected a sequence"), "{e}");
    let e = parse("t", &log(json!({"driver": {"name": "x"}}), json!([{"ruleId": "a", "level": ["error"]}])))
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("runs[0].results[0].level:"), "{e}");
    let e = parse("t", &log(json!({"driver": {"name": "x"}}), json!({"a": 1}))).unwrap_err().to_string();
    assert!(e.starts_with("runs[0].results:"), "{e}");
    let e = parse("t", &log(json!({"driver": {"name": "x"}}), json!([{"ruleId": "a", "locations": "here"}])))
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("runs[0].results[0].locations:"), "{e}");
}

#[test]
fn nulls_and_unknown_levels_fall_back() {
    let r = one(log(
        json!({"driver": {"name": "Tool", "rules": null, "version": 3}}),
        json!([
            {"ruleId": "R1", "level": "catastrophic", "message": {"text": "first\nsecond"}, "locations": null},
            {"ruleId": 7, "level": "none"},
            {"ruleId": "R3", "level": "note", "kind": "pass"},
        ]),
    ));
    assert_eq!(&*r.source.scanner, "Tool 3");
    assert_eq!(r.findings.len(), 2);
    // Unknown level: SARIF's default `warning`.
    assert_eq!(r.findings[0].severity, Severity::Medium);
    assert_eq!(&*r.findings[0].title, "first");
    assert_eq!(r.findings[0].kind, FindingKind::Sast);
    assert_eq!(&*r.findings[1].id, "7");
    assert_eq!(r.findings[1].severity, Severity::Info);
    assert_eq!(r.scanned, vec![Artifact::Other(Arc::from("t.sarif"))]);
}

#[test]
fn rules_resolve_by_index_id_extension_and_hierarchy() {
    let tool = json!({
        "driver": {"name": "Analyzer", "rules": [
            {"id": "A1", "shortDescription": {"text": "Rule one"}, "defaultConfiguration": {"level": "error"}},
            {"id": "A2", "name": "RuleTwo", "helpUri": "https://x/A2", "properties": {"security-severity": "9.1"}}
        ]},
        "extensions": [{"name": "pack", "rules": [{"id": "E1", "shortDescription": {"text": "Ext rule"}}]}]
    });
    let r = one(log(
        tool,
        json!([
            {"ruleIndex": 0},
            {"ruleId": "A2"},
            {"rule": {"index": 0, "toolComponent": {"index": 0}}},
            {"ruleId": "A1/sub", "message": {"text": "m"}},
        ]),
    ));
    let f = &r.findings;
    assert_eq!((&*f[0].id, &*f[0].title, f[0].severity), ("A1", "Rule one", Severity::High));
    assert_eq!((&*f[1].id, &*f[1].title, f[1].severity, f[1].cvss), ("A2", "RuleTwo", Severity::Critical, Some(9.1)));
    assert_eq!(f[1].primary_url.as_deref(), Some("https://x/A2"));
    assert_eq!((&*f[2].id, &*f[2].title), ("E1", "Ext rule"));
    assert_eq!((&*f[3].id, &*f[3].title, f[3].severity), ("A1/sub", "Rule one", Severity::High));
}

#[test]
fn repository_artifact_invocation_time_and_suppressions() {
    let v = json!({"version": "2.1.0", "runs": [{
        "tool": {"driver": {"name": "gitleaks", "semanticVersion": "8.18.0"}},
        "versionControlProvenance": [{"repositoryUri": "https://github.com/Org/App.git"}],
        "invocations": [{"startTimeUtc": "2024-01-02T03:04:05Z"}],
        "results": [{
            "ruleId": "aws-access-token", "message": {"text": "AWS token"},
            "locations": [{"physicalLocation": {"artifactLocation": {"uri": "src/a.py"},
                "region": {"startLine": 4, "snippet": {"text": "AKIA…"}}}}],
            "partialFingerprints": {"zz": "2", "commitSha": "abc"},
            "suppressions": [{"kind": "inSource"}]
        }]
    }]});
    let r = one(v);
    assert_eq!(r.scanned, vec![Artifact::Repository(Arc::from("github.com/org/app"))]);
    assert_eq!(r.scanned_at.unwrap().as_second(), 1704164645);
    let f = &r.findings[0];
    assert_eq!(f.kind, FindingKind::Secret);
    assert_eq!(f.location.as_deref(), Some("src/a.py:4"));
    assert_eq!(f.fingerprint.as_deref(), Some("abc"));
    assert_eq!(f.vex.as_ref().unwrap().state, VexState::NotAffected);
    assert!(!format!("{f:?}").contains("AKIA"));
}

#[test]
fn non_ascii_rule_ids() {
    // `is_vulnerability_id` sliced `id[..5]` by bytes: `ééé` panicked the process.
    let r = one(log(json!({"driver": {"name": "x"}}), json!([{"ruleId": "ééé"}, {"ruleId": "ghsaé-1"}])));
    assert_eq!(&*r.findings[0].id, "ééé");
    assert_eq!(r.findings[0].kind, FindingKind::Sast);
    assert_eq!(&*r.findings[1].id, "ghsaé-1");
}

#[test]
fn packages_are_named_by_the_shared_purl_rule() {
    let loc = |purl: &str| json!({"logicalLocations": [{"fullyQualifiedName": purl}]});
    let r = one(log(
        json!({"driver": {"name": "dependency-check"}}),
        json!([
            {"ruleId": "CVE-2021-0001", "locations": [loc("pkg:gitlab/group/project@1.0")]},
            {"ruleId": "CVE-2021-0002", "locations": [loc("pkg:swift/github.com/apple/swift-nio@2.0.0")]},
            {"ruleId": "CVE-2021-0003", "locations": [loc("pkg:deb/debian/tar@1.30")]},
        ]),
    ));
    let names: Vec<&str> = r.findings.iter().map(|f| &*f.package.as_ref().unwrap().name).collect();
    assert_eq!(names, ["group/project", "github.com/apple/swift-nio", "tar"]);
}

#[test]
fn message_templates_fill_in_one_pass() {
    let rule = |template: &str| {
        let strings = json!({"default": {"text": template}});
        json!({"driver": {"name": "SpotBugs", "rules": [{"id": "R", "messageStrings": strings}]}})
    };
    let result = |args: Value| json!([{"ruleId": "R", "message": {"id": "default", "arguments": args}}]);
    let r = one(log(rule("{0} uses {1} ({2}) {x} {} {9}"), result(json!(["A.b()", 7, "{0}"]))));
    assert_eq!(&*r.findings[0].title, "A.b() uses 7 ({0}) {x} {} {9}");
    // Replacing argument by argument doubled the text with every argument (`{0}` → `{1}{1}`
    // → …): 64 arguments asked for 2^64 bytes.
    let args: Vec<String> = (1..=64).map(|i| format!("{{{i}}}{{{i}}}")).collect();
    let r = one(log(rule("{0}"), result(json!(args))));
    assert_eq!(&*r.findings[0].title, "{1}{1}");
    // Huge expansions are cut.
    let r = one(log(rule(&"{0}".repeat(10_000)), result(json!(["é".repeat(1000)]))));
    assert!(r.findings[0].title.chars().count() <= 201);
}

/// SARIF 2.1.0 §3.27.23 / §3.35.3: every suppression's status counts — a rejected one keeps
/// the result open, one under review puts it in triage, only all-accepted suppresses.
#[test]
fn several_suppressions_combine_by_the_spec() {
    let state = |suppressions: Value| {
        let r = one(log(
            json!({"driver": {"name": "eslint"}}),
            json!([{"ruleId": "no-eval", "suppressions": suppressions}]),
        ));
        r.findings[0].vex.as_ref().map(|v| v.state)
    };
    assert_eq!(state(json!([])), None);
    assert_eq!(state(json!([{"kind": "inSource"}])), Some(VexState::NotAffected));
    assert_eq!(
        state(json!([{"kind": "inSource"}, {"kind": "external", "status": "accepted"}])),
        Some(VexState::NotAffected)
    );
    assert_eq!(state(json!([{"kind": "inSource"}, {"kind": "external", "status": "rejected"}])), None);
    assert_eq!(
        state(json!([{"kind": "external", "status": "underReview"}, {"kind": "inSource"}])),
        Some(VexState::InTriage)
    );
    assert_eq!(
        state(json!([{"kind": "external", "status": "underReview"}, {"kind": "external", "status": "rejected"}])),
        None
    );
}
