//! The documentation stays true to the code: every CRD field is in the reference, every
//! exposed metric in the operations handbook.

use std::collections::BTreeSet;

fn paths(schema: &serde_json::Value, prefix: &str, out: &mut BTreeSet<String>) {
    if let Some(props) = schema.get("properties").and_then(|p| p.as_object()) {
        for (k, v) in props {
            let p = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
            // Label selectors are documented once, as the standard Kubernetes type.
            if matches!(k.as_str(), "selector" | "namespaceSelector" | "appSelector") {
                out.insert(p);
                continue;
            }
            out.insert(p.clone());
            paths(v, &p, out);
        }
    }
    if let Some(items) = schema.get("items") {
        paths(items, &format!("{prefix}[]"), out);
    }
}

#[test]
fn every_crd_spec_field_is_in_the_reference() {
    let doc =
        std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/policy-reference.md"))
            .unwrap();
    let mut missing = Vec::new();
    for crd in stance::api::crds() {
        let v = serde_json::to_value(&crd.spec.versions[0].schema.as_ref().unwrap().open_api_v3_schema).unwrap();
        let mut fields = BTreeSet::new();
        paths(&v["properties"]["spec"], "", &mut fields);
        assert!(fields.len() > 5, "{}", crd.spec.names.kind);
        for f in fields {
            if !doc.contains(&format!("`{f}`")) {
                missing.push(format!("{}: {f}", crd.spec.names.kind));
            }
        }
    }
    assert!(missing.is_empty(), "fields missing from docs/policy-reference.md: {missing:#?}");
}

#[test]
fn risk_doc_budgets_match_the_code() {
    use stance_core::risk::score::*;
    let doc = std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/risk.md")).unwrap();
    for (name, max) in [
        ("Severity", SEVERITY_MAX),
        ("Exploitability", EXPLOIT_MAX),
        ("Exposure", EXPOSURE_MAX),
        ("Business impact", BUSINESS_MAX),
        ("Workload", WORKLOAD_MAX),
        ("Remediation", REMEDIATION_MAX),
    ] {
        assert!(doc.contains(&format!("| **{name}** | {max} |")), "docs/risk.md budget for {name} is not {max}");
    }
}

/// Every metric `stance run` exposes, as it appears on /metrics: name → (type, label keys).
/// Counters carry the `_total` suffix prometheus-client adds to their samples.
fn exposed_metrics() -> std::collections::BTreeMap<String, (String, BTreeSet<String>)> {
    use stance::controller::metrics::{
        ControllerMetrics, EventLabels, KindLabel, ReasonLabel, RefusedLabels, ResultLabels,
    };
    use stance::webhook::metrics::{EnforcementLabel, RequestLabels, ViolationLabels};
    use std::sync::Arc;

    // One registry holding both components, as `stance run` builds it (src/cli/run.rs).
    let mut registry = prometheus_client::registry::Registry::default();
    let op = ControllerMetrics::register(&mut registry);
    let wh = stance::webhook::WebhookMetrics::register(&mut registry);
    // prometheus-client leaves a labelled family out of the encoding until it has a series,
    // so record one in each: the handbook must list them before their first sample.
    let kind = || KindLabel { kind: "Pod".into() };
    op.watch_events.get_or_create(&EventLabels { kind: "Pod".into(), event: "apply".into() }).inc();
    op.watch_errors.get_or_create(&kind()).inc();
    op.rejected_objects.get_or_create(&kind()).inc();
    op.refused_documents.get_or_create(&RefusedLabels { kind: "ConfigMap".into(), reason: "nodes".into() }).inc();
    op.reconciles.get_or_create(&ResultLabels { kind: "AppPosture".into(), result: "written".into() }).inc();
    op.events_published.get_or_create(&ReasonLabel { reason: "CriticalFinding".into() }).inc();
    op.ingest_uploads.get_or_create(&ResultLabels { kind: "upload".into(), result: "stored".into() }).inc();
    wh.requests.get_or_create(&RequestLabels { decision: "allow", kind: "Pod", operation: "CREATE" }).inc();
    let violation = ViolationLabels { policy: Arc::from("p"), enforcement: EnforcementLabel::Enforce, effect: "deny" };
    wh.violations.get_or_create(&violation).inc();
    wh.observe_latency("validate", 0.001);
    wh.bad_request("invalid_json");
    wh.evaluation_error("timeout");
    wh.evaluated("inline");

    let mut text = String::new();
    prometheus_client::encoding::text::encode(&mut text, &registry).unwrap();
    let mut exposed = std::collections::BTreeMap::new();
    let mut family = String::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').unwrap();
            family = name.to_string();
            exposed.insert(name.to_string(), (kind.to_string(), BTreeSet::new()));
        } else if let Some((_, labels)) = line.split_once('{').filter(|_| !line.starts_with('#')) {
            // The test's own label values contain no commas or quotes: splitting is enough.
            let keys = labels.split('}').next().unwrap().split(',').map(|kv| kv.split('=').next().unwrap());
            let entry = &mut exposed.get_mut(&family).unwrap().1;
            entry.extend(keys.filter(|k| *k != "le").map(str::to_string));
        }
    }

    // A family added to the code but not sampled above would be missing from `exposed` and so
    // escape the check: compare with every registered name. The registry offers no iterator;
    // its Debug form lists each sub-registry's prefix before that sub-registry's descriptors.
    let debug = format!("{registry:?}");
    let mut registered = BTreeSet::new();
    let mut prefix = String::new();
    let mut rest = debug.as_str();
    loop {
        let (p, d) = (rest.find("Prefix(\""), rest.find("Descriptor { name: \""));
        let (at, is_prefix) = match (p, d) {
            (Some(p), Some(d)) if p < d => (p + "Prefix(\"".len(), true),
            (Some(p), None) => (p + "Prefix(\"".len(), true),
            (_, Some(d)) => (d + "Descriptor { name: \"".len(), false),
            (None, None) => break,
        };
        let value = &rest[at..at + rest[at..].find('"').unwrap()];
        if is_prefix {
            prefix = format!("{value}_");
        } else {
            registered.insert(format!("{prefix}{value}"));
        }
        rest = &rest[at..];
    }
    let sampled: BTreeSet<String> = exposed.keys().cloned().collect();
    assert!(registered.len() > 20, "cannot read the registered metric names from {debug}");
    let unsampled: Vec<_> = registered.difference(&sampled).collect();
    assert!(
        unsampled.is_empty() && sampled.is_subset(&registered),
        "registered metrics without a series in this test: {unsampled:?}; record one above (and document the \
         metric in docs/operations.md)"
    );
    exposed
        .into_iter()
        .map(|(name, (kind, labels))| (if kind == "counter" { format!("{name}_total") } else { name }, (kind, labels)))
        .collect()
}

#[test]
fn every_exposed_metric_is_in_the_operations_handbook() {
    let doc =
        std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/operations.md")).unwrap();
    let start = doc.find("\n## Metrics\n").expect("docs/operations.md has a `## Metrics` section");
    let section = &doc[start + 1..];
    let section = &section[..section[3..].find("\n## ").map_or(section.len(), |end| end + 3)];
    // Rows: | `name` | type | labels | meaning |
    let rows: std::collections::BTreeMap<&str, Vec<&str>> = section
        .lines()
        .filter(|l| l.starts_with("| `stance_"))
        .map(|l| {
            let cells: Vec<&str> = l.split(" | ").collect();
            (cells[0].trim_start_matches("| ").trim_matches('`'), cells)
        })
        .collect();
    let exposed = exposed_metrics();
    let mut problems = Vec::new();
    for (name, (kind, labels)) in &exposed {
        let Some(cells) = rows.get(name.as_str()) else {
            problems.push(format!("{name} ({kind}) has no row"));
            continue;
        };
        if cells.get(1) != Some(&kind.as_str()) {
            problems.push(format!("{name}: the type column should say {kind}"));
        }
        for label in labels {
            if !cells.get(2).is_some_and(|c| c.contains(&format!("`{label}`"))) {
                problems.push(format!("{name}: the labels column does not name `{label}`"));
            }
        }
    }
    for name in rows.keys() {
        if !exposed.contains_key(*name) {
            problems.push(format!("{name} is documented but not exposed"));
        }
    }
    assert!(problems.is_empty(), "docs/operations.md's metrics tables disagree with the code: {problems:#?}");
}

/// docs/risk.md's worked examples are what the scoring code computes (no remediation points,
/// unprivileged workloads): `= **N**` in the document for each.
#[test]
fn risk_doc_examples_are_what_score_computes() {
    use std::sync::Arc;

    use stance::api::{Criticality, DataClassification};
    use stance_core::model::{Artifact, Finding, FindingKind, Format, Severity, Source};
    use stance_core::risk::{Reach, RiskContext, score};

    let doc = std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/risk.md")).unwrap();
    let source = Arc::new(Source {
        format: Format::TrivyJson,
        scanner: Arc::from("t"),
        origin: Arc::from("o"),
        workload: None,
        container: None,
    });
    let finding = |sev, cvss: f32, kev: bool, epss: Option<f32>| {
        let mut f = Finding::new(
            FindingKind::Vulnerability,
            "CVE-1",
            sev,
            "t",
            Artifact::Other(Arc::from("x")),
            source.clone(),
        );
        f.cvss = Some(cvss);
        f.kev = kev;
        f.epss = epss;
        f
    };
    let ctx = |reach, criticality, data| RiskContext {
        reach,
        criticality,
        data,
        privileged: false,
        root: false,
        now: jiff::Timestamp::UNIX_EPOCH,
    };
    use Criticality as C;
    use DataClassification as D;
    let critical = |epss| finding(Severity::Critical, 9.8, false, Some(epss));
    let examples = [
        (finding(Severity::High, 7.5, true, None), ctx(Reach::Internet, C::Critical, D::Restricted)),
        (critical(0.004), ctx(Reach::None, C::Low, D::Internal)),
        (critical(0.004), ctx(Reach::Internal, C::Medium, D::Internal)),
        (critical(0.004), ctx(Reach::Internet, C::Critical, D::Restricted)),
        (critical(0.5), ctx(Reach::Internet, C::High, D::Confidential)),
        (finding(Severity::Critical, 9.8, true, None), ctx(Reach::Internet, C::Medium, D::Internal)),
    ];
    for (f, c) in &examples {
        let s = score(f, c).score;
        assert!(doc.contains(&format!("= **{s}**")), "docs/risk.md has no example scoring {s}: {c:?}");
    }
}

/// The YAML blocks of a Markdown document, with the line each starts on.
fn yaml_blocks(doc: &str) -> Vec<(usize, String)> {
    let mut out: Vec<(usize, String)> = Vec::new();
    let mut current: Option<(usize, String)> = None;
    for (i, line) in doc.lines().enumerate() {
        match (&mut current, line.trim_start().strip_prefix("```")) {
            (None, Some(lang)) if lang.trim() == "yaml" => current = Some((i + 1, String::new())),
            (Some(_), Some(_)) => out.extend(current.take()),
            (Some((_, text)), None) => {
                text.push_str(line);
                text.push('\n');
            }
            (None, _) => {}
        }
    }
    out
}

/// Every YAML example of the reference and the concepts page is a Stance resource that loads
/// without a warning and compiles (policies and exceptions), and together they show every
/// rule type and every resource.
#[test]
fn yaml_examples_load_and_compile() {
    let mut rule_types = BTreeSet::new();
    let mut kinds = BTreeSet::new();
    for file in ["docs/policy-reference.md", "docs/concepts.md"] {
        let doc = std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(file)).unwrap();
        let blocks = yaml_blocks(&doc);
        assert!(!blocks.is_empty(), "{file}: no YAML examples");
        for (line, text) in blocks {
            let origin = format!("{file}:{line}");
            let mut loaded = stance::ingest::Loaded::default();
            loaded.add_bytes(&origin, text.as_bytes());
            assert!(loaded.warnings.is_empty(), "{origin}: {:#?}", loaded.warnings);
            let index = loaded.into_index(Default::default());
            for p in index.policies() {
                let compiled = p.compiled.as_ref().unwrap_or_else(|e| panic!("{origin}: policy does not compile: {e}"));
                rule_types.extend(compiled.rules.iter().map(|r| r.check.type_name()));
                kinds.insert("GuardrailPolicy");
            }
            for e in index.exceptions() {
                assert!(e.compiled.is_ok(), "{origin}: exception does not compile: {:?}", e.compiled);
                kinds.insert("RiskException");
            }
            kinds.extend(index.apps().map(|_| "AppPosture"));
            kinds.extend(index.assets().map(|_| "Asset"));
            let found =
                index.policies().count() + index.exceptions().count() + index.apps().count() + index.assets().count();
            assert!(found > 0, "{origin}: no Stance resource in the block");
        }
    }
    assert_eq!(kinds.into_iter().collect::<Vec<_>>(), ["AppPosture", "Asset", "GuardrailPolicy", "RiskException"]);
    let all = [
        "components",
        "imageReference",
        "ownership",
        "riskScore",
        "sbomRequired",
        "scanRequired",
        "vulnerabilities",
        "workloadSecurity",
    ];
    assert_eq!(rule_types.into_iter().collect::<Vec<_>>(), all, "an example per rule type");
}
