//! Human-readable rendering of scan and findings output.

use std::fmt::Write;

use super::findings::{FindingLine, SuppressedLine};
use super::scan::{AppOutput, NotRunningOutput, ScanOutput};
use stance_core::assessment::status::RankedFinding;
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
    if out.apps.is_empty() {
        text.push_str("No AppPosture declares an application: findings are shown under inferred applications and \"not running\".\n");
    } else {
        text.push_str(&table(&rows));
    }
    for a in &out.apps {
        text.push('\n');
        app(&mut text, a);
    }
    if !out.inferred_apps.is_empty() {
        text.push_str(
            "\nInferred applications (no AppPosture selects these workloads; named from their labels, criticality \
             medium, exposure detected):\n",
        );
        let mut rows = vec![
            ["APPLICATION", "NAMED BY", "EXPOSURE", "RISK", "CRIT", "HIGH", "MED", "LOW", "COMPLIANT"]
                .map(String::from)
                .to_vec(),
        ];
        for a in &out.inferred_apps {
            let open = a.violations.iter().filter(|v| v.is_open()).count();
            rows.push(vec![
                format!("{}/{} (inferred)", a.namespace, a.name),
                a.named_by.clone().unwrap_or_default(),
                a.exposure.into(),
                a.risk_score.to_string(),
                a.findings.critical.to_string(),
                a.findings.high.to_string(),
                a.findings.medium.to_string(),
                a.findings.low.to_string(),
                if a.compliant { "yes".into() } else { format!("no ({open} violations)") },
            ]);
        }
        text.push_str(&indent(&table(&rows)));
        for a in &out.inferred_apps {
            text.push('\n');
            app(&mut text, a);
        }
    } else if !out.unowned_violations.is_empty() {
        text.push_str("\nWorkloads without an application:\n");
        violations(&mut text, &out.unowned_violations);
    }
    if !out.not_running.is_empty() {
        let _ = writeln!(
            text,
            "\nNot running ({} artifacts with findings that no running workload uses), by artifact:",
            out.not_running.len()
        );
        for n in &out.not_running {
            not_running(&mut text, n);
        }
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
        "{}/{}{}: risk {} — {} criticality, {} data, exposure {}{}",
        a.namespace,
        a.name,
        if a.inferred { " (inferred)" } else { "" },
        a.risk_score,
        a.criticality,
        a.data_classification,
        a.exposure,
        a.exposure_reasons.first().map(|r| format!(" ({r})")).unwrap_or_default()
    );
    if let Some(o) = &a.owner {
        let _ = writeln!(text, "  owner: {o}");
    }
    if let Some(by) = &a.named_by {
        let _ = writeln!(text, "  inferred from {by}; workloads: {}", a.workloads.join(", "));
    }
    findings_table(text, &a.top_findings);
    if a.suppressed_findings > 0 {
        let _ = writeln!(text, "  {} findings suppressed by VEX or risk exceptions", a.suppressed_findings);
        suppressed_lines(text, &a.suppressed);
    }
    if !a.violations.is_empty() {
        text.push_str("  guardrail violations of running workloads:\n");
        violations(text, &a.violations);
    }
}

fn not_running(text: &mut String, n: &NotRunningOutput) {
    let asset = n.asset.as_ref().map(|a| format!(" (Asset {a})")).unwrap_or_default();
    let _ = writeln!(
        text,
        "\n{}{asset}: risk {}, {} findings ({} critical, {} high){}",
        n.artifact,
        n.risk_score,
        n.findings.total,
        n.findings.critical,
        n.findings.high,
        n.last_scanned.as_ref().map(|t| format!(", scanned {t}")).unwrap_or_default()
    );
    findings_table(text, &n.top_findings);
    if n.suppressed_findings > 0 {
        let _ = writeln!(text, "  {} findings suppressed by VEX", n.suppressed_findings);
        suppressed_lines(text, &n.suppressed);
    }
}

fn findings_table(text: &mut String, top: &[RankedFinding]) {
    if top.is_empty() {
        text.push_str("  no open findings\n");
    } else {
        let mut rows = vec![["#", "RISK", "SEVERITY", "ID", "PACKAGE", "FIX", "WHY"].map(String::from).to_vec()];
        for (i, f) in top.iter().enumerate() {
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
}

fn violations(text: &mut String, vs: &[Violation]) {
    for v in vs {
        let _ = writeln!(text, "    {:<8} {}: {}", verdict_label(v), v.workload, v.line());
    }
}

/// Renders `stance findings --format table`.
/// The VEX state and, when a document set it, the document (`not_affected:<document>`).
fn vex_cell(f: &FindingLine) -> String {
    let Some(state) = &f.vex else { return "-".into() };
    match &f.vex_statement {
        Some(s) => truncate(&format!("{state}:{}", s.document), 40),
        None => state.clone(),
    }
}

/// How many VEX-suppressed findings the table names one by one per application.
const SUPPRESSED_SHOWN: usize = 10;

/// The VEX-suppressed findings, each with the statement that suppressed it.
fn suppressed_lines(text: &mut String, lines: &[SuppressedLine]) {
    for l in lines.iter().take(SUPPRESSED_SHOWN) {
        let _ = writeln!(text, "    suppressed: {}", l.text());
    }
    if lines.len() > SUPPRESSED_SHOWN {
        let _ = writeln!(text, "    … {} more suppressed by VEX (see --format json)", lines.len() - SUPPRESSED_SHOWN);
    }
}

pub fn findings(lines: &[FindingLine]) -> String {
    let mut rows = vec![
        ["RISK", "SEVERITY", "KIND", "RULE", "PACKAGE", "FIX", "ARTIFACT", "SOURCES", "VEX"].map(String::from).to_vec(),
    ];
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
            vex_cell(f),
        ]);
    }
    table(&rows)
}
