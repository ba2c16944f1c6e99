//! One SARIF result as a [`Finding`]: rule, id, title, location, package, fingerprint and
//! suppressions.

use std::sync::Arc;

use serde_json::Value;

use super::classify::{ToolKind, finding_kind, severity};
use super::model::{Message, Rule, Run, SarifResult};
use super::rules::Rules;
use crate::ingest::lenient::{Scalar, non_empty};
use crate::ingest::purl::package_from_purl;
use crate::ingest::title::title_line;
use crate::model::{Artifact, Finding, FindingKind, Package, Vex, VexState};

/// Longest message built from a template (bytes). Only the first line (the title) and
/// Trivy's `Package:` lines are read from it.
const MAX_MESSAGE: usize = 64 * 1024;

/// `message.text`, or the rule's message string `message.id` with `{0}`… replaced by the
/// arguments (SpotBugs, Contrast).
fn message_text(message: &Message, rule: Option<&Rule>) -> Option<String> {
    if let Some(text) = non_empty(message.text.as_deref()) {
        return Some(text.to_string());
    }
    let template = rule?.message_strings.get(message.id.as_deref()?)?.text.as_deref()?;
    Some(fill_template(template, &message.arguments))
}

/// Replaces each `{n}` of `template` by argument `n`, in one pass: an argument's own text is
/// not searched for placeholders again (replacing argument by argument let `{0}` → `{1}{1}`
/// → `{2}{2}{2}{2}` … double with each argument). Cut at [`MAX_MESSAGE`] bytes.
fn fill_template(template: &str, arguments: &[Scalar]) -> String {
    let mut out = String::new();
    let mut rest = template;
    // `{`, the digits and `}` are ASCII: every index below is a char boundary.
    while out.len() < MAX_MESSAGE {
        let Some(open) = rest.find('{') else {
            out.push_str(rest);
            break;
        };
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let digits = after.find(|c: char| !c.is_ascii_digit()).unwrap_or(after.len());
        let argument = after[digits..]
            .starts_with('}')
            .then(|| after[..digits].parse::<usize>().ok())
            .flatten()
            .and_then(|n| arguments.get(n));
        match argument {
            Some(arg) => {
                out.push_str(arg);
                rest = &after[digits + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    if out.len() > MAX_MESSAGE {
        let mut cut = MAX_MESSAGE;
        while !out.is_char_boundary(cut) {
            cut -= 1;
        }
        out.truncate(cut);
    }
    out
}

fn location(result: &SarifResult, run: &Run) -> Option<String> {
    for loc in &result.locations {
        let Some(phys) = &loc.physical_location else { continue };
        let Some(al) = &phys.artifact_location else { continue };
        let uri = non_empty(al.uri.as_deref()).map(str::to_string).or_else(|| {
            let entry = run.artifacts.get(usize::try_from(al.index?).ok()?)?;
            non_empty(entry.location.as_ref()?.uri.as_deref()).map(str::to_string)
        });
        if let Some(uri) = uri {
            return Some(match phys.region.as_ref().and_then(|r| r.start_line).filter(|l| *l > 0) {
                Some(line) => format!("{uri}:{line}"),
                None => uri,
            });
        }
    }
    result
        .locations
        .iter()
        .flat_map(|l| &l.logical_locations)
        .find_map(|l| non_empty(l.fully_qualified_name.as_deref()).or(non_empty(l.name.as_deref())).map(str::to_string))
}

/// The package of a vulnerability: a package URL among the logical locations
/// (dependency-check), or Trivy's `Package:` / `Installed Version:` / `Fixed Version:`
/// message lines.
fn package(result: &SarifResult, message: Option<&str>) -> Option<Package> {
    let purl = result
        .locations
        .iter()
        .flat_map(|l| &l.logical_locations)
        .filter_map(|l| l.fully_qualified_name.as_deref())
        .find(|n| n.starts_with("pkg:"));
    if let Some(p) = purl.and_then(package_from_purl) {
        return Some(p);
    }
    let (mut name, mut installed, mut fixed) = (None, None, None);
    for line in message?.lines() {
        let line = line.trim();
        if let Some(v) = line.strip_prefix("Package:") {
            name = non_empty(Some(v));
        } else if let Some(v) = line.strip_prefix("Installed Version:") {
            installed = non_empty(Some(v));
        } else if let Some(v) = line.strip_prefix("Fixed Version:") {
            fixed = non_empty(Some(v));
        }
    }
    Some(Package {
        purl: None,
        name: Arc::from(name?),
        installed_version: installed.map(Arc::from),
        fixed_version: fixed.map(Arc::from),
    })
}

/// The result's suppression state by SARIF 2.1.0's rule for several suppressions
/// (§3.27.23 `suppressions`, §3.35.3 `status`): an empty or absent array is "not
/// suppressed"; otherwise every suppression's status counts, not the first accepted one —
/// one `rejected` suppression (the team decided not to suppress) keeps the result open,
/// else one `underReview` makes it under review (in triage), and only when every
/// suppression is `accepted` (an absent status is how tools such as ESLint write an
/// in-source suppression, and reads as accepted) is the result suppressed.
fn vex(result: &SarifResult) -> Option<Vex> {
    let status = |s: &super::model::Suppression| s.status.as_deref().unwrap_or("accepted").trim().to_ascii_lowercase();
    let statuses: Vec<String> = result.suppressions.iter().map(status).collect();
    if statuses.is_empty() || statuses.iter().any(|s| s == "rejected") {
        return None;
    }
    if statuses.iter().any(|s| s == "underreview") {
        return Some(Vex {
            source: None,
            state: VexState::InTriage,
            justification: Some(Arc::from("suppression under review")),
        });
    }
    if statuses.iter().any(|s| s != "accepted") {
        // A status SARIF does not define: the result is not known to be suppressed.
        return None;
    }
    let reasons: Vec<String> = result
        .suppressions
        .iter()
        .map(|s| {
            let kind = s.kind.as_deref().unwrap_or("external");
            match non_empty(s.justification.as_deref()) {
                Some(j) => format!("suppressed ({kind}): {j}"),
                None => format!("suppressed ({kind})"),
            }
        })
        .collect();
    Some(Vex { source: None, state: VexState::NotAffected, justification: Some(Arc::from(reasons.join("; "))) })
}

/// A result's identity within its file when the tool gives no fingerprint (SARIF 2.1.0
/// §3.27.2: results are logically distinct when they describe different conditions): the
/// region of the primary location (§3.30: lines and columns, else character or byte
/// offsets), the message that states the condition (Pylint reports two names on one line,
/// ZAP one alert per URL under one `file:///` location), and the commit a secret scanner
/// found it in (gitleaks' `properties.commit`, part of gitleaks' own fingerprint). The
/// message is kept as a hash: it can be long.
fn unfingerprinted_identity(result: &SarifResult, message: Option<&str>) -> Option<String> {
    let mut key = region(result).unwrap_or_default();
    if let Some(m) = message.filter(|m| !m.trim().is_empty()) {
        key.push_str(&format!("#m{:016x}", fnv1a(m.as_bytes())));
    }
    if let Some(commit) = result.properties.get("commit").and_then(Value::as_str).filter(|c| !c.is_empty()) {
        key.push_str(&format!("@{commit}"));
    }
    (!key.is_empty()).then_some(key)
}

/// FNV-1a, 64 bits: a hash that is the same in every build and process (the identity
/// must not change between runs).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3))
}

fn region(result: &SarifResult) -> Option<String> {
    let r = result.locations.iter().find_map(|l| l.physical_location.as_ref()?.region.as_ref())?;
    let parts = [
        ("L", r.start_line),
        ("C", r.start_column),
        ("-L", r.end_line),
        ("C", r.end_column),
        ("@", r.char_offset),
        ("+", r.char_length),
        ("@b", r.byte_offset),
        ("+b", r.byte_length),
    ];
    let text: String = parts.iter().filter_map(|(p, v)| v.map(|v| format!("{p}{v}"))).collect();
    (!text.is_empty()).then_some(text)
}

/// The finding a result reports; `None` for `pass` / `notApplicable` results and results
/// whose `baselineState` is `absent`.
pub(super) fn finding(
    result: &SarifResult,
    run: &Run,
    rules: &Rules<'_>,
    tool: ToolKind,
    artifact: &Artifact,
    src: &Arc<crate::model::Source>,
) -> Option<Finding> {
    if let Some(kind) = result.kind.as_deref()
        && (kind.eq_ignore_ascii_case("pass") || kind.eq_ignore_ascii_case("notApplicable"))
    {
        return None;
    }
    if result.baseline_state.as_deref().is_some_and(|b| b.eq_ignore_ascii_case("absent")) {
        return None;
    }
    let explicit_id = non_empty(result.rule_id.as_deref()).or_else(|| non_empty(result.rule.as_ref()?.id.as_deref()));
    let mut rule = rules.find(result, explicit_id);
    let raw_message = non_empty(result.message.text.as_deref());
    if rule.is_none() && explicit_id.is_none() {
        // Gitleaks 7 writes no rule reference, only "<rule id> secret detected".
        rule = raw_message.and_then(|m| {
            let m = m.trim();
            rules.by_id.get(m).or_else(|| rules.by_id.get(m.strip_suffix(" secret detected")?)).copied()
        });
    }
    let message = message_text(&result.message, rule);
    let id = explicit_id
        .map(str::to_string)
        .or_else(|| non_empty(rule.and_then(|r| r.id.as_deref())).map(str::to_string))
        .or_else(|| message.as_deref().and_then(title_line))
        .unwrap_or_else(|| "unknown".to_string());

    let kind = finding_kind(tool, &id, rule);
    let (severity, cvss) = severity(result, rule);
    let title = rule
        .and_then(|r| {
            r.short_description.as_ref().and_then(|d| non_empty(d.text.as_deref())).or(non_empty(r.name.as_deref()))
        })
        .and_then(title_line)
        .filter(|t| t != &id || message.is_none())
        .or_else(|| message.as_deref().and_then(title_line))
        .unwrap_or_else(|| id.clone());

    let mut f = Finding::new(kind, &id, severity, &title, artifact.clone(), src.clone());
    f.cvss = cvss;
    f.location = location(result, run).map(Arc::from);
    // A code finding's identity is its rule, its file (the location) and this: the tool's
    // fingerprint, which tools scope to a file (CodeQL's `primaryLocationLineHash` hashes
    // the line's text: the same line in two files has the same hash), else the region and
    // the condition the message states.
    f.fingerprint = result
        .fingerprints
        .values()
        .chain(result.partial_fingerprints.values())
        .find_map(|v| non_empty(Some(v)))
        .map(str::to_string)
        .or_else(|| {
            (kind != FindingKind::Vulnerability).then(|| unfingerprinted_identity(result, message.as_deref()))?
        })
        .map(Arc::from);
    f.primary_url = rule.and_then(|r| non_empty(r.help_uri.as_deref())).map(Arc::from);
    if kind == FindingKind::Vulnerability {
        f.package = package(result, message.as_deref());
    }
    f.vex = vex(result);
    Some(f)
}
