//! How VEX documents name products, read into [`ProductId`]: package URLs (`pkg:oci` and
//! `pkg:docker` ones are images), image references with a registry path or a digest, bare
//! digests, CPEs; anything else is kept as unidentified text (it matches nothing).

use stance_ecosystem::Purl;

use super::sbom_subject::{ImageHints, image_ref};
use crate::model::{ImageRef, ProductId};

/// The product a text names (see the module documentation).
pub(crate) fn product_id(text: &str) -> ProductId {
    let t = text.trim();
    if t.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("pkg:")) {
        return match Purl::parse(t) {
            Ok(p) if matches!(p.id.ty(), "oci" | "docker") => image_purl(t, &p),
            Ok(p) => ProductId::Package(p),
            Err(_) => ProductId::Unidentified(t.to_string()),
        };
    }
    if t.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("cpe:")) {
        return ProductId::Cpe(t.to_ascii_lowercase());
    }
    if let Some(d) = digest(t) {
        return ProductId::Image { tag: None, name: None, digest: Some(d) };
    }
    // An image reference only when it cannot be a bare product name: a registry path or a
    // digest (`ABC` would otherwise read as docker.io/library/abc).
    if (t.contains('/') || t.contains('@'))
        && !t.contains("://")
        && let Ok(r) = ImageRef::parse(t)
    {
        return ProductId::Image {
            name: Some(r.name()),
            tag: r.tag.as_deref().map(str::to_string),
            digest: r.digest.as_deref().map(str::to_string),
        };
    }
    ProductId::Unidentified(t.to_string())
}

/// A `sha256:<hex>` (or sha384/sha512) digest, lower-cased.
pub(crate) fn digest(t: &str) -> Option<String> {
    let (algo, hex) = t.split_once(':')?;
    let algo = algo.to_ascii_lowercase();
    let len = match algo.as_str() {
        "sha256" => 64,
        "sha384" => 96,
        "sha512" => 128,
        _ => return None,
    };
    (hex.len() == len && hex.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| format!("{algo}:{}", hex.to_ascii_lowercase()))
}

fn image_purl(text: &str, p: &Purl) -> ProductId {
    let hints =
        ImageHints { name: "", version: None, purl: Some(text), repo_tags: Vec::new(), repo_digests: Vec::new() };
    let digest = p.version.as_deref().and_then(digest);
    match image_ref(&hints) {
        // Without `repository_url` a `pkg:oci` purl names no registry: the digest alone is
        // the identity then.
        Some(r) if digest.is_none() => {
            ProductId::Image { name: Some(r.name()), tag: r.tag.as_deref().map(str::to_string), digest: None }
        }
        _ if digest.is_some() => ProductId::Image { tag: None, name: None, digest },
        _ => ProductId::Unidentified(text.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn products_from_text() {
        let d = format!("sha256:{}", "1".repeat(64));
        let oci = format!("pkg:oci/alpine@{}?repository_url=index.docker.io%2Flibrary%2Falpine", d.replace(':', "%3A"));
        assert_eq!(product_id(&oci), ProductId::Image { tag: None, name: None, digest: Some(d.clone()) });
        assert_eq!(
            product_id("pkg:oci/cart?repository_url=ghcr.io/shop/cart&tag=1.0"),
            ProductId::Image { tag: Some("1.0".into()), name: Some("ghcr.io/shop/cart".into()), digest: None }
        );
        assert_eq!(
            product_id(&format!("ghcr.io/shop/cart@{d}")),
            ProductId::Image { tag: None, name: Some("ghcr.io/shop/cart".into()), digest: Some(d.clone()) }
        );
        assert_eq!(
            product_id(&d.to_uppercase().replace("SHA256", "sha256")),
            ProductId::Image { tag: None, name: None, digest: Some(d) }
        );
        assert!(
            matches!(product_id("pkg:npm/%40babel/traverse@7.0.0"), ProductId::Package(p) if p.id.name() == "traverse")
        );
        assert_eq!(
            product_id("cpe:/o:redhat:enterprise_linux:9"),
            ProductId::Cpe("cpe:/o:redhat:enterprise_linux:9".into())
        );
        assert_eq!(product_id("ABC"), ProductId::Unidentified("ABC".into()));
        assert_eq!(product_id("https://example.com/x"), ProductId::Unidentified("https://example.com/x".into()));
    }
}
