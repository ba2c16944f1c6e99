//! What the operator watches: every kind, the group it lives in, and how it feeds the index.

use stance_core::model::WorkloadKind;
use stance_core::names::{GROUP, REPORT_LABEL};

/// How objects of a watched kind feed the index.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Feed {
    Workload(WorkloadKind),
    Service,
    Ingress,
    HttpRoute,
    ReferenceGrant,
    Namespace,
    AppPosture,
    Asset,
    Policy,
    Exception,
    /// A scanner report custom resource (Trivy Operator, PolicyReport, OpenReports), or a
    /// Kyverno PolicyException (read into the suppressed findings of what it exempts).
    Report,
    /// A ConfigMap carrying a report (label `aspm.stance.dev/report`).
    ReportConfigMap,
}

/// A kind to watch.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// API group (`""` for core).
    pub group: &'static str,
    pub kind: &'static str,
    pub feed: Feed,
    /// Scanner and Gateway API kinds may not be installed: they are skipped with one log
    /// line and picked up if they appear later. Required kinds block readiness until served.
    pub optional: bool,
    /// List page size: small for reports (each can be hundreds of KiB), so a relist never
    /// holds thousands of them in memory at once.
    pub page_size: u32,
    pub label_selector: Option<&'static str>,
}

const fn t(group: &'static str, kind: &'static str, feed: Feed, optional: bool, page_size: u32) -> Target {
    Target { group, kind, feed, optional, page_size, label_selector: None }
}

/// Every watched kind.
pub const TARGETS: &[Target] = &[
    t("", "Namespace", Feed::Namespace, false, 500),
    t("", "Pod", Feed::Workload(WorkloadKind::Pod), false, 250),
    t("apps", "Deployment", Feed::Workload(WorkloadKind::Deployment), false, 250),
    t("apps", "StatefulSet", Feed::Workload(WorkloadKind::StatefulSet), false, 250),
    t("apps", "DaemonSet", Feed::Workload(WorkloadKind::DaemonSet), false, 250),
    t("apps", "ReplicaSet", Feed::Workload(WorkloadKind::ReplicaSet), false, 250),
    t("batch", "Job", Feed::Workload(WorkloadKind::Job), false, 250),
    // batch/v1 on 1.21+, batch/v1beta1 before: discovery picks what the server serves.
    t("batch", "CronJob", Feed::Workload(WorkloadKind::CronJob), false, 250),
    t("", "Service", Feed::Service, false, 500),
    t("networking.k8s.io", "Ingress", Feed::Ingress, true, 500),
    t("gateway.networking.k8s.io", "HTTPRoute", Feed::HttpRoute, true, 500),
    // Cross-namespace HTTPRoute backends count only with a grant (Gateway API).
    t("gateway.networking.k8s.io", "ReferenceGrant", Feed::ReferenceGrant, true, 500),
    t(GROUP, "AppPosture", Feed::AppPosture, false, 250),
    t(GROUP, "Asset", Feed::Asset, false, 250),
    t(GROUP, "GuardrailPolicy", Feed::Policy, false, 250),
    t(GROUP, "RiskException", Feed::Exception, false, 250),
    t("aquasecurity.github.io", "VulnerabilityReport", Feed::Report, true, 25),
    t("aquasecurity.github.io", "ClusterVulnerabilityReport", Feed::Report, true, 25),
    t("aquasecurity.github.io", "ConfigAuditReport", Feed::Report, true, 100),
    t("aquasecurity.github.io", "ClusterConfigAuditReport", Feed::Report, true, 100),
    t("aquasecurity.github.io", "ExposedSecretReport", Feed::Report, true, 100),
    t("aquasecurity.github.io", "SbomReport", Feed::Report, true, 10),
    t("aquasecurity.github.io", "ClusterSbomReport", Feed::Report, true, 10),
    t("aquasecurity.github.io", "RbacAssessmentReport", Feed::Report, true, 100),
    t("aquasecurity.github.io", "ClusterRbacAssessmentReport", Feed::Report, true, 100),
    t("aquasecurity.github.io", "InfraAssessmentReport", Feed::Report, true, 100),
    t("aquasecurity.github.io", "ClusterInfraAssessmentReport", Feed::Report, true, 100),
    t("wgpolicyk8s.io", "PolicyReport", Feed::Report, true, 50),
    t("wgpolicyk8s.io", "ClusterPolicyReport", Feed::Report, true, 50),
    t("openreports.io", "Report", Feed::Report, true, 50),
    t("openreports.io", "ClusterReport", Feed::Report, true, 50),
    // Read like a report: its exemptions are suppressed policy findings (ingest::kyverno_exception).
    t("kyverno.io", "PolicyException", Feed::Report, true, 100),
    Target {
        group: "",
        kind: "ConfigMap",
        feed: Feed::ReportConfigMap,
        optional: false,
        page_size: 50,
        label_selector: Some(REPORT_LABEL),
    },
];

impl Target {
    /// `kind.group` (`Deployment.apps`, `Pod`), for logs, metrics and readiness.
    pub fn name(&self) -> String {
        if self.group.is_empty() { self.kind.to_string() } else { format!("{}.{}", self.kind, self.group) }
    }
}

/// The distinct API groups of the targets.
pub fn groups() -> Vec<&'static str> {
    let mut g: Vec<&'static str> = TARGETS.iter().map(|t| t.group).collect();
    g.sort_unstable();
    g.dedup();
    g
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_workload_kind_is_watched_once() {
        for k in WorkloadKind::ALL {
            assert_eq!(TARGETS.iter().filter(|t| t.feed == Feed::Workload(k)).count(), 1, "{k:?}");
        }
        let names: Vec<String> = TARGETS.iter().map(Target::name).collect();
        let mut dedup = names.clone();
        dedup.sort();
        dedup.dedup();
        assert_eq!(dedup.len(), names.len(), "no kind twice");
        assert!(groups().contains(&""));
    }
}
