//! OSV-Scanner JSON (`osv-scanner --format json`, v1 and v2): `results[]`, one per source
//! (lockfile, SBOM, git directory), each with `packages[]` and the OSV records
//! (<https://ossf.github.io/osv-schema/>) that affect them, grouped by osv-scanner into
//! `groups[]` of records that are the same vulnerability
//! (<https://google.github.io/osv-scanner/output/#json>).
//!
//! One [`Report`] per `results[]` entry:
//!
//! * **artifact**: [`Artifact::Other`] named by the project directory — the directory of a
//!   lockfile or SBOM `source.path`, or the path itself for `git` / `directory` sources
//!   (see [`super::project_dir`]); the source path is each finding's location.
//! * **findings**: one vulnerability per package and `groups[]` entry (records without a
//!   group — osv-scanner before groups existed — are a group each):
//!   - id: the group's first id (`ids[0]`); aliases the group's `aliases` and every
//!     record's `aliases`; a CVE alias becomes the primary id.
//!   - severity: the highest `database_specific.severity` of the group's records (GitHub's
//!     rating: `MODERATE` → medium), else the rating of the CVSS score below, else unknown.
//!   - CVSS: the group's `max_severity` when osv-scanner computed it, else the highest
//!     CVSS v3 base score computed from the records' `severity[].score` vectors
//!     ([`super::cvss_vector`]).
//!   - package: `package.name`, `package.version`, `package.purl` (osv-scanner v2; for v1,
//!     built from `package.ecosystem` by `stance_ecosystem::osv_purl`); fixed
//!     versions: the `fixed` events of the records' `affected[]` entries for this package
//!     (ecosystem and name), joined by `, `. A git source's package has only a `commit`: the
//!     finding then has no package.
//!   - title: the first record's `summary` (else the first line of `details`); URL its
//!     first `ADVISORY` reference, else its first reference; published the earliest
//!     `published`.
//! * **identity**: id and aliases × project directory × package short name and version.

use std::collections::BTreeSet;
use std::sync::Arc;

use serde::Deserialize;
use serde_json::Value;

use super::FormatError;
use super::cvss_vector::base_score_v3;
use super::error_path::{typed, typed_or_default};
use super::lenient::{Num, Text, items};
use super::project_dir::{normalize_dir, parent_dir};
use super::title::title_line;
use super::{source, timestamp};
use crate::model::{Artifact, Finding, FindingKind, Format, Package, Report, Severity, Source};

/// True for an osv-scanner JSON document: a `results` array whose entries have a `source`
/// and `packages` (or an empty one with osv-scanner's `experimental_config`).
pub fn detect(v: &Value) -> bool {
    let Some(results) = v.get("results").and_then(Value::as_array) else { return false };
    match results.first() {
        Some(first) => first.get("source").is_some_and(Value::is_object) && first.get("packages").is_some(),
        None => v.get("experimental_config").is_some(),
    }
}

#[derive(Deserialize, Default)]
#[serde(default, expecting = "an osv-scanner result")]
struct ResultDoc {
    source: Option<SourceDoc>,
    packages: Option<Vec<Value>>,
}

#[derive(Deserialize, Default)]
#[serde(default, expecting = "an object")]
struct SourceDoc {
    path: Text,
    #[serde(rename = "type")]
    ty: Text,
}

#[derive(Deserialize, Default)]
#[serde(default, expecting = "an osv-scanner package entry")]
struct PackageEntry {
    package: Option<PackageInfo>,
    vulnerabilities: Option<Vec<Value>>,
    groups: Option<Vec<Group>>,
}

#[derive(Deserialize, Default)]
#[serde(default, expecting = "an object")]
struct PackageInfo {
    name: Text,
    version: Text,
    ecosystem: Text,
    purl: Text,
}

#[derive(Deserialize, Default)]
#[serde(default, expecting = "a group object")]
struct Group {
    ids: Option<Vec<Text>>,
    aliases: Option<Vec<Text>>,
    max_severity: Num,
}

/// The parts of an OSV record Stance reads.
#[derive(Deserialize, Default)]
#[serde(default, expecting = "an OSV record")]
struct Record {
    id: Text,
    aliases: Option<Vec<Text>>,
    summary: Text,
    details: Text,
    published: Text,
    severity: Option<Vec<SeverityEntry>>,
    affected: Option<Vec<Affected>>,
    references: Option<Vec<OsvReference>>,
    database_specific: Option<DatabaseSpecific>,
}

#[derive(Deserialize, Default)]
#[serde(default, expecting = "a severity object")]
struct SeverityEntry {
    score: Text,
}

#[derive(Deserialize, Default)]
#[serde(default, expecting = "an affected object")]
struct Affected {
    package: Option<PackageInfo>,
    ranges: Option<Vec<Range>>,
}

#[derive(Deserialize, Default)]
#[serde(default, expecting = "a range object")]
struct Range {
    events: Option<Vec<Event>>,
}

#[derive(Deserialize, Default)]
#[serde(default, expecting = "an event object")]
struct Event {
    fixed: Text,
}

#[derive(Deserialize, Default)]
#[serde(default, expecting = "a reference object")]
struct OsvReference {
    #[serde(rename = "type")]
    ty: Text,
    url: Text,
}

/// `database_specific` is free-form: only a severity word is read.
#[derive(Deserialize, Default)]
#[serde(default)]
struct DatabaseSpecific {
    severity: Option<Value>,
}

/// Parses an osv-scanner document into one report per source.
pub fn parse(origin: &str, v: &Value) -> Result<Vec<Report>, FormatError> {
    let results: Vec<Value> = typed_or_default(v.get("results"), "results")?;
    let src = source(Format::OsvScanner, "OSV-Scanner", origin);
    let mut reports = Vec::new();
    for (i, r) in results.iter().enumerate() {
        let path = format!("results[{i}]");
        let r: ResultDoc = typed(r, &path)?;
        let s = r.source.unwrap_or_default();
        let source_path = s.path.get();
        let dir = source_path.map(|p| match s.ty.get() {
            Some("git" | "directory") => normalize_dir(p),
            _ => parent_dir(p),
        });
        let artifact = Artifact::Other(Arc::from(dir.filter(|d| !d.is_empty()).as_deref().unwrap_or(origin)));
        let mut report = Report::new(src.clone());
        for (j, p) in items(&r.packages) {
            let ppath = format!("{path}.packages[{j}]");
            let entry: PackageEntry = typed(p, &ppath)?;
            add_package(&entry, &ppath, source_path, &artifact, &src, &mut report.findings)?;
        }
        report.scanned = vec![artifact];
        reports.push(report);
    }
    Ok(reports)
}

fn add_package(
    entry: &PackageEntry,
    path: &str,
    location: Option<&str>,
    artifact: &Artifact,
    src: &Arc<Source>,
    out: &mut Vec<Finding>,
) -> Result<(), FormatError> {
    let records: Vec<Record> = items(&entry.vulnerabilities)
        .map(|(i, r)| typed(r, &format!("{path}.vulnerabilities[{i}]")))
        .collect::<Result<_, _>>()?;
    let pkg = entry.package.as_ref();
    // Each group's ids; records no group names are a group of their own.
    let mut groups: Vec<(Vec<&str>, Vec<&str>, Option<f64>)> = entry
        .groups
        .iter()
        .flatten()
        .map(|g| {
            let ids: Vec<&str> = g.ids.iter().flatten().filter_map(Text::get).collect();
            let aliases: Vec<&str> = g.aliases.iter().flatten().filter_map(Text::get).collect();
            (ids, aliases, g.max_severity.get())
        })
        .filter(|(ids, _, _)| !ids.is_empty())
        .collect();
    for r in &records {
        if let Some(id) = r.id.get()
            && !groups.iter().any(|(ids, _, _)| ids.contains(&id))
        {
            groups.push((vec![id], Vec::new(), None));
        }
    }
    for (ids, aliases, max_severity) in groups {
        let members: Vec<&Record> = records.iter().filter(|r| r.id.get().is_some_and(|id| ids.contains(&id))).collect();
        let first = members.first().copied();
        let Some(&id) = ids.first() else { continue };
        let title = first
            .and_then(|r| r.summary.get().or(r.details.get()))
            .and_then(title_line)
            .unwrap_or_else(|| id.to_string());
        let cvss = max_severity.filter(|s| (0.0..=10.0).contains(s)).map(|s| s as f32).or_else(|| {
            members
                .iter()
                .flat_map(|r| r.severity.iter().flatten())
                .filter_map(|s| base_score_v3(s.score.get()?))
                .reduce(f32::max)
        });
        let stated = members
            .iter()
            .filter_map(|r| match r.database_specific.as_ref()?.severity.as_ref()? {
                Value::String(s) => Some(Severity::parse(s)),
                _ => None,
            })
            .max()
            .filter(|s| *s != Severity::Unknown);
        let severity = stated.or_else(|| cvss.map(Severity::from_cvss)).unwrap_or(Severity::Unknown);
        let mut f = Finding::new(FindingKind::Vulnerability, id, severity, &title, artifact.clone(), src.clone());
        for alias in ids
            .iter()
            .chain(&aliases)
            .copied()
            .chain(members.iter().flat_map(|r| r.aliases.iter().flatten().filter_map(Text::get)))
        {
            f.add_alias(alias);
        }
        f.prefer_cve_id();
        f.cvss = cvss;
        if let Some(p) = pkg
            && let Some(name) = p.name.get()
        {
            let fixed = fixed_versions(&members, p);
            // osv-scanner v1 gives no purl: the OSV ecosystem names the purl type, so VEX
            // statements and other scanners' findings can name the same package.
            let purl = p.purl.arc().or_else(|| {
                p.ecosystem.get().and_then(|e| stance_ecosystem::osv_purl(e, name, p.version.get())).map(Arc::from)
            });
            f.package = Some(Package {
                purl,
                name: Arc::from(name),
                installed_version: p.version.arc(),
                fixed_version: (!fixed.is_empty()).then(|| Arc::from(fixed.into_iter().collect::<Vec<_>>().join(", "))),
            });
        }
        f.location = location.map(Arc::from);
        f.published = members.iter().filter_map(|r| r.published.get().and_then(timestamp::parse)).min();
        f.primary_url = first.and_then(|r| {
            let refs = r.references.iter().flatten();
            refs.clone()
                .find(|x| x.ty.get().is_some_and(|t| t.eq_ignore_ascii_case("ADVISORY")))
                .or_else(|| refs.clone().next())
                .and_then(|x| x.url.get().filter(|u| u.starts_with("http")).map(Arc::from))
        });
        out.push(f);
    }
    Ok(())
}

/// The `fixed` events of the records' `affected[]` entries for this package.
fn fixed_versions<'a>(records: &[&'a Record], p: &PackageInfo) -> BTreeSet<&'a str> {
    let same = |a: &PackageInfo| {
        a.name.get() == p.name.get()
            && a.ecosystem.get().map(str::to_ascii_lowercase) == p.ecosystem.get().map(str::to_ascii_lowercase)
    };
    records
        .iter()
        .flat_map(|r| r.affected.iter().flatten())
        .filter(|a| a.package.as_ref().is_some_and(same))
        .flat_map(|a| a.ranges.iter().flatten())
        .flat_map(|r| r.events.iter().flatten())
        .filter_map(|e| e.fixed.get())
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn detects_osv_scanner_documents_only() {
        assert!(detect(&json!({"results": [{"source": {"path": "/a/go.mod"}, "packages": []}]})));
        assert!(detect(&json!({"results": [], "experimental_config": {}})));
        assert!(!detect(&json!({"results": [{"check_id": "x"}], "errors": []})));
        assert!(!detect(&json!({"results": []})));
    }

    #[test]
    fn malformed_input_names_the_field() {
        let e =
            parse("o", &json!({"results": [{"source": {"path": 1}, "packages": [{"vulnerabilities": [{"id": []}]}]}]}))
                .unwrap_err();
        assert!(e.to_string().starts_with("results[0].packages[0].vulnerabilities[0].id:"), "{e}");
        let e = parse("o", &json!({"results": {}})).unwrap_err();
        assert!(e.to_string().starts_with("results:"), "{e}");
    }

    #[test]
    fn ungrouped_records_and_computed_scores() {
        let v = json!({"results": [{"source": {"path": "/src/app/package-lock.json", "type": "lockfile"}, "packages": [{
            "package": {"name": "lodash", "version": "4.17.20", "ecosystem": "npm"},
            "vulnerabilities": [{"id": "GHSA-35jh-r3h4-6jhm", "aliases": ["CVE-2021-23337"],
                "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:H/I:H/A:H"}],
                "affected": [{"package": {"ecosystem": "npm", "name": "lodash"},
                              "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "4.17.21"}]}]}]}]
        }]}]});
        let r = parse("o", &v).unwrap().remove(0);
        assert_eq!(r.scanned, vec![Artifact::Other(Arc::from("/src/app"))]);
        let f = &r.findings[0];
        assert_eq!(&*f.id, "CVE-2021-23337");
        assert_eq!((f.cvss, f.severity), (Some(7.2), Severity::High));
        assert_eq!(f.package.as_ref().unwrap().fixed_version.as_deref(), Some("4.17.21"));
    }
}
