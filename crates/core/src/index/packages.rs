//! A per-artifact package index, built once when the artifact is correlated, so rules
//! that look for banned packages or licenses do hash lookups instead of parsing every
//! component's package URL on every admission request.

use std::sync::Arc;

use rustc_hash::FxHashMap;

use crate::model::{Component, Finding, FindingKind, PurlParts};

/// One package of an artifact.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PackageEntry {
    pub name: Arc<str>,
    pub version: Option<Arc<str>>,
    /// Lower-case purl type and namespace, when the package has a purl.
    pub purl_type: Option<Box<str>>,
    pub purl_namespace: Option<Box<str>>,
}

/// Packages by lower-case short name, and by upper-case license id.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PackageIndex {
    pub entries: Vec<PackageEntry>,
    by_name: FxHashMap<Box<str>, Vec<usize>>,
    by_license: FxHashMap<Box<str>, Vec<usize>>,
    /// True when built from an SBOM (else from vulnerability findings' packages).
    pub from_sbom: bool,
}

/// The last path segment of a package name (`org.x:log4j-core` → `log4j-core`), lower case.
pub fn short_name(name: &str) -> String {
    name.rsplit([':', '/']).next().unwrap_or(name).to_ascii_lowercase()
}

/// The license ids in an SPDX expression (`(MIT OR Apache-2.0) AND BSD-3-Clause WITH x`).
pub fn license_ids(expr: &str) -> impl Iterator<Item = &str> {
    expr.split(|c: char| c.is_whitespace() || c == '(' || c == ')')
        .filter(|t| !t.is_empty() && !matches!(*t, "AND" | "OR" | "WITH" | "and" | "or" | "with"))
}

impl PackageIndex {
    /// From an SBOM's components, or (without one) the packages vulnerability findings name.
    pub fn build(components: Option<&[Component]>, findings: &[Arc<Finding>]) -> PackageIndex {
        let mut index = PackageIndex { from_sbom: components.is_some(), ..Default::default() };
        // Entries already pushed, so a package many findings name is one entry (a hash
        // lookup: comparing with every entry of the same name was quadratic in them).
        let mut seen = FxHashMap::default();
        match components {
            Some(cs) => {
                for c in cs {
                    let licenses =
                        c.licenses.iter().flat_map(|l| license_ids(l)).map(str::to_ascii_uppercase).collect::<Vec<_>>();
                    index.push(&mut seen, &c.name, c.version.clone(), c.purl.as_deref(), &licenses);
                }
            }
            None => {
                for p in
                    findings.iter().filter(|f| f.kind == FindingKind::Vulnerability).filter_map(|f| f.package.as_ref())
                {
                    index.push(&mut seen, &p.name, p.installed_version.clone(), p.purl.as_deref(), &[]);
                }
            }
        }
        index
    }

    fn push(
        &mut self,
        seen: &mut FxHashMap<(Box<str>, PackageEntry), usize>,
        name: &Arc<str>,
        version: Option<Arc<str>>,
        purl: Option<&str>,
        licenses: &[String],
    ) {
        let parts = purl.and_then(PurlParts::parse);
        let short = match &parts {
            Some(p) => p.name.to_ascii_lowercase(),
            None => short_name(name),
        };
        let version = version.or_else(|| parts.as_ref().and_then(|p| p.version.as_deref()).map(Arc::from));
        let entry = PackageEntry {
            name: name.clone(),
            version,
            purl_type: parts.as_ref().map(|p| p.ty.to_ascii_lowercase().into_boxed_str()),
            purl_namespace: parts
                .as_ref()
                .and_then(|p| p.namespace.as_deref())
                .map(|n| n.to_ascii_lowercase().into_boxed_str()),
        };
        // The same package reported by several findings is one entry.
        let short = short.into_boxed_str();
        let key = (short, entry);
        if let Some(&i) = seen.get(&key) {
            for l in licenses {
                self.by_license.entry(l.as_str().into()).or_default().push(i);
            }
            return;
        }
        let (short, entry) = key;
        let i = self.entries.len();
        seen.insert((short.clone(), entry.clone()), i);
        self.by_name.entry(short).or_default().push(i);
        for l in licenses {
            self.by_license.entry(l.as_str().into()).or_default().push(i);
        }
        self.entries.push(entry);
    }

    /// Packages whose short name is `name` (case-insensitive).
    pub fn named(&self, name: &str) -> impl Iterator<Item = &PackageEntry> {
        let key = name.to_ascii_lowercase();
        self.by_name.get(key.as_str()).into_iter().flatten().map(|&i| &self.entries[i])
    }

    /// Packages under the license id (upper case).
    pub fn licensed(&self, id_upper: &str) -> impl Iterator<Item = &PackageEntry> {
        self.by_license.get(id_upper).into_iter().flatten().map(|&i| &self.entries[i])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_by_short_name_and_license() {
        let c = |name: &str, v: &str, purl: Option<&str>, lic: &[&str]| Component {
            name: Arc::from(name),
            version: Some(Arc::from(v)),
            purl: purl.map(Arc::from),
            licenses: lic.iter().map(|l| Arc::from(*l)).collect(),
        };
        let idx = PackageIndex::build(
            Some(&[
                c(
                    "org.apache.logging.log4j:log4j-core",
                    "2.14.1",
                    Some("pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1"),
                    &["Apache-2.0"],
                ),
                c("mongo", "1", None, &["(SSPL-1.0 OR MIT)"]),
            ]),
            &[],
        );
        let hit: Vec<_> = idx.named("Log4j-Core").collect();
        assert_eq!(hit.len(), 1);
        assert_eq!(hit[0].purl_namespace.as_deref(), Some("org.apache.logging.log4j"));
        assert_eq!(idx.licensed("SSPL-1.0").count(), 1);
        assert_eq!(idx.licensed("MIT").count(), 1);
        assert_eq!(license_ids("(MIT OR Apache-2.0) AND GPL-2.0-only WITH Classpath-exception-2.0").count(), 4);
    }
}
