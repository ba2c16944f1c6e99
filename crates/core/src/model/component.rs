//! Software components: what an SBOM says an artifact contains.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// One package in an artifact's inventory.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Component {
    pub name: Arc<str>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<Arc<str>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purl: Option<Arc<str>>,
    /// SPDX license ids or expressions, as declared (`MIT`, `Apache-2.0 OR MIT`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub licenses: Vec<Arc<str>>,
}

/// The parts of a package URL that policies match on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PurlParts {
    /// `maven`, `npm`, `apk`, …
    pub ty: String,
    pub namespace: Option<String>,
    pub name: String,
    pub version: Option<String>,
}

impl PurlParts {
    /// Parses a package URL with the `packageurl` crate; `None` when it is not one.
    pub fn parse(purl: &str) -> Option<PurlParts> {
        let p: packageurl::PackageUrl<'_> = purl.parse().ok()?;
        Some(PurlParts {
            ty: p.ty().to_ascii_lowercase(),
            namespace: p.namespace().map(str::to_string),
            name: p.name().to_string(),
            version: p.version().map(str::to_string),
        })
    }

    /// `pkg:type/namespace/name` without version or qualifiers.
    pub fn base(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("pkg:{}/{}/{}", self.ty, ns, self.name),
            None => format!("pkg:{}/{}", self.ty, self.name),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purl_base_drops_version_and_qualifiers() {
        let p = PurlParts::parse("pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1?type=jar").unwrap();
        assert_eq!(p.base(), "pkg:maven/org.apache.logging.log4j/log4j-core");
        assert_eq!(p.version.as_deref(), Some("2.14.1"));
        let a = PurlParts::parse("pkg:apk/alpine/musl@1.1.22-r3?arch=x86_64&distro=3.10.2").unwrap();
        assert_eq!(a.ty, "apk");
        assert!(PurlParts::parse("not a purl").is_none());
    }
}
