//! SPDX 3.0.1 JSON-LD (`../shared/fixtures/spdx3/`): the SPDX 3 forms of three SBOMs that
//! are also in the fixtures as SPDX 2.3 (`spdx-examples/`) must give the inventory the
//! SPDX 2 parser gives for the 2.3 form; and example7's four linked documents.

mod formats_support;

use std::sync::Arc;

use formats_support::{arr, json, one, s};
use stance_core::model::{Artifact, Component, Format};

/// (SPDX 2.3 form, SPDX 3.0.1 form) of one SBOM, from spdx/spdx-examples.
const PAIRS: [(&str, &str); 3] = [
    ("spdx-examples/sbom.spdx.json", "spdx3/sbom.spdx3.json"),
    ("spdx-examples/examplemaven-0.0.1.spdx.json", "spdx3/examplemaven-0.0.1.spdx3.json"),
    ("spdx-examples/examplemaven-0.0.1-enriched.spdx.json", "spdx3/examplemaven-0.0.1-enriched.spdx3.json"),
];

/// (name, version, purl, licences) of a component.
type Row<'a> = (&'a str, Option<&'a str>, Option<&'a str>, Vec<&'a str>);

fn sorted(mut c: Vec<Component>) -> Vec<Component> {
    c.sort();
    c
}

#[test]
fn spdx3_forms_give_the_same_components_and_subject_as_spdx_2_3() {
    for (v2, v3) in PAIRS {
        let (a, b) = (one(v2), one(v3));
        assert_eq!(b.source.format, Format::Spdx);
        let (ca, cb) = (sorted(a.components.clone().unwrap()), sorted(b.components.clone().unwrap()));
        assert!(!ca.is_empty(), "{v2}: not vacuous");
        assert_eq!(ca, cb, "{v2} vs {v3}");
        assert_eq!(a.scanned, b.scanned, "{v2} vs {v3}");
        // Both forms state the same package count (the subject excluded), read from the files.
        let packages_v2 = arr(&json(v2), "packages").len();
        let packages_v3 = arr(&json(v3), "@graph").iter().filter(|e| s(e, "type") == "software_Package").count();
        assert_eq!(packages_v2, packages_v3, "{v2}");
        assert_eq!(cb.len(), packages_v3 - 1, "{v3}: every package but the subject");
        // No security advisory references in either form: no findings.
        assert!(b.findings.is_empty() && a.findings.is_empty());
        assert_eq!(formats_support::cli_distinct(v3), 0);
    }
}

#[test]
fn spdx3_values() {
    let r = one("spdx3/sbom.spdx3.json");
    assert_eq!(&*r.source.scanner, "sigs.k8s.io/bom/pkg/spdx");
    assert_eq!(r.scanned_at, Some("2022-11-03T07:10:10Z".parse().unwrap()));
    assert_eq!(r.scanned, vec![Artifact::Other(Arc::from("hello-server-src@0.1.0"))]);
    let c = sorted(r.components.unwrap());
    let got: Vec<Row<'_>> = c
        .iter()
        .map(|c| (&*c.name, c.version.as_deref(), c.purl.as_deref(), c.licenses.iter().map(|l| &**l).collect()))
        .collect();
    assert_eq!(
        got,
        [
            ("hyper", Some("0.14"), Some("pkg:cargo/hyper@0.14"), vec!["MIT"]),
            ("pretty_env_logger", Some("0.4.0"), Some("pkg:cargo/pretty_env_logger@0.4.0"), vec!["MIT OR Apache-2.0"]),
            ("tokio", Some("1.19.2"), Some("pkg:cargo/tokio@1.19.2"), vec!["MIT"]),
        ]
    );
    // examplemaven: JUnit's concluded licence is NOASSERTION, its declared one CPL-1.0.
    let m = one("spdx3/examplemaven-0.0.1.spdx3.json");
    assert_eq!(&*m.source.scanner, "spdx-maven-plugin");
    assert_eq!(m.scanned, vec![Artifact::Other(Arc::from("examplemaven@0.0.1"))]);
    let junit = m.components.as_ref().unwrap().iter().find(|c| &*c.name == "JUnit").unwrap();
    assert_eq!((junit.version.as_deref(), junit.licenses.clone()), (Some("3.8.1"), vec![Arc::<str>::from("CPL-1.0")]));
}

#[test]
fn example7_linked_documents() {
    // The binary's SBOM describes a file, not a package: no package subject.
    let bin = one("spdx3/example7-bin.spdx3.json");
    assert_eq!(bin.scanned, vec![Artifact::Other(Arc::from("example7-bin.spdx"))]);
    assert_eq!(bin.scanned_at, Some("2020-11-24T01:12:27Z".parse().unwrap()));
    assert_eq!(bin.components.as_deref(), Some(&[][..]));
    // The module's source package is downloaded from git: a repository.
    let module = one("spdx3/example7-go-module.spdx3.json");
    assert_eq!(module.scanned, vec![Artifact::Repository(Arc::from("github.com/spdx/spdx-examples"))]);
    let go = one("spdx3/example7-golang.spdx3.json");
    assert_eq!(go.scanned, vec![Artifact::Other(Arc::from("go1.16.4.linux-amd64.tar.gz@1.16.4"))]);
    // Both third-party modules are roots of their SBOM: no components.
    let third = one("spdx3/example7-third-party-modules.spdx3.json");
    assert_eq!(third.components.as_deref(), Some(&[][..]));
}
