//! The ValidatingWebhookConfiguration and its serving certificate.

use super::*;

fn rules_of(w: &ValidatingWebhook) -> BTreeSet<(String, String, String)> {
    let mut out = BTreeSet::new();
    for r in w.rules.iter().flatten() {
        for g in r.api_groups.iter().flatten() {
            for res in r.resources.iter().flatten() {
                for op in r.operations.iter().flatten() {
                    out.insert((g.clone(), res.clone(), op.clone()));
                }
            }
        }
    }
    out
}

fn expected_rules(pairs: &[(&str, &[&str])]) -> BTreeSet<(String, String, String)> {
    let mut out = BTreeSet::new();
    for (group, resources) in pairs {
        for r in *resources {
            for op in ["CREATE", "UPDATE"] {
                out.insert((group.to_string(), r.to_string(), op.to_string()));
            }
        }
    }
    out
}

fn excluded_namespaces(w: &ValidatingWebhook) -> BTreeSet<String> {
    let sel = w.namespace_selector.clone().expect("namespaceSelector");
    sel.match_expressions
        .iter()
        .flatten()
        .filter(|e| e.key == "kubernetes.io/metadata.name" && e.operator == "NotIn")
        .flat_map(|e| e.values.clone().unwrap_or_default())
        .collect()
}

#[test]
#[ignore = "needs the Helm library (pip install helm-python-sdk): run hack/test.sh"]
fn webhook_configuration_is_safe_and_points_at_stance() {
    for name in VARIANTS {
        let v = variant(name);
        if name == &"single" {
            assert!(v.all("ValidatingWebhookConfiguration").is_empty(), "webhook.enabled=false");
            continue;
        }
        let config = v.webhook_config();
        let hooks = config.webhooks.clone().unwrap();
        let names: Vec<&str> = hooks.iter().map(|w| w.name.as_str()).collect();
        assert_eq!(names, ["workloads.aspm.stance.dev", "objects.aspm.stance.dev"], "{name}");
        let custom = *name == "custom";
        let (policy, timeout) = if custom { ("Ignore", 10) } else { ("Fail", 5) };
        let svc: Service = v.get("Service");
        for w in &hooks {
            assert_eq!(w.admission_review_versions, ["v1"], "{name}/{}", w.name);
            assert_eq!(w.side_effects, "NoneOnDryRun", "{name}/{}", w.name);
            assert_eq!(w.failure_policy.as_deref(), Some(policy), "{name}/{}", w.name);
            assert_eq!(w.timeout_seconds, Some(timeout), "{name}/{}", w.name);
            // The server's own deadline is well inside the API server's.
            let server_ms: i32 = v.flag("--timeout-ms").unwrap().parse().unwrap();
            assert_eq!(server_ms, timeout * 1000 - 1000, "{name}: --timeout-ms = timeoutSeconds*1000 - 1000");
            // It calls the Service's HTTPS port, path /validate.
            let s = w.client_config.service.clone().expect("clientConfig.service");
            assert_eq!(s.name, svc.metadata.name.clone().unwrap());
            assert_eq!(s.namespace, v.namespace);
            assert_eq!(s.path.as_deref(), Some("/validate"));
            assert_eq!(s.port, Some(443));
            assert!(w.client_config.url.is_none());
        }

        // Pods and every pod controller; Stance's policies and exceptions.
        let workloads = v.webhook("workloads.aspm.stance.dev");
        assert_eq!(
            rules_of(&workloads),
            expected_rules(&[
                ("", &["pods", "pods/ephemeralcontainers"]),
                ("apps", &["deployments", "statefulsets", "daemonsets", "replicasets"]),
                ("batch", &["jobs", "cronjobs"]),
            ]),
            "{name}"
        );
        for r in workloads.rules.iter().flatten() {
            assert_eq!(r.scope.as_deref(), Some("Namespaced"));
        }
        let objects = v.webhook("objects.aspm.stance.dev");
        assert_eq!(
            rules_of(&objects),
            expected_rules(&[("aspm.stance.dev", &["guardrailpolicies", "riskexceptions"])]),
            "{name}"
        );
        assert!(
            objects.namespace_selector.is_none() && objects.object_selector.is_none(),
            "{name}: every GuardrailPolicy and RiskException is validated, also in Stance's namespace"
        );

        // Safety valves: kube-system, the exempt namespaces and the release namespace are never
        // sent to Stance — the same list Stance exempts itself.
        let excluded = excluded_namespaces(&workloads);
        assert!(excluded.contains("kube-system"), "{name}: {excluded:?}");
        assert!(excluded.contains(&v.namespace), "{name}: the release namespace {} is excluded", v.namespace);
        assert_eq!(excluded, v.flag_values("--exempt-namespace").into_iter().collect(), "{name}");
        let sel = workloads.namespace_selector.clone().unwrap();
        assert!(
            sel.match_expressions.iter().flatten().any(|e| e.key == "aspm.stance.dev/ignore"
                && e.operator == "NotIn"
                && e.values.as_deref() == Some(&["true".to_string()][..])),
            "{name}: namespaces opt out with the label aspm.stance.dev/ignore=true"
        );
        assert!(sel.match_labels.is_none());
        match workloads.object_selector.clone() {
            None => assert!(!custom, "{name}: objectSelector opt-out is off by default"),
            Some(o) => {
                assert!(custom);
                let e = &o.match_expressions.unwrap()[0];
                assert_eq!((e.key.as_str(), e.operator.as_str()), ("aspm.stance.dev/ignore", "NotIn"));
                assert_eq!(e.values.as_deref(), Some(&["true".to_string()][..]));
            }
        }
        match workloads.match_conditions.clone() {
            None => assert!(!custom, "{name}: matchConditions (Kubernetes 1.30+) are off by default"),
            Some(conds) => {
                assert!(custom);
                assert_eq!(conds.len(), 1);
                assert_eq!(conds[0].name, "skip-built-in-controllers");
                assert!(conds[0].expression.contains("system:serviceaccount:kube-system:replicaset-controller"));
            }
        }

        // TLS: a caBundle that verifies the serving certificate, or cert-manager's CA injection.
        let annotations = config.metadata.annotations.clone().unwrap_or_default();
        let cert_manager = name.starts_with("cert-manager");
        if cert_manager {
            assert!(v.all("Secret").is_empty(), "{name}: cert-manager writes the Secret");
            for w in &hooks {
                assert!(w.client_config.ca_bundle.is_none(), "{name}: cert-manager injects the caBundle");
            }
            let serving = format!("{}-serving", v.fullname());
            assert_eq!(annotations.get("cert-manager.io/inject-ca-from"), Some(&format!("{}/{serving}", v.namespace)));
            check_cert_manager(&v, name == &"cert-manager-issuer");
        } else {
            assert!(!annotations.contains_key("cert-manager.io/inject-ca-from"));
            let secret: Secret = v.get("Secret");
            assert_eq!(secret.type_.as_deref(), Some("kubernetes.io/tls"));
            assert_eq!(secret.metadata.name, Some(format!("{}-tls", v.fullname())));
            let data = secret.data.unwrap();
            let ca = &data["ca.crt"].0;
            for w in &hooks {
                assert_eq!(w.client_config.ca_bundle.as_ref().map(|b| &b.0), Some(ca), "{name}: caBundle = ca.crt");
            }
            let host = format!("{}.{}.svc", svc.metadata.name.clone().unwrap(), v.namespace);
            verify_serving_certificate(ca, &data["tls.crt"].0, &data["tls.key"].0, &host);
        }
    }
}

/// The certificate the chart generated is one Stance can serve (rustls loads the pair) and the
/// API server will trust: it chains to the caBundle for the Service's DNS name.
fn verify_serving_certificate(ca_pem: &[u8], cert_pem: &[u8], key_pem: &[u8], host: &str) {
    use rustls::client::danger::ServerCertVerifier;
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};

    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let chain: Vec<CertificateDer<'static>> =
        CertificateDer::pem_slice_iter(cert_pem).collect::<Result<_, _>>().expect("tls.crt is PEM");
    assert!(!chain.is_empty(), "tls.crt holds a certificate");
    let key = PrivateKeyDer::from_pem_slice(key_pem).expect("tls.key is a PEM private key");
    let key = provider.key_provider.load_private_key(key).expect("rustls can sign with tls.key");
    rustls::sign::CertifiedKey::new(chain.clone(), key).keys_match().expect("tls.key belongs to tls.crt");

    let mut roots = rustls::RootCertStore::empty();
    for ca in CertificateDer::pem_slice_iter(ca_pem) {
        roots.add(ca.expect("ca.crt is PEM")).expect("ca.crt is a usable CA");
    }
    let verifier = rustls::client::WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider)
        .build()
        .expect("verifier");
    for name in [host.to_string(), format!("{host}.cluster.local")] {
        let server = ServerName::try_from(name.clone()).unwrap();
        verifier
            .verify_server_cert(&chain[0], &chain[1..], &server, &[], UnixTime::now())
            .unwrap_or_else(|e| panic!("the serving certificate is not valid for {name} under the caBundle: {e}"));
    }
}

fn check_cert_manager(v: &Variant, existing_issuer: bool) {
    let f = v.fullname();
    let serving = &v.named("Certificate", &format!("{f}-serving")).value["spec"];
    assert_eq!(serving["secretName"], format!("{f}-tls"), "the Secret the pods mount");
    let dns: Vec<&str> = serving["dnsNames"].as_array().unwrap().iter().map(|d| d.as_str().unwrap()).collect();
    assert!(dns.contains(&format!("{f}.{}.svc", v.namespace).as_str()), "{dns:?}");
    assert!(serving["usages"].as_array().unwrap().contains(&Value::from("server auth")));
    if existing_issuer {
        assert_eq!(serving["issuerRef"], serde_json::json!({"kind": "ClusterIssuer", "name": "corp-ca"}));
        assert!(v.all("Issuer").is_empty());
        assert_eq!(v.all("Certificate").len(), 1);
        return;
    }
    // selfSigned Issuer -> CA Certificate -> CA Issuer -> serving Certificate.
    let self_signed = &v.named("Issuer", &format!("{f}-selfsigned")).value["spec"];
    assert!(self_signed["selfSigned"].is_object());
    let ca = &v.named("Certificate", &format!("{f}-ca")).value["spec"];
    assert_eq!(ca["isCA"], true);
    assert_eq!(ca["issuerRef"]["name"], format!("{f}-selfsigned"));
    let ca_issuer = &v.named("Issuer", &format!("{f}-ca")).value["spec"];
    assert_eq!(ca_issuer["ca"]["secretName"], ca["secretName"]);
    assert_eq!(serving["issuerRef"]["name"], format!("{f}-ca"));
    assert_eq!(serving["issuerRef"]["kind"], "Issuer");
}
