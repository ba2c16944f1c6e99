//! `imageReference`: allowed registries, digest pinning, no `latest`.

use super::{Hit, Item};
use crate::guardrail::compile::ImageReference;
use crate::model::Container;

/// A hit when the container's image reference breaks the rule (registry, digest, `latest`).
/// Registry and repository prefixes match on whole path segments after both sides are
/// canonicalised alike (`stance_ecosystem::ImagePrefix`): `ghcr.io/acme` allows
/// `ghcr.io/acme/app`, never `ghcr.io/acme-evil/app` nor `ghcr.io.evil.com/acme/app`.
pub fn check<'a>(rule: &ImageReference, c: &'a Container) -> Option<Hit<'a>> {
    let mut items = Vec::new();
    let img = match &c.image {
        Ok(img) => img,
        Err(e) => {
            items.push(Item::new("invalid-reference", format!("the reference {:?} is invalid: {e}", c.image_raw)));
            return Some(hit(c, None, items));
        }
    };
    if !rule.allowed_registries.is_empty() {
        let canonical = img.canonical();
        if !rule.allowed_registries.iter().any(|prefix| prefix.matches(&canonical)) {
            items.push(Item::new(
                "registry",
                format!("{} is not from an allowed registry ({})", img.name(), rule.allowed_text.join(", ")),
            ));
        }
    }
    if rule.require_digest && img.digest.is_none() {
        items.push(Item::new("digest", "it is not pinned by digest (use image@sha256:…)"));
    }
    if rule.disallow_latest && img.effective_tag() == Some("latest") {
        let how = if img.tag.is_none() { "has no tag, which means `latest`" } else { "uses the `latest` tag" };
        items.push(Item::new("latest", how));
    }
    if items.is_empty() { None } else { Some(hit(c, Some(img), items)) }
}

fn hit<'a>(c: &'a Container, img: Option<&'a crate::model::ImageRef>, items: Vec<Item<'a>>) -> Hit<'a> {
    Hit {
        container: Some(c),
        image: img,
        header: format!("image {} (container {})", c.image_raw, c.name),
        items,
        advice: "Reference images from an allowed registry, by digest, with an explicit version".into(),
    }
}
