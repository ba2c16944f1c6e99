//! Trivy Operator custom resources (`aquasecurity.github.io/v1alpha1`): vulnerability,
//! config-audit, RBAC / infra assessment, exposed-secret and SBOM reports, namespaced and
//! cluster-scoped. One [`Report`] per CR.
//!
//! Quirks of the real objects handled here:
//! - The scanned resource is named by the labels `trivy-operator.resource.{kind,name,namespace}`;
//!   when the name is not a valid label value the operator sets `…resource.name-hash` and
//!   puts the name in the *annotation* `trivy-operator.resource.name`. Hand-made or older
//!   reports may have neither: then the controlling owner reference names it.
//! - `report.registry.server` is `index.docker.io` for Docker Hub images and may be absent
//!   (the SBOM docs' sample); the embedded BOM's `aquasecurity:trivy:RepoTag` then says
//!   which registry it was.
//! - In SBOM reports `report.artifact.digest` can be the image *config* digest
//!   (`aquasecurity:trivy:ImageID`), which no runtime pulls by; the BOM's
//!   `aquasecurity:trivy:RepoDigest` holds the manifest digest.
//! - `fixedVersion` is `""` when there is no fix, and sometimes a comma-separated list.
//! - Config-audit checks are named `checkID` (older reports: `id`).
//! - `secrets[].match` is the matched (masked) secret line: never copied.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use serde::Deserialize;
use serde_json::Value;

use super::timestamp;
use super::trivy_json::{Num, Text, arc, best_v3, items, join, typed};
use crate::model::{
    Artifact, Component, Finding, FindingKind, Format, ImageRef, ObjectRef, Package, PurlParts, Report, Severity,
};

/// The API group of Trivy Operator's CRDs.
pub const GROUP: &str = "aquasecurity.github.io";
/// Label naming the kind of the scanned resource.
pub const LABEL_KIND: &str = "trivy-operator.resource.kind";
/// Label (or, for names that are not valid label values, annotation) naming the resource.
pub const LABEL_NAME: &str = "trivy-operator.resource.name";
/// Label naming the resource's namespace (empty for cluster-scoped resources).
pub const LABEL_NAMESPACE: &str = "trivy-operator.resource.namespace";
/// Label naming the container whose image was scanned.
pub const LABEL_CONTAINER: &str = "trivy-operator.container.name";

/// What a report kind contains.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Family {
    Vulnerabilities,
    Checks,
    Secrets,
    Sbom,
    Compliance,
}

fn family(kind: &str) -> Option<Family> {
    Some(match kind {
        "VulnerabilityReport" | "ClusterVulnerabilityReport" => Family::Vulnerabilities,
        "ConfigAuditReport"
        | "ClusterConfigAuditReport"
        | "RbacAssessmentReport"
        | "ClusterRbacAssessmentReport"
        | "InfraAssessmentReport"
        | "ClusterInfraAssessmentReport" => Family::Checks,
        // No ClusterExposedSecretReport CRD ships with trivy-operator today; accepted should
        // one appear, it has the namespaced report's shape.
        "ExposedSecretReport" | "ClusterExposedSecretReport" => Family::Secrets,
        "SbomReport" | "ClusterSbomReport" => Family::Sbom,
        "ClusterComplianceReport" => Family::Compliance,
        _ => return None,
    })
}

/// True for a Trivy Operator report object (`aquasecurity.github.io/*`, a report kind).
pub fn detect(v: &Value) -> bool {
    let api_version = v.get("apiVersion").and_then(Value::as_str).unwrap_or("");
    let kind = v.get("kind").and_then(Value::as_str).unwrap_or("");
    api_version.split_once('/').is_some_and(|(group, _)| group == GROUP) && family(kind).is_some()
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase", expecting = "an object")]
struct Meta {
    name: Text,
    namespace: Text,
    creation_timestamp: Text,
    labels: Option<BTreeMap<String, Text>>,
    annotations: Option<BTreeMap<String, Text>>,
    owner_references: Option<Vec<OwnerRef>>,
}

#[derive(Deserialize, Default)]
#[serde(default, expecting = "an owner reference object")]
struct OwnerRef {
    kind: Text,
    name: Text,
    controller: Option<bool>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase", expecting = "an object")]
struct Body {
    artifact: Option<Value>,
    registry: Option<Value>,
    scanner: Option<Value>,
    update_timestamp: Text,
    vulnerabilities: Option<Vec<Value>>,
    checks: Option<Vec<Value>>,
    secrets: Option<Vec<Value>>,
    components: Option<Value>,
}

#[derive(Deserialize, Default)]
#[serde(default, expecting = "an object")]
struct ArtifactDoc {
    repository: Text,
    tag: Text,
    digest: Text,
}

#[derive(Deserialize, Default)]
#[serde(default, expecting = "an object")]
struct RegistryDoc {
    server: Text,
}

#[derive(Deserialize, Default)]
#[serde(default, expecting = "an object")]
struct ScannerDoc {
    name: Text,
    version: Text,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase", expecting = "a vulnerability object")]
struct VulnCr {
    #[serde(rename = "vulnerabilityID")]
    vulnerability_id: Text,
    resource: Text,
    installed_version: Text,
    fixed_version: Text,
    severity: Text,
    title: Text,
    primary_link: Text,
    published_date: Text,
    target: Text,
    package_path: Text,
    #[serde(rename = "packagePURL")]
    package_purl: Text,
    #[serde(rename = "pkgPURL")]
    pkg_purl: Text,
    score: Num,
    cvss: Option<BTreeMap<String, Value>>,
}

#[derive(Deserialize, Default)]
#[serde(default, expecting = "a check object")]
struct CheckCr {
    #[serde(rename = "checkID")]
    check_id: Text,
    id: Text,
    title: Text,
    severity: Text,
    messages: Option<Vec<Text>>,
    scope: Option<Scope>,
    success: Option<bool>,
}

#[derive(Deserialize, Default)]
#[serde(default, expecting = "an object")]
struct Scope {
    #[serde(rename = "type")]
    ty: Text,
    value: Text,
}

/// An exposed secret. `match` is deliberately not read: it is the secret.
#[derive(Deserialize, Default)]
#[serde(default, expecting = "a secret object")]
struct SecretCr {
    #[serde(rename = "ruleID")]
    rule_id: Text,
    title: Text,
    severity: Text,
    target: Text,
}

#[derive(Deserialize, Default)]
#[serde(default, expecting = "a CycloneDX BOM object")]
struct Bom {
    components: Option<Vec<Value>>,
    metadata: Option<BomMetadata>,
}

#[derive(Deserialize, Default)]
#[serde(default, expecting = "an object")]
struct BomMetadata {
    component: Option<Value>,
}

#[derive(Deserialize, Default)]
#[serde(default, expecting = "a CycloneDX component object")]
struct BomComponent {
    name: Text,
    group: Text,
    version: Text,
    purl: Text,
    licenses: Option<Vec<LicenseChoice>>,
    /// Checked to be a list; walked from the original value.
    #[allow(dead_code)]
    components: Option<Vec<Value>>,
    properties: Option<Vec<Property>>,
}

#[derive(Deserialize, Default)]
#[serde(default, expecting = "a CycloneDX license choice")]
struct LicenseChoice {
    license: Option<LicenseDoc>,
    expression: Text,
}

#[derive(Deserialize, Default)]
#[serde(default, expecting = "an object")]
struct LicenseDoc {
    id: Text,
    name: Text,
}

#[derive(Deserialize, Default)]
#[serde(default, expecting = "a name/value property")]
struct Property {
    name: Text,
    value: Text,
}

/// Parses one Trivy Operator report object.
pub fn parse(origin: &str, v: &Value) -> Result<Vec<Report>, String> {
    let kind = v.get("kind").and_then(Value::as_str).unwrap_or("");
    let Some(fam) = family(kind) else {
        return Err(format!("kind: {kind:?} is not a Trivy Operator report kind"));
    };
    if fam == Family::Compliance {
        // A ClusterComplianceReport summarises other reports' checks against a framework
        // (CIS, NSA, PSS): pass/fail counts per control, not findings of its own.
        return Ok(Vec::new());
    }
    let meta: Meta = typed(v.get("metadata"), "metadata")?;
    let Some(report_value) = v.get("report").filter(|r| !r.is_null()) else {
        return Err("report: missing".into());
    };
    let body: Body = typed(Some(report_value), "report")?;

    let resource = resource_ref(&meta);
    let scanner_doc: ScannerDoc = typed(body.scanner.as_ref(), "report.scanner")?;
    let artifact_doc: ArtifactDoc = typed(body.artifact.as_ref(), "report.artifact")?;
    let registry_doc: RegistryDoc = typed(body.registry.as_ref(), "report.registry")?;
    let scanner_name = scanner_doc.name.get().unwrap_or("Trivy");
    let scanner = match scanner_doc.version.get() {
        Some(version) => format!("{scanner_name} {version}"),
        None => scanner_name.to_string(),
    };
    let container = meta.labels.as_ref().and_then(|l| l.get(LABEL_CONTAINER)).and_then(Text::get);
    let source = super::workload_source(Format::TrivyOperator, &scanner, origin, resource.clone(), container);
    let scanned_at = body.update_timestamp.get().and_then(timestamp::parse);
    let first_seen = meta.creation_timestamp.get().and_then(timestamp::parse).or(scanned_at);

    let mut report = Report::new(source.clone());
    report.scanned_at = scanned_at;
    let new_finding = |kind: FindingKind, id: &str, severity: &Text, title: &Text, artifact: &Artifact| {
        let mut f = Finding::new(
            kind,
            id,
            Severity::parse(severity.get().unwrap_or("")),
            title.get().unwrap_or(id),
            artifact.clone(),
            source.clone(),
        );
        f.first_seen = first_seen;
        f
    };

    match fam {
        Family::Vulnerabilities => {
            let image = Artifact::Image(image(&artifact_doc, &registry_doc, None)?);
            for (i, item) in items(&body.vulnerabilities) {
                let path = format!("report.vulnerabilities[{i}]");
                let vc: VulnCr = typed(Some(item), &path)?;
                let id =
                    vc.vulnerability_id.get().ok_or_else(|| format!("{}: missing", join(&path, "vulnerabilityID")))?;
                let mut f = new_finding(FindingKind::Vulnerability, id, &vc.severity, &vc.title, &image);
                f.prefer_cve_id();
                f.cvss = match vc.score.get() {
                    Some(score) => Some(score as f32),
                    None => best_v3(&vc.cvss, &join(&path, "cvss"))?,
                };
                if let Some(name) = vc.resource.get() {
                    f.package = Some(Package {
                        purl: arc(&vc.package_purl).or_else(|| arc(&vc.pkg_purl)),
                        name: Arc::from(name),
                        installed_version: arc(&vc.installed_version),
                        fixed_version: arc(&vc.fixed_version),
                    });
                }
                f.primary_url = arc(&vc.primary_link);
                f.published = vc.published_date.get().and_then(timestamp::parse);
                f.location = arc(&vc.package_path).or_else(|| arc(&vc.target));
                report.findings.push(f);
            }
            report.scanned = vec![image];
        }
        Family::Checks => {
            let object = resource.clone().map_or_else(
                || Artifact::Other(Arc::from(format!("{kind}/{}", meta.name.get().unwrap_or("unknown")))),
                Artifact::Object,
            );
            for (i, item) in items(&body.checks) {
                let path = format!("report.checks[{i}]");
                let check: CheckCr = typed(Some(item), &path)?;
                // A listed check without `success` has not been shown to pass.
                if check.success == Some(true) {
                    continue;
                }
                let id = check
                    .check_id
                    .get()
                    .or(check.id.get())
                    .ok_or_else(|| format!("{}: missing", join(&path, "checkID")))?;
                let mut f = new_finding(FindingKind::Misconfiguration, id, &check.severity, &check.title, &object);
                let messages: Vec<&str> = check.messages.iter().flatten().filter_map(Text::get).collect();
                f.location = if messages.is_empty() {
                    check.scope.as_ref().and_then(|s| match (s.ty.get(), s.value.get()) {
                        (Some(t), Some(v)) => Some(Arc::from(format!("{t} {v}"))),
                        (None, Some(v)) => Some(Arc::from(v)),
                        _ => None,
                    })
                } else {
                    Some(Arc::from(messages.join("; ")))
                };
                report.findings.push(f);
            }
            report.scanned = vec![object];
        }
        Family::Secrets => {
            let image = Artifact::Image(image(&artifact_doc, &registry_doc, None)?);
            for (i, item) in items(&body.secrets) {
                let path = format!("report.secrets[{i}]");
                let sc: SecretCr = typed(Some(item), &path)?;
                let id = sc.rule_id.get().ok_or_else(|| format!("{}: missing", join(&path, "ruleID")))?;
                let mut f = new_finding(FindingKind::Secret, id, &sc.severity, &sc.title, &image);
                f.location = arc(&sc.target);
                report.findings.push(f);
            }
            report.scanned = vec![image];
        }
        Family::Sbom => {
            let bom_path = "report.components";
            let bom: Bom = typed(body.components.as_ref(), bom_path)?;
            let refs = bom_image_refs(&bom, bom_path)?;
            report.scanned = vec![Artifact::Image(image(&artifact_doc, &registry_doc, Some(&refs))?)];
            report.components = Some(flatten_components(&bom, bom_path)?);
        }
        Family::Compliance => {}
    }
    Ok(vec![report])
}

/// The scanned resource: labels first, then the name annotation (names that are not valid
/// label values), then the controlling owner reference and the report's own namespace.
fn resource_ref(meta: &Meta) -> Option<ObjectRef> {
    let labels = meta.labels.as_ref();
    let label = |k: &str| labels.and_then(|l| l.get(k)).and_then(Text::get);
    let annotation = |k: &str| meta.annotations.as_ref().and_then(|a| a.get(k)).and_then(Text::get);
    let owner = meta.owner_references.iter().flatten().find(|o| o.controller == Some(true));
    let owner_kind = owner.and_then(|o| o.kind.get());
    let kind = label(LABEL_KIND).or(owner_kind)?;
    let owner_name = owner.filter(|_| owner_kind == Some(kind)).and_then(|o| o.name.get());
    let name = label(LABEL_NAME).or_else(|| annotation(LABEL_NAME)).or(owner_name)?;
    // An empty namespace label means a cluster-scoped resource: no fallback then.
    let namespace = match labels.and_then(|l| l.get(LABEL_NAMESPACE)) {
        Some(ns) => ns.get(),
        None => meta.namespace.get(),
    };
    Some(ObjectRef::new(kind, namespace, name))
}

/// Image references the embedded BOM's root component states (Trivy's properties).
#[derive(Default)]
struct BomRefs {
    /// `aquasecurity:trivy:RepoTag` and `…:RepoDigest` values that parse.
    names: Vec<ImageRef>,
    /// `aquasecurity:trivy:ImageID`: the config digest.
    image_id: Option<String>,
}

fn bom_image_refs(bom: &Bom, path: &str) -> Result<BomRefs, String> {
    let mut refs = BomRefs::default();
    let Some(root) = bom.metadata.as_ref().and_then(|m| m.component.as_ref()) else { return Ok(refs) };
    let root: BomComponent = typed(Some(root), &join(path, "metadata.component"))?;
    for p in root.properties.iter().flatten() {
        let (Some(name), Some(value)) = (p.name.get(), p.value.get()) else { continue };
        match name {
            "aquasecurity:trivy:RepoTag" | "aquasecurity:trivy:RepoDigest" => {
                refs.names.extend(value.split(',').filter_map(|v| ImageRef::parse(v).ok()));
            }
            "aquasecurity:trivy:ImageID" => refs.image_id = Some(value.to_string()),
            _ => {}
        }
    }
    Ok(refs)
}

/// The scanned image from `report.registry` and `report.artifact`, completed from the
/// SBOM's own statements where the CR's are missing or are the config digest.
fn image(art: &ArtifactDoc, registry: &RegistryDoc, bom: Option<&BomRefs>) -> Result<ImageRef, String> {
    let Some(repository) = art.repository.get() else {
        // SBOM reports name the image in the BOM too.
        if let Some(first) = bom.and_then(|b| b.names.first()) {
            let mut img = first.clone();
            if img.digest.is_none() {
                img.digest = bom.and_then(|b| same_repo(&b.names, &img)).and_then(|r| r.digest.clone());
            }
            return Ok(img);
        }
        return Err("report.artifact.repository: missing".into());
    };
    let tag = art.tag.get();
    let digest = art.digest.get();
    let server = registry.server.get();
    let mut img = ImageRef::from_parts(server.unwrap_or(""), repository, tag, digest);
    let Some(bom) = bom else { return Ok(img) };
    if server.is_none()
        && let Some(named) = bom.names.iter().find(|n| {
            ImageRef::from_parts(&n.registry, repository, None, None).repository == n.repository
                && n.registry != img.registry
        })
    {
        img = ImageRef::from_parts(&named.registry, repository, tag, digest);
    }
    if img.digest.is_some() && img.digest.as_deref() == bom.image_id.as_deref() {
        img.digest = same_repo(&bom.names, &img).and_then(|r| r.digest.clone());
    }
    if img.digest.is_none() {
        img.digest = same_repo(&bom.names, &img).and_then(|r| r.digest.clone());
    }
    Ok(img)
}

/// The first reference with a digest of the same registry and repository as `img`.
fn same_repo<'a>(names: &'a [ImageRef], img: &ImageRef) -> Option<&'a ImageRef> {
    names.iter().find(|n| n.digest.is_some() && n.registry == img.registry && n.repository == img.repository)
}

/// Every component of the BOM, nested ones included, in document order (exact
/// duplicates once).
fn flatten_components(bom: &Bom, path: &str) -> Result<Vec<Component>, String> {
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    // Depth-first with an explicit stack, so deep nesting cannot overflow ours.
    let mut stack: Vec<(String, &Value)> =
        items(&bom.components).map(|(i, v)| (format!("{path}.components[{i}]"), v)).collect();
    stack.reverse();
    while let Some((p, v)) = stack.pop() {
        let c: BomComponent = typed(Some(v), &p)?;
        // `c.components` is a copy; walk the original values (already checked to be a list).
        let children = v.get("components").and_then(Value::as_array).into_iter().flatten().enumerate();
        let children: Vec<(String, &Value)> = children.map(|(i, ch)| (format!("{p}.components[{i}]"), ch)).collect();
        stack.extend(children.into_iter().rev());
        let Some(name) = c.name.get() else { continue };
        let purl = c.purl.get();
        let name = match c.group.get() {
            Some(group) => {
                let maven = purl.and_then(PurlParts::parse).is_some_and(|p| p.ty == "maven");
                if maven { format!("{group}:{name}") } else { format!("{group}/{name}") }
            }
            None => name.to_string(),
        };
        let licenses = c
            .licenses
            .iter()
            .flatten()
            .filter_map(|l| {
                let lic = l.license.as_ref();
                lic.and_then(|x| x.id.get()).or_else(|| lic.and_then(|x| x.name.get())).or(l.expression.get())
            })
            .map(Arc::from)
            .collect();
        let component =
            Component { name: Arc::from(name), version: arc(&c.version), purl: purl.map(Arc::from), licenses };
        if seen.insert(component.clone()) {
            out.push(component);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn vuln_cr(report: Value) -> Value {
        json!({
            "apiVersion": "aquasecurity.github.io/v1alpha1",
            "kind": "VulnerabilityReport",
            "metadata": {"name": "r", "namespace": "shop",
                "labels": {"trivy-operator.resource.kind": "Deployment", "trivy-operator.resource.name": "web",
                           "trivy-operator.container.name": "app"}},
            "report": report,
        })
    }

    #[test]
    fn detect_needs_group_and_report_kind() {
        assert!(detect(&vuln_cr(json!({}))));
        assert!(!detect(&json!({"apiVersion": "aquasecurity.github.io/v1alpha1", "kind": "Foo"})));
        assert!(!detect(&json!({"apiVersion": "example.com/v1", "kind": "VulnerabilityReport"})));
        assert!(!detect(&json!({"kind": "VulnerabilityReport"})));
    }

    #[test]
    fn missing_optional_fields_are_fine() {
        let v = vuln_cr(json!({"artifact": {"repository": "acme/web"},
            "vulnerabilities": [{"vulnerabilityID": "CVE-2024-1", "resource": "openssl", "fixedVersion": ""}]}));
        let r = parse("t", &v).unwrap().pop().unwrap();
        assert_eq!(&*r.source.scanner, "Trivy");
        assert_eq!(r.source.workload.as_ref().unwrap().to_string(), "Deployment/shop/web");
        assert_eq!(r.source.container.as_deref(), Some("app"));
        assert_eq!(r.scanned[0].to_string(), "image:docker.io/acme/web");
        assert!(r.scanned_at.is_none());
        let f = &r.findings[0];
        assert_eq!((&*f.title, f.severity, f.cvss), ("CVE-2024-1", Severity::Unknown, None));
        assert_eq!(f.package.as_ref().unwrap().fixed_version, None);
        assert_eq!(f.location, None);
    }

    #[test]
    fn wrong_field_types_name_the_field() {
        let e = parse(
            "t",
            &vuln_cr(json!({"artifact": {"repository": "a"}, "vulnerabilities": [
            {"vulnerabilityID": "CVE-1", "score": "high"}]})),
        )
        .unwrap_err();
        assert!(e.starts_with("report.vulnerabilities[0].score:"), "{e}");
        let e = parse("t", &vuln_cr(json!({"artifact": {"repository": ["a"]}}))).unwrap_err();
        assert!(e.starts_with("report.artifact.repository:"), "{e}");
        let e = parse(
            "t",
            &vuln_cr(json!({"artifact": {"repository": "a"}, "vulnerabilities": [
            {"vulnerabilityID": "CVE-1", "cvss": {"nvd": {"V3Score": [9]}}}]})),
        )
        .unwrap_err();
        assert!(e.starts_with("report.vulnerabilities[0].cvss.nvd.V3Score:"), "{e}");
        let e =
            parse("t", &vuln_cr(json!({"artifact": {"repository": "a"}, "vulnerabilities": {"x": 1}}))).unwrap_err();
        assert!(e.starts_with("report.vulnerabilities:"), "{e}");
        let e = parse("t", &vuln_cr(json!({"vulnerabilities": []}))).unwrap_err();
        assert_eq!(e, "report.artifact.repository: missing");
        let e = parse("t", &vuln_cr(json!({"artifact": {"repository": "a"}, "vulnerabilities": [{"resource": "x"}]})))
            .unwrap_err();
        assert_eq!(e, "report.vulnerabilities[0].vulnerabilityID: missing");
        let mut no_report = vuln_cr(json!(null));
        assert_eq!(parse("t", &no_report).unwrap_err(), "report: missing");
        no_report["metadata"] = json!({"labels": ["a"]});
        no_report["report"] = json!({});
        assert!(parse("t", &no_report).unwrap_err().starts_with("metadata.labels:"));
        let checks = json!({"apiVersion": "aquasecurity.github.io/v1alpha1", "kind": "ConfigAuditReport",
            "metadata": {"name": "x"}, "report": {"checks": [{"checkID": "KSV001", "success": "no"}]}});
        assert!(parse("t", &checks).unwrap_err().starts_with("report.checks[0].success:"));
    }

    #[test]
    fn hashed_name_label_uses_the_annotation() {
        let v = json!({"apiVersion": "aquasecurity.github.io/v1alpha1", "kind": "ClusterRbacAssessmentReport",
            "metadata": {"name": "clusterrole-6f69bb5b79",
                "labels": {"trivy-operator.resource.kind": "ClusterRole",
                           "trivy-operator.resource.name-hash": "6f69bb5b79",
                           "trivy-operator.resource.namespace": ""},
                "annotations": {"trivy-operator.resource.name": "system:controller:node-controller"}},
            "report": {"checks": [
                {"checkID": "KSV046", "id": "old", "severity": "CRITICAL", "success": false,
                 "scope": {"type": "Resource", "value": "nodes"}},
                {"checkID": "KSV047", "severity": "HIGH", "success": true}]}});
        let r = parse("t", &v).unwrap().pop().unwrap();
        let object = ObjectRef::new("ClusterRole", None, "system:controller:node-controller");
        assert_eq!(r.scanned, vec![Artifact::Object(object.clone())]);
        assert_eq!(r.findings.len(), 1);
        assert_eq!(&*r.findings[0].id, "KSV046");
        assert_eq!(r.findings[0].location.as_deref(), Some("Resource nodes"));
        assert_eq!(r.source.workload, Some(object));
    }

    #[test]
    fn compliance_reports_are_not_findings() {
        let v = json!({"apiVersion": "aquasecurity.github.io/v1alpha1", "kind": "ClusterComplianceReport",
            "metadata": {"name": "cis"}, "spec": {}, "status": {}});
        assert!(detect(&v));
        assert!(parse("t", &v).unwrap().is_empty());
    }

    #[test]
    fn nested_bom_components_flatten() {
        let v = json!({"apiVersion": "aquasecurity.github.io/v1alpha1", "kind": "SbomReport",
            "metadata": {"name": "s", "namespace": "ns", "ownerReferences": [
                {"kind": "ReplicaSet", "name": "web-1", "controller": true}]},
            "report": {"artifact": {"repository": "org/app", "tag": "1"}, "components": {"bomFormat": "CycloneDX",
                "metadata": {"component": {"name": "ghcr.io/org/app:1", "properties": [
                    {"name": "aquasecurity:trivy:RepoDigest",
                     "value": "ghcr.io/org/app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"}]}},
                "components": [
                    {"name": "jar", "components": [
                        {"group": "org.yaml", "name": "snakeyaml", "version": "1.33",
                         "purl": "pkg:maven/org.yaml/snakeyaml@1.33", "licenses": [{"expression": "Apache-2.0"}]}]},
                    {"name": "core", "group": "@babel", "purl": "pkg:npm/%40babel/core@7.0.0",
                     "licenses": [{"license": {"id": "MIT"}}, {"license": {"name": "custom"}}]}]}}});
        let r = parse("t", &v).unwrap().pop().unwrap();
        let names: Vec<_> = r.components.as_ref().unwrap().iter().map(|c| c.name.to_string()).collect();
        assert_eq!(names, ["jar", "org.yaml:snakeyaml", "@babel/core"]);
        assert_eq!(r.components.as_ref().unwrap()[2].licenses, vec![Arc::<str>::from("MIT"), Arc::from("custom")]);
        assert_eq!(r.components.as_ref().unwrap()[1].licenses, vec![Arc::<str>::from("Apache-2.0")]);
        // No registry in the CR: the BOM's RepoDigest of the same repository supplies it.
        assert_eq!(
            r.scanned[0].to_string(),
            "image:ghcr.io/org/app:1@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
        );
        assert_eq!(r.source.workload.as_ref().unwrap().to_string(), "ReplicaSet/ns/web-1");
    }
}
