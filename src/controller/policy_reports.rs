//! Optional output: Stance's guardrail results as `wgpolicyk8s.io/v1alpha2` PolicyReports
//! (one per namespace, paged below etcd's object size limit), so Policy Reporter and other
//! tools that read PolicyReports show them. The reports are the same ones
//! `stance scan --format policyreport` prints.

use std::collections::HashMap;

use jiff::Timestamp;
use kube::Client;
use kube::api::{Api, DeleteParams, DynamicObject, Patch, PatchParams};
use kube::discovery::ApiResource;
use serde_json::Value;

use super::reconcile::FIELD_MANAGER;
use crate::output::policy_report;
use stance_core::index::PostureIndex;

/// Writes changed reports and deletes pages no longer needed.
#[derive(Debug, Default)]
pub struct Writer {
    /// (namespace, name) → content hash of what was last written.
    written: HashMap<(String, String), String>,
    resource: Option<ApiResource>,
    announced_missing: bool,
}

/// A report's content without its timestamps (which change on every evaluation).
fn content_hash(report: &Value) -> String {
    let mut v = report.clone();
    for r in v["results"].as_array_mut().into_iter().flatten() {
        if let Some(o) = r.as_object_mut() {
            o.remove("timestamp");
        }
    }
    crate::output::stable_id(&[&v.to_string()])
}

impl Writer {
    async fn resource(&mut self, client: &Client) -> Option<ApiResource> {
        if self.resource.is_none() {
            let found = kube::discovery::group(client, "wgpolicyk8s.io")
                .await
                .ok()
                .and_then(|g| g.versioned_resources("v1alpha2").into_iter().find(|(ar, _)| ar.kind == "PolicyReport"));
            match found {
                Some((ar, _)) => self.resource = Some(ar),
                None if !self.announced_missing => {
                    tracing::warn!(
                        "PolicyReport output is on but wgpolicyk8s.io/v1alpha2 PolicyReport is not installed; will retry"
                    );
                    self.announced_missing = true;
                }
                None => {}
            }
        }
        self.resource.clone()
    }

    /// Renders the reports from the index and writes what changed.
    pub async fn sync(&mut self, client: &Client, reports: Vec<Value>) {
        let Some(ar) = self.resource(client).await else { return };
        let mut wanted = HashMap::new();
        for report in reports {
            let ns = report["metadata"]["namespace"].as_str().unwrap_or_default().to_string();
            let name = report["metadata"]["name"].as_str().unwrap_or_default().to_string();
            let hash = content_hash(&report);
            let key = (ns.clone(), name.clone());
            if self.written.get(&key) != Some(&hash) {
                let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), &ns, &ar);
                match api.patch(&name, &PatchParams::apply(FIELD_MANAGER).force(), &Patch::Apply(&report)).await {
                    Ok(_) => {}
                    Err(e) => {
                        tracing::warn!(ns, name, error = %e, "cannot write PolicyReport; will retry");
                        continue;
                    }
                }
            }
            wanted.insert(key, hash);
        }
        for (ns, name) in self.written.keys().filter(|k| !wanted.contains_key(*k)) {
            let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), ns, &ar);
            if let Err(e) = api.delete(name, &DeleteParams::default()).await {
                tracing::debug!(ns, name, error = %e, "stale PolicyReport not deleted");
            }
        }
        self.written = wanted;
    }
}

/// The reports to write, from the index.
pub fn render(index: &PostureIndex, now: Timestamp) -> Vec<Value> {
    policy_report::render(index, now)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_do_not_change_the_hash() {
        let a =
            serde_json::json!({"metadata": {"name": "r"}, "results": [{"policy": "p", "timestamp": {"seconds": 1}}]});
        let mut b = a.clone();
        b["results"][0]["timestamp"]["seconds"] = 2.into();
        assert_eq!(content_hash(&a), content_hash(&b));
        b["results"][0]["policy"] = "q".into();
        assert_ne!(content_hash(&a), content_hash(&b));
    }
}
