//! `components`: banned packages (by package URL and version range) and denied licenses.

use std::collections::BTreeSet;

use super::{Hit, Item, image_label, plural};
use crate::guardrail::compile::{Banned, Components};
use crate::index::packages::PackageEntry;
use crate::policy::context::ImageCtx;

/// The banned packages and denied licences among the image's packages (its SBOM, else its vulnerability report).
pub fn check<'a>(rule: &Components, img: &ImageCtx<'a>) -> Option<Hit<'a>> {
    let packages = &img.posture?.packages;
    let mut items = Vec::new();
    let mut keys = BTreeSet::new();
    for b in &rule.banned {
        for p in packages.named(&b.purl.name).filter(|p| is_banned(b, p)) {
            let version = p.version.as_deref().unwrap_or("?");
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
    for id in &rule.denied_licenses {
        for p in packages.licensed(id) {
            let key = format!("license:{id}:{}", p.name);
            if keys.insert(key.clone()) {
                items.push(Item::new(
                    key,
                    format!("{} {} is licensed {id}", p.name, p.version.as_deref().unwrap_or("")),
                ));
            }
        }
    }
    if items.is_empty() {
        return None;
    }
    let source = if packages.from_sbom { "its SBOM" } else { "its vulnerability report (no SBOM)" };
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

/// Same package (type and namespace when the component has a purl; name already matched)
/// and a version inside the banned range.
fn is_banned(b: &Banned, p: &PackageEntry) -> bool {
    let same = match (&p.purl_type, &p.purl_namespace) {
        (Some(ty), ns) => {
            **ty == *b.purl.ty && ns.as_deref() == b.purl.namespace.as_deref().map(str::to_ascii_lowercase).as_deref()
        }
        // Without a purl only the name can be compared.
        (None, _) => true,
    };
    same && (b.range.is_any() || p.version.as_deref().is_some_and(|v| b.range.contains(v)))
}
