//! Optional output: Stance's guardrail results as `openreports.io/v1alpha1` Reports when
//! that CRD is installed (the successor Kyverno and Policy Reporter now read), else as
//! `wgpolicyk8s.io/v1alpha2` PolicyReports — one per namespace, paged below etcd's object
//! size limit, so Policy Reporter and other tools that read policy reports show them. The
//! reports are the ones `stance scan --format openreports` / `--format policyreport` print.

use std::collections::HashMap;

use jiff::Timestamp;
use kube::Client;
use kube::api::{Api, DeleteParams, DynamicObject, Patch, PatchParams};
use kube::discovery::ApiResource;
use serde_json::Value;

use super::reconcile::FIELD_MANAGER;
use crate::output::openreports;
use crate::output::policy_report::{self, PolicyReport};
use stance_core::index::PostureIndex;

/// The report kinds Stance can write, in order of preference: (group, version, kind).
const TARGETS: [(&str, &str, &str); 2] =
    [("openreports.io", "v1alpha1", "Report"), ("wgpolicyk8s.io", "v1alpha2", "PolicyReport")];

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

/// The reports as objects of the installed kind: OpenReports `Report`s (re-paged within
/// their byte budget) or the PolicyReports as rendered.
pub fn objects_for(group: &str, reports: Vec<PolicyReport>) -> Vec<Value> {
    if group == "openreports.io" {
        openreports::to_values(&openreports::from_policy_reports(reports))
    } else {
        openreports::to_values(&reports)
    }
}

impl Writer {
    async fn resource(&mut self, client: &Client) -> Option<ApiResource> {
        if self.resource.is_none() {
            for (group, version, kind) in TARGETS {
                let found = kube::discovery::group(client, group)
                    .await
                    .ok()
                    .and_then(|g| g.versioned_resources(version).into_iter().find(|(ar, _)| ar.kind == kind));
                if let Some((ar, _)) = found {
                    tracing::info!(group, version, kind, "writing guardrail results as policy reports");
                    self.resource = Some(ar);
                    break;
                }
            }
            if self.resource.is_none() && !self.announced_missing {
                tracing::warn!(
                    "PolicyReport output is on but neither openreports.io/v1alpha1 Report nor wgpolicyk8s.io/v1alpha2 \
                     PolicyReport is installed; will retry"
                );
                self.announced_missing = true;
            }
        }
        self.resource.clone()
    }

    /// Writes the reports rendered from the index (as the installed kind) and what changed.
    pub async fn sync(&mut self, client: &Client, reports: Vec<PolicyReport>) {
        let Some(ar) = self.resource(client).await else { return };
        let mut wanted = HashMap::new();
        for report in objects_for(&ar.group, reports) {
            let ns = report["metadata"]["namespace"].as_str().unwrap_or_default().to_string();
            let name = report["metadata"]["name"].as_str().unwrap_or_default().to_string();
            let hash = content_hash(&report);
            let key = (ns.clone(), name.clone());
            if self.written.get(&key) != Some(&hash) {
                let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), &ns, &ar);
                match api.patch(&name, &PatchParams::apply(FIELD_MANAGER).force(), &Patch::Apply(&report)).await {
                    Ok(_) => {}
                    Err(e) => {
                        tracing::warn!(ns, name, kind = ar.kind, error = %e, "cannot write policy report; will retry");
                        continue;
                    }
                }
            }
            wanted.insert(key, hash);
        }
        for (ns, name) in self.written.keys().filter(|k| !wanted.contains_key(*k)) {
            let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), ns, &ar);
            if let Err(e) = api.delete(name, &DeleteParams::default()).await {
                tracing::debug!(ns, name, error = %e, "stale policy report not deleted");
            }
        }
        self.written = wanted;
    }
}

/// The reports to write, from the index (their kind is chosen when writing).
pub fn render(index: &PostureIndex, now: Timestamp) -> Vec<PolicyReport> {
    policy_report::reports(index, now)
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

    #[test]
    fn the_installed_kind_decides_the_objects() {
        use crate::output::policy_report::{Outcome, ReportMetadata, ReportResult, ReportTimestamp};
        let index = PostureIndex::new(stance_core::index::IndexConfig::default());
        assert!(objects_for("openreports.io", render(&index, Timestamp::UNIX_EPOCH)).is_empty());
        let result = ReportResult {
            source: "stance",
            policy: "p".into(),
            rule: "r".into(),
            category: "vulnerabilities",
            result: Outcome::Fail,
            severity: Some("high"),
            scored: true,
            resources: Vec::new(),
            timestamp: ReportTimestamp { seconds: 1, nanos: 0 },
            message: "m".into(),
            properties: Default::default(),
        };
        let report = PolicyReport {
            api_version: policy_report::API_VERSION,
            kind: "PolicyReport",
            metadata: ReportMetadata {
                name: "stance-guardrails".into(),
                namespace: "shop".into(),
                labels: Default::default(),
            },
            summary: Default::default(),
            results: vec![result],
        };
        let open = objects_for("openreports.io", vec![report.clone()]);
        assert_eq!(
            (open[0]["apiVersion"].as_str(), open[0]["kind"].as_str()),
            (Some("openreports.io/v1alpha1"), Some("Report"))
        );
        assert_eq!(open[0]["summary"]["fail"], 1);
        let wg = objects_for("wgpolicyk8s.io", vec![report]);
        assert_eq!(wg[0]["apiVersion"], "wgpolicyk8s.io/v1alpha2");
    }
}
