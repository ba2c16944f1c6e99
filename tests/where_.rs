//! `stance where` (issue 11 §2): the blast radius of a package, a vulnerability or an image
//! on the demo, and a package query on the synthetic state.

use std::collections::BTreeSet;
use std::path::PathBuf;

use assert_cmd::Command;
use serde_json::Value;
use stance_core::blast_radius::{Query, search};
use stance_core::index::{IndexConfig, PostureIndex};
use stance_core::synthetic;

const NOW: &str = "2026-11-27T12:00:00Z";

fn demo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/demo")
}

fn where_json(query: &str) -> Value {
    let out = Command::cargo_bin("stance")
        .unwrap()
        .args(["where", query, "--format", "json", "--now", NOW, "--state"])
        .arg(demo())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn workloads(v: &Value) -> Vec<(String, String, String, String)> {
    v["artifacts"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|a| a["workloads"].as_array().unwrap())
        .map(|w| {
            let s = |k: &str| w[k].as_str().unwrap_or("").to_string();
            (s("workload"), format!("{}/{}", s("namespace"), s("app")), s("owner"), s("exposure"))
        })
        .collect()
}

/// "Where does spring-beans < 5.3.18 run?" — Spring4Shell: the payments API image's CI scan
/// lists org.springframework:spring-beans 5.3.15 (examples/demo/reports/ci).
#[test]
fn spring4shell_runs_in_the_payments_api() {
    let v = where_json("pkg:maven/org.springframework/spring-beans@<5.3.18");
    assert_eq!(v["kind"], "package");
    let arts = v["artifacts"].as_array().unwrap();
    assert_eq!(arts.len(), 1, "{v:#}");
    assert_eq!(arts[0]["artifact"], "image:ghcr.io/aquasecurity/trivy-test-images:spring4shell-jre11");
    assert!(arts[0]["matched"][0].as_str().unwrap().contains("5.3.15"), "{v:#}");
    assert_eq!(arts[0]["findings"][0]["id"], "CVE-2022-22965");
    assert_eq!(
        workloads(&v),
        [(
            "Deployment/payments/payments-api".into(),
            "payments/payments-api".into(),
            "team-payments".into(),
            "internet".into()
        )]
    );
    // The same risk `stance scan` gives the finding in that application.
    let scan = Command::cargo_bin("stance")
        .unwrap()
        .args(["scan", "--format", "json", "--now", NOW])
        .arg(demo())
        .output()
        .unwrap();
    let scan: Value = serde_json::from_slice(&scan.stdout).unwrap();
    let pay = scan["apps"].as_array().unwrap().iter().find(|a| a["name"] == "payments-api").unwrap();
    assert_eq!(arts[0]["workloads"][0]["riskScore"], pay["topFindings"][0]["riskScore"]);

    // Outside the range, and a bare name with a range, answer accordingly.
    assert!(
        where_json("pkg:maven/org.springframework/spring-beans@<5.3.0")["artifacts"].as_array().unwrap().is_empty()
    );
    assert_eq!(where_json("spring-beans@<5.3.18")["artifacts"].as_array().unwrap().len(), 1);
    assert!(
        where_json("pkg:maven/org.example/spring-beans")["artifacts"].as_array().unwrap().is_empty(),
        "another group"
    );
}

/// "Where does CVE-2022-3970 run?" — libtiff in nginx:alpine, run by the internet-facing
/// storefront (high criticality) and the unexposed reporting job (low): storefront first.
#[test]
fn cve_2022_3970_runs_in_the_storefront_and_the_reporting_job() {
    let v = where_json("CVE-2022-3970");
    assert_eq!(v["kind"], "vulnerability");
    let arts = v["artifacts"].as_array().unwrap();
    assert_eq!(arts.len(), 1, "{v:#}");
    assert_eq!(arts[0]["artifact"], "image:docker.io/library/nginx:alpine");
    let ws = workloads(&v);
    assert_eq!(ws.len(), 2, "{ws:?}");
    assert_eq!(ws[0].1, "shop/storefront");
    assert_eq!(ws[0].3, "internet");
    assert_eq!(ws[1].1, "analytics/reporting");
    assert_eq!(ws[1].3, "none");
    let risks: Vec<u64> =
        arts[0]["workloads"].as_array().unwrap().iter().map(|w| w["riskScore"].as_u64().unwrap()).collect();
    assert!(risks[0] > risks[1], "{risks:?}");
    assert_eq!(v["applications"], 2);

    // The table says the same.
    let out = Command::cargo_bin("stance")
        .unwrap()
        .args(["where", "cve-2022-3970", "--now", NOW, "--state"])
        .arg(demo())
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("Deployment/shop/storefront  app shop/storefront  owner team-web  exposure internet"),
        "{text}"
    );
}

/// An image query finds the workloads running it even when nothing scanned it; a bad query
/// is a usage error naming what to write.
#[test]
fn images_and_bad_queries() {
    let v = where_json("busybox:latest");
    assert_eq!(v["kind"], "image");
    let arts = v["artifacts"].as_array().unwrap();
    assert_eq!(arts.len(), 1, "{v:#}");
    assert_eq!(arts[0]["scanned"], false);
    assert_eq!(workloads(&v)[0].1, "default/debug-shell");
    assert_eq!(arts[0]["workloads"][0]["inferred"], true);

    let out = Command::cargo_bin("stance")
        .unwrap()
        .args(["where", "pkg:npm/left-pad@>=1.0.0 <2", "--state"])
        .arg(demo())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("version range"), "{}", String::from_utf8_lossy(&out.stderr));
}

/// A package query on the synthetic state: every image whose report lists log4j-core (all
/// synthetic versions are 1.2.3, inside `<2.17.1`) and no other, each with its Pod.
#[test]
fn a_package_query_on_the_synthetic_state() {
    let spec = synthetic::Spec { images: 300, findings: 30_000, reports_per_image: 2, seed: 7 };
    let reports = synthetic::reports(&spec);
    let mut expected = BTreeSet::new();
    for r in &reports {
        if r.findings.iter().any(|f| f.package.as_ref().is_some_and(|p| &*p.name == "log4j-core")) {
            expected.insert(r.scanned[0].to_string());
        }
    }
    assert!(expected.len() > 10 && expected.len() < spec.images, "{}", expected.len());
    let mut index = PostureIndex::new(IndexConfig::default());
    for (i, r) in reports.into_iter().enumerate() {
        index.apply_report(&format!("r{i}"), r);
    }
    for i in 0..spec.images {
        index.apply_workload(synthetic::pod(&format!("team-{}", i % 10), &format!("pod-{i}"), &[i]));
    }
    index.refresh();
    let now = NOW.parse().unwrap();
    let q = Query::parse("pkg:maven/org.apache.logging.log4j/log4j-core@<2.17.1").unwrap();
    let answer = search(&index, &q, None, now);
    let found: BTreeSet<String> = answer.artifacts.iter().map(|h| h.artifact.clone()).collect();
    assert_eq!(found, expected);
    assert!(answer.artifacts.iter().all(|h| h.workloads.len() == 1 && h.workloads[0].inferred));
    assert!(search(&index, &Query::parse("log4j-core@>=2.17.1").unwrap(), None, now).artifacts.is_empty());
    // A viewer who sees one namespace sees only what runs there.
    let only = |ns: &str| ns == "team-3";
    let scoped = search(&index, &q, Some(&only), now);
    assert!(!scoped.artifacts.is_empty());
    assert!(scoped.artifacts.iter().all(|h| h.workloads.iter().all(|w| w.namespace == "team-3")));
}
