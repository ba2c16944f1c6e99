//! RBAC: exactly the minimum `stance run` needs, by feature.

use super::*;

/// One permission: (scope, apiGroup, resource[/subresource], verb, resourceName or "").
type Grant = (String, String, String, String, String);

fn grants_of(rules: &[PolicyRule], scope: &str) -> BTreeSet<Grant> {
    let mut out = BTreeSet::new();
    for r in rules {
        assert!(r.non_resource_urls.as_ref().is_none_or(Vec::is_empty), "no nonResourceURLs: {r:?}");
        let names = r.resource_names.clone().unwrap_or_default();
        let names = if names.is_empty() { vec![String::new()] } else { names };
        for g in r.api_groups.iter().flatten() {
            for res in r.resources.iter().flatten() {
                for verb in &r.verbs {
                    for n in &names {
                        out.insert((scope.to_string(), g.clone(), res.clone(), verb.clone(), n.clone()));
                    }
                }
            }
        }
    }
    out
}

fn assert_no_wildcards(o: &Object) {
    let rules = o.value["rules"].as_array().cloned().unwrap_or_default();
    for rule in &rules {
        for field in ["apiGroups", "resources", "verbs", "resourceNames", "nonResourceURLs"] {
            for item in rule[field].as_array().into_iter().flatten() {
                let s = item.as_str().unwrap_or_default();
                assert!(!s.contains('*'), "{}: wildcard {s:?} in {field}", o.id());
            }
        }
    }
    assert!(o.value.get("aggregationRule").is_none(), "{}: no aggregationRule (it grants whatever matches)", o.id());
}

/// Everything the chart grants Stance's ServiceAccount, through every binding the chart renders.
fn service_account_grants(v: &Variant) -> BTreeSet<Grant> {
    let sa = v.fullname();
    let is_ours = |subjects: &Option<Vec<k8s_openapi::api::rbac::v1::Subject>>| {
        subjects
            .iter()
            .flatten()
            .any(|s| s.kind == "ServiceAccount" && s.name == sa && s.namespace.as_deref() == Some(v.namespace.as_str()))
    };
    let mut out = BTreeSet::new();
    for o in v.all("ClusterRoleBinding") {
        let b: ClusterRoleBinding = typed(o);
        if is_ours(&b.subjects) {
            assert_eq!(b.role_ref.kind, "ClusterRole");
            let role: ClusterRole = typed(v.named("ClusterRole", &b.role_ref.name));
            out.extend(grants_of(&role.rules.unwrap_or_default(), "cluster"));
        }
    }
    for o in v.all("RoleBinding") {
        let b: RoleBinding = typed(o);
        if is_ours(&b.subjects) {
            assert_eq!(b.role_ref.kind, "Role", "{}: a RoleBinding of a Role in the release namespace", o.id());
            let role: Role = typed(v.named("Role", &b.role_ref.name));
            assert_eq!(role.metadata.namespace.as_deref(), Some(v.namespace.as_str()));
            out.extend(grants_of(&role.rules.unwrap_or_default(), &format!("namespace {}", v.namespace)));
        }
    }
    out
}

fn grant(scope: &str, group: &str, resources: &[&str], verbs: &[&str]) -> Vec<Grant> {
    let mut out = Vec::new();
    for r in resources {
        for v in verbs {
            out.push((scope.into(), group.into(), r.to_string(), v.to_string(), String::new()));
        }
    }
    out
}

/// The minimum `stance run` needs (src/controller, src/webhook), by feature.
fn expected_grants(namespace: &str, ingest: bool, policy_reports: bool, leader_election: bool) -> BTreeSet<Grant> {
    const READ: &[&str] = &["get", "list", "watch"];
    let c = "cluster";
    let mut g = Vec::new();
    g.extend(grant(c, "", &["namespaces", "pods", "services", "configmaps"], READ));
    g.extend(grant(c, "apps", &["deployments", "statefulsets", "daemonsets", "replicasets"], READ));
    g.extend(grant(c, "batch", &["jobs", "cronjobs"], READ));
    g.extend(grant(c, "networking.k8s.io", &["ingresses"], READ));
    g.extend(grant(c, "gateway.networking.k8s.io", &["httproutes", "referencegrants"], READ));
    g.extend(grant(
        c,
        "aquasecurity.github.io",
        &[
            "vulnerabilityreports",
            "clustervulnerabilityreports",
            "configauditreports",
            "clusterconfigauditreports",
            "exposedsecretreports",
            "sbomreports",
            "clustersbomreports",
            "rbacassessmentreports",
            "clusterrbacassessmentreports",
            "infraassessmentreports",
            "clusterinfraassessmentreports",
        ],
        READ,
    ));
    g.extend(grant(c, "wgpolicyk8s.io", &["policyreports", "clusterpolicyreports"], READ));
    g.extend(grant(c, "openreports.io", &["reports", "clusterreports"], READ));
    g.extend(grant(c, "kyverno.io", &["policyexceptions"], READ));
    g.extend(grant(c, "aspm.stance.dev", &["apppostures", "assets", "guardrailpolicies", "riskexceptions"], READ));
    g.extend(grant(
        c,
        "aspm.stance.dev",
        &["apppostures/status", "assets/status", "guardrailpolicies/status", "riskexceptions/status"],
        &["patch"],
    ));
    g.extend(grant(c, "aspm.stance.dev", &["assets"], &["create", "patch", "delete"]));
    g.extend(grant(c, "events.k8s.io", &["events"], &["create", "patch"]));
    if ingest {
        g.extend(grant(c, "authentication.k8s.io", &["tokenreviews"], &["create"]));
        g.extend(grant(c, "authorization.k8s.io", &["subjectaccessreviews"], &["create"]));
        // Uploads are stored in Stance's own namespace: no cluster-wide ConfigMap write.
        g.extend(grant(&format!("namespace {namespace}"), "", &["configmaps"], &["create", "patch"]));
    }
    if policy_reports {
        g.extend(grant(c, "wgpolicyk8s.io", &["policyreports"], &["create", "update", "patch", "delete"]));
        g.extend(grant(c, "openreports.io", &["reports"], &["create", "update", "patch", "delete"]));
    }
    if leader_election {
        let ns = format!("namespace {namespace}");
        g.extend(grant(&ns, "coordination.k8s.io", &["leases"], &["create"]));
        for verb in ["get", "update"] {
            g.push((ns.clone(), "coordination.k8s.io".into(), "leases".into(), verb.into(), "stance-operator".into()));
        }
    }
    g.into_iter().collect()
}

fn show(grants: &BTreeSet<Grant>) -> String {
    grants.iter().map(|(s, g, r, v, n)| format!("  {s:24} {g:28} {r:32} {v:8} {n}\n")).collect()
}

#[test]
#[ignore = "needs the Helm library (pip install helm-python-sdk): run hack/test.sh"]
fn rbac_is_exactly_the_minimum_stance_needs() {
    for name in VARIANTS {
        let v = variant(name);
        for kind in ["ClusterRole", "Role"] {
            for o in v.all(kind) {
                assert_no_wildcards(o);
            }
        }
        let ingest = *name != "no-ingest";
        let policy_reports = *name == "policy-reports";
        let leader = *name != "single";
        let got = service_account_grants(&v);
        let want = expected_grants(&v.namespace, ingest, policy_reports, leader);
        let extra: BTreeSet<Grant> = got.difference(&want).cloned().collect();
        let missing: BTreeSet<Grant> = want.difference(&got).cloned().collect();
        assert!(
            extra.is_empty() && missing.is_empty(),
            "{name}: Stance's RBAC differs from the minimum.\nmore than needed:\n{}missing:\n{}",
            show(&extra),
            show(&missing)
        );
        // Never Secrets (the TLS Secret is mounted by the kubelet), never RBAC or webhooks.
        for (_, g, r, _, _) in &got {
            assert!(r != "secrets" && g != "rbac.authorization.k8s.io" && g != "admissionregistration.k8s.io", "{r}");
        }
        // Read-only on everything that is not Stance's own (besides Events, Leases, reviews and
        // the features' ConfigMaps / PolicyReports).
        for (_, g, r, verb, _) in &got {
            let write = !matches!(verb.as_str(), "get" | "list" | "watch");
            if write {
                let allowed = g == "aspm.stance.dev"
                    || g == "events.k8s.io"
                    || g == "coordination.k8s.io"
                    || (ingest && (g == "authentication.k8s.io" || g == "authorization.k8s.io"))
                    || (ingest && g.is_empty() && r == "configmaps")
                    || (policy_reports && g == "wgpolicyk8s.io" && r == "policyreports")
                    || (policy_reports && g == "openreports.io" && r == "reports");
                assert!(allowed, "{name}: unexpected write {verb} on {g}/{r}");
            }
        }

        // The roles for people and pipelines.
        let fullname = v.fullname();
        let view = v.named("ClusterRole", &format!("{fullname}-view"));
        assert_eq!(view.value["metadata"]["labels"]["rbac.authorization.k8s.io/aggregate-to-view"], "true");
        let view: ClusterRole = typed(view);
        assert_eq!(
            grants_of(&view.rules.unwrap(), "cluster"),
            grant(
                "cluster",
                "aspm.stance.dev",
                &["apppostures", "assets", "guardrailpolicies", "riskexceptions"],
                &["get", "list", "watch"]
            )
            .into_iter()
            .collect()
        );
        let edit = v.named("ClusterRole", &format!("{fullname}-edit"));
        assert_eq!(edit.value["metadata"]["labels"]["rbac.authorization.k8s.io/aggregate-to-edit"], "true");
        assert_eq!(edit.value["metadata"]["labels"]["rbac.authorization.k8s.io/aggregate-to-admin"], "true");
        let edit: ClusterRole = typed(edit);
        assert_eq!(
            grants_of(&edit.rules.unwrap(), "cluster"),
            grant(
                "cluster",
                "aspm.stance.dev",
                &["apppostures", "assets", "riskexceptions"],
                &["create", "update", "patch", "delete", "deletecollection"]
            )
            .into_iter()
            .collect(),
            "editors manage AppPostures, Assets and RiskExceptions; cluster-wide GuardrailPolicies stay with admins"
        );
        let uploader = v.all("ClusterRole").into_iter().find(|o| o.name == format!("{fullname}-report-uploader"));
        if ingest {
            let uploader: ClusterRole = typed(uploader.expect("report-uploader ClusterRole"));
            assert_eq!(
                grants_of(&uploader.rules.unwrap(), "cluster"),
                grant("cluster", "aspm.stance.dev", &["reports"], &["create"]).into_iter().collect(),
                "what POST /ingest authorizes with a SubjectAccessReview (src/controller/ingest_api.rs)"
            );
        } else {
            assert!(uploader.is_none(), "{name}: no uploader role without ingest");
        }
        // The chart binds nothing but Stance's own ServiceAccount.
        for o in v.all("ClusterRoleBinding").into_iter().chain(v.all("RoleBinding")) {
            let subjects = o.value["subjects"].as_array().unwrap();
            assert_eq!(subjects.len(), 1, "{}", o.id());
            assert_eq!(subjects[0]["name"], fullname.as_str());
        }
        let sa: ServiceAccount = v.get("ServiceAccount");
        assert_eq!(sa.automount_service_account_token, Some(false), "only the pod that needs it mounts the token");
    }
}
