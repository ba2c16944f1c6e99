//! Rendering, linting and strict parsing of every variant; the NetworkPolicy, the client CA and the CRDs.

use super::*;

#[test]
#[ignore = "needs the Helm library (pip install helm-python-sdk): run hack/test.sh"]
fn chart_renders_lints_and_every_object_is_a_valid_kubernetes_object() {
    let r = rendered();
    assert!(r.index["helm_sdk"].as_str().unwrap().starts_with("v4."), "rendered by Helm 4: {}", r.index["helm_sdk"]);
    assert_eq!(r.index["chart"]["name"], "stance");
    let cargo_version = env!("CARGO_PKG_VERSION");
    assert_eq!(r.index["chart"]["appVersion"], cargo_version, "Chart.yaml appVersion follows Cargo.toml's version");
    for name in VARIANTS {
        // The script already failed on any lint warning; the reports are kept: check them too.
        let lint = &r.index["lint"][name];
        let bad: Vec<&Value> =
            lint["messages"].as_array().unwrap().iter().filter(|m| m["severity"].as_i64().unwrap() >= 2).collect();
        assert!(bad.is_empty(), "helm lint ({name}): {bad:#?}");

        let v = variant(name);
        assert!(!v.objects.is_empty(), "{name} renders objects");
        for o in &v.objects {
            match o.kind.as_str() {
                "Deployment" => {
                    let _: Deployment = typed(o);
                }
                "Service" => {
                    let _: Service = typed(o);
                }
                "ServiceAccount" => {
                    let _: ServiceAccount = typed(o);
                }
                "ClusterRole" => {
                    let _: ClusterRole = typed(o);
                }
                "ClusterRoleBinding" => {
                    let _: ClusterRoleBinding = typed(o);
                }
                "Role" => {
                    let _: Role = typed(o);
                }
                "RoleBinding" => {
                    let _: RoleBinding = typed(o);
                }
                "PodDisruptionBudget" => {
                    let _: PodDisruptionBudget = typed(o);
                }
                "ValidatingWebhookConfiguration" => {
                    let _: ValidatingWebhookConfiguration = typed(o);
                }
                "Secret" => {
                    let _: Secret = typed(o);
                }
                "NetworkPolicy" => {
                    let _: NetworkPolicy = typed(o);
                }
                "PersistentVolumeClaim" => {
                    let _: k8s_openapi::api::core::v1::PersistentVolumeClaim = typed(o);
                }
                // Custom resources of cert-manager and the Prometheus Operator: checked below.
                "Issuer" | "Certificate" => assert_eq!(o.api_version, "cert-manager.io/v1", "{}", o.id()),
                "ServiceMonitor" | "PrometheusRule" => {
                    assert_eq!(o.api_version, "monitoring.coreos.com/v1", "{}", o.id())
                }
                other => panic!("{name}: unexpected kind {other} ({})", o.id()),
            }
            // Namespaced objects go to the release namespace; names follow the release.
            let cluster_scoped =
                matches!(o.kind.as_str(), "ClusterRole" | "ClusterRoleBinding" | "ValidatingWebhookConfiguration");
            if cluster_scoped {
                assert_eq!(o.namespace, None, "{}", o.id());
            } else {
                assert_eq!(o.namespace.as_deref(), Some(v.namespace.as_str()), "{}", o.id());
            }
            assert!(o.name.starts_with(&v.fullname()), "{} is named after the release ({})", o.id(), v.fullname());
            assert_eq!(o.value["metadata"]["labels"]["app.kubernetes.io/instance"], v.release.as_str(), "{}", o.id());
            assert!(o.value.to_string().len() < 1 << 20, "{} fits in etcd", o.id());
        }
        let ids: BTreeSet<String> = v.objects.iter().map(Object::id).collect();
        assert_eq!(ids.len(), v.objects.len(), "{name}: no object twice");
    }

    let kinds = |name: &'static str| -> BTreeMap<String, usize> {
        let mut m = BTreeMap::new();
        for o in variant(name).objects {
            *m.entry(o.kind).or_insert(0) += 1;
        }
        m
    };
    let expect = |pairs: &[(&str, usize)]| -> BTreeMap<String, usize> {
        pairs.iter().map(|(k, n)| (k.to_string(), *n)).collect()
    };
    let base = [
        ("ClusterRole", 4), // stance, -view, -edit, -report-uploader
        ("ClusterRoleBinding", 1),
        ("Deployment", 1),
        ("PodDisruptionBudget", 1),
        ("Role", 2), // -leader-election, -uploads
        ("RoleBinding", 2),
        ("Secret", 1),
        ("Service", 1),
        ("ServiceAccount", 1),
        ("ValidatingWebhookConfiguration", 1),
    ];
    assert_eq!(kinds("default"), expect(&base));
    let mut cm: Vec<(&str, usize)> = base.iter().copied().filter(|(k, _)| *k != "Secret").collect();
    cm.extend([("Issuer", 2), ("Certificate", 2)]);
    assert_eq!(kinds("cert-manager"), expect(&cm), "cert-manager issues the Secret");
    let mut monitoring = base.to_vec();
    monitoring.extend([("ServiceMonitor", 1), ("PrometheusRule", 1)]);
    assert_eq!(kinds("monitoring"), expect(&monitoring));
    assert_eq!(kinds("no-ingest")["ClusterRole"], 3, "no uploader role without ingest");
    assert_eq!(kinds("custom").get("NetworkPolicy"), Some(&1), "networkPolicy.enabled adds one");
    assert_eq!(kinds("no-ingest")["Role"], 1, "no ConfigMap write without ingest");
    assert_eq!(
        kinds("single"),
        expect(&[
            ("ClusterRole", 4),
            ("ClusterRoleBinding", 1),
            ("Deployment", 1),
            ("PersistentVolumeClaim", 1),
            ("Role", 1),
            ("RoleBinding", 1),
            ("Secret", 1),
            ("Service", 1),
            ("ServiceAccount", 1),
        ]),
        "one replica: no PDB (it would block drains), no Lease role (only the uploads one), and webhook.enabled=false; \
         the SQLite history's volume"
    );
}

/// `networkPolicy.enabled` admits ingress to Stance's own pods on the container's two ports
/// only: the HTTPS port from `webhookFrom`'s peers, the metrics port from `metricsFrom`'s (every
/// source when empty); egress stays open. Off by default.
#[test]
#[ignore = "needs the Helm library (pip install helm-python-sdk): run hack/test.sh"]
fn network_policy_admits_only_the_serving_ports() {
    use k8s_openapi::api::networking::v1::{IPBlock, NetworkPolicyPeer};
    for name in VARIANTS.iter().filter(|n| **n != "custom") {
        assert!(variant(name).all("NetworkPolicy").is_empty(), "{name}: no NetworkPolicy unless enabled");
    }
    let v = variant("custom");
    let np: NetworkPolicy = v.get("NetworkPolicy");
    let spec = np.spec.expect("spec");
    // It selects exactly the Deployment's pods.
    let pod_labels = v.deployment().spec.unwrap().template.metadata.unwrap().labels.unwrap();
    let selector = spec.pod_selector.unwrap().match_labels.expect("matchLabels");
    assert!(!selector.is_empty());
    for (k, val) in &selector {
        assert_eq!(pod_labels.get(k), Some(val), "the pod template has {k}={val}");
    }
    assert_eq!(spec.policy_types, Some(vec!["Ingress".to_string()]), "egress is not restricted");
    let container_port = |port_name: &str| {
        let ports = v.container().ports.unwrap();
        ports.iter().find(|p| p.name.as_deref() == Some(port_name)).unwrap().container_port
    };
    let rules = spec.ingress.expect("ingress rules");
    assert_eq!(rules.len(), 2, "{rules:#?}");
    let only_port = |i: usize| {
        let ports = rules[i].ports.clone().unwrap();
        assert_eq!(ports.len(), 1);
        assert_eq!(ports[0].protocol.as_deref(), Some("TCP"));
        ports[0].port.clone().unwrap()
    };
    assert_eq!(only_port(0), IntOrString::Int(container_port("https")));
    assert_eq!(only_port(1), IntOrString::Int(container_port("metrics")));
    let cidr = NetworkPolicyPeer {
        ip_block: Some(IPBlock { cidr: "10.0.0.0/24".into(), except: None }),
        ..Default::default()
    };
    assert_eq!(rules[0].from, Some(vec![cidr]), "the HTTPS port only from webhookFrom");
    assert_eq!(rules[1].from, None, "metricsFrom empty: every source");
}

/// `webhook.clientCA.secretName`: the Secret's CA is mounted read-only and `--client-ca` names
/// the mounted file; without it, neither the flag nor the volume.
#[test]
#[ignore = "needs the Helm library (pip install helm-python-sdk): run hack/test.sh"]
fn client_ca_secret_is_mounted_and_passed_as_client_ca() {
    for name in VARIANTS.iter().filter(|n| **n != "custom") {
        let v = variant(name);
        assert_eq!(v.flag("--client-ca"), None, "{name}: no --client-ca unless webhook.clientCA.secretName");
        assert!(v.pod().volumes.unwrap_or_default().iter().all(|vol| vol.name != "client-ca"), "{name}");
    }
    let v = variant("custom");
    let flag = v.flag("--client-ca").expect("--client-ca");
    let pod = v.pod();
    let volume = pod.volumes.unwrap().into_iter().find(|vol| vol.name == "client-ca").expect("a client-ca volume");
    let secret = volume.secret.expect("a Secret volume");
    assert_eq!(secret.secret_name.as_deref(), Some("apiserver-client-ca"));
    assert_eq!(secret.default_mode, Some(0o440));
    let items = secret.items.expect("items");
    assert_eq!(items.len(), 1, "{items:?}");
    assert_eq!(items[0].key, "client-ca.pem", "webhook.clientCA.key");
    let mount = v.container().volume_mounts.unwrap().into_iter().find(|m| m.name == "client-ca").expect("mounted");
    assert_eq!(mount.read_only, Some(true));
    assert!(mount.sub_path.is_none(), "without subPath, so a rotated CA reaches the pod");
    assert_eq!(flag, format!("{}/{}", mount.mount_path, items[0].path), "--client-ca names the mounted CA");
}

#[test]
#[ignore = "needs the Helm library (pip install helm-python-sdk): run hack/test.sh"]
fn chart_crds_are_the_repository_crds_byte_for_byte() {
    // charts/stance/crds/ is a copy of crds/ (generated from src/api/, see tests/crds.rs).
    // Resync after changing the CRDs with:  cp crds/*.yaml charts/stance/crds/
    let list = |dir: &Path| -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    };
    let source = repo("crds");
    let chart = repo("charts/stance/crds");
    let files = list(&source);
    assert_eq!(files.len(), 4, "{files:?}");
    assert_eq!(
        list(&chart),
        files,
        "charts/stance/crds/ holds the same files as crds/ (cp crds/*.yaml charts/stance/crds/)"
    );
    for f in &files {
        let a = std::fs::read(source.join(f)).unwrap();
        let b = std::fs::read(chart.join(f)).unwrap();
        assert!(
            a == b,
            "charts/stance/crds/{f} differs from crds/{f}: resync with `cp crds/*.yaml charts/stance/crds/`"
        );
    }
    // What Helm itself loaded as the chart's CRDs (installed before the templates on install).
    let r = rendered();
    let loaded: Vec<String> =
        r.index["crds"].as_array().unwrap().iter().map(|c| c["filename"].as_str().unwrap().to_string()).collect();
    assert_eq!(
        loaded.iter().cloned().collect::<BTreeSet<_>>(),
        files.iter().cloned().collect(),
        "Helm loads every CRD"
    );
    for f in &files {
        let helm = std::fs::read(r.dir.join("crds").join(f)).unwrap();
        assert!(helm == std::fs::read(source.join(f)).unwrap(), "Helm's view of {f} equals crds/{f}");
    }
    for f in &files {
        let text = std::fs::read_to_string(r.dir.join("crds").join(f)).unwrap();
        let docs = parse_documents(&text, f);
        assert_eq!(docs.len(), 1, "{f}: one CRD per file");
        let crd: k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition =
            serde_json::from_value(docs[0].clone()).unwrap_or_else(|e| panic!("{f} is not a CRD: {e}"));
        let name = crd.metadata.name.unwrap();
        assert_eq!(format!("{name}.yaml"), *f);
        assert_eq!(crd.spec.group, "aspm.stance.dev");
    }
    // Never also as templates (Helm would then delete them with the release, and data with them).
    for name in VARIANTS {
        assert!(variant(name).all("CustomResourceDefinition").is_empty(), "{name}: CRDs only from crds/");
    }
}
