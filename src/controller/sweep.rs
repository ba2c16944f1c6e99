//! The leader's sweep over everything that is not an AppPosture: discovered image Assets
//! (the cluster's image inventory), and the status of Assets, GuardrailPolicies and
//! RiskExceptions. Planned purely from the index ([`plan`]), then written; writes are
//! skipped when nothing but timestamps would change.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, OwnerReference, Time};
use kube::Client;
use kube::api::{Api, DeleteParams, ObjectMeta, Patch, PatchParams};
use serde_json::json;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::metrics::{ControllerMetrics, ResultLabels};
use super::reconcile::{FIELD_MANAGER, next_expiry};
use super::status::carry_transition_times;
use crate::api::common::LocalRef;
use crate::api::guardrail_policy::GuardrailPolicyStatus;
use crate::api::risk_exception::RiskExceptionStatus;
use crate::api::{Asset, AssetSpec, AssetStatus, AssetType, GuardrailPolicy, RiskException, RiskExceptionState};
use crate::posture::asset::{assess_asset, image_name};
use crate::posture::{PostureIndex, SharedIndex};

/// Label on Assets the operator created from running images.
pub const DISCOVERED_LABEL: &str = "aspm.stance.dev/discovered";
/// How long to wait for more changes before sweeping.
pub const DEBOUNCE: Duration = Duration::from_secs(1);
/// Sweep at least this often.
pub const PERIOD: Duration = Duration::from_secs(120);

/// Writes one sweep wants to make.
#[derive(Debug, Default, PartialEq)]
pub struct Plan {
    pub apply_assets: Vec<Asset>,
    pub delete_assets: Vec<(String, String)>,
    pub asset_status: Vec<(String, String, AssetStatus)>,
    pub policy_status: Vec<(String, GuardrailPolicyStatus)>,
    pub exception_status: Vec<(String, String, RiskExceptionStatus)>,
}

/// A DNS-1123 name for the discovered Asset of an image repository.
pub fn discovered_name(image: &str) -> String {
    let last = image.rsplit('/').next().unwrap_or(image);
    let clean: String =
        last.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' }).collect();
    let clean = clean.trim_matches('-');
    let short: String = clean.chars().take(40).collect();
    format!("img-{}-{}", short.trim_end_matches('-'), &crate::output::stable_id(&[image])[..8])
}

fn condition(
    type_: &str,
    ok: bool,
    reason: &str,
    message: String,
    now: Timestamp,
    generation: Option<i64>,
) -> Condition {
    Condition {
        type_: type_.into(),
        status: if ok { "True" } else { "False" }.into(),
        reason: reason.into(),
        message,
        last_transition_time: Time(now),
        observed_generation: generation,
    }
}

fn same_conditions(a: &[Condition], b: &[Condition]) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|(x, y)| x.type_ == y.type_ && x.status == y.status && x.reason == y.reason && x.message == y.message)
}

/// Everything one sweep should write, from the index alone.
pub fn plan(index: &PostureIndex, now: Timestamp) -> Plan {
    let mut out = Plan::default();

    // Discovered image Assets: one per image repository an application runs.
    let declared: BTreeSet<(String, String)> = index
        .assets()
        .filter(|a| !a.spec.discovered && a.spec.asset_type == AssetType::Image)
        .map(|a| (a.metadata.namespace.clone().unwrap_or_default(), image_name(&a.spec.identifier)))
        .collect();
    let mut desired: BTreeMap<(String, String), Asset> = BTreeMap::new();
    for app in index.apps() {
        let (Some(ns), Some(app_name), Some(uid)) = (&app.metadata.namespace, &app.metadata.name, &app.metadata.uid)
        else {
            continue;
        };
        for w in index.app_workloads(app) {
            for img in w.images() {
                let repo = img.name();
                if declared.contains(&(ns.clone(), repo.clone())) {
                    continue;
                }
                let name = discovered_name(&repo);
                desired.entry((ns.clone(), name.clone())).or_insert_with(|| Asset {
                    metadata: ObjectMeta {
                        name: Some(name),
                        namespace: Some(ns.clone()),
                        labels: Some(BTreeMap::from([
                            (DISCOVERED_LABEL.to_string(), "true".to_string()),
                            ("app.kubernetes.io/managed-by".to_string(), "stance".to_string()),
                        ])),
                        owner_references: Some(vec![OwnerReference {
                            api_version: "aspm.stance.dev/v1alpha1".into(),
                            kind: "AppPosture".into(),
                            name: app_name.clone(),
                            uid: uid.clone(),
                            controller: Some(true),
                            block_owner_deletion: Some(false),
                        }]),
                        ..Default::default()
                    },
                    spec: AssetSpec {
                        asset_type: AssetType::Image,
                        identifier: repo,
                        app_ref: Some(LocalRef { name: app_name.clone(), namespace: None }),
                        discovered: true,
                        ..Default::default()
                    },
                    status: None,
                });
            }
        }
    }
    for a in index.assets().filter(|a| a.spec.discovered) {
        let key = (a.metadata.namespace.clone().unwrap_or_default(), a.metadata.name.clone().unwrap_or_default());
        match desired.get(&key) {
            // Already as wanted: nothing to apply.
            Some(d) if d.spec == a.spec && d.metadata.owner_references == a.metadata.owner_references => {
                desired.remove(&key);
            }
            Some(_) => {}
            None => out.delete_assets.push(key),
        }
    }
    out.apply_assets = desired.into_values().collect();

    for a in index.assets() {
        let status = assess_asset(index, a, now);
        if a.status.as_ref() != Some(&status) {
            out.asset_status.push((
                a.metadata.namespace.clone().unwrap_or_default(),
                a.metadata.name.clone().unwrap_or_default(),
                status,
            ));
        }
    }

    let violating = crate::policy::audit::violating_workloads(index, now);
    for p in index.policies() {
        let name = p.object.metadata.name.clone().unwrap_or_default();
        let generation = p.object.metadata.generation;
        let ready = match &p.compiled {
            Ok(_) => condition("Ready", true, "Valid", "the policy is applied".into(), now, generation),
            Err(e) => condition("Ready", false, "Invalid", e.clone(), now, generation),
        };
        let mut status = GuardrailPolicyStatus {
            violating_workloads: violating.get(&name).copied().unwrap_or(0),
            conditions: vec![ready],
            observed_generation: generation,
        };
        let old = p.object.status.as_ref();
        carry_transition_times(old.map(|s| s.conditions.as_slice()).unwrap_or_default(), &mut status.conditions);
        let unchanged = old.is_some_and(|o| {
            o.violating_workloads == status.violating_workloads
                && o.observed_generation == status.observed_generation
                && same_conditions(&o.conditions, &status.conditions)
        });
        if !unchanged {
            out.policy_status.push((name, status));
        }
    }

    for e in index.exceptions() {
        let (state, reason) = match &e.compiled {
            Ok(x) => x.state(now),
            Err(err) => (RiskExceptionState::Invalid, Some(err.clone())),
        };
        let covered = match &e.compiled {
            Ok(x) if !x.findings.is_empty() && state == RiskExceptionState::Active => {
                index.artifacts().flat_map(|(_, a)| a.findings.iter()).filter(|f| x.covers_finding(f.ids())).count()
                    as u32
            }
            _ => 0,
        };
        let status = RiskExceptionStatus {
            state,
            reason,
            covered_findings: covered,
            observed_generation: e.object.metadata.generation,
        };
        if e.object.status.as_ref() != Some(&status) {
            out.exception_status.push((
                e.object.metadata.namespace.clone().unwrap_or_default(),
                e.object.metadata.name.clone().unwrap_or_default(),
                status,
            ));
        }
    }
    out
}

/// Performs a plan's writes; failures are logged and counted (the next sweep retries).
pub async fn execute(client: &Client, metrics: &ControllerMetrics, plan: Plan) {
    let pp = PatchParams::apply(FIELD_MANAGER).force();
    let count = |kind: &str, ok: bool| {
        let result = if ok { "written" } else { "error" };
        metrics.reconciles.get_or_create(&ResultLabels { kind: kind.into(), result: result.into() }).inc();
    };
    for a in plan.apply_assets {
        let ns = a.metadata.namespace.clone().unwrap_or_default();
        let name = a.metadata.name.clone().unwrap_or_default();
        let body =
            json!({"apiVersion": "aspm.stance.dev/v1alpha1", "kind": "Asset", "metadata": a.metadata, "spec": a.spec});
        let res = Api::<Asset>::namespaced(client.clone(), &ns).patch(&name, &pp, &Patch::Apply(&body)).await;
        log_result("create discovered Asset", &ns, &name, &res);
        count("Asset", res.is_ok());
    }
    for (ns, name) in plan.delete_assets {
        let res =
            Api::<Asset>::namespaced(client.clone(), &ns).delete(&name, &DeleteParams::default()).await.map(|_| ());
        log_result("delete discovered Asset", &ns, &name, &res);
    }
    for (ns, name, status) in plan.asset_status {
        let body = json!({"apiVersion": "aspm.stance.dev/v1alpha1", "kind": "Asset", "status": status});
        let res = Api::<Asset>::namespaced(client.clone(), &ns).patch_status(&name, &pp, &Patch::Apply(&body)).await;
        log_result("write Asset status", &ns, &name, &res);
        count("Asset", res.is_ok());
    }
    for (name, status) in plan.policy_status {
        let body = json!({"apiVersion": "aspm.stance.dev/v1alpha1", "kind": "GuardrailPolicy", "status": status});
        let res = Api::<GuardrailPolicy>::all(client.clone()).patch_status(&name, &pp, &Patch::Apply(&body)).await;
        log_result("write GuardrailPolicy status", "", &name, &res);
        count("GuardrailPolicy", res.is_ok());
    }
    for (ns, name, status) in plan.exception_status {
        let body = json!({"apiVersion": "aspm.stance.dev/v1alpha1", "kind": "RiskException", "status": status});
        let res =
            Api::<RiskException>::namespaced(client.clone(), &ns).patch_status(&name, &pp, &Patch::Apply(&body)).await;
        log_result("write RiskException status", &ns, &name, &res);
        count("RiskException", res.is_ok());
    }
}

fn log_result<T>(what: &str, ns: &str, name: &str, res: &Result<T, kube::Error>) {
    match res {
        Ok(_) => tracing::debug!(ns, name, "{what}"),
        // Deleted meanwhile: the next sweep sees it gone.
        Err(kube::Error::Api(e)) if e.code == 404 => tracing::debug!(ns, name, "{what}: object is gone"),
        Err(e) => tracing::warn!(ns, name, error = %e, "{what} failed; will retry"),
    }
}

/// Sweeps after index changes (debounced), at exception expiries and periodically,
/// while this replica leads.
pub async fn run(
    client: Client,
    index: SharedIndex,
    metrics: Arc<ControllerMetrics>,
    mut changes: watch::Receiver<u64>,
    mut leader: watch::Receiver<bool>,
    policy_reports: bool,
    token: CancellationToken,
) {
    let mut reports = super::policy_reports::Writer::default();
    loop {
        let wait = {
            let Ok(idx) = index.read() else { return };
            super::reconcile::requeue_after(next_expiry(&idx, Timestamp::now()), Timestamp::now()).min(PERIOD)
        };
        tokio::select! {
            _ = token.cancelled() => return,
            _ = changes.changed() => tokio::time::sleep(DEBOUNCE).await,
            _ = leader.changed() => {}
            _ = tokio::time::sleep(wait) => {}
        }
        if !*leader.borrow() {
            continue;
        }
        let (plan, rendered) = {
            let Ok(idx) = index.read() else { return };
            let now = Timestamp::now();
            (plan(&idx, now), policy_reports.then(|| super::policy_reports::render(&idx, now)))
        };
        execute(&client, &metrics, plan).await;
        if let Some(rendered) = rendered {
            reports.sync(&client, rendered).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn discovered_names_are_valid_and_stable() {
        let n = discovered_name("docker.io/library/nginx");
        assert!(n.starts_with("img-nginx-") && n.len() == "img-nginx-".len() + 8, "{n}");
        assert_eq!(n, discovered_name("docker.io/library/nginx"));
        assert_ne!(n, discovered_name("ghcr.io/acme/nginx"));
        let long = discovered_name(&format!("r.io/{}", "A_b.".repeat(40)));
        assert!(
            long.len() <= 63 && long.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
            "{long}"
        );
    }
}
