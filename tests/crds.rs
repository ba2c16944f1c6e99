//! The YAML under `crds/` is generated from the Rust types and must not drift.
//! Regenerate with: `STANCE_UPDATE_CRDS=1 cargo test --test crds`.

use std::path::PathBuf;

#[test]
fn crds_directory_matches_the_rust_types() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("crds");
    let files = stance::api::crd_files().expect("CRDs serialize");
    if std::env::var_os("STANCE_UPDATE_CRDS").is_some() {
        std::fs::create_dir_all(&dir).unwrap();
        for (name, yaml) in &files {
            std::fs::write(dir.join(name), yaml).unwrap();
        }
    }
    let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
        .expect("crds/ exists")
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".yaml"))
        .collect();
    on_disk.sort();
    let mut expected: Vec<String> = files.iter().map(|(n, _)| n.clone()).collect();
    expected.sort();
    assert_eq!(on_disk, expected, "crds/ holds exactly one file per CRD");
    for (name, yaml) in files {
        let current = std::fs::read_to_string(dir.join(&name)).unwrap();
        assert!(
            current == yaml,
            "crds/{name} is out of date with src/api/: run `STANCE_UPDATE_CRDS=1 cargo test --test crds` and commit the result"
        );
    }
}

#[test]
fn crds_are_structural_and_useful_to_kubectl() {
    for crd in stance::api::crds() {
        let name = crd.metadata.name.clone().unwrap();
        assert_eq!(crd.spec.group, "aspm.stance.dev", "{name}");
        let v = &crd.spec.versions[0];
        assert_eq!(v.name, "v1alpha1");
        assert!(v.served && v.storage);
        assert!(v.subresources.as_ref().and_then(|s| s.status.as_ref()).is_some(), "{name} has a status subresource");
        let cols: Vec<&str> = v.additional_printer_columns.iter().flatten().map(|c| c.name.as_str()).collect();
        assert!(cols.contains(&"Age"), "{name}: {cols:?}");
        assert!(!crd.spec.names.short_names.clone().unwrap_or_default().is_empty(), "{name} has short names");
        // Structural schemas: every property has a type (the API server rejects otherwise).
        let schema = serde_json::to_value(v.schema.as_ref().unwrap().open_api_v3_schema.as_ref().unwrap()).unwrap();
        check_typed(&schema, &name);
    }
    let posture = stance::api::crds().into_iter().find(|c| c.spec.names.kind == "AppPosture").unwrap();
    let cols: Vec<String> =
        posture.spec.versions[0].additional_printer_columns.iter().flatten().map(|c| c.name.clone()).collect();
    assert_eq!(cols, ["Criticality", "Exposure", "Risk", "Critical", "High", "Compliant", "Age"]);
    // Status collections accept null (see api::portable).
    let schema = serde_json::to_value(posture.spec.versions[0].schema.as_ref().unwrap()).unwrap();
    let status = &schema["openAPIV3Schema"]["properties"]["status"]["properties"];
    assert_eq!(status["compliance"]["properties"]["violationsByEnforcement"]["nullable"], true);
    assert_eq!(status["topFindings"]["nullable"], true);
    let policy = stance::api::crds().into_iter().find(|c| c.spec.names.kind == "GuardrailPolicy").unwrap();
    assert_eq!(policy.spec.scope, "Cluster");
}

fn check_typed(v: &serde_json::Value, at: &str) {
    // Kubernetes before 1.2x rejects `null` inside `enum` (nullable: true covers it).
    if let Some(e) = v.get("enum").and_then(|e| e.as_array()) {
        assert!(e.iter().all(|x| !x.is_null()), "{at}: enum contains null");
    }
    if let Some(props) = v.get("properties").and_then(|p| p.as_object()) {
        for (k, p) in props {
            let here = format!("{at}.{k}");
            let typed = p.get("type").is_some()
                || p.get("x-kubernetes-int-or-string").is_some()
                || p.get("x-kubernetes-preserve-unknown-fields").is_some();
            assert!(typed, "{here} has no type: {p}");
            check_typed(p, &here);
        }
    }
    if let Some(items) = v.get("items") {
        check_typed(items, &format!("{at}[]"));
    }
    if let Some(a) = v.get("additionalProperties").filter(|a| a.is_object()) {
        check_typed(a, &format!("{at}{{}}"));
    }
}
