//! Blast radius: where does a package, a vulnerability or an image run, who owns it, how
//! exposed is it — ranked by contextual risk. What `stance where`, the dashboard's search
//! and its finding page answer.
//!
//! A query ([`Query::parse`]) is one of
//! - a **package**: a package URL with or without version (`pkg:maven/org.apache.logging.log4j/log4j-core`),
//!   optionally a version range in Stance's syntax after `@`
//!   (`pkg:maven/org.springframework/spring-beans@<5.3.18`, `…@>=2.0.0, <2.17.1`), or a
//!   bare package name (`log4j-core`, `log4j-core@<2.17.1`: every ecosystem);
//! - a **vulnerability id**: `CVE-…`, `GHSA-…` or any upper-case `PREFIX-…` advisory id
//!   (`RUSTSEC-…`, `PYSEC-…`, `GO-…`), matched against every id and alias of a finding;
//! - an **image**: `image:REF`, or any reference with a `:` tag, `@` digest or `/`
//!   (`nginx:alpine`, `ghcr.io/acme/api`); without tag or digest every tag matches.
//!
//! The answer lists every artifact that contains it — from SBOMs and scan reports, through
//! the index's per-artifact package index — every top-level workload running it, and for
//! each workload its application (an AppPosture, or the inferred one), owner, exposure and
//! the highest contextual risk of the matching findings there ([`crate::risk::score`] with
//! the application's context, exactly as its assessment ranks them). A version that cannot
//! be compared in the package's ecosystem is reported as undecided, never dropped.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::Arc;

use jiff::Timestamp;
use rustc_hash::FxHashMap;
use serde::Serialize;
use stance_ecosystem::{PackageId, Purl, Scheme, VersionRange};

use crate::assessment::app::trusted_exceptions;
use crate::assessment::inferred::{self, InferredApp};
use crate::guardrail::Exception;
use crate::index::packages::short_name;
use crate::index::{ArtifactPosture, PostureIndex};
use crate::model::finding::is_cve;
use crate::model::{App, Artifact, ArtifactKey, Criticality, Finding, FindingKind, ImageRef, Package, Workload};
use crate::risk::{self, Reach, RiskContext};

/// A parsed query (see the module documentation).
#[derive(Clone, Debug)]
pub enum Query {
    /// A package, by package URL (`id`) or by bare name (`id: None`), with an optional range.
    Package { id: Option<PackageId>, name: String, range: Option<String> },
    /// A vulnerability or advisory id.
    Vulnerability(String),
    /// An image; without tag and digest, every tag of the repository.
    Image(ImageRef),
}

/// Why a query cannot be read; the message says what to write.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    #[error(
        "empty query: give a package URL (pkg:maven/org.apache.logging.log4j/log4j-core@<2.17.1), a package name, a CVE or GHSA id, or an image (nginx:1.25)"
    )]
    Empty,
    #[error("package query {text:?}: {reason}")]
    Package { text: String, reason: String },
    #[error("image query {text:?}: {reason}")]
    Image { text: String, reason: String },
}

impl Query {
    /// Reads a query (see the module documentation for the forms).
    pub fn parse(text: &str) -> Result<Query, QueryError> {
        let t = text.trim();
        if t.is_empty() {
            return Err(QueryError::Empty);
        }
        let package_err = |reason: String| QueryError::Package { text: t.to_string(), reason };
        if t.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("pkg:")) {
            let purl = Purl::parse(t).map_err(|e| package_err(e.to_string()))?;
            let range = purl.version.clone().filter(|v| !v.trim().is_empty());
            if let Some(r) = &range {
                VersionRange::parse(purl.id.scheme(), r)
                    .map_err(|e| package_err(format!("version range {r:?}: {e}")))?;
            }
            return Ok(Query::Package { name: purl.id.name().to_ascii_lowercase(), id: Some(purl.id), range });
        }
        if let Some(rest) = t.strip_prefix("image:") {
            return parse_image(rest.trim());
        }
        if is_advisory_id(t) {
            return Ok(Query::Vulnerability(t.to_string()));
        }
        if t.contains(':') || t.contains('/') {
            return parse_image(t);
        }
        let (name, range) = match t.split_once('@') {
            Some((n, r)) => (n.trim(), Some(r.trim().to_string()).filter(|r| !r.is_empty())),
            None => (t, None),
        };
        if name.is_empty() || name.contains(char::is_whitespace) {
            return Err(package_err("a package name has no spaces; write name@<range, e.g. log4j-core@<2.17.1".into()));
        }
        if let Some(r) = &range {
            VersionRange::parse(Scheme::Generic, r).map_err(|e| package_err(format!("version range {r:?}: {e}")))?;
        }
        Ok(Query::Package { id: None, name: name.to_ascii_lowercase(), range })
    }

    /// `package`, `vulnerability` or `image`.
    pub fn kind(&self) -> &'static str {
        match self {
            Query::Package { .. } => "package",
            Query::Vulnerability(_) => "vulnerability",
            Query::Image(_) => "image",
        }
    }
}

fn parse_image(t: &str) -> Result<Query, QueryError> {
    ImageRef::parse(t).map(Query::Image).map_err(|e| QueryError::Image { text: t.to_string(), reason: e.to_string() })
}

/// `CVE-2021-44228`, `GHSA-jfh8-c2jp-5v3q` (any case), or an upper-case `PREFIX-` id with a
/// digit (`RUSTSEC-2021-0001`, `GO-2022-0001`, `PYSEC-2021-1`).
pub fn is_advisory_id(t: &str) -> bool {
    if is_cve(t) || t.get(..5).is_some_and(|p| p.eq_ignore_ascii_case("ghsa-")) {
        return true;
    }
    let Some((prefix, rest)) = t.split_once('-') else { return false };
    prefix.len() >= 2
        && prefix.bytes().all(|b| b.is_ascii_uppercase())
        && rest.bytes().any(|b| b.is_ascii_digit())
        && rest.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
}

/// Which namespaces the asker may see (`None`: all). Artifacts that run in no visible
/// namespace are left out for a namespaced viewer, so a team never learns another team's
/// images.
pub type Visible<'a> = Option<&'a dyn Fn(&str) -> bool>;

/// The answer to a query.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BlastRadius {
    pub query: String,
    /// `package`, `vulnerability` or `image`.
    pub kind: &'static str,
    /// Artifacts containing it, highest risk first.
    pub artifacts: Vec<Hit>,
    /// Distinct workloads running them.
    pub workloads: usize,
    /// Distinct applications (declared and inferred) those workloads belong to.
    pub applications: usize,
}

/// One artifact that contains what was asked for.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Hit {
    /// `image:…`, `repository:…`, …
    pub artifact: String,
    /// What matched: `name version (purl)` of each package, the finding ids, or `image`.
    pub matched: Vec<String>,
    /// Packages whose version could not be compared with the range, and why: they may be
    /// affected — check them by hand.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub undecided: Vec<String>,
    /// The matching findings on this artifact (a package's vulnerabilities; the id asked for).
    pub findings: Vec<FindingHit>,
    /// Top-level workloads running it, highest risk first.
    pub workloads: Vec<WorkloadHit>,
    /// The highest contextual risk over `workloads` (in an unknown context when none).
    pub risk_score: u32,
    pub scanned: bool,
    pub sbom: bool,
}

/// A matching finding on the artifact.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FindingHit {
    pub id: String,
    pub aliases: Vec<String>,
    pub severity: &'static str,
    pub title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub package: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub installed_version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fixed_version: Option<String>,
    pub known_exploited: bool,
    /// The VEX state when a statement covers it (`not_affected`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vex: Option<String>,
    /// Scanners that reported it, `scanner (format)`.
    pub sources: Vec<String>,
}

/// A workload running the artifact, in its application's context.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkloadHit {
    /// `Kind/namespace/name`.
    pub workload: String,
    pub namespace: String,
    /// Its application's name (declared, or inferred from labels).
    pub app: String,
    pub inferred: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    pub criticality: &'static str,
    /// The application's reach: `internet`, `internal`, `none`.
    pub exposure: &'static str,
    /// The highest contextual risk of the matching open findings here (0 when none).
    pub risk_score: u32,
    /// Matching findings an active RiskException hides here.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub excepted: Vec<String>,
}

/// Answers `query` at `now` for a viewer who sees `visible` namespaces.
pub fn search(index: &PostureIndex, query: &Query, visible: Visible<'_>, now: Timestamp) -> BlastRadius {
    let runners = Runners::new(index, visible);
    let exceptions = trusted_exceptions(index, now);
    let mut contexts = Contexts::default();
    let mut hits = Vec::new();
    let mut seen_apps = std::collections::BTreeSet::new();
    let mut seen_workloads = std::collections::BTreeSet::new();
    for (key, posture, matched, undecided, findings) in candidates(index, query, &runners) {
        let workloads = runners.of(key);
        if visible.is_some() && workloads.is_empty() {
            continue;
        }
        let image = posture.and_then(|p| p.artifact.as_ref()).and_then(Artifact::image);
        let mut whits = Vec::new();
        for w in &workloads {
            for ctx in contexts.of(index, w) {
                let rc = RiskContext {
                    reach: ctx.reach,
                    criticality: ctx.criticality,
                    data: ctx.app.data_classification,
                    privileged: w.is_privileged(),
                    root: w.may_run_as_root(),
                    now,
                };
                let (mut risk_score, mut excepted) = (0, Vec::new());
                for f in findings.iter().filter(|f| !f.suppressed()) {
                    if hidden(&exceptions, f, w, &ctx.app, image) {
                        excepted.push(f.id.to_string());
                    } else {
                        risk_score = risk_score.max(risk::score(f, &rc).score);
                    }
                }
                excepted.sort();
                excepted.dedup();
                seen_apps.insert((ctx.app.namespace.clone(), ctx.app.name.clone(), ctx.inferred));
                seen_workloads.insert(w.object_ref().to_string());
                whits.push(WorkloadHit {
                    workload: w.object_ref().to_string(),
                    namespace: w.namespace.to_string(),
                    app: ctx.app.name.to_string(),
                    inferred: ctx.inferred,
                    owner: ctx.app.owner.clone(),
                    criticality: ctx.criticality.as_str(),
                    exposure: ctx.reach.as_str(),
                    risk_score,
                    excepted,
                });
            }
        }
        whits.sort_by(|a, b| b.risk_score.cmp(&a.risk_score).then_with(|| a.workload.cmp(&b.workload)));
        let risk_score = whits.first().map(|w| w.risk_score).unwrap_or_else(|| {
            let rc = RiskContext::unknown(now);
            findings.iter().filter(|f| !f.suppressed()).map(|f| risk::score(f, &rc).score).max().unwrap_or(0)
        });
        hits.push(Hit {
            artifact: posture.and_then(|p| p.artifact.as_ref()).map_or_else(|| key.0.to_string(), ToString::to_string),
            matched,
            undecided,
            findings: findings.iter().map(|f| finding_hit(f)).collect(),
            workloads: whits,
            risk_score,
            scanned: posture.is_some_and(|p| p.scanned),
            sbom: posture.is_some_and(|p| p.has_sbom()),
        });
    }
    hits.sort_by(|a, b| {
        b.risk_score
            .cmp(&a.risk_score)
            .then(b.workloads.len().cmp(&a.workloads.len()))
            .then_with(|| a.artifact.cmp(&b.artifact))
    });
    BlastRadius {
        query: describe(query),
        kind: query.kind(),
        artifacts: hits,
        workloads: seen_workloads.len(),
        applications: seen_apps.len(),
    }
}

fn describe(q: &Query) -> String {
    match q {
        Query::Package { id: Some(id), range, .. } => match range {
            Some(r) => format!("{id}@{r}"),
            None => id.to_string(),
        },
        Query::Package { id: None, name, range } => match range {
            Some(r) => format!("{name}@{r}"),
            None => name.clone(),
        },
        Query::Vulnerability(id) => id.clone(),
        Query::Image(img) => img.to_string(),
    }
}

fn hidden(exceptions: &[&Exception], f: &Finding, w: &Workload, app: &App, image: Option<&ImageRef>) -> bool {
    let names = [&*app.name];
    exceptions.iter().any(|e| e.hides_finding(f.ids(), &[w], &names, image, &w.namespace))
}

fn finding_hit(f: &Finding) -> FindingHit {
    let mut sources: Vec<String> = f.sources.iter().map(|s| format!("{} ({})", s.scanner, s.format.as_str())).collect();
    sources.sort();
    sources.dedup();
    FindingHit {
        id: f.id.to_string(),
        aliases: f.aliases.iter().map(ToString::to_string).collect(),
        severity: f.severity.as_str(),
        title: f.title.to_string(),
        package: f.package.as_ref().map(|p| p.name.to_string()),
        installed_version: f.package.as_ref().and_then(|p| p.installed_version.as_deref()).map(str::to_string),
        fixed_version: f.package.as_ref().and_then(|p| p.fixed_version.as_deref()).map(str::to_string),
        known_exploited: f.kev,
        vex: f.vex.as_ref().map(|v| format!("{:?}", v.state)).map(|s| snake(&s)),
        sources,
    }
}

fn snake(camel: &str) -> String {
    let mut out = String::new();
    for (i, c) in camel.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

type Candidate<'a> = (&'a ArtifactKey, Option<&'a Arc<ArtifactPosture>>, Vec<String>, Vec<String>, Vec<&'a Finding>);

/// Artifacts matching the query, with what matched, undecided versions and the findings.
fn candidates<'a>(index: &'a PostureIndex, query: &Query, runners: &'a Runners<'a>) -> Vec<Candidate<'a>> {
    let mut out = Vec::new();
    match query {
        Query::Package { id, name, range } => {
            let mut ranges: FxHashMap<Scheme, Option<VersionRange>> = FxHashMap::default();
            for (key, posture) in index.artifacts() {
                if !posture.packages.may_contain(name) {
                    continue;
                }
                let (mut matched, mut undecided) = (Vec::new(), Vec::new());
                let mut judge = |p: &PackageRef<'_>| -> bool {
                    match package_matches(id.as_ref(), name, range.as_deref(), &mut ranges, p) {
                        Judged::Inside => {
                            matched.push(p.label());
                            true
                        }
                        Judged::Undecided(why) => {
                            undecided.push(format!("{}: {why}", p.label()));
                            true
                        }
                        Judged::Outside => false,
                    }
                };
                for c in posture.components.iter().flat_map(|c| c.iter()) {
                    judge(&PackageRef { purl: c.purl.as_deref(), name: &c.name, version: c.version.as_deref() });
                }
                let findings: Vec<&Finding> = posture
                    .findings
                    .iter()
                    .filter(|f| f.kind == FindingKind::Vulnerability)
                    .filter(|f| f.package.as_ref().is_some_and(|p| judge(&PackageRef::of(p))))
                    .map(|f| &**f)
                    .collect();
                matched.sort();
                matched.dedup();
                undecided.sort();
                undecided.dedup();
                if !matched.is_empty() || !undecided.is_empty() {
                    out.push((key, Some(posture), matched, undecided, findings));
                }
            }
        }
        Query::Vulnerability(id) => {
            for (key, posture) in index.artifacts() {
                let findings: Vec<&Finding> = posture
                    .findings
                    .iter()
                    .filter(|f| f.ids().any(|i| i.eq_ignore_ascii_case(id)))
                    .map(|f| &**f)
                    .collect();
                if !findings.is_empty() {
                    let mut matched: Vec<String> = findings.iter().map(|f| f.id.to_string()).collect();
                    matched.dedup();
                    out.push((key, Some(posture), matched, Vec::new(), findings));
                }
            }
        }
        Query::Image(img) => {
            let name = img.name();
            let wanted = |i: &ImageRef| {
                i.name() == name
                    && (img.digest.is_none() || i.digest == img.digest)
                    && (img.tag.is_none() || img.digest.is_some() || i.effective_tag() == img.effective_tag())
            };
            let mut keys: BTreeMap<&ArtifactKey, Option<&Arc<ArtifactPosture>>> = BTreeMap::new();
            for (key, posture) in index.artifacts() {
                if posture.artifact.as_ref().and_then(Artifact::image).is_some_and(wanted) {
                    keys.insert(key, Some(posture));
                }
            }
            for (key, image) in runners.images() {
                if wanted(image) {
                    keys.entry(key).or_insert(None);
                }
            }
            for (key, posture) in keys {
                let findings = posture.map(|p| p.findings.iter().map(|f| &**f).collect()).unwrap_or_default();
                out.push((key, posture, vec!["image".into()], Vec::new(), findings));
            }
        }
    }
    out
}

/// A package as an artifact lists it (an SBOM component or a finding's package).
struct PackageRef<'a> {
    purl: Option<&'a str>,
    name: &'a str,
    version: Option<&'a str>,
}

impl<'a> PackageRef<'a> {
    fn of(p: &'a Package) -> PackageRef<'a> {
        PackageRef { purl: p.purl.as_deref(), name: &p.name, version: p.installed_version.as_deref() }
    }
    fn label(&self) -> String {
        let v = self.version.map(|v| format!(" {v}")).unwrap_or_default();
        match self.purl {
            Some(p) => format!("{}{v} ({p})", self.name),
            None => format!("{}{v}", self.name),
        }
    }
}

enum Judged {
    Inside,
    Outside,
    Undecided(String),
}

/// Whether an artifact's package is the one asked for, and its version inside the range:
/// the one place blast radius decides "same package". Identity is
/// [`stance_ecosystem::PackageId`] equality when both sides have a package URL; a package
/// listed without one (some scanners give only `group:artifact`) matches on its last name
/// segment, and on its group when it shows one. When the index keys packages by
/// `PackageId`, this becomes a lookup of that key.
fn package_matches(
    id: Option<&PackageId>,
    name: &str,
    range: Option<&str>,
    ranges: &mut FxHashMap<Scheme, Option<VersionRange>>,
    p: &PackageRef<'_>,
) -> Judged {
    let purl = p.purl.and_then(|u| Purl::parse(u).ok());
    let same = match (id, &purl) {
        (Some(q), Some(c)) => *q == c.id,
        (Some(q), None) => {
            let (group, last) = match p.name.rsplit_once([':', '/']) {
                Some((g, l)) => (Some(g), l),
                None => (None, p.name),
            };
            last.eq_ignore_ascii_case(q.name())
                && group.is_none_or(|g| q.namespace().is_some_and(|ns| ns.eq_ignore_ascii_case(&g.replace(':', "/"))))
        }
        (None, Some(c)) => c.id.name().eq_ignore_ascii_case(name),
        (None, None) => short_name(p.name) == name,
    };
    if !same {
        return Judged::Outside;
    }
    let Some(range_text) = range else { return Judged::Inside };
    let scheme = id.map(PackageId::scheme).or_else(|| purl.as_ref().map(|c| c.id.scheme())).unwrap_or(Scheme::Generic);
    let Some(range) = ranges.entry(scheme).or_insert_with(|| VersionRange::parse(scheme, range_text).ok()) else {
        return Judged::Undecided(format!("the range {range_text:?} is not one of {} versions", scheme.name()));
    };
    let Some(v) = p.version.or_else(|| purl.as_ref().and_then(|c| c.version.as_deref())) else {
        return Judged::Undecided("no version listed".into());
    };
    // A deb/rpm/alpm version is compared with its package URL's `epoch` qualifier.
    let v = match purl.as_ref().map(|c| c.version_with_epoch(v)) {
        None => Cow::Borrowed(v),
        Some(Ok(with_epoch)) => with_epoch,
        Some(Err(e)) => return Judged::Undecided(e.to_string()),
    };
    match range.contains(&v) {
        Ok(true) => Judged::Inside,
        Ok(false) => Judged::Outside,
        Err(e) => Judged::Undecided(format!("version {v} cannot be compared: {e}")),
    }
}

/// Which visible top-level workloads run each artifact.
struct Runners<'a> {
    by_key: FxHashMap<ArtifactKey, Vec<&'a Workload>>,
    images: Vec<(ArtifactKey, &'a ImageRef)>,
    index: &'a PostureIndex,
}

impl<'a> Runners<'a> {
    fn new(index: &'a PostureIndex, visible: Visible<'_>) -> Runners<'a> {
        let mut by_key: FxHashMap<ArtifactKey, Vec<&'a Workload>> = FxHashMap::default();
        let mut images = Vec::new();
        for w in index.workloads() {
            if !index.is_top_level(w) || visible.is_some_and(|v| !v(&w.namespace)) {
                continue;
            }
            for img in w.images() {
                let key = index.resolve_key(&Artifact::Image(img.clone()));
                let ws = by_key.entry(key.clone()).or_default();
                if !ws.iter().any(|x| std::ptr::eq(*x, &**w)) {
                    ws.push(w);
                    images.push((key, img));
                }
            }
        }
        Runners { by_key, images, index }
    }

    /// Workloads running the artifact: an image's, or a Kubernetes object's own controller.
    fn of(&self, key: &ArtifactKey) -> Vec<&'a Workload> {
        if let Some(ws) = self.by_key.get(key) {
            return ws.clone();
        }
        let object = match self.index.trusted_posture(key).and_then(|p| p.artifact.as_ref()) {
            Some(Artifact::Object(o)) => o.clone(),
            _ => return Vec::new(),
        };
        let Some(top) = self.index.top_level(&object) else { return Vec::new() };
        let visible = self.by_key.values().flatten().any(|w| std::ptr::eq(*w, &**top));
        if visible { vec![&**top] } else { Vec::new() }
    }

    fn images(&self) -> impl Iterator<Item = (&ArtifactKey, &'a ImageRef)> + '_ {
        self.images.iter().map(|(k, i)| (k, *i))
    }
}

/// A workload's application with its resolved reach and criticality
/// ([`PostureIndex::context`]: declarations raise, never lower).
struct AppContext {
    app: App,
    inferred: bool,
    reach: Reach,
    criticality: Criticality,
}

/// Application contexts, computed once per application (inferred ones once per namespace).
#[derive(Default)]
struct Contexts {
    declared: FxHashMap<(Arc<str>, Arc<str>), Arc<AppContext>>,
    inferred: FxHashMap<Arc<str>, FxHashMap<String, Arc<AppContext>>>,
}

impl Contexts {
    fn of(&mut self, index: &PostureIndex, w: &Workload) -> Vec<Arc<AppContext>> {
        let declared: Vec<Arc<AppContext>> = index
            .apps_of(w)
            .map(|a| {
                self.declared
                    .entry((a.namespace.clone(), a.name.clone()))
                    .or_insert_with(|| {
                        let c = index.app_context(a);
                        Arc::new(AppContext {
                            app: (**a).clone(),
                            inferred: false,
                            reach: c.reach,
                            criticality: c.criticality,
                        })
                    })
                    .clone()
            })
            .collect();
        if !declared.is_empty() {
            return declared;
        }
        let by_name = self.inferred.entry(w.namespace.clone()).or_insert_with(|| {
            inferred::applications_in(index, &w.namespace)
                .into_iter()
                .map(|i: InferredApp<'_>| {
                    let c = i.context(index);
                    let ctx = AppContext { app: i.app, inferred: true, reach: c.reach, criticality: c.criticality };
                    (ctx.app.name.to_string(), Arc::new(ctx))
                })
                .collect()
        });
        by_name.get(&inferred::name_of(w).0).cloned().into_iter().collect()
    }
}
