//! Policy reports: `PolicyReport` / `ClusterPolicyReport` of `wgpolicyk8s.io` (v1alpha1,
//! v1alpha2, v1beta1) and `reports.x-k8s.io` (v1beta1/v1beta2), and the OpenReports
//! `Report` / `ClusterReport` of `openreports.io` (whose samples also use the
//! `PolicyReport` kind names).
//!
//! One [`Report`] per object. Results `fail`, `warn` and `error` are findings (v1alpha1's
//! `status` is read as `result`, its `data` as `properties`). A result without any
//! `result` — the wg-policy trivy adapter omits it, reporting only vulnerabilities found —
//! is taken as a failure. `pass` and `skip` results are not findings, but their resources
//! are in `Report.scanned` like every other result's — except a result a Kyverno
//! PolicyException caused, which is a suppressed finding naming the exception (see
//! [`super::kyverno_exception`]).
//!
//! * **artifact**: each `resources[]` entry (one finding per resource; a missing namespace is
//!   the report's own for namespaced kinds), else the pod a runtime engine names in the
//!   result's properties (KubeArmor's `pod_name` / `namespace_name`, Falco's
//!   `k8s.pod.name` / `k8s.ns.name`), else the report's `scope`, else its controlling
//!   `ownerReference` (Kyverno and the trivy adapter name the object only there), else the
//!   document itself (`Artifact::Other(origin)`, e.g. kube-bench's node checks).
//! * **kind**:
//!   - vulnerability when `properties.VulnerabilityID` is set or the rule / policy is a
//!     CVE / GHSA id or the category mentions vulnerabilities; the package is the
//!     `category` (or `properties.PkgName` / `pkgName` / `resource`), with
//!     `InstalledVersion` / `FixedVersion` and `PrimaryURL` from the properties;
//!   - misconfiguration for benchmark checks: the scanner (result `source`, report
//!     `source`, engine label), the category or the report's `name` annotation mentions
//!     kube-bench, a CIS token, a benchmark or the compliance operator, or the rule is a
//!     Trivy / Checkov check id (`KSV…`, `AVD-…`, `CKV_…`), or the result carries
//!     kube-bench's own properties (`audit` and `index`);
//!   - policy otherwise (Kyverno, Falco, KubeArmor, RHACM, …).
//! * **id**: the vulnerability id; else `rule` when it is a check id (no spaces, contains a
//!   digit and an upper-case letter or is a dotted number: `KSV001`, `CKV_K8S_20`, `1.2.3`);
//!   else kube-bench's `properties.index` (`1.1.1`) when its rule and policy are prose;
//!   else `policy/rule` (just `policy` when there is no rule or it repeats the policy).
//! * **severity**: `severity`, else `properties.severity` (Falco), else from the result:
//!   `fail` → medium, `warn` → low, `error` and a missing result → unknown.
//! * **scanner**: the result's `source`, else the report's `source`, else the engine label
//!   (`policy.kubernetes.io/engine`, `wgpolicyk8s.io/engine`,
//!   `app.kubernetes.io/managed-by`), else `kube-bench` for results with kube-bench's
//!   properties, else the format's name.
//! * **first seen**: `timestamp.seconds` (when positive; out-of-range `nanos`, as the
//!   KubeArmor and trivy adapters write them, are ignored).

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use jiff::Timestamp;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::error_path::{join, typed};
use super::finding_id::{is_config_check_id, is_vulnerability_id};
use super::lenient::{Scalar, Text, non_empty, nullable, prop_str};
use super::purl::package_from_purl;
use super::title::title_line;
use crate::ingest::FormatError;
use crate::ingest::{source, timestamp};
use crate::model::scope::is_cluster_scoped;
use crate::model::{Artifact, Finding, FindingKind, Format, ObjectRef, Package, Report, Severity, Source};

const GROUPS: [&str; 3] = ["wgpolicyk8s.io", "reports.x-k8s.io", "openreports.io"];
const KINDS: [&str; 4] = ["PolicyReport", "ClusterPolicyReport", "Report", "ClusterReport"];
const ENGINE_LABELS: [&str; 3] =
    ["policy.kubernetes.io/engine", "wgpolicyk8s.io/engine", "app.kubernetes.io/managed-by"];

/// True for a policy report object (by `apiVersion` group and `kind`), or for a list of
/// them written without a `kind` (Kyverno's chainsaw `kubectl get -o yaml` output), which
/// the document dispatcher does not unwrap.
pub fn detect(v: &Value) -> bool {
    is_report_object(v) || is_kindless_report_list(v)
}

fn is_report_object(v: &Value) -> bool {
    let api_version = v.get("apiVersion").and_then(Value::as_str).unwrap_or("");
    let kind = v.get("kind").and_then(Value::as_str).unwrap_or("");
    let group = api_version.rsplit_once('/').map_or("", |(g, _)| g);
    GROUPS.contains(&group) && KINDS.contains(&kind)
}

fn is_kindless_report_list(v: &Value) -> bool {
    v.get("kind").is_none()
        && v.get("items")
            .and_then(Value::as_array)
            .is_some_and(|items| !items.is_empty() && items.iter().all(is_report_object))
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct PolicyReport {
    api_version: Option<String>,
    kind: Option<String>,
    #[serde(deserialize_with = "nullable")]
    metadata: Metadata,
    scope: Option<ResourceRef>,
    source: Option<Scalar>,
    // `results` are read one by one so an error names the result.
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct Metadata {
    name: Option<String>,
    namespace: Option<String>,
    creation_timestamp: Option<String>,
    /// Label and annotation values may be `null` (YAML `team:` with no value), read as
    /// empty as the API server does.
    #[serde(deserialize_with = "nullable")]
    labels: BTreeMap<String, Text>,
    #[serde(deserialize_with = "nullable")]
    annotations: BTreeMap<String, Text>,
    #[serde(deserialize_with = "nullable")]
    owner_references: Vec<OwnerReference>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct OwnerReference {
    kind: Option<String>,
    name: Option<String>,
    controller: Option<bool>,
}

#[derive(Deserialize, Default, Clone)]
#[serde(default, rename_all = "camelCase")]
struct ResourceRef {
    kind: Option<String>,
    namespace: Option<String>,
    name: Option<String>,
    field_path: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct PolicyResult {
    policy: Option<Scalar>,
    rule: Option<Scalar>,
    category: Option<Scalar>,
    severity: Option<Scalar>,
    result: Option<Scalar>,
    /// v1alpha1's name for `result`.
    status: Option<Scalar>,
    message: Option<String>,
    source: Option<Scalar>,
    #[serde(deserialize_with = "nullable")]
    resources: Vec<ResourceRef>,
    #[serde(deserialize_with = "nullable")]
    properties: Map<String, Value>,
    /// v1alpha1's name for `properties`.
    #[serde(deserialize_with = "nullable")]
    data: Map<String, Value>,
    timestamp: Option<ResultTime>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ResultTime {
    seconds: Option<i64>,
    nanos: Option<i64>,
}

/// How a result went.
#[derive(Copy, Clone, PartialEq, Eq)]
enum Outcome {
    Pass,
    Skip,
    Fail,
    Warn,
    Error,
    /// No result given (trivy adapter): reported as found.
    Missing,
}

impl Outcome {
    fn parse(text: Option<&str>) -> Result<Outcome, String> {
        let Some(t) = non_empty(text) else { return Ok(Outcome::Missing) };
        Ok(match t.to_ascii_lowercase().as_str() {
            "pass" | "passed" => Outcome::Pass,
            "skip" | "skipped" => Outcome::Skip,
            "fail" | "failed" | "failure" => Outcome::Fail,
            "warn" | "warning" => Outcome::Warn,
            "error" | "errored" => Outcome::Error,
            other => return Err(format!("unknown result {other:?} (expected pass, fail, warn, error or skip)")),
        })
    }

    fn default_severity(self) -> Severity {
        match self {
            Outcome::Fail => Severity::Medium,
            Outcome::Warn => Severity::Low,
            _ => Severity::Unknown,
        }
    }
}

/// Parses one policy report object (or a `kind`-less list of them: one report each).
pub fn parse(origin: &str, v: &Value) -> Result<Vec<Report>, FormatError> {
    if is_kindless_report_list(v) {
        let items = v.get("items").and_then(Value::as_array).map_or(&[][..], Vec::as_slice);
        return items
            .iter()
            .enumerate()
            .map(|(i, item)| parse_object(&format!("{origin}/items[{i}]"), item, &format!("items[{i}]")))
            .collect();
    }
    parse_object(origin, v, "").map(|r| vec![r])
}

/// Parses one report object; error messages name the field by its path below `at`
/// (`items[1]` in a list, `""` at the document root).
fn parse_object(origin: &str, v: &Value, at: &str) -> Result<Report, FormatError> {
    let doc: PolicyReport = typed(v, at)?;
    let results: &[Value] = match v.get("results") {
        None | Some(Value::Null) => &[],
        Some(Value::Array(r)) => r,
        Some(_) => return Err(FormatError::new(join(at, "results"), "expected an array")),
    };
    let group = doc.api_version.as_deref().and_then(|a| a.rsplit_once('/')).map_or("", |(g, _)| g);
    let format = if group == "openreports.io" { Format::OpenReports } else { Format::PolicyReport };
    let kind = doc.kind.as_deref().unwrap_or("");
    let namespaced = matches!(kind, "PolicyReport" | "Report");
    let report_ns = if namespaced { non_empty(doc.metadata.namespace.as_deref()) } else { None };

    let object = |r: &ResourceRef| -> Option<Artifact> {
        let kind = non_empty(r.kind.as_deref())?;
        let name = non_empty(r.name.as_deref())?;
        let ns = non_empty(r.namespace.as_deref()).or_else(|| if is_cluster_scoped(kind) { None } else { report_ns });
        Some(Artifact::Object(ObjectRef::new(kind, ns, name)))
    };
    let fallback = doc
        .scope
        .as_ref()
        .and_then(object)
        .or_else(|| {
            let owners = &doc.metadata.owner_references;
            let owner = owners.iter().find(|o| o.controller == Some(true)).or(owners.first())?;
            let kind = non_empty(owner.kind.as_deref())?;
            Some(Artifact::Object(ObjectRef::new(kind, report_ns, non_empty(owner.name.as_deref())?)))
        })
        .unwrap_or_else(|| Artifact::Other(Arc::from(origin)));

    let engine = non_empty(doc.source.as_deref())
        .or_else(|| ENGINE_LABELS.iter().find_map(|l| label(&doc.metadata.labels, l)))
        .map(str::to_string);
    let report_name = label(&doc.metadata.annotations, "name").unwrap_or("");
    let report_time = doc.metadata.creation_timestamp.as_deref().and_then(timestamp::parse);

    let default_scanner = if format == Format::OpenReports { "OpenReports" } else { "PolicyReport" };
    let mut sources: BTreeMap<String, Arc<Source>> = BTreeMap::new();
    let mut source_for =
        |name: &str| sources.entry(name.to_string()).or_insert_with(|| source(format, name, origin)).clone();

    let mut scanned: Vec<Artifact> = Vec::new();
    // `scanned` without duplicates, in first-seen order; a set, as a report may list tens
    // of thousands of resources.
    let mut scanned_set: HashSet<Artifact> = HashSet::new();
    let mut findings = Vec::new();
    let mut latest: Option<Timestamp> = None;
    let mut first_scanner: Option<String> = None;
    for (i, value) in results.iter().enumerate() {
        let path = join(at, &format!("results[{i}]"));
        let r: PolicyResult = typed(value, &path)?;
        let outcome = Outcome::parse(r.result.as_deref().or(r.status.as_deref()))
            .map_err(|e| FormatError::new(format!("{path}.result"), e))?;
        let props = if r.properties.is_empty() { &r.data } else { &r.properties };
        let kube_bench = props.contains_key("audit") && props.contains_key("index");

        let mut artifacts: Vec<(Artifact, Option<&str>)> =
            r.resources.iter().filter_map(|res| Some((object(res)?, non_empty(res.field_path.as_deref())))).collect();
        if artifacts.is_empty() {
            artifacts.push((pod_from_properties(props).unwrap_or_else(|| fallback.clone()), None));
        }
        for (a, _) in &artifacts {
            if scanned_set.insert(a.clone()) {
                scanned.push(a.clone());
            }
        }
        let seen = r.timestamp.as_ref().and_then(result_time);
        latest = latest.max(seen);

        let scanner = non_empty(r.source.as_deref())
            .map(str::to_string)
            .or_else(|| engine.clone())
            .or_else(|| kube_bench.then(|| "kube-bench".to_string()))
            .unwrap_or_else(|| default_scanner.to_string());
        first_scanner.get_or_insert_with(|| scanner.clone());
        // A pass or skip is a finding only when a Kyverno PolicyException caused it.
        let exempted_by = super::kyverno_exception::named_exceptions(props, r.message.as_deref());
        if matches!(outcome, Outcome::Pass | Outcome::Skip) && exempted_by.is_empty() {
            continue;
        }

        let policy = non_empty(r.policy.as_deref());
        let rule = non_empty(r.rule.as_deref());
        let category = non_empty(r.category.as_deref());
        let vuln_id = ["VulnerabilityID", "vulnerabilityID", "vulnerabilityId", "vulnerability_id"]
            .iter()
            .find_map(|k| prop_str(props, k))
            .or_else(|| rule.filter(|x| is_vulnerability_id(x)).map(str::to_string))
            .or_else(|| policy.filter(|x| is_vulnerability_id(x)).map(str::to_string));
        let category_lc = category.unwrap_or("").to_ascii_lowercase();
        let kind = if vuln_id.is_some() || category_lc.contains("vulnerab") {
            FindingKind::Vulnerability
        } else if kube_bench
            || is_benchmark(&scanner)
            || is_benchmark(&category_lc)
            || is_benchmark(report_name)
            || rule.or(policy).is_some_and(is_config_check_id)
        {
            FindingKind::Misconfiguration
        } else {
            FindingKind::Policy
        };

        let bench_index = prop_str(props, "index").filter(|x| is_dotted_number(x));
        let id = match (&vuln_id, rule, policy) {
            (Some(v), _, _) => v.clone(),
            (None, Some(rule), _) if is_check_id(rule) => rule.to_string(),
            _ if bench_index.is_some() && [rule, policy].iter().flatten().any(|t| t.contains(' ')) => {
                bench_index.clone().unwrap_or_default()
            }
            (None, Some(rule), Some(policy)) if rule != policy => format!("{policy}/{rule}"),
            (None, Some(rule), None) => rule.to_string(),
            (None, _, Some(policy)) => policy.to_string(),
            (None, None, None) => category.unwrap_or("unknown").to_string(),
        };
        let title = non_empty(r.message.as_deref())
            .and_then(title_line)
            .or_else(|| policy.and_then(title_line))
            .unwrap_or_else(|| id.clone());
        let title =
            if exempted_by.is_empty() { title } else { super::kyverno_exception::exemption_title(&id, &exempted_by) };
        let severity = [r.severity.as_ref().map(|t| t.0.clone()), prop_str(props, "severity")]
            .into_iter()
            .flatten()
            .map(|s| Severity::parse(&s))
            .find(|s| *s != Severity::Unknown)
            .unwrap_or_else(|| outcome.default_severity());
        let package = (kind == FindingKind::Vulnerability).then(|| package(props, category)).flatten();
        let primary_url = ["PrimaryURL", "primaryURL", "primaryLink", "primaryUrl", "url"]
            .iter()
            .find_map(|k| prop_str(props, k))
            .filter(|u| u.starts_with("http"));

        let src = source_for(&scanner);
        for (artifact, field_path) in artifacts {
            let mut f = Finding::new(kind, &id, severity, &title, artifact, src.clone());
            f.package = package.clone();
            f.location = field_path.map(Arc::from);
            f.primary_url = primary_url.as_deref().map(Arc::from);
            f.first_seen = seen.or(report_time);
            if !exempted_by.is_empty() {
                f.vex = Some(super::kyverno_exception::exemption(&exempted_by));
            }
            findings.push(f);
        }
    }
    if scanned.is_empty() {
        scanned.push(fallback);
    }

    let report_scanner = engine.or(first_scanner).unwrap_or_else(|| default_scanner.to_string());
    let mut report = Report::new(source_for(&report_scanner));
    report.scanned = scanned;
    report.scanned_at = latest.or(report_time);
    report.findings = findings;
    Ok(report)
}

/// The pod runtime engines name in a result's properties when they give no `resources`
/// (KubeArmor: `pod_name` + `namespace_name`; Falco: `k8s.pod.name` + `k8s.ns.name`).
fn pod_from_properties(props: &Map<String, Value>) -> Option<Artifact> {
    let get = |keys: &[&str]| keys.iter().find_map(|k| prop_str(props, k));
    let name = get(&["pod_name", "k8s.pod.name", "podName"])?;
    let namespace = get(&["namespace_name", "k8s.ns.name", "podNamespace"]);
    Some(Artifact::Object(ObjectRef::new("Pod", namespace.as_deref(), &name)))
}

fn result_time(t: &ResultTime) -> Option<Timestamp> {
    let seconds = t.seconds.filter(|s| *s > 0)?;
    let nanos = t.nanos.filter(|n| (0..1_000_000_000).contains(n)).unwrap_or(0);
    Timestamp::new(seconds, nanos as i32).ok()
}

fn package(props: &Map<String, Value>, category: Option<&str>) -> Option<Package> {
    let get = |keys: &[&str]| keys.iter().find_map(|k| prop_str(props, k));
    let purl = get(&["purl", "PkgPURL", "pkgPURL", "PURL"]);
    let from_purl = purl.as_deref().and_then(package_from_purl);
    let name = get(&["PkgName", "pkgName", "packageName", "package", "resource"])
        .or_else(|| category.filter(|c| !c.to_ascii_lowercase().contains("vulnerab")).map(str::to_string))
        .map(|n| Arc::<str>::from(n.as_str()))
        .or_else(|| from_purl.as_ref().map(|p| p.name.clone()))?;
    Some(Package {
        purl: from_purl.as_ref().and_then(|p| p.purl.clone()),
        name,
        installed_version: get(&["InstalledVersion", "installedVersion", "installed_version", "installed-version"])
            .map(|v| Arc::from(v.as_str()))
            .or_else(|| from_purl.as_ref().and_then(|p| p.installed_version.clone())),
        fixed_version: get(&["FixedVersion", "fixedVersion", "fixed_version", "fixed-version"])
            .map(|v| Arc::from(v.as_str())),
    })
}

fn label<'a>(map: &'a BTreeMap<String, Text>, key: &str) -> Option<&'a str> {
    map.get(key).and_then(Text::get)
}

/// Benchmark and compliance scanners: kube-bench, a `cis` token (`kube-cis`,
/// `CIS Kubernetes Benchmarks`), "benchmark", the OpenShift compliance operator.
fn is_benchmark(text: &str) -> bool {
    let t = text.to_ascii_lowercase();
    t.contains("kube-bench")
        || t.contains("benchmark")
        || t.contains("compliance-operator")
        || t.split(|c: char| !c.is_ascii_alphanumeric()).any(|w| w == "cis")
}

/// A globally meaningful check id rather than a rule name scoped to its policy.
pub(crate) fn is_check_id(id: &str) -> bool {
    if id.is_empty() || id.chars().any(char::is_whitespace) {
        return false;
    }
    is_dotted_number(id)
        || (id.chars().any(|c| c.is_ascii_digit())
            && id.chars().any(|c| c.is_ascii_uppercase())
            && id.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':')))
}

fn is_dotted_number(s: &str) -> bool {
    !s.is_empty() && s.split('.').all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn one(v: Value) -> Report {
        parse("pr.yaml", &v).expect("parses").remove(0)
    }

    #[test]
    fn detects_by_group_and_kind() {
        let d = |a: &str, k: &str| detect(&json!({"apiVersion": a, "kind": k}));
        assert!(d("wgpolicyk8s.io/v1alpha2", "PolicyReport"));
        assert!(d("wgpolicyk8s.io/v1alpha1", "ClusterPolicyReport"));
        assert!(d("reports.x-k8s.io/v1beta2", "PolicyReport"));
        assert!(d("openreports.io/v1alpha1", "Report"));
        assert!(d("openreports.io/v1alpha1", "ClusterReport"));
        assert!(!d("aquasecurity.github.io/v1alpha1", "VulnerabilityReport"));
        assert!(!d("wgpolicyk8s.io/v1alpha2", "PolicyReportList"));
        assert!(!d("v1", "ConfigMap"));
    }

    #[test]
    fn malformed_input_names_the_field() {
        let base = |results: Value| json!({"apiVersion": "wgpolicyk8s.io/v1alpha2", "kind": "PolicyReport", "results": results});
        let e = parse("x", &base(json!({"a": 1}))).unwrap_err().to_string();
        assert!(e.starts_with("results:"), "{e}");
        let e = parse("x", &base(json!([{"policy": "p", "result": "fail"}, {"policy": "p", "resources": "pod"}])))
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("results[1].resources:"), "{e}");
        let e = parse("x", &base(json!([{"policy": "p", "result": "exploded"}]))).unwrap_err().to_string();
        assert!(e.starts_with("results[0].result:") && e.contains("exploded"), "{e}");
        let mut v = base(json!([]));
        v["metadata"] = json!({"labels": ["x"]});
        let e = parse("x", &v).unwrap_err().to_string();
        assert!(e.starts_with("metadata.labels:"), "{e}");
        let mut v = base(json!([]));
        v["scope"] = json!("Pod/x");
        assert!(parse("x", &v).unwrap_err().to_string().starts_with("scope:"));
    }

    #[test]
    fn defaults_resources_and_ids() {
        let v = json!({
            "apiVersion": "wgpolicyk8s.io/v1alpha2", "kind": "PolicyReport",
            "metadata": {"name": "r", "namespace": "shop"},
            "results": [
                {"policy": "require-labels", "rule": "check-team", "result": "fail",
                 "resources": [{"kind": "Deployment", "name": "a"}, {"kind": "Namespace", "name": "shop"},
                               {"kind": "Pod", "name": "p", "namespace": "other", "fieldPath": "spec.containers[0]"}],
                 "timestamp": {"seconds": 1700000000, "nanos": 5_000_000_000_i64}},
                {"policy": "p2", "rule": "KSV012", "result": "warn", "severity": "weird"},
                {"policy": "p3", "result": "error", "source": "falco", "properties": {"severity": "high"}},
                {"policy": "p4", "result": "skip", "resources": [{"kind": "Pod", "name": "skipped"}]},
                {"policy": "p5", "status": "fail", "rule": "p5", "resources": [{"kind": "Pod"}]},
                {"policy": "CVE-2021-44228", "result": "fail", "severity": null, "category": "log4j-core"}
            ]
        });
        let r = one(v);
        let f = &r.findings;
        assert_eq!(f.len(), 7);
        let objs: Vec<String> = f[..3].iter().map(|x| x.artifact.to_string()).collect();
        assert_eq!(objs, ["object:Deployment/shop/a", "object:Namespace/shop", "object:Pod/other/p"]);
        assert!(f[..3].iter().all(|x| &*x.id == "require-labels/check-team" && x.severity == Severity::Medium));
        assert_eq!(f[2].location.as_deref(), Some("spec.containers[0]"));
        assert_eq!(f[0].first_seen.unwrap().as_second(), 1700000000);
        assert_eq!((&*f[3].id, f[3].kind, f[3].severity), ("KSV012", FindingKind::Misconfiguration, Severity::Low));
        assert_eq!((&*f[4].id, f[4].severity, &*f[4].sources[0].scanner), ("p3", Severity::High, "falco"));
        // No namespace, no scope, no owner: the document itself.
        assert_eq!(*f[4].artifact, Artifact::Other(Arc::from("pr.yaml")));
        assert_eq!((&*f[5].id, f[5].kind), ("p5", FindingKind::Policy));
        assert_eq!((&*f[6].id, f[6].kind), ("CVE-2021-44228", FindingKind::Vulnerability));
        assert_eq!(&*f[6].package.as_ref().unwrap().name, "log4j-core");
        assert!(r.scanned.contains(&Artifact::Object(ObjectRef::new("Pod", Some("shop"), "skipped"))));
        assert_eq!(&*r.source.scanner, "PolicyReport");
        assert_eq!(r.source.format, Format::PolicyReport);
    }

    #[test]
    fn kindless_lists_and_runtime_pods() {
        let item = |name: &str| {
            json!({"apiVersion": "wgpolicyk8s.io/v1alpha2", "kind": "PolicyReport", "metadata": {"namespace": "ns"},
                   "results": [{"policy": name, "result": "fail", "source": "KubeArmor",
                                "properties": {"pod_name": "web-1", "namespace_name": "shop"}}]})
        };
        let list = json!({"apiVersion": "v1", "items": [item("a"), item("b")]});
        assert!(detect(&list));
        assert!(!detect(&json!({"apiVersion": "v1", "items": [item("a"), {"kind": "Pod"}]})));
        let reports = parse("l.yaml", &list).unwrap();
        assert_eq!(reports.len(), 2);
        assert_eq!(&*reports[1].findings[0].sources[0].origin, "l.yaml/items[1]");
        assert_eq!(reports[0].findings[0].artifact.to_string(), "object:Pod/shop/web-1");
        let mut bad = list.clone();
        bad["items"][1]["results"] = json!("x");
        assert!(parse("l.yaml", &bad).unwrap_err().to_string().starts_with("items[1].results:"));
    }

    #[test]
    fn error_paths_join_below_list_items() {
        let item = json!({"apiVersion": "wgpolicyk8s.io/v1alpha2", "kind": "PolicyReport",
                          "results": [{"policy": "p", "result": "fail"}]});
        let list = |bad: Value| json!({"items": [item.clone(), bad]});
        let mut bad = item.clone();
        bad["metadata"] = json!({"labels": ["x"]});
        let e = parse("l", &list(bad)).unwrap_err().to_string();
        assert!(e.starts_with("items[1].metadata.labels: invalid type"), "{e}");
        let mut bad = item.clone();
        bad["results"][0]["result"] = json!("exploded");
        let e = parse("l", &list(bad)).unwrap_err().to_string();
        assert!(e.starts_with("items[1].results[0].result: unknown result"), "{e}");
        // An error without a field path of its own reads `items[1]: …`, not `items[1].invalid …`.
        let e = parse_object("l", &json!(7), "items[1]").unwrap_err().to_string();
        assert!(e.starts_with("items[1]: invalid type: integer `7`"), "{e}");
        let e = parse_object("l", &json!(7), "").unwrap_err().to_string();
        assert!(e.starts_with("invalid type: integer `7`"), "{e}");
    }

    #[test]
    fn null_label_and_annotation_values_are_empty() {
        // YAML `labels: {team: }` is a null value: it used to fail the whole report.
        let v: Value = serde_yaml::from_str(
            "apiVersion: wgpolicyk8s.io/v1alpha2\nkind: PolicyReport\nmetadata:\n  name: r\n  namespace: ns\n  \
             labels: {team: , app.kubernetes.io/managed-by: kyverno}\n  annotations: {name: , note: ~}\n\
             results: [{policy: p, result: fail}]\n",
        )
        .unwrap();
        let r = one(v);
        assert_eq!(r.findings.len(), 1);
        assert_eq!(&*r.source.scanner, "kyverno");
        let mut v = json!({"apiVersion": "wgpolicyk8s.io/v1alpha2", "kind": "PolicyReport",
                           "metadata": {"labels": {"policy.kubernetes.io/engine": null}}, "results": []});
        assert_eq!(&*one(v.clone()).source.scanner, "PolicyReport");
        v["metadata"]["labels"] = json!({"team": {"a": 1}});
        assert!(parse("x", &v).unwrap_err().to_string().starts_with("metadata.labels.team:"));
    }

    #[test]
    fn non_ascii_policy_and_rule_names() {
        // `is_vulnerability_id` sliced `id[..5]` by bytes: `ééé` panicked.
        let v = json!({"apiVersion": "wgpolicyk8s.io/v1alpha2", "kind": "PolicyReport",
                       "results": [{"policy": "ééé", "rule": "ééé", "result": "fail"},
                                   {"policy": "规则-一", "rule": "检查", "result": "fail"}]});
        let r = one(v);
        assert_eq!(&*r.findings[0].id, "ééé");
        assert_eq!(&*r.findings[1].id, "规则-一/检查");
        assert!(r.findings.iter().all(|f| f.kind == FindingKind::Policy));
    }
}
