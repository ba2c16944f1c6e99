//! The handed cases of issue 8 and issue 17 §5, read in place from `../shared/cases/` and
//! judged as each EXPECTED.md says: the webhook ones in-process through the handler, the CI
//! ones through the `stance` binary.

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;
use stance::webhook::{HandlerOptions, handle};
use stance_core::index::PostureIndex;

const NOW: &str = "2026-11-27T12:00:00Z";

fn case(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/cases").join(rel)
}

fn index(dirs: &[&str]) -> PostureIndex {
    let loaded = stance::ingest::load_paths(&dirs.iter().map(|d| case(d)).collect::<Vec<_>>()).unwrap();
    assert!(loaded.warnings.is_empty(), "{:#?}", loaded.warnings);
    loaded.into_index(Default::default())
}

/// The handler's answer to a review file: (allowed, the `[policy/rule]` lines denied, warnings).
fn review(index: &PostureIndex, rel: &str) -> (bool, Vec<String>, Vec<String>) {
    let body = std::fs::read(case(rel)).unwrap();
    let h = handle(&body, index, NOW.parse().unwrap(), &HandlerOptions::default());
    let v: Value = serde_json::from_slice(&h.body).unwrap();
    let r = &v["response"];
    let message = r["status"]["message"].as_str().unwrap_or_default();
    let denied =
        message.lines().filter(|l| l.starts_with('[')).map(|l| l.split(']').next().unwrap().to_string()).collect();
    let warnings = r["warnings"].as_array().map(|w| w.iter().map(|s| s.as_str().unwrap().to_string()).collect());
    (r["allowed"].as_bool().unwrap(), denied, warnings.unwrap_or_default())
}

fn stance(args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_stance")).args(args).output().unwrap();
    (out.status.code(), String::from_utf8_lossy(&out.stdout).into(), String::from_utf8_lossy(&out.stderr).into())
}

fn path(rel: &str) -> String {
    case(rel).display().to_string()
}

/// forged-ownerreference: a user's Pod naming a real ReplicaSet (with its uid) as owner is
/// judged in full, exactly like the same Pod without the owner; `stance check` denies it and
/// `stance scan` lists the Pod's own violations.
#[test]
fn forged_ownerreference() {
    let idx = index(&["forged-ownerreference/state"]);
    let forged = review(&idx, "forged-ownerreference/review-forged-owner.json");
    let bare = review(&idx, "forged-ownerreference/review-no-owner.json");
    assert!(!forged.0, "{forged:?}");
    assert!(!forged.1.is_empty());
    assert_eq!(forged, bare, "the forged owner changes nothing");

    let (code, out, err) = stance(&[
        "check",
        "--now",
        NOW,
        "-f",
        &path("forged-ownerreference/pod-manifest"),
        "--state",
        &path("forged-ownerreference/state"),
    ]);
    assert_eq!(code, Some(1), "{out}{err}");
    for rule in &forged.1 {
        assert!(out.contains(&format!("deny:  {rule}]")), "check denies {rule} too:\n{out}");
    }

    let (code, out, _) =
        stance(&["scan", "--format", "json", "--now", NOW, &path("forged-ownerreference/running-state")]);
    assert_eq!(code, Some(0));
    let v: Value = serde_json::from_str(&out).unwrap();
    let pod_rules: Vec<String> = v["unownedViolations"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x["workload"].as_str().unwrap().starts_with("Pod/shop/"))
        .map(|x| format!("[{}/{}", x["policy"].as_str().unwrap(), x["rule"].as_str().unwrap()))
        .collect();
    assert_eq!(pod_rules, forged.1, "scan lists the Pod's own violations");
}

/// ci-gate-invalid-policy: the gate fails with exit 2 (not 1, a plain deny) and names the
/// invalid policy, its file and field.
#[test]
fn ci_gate_invalid_policy() {
    let (code, out, err) = stance(&[
        "check",
        "-f",
        &path("ci-gate-invalid-policy/deploy"),
        "--state",
        &path("ci-gate-invalid-policy/state"),
        "--now",
        NOW,
    ]);
    assert_eq!(code, Some(2), "{out}{err}");
    assert!(err.contains("policy.yaml") && err.contains("GuardrailPolicy registries-and-pinning"), "{err}");
    assert!(err.contains("spec.rules[1]"), "{err}");
}

/// exception-expiry-date-only: offsets are read at their real instants (e1 ended at 11:00Z,
/// before now; e2 ends at 15:00Z); a bare date is Invalid, naming spec.expires.
#[test]
fn exception_expiry_date_only() {
    let (code, out, _) = stance(&["scan", "--format", "json", "--now", NOW, &path("exception-expiry-date-only/state")]);
    assert_eq!(code, Some(0));
    let v: Value = serde_json::from_str(&out).unwrap();
    let state = |name: &str| {
        let e = v["exceptions"].as_array().unwrap().iter().find(|e| e["name"] == name).unwrap();
        (e["state"].as_str().unwrap().to_string(), e["reason"].as_str().unwrap_or_default().to_string())
    };
    assert_eq!(state("e1-offset-east"), ("Expired".into(), "expired at 2026-11-27T11:00:00Z".into()));
    assert_eq!(state("e2-offset-west").0, "Active");
    let (e3, why) = state("e3-date-only");
    assert_eq!(e3, "Invalid");
    assert!(why.starts_with("spec.expires") && why.contains("RFC 3339"), "{why}");
}

/// ratchet-ignores-image: an UPDATE to another image is new risk (denied, like the CREATE of
/// the same object); the same-image UPDATE is still spared (allowed with warnings).
#[test]
fn ratchet_ignores_image() {
    let idx = index(&["ratchet-ignores-image/state"]);
    let new_image = review(&idx, "ratchet-ignores-image/review-update-new-image.json");
    let create = review(&idx, "ratchet-ignores-image/review-create-new-image.json");
    assert!(!new_image.0 && !create.0, "{new_image:?} {create:?}");
    assert_eq!(new_image.1, create.1, "the same rules deny the update as the create");
    let same = review(&idx, "ratchet-ignores-image/review-update-same-image.json");
    assert!(same.0, "{same:?}");
    assert!(!same.2.is_empty(), "the spared violations are shown as warnings");
}

/// Issue 8 §1, as a property: on a user's request, whatever `ownerReferences`, labels and
/// annotations the Pod claims — real owners with their real uids among them — the verdict is
/// the one for the same Pod without them (the policies here read no label).
mod metadata_never_changes_a_users_verdict {
    use super::*;
    use proptest::prelude::*;
    use std::sync::OnceLock;

    fn idx() -> &'static PostureIndex {
        static INDEX: OnceLock<PostureIndex> = OnceLock::new();
        INDEX.get_or_init(|| index(&["forged-ownerreference/state"]))
    }

    fn owner() -> impl Strategy<Value = Value> {
        let kinds = prop::sample::select(vec!["ReplicaSet", "Deployment", "Job", "StatefulSet", "DaemonSet", "Node"]);
        let names = prop::sample::select(vec!["web-5d4f8b7c9", "web", "other", ""]);
        let uids = prop::sample::select(vec![
            "6f1c2d3e-0000-4000-8000-00000000a5a5",
            "6f1c2d3e-0000-4000-8000-00000000d001",
            "00000000-0000-0000-0000-000000000000",
        ]);
        (kinds, names, uids, any::<Option<bool>>()).prop_map(|(kind, name, uid, controller)| {
            let group = if kind == "Node" { "v1" } else { "apps/v1" };
            let mut o = serde_json::json!({"apiVersion": group, "kind": kind, "name": name, "uid": uid});
            if let Some(c) = controller {
                o["controller"] = c.into();
            }
            o
        })
    }

    fn map() -> impl Strategy<Value = Value> {
        let keys = prop::sample::select(vec![
            "app",
            "pod-template-hash",
            "app.kubernetes.io/managed-by",
            "stance.dev/skip",
            "aspm.stance.dev/exempt",
            "kubernetes.io/config.mirror",
            "controller-uid",
        ]);
        prop::collection::btree_map(keys, "[a-z0-9-]{0,12}", 0..5)
            .prop_map(|m| Value::Object(m.into_iter().map(|(k, v)| (k.to_string(), Value::String(v))).collect()))
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]
        #[test]
        fn random_metadata(owners in prop::collection::vec(owner(), 0..3), labels in map(), annotations in map(),
                           user in prop::sample::select(vec!["dev-user", "system:serviceaccount:shop:default"])) {
            let bare: Value = serde_json::from_slice(&std::fs::read(case("forged-ownerreference/review-no-owner.json")).unwrap()).unwrap();
            let mut claimed = bare.clone();
            claimed["request"]["userInfo"]["username"] = user.into();
            let mut baseline = bare.clone();
            baseline["request"]["userInfo"]["username"] = user.into();
            let meta = &mut claimed["request"]["object"]["metadata"];
            meta["ownerReferences"] = Value::Array(owners);
            meta["labels"] = labels;
            meta["annotations"] = annotations;
            let now = NOW.parse().unwrap();
            let answer = |r: &Value| {
                let h = handle(&serde_json::to_vec(r).unwrap(), idx(), now, &HandlerOptions::default());
                let v: Value = serde_json::from_slice(&h.body).unwrap();
                (v["response"]["allowed"].clone(), v["response"]["status"]["message"].clone(), v["response"]["warnings"].clone())
            };
            let expected = answer(&baseline);
            prop_assert_eq!(&expected.0, &Value::Bool(false));
            prop_assert_eq!(answer(&claimed), expected);
        }
    }
}
