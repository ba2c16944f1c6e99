//! Correlation: the same issue reported by several scanners, several reports or several
//! workloads running one image becomes ONE finding listing every source.
//!
//! Identity is scanner-independent: (kind, an id shared through aliases, artifact — image
//! digest when known — and, per kind, the package or location). See [`discriminator`].

use std::borrow::Cow;
use std::sync::Arc;

use std::collections::hash_map::Entry;

use rustc_hash::{FxHashMap, FxHashSet};

use crate::model::{Artifact, ArtifactKey, Finding, FindingDetail, FindingKind, Package};

/// The part of the identity that is not the id: what a finding is *in*.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct GroupKey<'a> {
    kind: FindingKind,
    artifact: ArtifactKey,
    what: Option<Cow<'a, str>>,
}

/// What distinguishes two findings with the same id on one artifact:
/// - vulnerabilities: the package (short name and installed version, case-insensitive),
///   because one CVE can hit several packages of one image;
/// - secrets, SAST and DAST: the location (file and line, or URL) *and* the scanner
///   fingerprint: scanners scope fingerprints to a file (CodeQL hashes the line's text,
///   so the same line in two files shares one), so a fingerprint alone merges distinct
///   results;
/// - misconfigurations and policy results: the location when the scanner gives one (an
///   IaC scan of a repository reports one check for each file and line it fails in), else
///   nothing (one check fails once per object).
fn discriminator(f: &Finding) -> Option<Cow<'_, str>> {
    match f.kind {
        FindingKind::Vulnerability => f.package.as_ref().map(package_key),
        FindingKind::Secret | FindingKind::Sast | FindingKind::Dast => match (&f.location, &f.fingerprint) {
            (Some(l), Some(fp)) => Some(Cow::Owned(format!("{l}\u{1f}{fp}"))),
            (l, fp) => l.as_deref().or(fp.as_deref()).map(Cow::Borrowed),
        },
        FindingKind::Misconfiguration | FindingKind::Policy => f.location.as_deref().map(Cow::Borrowed),
    }
}

/// `name@version` with the name reduced to its last path segment (`org.x:log4j-core`,
/// `pkg:maven/org.x/log4j-core` and `log4j-core` all give `log4j-core`), lower case.
pub fn package_key(p: &Package) -> Cow<'_, str> {
    let short = package_short_name(p);
    let version = p.installed_version.as_deref().unwrap_or("");
    let lower = |s: &str| s.bytes().any(|b| b.is_ascii_uppercase());
    if lower(short) || lower(version) {
        Cow::Owned(format!("{}@{}", short.to_ascii_lowercase(), version.to_ascii_lowercase()))
    } else {
        Cow::Owned(format!("{short}@{version}"))
    }
}

/// The package's name reduced to its last path segment (`org.x:log4j-core` and
/// `pkg:maven/org.x/log4j-core` give `log4j-core`): the name part of [`package_key`], which
/// the remediation lifecycle uses without the version (an upgrade that keeps a
/// vulnerability keeps its lifecycle).
pub fn package_short_name(p: &Package) -> &str {
    p.name.rsplit([':', '/']).next().unwrap_or(&p.name)
}

/// Merges findings with the same identity. `resolve` rewrites an artifact before keying
/// (e.g. gives a tag-only image the digest another report told us), so a report that
/// knows only the tag and one that knows the digest meet.
///
/// Output order is the order of first appearance; merged findings keep every source,
/// every alias, the worst severity and highest CVSS, and the first known fix, purl,
/// publication date and VEX statement.
pub fn correlate<I, R>(findings: I, resolve: R) -> Vec<Finding>
where
    I: IntoIterator<Item = Finding>,
    R: Fn(&Artifact) -> Option<Artifact>,
{
    let mut findings: Vec<Finding> = findings.into_iter().collect();
    for f in &mut findings {
        if let Some(a) = resolve(&f.artifact) {
            f.artifact = Arc::new(a);
        }
        f.prefer_cve_id();
    }
    let groups = {
        let refs: Vec<&Finding> = findings.iter().collect();
        groups(&refs)
    };
    let mut slots: Vec<Option<Finding>> = findings.into_iter().map(Some).collect();
    let mut out = Vec::with_capacity(groups.len());
    for g in groups {
        let mut members = g.into_iter().filter_map(|i| slots[i].take());
        if let Some(mut first) = members.next() {
            for other in members {
                merge_into(&mut first, other);
            }
            out.push(first);
        }
    }
    out
}

/// [`correlate`] over shared findings: a finding reported once is passed through as the
/// same allocation, and only findings merged from several sources (or re-keyed by
/// `resolve`) are copied. The index stores each report's findings once and its
/// correlated view shares them.
pub fn correlate_shared<R>(findings: Vec<Arc<Finding>>, resolve: R) -> Vec<Arc<Finding>>
where
    R: Fn(&Artifact) -> Option<Artifact>,
{
    // Re-keyed findings are copied; the rest are borrowed as they are.
    let rekeyed: Vec<Option<Finding>> = findings
        .iter()
        .map(|f| {
            resolve(&f.artifact).filter(|a| *a != *f.artifact).map(|a| {
                let mut copy = (**f).clone();
                copy.artifact = Arc::new(a);
                copy
            })
        })
        .collect();
    let groups = {
        let refs: Vec<&Finding> = findings.iter().zip(&rekeyed).map(|(f, r)| r.as_ref().unwrap_or(f)).collect();
        groups(&refs)
    };
    let mut rekeyed = rekeyed;
    let mut out = Vec::with_capacity(groups.len());
    for g in groups {
        let owned =
            |i: usize, rekeyed: &mut Vec<Option<Finding>>| rekeyed[i].take().unwrap_or_else(|| (*findings[i]).clone());
        match g.as_slice() {
            [only] if rekeyed[*only].is_none() => out.push(findings[*only].clone()),
            [first, rest @ ..] => {
                let mut merged = owned(*first, &mut rekeyed);
                for &i in rest {
                    merge_into(&mut merged, owned(i, &mut rekeyed));
                }
                out.push(Arc::new(merged));
            }
            [] => {}
        }
    }
    out
}

/// Indices of the findings that share an identity, groups in order of first appearance.
/// Findings must already be re-keyed and have their preferred (CVE) id.
///
/// Near-linear in the number of findings, whatever they share: each (group key, id) pair
/// is looked up once in a hash map, and findings that share a pair are joined in a
/// union-find, so transitive aliases (A~B, B~C) still make one group. (Scanning the ids of
/// every earlier finding with the same package was quadratic: 40,000 findings of one
/// package took 15 s.)
fn groups(findings: &[&Finding]) -> Vec<Vec<usize>> {
    let mut keys: FxHashMap<GroupKey<'_>, u32> = FxHashMap::default();
    let mut first_with: FxHashMap<(u32, NoCase<'_>), usize> = FxHashMap::default();
    let mut sets = UnionFind::new(findings.len());
    for (i, f) in findings.iter().enumerate() {
        let key = GroupKey { kind: f.kind, artifact: f.artifact.key(), what: discriminator(f) };
        let next = keys.len() as u32;
        let key = *keys.entry(key).or_insert(next);
        for id in f.ids() {
            match first_with.entry((key, NoCase(id))) {
                Entry::Occupied(e) => sets.union(*e.get(), i),
                Entry::Vacant(e) => {
                    e.insert(i);
                }
            }
        }
    }
    // Members in index order; groups ordered by their first member.
    let mut slot_of_root: FxHashMap<usize, usize> = FxHashMap::default();
    let mut groups: Vec<Vec<usize>> = Vec::new();
    for i in 0..findings.len() {
        let root = sets.find(i);
        let slot = *slot_of_root.entry(root).or_insert_with(|| {
            groups.push(Vec::new());
            groups.len() - 1
        });
        groups[slot].push(i);
    }
    groups
}

/// Several VEX statements about one finding from different documents. Within one
/// document each format orders its own statements (OpenVEX: the latest statement for a
/// product and vulnerability wins; CycloneDX: one `analysis` per vulnerability); across
/// documents there is no order Stance can trust, so a statement that the product is
/// affected or still under investigation is never overridden by another document's
/// "not affected": a finding is suppressed only when no statement keeps it open.
fn merge_vex(a: Option<crate::model::Vex>, b: Option<crate::model::Vex>) -> Option<crate::model::Vex> {
    match (a, b) {
        (Some(a), Some(b)) if a.state.suppresses() && !b.state.suppresses() => Some(b),
        (a, b) => a.or(b),
    }
}

/// The identities of a set of correlated findings, to tell whether another finding is one
/// of them (the same rule as [`correlate`]'s: same kind, artifact and discriminator, and a
/// shared id or alias, case-insensitively).
pub struct Identities {
    known: FxHashSet<(FindingKind, ArtifactKey, Option<String>, String)>,
}

impl Identities {
    /// The identities of `findings` (already re-keyed).
    pub fn of(findings: &[Arc<Finding>]) -> Identities {
        let mut known = FxHashSet::default();
        for f in findings {
            let (kind, artifact, what) = (f.kind, f.artifact.key(), discriminator(f).map(Cow::into_owned));
            for id in f.ids() {
                known.insert((kind, artifact.clone(), what.clone(), id.to_ascii_lowercase()));
            }
        }
        Identities { known }
    }

    /// True when `f` has the identity of one of the findings.
    pub fn contains(&self, f: &Finding) -> bool {
        if self.known.is_empty() {
            return false;
        }
        let (kind, artifact, what) = (f.kind, f.artifact.key(), discriminator(f).map(Cow::into_owned));
        f.ids().any(|id| self.known.contains(&(kind, artifact.clone(), what.clone(), id.to_ascii_lowercase())))
    }
}

/// An id compared and hashed without regard to ASCII case, without allocating.
#[derive(Clone, Copy, Debug)]
struct NoCase<'a>(&'a str);

impl PartialEq for NoCase<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.0.eq_ignore_ascii_case(other.0)
    }
}

impl Eq for NoCase<'_> {}

impl std::hash::Hash for NoCase<'_> {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        for b in self.0.bytes() {
            h.write_u8(b.to_ascii_lowercase());
        }
        h.write_u8(0xff);
    }
}

/// Disjoint sets of finding indices (path halving, union by the smaller root so a group's
/// root is its first member).
struct UnionFind {
    parent: Vec<usize>,
}

impl UnionFind {
    fn new(n: usize) -> UnionFind {
        UnionFind { parent: (0..n).collect() }
    }

    fn find(&mut self, mut i: usize) -> usize {
        while self.parent[i] != i {
            self.parent[i] = self.parent[self.parent[i]];
            i = self.parent[i];
        }
        i
    }

    fn union(&mut self, a: usize, b: usize) {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra != rb {
            let (lo, hi) = if ra < rb { (ra, rb) } else { (rb, ra) };
            self.parent[hi] = lo;
        }
    }
}

/// Folds `other` (same identity) into `into`.
pub fn merge_into(into: &mut Finding, other: Finding) {
    // The detail: only when the two differ (merging a shared detail with itself is a no-op).
    if !Arc::ptr_eq(into.detail(), other.detail()) && **into.detail() != **other.detail() {
        let o: &FindingDetail = &other;
        let d: &mut FindingDetail = &mut *into;
        for id in o.ids() {
            d.add_alias(id);
        }
        d.prefer_cve_id();
        d.severity = d.severity.max(o.severity);
        d.cvss = max_opt(d.cvss, o.cvss);
        if d.title.is_empty() || *d.title == *d.id {
            d.title = o.title.clone();
        }
        match (&mut d.package, &o.package) {
            (Some(p), Some(op)) => {
                p.purl = p.purl.take().or_else(|| op.purl.clone());
                p.fixed_version = p.fixed_version.take().or_else(|| op.fixed_version.clone());
                p.installed_version = p.installed_version.take().or_else(|| op.installed_version.clone());
            }
            (p @ None, op) => *p = op.clone(),
            _ => {}
        }
        d.location = d.location.take().or_else(|| o.location.clone());
        d.fingerprint = d.fingerprint.take().or_else(|| o.fingerprint.clone());
        d.primary_url = d.primary_url.take().or_else(|| o.primary_url.clone());
        d.published = min_opt(d.published, o.published);
        d.kev |= o.kev;
        d.epss = max_opt(d.epss, o.epss);
    }
    // The occurrence.
    into.first_seen = min_opt(into.first_seen, other.first_seen);
    into.vex = merge_vex(into.vex.take(), other.vex);
    for s in other.sources {
        if !into.sources.iter().any(|x| Arc::ptr_eq(x, &s) || **x == *s) {
            into.sources.push(s);
        }
    }
}

fn max_opt(a: Option<f32>, b: Option<f32>) -> Option<f32> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

fn min_opt<T: Ord>(a: Option<T>, b: Option<T>) -> Option<T> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Format, ImageRef, Severity, Source};

    fn src(format: Format, origin: &str) -> Arc<Source> {
        Arc::new(Source { format, scanner: Arc::from("s"), origin: Arc::from(origin), workload: None, container: None })
    }

    fn vuln(id: &str, pkg: &str, ver: &str, image: &ImageRef, format: Format, origin: &str) -> Finding {
        let mut f = Finding::new(
            FindingKind::Vulnerability,
            id,
            Severity::High,
            "t",
            Artifact::Image(image.clone()),
            src(format, origin),
        );
        f.package =
            Some(Package { name: Arc::from(pkg), installed_version: Some(Arc::from(ver)), ..Default::default() });
        f
    }

    const D: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn same_issue_from_two_scanners_and_two_workloads_is_one_finding() {
        let img = ImageRef::parse(&format!("nginx:1.25@{D}")).unwrap();
        let mut grype = vuln("GHSA-xxxx-yyyy-zzzz", "org.x:Log4j-Core", "2.14.1", &img, Format::CycloneDx, "a");
        grype.add_alias("CVE-2021-44228");
        grype.severity = Severity::Critical;
        let mut trivy = vuln("CVE-2021-44228", "log4j-core", "2.14.1", &img, Format::TrivyOperator, "b");
        trivy.package.as_mut().unwrap().fixed_version = Some(Arc::from("2.17.1"));
        let trivy_other_pod = vuln("CVE-2021-44228", "log4j-core", "2.14.1", &img, Format::TrivyOperator, "c");
        let other_pkg = vuln("CVE-2021-44228", "log4j-api", "2.14.1", &img, Format::TrivyOperator, "b");
        let out = correlate([grype, trivy, trivy_other_pod, other_pkg], |_| None);
        assert_eq!(out.len(), 2, "{out:#?}");
        let f = &out[0];
        assert_eq!(&*f.id, "CVE-2021-44228");
        assert_eq!(f.aliases, vec![Arc::<str>::from("GHSA-xxxx-yyyy-zzzz")]);
        assert_eq!(f.sources.len(), 3);
        assert_eq!(f.severity, Severity::Critical);
        assert_eq!(f.package.as_ref().unwrap().fixed_version.as_deref(), Some("2.17.1"));
    }

    #[test]
    fn tag_only_report_meets_digest_report_through_resolution() {
        let tagged = ImageRef::parse("nginx:1.25").unwrap();
        let pinned = ImageRef::parse(&format!("nginx:1.25@{D}")).unwrap();
        let a = vuln("CVE-2024-0001", "openssl", "3.0.1", &tagged, Format::TrivyJson, "a");
        let b = vuln("CVE-2024-0001", "openssl", "3.0.1", &pinned, Format::TrivyOperator, "b");
        let resolve = |art: &Artifact| match art {
            Artifact::Image(i) if i.digest.is_none() => Some(Artifact::Image(pinned.clone())),
            _ => None,
        };
        let out = correlate([a, b], resolve);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].artifact.key().0.as_ref(), format!("image:{D}"));
    }

    #[test]
    fn transitive_aliases_join_earlier_findings() {
        let img = ImageRef::parse("x:1").unwrap();
        let ghsa = vuln("GHSA-1", "p", "1", &img, Format::CycloneDx, "a");
        let osv = vuln("OSV-1", "p", "1", &img, Format::Spdx, "b");
        let mut both = vuln("CVE-2024-0009", "p", "1", &img, Format::TrivyJson, "c");
        both.add_alias("GHSA-1");
        both.add_alias("OSV-1");
        let out = correlate([ghsa, osv, both], |_| None);
        assert_eq!(out.len(), 1, "{out:#?}");
        assert_eq!(&*out[0].id, "CVE-2024-0009");
        assert_eq!(out[0].sources.len(), 3);
    }
}
