//! Namespace visibility of the dashboard against a real API server (issue 11 §3): in
//! `token` mode, two teams' ServiceAccounts, each allowed to read AppPostures in its own
//! namespace only, see only their own applications; an AppSec account with cluster-wide
//! read sees all; a missing or unknown token is refused. TokenReview and
//! SubjectAccessReview are the API server's own.

mod common;

use std::sync::{Arc, RwLock};
use std::time::Duration;

use k8s_openapi::api::core::v1::{Secret, ServiceAccount};
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, RoleBinding};
use kube::Client;
use kube::api::{Api, DeleteParams, PostParams};
use serde_json::json;
use stance::dashboard::access::Reviewer;
use stance::dashboard::{self, Access, Dashboard};
use stance_core::index::{IndexConfig, PostureIndex};
use stance_core::model::App;

async fn create<K>(api: &Api<K>, value: serde_json::Value)
where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + serde::Serialize + std::fmt::Debug,
{
    let obj: K = serde_json::from_value(value).unwrap();
    api.create(&PostParams::default(), &obj).await.unwrap();
}

/// A ServiceAccount's token, once the token controller has written its Secret.
async fn token(client: &Client, ns: &str, name: &str) -> String {
    create(&Api::<ServiceAccount>::namespaced(client.clone(), ns), json!({"metadata": {"name": name}})).await;
    common::cluster::eventually(Duration::from_secs(60), || async {
        let sa = Api::<ServiceAccount>::namespaced(client.clone(), ns).get(name).await.ok()?;
        let secret = sa.secrets?.first()?.name.clone()?;
        let s = Api::<Secret>::namespaced(client.clone(), ns).get(&secret).await.ok()?;
        let t = s.data?.get("token")?.0.clone();
        String::from_utf8(t).ok()
    })
    .await
}

async fn overview(d: &Arc<Dashboard>, token: Option<&str>, path: &str) -> (u16, String) {
    let mut req = warp::test::request().path(path);
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    let res = req.reply(&dashboard::routes(d.clone())).await;
    (res.status().as_u16(), String::from_utf8_lossy(res.body()).into_owned())
}

#[tokio::test]
#[ignore = "needs a Kubernetes API server: run hack/test.sh"]
async fn each_team_sees_its_own_applications_and_appsec_sees_all() {
    let client = common::cluster::client().await;
    let a = common::cluster::namespace(&client, "dash-a").await;
    let b = common::cluster::namespace(&client, "dash-b").await;
    let role = format!("stance-dashboard-test-{a}");
    create(
        &Api::<ClusterRole>::all(client.clone()),
        json!({"metadata": {"name": role}, "rules": [{"apiGroups": ["aspm.stance.dev"], "resources": ["apppostures"], "verbs": ["get", "list", "watch"]}]}),
    )
    .await;
    for (ns, sa) in [(&a, "team-a"), (&b, "team-b")] {
        create(
            &Api::<RoleBinding>::namespaced(client.clone(), ns),
            json!({"metadata": {"name": "view-apppostures"},
                   "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
                   "subjects": [{"kind": "ServiceAccount", "name": sa, "namespace": ns}]}),
        )
        .await;
    }
    create(
        &Api::<ClusterRoleBinding>::all(client.clone()),
        json!({"metadata": {"name": role},
               "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
               "subjects": [{"kind": "ServiceAccount", "name": "appsec", "namespace": a}]}),
    )
    .await;
    let (team_a, team_b, appsec) =
        (token(&client, &a, "team-a").await, token(&client, &b, "team-b").await, token(&client, &a, "appsec").await);

    let mut index = PostureIndex::new(IndexConfig::default());
    for (ns, name) in [(&a, "shop-a"), (&b, "shop-b")] {
        index.apply_app(App { namespace: ns.as_str().into(), name: name.into(), ..App::default() });
    }
    index.refresh();
    let d = Arc::new(Dashboard::new(
        Arc::new(RwLock::new(index)),
        None,
        Access::Token(Arc::new(Reviewer::new(client.clone()))),
        Default::default(),
    ));

    let link = |ns: &str, name: &str| format!(">{ns}/{name}</a>");
    let (status, page) = overview(&d, Some(&team_a), "/").await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains(&link(&a, "shop-a")) && !page.contains(&link(&b, "shop-b")), "team a: {page}");
    let (status, page) = overview(&d, Some(&team_b), "/").await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains(&link(&b, "shop-b")) && !page.contains(&link(&a, "shop-a")), "team b: {page}");
    let (status, page) = overview(&d, Some(&appsec), "/").await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains(&link(&a, "shop-a")) && page.contains(&link(&b, "shop-b")), "appsec: {page}");
    assert!(page.contains("all namespaces"), "{page}");
    // Another team's application page is not there for team b.
    assert_eq!(overview(&d, Some(&team_b), &format!("/apps/{a}/shop-a")).await.0, 404);
    assert_eq!(overview(&d, Some(&team_a), &format!("/apps/{a}/shop-a")).await.0, 200);
    // No token, or one the API server does not know: refused, with the way to sign in.
    let (status, page) = overview(&d, None, "/").await;
    assert_eq!(status, 401);
    assert!(page.contains("action=\"/login\""), "{page}");
    assert_eq!(overview(&d, Some("not-a-token"), "/").await.0, 401);

    let _ = Api::<ClusterRoleBinding>::all(client.clone()).delete(&role, &DeleteParams::default()).await;
    let _ = Api::<ClusterRole>::all(client.clone()).delete(&role, &DeleteParams::default()).await;
    common::cluster::delete_namespace(&client, &a).await;
    common::cluster::delete_namespace(&client, &b).await;
}
