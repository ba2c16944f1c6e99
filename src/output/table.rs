//! Human-readable rendering of scan and findings output.

use std::fmt::Write;

use super::findings::FindingLine;
use super::scan::{AppOutput, ScanOutput};
use stance_core::policy::{Effect, Violation};

/// Pads cells to column widths; the last column is free-form.
pub fn table(rows: &[Vec<String>]) -> String {
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let mut widths = vec![0; cols];
    for r in rows {
        for (i, c) in r.iter().enumerate().take(cols.saturating_sub(1)) {
            widths[i] = widths[i].max(c.chars().count());
        }
    }
    let mut out = String::new();
    for r in rows {
        let mut line = String::new();
        for (i, c) in r.iter().enumerate() {
            if i + 1 < r.len() {
                let _ = write!(line, "{c:<w$}  ", w = widths[i]);
            } else {
                line.push_str(c);
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max { s.to_string() } else { format!("{}…", s.chars().take(max - 1).collect::<String>()) }
}

fn verdict_label(v: &Violation) -> &'static str {
    match v.effect() {
        Effect::Excepted => "EXCEPTED",
        Effect::Deny => "DENY",
        Effect::Warn => "WARN",
        Effect::Audit => "AUDIT",
    }
}

/// Renders `stance scan` for a terminal.
pub fn scan(out: &ScanOutput) -> String {
    let s = &out.summary;
    let mut text = format!(
        "Stance posture: {} files, {} reports, {} findings after de-duplication, {} images, {} workloads, {} applications\n\n",
        s.files, s.reports, s.findings, s.images, s.workloads, s.apps
    );
    let mut rows = vec![
        ["APPLICATION", "CRITICALITY", "EXPOSURE", "RISK", "CRIT", "HIGH", "MED", "LOW", "COMPLIANT"]
            .map(String::from)
            .to_vec(),
    ];
    for a in &out.apps {
        let open = a.violations.iter().filter(|v| v.is_open()).count();
        rows.push(vec![
            format!("{}/{}", a.namespace, a.name),
            a.criticality.into(),
            a.exposure.into(),
            a.risk_score.to_string(),
            a.findings.critical.to_string(),
            a.findings.high.to_string(),
            a.findings.medium.to_string(),
            a.findings.low.to_string(),
            if a.compliant { "yes".into() } else { format!("no ({open} violations)") },
        ]);
    }
    text.push_str(&table(&rows));
    for a in &out.apps {
        text.push('\n');
        app(&mut text, a);
    }
    if !out.unowned_violations.is_empty() {
        text.push_str("\nWorkloads without an application:\n");
        violations(&mut text, &out.unowned_violations);
    }
    if !out.policies.is_empty() {
        text.push_str("\nPolicies:\n");
        let mut rows = vec![["NAME", "ENFORCEMENT", "VIOLATIONS", "STATUS"].map(String::from).to_vec()];
        for p in &out.policies {
            rows.push(vec![
                p.name.clone(),
                p.enforcement.into(),
                p.violations.to_string(),
                p.error.as_ref().map_or("valid".into(), |e| format!("INVALID: {e}")),
            ]);
        }
        text.push_str(&indent(&table(&rows)));
    }
    if !out.exceptions.is_empty() {
        text.push_str("\nRisk exceptions:\n");
        let mut rows = vec![["NAME", "STATE", "EXPIRES", "TICKET / REASON"].map(String::from).to_vec()];
        for e in &out.exceptions {
            rows.push(vec![
                format!("{}/{}", e.namespace, e.name),
                format!("{:?}", e.state),
                e.expires.clone().unwrap_or_default(),
                e.reason.clone().or_else(|| e.ticket.clone()).unwrap_or_default(),
            ]);
        }
        text.push_str(&indent(&table(&rows)));
    }
    if !out.warnings.is_empty() {
        let _ = writeln!(text, "\nWarnings ({}): documents that could not be read", out.warnings.len());
        for w in &out.warnings {
            let _ = writeln!(text, "  {}: {}", w.origin, w.message);
        }
    }
    text
}

fn indent(s: &str) -> String {
    s.lines().map(|l| format!("  {l}\n")).collect()
}

fn app(text: &mut String, a: &AppOutput) {
    let _ = writeln!(
        text,
        "{}/{}: risk {} — {} criticality, {} data, exposure {}{}",
        a.namespace,
        a.name,
        a.risk_score,
        a.criticality,
        a.data_classification,
        a.exposure,
        a.exposure_reasons.first().map(|r| format!(" ({r})")).unwrap_or_default()
    );
    if let Some(o) = &a.owner {
        let _ = writeln!(text, "  owner: {o}");
    }
    if a.top_findings.is_empty() {
        text.push_str("  no open findings\n");
    } else {
        let mut rows = vec![["#", "RISK", "SEVERITY", "ID", "PACKAGE", "FIX", "WHY"].map(String::from).to_vec()];
        for (i, f) in a.top_findings.iter().enumerate() {
            let pkg = match (&f.package, &f.installed_version) {
                (Some(p), Some(v)) => truncate(&format!("{p} {v}"), 34),
                (Some(p), None) => truncate(p, 34),
                _ => truncate(&f.artifact, 34),
            };
            rows.push(vec![
                (i + 1).to_string(),
                f.risk_score.to_string(),
                f.severity.clone(),
                truncate(&f.id, 24),
                pkg,
                f.fixed_version.as_deref().map_or("-".into(), |v| truncate(v, 16)),
                f.factors.join(" "),
            ]);
        }
        text.push_str(&indent(&table(&rows)));
    }
    if a.suppressed_findings > 0 {
        let _ = writeln!(text, "  {} findings suppressed by VEX or risk exceptions", a.suppressed_findings);
    }
    if !a.violations.is_empty() {
        text.push_str("  guardrail violations of running workloads:\n");
        violations(text, &a.violations);
    }
}

fn violations(text: &mut String, vs: &[Violation]) {
    for v in vs {
        let _ = writeln!(text, "    {:<8} {}: {}", verdict_label(v), v.workload, v.line());
    }
}

/// Renders `stance findings --format table`.
pub fn findings(lines: &[FindingLine]) -> String {
    let mut rows =
        vec![["RISK", "SEVERITY", "KIND", "RULE", "PACKAGE", "FIX", "ARTIFACT", "SOURCES"].map(String::from).to_vec()];
    for f in lines {
        let pkg = f.package.as_ref().map_or("-".into(), |p| {
            truncate(&format!("{} {}", p.name, p.installed_version.as_deref().unwrap_or("")), 34)
        });
        rows.push(vec![
            f.risk_score.to_string(),
            f.severity.into(),
            f.kind.into(),
            truncate(&f.rule_id, 28),
            pkg,
            f.package.as_ref().and_then(|p| p.fixed_version.clone()).map_or("-".into(), |v| truncate(&v, 16)),
            truncate(&f.artifact, 48),
            f.sources.iter().map(|s| s.format).collect::<Vec<_>>().join(","),
        ]);
    }
    table(&rows)
}
