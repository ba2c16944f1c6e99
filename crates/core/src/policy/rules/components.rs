//! `components`: banned packages (by package identity and a version range in the package's
//! own ecosystem) and denied licences (judged as SPDX expressions).

use std::collections::BTreeSet;

use std::sync::Arc;

use super::{Hit, plural};
use crate::guardrail::compile::{Banned, Components};
use crate::index::ArtifactPosture;
use crate::index::packages::PackageEntry;
use crate::policy::context::ImageCtx;
use crate::policy::precomputed::{Part, PartItems};

/// The banned packages and denied licences among the image's packages (its SBOM, else its vulnerability report).
pub fn check<'a>(rule: &Components, img: &ImageCtx<'a>) -> Option<Hit<'a>> {
    let risk = crate::risk::RiskContext::unknown(jiff::Timestamp::UNIX_EPOCH);
    part(rule, img.posture?).map(|p| p.hit(img, risk))
}

/// The image's part of the violation: its banned packages, then its denied licences, each
/// once (by package and version, or licence and package).
pub fn part(rule: &Components, posture: &ArtifactPosture) -> Option<Part> {
    let packages = &posture.packages;
    let mut items: Vec<(Arc<str>, String)> = Vec::new();
    let mut keys = BTreeSet::new();
    for b in &rule.banned {
        // The identity decides "same package"; a package the inventory lists without a
        // package URL has none, and is judged by name (and said so).
        let identified = packages.with_id(&b.id).map(|p| (p, false));
        let by_name = packages.unidentified_named(b.id.name()).map(|p| (p, true));
        for (p, name_only) in identified.chain(by_name) {
            let Some(mut text) = judge(b, p) else { continue };
            let version = p.version.as_deref().unwrap_or("?");
            let key = format!("{}@{version}", b.base);
            if !keys.insert(key.clone()) {
                continue;
            }
            if name_only {
                text.push_str(&format!(" (matched by name: {} has no package URL)", p.name));
            }
            if let Some(r) = &b.reason {
                text.push_str(&format!(": {r}"));
            }
            items.push((Arc::from(key), text));
        }
    }
    for hit in packages.denied_licences(&rule.denied_licenses) {
        let p = hit.package;
        let key = format!("license:{}:{}", hit.verdict.forced_by.join("+"), p.name);
        if keys.insert(key.clone()) {
            let mut text = format!(
                "{} {} is licensed under {} whichever licence is chosen",
                p.name,
                p.version.as_deref().unwrap_or(""),
                hit.verdict.forced_by.join(" and ")
            );
            if hit.verdict.lenient {
                text.push_str(" (its licence text is no SPDX expression: every licence it names was taken to apply)");
            }
            items.push((Arc::from(key), text));
        }
    }
    if items.is_empty() {
        return None;
    }
    let source = if packages.from_sbom { "its SBOM" } else { "its vulnerability report (no SBOM)" };
    Some(Part {
        tail: format!(" contains {} denied by policy (from {source})", plural(items.len(), "component", "components"))
            .into(),
        items: PartItems::Plain(items.into()),
        advice: "Remove or upgrade these components and rebuild the image".into(),
    })
}

/// The violation text when the package is banned, or when its version cannot be judged
/// against the range: a version that is not a version of the package's ecosystem, or no
/// version at all, is never taken as "outside the range" — a gate that cannot judge says so.
fn judge(b: &Banned, p: &PackageEntry) -> Option<String> {
    if b.range.is_any() {
        return Some(format!("{} {} is banned", b.base, p.version.as_deref().unwrap_or("(any version)")));
    }
    let Some(version) = p.version.as_deref() else {
        return Some(format!(
            "{} has no version in the inventory: cannot judge whether it is in the banned range ({})",
            b.base, b.range
        ));
    };
    if let Some(why) = &p.version_error {
        return Some(format!(
            "{} {version}: cannot judge whether it is in the banned range ({}): {why}",
            b.base, b.range
        ));
    }
    // The entry's parsed version when it parses (kept across requests); the text otherwise,
    // for the parse error the message names.
    let within = match p.version_in(b.range.scheme()) {
        Some(parsed) => b.range.contains_version(&parsed),
        None => b.range.contains(version),
    };
    match within {
        Ok(true) => Some(format!("{} {version} is banned ({})", b.base, b.range)),
        Ok(false) => None,
        Err(e) => {
            Some(format!("{} {version}: cannot judge whether it is in the banned range ({}): {e}", b.base, b.range))
        }
    }
}
