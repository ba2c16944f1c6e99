//! Whether a VEX product names a finding's artifact and package.
//!
//! - **Image** products (`pkg:oci` purls, image references, bare digests) name the image by
//!   digest when they give one (the content, whatever its tag), else by
//!   `registry/repository` and the tag when given (else every tag). With subcomponents,
//!   only findings on those packages match.
//! - **Package** products (any other purl) without subcomponents match findings on that
//!   package (identity by `stance_ecosystem::PackageId`; the version, when given, must equal
//!   the installed one; each qualifier given must not contradict the finding's). With
//!   subcomponents — an application and a dependency inside it, as Trivy's own VEX test
//!   writes it — they match findings on a subcomponent in a source or file-system scan
//!   (whose root package no report names); never in an image, which the product does not
//!   name.
//! - **CPE** platforms (CSAF relationships such as "xz as a component of Red Hat
//!   Enterprise Linux 9") match findings on a subcomponent whose purl carries a `distro`
//!   qualifier of that platform (`distro=redhat-9.4` or `rhel-9.4` for
//!   `cpe:/o:redhat:enterprise_linux:9`).
//! - Products Stance cannot identify in a scan (a bare product name) match nothing.

use stance_ecosystem::Purl;

use crate::ingest::purl::id_name;
use crate::model::{Artifact, ListedVersion, Package, ProductId, VexProduct};

/// True when `product` covers a finding on `package` in `artifact`.
pub(crate) fn matches(product: &VexProduct, artifact: &Artifact, package: Option<&Package>) -> bool {
    let purl = package.and_then(|p| p.purl.as_deref()).and_then(|u| Purl::parse(u).ok());
    let in_subcomponents =
        |by_name| product.subcomponents.iter().any(|s| package_is(s, purl.as_ref(), package, by_name));
    match &product.id {
        ProductId::Image { .. } => {
            image_is(&product.id, artifact) && (product.subcomponents.is_empty() || in_subcomponents(true))
        }
        ProductId::Package(_) | ProductId::PackageVersions { .. } if product.subcomponents.is_empty() => {
            package_is(&product.id, purl.as_ref(), package, false)
        }
        ProductId::Package(_) | ProductId::PackageVersions { .. } => {
            !matches!(artifact, Artifact::Image(_)) && in_subcomponents(false)
        }
        ProductId::Cpe(cpe) => in_subcomponents(false) && purl.as_ref().is_some_and(|p| distro_of_platform(cpe, p)),
        ProductId::Unidentified(_) => false,
    }
}

fn image_is(product: &ProductId, artifact: &Artifact) -> bool {
    let (ProductId::Image { name, tag, digest }, Artifact::Image(img)) = (product, artifact) else { return false };
    match (digest, name) {
        (Some(d), _) => img.digest.as_deref().is_some_and(|have| have.eq_ignore_ascii_case(d)),
        (None, Some(n)) => img.name() == *n && tag.as_ref().is_none_or(|t| img.effective_tag() == Some(t.as_str())),
        (None, None) => false,
    }
}

/// Whether `product` (a package) is the finding's package. `by_name` allows, for a finding
/// whose package has no purl (Trivy Operator reports give none), the package's name as
/// every parser writes it (`ingest::purl::package_name`, the name correlation meets on) and
/// its installed version: only inside an image the statement names, never across artifacts.
fn package_is(product: &ProductId, purl: Option<&Purl>, package: Option<&Package>, by_name: bool) -> bool {
    let ((want, listed), Some(package)) = (
        match product {
            ProductId::Package(want) => (want, None),
            ProductId::PackageVersions { purl, versions } => (purl, Some(versions.as_slice())),
            _ => return false,
        },
        package,
    ) else {
        return false;
    };
    // Versions are compared with their package URL's epoch (`Purl::version_with_epoch`):
    // `@2.29.2-1%2Bdeb9u1?epoch=1` is `1:2.29.2-1+deb9u1`, not `2.29.2-1+deb9u1`. A version
    // whose epoch cannot be told matches nothing: a statement must not suppress a finding
    // on a version it may not name.
    let version_is = |installed: Option<&str>, have: Option<&Purl>| {
        if want.version.is_none() && listed.is_none() {
            return true;
        }
        let Some(installed) = installed.map(str::trim) else { return false };
        let installed = match have.map(|h| h.version_with_epoch(installed)) {
            None => std::borrow::Cow::Borrowed(installed),
            Some(Ok(installed)) => installed,
            Some(Err(_)) => return false,
        };
        let exact = match want.version.as_deref() {
            None => true,
            Some(v) => want.version_with_epoch(v.trim()).is_ok_and(|v| v == installed),
        };
        exact && listed.is_none_or(|l| is_listed(l, &installed))
    };
    match purl {
        Some(have) => {
            want.id == have.id
                && version_is(have.version.as_deref().or(package.installed_version.as_deref()), Some(have))
                && want.qualifiers.iter().all(|(k, v)| have.qualifiers.iter().all(|(hk, hv)| hk != k || hv == v))
        }
        None => by_name && *package.name == id_name(&want.id) && version_is(package.installed_version.as_deref(), None),
    }
}

/// Whether `installed` is one of a statement's listed versions. A version the range's
/// scheme cannot read is not in the range: a statement is applied only where it is known
/// to hold (a suppression that cannot be checked must not hide a finding).
pub(crate) fn is_listed(listed: &[ListedVersion], installed: &str) -> bool {
    listed.iter().any(|l| match l {
        ListedVersion::Exact(v) => v.trim() == installed.trim(),
        ListedVersion::Range(r) => r.contains(installed.trim()).unwrap_or(false),
    })
}

/// `cpe:/o:redhat:enterprise_linux:9` (CPE 2.2) or `cpe:2.3:o:redhat:enterprise_linux:9:…`
/// against the purl's `distro` qualifier (`redhat-9.4`): the distribution is the CPE's
/// vendor or product (`rhel` stands for Red Hat Enterprise Linux), and the CPE's version,
/// when it gives one, is the distribution's major version.
fn distro_of_platform(cpe: &str, purl: &Purl) -> bool {
    let Some(distro) = purl.qualifiers.iter().find(|(k, _)| k == "distro").map(|(_, v)| v.to_ascii_lowercase()) else {
        return false;
    };
    let parts: Vec<&str> = match cpe.strip_prefix("cpe:2.3:") {
        Some(rest) => rest.split(':').collect(),
        None => cpe.strip_prefix("cpe:/").unwrap_or("").split(':').collect(),
    };
    let (Some(vendor), Some(product)) = (parts.get(1), parts.get(2)) else { return false };
    let version = parts.get(3).copied().filter(|v| !v.is_empty() && *v != "*" && *v != "-");
    let (name, release) = distro.split_once('-').unwrap_or((&distro, ""));
    let rhel = *vendor == "redhat" && product.starts_with("enterprise_linux");
    let same_distro = name == *vendor || name == *product || (rhel && name == "rhel");
    let major = |v: &str| v.split(['.', ':']).next().unwrap_or("").to_string();
    same_distro && version.is_none_or(|v| major(v) == major(release))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::model::ImageRef;

    fn purl(s: &str) -> ProductId {
        ProductId::Package(Purl::parse(s).unwrap())
    }

    fn pkg(purl: &str) -> Package {
        Package { purl: Some(Arc::from(purl)), name: Arc::from("x"), installed_version: None, fixed_version: None }
    }

    #[test]
    fn packages_by_identity_version_and_qualifiers() {
        let p = |id| VexProduct { id, subcomponents: vec![] };
        let repo = Artifact::Repository(Arc::from("github.com/a/b"));
        let git = pkg("pkg:apk/wolfi/git@2.39.0-r1?arch=x86_64");
        assert!(matches(&p(purl("pkg:apk/wolfi/git@2.39.0-r1?arch=x86_64")), &repo, Some(&git)));
        assert!(matches(&p(purl("pkg:apk/wolfi/git")), &repo, Some(&git)), "no version: every version");
        assert!(!matches(&p(purl("pkg:apk/wolfi/git@2.39.0-r1?arch=armv7")), &repo, Some(&git)));
        assert!(!matches(&p(purl("pkg:apk/wolfi/git@2.39.1-r0")), &repo, Some(&git)));
        assert!(!matches(&p(purl("pkg:apk/wolfi/gitx")), &repo, Some(&git)));
        // npm scopes written either way are one package.
        let babel = pkg("pkg:npm/%40babel/traverse@7.0.0");
        assert!(matches(&p(purl("pkg:npm/@babel/traverse@7.0.0")), &repo, Some(&babel)));
    }

    /// A deb/rpm version is compared with its purl's `epoch` qualifier on both sides: a
    /// statement on epoch 0 does not suppress a finding on epoch 1.
    #[test]
    fn package_versions_carry_the_epoch_qualifier() {
        let p = |id| VexProduct { id, subcomponents: vec![] };
        let repo = Artifact::Repository(Arc::from("github.com/a/b"));
        let have = pkg("pkg:deb/debian/bsdutils@2.29.2-1%2Bdeb9u1?arch=amd64&epoch=1");
        assert!(matches(&p(purl("pkg:deb/debian/bsdutils@1:2.29.2-1%2Bdeb9u1")), &repo, Some(&have)));
        assert!(matches(&p(purl("pkg:deb/debian/bsdutils@2.29.2-1%2Bdeb9u1?epoch=1")), &repo, Some(&have)));
        assert!(!matches(&p(purl("pkg:deb/debian/bsdutils@2.29.2-1%2Bdeb9u1")), &repo, Some(&have)));
        let conflicting = pkg("pkg:deb/debian/bsdutils@2:2.29.2-1%2Bdeb9u1?epoch=1");
        assert!(!matches(&p(purl("pkg:deb/debian/bsdutils@2:2.29.2-1%2Bdeb9u1")), &repo, Some(&conflicting)));
    }

    #[test]
    fn images_by_digest_or_repository() {
        let digest = format!("sha256:{}", "a".repeat(64));
        let img = Artifact::Image(ImageRef::from_parts("ghcr.io", "shop/cart", Some("1.0"), Some(&digest)));
        let by_digest = ProductId::Image { tag: None, name: None, digest: Some(format!("sha256:{}", "a".repeat(64))) };
        let other_digest =
            ProductId::Image { tag: None, name: None, digest: Some(format!("sha256:{}", "b".repeat(64))) };
        let by_name = ProductId::Image { tag: None, name: Some("ghcr.io/shop/cart".into()), digest: None };
        let elsewhere = ProductId::Image { tag: None, name: Some("ghcr.io/shop/cart-admin".into()), digest: None };
        let p = |id| VexProduct { id, subcomponents: vec![] };
        assert!(matches(&p(by_digest.clone()), &img, None));
        assert!(!matches(&p(other_digest), &img, None));
        assert!(matches(&p(by_name), &img, None));
        assert!(!matches(&p(elsewhere), &img, None));
        // Narrowed to a subcomponent.
        let narrowed = VexProduct { id: by_digest, subcomponents: vec![purl("pkg:apk/alpine/libssl3@3.0.8-r3")] };
        assert!(matches(&narrowed, &img, Some(&pkg("pkg:apk/alpine/libssl3@3.0.8-r3?arch=x86_64&distro=3.18.0"))));
        assert!(!matches(&narrowed, &img, Some(&pkg("pkg:apk/alpine/busybox@1.36.1-r0"))));
        // A package without purl (Trivy Operator) is known by name and version in the image.
        let unnamed = |name: &str, v: &str| Package {
            purl: None,
            name: Arc::from(name),
            installed_version: Some(Arc::from(v)),
            fixed_version: None,
        };
        assert!(matches(&narrowed, &img, Some(&unnamed("libssl3", "3.0.8-r3"))));
        assert!(!matches(&narrowed, &img, Some(&unnamed("libssl3", "3.0.8-r4"))));
        let elsewhere = Artifact::Repository(Arc::from("github.com/shop/cart"));
        let bare = VexProduct { id: purl("pkg:apk/alpine/libssl3@3.0.8-r3"), subcomponents: vec![] };
        assert!(!matches(&bare, &elsewhere, Some(&unnamed("libssl3", "3.0.8-r3"))), "never by name across artifacts");
    }

    #[test]
    fn application_products_never_reach_into_images() {
        let app = VexProduct {
            id: purl("pkg:golang/github.com/testdata/testdata"),
            subcomponents: vec![purl("pkg:golang/github.com/open-policy-agent/opa@v0.35.0")],
        };
        let opa = pkg("pkg:golang/github.com/open-policy-agent/opa@v0.35.0");
        assert!(matches(&app, &Artifact::Other(Arc::from("testdata/fixtures/repo/gomod")), Some(&opa)));
        let img = Artifact::Image(ImageRef::from_parts("docker.io", "library/opa", Some("1"), None));
        assert!(!matches(&app, &img, Some(&opa)));
    }

    #[test]
    fn cpe_platforms_by_distro_qualifier() {
        let rhel9 = VexProduct {
            id: ProductId::Cpe("cpe:/o:redhat:enterprise_linux:9".into()),
            subcomponents: vec![purl("pkg:rpm/redhat/xz-libs")],
        };
        let img = Artifact::Image(ImageRef::from_parts("registry.access.redhat.com", "ubi9", Some("9.4"), None));
        let on = |p: &str| matches(&rhel9, &img, Some(&pkg(p)));
        assert!(on("pkg:rpm/redhat/xz-libs@5.2.5-8.el9_0?arch=x86_64&distro=redhat-9.4"));
        assert!(on("pkg:rpm/redhat/xz-libs@5.2.5-8.el9_0?arch=x86_64&distro=rhel-9.4"));
        assert!(!on("pkg:rpm/redhat/xz-libs@5.2.4-4.el8_6?arch=x86_64&distro=redhat-8.6"));
        assert!(!on("pkg:rpm/redhat/xz-libs@5.2.5-8.el9_0?arch=x86_64"), "no distro: the platform is unknown");
        assert!(!on("pkg:rpm/redhat/xz@5.2.5-8.el9_0?arch=x86_64&distro=redhat-9.4"));
    }
}
