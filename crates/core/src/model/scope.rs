//! Which Kubernetes kinds live outside namespaces: the one answer for manifests without
//! `metadata.namespace` (`stance check`), and for the objects PolicyReports and Kyverno
//! PolicyExceptions name (a cluster-scoped object gets no namespace).

/// True for the kinds that live outside namespaces: the built-in cluster-scoped kinds
/// (Kubernetes API reference, `kubectl api-resources --namespaced=false`), Stance's
/// GuardrailPolicy, and by convention every `Cluster…` kind (ClusterRole, Kyverno's
/// ClusterPolicy, Trivy Operator's Cluster…Reports).
pub fn is_cluster_scoped(kind: &str) -> bool {
    kind.starts_with("Cluster")
        || matches!(
            kind,
            "Namespace"
                | "Node"
                | "PersistentVolume"
                | "StorageClass"
                | "CSIDriver"
                | "CSINode"
                | "VolumeAttachment"
                | "PriorityClass"
                | "RuntimeClass"
                | "IngressClass"
                | "GatewayClass"
                | "CustomResourceDefinition"
                | "APIService"
                | "ValidatingWebhookConfiguration"
                | "MutatingWebhookConfiguration"
                | "ValidatingAdmissionPolicy"
                | "ValidatingAdmissionPolicyBinding"
                | "CertificateSigningRequest"
                | "PodSecurityPolicy"
                | "FlowSchema"
                | "PriorityLevelConfiguration"
                | "GuardrailPolicy"
        )
}
