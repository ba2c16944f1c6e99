//! `components`: banned packages (by package URL and version range) and denied licenses.

use std::collections::BTreeSet;

use super::{Hit, Item, image_label, plural};
use crate::model::{Component, FindingKind, PurlParts};
use crate::policy::compile::{Banned, Components};
use crate::policy::context::ImageCtx;

/// A component as the rule sees it (from the SBOM, or from vulnerability findings' packages).
struct Seen<'c> {
    name: &'c str,
    version: Option<&'c str>,
    purl: Option<&'c str>,
    licenses: &'c [std::sync::Arc<str>],
}

pub fn check<'a>(rule: &Components, img: &ImageCtx<'a>) -> Option<Hit<'a>> {
    let posture = img.posture?;
    let from_sbom = posture.components.is_some();
    let seen: Vec<Seen<'_>> = match &posture.components {
        Some(components) => components.iter().map(seen_component).collect(),
        None => posture
            .findings
            .iter()
            .filter(|f| f.kind == FindingKind::Vulnerability)
            .filter_map(|f| f.package.as_ref())
            .map(|p| Seen {
                name: &p.name,
                version: p.installed_version.as_deref(),
                purl: p.purl.as_deref(),
                licenses: &[],
            })
            .collect(),
    };
    let mut items = Vec::new();
    let mut keys = BTreeSet::new();
    for c in &seen {
        for b in &rule.banned {
            if is_banned(b, c) {
                let version = c.version.unwrap_or("?");
                let key = format!("{}@{version}", b.base);
                if keys.insert(key.clone()) {
                    let mut text = format!("{} {version} is banned", b.base);
                    if !b.range.is_any() {
                        text.push_str(&format!(" ({})", b.range_text));
                    }
                    if let Some(r) = &b.reason {
                        text.push_str(&format!(": {r}"));
                    }
                    items.push(Item::new(key, text));
                }
            }
        }
        for l in c.licenses {
            for id in license_ids(l) {
                if rule.denied_licenses.contains(&id.to_ascii_uppercase()) {
                    let key = format!("license:{id}:{}", c.name);
                    if keys.insert(key.clone()) {
                        items.push(Item::new(key, format!("{} {} is licensed {id}", c.name, c.version.unwrap_or(""))));
                    }
                }
            }
        }
    }
    if items.is_empty() {
        return None;
    }
    let source = if from_sbom { "its SBOM" } else { "its vulnerability report (no SBOM)" };
    Some(Hit {
        container: Some(img.container),
        image: Some(img.image),
        header: format!(
            "{} contains {} denied by policy (from {source})",
            image_label(img.image, img.container),
            plural(items.len(), "component", "components")
        ),
        items,
        advice: "Remove or upgrade these components and rebuild the image".into(),
    })
}

fn seen_component(c: &Component) -> Seen<'_> {
    Seen { name: &c.name, version: c.version.as_deref(), purl: c.purl.as_deref(), licenses: &c.licenses }
}

fn is_banned(b: &Banned, c: &Seen<'_>) -> bool {
    let (matches_pkg, version) = match c.purl.and_then(PurlParts::parse) {
        Some(p) => (
            p.ty == b.purl.ty
                && p.name.eq_ignore_ascii_case(&b.purl.name)
                && p.namespace.as_deref().map(str::to_ascii_lowercase)
                    == b.purl.namespace.as_deref().map(str::to_ascii_lowercase),
            p.version.or_else(|| c.version.map(str::to_string)),
        ),
        // Without a purl only the name can be compared: `group:name`, `group/name` or `name`.
        None => {
            let short = c.name.rsplit([':', '/']).next().unwrap_or(c.name);
            (short.eq_ignore_ascii_case(&b.purl.name), c.version.map(str::to_string))
        }
    };
    matches_pkg && (b.range.is_any() || version.is_some_and(|v| b.range.contains(&v)))
}

/// The license ids in an SPDX expression (`(MIT OR Apache-2.0) AND BSD-3-Clause WITH x`).
pub fn license_ids(expr: &str) -> impl Iterator<Item = &str> {
    expr.split(|c: char| c.is_whitespace() || c == '(' || c == ')')
        .filter(|t| !t.is_empty() && !matches!(*t, "AND" | "OR" | "WITH" | "and" | "or" | "with"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn license_expression_tokens() {
        let ids: Vec<_> = license_ids("(MIT OR Apache-2.0) AND GPL-2.0-only WITH Classpath-exception-2.0").collect();
        assert_eq!(ids, ["MIT", "Apache-2.0", "GPL-2.0-only", "Classpath-exception-2.0"]);
    }
}
