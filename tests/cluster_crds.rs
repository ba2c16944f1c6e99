//! Stance's CRDs against a real API server: they install, become Established, and the
//! demo's objects pass the server's schema validation (and bad ones are refused).

mod common;

use kube::CustomResourceExt;
use kube::api::{Api, DynamicObject, PostParams};
use kube::discovery::ApiResource;
use stance::api::{AppPosture, Asset, GuardrailPolicy, RiskException};

#[tokio::test]
#[ignore = "needs a Kubernetes API server: run hack/test.sh"]
async fn crds_install_and_validate_real_objects() {
    let client = common::cluster::client().await;
    common::cluster::install_crds(&client, common::cluster::stance_crds()).await;
    let ns = common::cluster::namespace(&client, "crds").await;
    // The namespaced demo objects, re-homed into the test namespace.
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/demo/stance");
    let mut created = 0;
    for file in ["apps.yaml", "policies.yaml", "exceptions.yaml"] {
        let text = std::fs::read_to_string(dir.join(file)).unwrap();
        for doc in serde_yaml::Deserializer::from_str(&text) {
            let mut obj: DynamicObject = serde::Deserialize::deserialize(doc).unwrap();
            let kind = obj.types.as_ref().unwrap().kind.clone();
            let ar = match kind.as_str() {
                "AppPosture" => ApiResource::erase::<AppPosture>(&()),
                "Asset" => ApiResource::erase::<Asset>(&()),
                "GuardrailPolicy" => ApiResource::erase::<GuardrailPolicy>(&()),
                "RiskException" => ApiResource::erase::<RiskException>(&()),
                other => panic!("unexpected kind {other}"),
            };
            obj.metadata.creation_timestamp = None;
            let api: Api<DynamicObject> = if kind == "GuardrailPolicy" {
                obj.metadata.name = Some(format!("{}-{ns}", obj.metadata.name.unwrap()));
                Api::all_with(client.clone(), &ar)
            } else {
                obj.metadata.namespace = Some(ns.clone());
                Api::namespaced_with(client.clone(), &ns, &ar)
            };
            api.create(&PostParams::default(), &obj).await.unwrap_or_else(|e| panic!("{file} {kind}: {e}"));
            created += 1;
        }
    }
    assert_eq!(created, 14);
    // The typed API reads them back (what the operator does).
    let apps: Api<AppPosture> = Api::namespaced(client.clone(), &ns);
    let list = apps.list(&Default::default()).await.unwrap();
    assert_eq!(list.items.len(), 4);
    assert!(list.items.iter().any(|a| a.spec.criticality == stance::api::Criticality::Critical));
    // The server refuses a value outside the schema's enum.
    let bad: DynamicObject = serde_json::from_value(serde_json::json!({
        "apiVersion": "aspm.stance.dev/v1alpha1", "kind": "AppPosture",
        "metadata": {"name": "bad", "namespace": ns},
        "spec": {"criticality": "extreme"}
    }))
    .unwrap();
    let err = Api::<DynamicObject>::namespaced_with(client.clone(), &ns, &ApiResource::erase::<AppPosture>(&()))
        .create(&PostParams::default(), &bad)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("criticality"), "{err}");
    // And a RiskException whose expires is not an RFC 3339 time (format: date-time), the
    // spellings Stance refuses in files too (case exception-expiry-date-only).
    let exceptions =
        Api::<DynamicObject>::namespaced_with(client.clone(), &ns, &ApiResource::erase::<RiskException>(&()));
    for (i, expires) in ["2026-11-27", "2026-11-27T12:00:00", "next tuesday"].into_iter().enumerate() {
        let bad: DynamicObject = serde_json::from_value(serde_json::json!({
            "apiVersion": "aspm.stance.dev/v1alpha1", "kind": "RiskException",
            "metadata": {"name": format!("bad-expires-{i}"), "namespace": ns},
            "spec": {"justification": "x", "expires": expires}
        }))
        .unwrap();
        let err = exceptions.create(&PostParams::default(), &bad).await.unwrap_err().to_string();
        assert!(err.contains("spec.expires") && err.contains("date-time"), "{expires}: {err}");
    }
    assert!(AppPosture::crd().spec.versions[0].subresources.is_some());
    // Clean up cluster-scoped objects.
    let policies: Api<GuardrailPolicy> = Api::all(client.clone());
    for p in policies.list(&Default::default()).await.unwrap().items {
        if p.metadata.name.as_deref().is_some_and(|n| n.ends_with(&ns)) {
            let _ = policies.delete(p.metadata.name.as_deref().unwrap(), &Default::default()).await;
        }
    }
    common::cluster::delete_namespace(&client, &ns).await;
}
