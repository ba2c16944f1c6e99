use std::sync::Arc;

use jiff::Timestamp;

use super::*;
use crate::ingest::source;
use crate::model::{Artifact, Format, ImageRef, Package, ProductId, Purl, Severity, VexFormat, VexProduct, VexState};

fn at(s: &str) -> Option<Timestamp> {
    Some(s.parse().unwrap())
}

fn finding(id: &str, aliases: &[&str], purl: &str, artifact: Artifact) -> Arc<Finding> {
    let src = source(Format::Grype, "grype", "scan.json");
    let mut f = Finding::new(FindingKind::Vulnerability, id, Severity::High, id, artifact, src);
    for a in aliases {
        f.add_alias(a);
    }
    f.package = Some(Package {
        purl: Some(Arc::from(purl)),
        name: Arc::from("x"),
        installed_version: None,
        fixed_version: None,
    });
    Arc::new(f)
}

fn statement(path: &str, vuln: &str, purl: &str, state: VexState, time: Option<Timestamp>) -> VexStatement {
    VexStatement {
        path: Arc::from(path),
        vulnerabilities: vec![Arc::from(vuln)],
        products: vec![VexProduct { id: ProductId::Package(Purl::parse(purl).unwrap()), subcomponents: vec![] }],
        state,
        justification: Some(Arc::from("vulnerable_code_not_present")),
        impact: None,
        action: None,
        timestamp: time,
    }
}

fn doc(id: &str, statements: Vec<VexStatement>) -> Arc<VexDocument> {
    Arc::new(VexDocument {
        format: VexFormat::OpenVex,
        id: Arc::from(id),
        origin: Arc::from(format!("{id}.json")),
        author: None,
        timestamp: None,
        statements,
    })
}

fn repo() -> Artifact {
    Artifact::Repository(Arc::from("github.com/shop/cart"))
}

const PURL: &str = "pkg:npm/lodash@4.17.20";

#[test]
fn statements_match_by_alias_and_package() {
    let mut set = VexSet::default();
    set.insert(
        "a",
        doc("a", vec![statement("statements[0]", "ghsa-35jh-r3h4-6jhm", PURL, VexState::NotAffected, None)]),
    );
    let mut findings = vec![
        finding("CVE-2021-23337", &["GHSA-35jh-r3h4-6jhm"], PURL, repo()),
        finding("CVE-2021-23337", &["GHSA-35jh-r3h4-6jhm"], "pkg:npm/lodash@4.17.21", repo()),
        finding("CVE-2020-8203", &[], PURL, repo()),
    ];
    set.apply(&mut findings);
    assert!(findings[0].suppressed(), "the alias, in another case, names the vulnerability");
    let source = findings[0].vex.as_ref().unwrap().source.clone().unwrap();
    assert_eq!((&*source.document, &*source.statement), ("a", "statements[0]"));
    assert!(findings[1].vex.is_none(), "another version of the package");
    assert!(findings[2].vex.is_none(), "another vulnerability");
}

#[test]
fn the_latest_statement_wins_within_and_across_documents() {
    let mut set = VexSet::default();
    // Within one document: the later time wins, whatever the order.
    set.insert(
        "a",
        doc(
            "a",
            vec![
                statement("statements[0]", "CVE-1", PURL, VexState::NotAffected, at("2026-03-01T00:00:00Z")),
                statement("statements[1]", "CVE-1", PURL, VexState::Affected, at("2026-01-01T00:00:00Z")),
            ],
        ),
    );
    let decided = |set: &VexSet| set.decide(&finding("CVE-1", &[], PURL, repo())).unwrap();
    let v = decided(&set);
    assert_eq!(v.state, VexState::NotAffected);
    assert!(v.source.as_ref().unwrap().conflicts.is_empty(), "one document does not conflict with itself");
    // Another document, later: it wins, and the disagreement is listed.
    set.insert(
        "b",
        doc("b", vec![statement("statements[0]", "CVE-1", PURL, VexState::Affected, at("2026-04-01T00:00:00Z"))]),
    );
    let v = decided(&set);
    assert_eq!(v.state, VexState::Affected);
    let src = v.source.unwrap();
    assert_eq!(&*src.document, "b");
    assert_eq!(src.conflicts.len(), 1);
    assert_eq!((&*src.conflicts[0].document, src.conflicts[0].state), ("a", VexState::NotAffected));
    // Removing it restores the first document's word.
    set.remove("b");
    assert_eq!(decided(&set).state, VexState::NotAffected);
}

#[test]
fn equal_times_keep_the_finding_open_and_conflicts_are_named() {
    let mut set = VexSet::default();
    let t = at("2026-01-01T00:00:00Z");
    set.insert("a", doc("a", vec![statement("statements[0]", "CVE-1", PURL, VexState::NotAffected, t)]));
    let b = doc("b", vec![statement("statements[0]", "CVE-1", PURL, VexState::UnderInvestigation, t)]);
    let lines = set.conflicts("b", &b);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].contains("under_investigation") && lines[0].contains("not_affected"), "{}", lines[0]);
    set.insert("b", b);
    let v = set.decide(&finding("CVE-1", &[], PURL, repo())).unwrap();
    assert_eq!(v.state, VexState::UnderInvestigation);
    assert_eq!(v.source.unwrap().conflicts.len(), 1);
    // Documents that agree are no conflict.
    let c = doc("c", vec![statement("statements[0]", "CVE-1", PURL, VexState::Fixed, t)]);
    assert_eq!(set.conflicts("c", &c).len(), 1, "only b disagrees with a suppressing statement");
}

#[test]
fn a_scanner_state_is_replaced_and_listed_when_it_disagrees() {
    let mut set = VexSet::default();
    set.insert("a", doc("a", vec![statement("statements[0]", "CVE-1", PURL, VexState::Affected, None)]));
    let mut f = finding("CVE-1", &[], PURL, repo());
    Arc::make_mut(&mut f).vex = Some(Vex::new(VexState::NotAffected, Some(Arc::from("vendor said so"))));
    let v = set.decide(&f).unwrap();
    assert_eq!(v.state, VexState::Affected);
    assert_eq!(&*v.source.unwrap().conflicts[0].document, "scanner report");
}

#[test]
fn images_only_by_their_own_digest() {
    let digest = format!("sha256:{}", "c".repeat(64));
    let image = |d: &str| Artifact::Image(ImageRef::from_parts("ghcr.io", "shop/cart", Some("1"), Some(d)));
    let mut set = VexSet::default();
    let mut s = statement("statements[0]", "CVE-1", PURL, VexState::NotAffected, None);
    s.products = vec![VexProduct {
        id: ProductId::Image { tag: None, name: None, digest: Some(digest.clone()) },
        subcomponents: vec![ProductId::Package(Purl::parse("pkg:npm/lodash").unwrap())],
    }];
    set.insert("a", doc("a", vec![s]));
    let mut findings = vec![
        finding("CVE-1", &[], PURL, image(&digest)),
        finding("CVE-1", &[], PURL, image(&format!("sha256:{}", "d".repeat(64)))),
        finding("CVE-1", &[], "pkg:npm/minimist@1.2.5", image(&digest)),
    ];
    set.apply(&mut findings);
    assert!(findings[0].suppressed());
    assert!(!findings[1].suppressed(), "another image");
    assert!(!findings[2].suppressed(), "another package of the image");
}
