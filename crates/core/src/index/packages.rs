//! A per-artifact package index, built once when the artifact is correlated, so rules
//! that look for banned packages or denied licences do hash lookups instead of parsing every
//! component's package URL and licence expression on every admission request.
//!
//! Packages are keyed by [`PackageId`] (`stance_ecosystem`), the one rule for "same
//! package": `pkg:npm/%40babel%2Ftraverse` and `pkg:npm/@babel/traverse` are one key, a
//! PyPI name is PEP 503-normalised, qualifiers are ignored. A package without a readable
//! package URL has no identity; it is kept under its short name so a rule can still say
//! that it *may* be the banned package (see `policy::rules::components`).

use std::borrow::Cow;
use std::sync::{Arc, OnceLock};

use rustc_hash::FxHashMap;
use stance_ecosystem::version::{Scheme, Version};
use stance_ecosystem::{DeniedLicences, LicenseVerdict, Licensing, PackageId, Purl};

use crate::model::{Component, Finding, FindingKind};

/// One package of an artifact.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PackageEntry {
    /// The display name (`@babel/traverse`, `org.apache.logging.log4j:log4j-core`).
    pub name: Arc<str>,
    /// The installed version as the inventory writes it, with the epoch of the package
    /// URL's `epoch` qualifier when the version has none (`Purl::version_with_epoch`:
    /// `2.29.2-1+deb9u1` with `?epoch=1` is `1:2.29.2-1+deb9u1`).
    pub version: Option<Arc<str>>,
    /// Why the version cannot be compared although it is given: the package URL's epoch
    /// contradicts it (`Purl::version_with_epoch`'s error). A rule says it cannot judge.
    pub version_error: Option<Arc<str>>,
    /// The identity, when the package has a readable package URL.
    pub id: Option<PackageId>,
    /// The version parsed on first use (see [`PackageEntry::version_in`]).
    parsed: ParsedVersion,
}

impl PackageEntry {
    /// One package entry; its version is parsed when a rule first compares it.
    pub fn new(name: Arc<str>, version: Option<Arc<str>>, id: Option<PackageId>) -> PackageEntry {
        PackageEntry { name, version, id, version_error: None, parsed: ParsedVersion::default() }
    }

    /// The installed version parsed in `scheme`; `None` without a version or when it is no
    /// version of that scheme (the caller parses again for the error it reports). Kept for
    /// the first scheme asked, as a banned range is compared on every admission request: a
    /// package's own ecosystem, or for one without an identity (matched by name) the banned
    /// package's. Another scheme parses afresh.
    pub fn version_in(&self, scheme: Scheme) -> Option<Cow<'_, Version>> {
        let text = self.version.as_deref()?;
        // Boxed: most entries are never compared, and an empty cache stays 16 bytes.
        let (kept, parsed) = &**self.parsed.0.get_or_init(|| Box::new((scheme, scheme.parse(text).ok())));
        if *kept == scheme {
            return parsed.as_ref().map(Cow::Borrowed);
        }
        scheme.parse(text).ok().map(Cow::Owned)
    }
}

/// A cache, not data: entries are equal whatever it holds (it is derived from the version
/// text, which is compared).
#[derive(Clone, Debug, Default)]
struct ParsedVersion(OnceLock<Box<(Scheme, Option<Version>)>>);

impl PartialEq for ParsedVersion {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for ParsedVersion {}

/// What makes two package entries one: name, installed version, identity and whether the
/// version can be read.
type EntryKey = (Arc<str>, Option<Arc<str>>, Option<PackageId>, Option<Arc<str>>);

/// One distinct licensing of the index and the packages under it.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Licensed {
    licensing: Licensing,
    entries: Vec<usize>,
}

/// Packages by identity (and, without one, by short name), and grouped by licensing.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PackageIndex {
    pub entries: Vec<PackageEntry>,
    by_id: FxHashMap<PackageId, Vec<usize>>,
    /// Entries without an identity, by lower-case short name.
    by_name: FxHashMap<Box<str>, Vec<usize>>,
    /// Distinct licence texts → their licensing and packages: an SBOM has thousands of
    /// packages but few distinct licence expressions, so each is judged once per request.
    licensed: FxHashMap<Box<str>, Licensed>,
    /// True when built from an SBOM (else from vulnerability findings' packages).
    pub from_sbom: bool,
}

/// The last path segment of a package name (`org.x:log4j-core` → `log4j-core`), lower case.
pub fn short_name(name: &str) -> String {
    name.rsplit([':', '/']).next().unwrap_or(name).to_ascii_lowercase()
}

/// A package whose licensing takes a denied licence, with the verdict.
#[derive(Clone, Debug)]
pub struct LicenceHit<'a> {
    pub package: &'a PackageEntry,
    pub verdict: LicenseVerdict,
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
                    index.push(&mut seen, &c.name, c.version.clone(), c.purl.as_deref(), &c.licenses);
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
        seen: &mut FxHashMap<EntryKey, usize>,
        name: &Arc<str>,
        version: Option<Arc<str>>,
        purl: Option<&str>,
        licenses: &[Arc<str>],
    ) {
        let parsed = purl.and_then(|p| Purl::parse(p).ok());
        let mut version = version.or_else(|| parsed.as_ref().and_then(|p| p.version.as_deref()).map(Arc::from));
        // A deb/rpm/alpm version is compared with the purl's epoch (Trivy writes the version
        // without it and the epoch as a qualifier): without it, `1:2.29.2-1+deb9u1` would
        // be judged as epoch 0, below every bound of a range written with the epoch.
        let mut version_error = None;
        if let (Some(p), Some(v)) = (&parsed, &version) {
            match p.version_with_epoch(v) {
                Ok(Cow::Borrowed(_)) => {}
                Ok(Cow::Owned(with_epoch)) => version = Some(Arc::from(with_epoch)),
                Err(e) => version_error = Some(Arc::from(e.to_string())),
            }
        }
        let mut entry = PackageEntry::new(name.clone(), version, parsed.map(|p| p.id));
        entry.version_error = version_error;
        let key: EntryKey = (entry.name.clone(), entry.version.clone(), entry.id.clone(), entry.version_error.clone());
        // The same package reported by several findings is one entry.
        let (i, new) = match seen.get(&key) {
            Some(&i) => (i, false),
            None => {
                let i = self.entries.len();
                match &entry.id {
                    Some(id) => self.by_id.entry(id.clone()).or_default().push(i),
                    None => self.by_name.entry(short_name(name).into_boxed_str()).or_default().push(i),
                }
                seen.insert(key, i);
                self.entries.push(entry);
                (i, true)
            }
        };
        if licenses.is_empty() {
            return;
        }
        // A stored list of licences: all apply (each parser kept only the entries its
        // format says count, e.g. SPDX's concluded licence over the declared one).
        let key = licenses.iter().map(|l| &**l).collect::<Vec<_>>().join("\u{1f}");
        let group = self.licensed.entry(key.into_boxed_str()).or_insert_with(|| Licensed {
            licensing: Licensing::all_of(licenses.iter().map(|l| &**l)),
            entries: Vec::new(),
        });
        // A new entry is in no group yet (no scan of the group: thousands of packages share
        // one licence text).
        if new || !group.entries.contains(&i) {
            group.entries.push(i);
        }
    }

    /// The packages with this identity.
    pub fn with_id<'a>(&'a self, id: &PackageId) -> impl Iterator<Item = &'a PackageEntry> + 'a {
        self.by_id.get(id).into_iter().flatten().map(|&i| &self.entries[i])
    }

    /// Packages without an identity whose short name is `name` (case-insensitive).
    pub fn unidentified_named(&self, name: &str) -> impl Iterator<Item = &PackageEntry> {
        let key = name.to_ascii_lowercase();
        self.by_name.get(key.as_str()).into_iter().flatten().map(|&i| &self.entries[i])
    }

    /// True when some package may be the one called `name` (a short name, see
    /// [`short_name`]): an identified package whose name is `name` (any case), or an
    /// unidentified one under that short name. A cheap pre-filter for queries (blast
    /// radius); the caller still judges each package.
    pub fn may_contain(&self, name: &str) -> bool {
        self.unidentified_named(name).next().is_some()
            || self.by_id.keys().any(|id| id.name().eq_ignore_ascii_case(name))
    }

    /// Packages whose licensing forces a denied licence (no choice avoids every one), in
    /// index order.
    pub fn denied_licences(&self, deny: &DeniedLicences) -> Vec<LicenceHit<'_>> {
        let mut hits: Vec<(usize, LicenseVerdict)> = Vec::new();
        if deny.is_empty() {
            return Vec::new();
        }
        for group in self.licensed.values() {
            let verdict = group.licensing.evaluate(deny);
            if verdict.denied {
                hits.extend(group.entries.iter().map(|&i| (i, verdict.clone())));
            }
        }
        hits.sort_by_key(|(i, _)| *i);
        hits.into_iter().map(|(i, verdict)| LicenceHit { package: &self.entries[i], verdict }).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(name: &str, v: &str, purl: Option<&str>, lic: &[&str]) -> Component {
        Component {
            name: Arc::from(name),
            version: Some(Arc::from(v)),
            purl: purl.map(Arc::from),
            licenses: lic.iter().map(|l| Arc::from(*l)).collect(),
        }
    }

    #[test]
    fn finds_by_identity_and_licence_expression() {
        let idx = PackageIndex::build(
            Some(&[
                c(
                    "org.apache.logging.log4j:log4j-core",
                    "2.14.1",
                    Some("pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1"),
                    &["Apache-2.0"],
                ),
                c("@babel/traverse", "7.22.5", Some("pkg:npm/%40babel%2Ftraverse@7.22.5"), &["MIT"]),
                c("mongo", "1", None, &["(SSPL-1.0 OR MIT)"]),
                c("both", "1", None, &["MIT", "SSPL-1.0"]),
            ]),
            &[],
        );
        let log4j = PackageId::from_purl("pkg:maven/org.apache.logging.log4j/log4j-core").unwrap();
        assert_eq!(idx.with_id(&log4j).count(), 1);
        let babel = PackageId::from_purl("pkg:npm/@babel/traverse").unwrap();
        assert_eq!(idx.with_id(&babel).next().map(|p| &*p.name), Some("@babel/traverse"));
        assert_eq!(idx.unidentified_named("MONGO").count(), 1);
        // OR lets the user choose MIT; a list means all apply.
        let deny = DeniedLicences::parse(["SSPL-1.0"]).unwrap();
        let hits = idx.denied_licences(&deny);
        assert_eq!(hits.iter().map(|h| &*h.package.name).collect::<Vec<_>>(), ["both"]);
        assert_eq!(hits[0].verdict.forced_by, ["SSPL-1.0"]);
    }

    /// The kept parse answers only for the scheme it was made in: the same text read in
    /// another ecosystem is parsed afresh, before and after the cache is filled.
    #[test]
    fn version_in_keeps_the_parse_per_scheme() {
        let e = PackageEntry::new(Arc::from("openssl"), Some(Arc::from("1.1.1j-r0")), None);
        let apk = |e: &PackageEntry| e.version_in(Scheme::Apk).map(|v| v.into_owned());
        let first = apk(&e).expect("an apk version");
        let again = apk(&e).expect("an apk version");
        let k = Scheme::Apk.parse("1.1.1k-r0").unwrap();
        assert_eq!(first.try_cmp(&k).unwrap(), std::cmp::Ordering::Less);
        assert_eq!(again.try_cmp(&k).unwrap(), std::cmp::Ordering::Less);
        // Not a SemVer version: no parse, whatever was kept for apk.
        assert!(e.version_in(Scheme::Semver).is_none());
        let none = PackageEntry::new(Arc::from("x"), None, None);
        assert!(none.version_in(Scheme::Apk).is_none());
        // Entries stay equal whatever their caches hold.
        assert_eq!(e, PackageEntry::new(Arc::from("openssl"), Some(Arc::from("1.1.1j-r0")), None));
    }
}
