//! Who asks the API server to create an object: the built-in controllers whose requests
//! admission may spare, by the username the API server authenticated them as.

use super::workload::WorkloadKind;

/// A controller identity: the authenticated `request.userInfo.username` of a controller and
/// the kinds of the owners of the objects it creates (the ReplicaSet controller creates Pods
/// whose controller is a ReplicaSet).
///
/// Source: kube-controller-manager names each controller's client after its service account in
/// `kube-system` when run with `--use-service-account-credentials` (the default of kubeadm and
/// managed clusters): `cmd/kube-controller-manager/app/apps.go` and `batch.go` of Kubernetes
/// 1.20 (`replicaset-controller`, `daemon-set-controller`, `statefulset-controller`,
/// `deployment-controller`, `job-controller`, `cronjob-controller`); without that flag every
/// controller uses the manager's own credentials, `system:kube-controller-manager`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ControllerIdentity {
    /// `request.userInfo.username`, exactly.
    pub username: String,
    /// Owner kinds of the objects it creates; empty means any pod controller.
    pub owner_kinds: Vec<WorkloadKind>,
}

/// The per-controller service accounts of kube-controller-manager (Kubernetes 1.20 names) and
/// the manager's own user, with the owner kind each creates objects for.
pub const DEFAULT_CONTROLLERS: &[(&str, &[WorkloadKind])] = &[
    ("system:serviceaccount:kube-system:replicaset-controller", &[WorkloadKind::ReplicaSet]),
    ("system:serviceaccount:kube-system:daemon-set-controller", &[WorkloadKind::DaemonSet]),
    ("system:serviceaccount:kube-system:statefulset-controller", &[WorkloadKind::StatefulSet]),
    ("system:serviceaccount:kube-system:job-controller", &[WorkloadKind::Job]),
    ("system:serviceaccount:kube-system:deployment-controller", &[WorkloadKind::Deployment]),
    ("system:serviceaccount:kube-system:cronjob-controller", &[WorkloadKind::CronJob]),
    ("system:kube-controller-manager", &[]),
];

impl ControllerIdentity {
    /// The defaults ([`DEFAULT_CONTROLLERS`]).
    pub fn defaults() -> Vec<ControllerIdentity> {
        DEFAULT_CONTROLLERS
            .iter()
            .map(|(u, kinds)| ControllerIdentity { username: (*u).to_string(), owner_kinds: kinds.to_vec() })
            .collect()
    }

    /// Reads `USERNAME` or `USERNAME=Kind,Kind` (owner kinds such as `ReplicaSet`). The error
    /// says what is wrong with the text.
    pub fn parse(text: &str) -> Result<ControllerIdentity, String> {
        let (user, kinds) = match text.split_once('=') {
            Some((u, k)) => (u.trim(), Some(k)),
            None => (text.trim(), None),
        };
        if user.is_empty() {
            return Err(format!("{text:?}: the username is empty (write USERNAME or USERNAME=Kind,Kind)"));
        }
        let mut owner_kinds = Vec::new();
        for k in kinds.into_iter().flat_map(|k| k.split(',')).map(str::trim).filter(|k| !k.is_empty()) {
            let kind = WorkloadKind::parse(k).filter(|k| *k != WorkloadKind::Pod).ok_or_else(|| {
                format!(
                    "{text:?}: {k:?} is not a pod controller kind (Deployment, StatefulSet, DaemonSet, ReplicaSet, \
                     Job, CronJob)"
                )
            })?;
            owner_kinds.push(kind);
        }
        Ok(ControllerIdentity { username: user.to_string(), owner_kinds })
    }

    /// True when this controller creates objects owned by a `kind`.
    pub fn creates_for(&self, kind: WorkloadKind) -> bool {
        kind != WorkloadKind::Pod && (self.owner_kinds.is_empty() || self.owner_kinds.contains(&kind))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identities_parse_with_and_without_kinds() {
        let rs =
            ControllerIdentity::parse("system:serviceaccount:kube-system:replicaset-controller=ReplicaSet").unwrap();
        assert!(rs.creates_for(WorkloadKind::ReplicaSet) && !rs.creates_for(WorkloadKind::Deployment));
        let any = ControllerIdentity::parse("system:kube-controller-manager").unwrap();
        assert!(any.creates_for(WorkloadKind::Job) && !any.creates_for(WorkloadKind::Pod));
        assert!(ControllerIdentity::parse("=ReplicaSet").unwrap_err().contains("username is empty"));
        assert!(ControllerIdentity::parse("u=Pod").unwrap_err().contains("not a pod controller kind"));
        assert_eq!(ControllerIdentity::defaults().len(), DEFAULT_CONTROLLERS.len());
    }
}
