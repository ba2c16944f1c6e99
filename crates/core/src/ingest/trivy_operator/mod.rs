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

mod image;
mod model;
mod sbom;
#[cfg(test)]
mod tests;

use std::sync::Arc;

use serde_json::Value;

use self::image::image;
use self::model::{ArtifactDoc, Body, CheckCr, Meta, RegistryDoc, ScannerDoc, SecretCr, VulnCr};
use self::sbom::{Bom, bom_image_refs, flatten_components};
use super::error_path::{join, typed_or_default};
use super::lenient::{Text, items};
use super::timestamp;
use super::trivy_cvss::best_v3;
use crate::ingest::FormatError;
use crate::model::{Artifact, Finding, FindingKind, Format, ObjectRef, Package, Report, Severity};

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

/// Parses one Trivy Operator report object.
pub fn parse(origin: &str, v: &Value) -> Result<Vec<Report>, FormatError> {
    let kind = v.get("kind").and_then(Value::as_str).unwrap_or("");
    let Some(fam) = family(kind) else {
        return Err(FormatError::new("kind", format!("{kind:?} is not a Trivy Operator report kind")));
    };
    if fam == Family::Compliance {
        // A ClusterComplianceReport summarises other reports' checks against a framework
        // (CIS, NSA, PSS): pass/fail counts per control, not findings of its own.
        return Ok(Vec::new());
    }
    let meta: Meta = typed_or_default(v.get("metadata"), "metadata")?;
    let Some(report_value) = v.get("report").filter(|r| !r.is_null()) else {
        return Err(FormatError::new("report", "missing"));
    };
    let body: Body = typed_or_default(Some(report_value), "report")?;

    let resource = resource_ref(&meta);
    let scanner_doc: ScannerDoc = typed_or_default(body.scanner.as_ref(), "report.scanner")?;
    let artifact_doc: ArtifactDoc = typed_or_default(body.artifact.as_ref(), "report.artifact")?;
    let registry_doc: RegistryDoc = typed_or_default(body.registry.as_ref(), "report.registry")?;
    let scanner_name = scanner_doc.name.get().unwrap_or("Trivy");
    let scanner = match scanner_doc.version.get() {
        Some(version) => format!("{scanner_name} {version}"),
        None => scanner_name.to_string(),
    };
    let container = meta.labels.as_ref().and_then(|l| l.get(LABEL_CONTAINER)).and_then(Text::get);
    let source = crate::ingest::workload_source(Format::TrivyOperator, &scanner, origin, resource.clone(), container);
    let scanned_at = body.update_timestamp.get().and_then(timestamp::parse);
    // The scan is no later than updateTimestamp: a report stored again (restored, re-applied)
    // has a newer creationTimestamp than the scan it holds.
    let created = meta.creation_timestamp.get().and_then(timestamp::parse);
    let first_seen = created.into_iter().chain(scanned_at).min();

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
                let vc: VulnCr = typed_or_default(Some(item), &path)?;
                let id = vc
                    .vulnerability_id
                    .get()
                    .ok_or_else(|| FormatError::new(join(&path, "vulnerabilityID"), "missing"))?;
                let mut f = new_finding(FindingKind::Vulnerability, id, &vc.severity, &vc.title, &image);
                f.prefer_cve_id();
                f.cvss = match vc.score.get() {
                    Some(score) => Some(score as f32),
                    None => best_v3(&vc.cvss, &join(&path, "cvss"))?,
                };
                if let Some(name) = vc.resource.get() {
                    f.package = Some(Package {
                        purl: vc.package_purl.arc().or_else(|| vc.pkg_purl.arc()),
                        name: Arc::from(name),
                        installed_version: vc.installed_version.arc(),
                        fixed_version: vc.fixed_version.arc(),
                    });
                }
                f.primary_url = vc.primary_link.arc();
                f.published = vc.published_date.get().and_then(timestamp::parse);
                f.location = vc.package_path.arc().or_else(|| vc.target.arc());
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
                let check: CheckCr = typed_or_default(Some(item), &path)?;
                // A listed check without `success` has not been shown to pass.
                if check.success == Some(true) {
                    continue;
                }
                let id = check
                    .check_id
                    .get()
                    .or(check.id.get())
                    .ok_or_else(|| FormatError::new(join(&path, "checkID"), "missing"))?;
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
                let sc: SecretCr = typed_or_default(Some(item), &path)?;
                let id = sc.rule_id.get().ok_or_else(|| FormatError::new(join(&path, "ruleID"), "missing"))?;
                let mut f = new_finding(FindingKind::Secret, id, &sc.severity, &sc.title, &image);
                f.location = sc.target.arc();
                report.findings.push(f);
            }
            report.scanned = vec![image];
        }
        Family::Sbom => {
            let bom_path = "report.components";
            let bom: Bom = typed_or_default(body.components.as_ref(), bom_path)?;
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
