//! Software components: what an SBOM says an artifact contains.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use stance_ecosystem::PackageId;

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

impl Component {
    /// The package's identity from its package URL (`None` without a readable one): the
    /// one rule for "same package" ([`PackageId`], `stance_ecosystem`).
    pub fn package_id(&self) -> Option<PackageId> {
        self.purl.as_deref().and_then(|p| PackageId::from_purl(p).ok())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_ignores_version_qualifiers_and_encoding() {
        let c = |purl: &str| Component {
            name: Arc::from("x"),
            version: None,
            purl: Some(Arc::from(purl)),
            licenses: Vec::new(),
        };
        let a = c("pkg:npm/%40babel%2Ftraverse@7.22.5?foo=bar").package_id().unwrap();
        assert_eq!(a, c("pkg:npm/%40babel/traverse@7.23.2").package_id().unwrap());
        assert_eq!(a.to_purl(), "pkg:npm/%40babel/traverse");
        assert!(c("not a purl").package_id().is_none());
    }
}
