//! The leader's sweep over everything that is not an AppPosture: discovered image Assets
//! (the cluster's image inventory), and the status of Assets, GuardrailPolicies and
//! RiskExceptions. Planned purely from the index and the statuses the cluster shows
//! ([`plan`]), then written; writes are skipped when nothing but timestamps would change.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use kube::Client;
use kube::api::{Api, DeleteParams, ObjectMeta, Patch, PatchParams};
use serde_json::json;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use stance_core::assessment::asset::{assess_asset, image_name};
use stance_core::assessment::{ConditionState, exception_status};
use stance_core::index::{PostureIndex, SharedIndex};
use stance_core::model::Asset as AssetModel;
use stance_core::names::{API_VERSION, DISCOVERED_LABEL, MANAGED_BY, MANAGED_BY_LABEL};

use super::metrics::{ControllerMetrics, ResultLabels};
use super::observed::{Observed, SharedObserved};
use super::reconcile::{FIELD_MANAGER, next_expiry};
use super::status::{carry_transition_times, changed, condition};
use crate::api::common::LocalRef;
use crate::api::guardrail_policy::GuardrailPolicyStatus;
use crate::api::risk_exception::RiskExceptionStatus;
use crate::api::{Asset, AssetSpec, AssetStatus, AssetType, GuardrailPolicy, RiskException};

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

/// The spec a domain Asset was read from (to compare with the spec a sweep wants).
fn spec_of(a: &AssetModel) -> AssetSpec {
    AssetSpec {
        asset_type: a.asset_type,
        identifier: a.identifier.clone(),
        app_ref: a.app_ref.clone(),
        criticality: a.criticality,
        exposure: a.exposure,
        owner: a.owner.clone(),
        discovered: a.discovered,
    }
}

/// Everything one sweep should write, from the index and the statuses last observed.
pub fn plan(index: &PostureIndex, observed: &Observed, now: Timestamp) -> Plan {
    let mut out = Plan::default();

    // Discovered image Assets: one per image repository an application runs.
    let declared: BTreeSet<(String, String)> = index
        .assets()
        .filter(|a| !a.discovered && a.asset_type == AssetType::Image)
        .map(|a| (a.namespace.to_string(), image_name(&a.identifier)))
        .collect();
    let mut desired: BTreeMap<(String, String), Asset> = BTreeMap::new();
    for app in index.apps() {
        let Some(uid) = &app.uid else { continue };
        let (ns, app_name) = (app.namespace.to_string(), app.name.to_string());
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
                            (MANAGED_BY_LABEL.to_string(), MANAGED_BY.to_string()),
                        ])),
                        owner_references: Some(vec![OwnerReference {
                            api_version: API_VERSION.into(),
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
    for a in index.assets().filter(|a| a.discovered) {
        let key = (a.namespace.to_string(), a.name.to_string());
        let owners = observed.asset(&key.0, &key.1).and_then(|o| o.owner_references.as_ref());
        match desired.get(&key) {
            // Already as wanted: nothing to apply.
            Some(d) if d.spec == spec_of(a) && d.metadata.owner_references.as_ref() == owners => {
                desired.remove(&key);
            }
            Some(_) => {}
            None => out.delete_assets.push(key),
        }
    }
    out.apply_assets = desired.into_values().collect();

    for a in index.assets() {
        let status = assess_asset(index, a, now);
        if changed(observed.asset(&a.namespace, &a.name).and_then(|o| o.status.as_ref()), &status) {
            out.asset_status.push((a.namespace.to_string(), a.name.to_string(), status));
        }
    }

    let violating = stance_core::assessment::audit::violating_workloads(index, now);
    for p in index.policies() {
        let name = p.name.to_string();
        let mut status = GuardrailPolicyStatus {
            violating_workloads: violating.get(&name).copied().unwrap_or(0),
            conditions: vec![condition(&ConditionState::policy_ready(p), now, p.generation)],
            observed_generation: p.generation,
        };
        let old = observed.policy_status(&name);
        carry_transition_times(old.map(|s| s.conditions.as_slice()).unwrap_or_default(), &mut status.conditions);
        if changed(old, &status) {
            out.policy_status.push((name, status));
        }
    }

    for e in index.exceptions() {
        let status = exception_status(index, e, now);
        if changed(observed.exception_status(&e.namespace, &e.name), &status) {
            out.exception_status.push((e.namespace.to_string(), e.name.to_string(), status));
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
        let body = json!({"apiVersion": API_VERSION, "kind": "Asset", "metadata": a.metadata, "spec": a.spec});
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
        let body = json!({"apiVersion": API_VERSION, "kind": "Asset", "status": status});
        let res = Api::<Asset>::namespaced(client.clone(), &ns).patch_status(&name, &pp, &Patch::Apply(&body)).await;
        log_result("write Asset status", &ns, &name, &res);
        count("Asset", res.is_ok());
    }
    for (name, status) in plan.policy_status {
        let body = json!({"apiVersion": API_VERSION, "kind": "GuardrailPolicy", "status": status});
        let res = Api::<GuardrailPolicy>::all(client.clone()).patch_status(&name, &pp, &Patch::Apply(&body)).await;
        log_result("write GuardrailPolicy status", "", &name, &res);
        count("GuardrailPolicy", res.is_ok());
    }
    for (ns, name, status) in plan.exception_status {
        let body = json!({"apiVersion": API_VERSION, "kind": "RiskException", "status": status});
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

/// What the sweep reads from and writes with.
pub struct SweepContext {
    pub client: Client,
    pub index: SharedIndex,
    pub observed: SharedObserved,
    pub metrics: Arc<ControllerMetrics>,
    /// Also write PolicyReports with the guardrail results.
    pub policy_reports: bool,
}

/// Sweeps after index changes (debounced), at exception expiries and periodically,
/// while this replica leads.
pub async fn run(
    ctx: SweepContext,
    mut changes: watch::Receiver<u64>,
    mut leader: watch::Receiver<bool>,
    token: CancellationToken,
) {
    let SweepContext { client, index, observed, metrics, policy_reports } = ctx;
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
            let seen = observed.lock().unwrap_or_else(|e| e.into_inner());
            let now = Timestamp::now();
            (plan(&idx, &seen, now), policy_reports.then(|| super::policy_reports::render(&idx, now)))
        };
        execute(&client, &metrics, plan).await;
        if let Some(rendered) = rendered {
            reports.sync(&client, rendered).await;
        }
    }
}

#[cfg(test)]
mod tests;
