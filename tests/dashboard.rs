//! The dashboard in-process (warp's test client, no socket): every page of the demo, the
//! strict Content-Security-Policy, and escaping of values that come from the input — a
//! finding title holding `<script>` and a label value holding quotes (issue 11 §3).

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use stance::dashboard::{self, Access, Dashboard};
use stance::ingest::load_index;
use stance_core::index::IndexConfig;

const NOW: &str = "2026-11-27T12:00:00Z";

fn dashboard(paths: &[PathBuf]) -> Arc<Dashboard> {
    let (index, summary) = load_index(IndexConfig::default(), paths).unwrap();
    Arc::new(Dashboard::new(Arc::new(RwLock::new(index)), Some(NOW.parse().unwrap()), Access::None, summary))
}

async fn get(d: &Arc<Dashboard>, path: &str) -> (u16, String, http::HeaderMap) {
    let res = warp::test::request()
        .path(path)
        .remote_addr("127.0.0.1:40000".parse().unwrap())
        .reply(&dashboard::routes(d.clone()))
        .await;
    (res.status().as_u16(), String::from_utf8_lossy(res.body()).into_owned(), res.headers().clone())
}

fn demo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/demo")
}

#[tokio::test]
async fn every_page_of_the_demo_answers_under_a_strict_csp() {
    let d = dashboard(&[demo()]);
    let (status, body, headers) = get(&d, "/").await;
    assert_eq!(status, 200);
    let csp = headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("default-src 'none'") && csp.contains("style-src 'self'") && !csp.contains("unsafe"), "{csp}");
    assert!(!body.contains("<script") && !body.contains("style=\""), "no script, no inline style");
    for app in ["payments/payments-api", "shop/storefront", "analytics/reporting", "shop/catalog"] {
        assert!(body.contains(&format!(">{app}</a>")), "overview lists {app}");
    }
    assert!(body.contains("default/debug-shell</a> <span class=\"badge\">inferred</span>"), "{body}");
    for (path, needle) in [
        ("/apps/payments/payments-api", "CVE-2022-22965"),
        ("/apps/shop/storefront?severity=high", "HIGH only"),
        ("/inferred/default/debug-shell", "Inferred from"),
        ("/findings/CVE-2022-3970", "Deployment/shop/storefront"),
        ("/search?q=pkg%3Amaven%2Forg.springframework%2Fspring-beans%40%3C5.3.18", "Deployment/payments/payments-api"),
        ("/search?q=log4j-core", "Not found in any SBOM"),
        ("/policies", "banned-components"),
        ("/exceptions", "storefront-curl-hsts"),
        ("/not-running", "Not running"),
    ] {
        let (status, body, _) = get(&d, path).await;
        assert_eq!(status, 200, "{path}");
        assert!(body.contains(needle), "{path} shows {needle}:\n{body}");
    }
    let (status, body, _) = get(&d, "/api/where?q=CVE-2022-3970").await;
    assert_eq!(status, 200);
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["artifacts"][0]["workloads"].as_array().unwrap().len(), 2);
    assert_eq!(get(&d, "/apps/nope/nope").await.0, 404);
    assert_eq!(get(&d, "/api/where?q=pkg%3A").await.0, 400);
    // An application's page lists the exceptions that may concern it, never another team's
    // (whose names and tickets tell of its unpatched risk): the payments waiver shows on the
    // payments application only, the shop/analytics one on the storefront.
    let (_, payments, _) = get(&d, "/apps/payments/payments-api").await;
    assert!(payments.contains("payments-spring4shell-hotfix-window"), "{payments}");
    let (_, catalog, _) = get(&d, "/apps/shop/catalog").await;
    assert!(!catalog.contains("payments-spring4shell-hotfix-window"), "{catalog}");
    assert!(catalog.contains("storefront-curl-hsts"), "covers the shop namespace: {catalog}");
    let css = get(&d, "/static/style.css").await;
    assert_eq!(css.2["content-type"], "text/css; charset=utf-8");
    let post = warp::test::request().method("DELETE").path("/").reply(&dashboard::routes(d.clone())).await;
    assert_eq!(post.status(), 405, "read-only");
}

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

#[tokio::test]
async fn values_from_the_input_are_escaped() {
    let dir = tempfile::tempdir().unwrap();
    // A real Trivy report whose first title is replaced by markup, and a Pod running that
    // image whose label (which names its inferred application) holds quotes and markup.
    let fixture = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures/trivy/alpine-310.json.golden");
    let report = std::fs::read_to_string(fixture).unwrap().replacen(
        "openssl: information disclosure in fork()",
        "<script>alert(1)</script>",
        1,
    );
    assert!(report.contains("<script>alert(1)</script>"));
    write(dir.path(), "report.json", &report);
    write(
        dir.path(),
        "pod.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  namespace: shop\n  labels:\n    app.kubernetes.io/part-of: \
         'x\" onmouseover=\"alert(2)\"><b>q'\nspec:\n  containers:\n  - name: c\n    image: ghcr.io/aquasecurity/trivy-test-images:alpine-310\n",
    );
    let d = dashboard(&[dir.path().to_path_buf()]);
    let app = "/inferred/shop/x%22%20onmouseover%3D%22alert%282%29%22%3E%3Cb%3Eq";
    for path in ["/", app, "/search?q=CVE-2019-1549", "/findings/CVE-2019-1549", "/search?q=%3Cscript%3E"] {
        let (status, body, _) = get(&d, path).await;
        assert_eq!(status, 200, "{path}: {body}");
        assert!(!body.contains("<script"), "{path} contains raw markup:\n{body}");
        assert!(!body.contains("\" onmouseover=\""), "{path} lets a quote out of an attribute:\n{body}");
        assert!(!body.contains("<b>q"), "{path}");
    }
    let (_, overview, _) = get(&d, "/").await;
    assert!(overview.contains("x&#34; onmouseover=&#34;alert(2)&#34;&#62;&#60;b&#62;q"), "{overview}");
    let (_, page, _) = get(&d, app).await;
    assert!(page.contains("&#60;script&#62;alert(1)&#60;/script&#62;"), "{page}");
}

/// The report's own summary counts (input data): critical, high, medium, low.
fn report_summary(version: &str) -> [u64; 4] {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("examples/history/{version}/vulnerabilityreport.json"));
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let s = &v["report"]["summary"];
    ["criticalCount", "highCount", "mediumCount", "lowCount"].map(|k| s[k].as_u64().unwrap())
}

/// `stance serve --history`'s trends (docs/history.md): the storefront timeline of
/// examples/history recorded with `stance scan --history`, read back by the dashboard's
/// trend source — the overview's trend chart and `GET /api/trends` with the reports' counts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trends_come_from_the_history_store() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}/history.db", dir.path().display());
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/history");
    for (version, at) in [("v1", "2026-11-02T09:00:00Z"), ("v2", "2026-11-23T09:00:00Z")] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_stance"))
            .arg("scan")
            .arg(root.join("stance"))
            .arg(root.join(version))
            .args(["--history", &url, "--now", at])
            .output()
            .unwrap();
        assert!(out.status.code().is_some_and(|c| c <= 1), "{}", String::from_utf8_lossy(&out.stderr));
    }
    let now: jiff::Timestamp = "2026-11-24T00:00:00Z".parse().unwrap();
    let (index, summary) = load_index(IndexConfig::default(), &[root.join("stance"), root.join("v2")]).unwrap();
    let mut d = Dashboard::new(Arc::new(RwLock::new(index)), Some(now), Access::None, summary);
    let without = Arc::new(Dashboard::new(d.index.clone(), Some(now), Access::None, Default::default()));
    let store = stance_history::Store::open(&url.parse().unwrap(), "default").await.unwrap();
    let handle = tokio::runtime::Handle::current();
    d.trends = Some(Arc::new(dashboard::trends::HistoryTrends::new(store.reader(), None, handle, Some(now))));
    let d = Arc::new(d);

    let (status, body, _) = get(&d, "/api/trends?app=shop/storefront").await;
    assert_eq!(status, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    let points = v["points"].as_array().unwrap();
    assert_eq!(points.len(), 2, "{v:#}");
    for (p, (day, version)) in points.iter().zip([("2026-11-02", "v1"), ("2026-11-23", "v2")]) {
        assert_eq!(p["day"], day);
        let open = &p["open"];
        let counts = [&open["critical"], &open["high"], &open["medium"], &open["low"]].map(|c| c.as_u64().unwrap());
        assert_eq!(counts, report_summary(version), "{day}: {p}");
    }
    // The whole cluster: the same application alone.
    let (_, all, _) = get(&d, "/api/trends").await;
    let all: serde_json::Value = serde_json::from_str(&all).unwrap();
    assert_eq!(all["points"], v["points"]);
    let (status, _, _) = get(&d, "/api/trends?app=storefront").await;
    assert_eq!(status, 400);
    // The overview draws the trend; without a store it says one is needed.
    let (_, overview, _) = get(&d, "/").await;
    assert!(overview.contains("Open critical and high findings over time"), "{overview}");
    let (_, plain, _) = get(&without, "/").await;
    assert!(plain.contains("Trends appear once a history store is configured."));
    assert_eq!(get(&without, "/api/trends").await.0, 404);
}
