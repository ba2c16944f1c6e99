//! One guardrail, three engines (issue 14 §3): "deny an image with a fixable critical or a
//! known-exploited vulnerability on an internet-facing app, unless an unexpired exception
//! covers it", judged on the same AdmissionReview bytes and the same report data by
//! - Stance: a GuardrailPolicy, AppPostures and RiskExceptions read by the file loader into a
//!   `PostureIndex`, and the webhook's own handler (`stance::webhook::handle`);
//! - Rego (`regorus`, the language of OPA and Gatekeeper): `guardrail.rego`, the report data
//!   as the `data` document, the AdmissionReview as `input`, the rule `violation` queried;
//! - CEL (`cel-interpreter`, the language of ValidatingAdmissionPolicy and Kyverno's CEL
//!   policies): the expressions below, the report data as `params`, the request as
//!   `request` / `object`, the policy's `variables` evaluated first as a VAP does.
//!
//! Used by `tests/engines.rs` (the three agree on a table of cases) and `benches/engines.rs`
//! (their cost side by side). Each engine parses its data once, outside any timed loop, as
//! those projects do (Gatekeeper's and kube-mgmt's synced `data`, a VAP's param object).
//!
//! How the data reaches Rego and CEL is their best case: vulnerabilities keyed by the image
//! reference exactly as the Pod spells it (Stance matches image identities: tags, digests,
//! registry aliases), the KEV catalog keyed by CVE id, applications keyed by namespace.

#![allow(dead_code)] // the test and the bench each use part of it

use std::collections::BTreeMap;
use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};
use stance::ingest::Loaded;
use stance::webhook::{Decision, HandlerOptions, handle};
use stance_core::index::{IndexConfig, PostureIndex};
use stance_core::model::{Artifact, Finding, FindingKind, Format, ImageRef, Package, Report, Severity, Source};

/// The policy's name in all three (exceptions name it).
pub const POLICY: &str = "internet-facing-critical-or-kev";

/// The GuardrailPolicy, as a platform team writes it.
pub const STANCE_POLICY: &str = "apiVersion: aspm.stance.dev/v1alpha1
kind: GuardrailPolicy
metadata: {name: internet-facing-critical-or-kev}
spec:
  enforcement: Enforce
  onUnscanned: allow
  match: {exposures: [internet]}
  rules:
  - name: critical-fixable
    vulnerabilities: {maxSeverity: HIGH, fixAvailableOnly: true}
  - name: kev
    vulnerabilities: {maxSeverity: UNKNOWN, knownExploitedOnly: true}
";

/// The Rego policy (package `stance.guardrail`, rule `violation`).
pub const REGO: &str = include_str!("guardrail.rego");

/// CEL variable `variables.internetApps`: the names of the internet-facing applications
/// whose selector matches the Pod's labels.
pub const CEL_INTERNET_APPS: &str = "request.namespace in params.apps
  ? params.apps[request.namespace].filter(a, a.exposure == 'internet'
      && a.selector.all(k, has(object.metadata.labels) && k in object.metadata.labels
                           && object.metadata.labels[k] == a.selector[k])).map(a, a.name)
  : []";

/// CEL variable `variables.images`: every container's image.
pub const CEL_IMAGES: &str = "object.spec.containers.map(c, c.image)
  + (has(object.spec.initContainers) ? object.spec.initContainers.map(c, c.image) : [])";

/// The CEL validation: true admits. `now` is a variable (a VAP has no clock; Kyverno's CEL
/// has `time.now()`).
pub const CEL_VALIDATION: &str = "size(variables.internetApps) == 0
  || variables.images.all(img, !(img in params.vulnerabilities)
    || params.vulnerabilities[img].all(v,
      !(v.severity == 'CRITICAL' && v.fixedVersion != ''
        && !params.exceptions.exists(e, e.policy == 'internet-facing-critical-or-kev'
          && 'critical-fixable' in e.rules && v.id in e.findings && request.namespace in e.namespaces
          && variables.internetApps.exists(a, a in e.apps) && timestamp(e.expires) > now))
      && !(v.id in params.kev && v.severity != 'UNKNOWN'
        && !params.exceptions.exists(e, e.policy == 'internet-facing-critical-or-kev'
          && 'kev' in e.rules && v.id in e.findings && request.namespace in e.namespaces
          && variables.internetApps.exists(a, a in e.apps) && timestamp(e.expires) > now))))";

/// Reads a file of `../shared/fixtures`.
pub fn fixture(rel: &str) -> Vec<u8> {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures").join(rel);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// The CISA KEV catalog fixture.
pub const KEV: &str = "kev/known_exploited_vulnerabilities.json";

/// The CVE ids of the KEV catalog.
pub fn kev_ids(catalog: &[u8]) -> Vec<String> {
    let v: Value = serde_json::from_slice(catalog).expect("the KEV catalog is JSON");
    v["vulnerabilities"]
        .as_array()
        .expect("vulnerabilities[]")
        .iter()
        .filter_map(|e| e["cveID"].as_str().map(str::to_string))
        .collect()
}

/// An application (AppPosture) in all three.
#[derive(Clone, Debug)]
pub struct App {
    pub namespace: &'static str,
    pub name: &'static str,
    /// `internet` or `internal`.
    pub exposure: &'static str,
    /// `matchLabels` of its selector.
    pub selector: BTreeMap<&'static str, &'static str>,
}

/// A RiskException of [`POLICY`] in all three.
#[derive(Clone, Debug)]
pub struct Exception {
    pub name: &'static str,
    pub rules: Vec<&'static str>,
    pub findings: Vec<String>,
    pub namespaces: Vec<&'static str>,
    pub apps: Vec<&'static str>,
    pub created: Timestamp,
    pub expires: Timestamp,
}

/// Everything the engines judge with: scanner reports, the KEV catalog, applications and
/// exceptions.
pub struct World {
    pub reports: Vec<Report>,
    pub kev_catalog: Vec<u8>,
    pub apps: Vec<App>,
    pub exceptions: Vec<Exception>,
}

/// One image's report with the given `(id, severity, fixed version)` vulnerabilities, as a
/// Trivy Operator VulnerabilityReport gives them.
pub fn report(image: &str, vulns: &[(&str, Severity, Option<&str>)]) -> Report {
    let artifact = Artifact::Image(ImageRef::parse(image).expect("a valid image reference"));
    let source = Arc::new(Source {
        format: Format::TrivyOperator,
        scanner: Arc::from("Trivy 0.50.0"),
        origin: Arc::from(format!("engines/{image}")),
        workload: None,
        container: None,
    });
    let mut r = Report::new(source.clone());
    r.scanned = vec![artifact.clone()];
    for (id, severity, fixed) in vulns {
        let mut f = Finding::new(FindingKind::Vulnerability, id, *severity, id, artifact.clone(), source.clone());
        f.package = Some(Package {
            purl: None,
            name: Arc::from("openssl"),
            installed_version: Some(Arc::from("1.2.3")),
            fixed_version: fixed.map(Arc::from),
        });
        r.findings.push(f);
    }
    r
}

impl World {
    /// The Stance objects (GuardrailPolicy, AppPostures, RiskExceptions) as YAML manifests.
    pub fn stance_objects(&self) -> String {
        let mut y = STANCE_POLICY.to_string();
        for a in &self.apps {
            let labels: Vec<String> = a.selector.iter().map(|(k, v)| format!("{k}: {v}")).collect();
            y += &format!(
                "---\napiVersion: aspm.stance.dev/v1alpha1\nkind: AppPosture\nmetadata: {{name: {}, namespace: {}}}\n\
                 spec: {{criticality: high, exposure: {}, selector: {{matchLabels: {{{}}}}}}}\n",
                a.name,
                a.namespace,
                a.exposure,
                labels.join(", ")
            );
        }
        for e in &self.exceptions {
            y += &format!(
                "---\napiVersion: aspm.stance.dev/v1alpha1\nkind: RiskException\n\
                 metadata: {{name: {}, namespace: stance-system, creationTimestamp: '{}'}}\n\
                 spec:\n  policy: {POLICY}\n  rules: [{}]\n  findings: [{}]\n  match: {{namespaces: [{}], apps: [{}]}}\n  \
                 justification: a WAF rule blocks the exploit\n  ticket: SEC-1\n  approvedBy: security@example.com\n  expires: '{}'\n",
                e.name,
                e.created,
                e.rules.join(", "),
                e.findings.join(", "),
                e.namespaces.join(", "),
                e.apps.join(", "),
                e.expires
            );
        }
        y
    }

    /// Stance's index: the reports, the KEV catalog and the objects, through the file loader.
    pub fn stance_index(&self) -> PostureIndex {
        let mut loaded = Loaded { reports: self.reports.clone(), ..Loaded::default() };
        loaded.add_bytes("known_exploited_vulnerabilities.json", &self.kev_catalog);
        loaded.add_bytes("guardrail.yaml", self.stance_objects().as_bytes());
        assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
        let index = loaded.into_index(IndexConfig::default());
        assert!(index.policies().all(|p| p.compiled.is_ok()), "the policy compiles");
        index
    }

    /// The data document of Rego and the params object of CEL: `vulnerabilities` (image →
    /// `[{id, severity, fixedVersion}]`), `kev` (CVE id → true), `apps` (namespace →
    /// `[{name, exposure, selector}]`) and `exceptions`.
    pub fn data(&self) -> Value {
        let mut vulns: serde_json::Map<String, Value> = serde_json::Map::new();
        for r in &self.reports {
            for f in &r.findings {
                let Some(image) = f.artifact.image() else { continue };
                let fixed = f.package.as_ref().and_then(|p| p.fixed_version.as_deref()).unwrap_or("");
                let entry = vulns.entry(image.to_string()).or_insert_with(|| json!([]));
                if let Value::Array(list) = entry {
                    list.push(json!({"id": &*f.id, "severity": f.severity.as_str(), "fixedVersion": fixed}));
                }
            }
        }
        let kev: serde_json::Map<String, Value> =
            kev_ids(&self.kev_catalog).into_iter().map(|id| (id, Value::Bool(true))).collect();
        let mut apps: BTreeMap<&str, Vec<Value>> = BTreeMap::new();
        for a in &self.apps {
            apps.entry(a.namespace)
                .or_default()
                .push(json!({"name": a.name, "exposure": a.exposure, "selector": a.selector}));
        }
        let exceptions: Vec<Value> = self
            .exceptions
            .iter()
            .map(|e| {
                json!({"policy": POLICY, "rules": e.rules, "findings": e.findings, "namespaces": e.namespaces,
                       "apps": e.apps, "expires": e.expires.to_string()})
            })
            .collect();
        json!({"vulnerabilities": vulns, "kev": kev, "apps": apps, "exceptions": exceptions})
    }
}

/// A Pod AdmissionReview (CREATE): the real kubewarden load-testing review, with its Pod
/// renamed, labelled and given one container per image.
pub fn review(namespace: &str, name: &str, labels: &[(&str, &str)], images: &[&str]) -> Vec<u8> {
    let mut r: Value = serde_json::from_slice(&fixture("kubewarden-load-testing/req_for_secure_pod_images.json"))
        .expect("the kubewarden review is JSON");
    let req = &mut r["request"];
    req["namespace"] = json!(namespace);
    req["name"] = json!(name);
    let obj = &mut req["object"];
    obj["metadata"]["namespace"] = json!(namespace);
    obj["metadata"]["name"] = json!(name);
    obj["metadata"]["labels"] = labels.iter().map(|(k, v)| (k.to_string(), json!(v))).collect();
    let template = obj["spec"]["containers"][0].clone();
    obj["spec"]["containers"] = images
        .iter()
        .enumerate()
        .map(|(i, image)| {
            let mut c = template.clone();
            c["name"] = json!(format!("c{i}"));
            c["image"] = json!(image);
            c
        })
        .collect();
    serde_json::to_vec(&r).expect("serialisable")
}

/// Stance: the webhook's handler over the index.
pub struct StanceEngine {
    pub index: PostureIndex,
    pub options: HandlerOptions,
}

impl StanceEngine {
    pub fn new(world: &World) -> StanceEngine {
        StanceEngine { index: world.stance_index(), options: HandlerOptions::default() }
    }

    /// Whether the review is admitted (an answer with warnings is admitted).
    pub fn allowed(&self, body: &[u8], now: Timestamp) -> bool {
        let h = handle(body, &self.index, now, &self.options);
        assert_eq!(h.status, 200, "{}", String::from_utf8_lossy(&h.body));
        h.outcome.decision != Decision::Deny
    }
}

/// Rego: the policy compiled once, the data document loaded once; per review, the input set
/// and the rule evaluated (the clock is the engine's `time.now_ns()`).
pub struct RegoEngine {
    pub engine: regorus::Engine,
}

impl RegoEngine {
    pub fn new(world: &World) -> RegoEngine {
        let mut engine = regorus::Engine::new();
        engine.add_policy("guardrail.rego".to_string(), REGO.to_string()).expect("the Rego policy compiles");
        let data = regorus::Value::from_json_str(&world.data().to_string()).expect("data");
        engine.add_data(data).expect("data is an object");
        RegoEngine { engine }
    }

    /// Whether the review is admitted: no `violation`.
    pub fn allowed(&mut self, body: &[u8]) -> bool {
        let input = regorus::Value::from_json_str(std::str::from_utf8(body).expect("UTF-8")).expect("JSON");
        self.engine.set_input(input);
        let v = self.engine.eval_rule("data.stance.guardrail.violation".to_string()).expect("evaluates");
        match v {
            regorus::Value::Undefined => true,
            v => v.as_set().expect("violation is a set").is_empty(),
        }
    }
}

/// CEL: the programs compiled once, `params` converted once into the root context; per
/// review, a child scope with `request`, `object`, `now` and the policy's `variables`.
pub struct CelEngine {
    pub root: cel_interpreter::Context<'static>,
    internet_apps: cel_interpreter::Program,
    images: cel_interpreter::Program,
    validation: cel_interpreter::Program,
    now: cel_interpreter::Program,
}

impl CelEngine {
    pub fn new(world: &World) -> CelEngine {
        let mut root = cel_interpreter::Context::default();
        let params = cel_interpreter::to_value(world.data()).expect("params convert");
        root.add_variable_from_value("params", params);
        let compile = |s: &str| cel_interpreter::Program::compile(s).unwrap_or_else(|e| panic!("{s}: {e}"));
        CelEngine {
            root,
            internet_apps: compile(CEL_INTERNET_APPS),
            images: compile(CEL_IMAGES),
            validation: compile(CEL_VALIDATION),
            now: compile("timestamp(nowText)"),
        }
    }

    /// Whether the review is admitted: the validation is true.
    pub fn allowed(&self, body: &[u8], now: Timestamp) -> bool {
        use cel_interpreter::{Value as Cel, to_value};
        let review: Value = serde_json::from_slice(body).expect("JSON");
        let mut ctx = self.root.new_inner_scope();
        ctx.add_variable_from_value("request", to_value(&review["request"]).expect("request"));
        ctx.add_variable_from_value("object", to_value(&review["request"]["object"]).expect("object"));
        ctx.add_variable_from_value("nowText", now.to_string());
        let now = self.now.execute(&ctx).expect("now");
        ctx.add_variable_from_value("now", now);
        let apps = self.internet_apps.execute(&ctx).expect("internetApps");
        let images = self.images.execute(&ctx).expect("images");
        let variables: std::collections::HashMap<String, Cel> =
            [("internetApps".to_string(), apps), ("images".to_string(), images)].into_iter().collect();
        ctx.add_variable_from_value("variables", variables);
        match self.validation.execute(&ctx).expect("the validation evaluates") {
            Cel::Bool(b) => b,
            other => panic!("the validation must be a bool: {other:?}"),
        }
    }
}

/// The applications: `shop/web` internet-facing, `back/batch` internal.
pub fn apps() -> Vec<App> {
    vec![
        App {
            namespace: "shop",
            name: "web",
            exposure: "internet",
            selector: [("app.kubernetes.io/name", "web")].into_iter().collect(),
        },
        App {
            namespace: "back",
            name: "batch",
            exposure: "internal",
            selector: [("app.kubernetes.io/name", "batch")].into_iter().collect(),
        },
    ]
}

/// Images of the case table, beside the bulk data.
pub const CLEAN: [&str; 3] = [
    "registry.example.com/shop/clean-a:1.0",
    "registry.example.com/shop/clean-b:1.0",
    "registry.example.com/shop/clean-c:1.0",
];
pub const CRITICAL: &str = "registry.example.com/shop/critical:1.0";
pub const KEV_IMAGE: &str = "registry.example.com/shop/kev:1.0";
pub const EXCEPTED: &str = "registry.example.com/shop/excepted:1.0";
pub const EXPIRED: &str = "registry.example.com/shop/expired:1.0";

/// The case images' reports (the KEV one carries `kev_id`, a MEDIUM without a fix), and one
/// valid and one expired exception relative to `now`.
pub fn case_world(mut bulk: Vec<Report>, kev_id: &str, now: Timestamp) -> World {
    use Severity::*;
    let day = SignedDuration::from_hours(24);
    // Clean: a fixable HIGH, an unfixed CRITICAL, a MEDIUM not on the KEV list.
    for image in CLEAN {
        bulk.push(report(
            image,
            &[
                ("CVE-2026-10001", High, Some("1.2.4")),
                ("CVE-2026-10002", Critical, None),
                ("CVE-2026-10003", Medium, None),
            ],
        ));
    }
    bulk.push(report(
        CRITICAL,
        &[("CVE-2026-20001", Critical, Some("1.2.4")), ("CVE-2026-10001", High, Some("1.2.4"))],
    ));
    bulk.push(report(KEV_IMAGE, &[(kev_id, Medium, None), ("CVE-2026-10003", Medium, None)]));
    bulk.push(report(EXCEPTED, &[("CVE-2026-30001", Critical, Some("2.0.0"))]));
    bulk.push(report(EXPIRED, &[("CVE-2026-40001", Critical, Some("2.0.0"))]));
    let exception = |name, finding: &str, created: Timestamp, expires: Timestamp| Exception {
        name,
        rules: vec!["critical-fixable"],
        findings: vec![finding.to_string()],
        namespaces: vec!["shop"],
        apps: vec!["web"],
        created,
        expires,
    };
    World {
        reports: bulk,
        kev_catalog: fixture(KEV),
        apps: apps(),
        exceptions: vec![
            exception("waf-30001", "CVE-2026-30001", now - day, now + day * 30),
            exception("waf-40001", "CVE-2026-40001", now - day * 40, now - day),
        ],
    }
}

/// The web application's Pod labels.
pub const WEB: [(&str, &str); 2] = [("app.kubernetes.io/name", "web"), ("team", "web")];
/// The internal application's Pod labels.
pub const BATCH: [(&str, &str); 2] = [("app.kubernetes.io/name", "batch"), ("team", "data")];
