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

mod common;

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
// Regressions

#[test]
fn non_ascii_rule_ids_do_not_panic() {
    // `is_vulnerability_id` sliced `id[..5]` by bytes: "byte index 5 is not a char boundary".
    let sarif = json!({"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x"}},
        "results": [{"ruleId": "ééé", "message": {"text": "m"}}]}]});
    let r = one_report("x.sarif", sarif.to_string().as_bytes());
    assert_eq!(&*r.findings[0].id, "ééé");

    let policy_report = "apiVersion: wgpolicyk8s.io/v1alpha2\nkind: PolicyReport\nmetadata: {name: r, namespace: ns}\n\
                         results:\n- {policy: ééé, rule: ééé, result: fail}\n- {policy: p, rule: ééé, result: fail}\n";
    let r = one_report("pr.yaml", policy_report.as_bytes());
    let ids: Vec<&str> = r.findings.iter().map(|f| &*f.id).collect();
    assert_eq!(ids, ["ééé", "p/ééé"]);
}

#[test]
fn null_label_values_do_not_reject_documents() {
    // `labels: {team: }` failed with "metadata: invalid type: null, expected a string or number".
    let policy_report = "apiVersion: wgpolicyk8s.io/v1alpha2\nkind: PolicyReport\n\
                         metadata: {name: r, namespace: ns, labels: {team: }, annotations: {owner: }}\n\
                         results:\n- {policy: require-team, result: fail, resources: [{kind: Pod, name: web}]}\n";
    let r = one_report("pr.yaml", policy_report.as_bytes());
    assert_eq!(r.findings.len(), 1);
    assert_eq!(r.findings[0].artifact.to_string(), "object:Pod/ns/web");

    // Trivy Operator reports, Kubernetes objects and report-carrying ConfigMaps alike.
    let operator = "apiVersion: aquasecurity.github.io/v1alpha1\nkind: VulnerabilityReport\n\
                    metadata:\n  name: r\n  namespace: ns\n  labels: {trivy-operator.resource.kind: Deployment, \
                    trivy-operator.resource.name: web, team: }\n  annotations: {a: }\n\
                    report: {artifact: {repository: acme/web}, vulnerabilities: [{vulnerabilityID: CVE-2024-1}]}\n";
    assert_eq!(one_report("vr.yaml", operator.as_bytes()).findings.len(), 1);
    let deployment = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, labels: {team: }}\nspec:\n  \
                      selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web, tier: }}\n    \
                      spec: {containers: [{name: c, image: nginx}]}\n";
    let (out, warnings) = run_bytes("d.yaml", deployment.as_bytes());
    assert!(warnings.is_empty(), "{warnings:?}");
    assert!(matches!(&out[..], [Parsed::Object(o)] if matches!(**o, KubeObject::Workload(_))), "{out:?}");
}

#[test]
fn cyclonedx_numeric_string_scores() {
    // A numeric string score failed the whole BOM.
    let bom = json!({"bomFormat": "CycloneDX", "specVersion": "1.5",
        "components": [{"bom-ref": "c1", "name": "openssl", "version": "3.0.0", "purl": "pkg:generic/openssl@3.0.0"}],
        "vulnerabilities": [{"id": "CVE-2024-1", "ratings": [{"score": "7.5", "method": "CVSSv31"}],
                             "affects": [{"ref": "c1"}]}]});
    let r = one_report("bom.json", bom.to_string().as_bytes());
    assert_eq!(r.components.as_ref().map(Vec::len), Some(1));
    let f = &r.findings[0];
    assert_eq!((f.cvss, f.severity), (Some(7.5), Severity::High));
}

/// The same package URLs through SARIF, PolicyReport, CycloneDX and a Trivy Operator SBOM
/// report get the same names (three rules used to disagree: `pkg:gitlab/…`, `pkg:swift/…`
/// were `namespace/name` in CycloneDX only).
#[test]
fn every_format_names_purl_packages_alike() {
    let purls = [
        ("pkg:maven/org.yaml/snakeyaml@1.33", "org.yaml:snakeyaml"),
        ("pkg:npm/%40babel/core@7.0.0", "@babel/core"),
        ("pkg:golang/github.com/gorilla/mux@v1.8.0", "github.com/gorilla/mux"),
        ("pkg:gitlab/group/project@1.0", "group/project"),
        ("pkg:swift/github.com/apple/swift-nio@2.0.0", "github.com/apple/swift-nio"),
        ("pkg:huggingface/distilbert/distilbert-base-uncased@043235d", "distilbert/distilbert-base-uncased"),
        ("pkg:deb/debian/tar@1.30", "tar"),
        ("pkg:pypi/django@4.2", "django"),
    ];
    let expected: Vec<&str> = purls.iter().map(|(_, name)| *name).collect();

    let results: Vec<Value> = purls
        .iter()
        .enumerate()
        .map(|(i, (purl, _))| {
            json!({"ruleId": format!("CVE-2024-{:04}", i + 1),
                   "locations": [{"logicalLocations": [{"fullyQualifiedName": purl}]}]})
        })
        .collect();
    let sarif =
        json!({"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "dependency-check"}}, "results": results}]});
    assert_eq!(package_names(&one_report("x.sarif", sarif.to_string().as_bytes())), expected, "SARIF");

    let results: Vec<Value> = purls
        .iter()
        .enumerate()
        .map(|(i, (purl, _))| {
            json!({"policy": format!("CVE-2024-{:04}", i + 1), "result": "fail", "properties": {"purl": purl}})
        })
        .collect();
    let pr = json!({"apiVersion": "wgpolicyk8s.io/v1alpha2", "kind": "PolicyReport", "results": results});
    assert_eq!(package_names(&one_report("pr.json", pr.to_string().as_bytes())), expected, "PolicyReport");

    // CycloneDX: a component named only by its purl, and a bom-link into another BOM.
    let components: Vec<Value> =
        purls.iter().enumerate().map(|(i, (purl, _))| json!({"bom-ref": format!("c{i}"), "purl": purl})).collect();
    let vulns: Vec<Value> = purls
        .iter()
        .enumerate()
        .map(|(i, (purl, _))| {
            json!({"id": format!("CVE-2024-{:04}", i + 1), "affects": [{"ref": format!("urn:cdx:x/1#{purl}")}]})
        })
        .collect();
    let bom = json!({"bomFormat": "CycloneDX", "components": components, "vulnerabilities": vulns});
    let r = one_report("bom.json", bom.to_string().as_bytes());
    assert_eq!(package_names(&r), expected, "CycloneDX bom-link");
    let names: Vec<&str> = r.components.as_ref().unwrap().iter().map(|c| &*c.name).collect();
    assert_eq!(names, expected, "CycloneDX components");

    // CycloneDX and Trivy Operator: components with a group (the purl's namespace).
    let grouped: Vec<Value> = purls
        .iter()
        .map(|(purl, _)| {
            let p = packageurl::PackageUrl::from_str(purl).unwrap();
            let mut c = json!({"name": p.name(), "purl": purl});
            if let Some(ns) = p.namespace() {
                c["group"] = json!(ns);
            }
            c
        })
        .collect();
    let bom = json!({"bomFormat": "CycloneDX", "components": grouped});
    let r = one_report("bom.json", bom.to_string().as_bytes());
    let names: Vec<&str> = r.components.as_ref().unwrap().iter().map(|c| &*c.name).collect();
    assert_eq!(names, expected, "CycloneDX groups");
    let sbom = json!({"apiVersion": "aquasecurity.github.io/v1alpha1", "kind": "SbomReport",
        "metadata": {"name": "s", "namespace": "ns"},
        "report": {"artifact": {"repository": "org/app", "tag": "1"}, "components": bom}});
    let r = one_report("sbom.json", sbom.to_string().as_bytes());
    let names: Vec<&str> = r.components.as_ref().unwrap().iter().map(|c| &*c.name).collect();
    assert_eq!(names, expected, "Trivy Operator SBOM");
}

/// Trivy Operator's embedded BOM kept `NOASSERTION`, duplicates and redundant parentheses;
/// it now lists the same licenses as the CycloneDX parser for the same components.
#[test]
fn operator_sbom_licenses_match_cyclonedx() {
    let bom = json!({"bomFormat": "CycloneDX", "components": [
        {"name": "a", "licenses": [{"license": {"id": "NOASSERTION"}}, {"expression": "(MIT OR Apache-2.0)"},
                                   {"expression": "MIT OR Apache-2.0"}]},
        {"name": "b", "licenses": [{"license": {"name": "NONE"}}]},
        {"name": "c", "licenses": [{"license": {"id": "BSD-3-Clause"}}, {"license": {"id": "BSD-3-Clause"}}]}]});
    let cdx = one_report("bom.json", bom.to_string().as_bytes());
    let sbom = json!({"apiVersion": "aquasecurity.github.io/v1alpha1", "kind": "SbomReport",
        "metadata": {"name": "s", "namespace": "ns"},
        "report": {"artifact": {"repository": "org/app", "tag": "1"}, "components": bom}});
    let op = one_report("sbom.json", sbom.to_string().as_bytes());
    let licenses = |r: &Report| -> Vec<Vec<String>> {
        r.components.as_ref().unwrap().iter().map(|c| c.licenses.iter().map(|l| l.to_string()).collect()).collect()
    };
    assert_eq!(licenses(&op), [vec!["MIT OR Apache-2.0"], vec![], vec!["BSD-3-Clause"]]);
    assert_eq!(licenses(&op), licenses(&cdx));
}

/// One rule decides whether a scanned name is a path: Trivy JSON took `.cache/alpine` for
/// an image name, CycloneDX took `images\alpine`.
#[test]
fn path_names_are_not_images_in_any_format() {
    let tags = ["alpine:3.18"];
    for name in [".cache/alpine", "images\\alpine", "C:\\scans\\alpine", "./alpine", "/tmp/alpine.tar"] {
        let trivy = json!({"SchemaVersion": 2, "ArtifactName": name, "ArtifactType": "container_image",
                           "Metadata": {"RepoTags": tags}, "Results": []});
        let r = one_report("t.json", trivy.to_string().as_bytes());
        assert_eq!(r.scanned[0].to_string(), "image:docker.io/library/alpine:3.18", "Trivy JSON {name}");
        let bom = json!({"bomFormat": "CycloneDX", "metadata": {"component": {"type": "container", "name": name,
            "properties": [{"name": "aquasecurity:trivy:RepoTag", "value": tags[0]}]}}});
        let r = one_report("bom.json", bom.to_string().as_bytes());
        assert_eq!(r.scanned[0].to_string(), "image:docker.io/library/alpine:3.18", "CycloneDX {name}");
        let sarif = json!({"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "Trivy"}},
            "properties": {"imageName": name, "repoTags": tags}, "results": []}]});
        let r = one_report("t.sarif", sarif.to_string().as_bytes());
        assert_eq!(r.scanned[0].to_string(), "image:docker.io/library/alpine:3.18", "SARIF {name}");
    }
}

#[test]
fn kindless_policy_report_lists_name_the_item() {
    let item = |results: Value| {
        json!({"apiVersion": "wgpolicyk8s.io/v1alpha2", "kind": "PolicyReport", "metadata": {"name": "r"},
               "results": results})
    };
    let list = json!({"apiVersion": "v1", "items": [item(json!([])), item(json!([{"policy": "p", "result": 7.5}]))]});
    let (_, warnings) = run_bytes("l.json", list.to_string().as_bytes());
    assert_eq!(warnings.len(), 1);
    assert!(warnings[0].message.starts_with("PolicyReport: items[1].results[0].result: "), "{}", warnings[0].message);
}

/// Gzip in gzip and ConfigMaps in ConfigMaps recursed once per level: a crafted file of a
/// few thousand levels overflowed the stack (an abort, not even a panic). Nesting is now
/// limited (and the limit is reported).
#[test]
fn deep_nesting_is_a_warning() {
    let doc = br#"{"version": "2.1.0", "runs": []}"#;
    let mut bytes = doc.to_vec();
    for _ in 0..300 {
        bytes = gzip(&bytes);
    }
    let (out, warnings) = run_bytes("deep.gz", &bytes);
    assert!(out.is_empty());
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].message.contains("nest more than"), "{}", warnings[0].message);

    // A ConfigMap carrying a ConfigMap carrying … a SARIF log, in YAML block scalars: the
    // report ConfigMap is a typed channel, so the one it carries is refused at once.
    let mut yaml = String::from("{\"version\": \"2.1.0\", \"runs\": []}\n");
    for _ in 0..40 {
        let indented: String = yaml.lines().map(|l| format!("    {l}\n")).collect();
        yaml = format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\n  labels: {{aspm.stance.dev/report: x}}\ndata:\n  r: |\n{indented}"
        );
    }
    let (out, warnings) = run_bytes("cm.yaml", yaml.as_bytes());
    assert!(out.is_empty());
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].message.contains("a ConfigMap cm (v1) is not a report"), "{}", warnings[0].message);
}

/// Inputs that are easy to get wrong: deep nesting, YAML aliases and tags, byte-order
/// marks, EPSS-looking garbage.
#[test]
fn tricky_inputs_are_warnings() {
    let deep_json = "[".repeat(100_000);
    let deep_yaml = "- ".repeat(10_000) + "x";
    let laughs = "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n\
                  c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n\
                  e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n\
                  g: [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\n";
    let inputs: Vec<Vec<u8>> = vec![
        deep_json.into_bytes(),
        deep_yaml.into_bytes(),
        laughs.as_bytes().to_vec(),
        b"a: *unknown\n".to_vec(),
        b"? [a, b]\n: c\n".to_vec(),
        b"{1: 2}".to_vec(),
        b"1: 2\n".to_vec(),
        b"!!binary aGVsbG8=\n".to_vec(),
        b"key: !custom {a: 1}\n".to_vec(),
        b"\xEF\xBB\xBF\xEF\xBB\xBF{}".to_vec(),
        b"\xff\xfe{\x00}\x00".to_vec(),
        b"#model_version".to_vec(),
        b"#model_version:v1\n".to_vec(),
        b"cve,epss\n\"unterminated".to_vec(),
        b"cve,epss,percentile\nCVE-2021-44228,NaN,inf\n".to_vec(),
        b"\x1f\x8b".to_vec(),
        b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff".to_vec(),
        gzip(b""),
        gzip(b"\x1f\x8b"),
        gzip(b"{\"bomFormat\": \"CycloneDX\", \"components\": [{\"purl\": \"pkg:\"}]}")[..30].to_vec(),
        b"---\n---\n...\n".to_vec(),
        b"apiVersion: v1\nkind: List\nitems: [1, null, [], {kind: List, items: [{}]}]\n".to_vec(),
        b"{\"a.b\": [[{\"a.b\": []}]]}".to_vec(),
    ];
    for (i, bytes) in inputs.iter().enumerate() {
        let result = catch_unwind(AssertUnwindSafe(|| run_bytes("tricky", bytes)));
        assert!(result.is_ok(), "input {i} panicked: {:?}", String::from_utf8_lossy(&bytes[..bytes.len().min(80)]));
    }
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

// ---------------------------------------------------------------------------------------
// Property tests

/// `PROPTEST_CASES` cases (default 96) per property; failures are not persisted (no
/// regression files in the source tree).
fn config() -> Config {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(96);
    Config { cases, failure_persistence: None, max_shrink_iters: 256, ..Config::default() }
}

/// Keys the parsers read (so that random objects sometimes mean something to them).
const KEYS: &str = "apiVersion kind metadata name namespace labels annotations ownerReferences items results report \
     components component purl group version licenses license id expression ratings score severity method \
     vulnerabilities affects ref versions bom-ref type properties bomFormat spdxVersion packages SPDXID \
     externalRefs referenceLocator relationships documentDescribes runs tool driver rules ruleId \
     ruleIndex message text locations physicalLocation logicalLocations fullyQualifiedName Results \
     Vulnerabilities VulnerabilityID PkgName PkgIdentifier PURL CVSS V3Score SchemaVersion ArtifactName \
     ArtifactType Metadata RepoTags RepoDigests Target ClusterName Resources site alerts @programName \
     @name pluginid riskcode policy rule result resources scope timestamp seconds nanos artifact registry \
     repository tag digest checks secrets vulnerabilityID data binaryData spec template containers image \
     catalogVersion cveID imageName repoTags suppressions fingerprints";

/// Strings that tend to matter: non-ASCII, empty, ids, purls, paths, numbers as text.
const STRINGS: &[&str] = &[
    "",
    " ",
    "é",
    "ééé",
    "ééééé",
    "😀",
    "\u{0}",
    "\u{feff}",
    "a\u{301}",
    "規則",
    "NOASSERTION",
    "NONE",
    "CVE-2021-44228",
    "cve-2021-44228",
    "CVE-é",
    "GHSA-jfh8-c2jp-5v3q",
    "ghsaé",
    "GHSA-",
    "KSV001",
    "KSVé",
    "AVD-KSV-0001",
    "7.5",
    "-1",
    "1e999",
    "NaN",
    "inf",
    "0x10",
    "pkg:maven/org.example/é@1",
    "pkg:npm/%40s/n@1",
    "pkg:",
    "pkg:deb/",
    "pkg:é/é",
    "pkg:oci/x@sha256%3Aabc",
    "fail",
    "pass",
    "warn",
    "error",
    "skip",
    "CycloneDX",
    "SPDX-2.3",
    "SPDX-3.0",
    "2.1.0",
    "v1",
    "List",
    "aquasecurity.github.io/v1alpha1",
    "wgpolicyk8s.io/v1alpha2",
    "openreports.io/v1alpha1",
    "VulnerabilityReport",
    "SbomReport",
    "PolicyReport",
    "ConfigMap",
    "Deployment",
    "container",
    "application",
    "sha256:",
    "alpine:3.18",
    "a@sha256:abc",
    "C:\\x",
    "./x",
    "../x.tar.gz",
    ".é",
    "https://github.com/org/repo",
    "git@github.com:org/repo",
    "(((",
    ")(",
    "(é)",
    "Upgrade x to version ",
    "Upgrade é to version é",
    "urn:cdx:x/1#pkg:maven/a/b@1",
    "#",
    "@",
    "\n\n",
    "  é  ",
    "Package: é\nInstalled Version: é",
    "aquasecurity:trivy:RepoTag",
    "2021-08-25",
    "9999-99-99",
    "Sat, 15 Apr 2023 18:23:09",
    "-",
    "/",
    "é/é/é",
];

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(STRINGS).prop_map(String::from),
        2 => "\\PC{0,16}",
        1 => "[ -~]{0,24}",
    ]
}

fn key() -> impl Strategy<Value = String> {
    let keys: Vec<&'static str> = KEYS.split_whitespace().collect();
    prop_oneof![3 => prop::sample::select(keys).prop_map(String::from), 1 => text()]
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        1 => Just(Value::Null),
        1 => any::<bool>().prop_map(Value::Bool),
        1 => any::<i64>().prop_map(Value::from),
        1 => any::<u64>().prop_map(Value::from),
        1 => any::<f64>().prop_map(Value::from),
        1 => prop::sample::select(vec![0.0, -0.0, 0.5, 7.5, 10.0, 11.0, -1.0, 1e308, 5e-324, 4_294_967_296.0])
            .prop_map(Value::from),
        4 => text().prop_map(Value::String),
    ]
}

/// Any JSON value: a leaf or a (small) array or object of them.
fn json_value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(3, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((key(), inner), 0..6).prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

/// A path into a document: child choices from the root, stopping early at leaves.
fn node_path() -> impl Strategy<Value = Vec<Index>> {
    prop::collection::vec(any::<Index>(), 0..14)
}

#[derive(Clone, Debug)]
enum Mutation {
    /// Replace the node at the path with a value.
    Replace(Vec<Index>, Value),
    /// Delete a key of the object at (or, for a leaf, above) the path.
    DeleteKey(Vec<Index>, Index),
    /// Append a value to the array (or add a key to the object) at the path.
    Insert(Vec<Index>, String, Value),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        4 => (node_path(), json_value()).prop_map(|(p, v)| Mutation::Replace(p, v)),
        3 => (node_path(), any::<Index>()).prop_map(|(p, k)| Mutation::DeleteKey(p, k)),
        1 => (node_path(), key(), json_value()).prop_map(|(p, k, v)| Mutation::Insert(p, k, v)),
    ]
}

/// The containers along `path` from `root`: each step picks a child of a non-empty array
/// or object, stopping at a leaf.
fn descend<'a>(root: &'a mut Value, path: &[Index], stop_above_leaf: bool) -> &'a mut Value {
    let mut current = root;
    for step in path {
        let len = match &*current {
            Value::Array(a) => a.len(),
            Value::Object(m) => m.len(),
            _ => 0,
        };
        if len == 0 {
            break;
        }
        let i = step.index(len);
        let is_leaf = |v: &Value| !(v.is_array() || v.is_object());
        let next_is_leaf = match &*current {
            Value::Array(a) => is_leaf(&a[i]),
            Value::Object(m) => m.values().nth(i).is_some_and(is_leaf),
            _ => true,
        };
        if stop_above_leaf && next_is_leaf {
            break;
        }
        current = match current {
            Value::Array(a) => &mut a[i],
            Value::Object(m) => m.values_mut().nth(i).expect("i < len"),
            _ => unreachable!("len > 0"),
        };
    }
    current
}

fn apply(root: &mut Value, m: &Mutation) {
    match m {
        Mutation::Replace(path, v) => *descend(root, path, false) = v.clone(),
        Mutation::DeleteKey(path, k) => match descend(root, path, true) {
            Value::Object(map) if !map.is_empty() => {
                let key = map.keys().nth(k.index(map.len())).cloned().expect("non-empty");
                map.remove(&key);
            }
            Value::Array(a) if !a.is_empty() => {
                a.remove(k.index(a.len()));
            }
            _ => {}
        },
        Mutation::Insert(path, key, v) => match descend(root, path, true) {
            Value::Object(map) => {
                map.insert(key.clone(), v.clone());
            }
            Value::Array(a) => a.push(v.clone()),
            _ => {}
        },
    }
}

/// How the mutated document is written back.
#[derive(Clone, Copy, Debug)]
enum Encoding {
    /// As the fixture was (JSON or YAML).
    Same,
    /// As JSON, whatever the fixture was.
    Json,
    /// As the fixture was, gzip-compressed.
    Gzip,
}

fn encode(f: &Fixture, docs: &[Value], encoding: Encoding) -> Vec<u8> {
    let text = if f.yaml && !matches!(encoding, Encoding::Json) {
        docs.iter()
            .map(|d| serde_yaml::to_string(d).expect("a JSON value is valid YAML"))
            .collect::<Vec<_>>()
            .join("---\n")
    } else if docs.len() == 1 {
        serde_json::to_string(&docs[0]).expect("serializable")
    } else {
        serde_json::to_string(docs).expect("serializable")
    };
    match encoding {
        Encoding::Gzip => gzip(text.as_bytes()),
        _ => text.into_bytes(),
    }
}

#[derive(Clone, Debug)]
struct Case {
    fixture: &'static Fixture,
    /// Which document of a YAML stream to mutate.
    doc: Index,
    mutations: Vec<Mutation>,
    encoding: Encoding,
    /// Cut the written bytes at this point (`None`: whole).
    truncate: Option<Index>,
}

fn case() -> impl Strategy<Value = Case> {
    let fixture = prop::sample::select(fixtures().iter().collect::<Vec<&'static Fixture>>());
    let encoding = prop_oneof![3 => Just(Encoding::Same), 1 => Just(Encoding::Json), 1 => Just(Encoding::Gzip)];
    (
        fixture,
        any::<Index>(),
        prop::collection::vec(mutation(), 1..5),
        encoding,
        prop::option::weighted(0.25, any::<Index>()),
    )
        .prop_map(|(fixture, doc, mutations, encoding, truncate)| Case {
            fixture,
            doc,
            mutations,
            encoding,
            truncate,
        })
}

/// Runs `f`, turning a panic into a test failure that says what was being parsed.
fn no_panic(what: &str, f: impl FnOnce()) -> Result<(), TestCaseError> {
    catch_unwind(AssertUnwindSafe(f)).map_err(|e| {
        let msg = e
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| e.downcast_ref::<&str>().copied())
            .unwrap_or("(no message)");
        TestCaseError::fail(format!("{what} panicked: {msg}"))
    })
}

proptest! {
    #![proptest_config(config())]

    /// Mutated fixtures never panic `parse_value` or `parse_bytes`.
    #[test]
    fn mutated_fixtures_never_panic(c in case()) {
        let f = c.fixture;
        match &f.docs {
            Some(docs) => {
                let mut docs = docs.clone();
                let i = c.doc.index(docs.len());
                for m in &c.mutations {
                    apply(&mut docs[i], m);
                }
                no_panic(&format!("parse_value of mutated {}", f.rel), || {
                    for d in &docs {
                        run_value(&f.rel, d);
                    }
                })?;
                let mut bytes = encode(f, &docs, c.encoding);
                if let Some(t) = c.truncate {
                    bytes.truncate(t.index(bytes.len() + 1));
                }
                no_panic(&format!("parse_bytes of mutated {}", f.rel), || {
                    run_bytes(&f.rel, &bytes);
                })?;
            }
            None => {
                let mut bytes = f.bytes.clone();
                if let Some(t) = c.truncate {
                    bytes.truncate(t.index(bytes.len() + 1));
                }
                no_panic(&format!("parse_bytes of truncated {}", f.rel), || {
                    run_bytes(&f.rel, &bytes);
                })?;
            }
        }
    }

    /// Truncated fixtures (cut anywhere, also inside a multi-byte character) never panic.
    #[test]
    fn truncated_fixtures_never_panic(
        fixture in prop::sample::select(fixtures().iter().collect::<Vec<&'static Fixture>>()),
        cut in any::<Index>(),
        gzipped in any::<bool>(),
    ) {
        let bytes = &fixture.bytes[..cut.index(fixture.bytes.len() + 1)];
        let bytes = if gzipped { gzip(bytes) } else { bytes.to_vec() };
        no_panic(&format!("parse_bytes of truncated {}", fixture.rel), || {
            run_bytes(&fixture.rel, &bytes);
        })?;
    }

    /// Arbitrary bytes — garbage, gzip headers followed by garbage, gzip of garbage, text
    /// that starts like JSON, YAML or an EPSS CSV — never panic `parse_bytes`.
    #[test]
    fn arbitrary_bytes_never_panic(bytes in arbitrary_bytes()) {
        no_panic("parse_bytes", || {
            run_bytes("bytes", &bytes);
        })?;
    }

    /// Random JSON values (also written as JSON, YAML and gzip) never panic.
    #[test]
    fn random_documents_never_panic(v in document()) {
        no_panic("parse_value", || {
            run_value("value", &v);
        })?;
        let json = serde_json::to_vec(&v).expect("serializable");
        let yaml = serde_yaml::to_string(&v).expect("serializable").into_bytes();
        for bytes in [gzip(&json), json, yaml] {
            no_panic("parse_bytes", || {
                run_bytes("value", &bytes);
            })?;
        }
    }
}

fn arbitrary_bytes() -> impl Strategy<Value = Vec<u8>> {
    let garbage = prop::collection::vec(any::<u8>(), 0..512);
    let prefixes: Vec<&'static [u8]> = vec![
        b"",
        b"\x1f\x8b",
        b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff",
        b"\x1f\x8b\x08\x1f\xff\xff\xff\xff\x00\xff",
        b"\xEF\xBB\xBF",
        b"{",
        b"[",
        b"#model_version:",
        b"cve,epss,percentile\n",
        b"---\n",
        b"apiVersion: v1\nkind: ",
        b"{\"bomFormat\": \"CycloneDX\", ",
    ];
    prop_oneof![
        3 => (prop::sample::select(prefixes), garbage.clone()).prop_map(|(p, g)| [p, &g[..]].concat()),
        1 => garbage.clone().prop_map(|g| gzip(&g)),
        // A valid gzip stream, corrupted at one byte.
        1 => (garbage, any::<Index>(), any::<u8>()).prop_map(|(g, i, b)| {
            let mut z = gzip(&g);
            let i = i.index(z.len());
            z[i] ^= b | 1;
            z
        }),
        1 => ("\\PC{0,64}", prop::sample::select(vec!["", "{", "[", "- ", "a: ", "cve,epss\n"]))
            .prop_map(|(s, p)| format!("{p}{s}").into_bytes()),
    ]
}

/// A random document that looks like one of the formats at its top level.
fn document() -> impl Strategy<Value = Value> {
    let heads = vec![
        json!({"bomFormat": "CycloneDX"}),
        json!({"spdxVersion": "SPDX-2.3"}),
        json!({"version": "2.1.0", "runs": []}),
        json!({"SchemaVersion": 2, "ArtifactName": "x"}),
        json!({"ClusterName": "c"}),
        json!({"Target": "x", "Vulnerabilities": []}),
        json!({"@programName": "ZAP", "site": []}),
        json!({"catalogVersion": "1", "vulnerabilities": []}),
        json!({"apiVersion": "wgpolicyk8s.io/v1alpha2", "kind": "PolicyReport"}),
        json!({"apiVersion": "openreports.io/v1alpha1", "kind": "Report"}),
        json!({"apiVersion": "aquasecurity.github.io/v1alpha1", "kind": "VulnerabilityReport"}),
        json!({"apiVersion": "aquasecurity.github.io/v1alpha1", "kind": "SbomReport"}),
        json!({"apiVersion": "aquasecurity.github.io/v1alpha1", "kind": "ConfigAuditReport"}),
        json!({"apiVersion": "aquasecurity.github.io/v1alpha1", "kind": "ExposedSecretReport"}),
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"labels": {"aspm.stance.dev/report": "x"}}}),
        json!({"apiVersion": "apps/v1", "kind": "Deployment"}),
        json!({"apiVersion": "v1", "kind": "Pod"}),
        json!({"apiVersion": "v1", "kind": "List"}),
        json!({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute"}),
        json!({"apiVersion": "aspm.stance.dev/v1alpha1", "kind": "AppPosture"}),
    ];
    (prop::sample::select(heads), prop::collection::vec((key(), json_value()), 0..8)).prop_map(|(mut head, rest)| {
        let map = head.as_object_mut().expect("an object");
        for (k, v) in rest {
            map.insert(k, v);
        }
        head
    })
}
