//! The `Results[]` of a Trivy report: vulnerabilities (VEX-suppressed ones included),
//! misconfigurations, secrets and packages as findings and components.

use std::sync::Arc;

use super::model::{MisconfDoc, ModifiedFinding, PackageDoc, ResultDoc, SecretDoc, VulnDoc};
use super::{Acc, Ctx};
use crate::ingest::FormatError;
use crate::ingest::error_path::{join, typed_or_default};
use crate::ingest::lenient::{Text, items};
use crate::ingest::license;
use crate::ingest::timestamp;
use crate::ingest::trivy_cvss::best_v3;
use crate::model::{Artifact, Component, Finding, FindingKind, Package, Severity, Vex, VexState};

/// Adds the findings and packages of one result.
pub(super) fn add_result(
    ctx: &Ctx,
    r: &ResultDoc,
    path: &str,
    artifact: &Artifact,
    acc: &mut Acc,
) -> Result<(), FormatError> {
    let target = r.target.get();
    for (i, v) in items(&r.vulnerabilities) {
        let p = format!("{path}.Vulnerabilities[{i}]");
        let doc: VulnDoc = typed_or_default(Some(v), &p)?;
        acc.findings.push(vuln_finding(ctx, &doc, &p, artifact, target, None)?);
    }
    for (i, m) in items(&r.modified) {
        let p = format!("{path}.ExperimentalModifiedFindings[{i}]");
        let doc: ModifiedFinding = typed_or_default(Some(m), &p)?;
        // Only vulnerabilities suppressed by a VEX statement; `.trivyignore` ("ignored")
        // suppressions are the user's, not a supplier statement, and stay hidden.
        let Some(state) = doc.status.get().and_then(VexState::parse) else { continue };
        if !doc.ty.get().is_some_and(|t| t.eq_ignore_ascii_case("vulnerability")) {
            continue;
        }
        let fp = join(&p, "Finding");
        let vd: VulnDoc = typed_or_default(doc.finding.as_ref(), &fp)?;
        let vex = Vex { source: None, state, justification: doc.statement.arc() };
        acc.findings.push(vuln_finding(ctx, &vd, &fp, artifact, target, Some(vex))?);
    }
    for (i, m) in items(&r.misconfigurations) {
        let p = format!("{path}.Misconfigurations[{i}]");
        let doc: MisconfDoc = typed_or_default(Some(m), &p)?;
        if let Some(f) = misconf_finding(ctx, &doc, &p, artifact, target, false)? {
            acc.findings.push(f);
        }
    }
    for (i, s) in items(&r.secrets) {
        let p = format!("{path}.Secrets[{i}]");
        let doc: SecretDoc = typed_or_default(Some(s), &p)?;
        acc.findings.push(secret_finding(ctx, &doc, &p, artifact, target)?);
    }
    if r.packages.is_some() {
        acc.components.get_or_insert_with(Vec::new);
    }
    for (i, pkg) in items(&r.packages) {
        let p = format!("{path}.Packages[{i}]");
        let doc: PackageDoc = typed_or_default(Some(pkg), &p)?;
        let Some(name) = doc.name.get() else { continue };
        acc.add_component(Component {
            name: Arc::from(name),
            version: doc.version.arc(),
            purl: doc.identifier.as_ref().and_then(|i| i.purl.arc()),
            licenses: license::licenses(doc.licenses.iter().flatten().filter_map(Text::get)),
        });
    }
    Ok(())
}

fn vuln_finding(
    ctx: &Ctx,
    v: &VulnDoc,
    path: &str,
    artifact: &Artifact,
    target: Option<&str>,
    vex: Option<Vex>,
) -> Result<Finding, FormatError> {
    let id = v.id.get().ok_or_else(|| FormatError::new(join(path, "VulnerabilityID"), "missing"))?;
    let title = v.title.get().unwrap_or(id);
    let mut f =
        Finding::new(FindingKind::Vulnerability, id, vuln_severity(v), title, artifact.clone(), ctx.source.clone());
    for alias in v.vendor_ids.iter().flatten().filter_map(Text::get) {
        f.add_alias(alias);
    }
    f.prefer_cve_id();
    f.cvss = best_v3(&v.cvss, &join(path, "CVSS"))?;
    let purl = v
        .pkg_identifier
        .as_ref()
        .and_then(|i| i.purl.arc())
        .or_else(|| v.pkg_ref.get().filter(|r| r.starts_with("pkg:")).map(Arc::from));
    if let Some(name) = v.pkg_name.get() {
        f.package = Some(Package {
            purl,
            name: Arc::from(name),
            installed_version: v.installed_version.arc(),
            fixed_version: v.fixed_version.arc(),
        });
    }
    f.location = v.pkg_path.get().or(target).map(Arc::from);
    f.primary_url = v.primary_url.arc();
    f.published = v.published.get().and_then(timestamp::parse);
    f.first_seen = ctx.first_seen;
    f.vex = vex.or_else(|| match v.status.get().and_then(VexState::parse) {
        Some(VexState::NotAffected) => Some(Vex { source: None, state: VexState::NotAffected, justification: None }),
        _ => None,
    });
    Ok(f)
}

/// `Severity`, else the `SeveritySource` vendor's rating in `VendorSeverity`.
fn vuln_severity(v: &VulnDoc) -> Severity {
    if let Some(s) = v.severity.get() {
        return Severity::parse(s);
    }
    let rating = v.severity_source.get().and_then(|src| v.vendor_severity.as_ref()?.get(src)?.get());
    match rating.map(|r| r.round() as i64) {
        Some(1) => Severity::Low,
        Some(2) => Severity::Medium,
        Some(3) => Severity::High,
        Some(4) => Severity::Critical,
        _ => Severity::Unknown,
    }
}

/// A misconfiguration finding for a `FAIL` check (`None` for passes and exceptions).
/// `message_location` uses the check's message as location (objects scanned by
/// `trivy k8s`, whose line numbers are in a temporary file), like Trivy Operator does.
pub(super) fn misconf_finding(
    ctx: &Ctx,
    m: &MisconfDoc,
    path: &str,
    artifact: &Artifact,
    target: Option<&str>,
    message_location: bool,
) -> Result<Option<Finding>, FormatError> {
    if m.status.get().is_some_and(|s| !s.eq_ignore_ascii_case("FAIL")) {
        return Ok(None);
    }
    let id = m.id.get().or(m.avd_id.get()).ok_or_else(|| FormatError::new(join(path, "ID"), "missing"))?;
    let mut f = Finding::new(
        FindingKind::Misconfiguration,
        id,
        Severity::parse(m.severity.get().unwrap_or("")),
        m.title.get().unwrap_or(id),
        artifact.clone(),
        ctx.source.clone(),
    );
    if let Some(avd) = m.avd_id.get() {
        f.add_alias(avd);
    }
    // `builtin.kubernetes.KSV001` → `KSV001`, the id Trivy Operator reports use.
    if let Some(short) = m.namespace.get().and_then(|n| n.rsplit('.').next())
        && short.starts_with(|c: char| c.is_ascii_uppercase())
        && short.bytes().any(|b| b.is_ascii_digit())
    {
        f.add_alias(short);
    }
    let line = m.cause.as_ref().and_then(|c| c.start_line.line());
    f.location = if message_location {
        m.message.get().map(Arc::from)
    } else {
        match (target, line) {
            (Some(t), Some(l)) => Some(Arc::from(format!("{t}:{l}"))),
            (Some(t), None) => Some(Arc::from(t)),
            (None, _) => None,
        }
    };
    f.primary_url = m.primary_url.arc();
    f.first_seen = ctx.first_seen;
    Ok(Some(f))
}

fn secret_finding(
    ctx: &Ctx,
    s: &SecretDoc,
    path: &str,
    artifact: &Artifact,
    target: Option<&str>,
) -> Result<Finding, FormatError> {
    let id = s.rule_id.get().ok_or_else(|| FormatError::new(join(path, "RuleID"), "missing"))?;
    let mut f = Finding::new(
        FindingKind::Secret,
        id,
        Severity::parse(s.severity.get().unwrap_or("")),
        s.title.get().unwrap_or(id),
        artifact.clone(),
        ctx.source.clone(),
    );
    f.location = match (target, s.start_line.line()) {
        (Some(t), Some(l)) => Some(Arc::from(format!("{t}:{l}"))),
        (Some(t), None) => Some(Arc::from(t)),
        (None, _) => None,
    };
    f.first_seen = ctx.first_seen;
    Ok(f)
}
