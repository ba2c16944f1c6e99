//! OSV-Scanner JSON and npm audit (v7+) from DefectDojo's parser tests
//! (`defectdojo/osv-scanner/`, `defectdojo/npm-audit/`). Expected values are read from the
//! files here or were read with jq.

mod formats_support;

use std::sync::Arc;

use formats_support::{arr, cli_distinct, distinct_by_ids, json, one, reports, s};
use serde_json::Value;
use stance_core::model::{Artifact, Format, Severity};

/// The project directory of an osv-scanner source, restated: a lockfile's directory, a
/// git source's own path.
fn osv_dir(source: &Value) -> String {
    let path = s(source, "path");
    if s(source, "type") == "git" {
        path.trim_end_matches('/').to_string()
    } else {
        path.rsplit_once('/').map_or("", |(d, _)| d).to_string()
    }
}

/// OSV-Scanner's identity rule on the raw file: per project directory and package
/// (name, version), one issue per group of records (ids and aliases).
fn osv_distinct(doc: &Value) -> usize {
    let mut items = Vec::new();
    for r in arr(doc, "results") {
        let dir = osv_dir(&r["source"]);
        for p in arr(r, "packages") {
            let key = (dir.clone(), s(&p["package"], "name").to_string(), s(&p["package"], "version").to_string());
            for g in arr(p, "groups") {
                let ids = arr(g, "ids").iter().chain(arr(g, "aliases")).filter_map(Value::as_str).map(str::to_string);
                items.push((key.clone(), ids.collect::<Vec<_>>()));
            }
        }
    }
    distinct_by_ids(&items)
}

#[test]
fn osv_fixtures_give_as_many_findings_as_distinct_issues() {
    for rel in ["defectdojo/osv-scanner/many_findings.json", "defectdojo/osv-scanner/some_findings.json"] {
        let doc = json(rel);
        let rs = reports(rel);
        assert_eq!(rs.len(), arr(&doc, "results").len(), "{rel}: one report per source");
        let groups: usize =
            arr(&doc, "results").iter().flat_map(|r| arr(r, "packages")).map(|p| arr(p, "groups").len()).sum();
        assert_eq!(rs.iter().map(|r| r.findings.len()).sum::<usize>(), groups, "{rel}: one finding per group");
        assert_eq!(cli_distinct(rel), osv_distinct(&doc), "{rel}");
    }
}

#[test]
fn osv_many_findings_values() {
    let rel = "defectdojo/osv-scanner/many_findings.json";
    let rs = reports(rel);
    assert_eq!(rs[0].source.format, Format::OsvScanner);
    let dirs: Vec<String> = rs.iter().map(|r| r.scanned[0].to_string()).collect();
    assert_eq!(
        dirs,
        [
            "other:/tmpcardmarket-api",
            "other:/tmpgapps",
            "other:/tmphumble",
            "other:/tmprengine",
            "other:/tmprengine/web",
            "other:/tmptrivy-dojo-report-operator"
        ]
    );
    // jinja2 3.0.3: GHSA-h5c8-rqwp-cp95 (CVE-2024-22195), GitHub rating MODERATE, vector
    // CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:L/I:L/A:N (5.4), fixed in 3.1.3.
    let f = &rs[1].findings[0];
    assert_eq!(&*f.id, "CVE-2024-22195");
    assert_eq!(f.aliases, vec![Arc::<str>::from("GHSA-h5c8-rqwp-cp95")]);
    assert_eq!((f.severity, f.cvss), (Severity::Medium, Some(5.4)));
    let p = f.package.as_ref().unwrap();
    assert_eq!(
        (&*p.name, p.installed_version.as_deref(), p.fixed_version.as_deref()),
        ("jinja2", Some("3.0.3"), Some("3.1.3"))
    );
    assert_eq!(f.location.as_deref(), Some("/tmpgapps/requirements.txt"));
    assert_eq!(f.primary_url.as_deref(), Some("https://nvd.nist.gov/vuln/detail/CVE-2024-22195"));
    assert_eq!(f.published, Some("2024-01-11T15:20:48Z".parse().unwrap()));
    // A git source: the vulnerable commit has no package.
    let git = &rs[3].findings[0];
    assert_eq!((&*git.id, git.package.is_none()), ("CVE-2023-50094", true));
    // One group of two GHSA records (guzzlehttp/psr7): one finding, every alias kept.
    let psr7: Vec<_> =
        rs[0].findings.iter().filter(|f| &*f.package.as_ref().unwrap().name == "guzzlehttp/psr7").collect();
    assert_eq!(psr7.len(), 1);
    for id in ["GHSA-q7rv-6hp3-vh96", "GHSA-wxmh-65f7-jcvw", "CVE-2023-29197"] {
        assert!(psr7[0].ids().any(|i| i == id), "{id}");
    }
}

#[test]
fn osv_malicious_package_record() {
    let r = one("defectdojo/osv-scanner/some_findings.json");
    assert_eq!(r.scanned, vec![Artifact::Other(Arc::from("/tmp/components"))]);
    let f = &r.findings[0];
    // MAL-2023-1035 (GHSA-8348-2q94-ffjx): no CVE; no severity stated, no CVSS.
    assert_eq!(&*f.id, "MAL-2023-1035");
    assert_eq!(f.aliases, vec![Arc::<str>::from("GHSA-8348-2q94-ffjx")]);
    assert_eq!((f.severity, f.cvss), (Severity::Unknown, None));
    assert_eq!(&*f.title, "Malicious code in flot-axis (npm)");
    assert_eq!(f.package.as_ref().unwrap().installed_version.as_deref(), Some("0.0.0"));
    assert_eq!(f.primary_url.as_deref(), Some("https://github.com/advisories/GHSA-8348-2q94-ffjx"));
}

/// npm audit's identity on the raw file: one issue per (advisory URL, package).
fn npm_distinct(doc: &Value) -> usize {
    let mut items = Vec::new();
    for (key, entry) in doc["vulnerabilities"].as_object().unwrap() {
        for via in arr(entry, "via").iter().filter(|v| v.is_object()) {
            let name = if s(via, "name").is_empty() { key.as_str() } else { s(via, "name") };
            items.push((name.to_string(), vec![s(via, "url").to_string()]));
        }
    }
    distinct_by_ids(&items)
}

#[test]
fn npm_audit_fixtures_give_as_many_findings_as_distinct_issues() {
    for rel in ["defectdojo/npm-audit/one_vuln.json", "defectdojo/npm-audit/many_vulns.json"] {
        assert_eq!(cli_distinct(rel), npm_distinct(&json(rel)), "{rel}");
    }
    assert_eq!(npm_distinct(&json("defectdojo/npm-audit/one_vuln.json")), 2);
}

#[test]
fn npm_audit_advisories_not_the_effects() {
    let rel = "defectdojo/npm-audit/many_vulns.json";
    let r = one(rel);
    assert_eq!((r.source.format, &*r.source.scanner), (Format::NpmAudit, "npm audit"));
    assert_eq!(r.scanned, vec![Artifact::Other(Arc::from(rel))]);
    // vercel, @vercel/fun and @vercel/node are vulnerable only through others: no advisory.
    let ids: Vec<(&str, &str)> = r.findings.iter().map(|f| (&*f.id, &*f.package.as_ref().unwrap().name)).collect();
    assert_eq!(
        ids,
        [("GHSA-gxpj-cx7g-858c", "debug"), ("GHSA-c2qf-rxjj-qqgw", "semver"), ("GHSA-3787-6prv-h9w3", "undici")]
    );
    let debug = &r.findings[0];
    assert_eq!((debug.severity, debug.cvss), (Severity::Medium, Some(5.3)));
    assert_eq!(&*debug.title, "Regular Expression Denial of Service in debug");
    assert_eq!(debug.location.as_deref(), Some("node_modules/@vercel/fun/node_modules/debug"));
    assert_eq!(debug.package.as_ref().unwrap().installed_version, None, "npm audit states no version");
    let undici = &r.findings[2];
    assert_eq!((undici.severity, undici.cvss), (Severity::Low, Some(3.9)));

    // The entry says high (the worst of everything), the advisories say moderate and high.
    let one = one("defectdojo/npm-audit/one_vuln.json");
    let sev: Vec<Severity> = one.findings.iter().map(|f| f.severity).collect();
    assert_eq!(sev, [Severity::Medium, Severity::High]);
}
