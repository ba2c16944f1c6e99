//! Values: documented, validated; the notes printed after installation.

use super::*;

/// Renders one rendering with `values`; Ok(YAML) or Err(Helm's message).
fn render_with(name: &str, values: Value) -> Result<String, String> {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("chart-values");
    let out = Command::new(python())
        .arg(repo("hack/render-chart.py"))
        .args(["--only", name, "--values", &values.to_string()])
        .arg(&dir)
        .current_dir(REPO)
        .output()
        .expect("run hack/render-chart.py");
    if out.status.success() {
        Ok(std::fs::read_to_string(dir.join(format!("{name}.yaml"))).unwrap())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

/// `history.*` and `remediation.*` (docs/history.md): PostgreSQL by URL (custom), SQLite on a
/// kept PersistentVolumeClaim of the asked size and class mounted where `--history` points
/// (single), nothing without `history.enabled`; SQLite with several replicas is refused.
#[test]
#[ignore = "needs the Helm library (pip install helm-python-sdk): run hack/test.sh"]
fn history_values_pass_the_store_and_mount_the_sqlite_volume() {
    use k8s_openapi::api::core::v1::PersistentVolumeClaim;
    for name in VARIANTS.iter().filter(|n| !["custom", "single"].contains(n)) {
        let v = variant(name);
        for flag in ["--history", "--cluster-name", "--remediation-days", "--remediation-kev-days"] {
            assert_eq!(v.flag(flag), None, "{name}: {flag} only with history / remediation values");
        }
        assert!(v.all("PersistentVolumeClaim").is_empty(), "{name}");
    }
    let v = variant("custom");
    assert_eq!(v.flag("--history").as_deref(), Some("postgres://stance@history.internal:5432/stance?sslmode=require"));
    assert_eq!(v.flag("--cluster-name").as_deref(), Some("prod-eu-1"));
    assert_eq!(v.flag("--history-retention-days").as_deref(), Some("180"));
    assert_eq!(v.flag("--remediation-days").as_deref(), Some("critical=15,high=30,medium=90,low=180"));
    assert_eq!(v.flag("--remediation-internet-days").as_deref(), Some("critical=7"));
    assert_eq!(v.flag("--remediation-kev-days").as_deref(), Some("7"));
    assert!(v.all("PersistentVolumeClaim").is_empty(), "PostgreSQL needs no volume");

    let v = variant("single");
    let pvc: PersistentVolumeClaim = v.get("PersistentVolumeClaim");
    let claim = pvc.metadata.name.clone().unwrap();
    assert_eq!(claim, format!("{}-history", v.fullname()));
    let annotations = pvc.metadata.annotations.clone().unwrap_or_default();
    assert_eq!(annotations.get("helm.sh/resource-policy").map(String::as_str), Some("keep"), "outlives an uninstall");
    let spec = pvc.spec.unwrap();
    assert_eq!(spec.storage_class_name.as_deref(), Some("fast-ssd"));
    assert_eq!(spec.access_modes, Some(vec!["ReadWriteOnce".to_string()]));
    let requests = spec.resources.unwrap().requests.unwrap();
    assert_eq!(requests["storage"].0, "5Gi");
    let volume = v.pod().volumes.unwrap().into_iter().find(|vol| vol.name == "history").expect("a history volume");
    assert_eq!(volume.persistent_volume_claim.map(|c| c.claim_name), Some(claim));
    let mount = v.container().volume_mounts.unwrap().into_iter().find(|m| m.name == "history").expect("mounted");
    assert_ne!(mount.read_only, Some(true), "the store is written");
    let flag = v.flag("--history").expect("--history");
    let path = flag.strip_prefix("sqlite:").expect("a sqlite: URL");
    assert!(path.starts_with(&format!("{}/", mount.mount_path)), "{path} is on the volume");
    assert_eq!(v.flag("--cluster-name").as_deref(), Some("default"));
    assert_eq!(v.flag("--history-retention-days").as_deref(), Some("400"));

    // SQLite has one writer and the volume one pod.
    let refused = render_with("sqlite-replicas", serde_json::json!({"history": {"enabled": true}})).unwrap_err();
    assert!(refused.contains("replicaCount=1") && refused.contains("history.url"), "{refused}");
    for (values, field) in [
        (serde_json::json!({"history": {"url": "mysql://x/y"}}), "url"),
        (serde_json::json!({"remediation": {"days": "critical=soon"}}), "days"),
        (serde_json::json!({"history": {"persistence": {"size": "lots"}}}), "size"),
    ] {
        let e = render_with("history-bad", values.clone()).unwrap_err();
        assert!(e.contains(field), "{values}: {e}");
    }
}

#[test]
#[ignore = "needs the Helm library (pip install helm-python-sdk): run hack/test.sh"]
fn values_schema_refuses_bad_values() {
    use serde_json::json;
    // Each is refused by `helm install` / `helm template` with a message naming the problem.
    let cases = [
        ("replicas-string", json!({"replicaCount": "two"}), "replicaCount"),
        ("replicas-zero", json!({"replicaCount": 0}), "replicaCount"),
        ("unknown-key", json!({"replicas": 2}), "replicas"),
        ("failure-policy", json!({"webhook": {"failurePolicy": "Sometimes"}}), "failurePolicy"),
        ("timeout-too-long", json!({"webhook": {"timeoutSeconds": 31}}), "timeoutSeconds"),
        ("typo-nested", json!({"webhook": {"failurePolcy": "Fail"}}), "failurePolcy"),
        ("pull-policy", json!({"image": {"pullPolicy": "Sometimes"}}), "pullPolicy"),
        ("log-format", json!({"logFormat": "xml"}), "logFormat"),
        ("root", json!({"securityContext": {"runAsNonRoot": false}}), "runAsNonRoot"),
        ("escalation", json!({"securityContext": {"allowPrivilegeEscalation": true}}), "allowPrivilegeEscalation"),
        ("namespace-name", json!({"policy": {"exemptNamespaces": ["Not A Namespace"]}}), "exemptNamespaces"),
        ("issuer-kind", json!({"certManager": {"issuerRef": {"kind": "Vault", "name": "x"}}}), "kind"),
        // Cross-value checks in the templates.
        ("server-timeout", json!({"webhook": {"timeoutSeconds": 5, "serverTimeoutMs": 5000}}), "serverTimeoutMs"),
        ("no-leader", json!({"leaderElection": {"enabled": false}}), "leaderElection"),
        ("feeds-without-volume", json!({"feeds": {"files": ["kev.json"]}}), "feeds.volume"),
        ("client-ca-secret", json!({"webhook": {"clientCA": {"secretName": "Not A Secret"}}}), "secretName"),
        ("client-ca-key", json!({"webhook": {"clientCA": {"secretName": "ca", "key": "a/b"}}}), "key"),
    ];
    for (name, values, needle) in cases {
        match render_with(name, values.clone()) {
            Ok(_) => panic!("{name}: the chart accepted {values}"),
            Err(message) => assert!(message.contains(needle), "{name}: the error does not name {needle}:\n{message}"),
        }
    }
    // Good values still render, and derived settings follow them.
    let ok =
        render_with("ok", json!({"replicaCount": 3, "webhook": {"timeoutSeconds": 1}})).expect("good values render");
    assert!(ok.contains("replicas: 3"));
    assert!(ok.contains("--timeout-ms=500"), "1 s: half of it");
    let ok = render_with("ok", json!({"webhook": {"timeoutSeconds": 10, "serverTimeoutMs": 3000}})).unwrap();
    assert!(ok.contains("--timeout-ms=3000") && ok.contains("timeoutSeconds: 10"));
    // kube-system and the release namespace stay exempt even when the list is emptied.
    let ok = render_with("ok", json!({"policy": {"exemptNamespaces": []}})).unwrap();
    assert!(ok.contains("--exempt-namespace=kube-system") && ok.contains("--exempt-namespace=stance-system"));
    assert!(ok.contains(r#"values: ["kube-system","stance-system"]"#), "{ok}");
}

#[test]
fn every_value_is_documented_and_in_the_schema() {
    let values_text = std::fs::read_to_string(repo("charts/stance/values.yaml")).unwrap();
    let schema: Value =
        serde_json::from_str(&std::fs::read_to_string(repo("charts/stance/values.schema.json")).unwrap()).unwrap();
    assert_eq!(schema["additionalProperties"], false, "unknown top-level values are refused");

    // A schema node "groups" values when it lists its properties and refuses others; its keys
    // are documented one by one. Anything else is one value (possibly a free-form map).
    fn node<'a>(schema: &'a Value, path: &[String]) -> Option<&'a Value> {
        path.iter().try_fold(schema, |n, k| n["properties"].get(k))
    }
    let is_group = |n: &Value| n["properties"].is_object() && n["additionalProperties"] == false;
    let lines: Vec<&str> = values_text.lines().collect();
    let mut stack: Vec<(usize, String)> = Vec::new();
    let mut seen: BTreeSet<Vec<String>> = BTreeSet::new();
    for (i, line) in lines.iter().enumerate() {
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with('-') {
            continue;
        }
        let Some((key, rest)) = trimmed.split_once(':') else { continue };
        if !key.chars().all(|c| c.is_ascii_alphanumeric()) {
            continue;
        }
        while stack.last().is_some_and(|(n, _)| *n >= indent) {
            stack.pop();
        }
        let parent: Vec<String> = stack.iter().map(|(_, k)| k.clone()).collect();
        // Inside a free-form value (resources, securityContext, list items): not a value of its own.
        if !parent.is_empty() && !node(&schema, &parent).is_some_and(is_group) {
            continue;
        }
        let mut path = parent.clone();
        path.push(key.to_string());
        let n = node(&schema, &path)
            .unwrap_or_else(|| panic!("values.yaml:{}: {} is not in values.schema.json", i + 1, path.join(".")));
        assert!(
            n["description"].is_string() || is_group(n),
            "values.schema.json: {} has no description",
            path.join(".")
        );
        let block_group = is_group(n) && rest.trim().is_empty();
        if !block_group {
            let above = lines[..i].iter().rev().find(|l| !l.trim().is_empty()).map(|l| l.trim_start()).unwrap_or("");
            assert!(above.starts_with('#'), "values.yaml:{}: {} has no comment documenting it", i + 1, path.join("."));
        }
        seen.insert(path);
        stack.push((indent, key.to_string()));
    }
    // And every value the schema allows is in values.yaml (with its default).
    fn walk(schema: &Value, path: Vec<String>, out: &mut Vec<Vec<String>>) {
        if let Some(props) = schema["properties"].as_object()
            && schema["additionalProperties"] == false
        {
            for (k, v) in props {
                let mut p = path.clone();
                p.push(k.clone());
                out.push(p.clone());
                walk(v, p, out);
            }
        }
    }
    let mut all = Vec::new();
    walk(&schema, Vec::new(), &mut all);
    let values: serde_yaml::Value = serde_yaml::from_str(&values_text).unwrap();
    for path in all {
        if path == ["global"] {
            continue;
        }
        // Inside a value whose default is empty ({}), e.g. certManager.issuerRef.name.
        let parent_empty = path.len() > 1 && {
            let mut v = &values;
            for k in &path[..path.len() - 1] {
                v = &v[k.as_str()];
            }
            v.as_mapping().is_some_and(|m| m.is_empty())
        };
        if !parent_empty {
            assert!(
                seen.contains(&path),
                "values.schema.json allows {} but values.yaml does not show it",
                path.join(".")
            );
        }
    }
}

#[test]
#[ignore = "needs the Helm library (pip install helm-python-sdk): run hack/test.sh"]
fn notes_explain_how_to_check_the_installation() {
    for name in VARIANTS {
        let v = variant(name);
        let f = v.fullname();
        let ns = &v.namespace;
        for needle in [
            format!("kubectl -n {ns} rollout status deployment/{f}"),
            "kubectl get apppostures -A".to_string(),
            format!("kubectl -n {ns} logs deployment/{f}"),
        ] {
            assert!(v.notes.contains(&needle), "{name}: NOTES.txt lacks {needle:?}:\n{}", v.notes);
        }
        assert!(!v.notes.contains("<no value>"), "{name}: {}", v.notes);
        if *name == "single" {
            assert!(v.notes.contains("Admission is OFF"));
        } else {
            assert!(v.notes.contains("--dry-run=server"), "{name}: how to check admission");
        }
        if *name == "default" {
            assert!(v.notes.contains("are REFUSED"), "failurePolicy Fail is spelled out");
            assert!(v.notes.contains(&format!("--clusterrole={f}-report-uploader")));
        }
    }
}
