//! Package names the way their ecosystem writes them (`org.apache.bcel:bcel` for Maven,
//! `@scope/name` for npm, `openssl` for a Debian package), from package URLs or from an
//! SBOM component's group and name.
//!
//! [`package_name`] is the one naming rule: every parser (SARIF, PolicyReport, CycloneDX,
//! the BOM a Trivy Operator SBOM report embeds) names packages with it, so that the same
//! package reported in two formats meets on one name — the name Trivy JSON gives it
//! (`PkgName`). The name is for display and for correlating findings; whether two
//! packages are the same package is [`PackageId`]'s decision (`stance_ecosystem`), and
//! every package URL is read with its parser ([`Purl::parse`]): percent-decoding, npm
//! scopes written `%40scope%2Fname`, per-type case rules.

use std::sync::Arc;

use stance_ecosystem::{PackageId, Purl};

use crate::model::Package;

/// Package types whose purl namespace is the distribution or vendor (`pkg:deb/debian/…`,
/// `pkg:rpm/redhat/…`, `pkg:apk/alpine/…`): the distribution names the package without it.
const VENDOR_NAMESPACED: [&str; 5] = ["alpm", "apk", "deb", "qpkg", "rpm"];

/// A package's name from its type (`maven`, `npm`, … — `""` when unknown), namespace (a
/// purl namespace or an SBOM component's `group`) and name:
///
/// * Maven: `group:artifact` (`org.apache.logging.log4j:log4j-core`);
/// * distribution packages (`deb`, `rpm`, `apk`, `alpm`, `qpkg`), whose namespace is the
///   distribution: the bare name (`openssl`);
/// * every other package with a namespace: `namespace/name` (`@babel/core`,
///   `github.com/gorilla/mux`, `laravel/framework`, `github.com/apple/swift-nio`);
/// * without a namespace: the name.
///
/// This is how Trivy JSON names packages (`PkgName`).
pub(crate) fn package_name(ty: &str, namespace: Option<&str>, name: &str) -> String {
    let name = name.trim();
    let ty = ty.trim();
    match namespace.map(str::trim).filter(|ns| !ns.is_empty()) {
        Some(ns) if ty.eq_ignore_ascii_case("maven") => format!("{ns}:{name}"),
        Some(_) if VENDOR_NAMESPACED.iter().any(|t| ty.eq_ignore_ascii_case(t)) => name.to_string(),
        Some(ns) => format!("{ns}/{name}"),
        None => name.to_string(),
    }
}

/// A [`Package`] from a package URL (`pkg:maven/org.apache.bcel/bcel@6.5.0`), named by
/// [`package_name`] (`org.apache.bcel:bcel`).
pub(crate) fn package_from_purl(purl: &str) -> Option<Package> {
    let p = Purl::parse(purl.trim()).ok()?;
    Some(Package {
        purl: Some(Arc::from(purl.trim())),
        name: Arc::from(id_name(&p.id)),
        installed_version: p.version.as_deref().map(Arc::from),
        fixed_version: None,
    })
}

/// The display name of a package identity ([`package_name`] of its parts).
pub(crate) fn id_name(id: &PackageId) -> String {
    package_name(id.ty(), id.namespace(), id.name())
}

/// The type of a package URL (`maven` for `pkg:maven/…`), lower-case; `""` when `purl` is
/// not a package URL.
pub(crate) fn purl_type(purl: &str) -> String {
    Purl::parse(purl.trim()).map(|p| p.id.ty().to_string()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name_of(purl: &str) -> String {
        package_from_purl(purl).expect("a purl").name.to_string()
    }

    #[test]
    fn one_rule_for_every_ecosystem() {
        assert_eq!(name_of("pkg:maven/org.apache.bcel/bcel@6.5.0"), "org.apache.bcel:bcel");
        assert_eq!(name_of("pkg:npm/%40babel/core@7.0.0"), "@babel/core");
        assert_eq!(name_of("pkg:npm/lodash@4.17.21"), "lodash");
        // The encoded slash several SBOM producers write inside a scoped name.
        assert_eq!(name_of("pkg:npm/%40babel%2Ftraverse@7.22.5"), "@babel/traverse");
        assert_eq!(name_of("pkg:golang/github.com/gorilla/mux@v1.8.0"), "github.com/gorilla/mux");
        assert_eq!(name_of("pkg:composer/laravel/framework@v7.30.6"), "laravel/framework");
        // These used to differ between the SARIF / PolicyReport and the CycloneDX rules.
        assert_eq!(name_of("pkg:gitlab/group/project@1"), "group/project");
        assert_eq!(name_of("pkg:bitbucket/team/repo@1"), "team/repo");
        assert_eq!(name_of("pkg:swift/github.com/apple/swift-nio@2.0.0"), "github.com/apple/swift-nio");
        assert_eq!(
            name_of("pkg:huggingface/distilbert/distilbert-base-uncased@043235d"),
            "distilbert/distilbert-base-uncased"
        );
        assert_eq!(name_of("pkg:k8s/k8s.io/kubelet@1.29.0"), "k8s.io/kubelet");
        // Distribution packages: the namespace is the distribution.
        assert_eq!(name_of("pkg:deb/debian/openssl@3.0.11-1"), "openssl");
        assert_eq!(name_of("pkg:rpm/redhat/openssl@1.1.1"), "openssl");
        assert_eq!(name_of("pkg:apk/alpine/musl@1.2.4-r2"), "musl");
        assert_eq!(name_of("pkg:pypi/django@4.2"), "django");
        assert!(package_from_purl("not a purl").is_none());
    }

    #[test]
    fn groups_name_like_purl_namespaces() {
        assert_eq!(package_name("maven", Some("org.yaml"), "snakeyaml"), "org.yaml:snakeyaml");
        assert_eq!(package_name("MAVEN", Some("org.yaml"), "snakeyaml"), "org.yaml:snakeyaml");
        assert_eq!(package_name("", Some("@babel"), "core"), "@babel/core");
        assert_eq!(package_name("deb", Some("debian"), "tar"), "tar");
        assert_eq!(package_name("npm", Some(" "), "x"), "x");
        assert_eq!(package_name("", None, "x"), "x");
        assert_eq!(purl_type("pkg:Maven/a/b@1"), "maven");
        assert_eq!(purl_type("nope"), "");
    }
}
