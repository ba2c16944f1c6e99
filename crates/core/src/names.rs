//! The names Stance gives to things in Kubernetes: its API group and version, the labels
//! and annotations it reads and writes. One definition each, so a reader and the writer
//! of a label can never disagree on its spelling.

/// The API group of every Stance kind.
pub const GROUP: &str = "aspm.stance.dev";
/// The served and stored version of every Stance kind.
pub const VERSION: &str = "v1alpha1";
/// `group/version`, as written in `apiVersion`.
pub const API_VERSION: &str = "aspm.stance.dev/v1alpha1";

/// The label Kubernetes tools use to name the manager of an object.
pub const MANAGED_BY_LABEL: &str = "app.kubernetes.io/managed-by";
/// The value of [`MANAGED_BY_LABEL`] on the objects Stance writes (uploaded reports,
/// discovered Assets, PolicyReports): Stance never reads its own output back as input.
pub const MANAGED_BY: &str = "stance";

/// The label that marks a ConfigMap as carrying a scanner report; its value names the
/// format (informational: the content is recognised on its own).
pub const REPORT_LABEL: &str = "aspm.stance.dev/report";
/// Annotation naming the AppPosture (`name` or `namespace/name`) a carried report belongs to.
pub const APP_ANNOTATION: &str = "aspm.stance.dev/app";
/// Annotation naming the Asset (`name` or `namespace/name`) a carried report belongs to.
pub const ASSET_ANNOTATION: &str = "aspm.stance.dev/asset";
/// Annotation on an uploaded report: who uploaded it.
pub const UPLOADED_BY_ANNOTATION: &str = "aspm.stance.dev/uploaded-by";
/// Annotation on an uploaded report: the namespace `POST /ingest` authorized it for (the
/// namespace whose evidence it is, unless the uploader is trusted). Read only in Stance's
/// own namespace, where `POST /ingest` stores uploads and tenants cannot write.
pub const UPLOAD_NAMESPACE_ANNOTATION: &str = "aspm.stance.dev/upload-namespace";
/// Annotation on an uploaded report: when (RFC 3339).
pub const UPLOADED_AT_ANNOTATION: &str = "aspm.stance.dev/uploaded-at";
/// Label on Assets the operator created from running images.
pub const DISCOVERED_LABEL: &str = "aspm.stance.dev/discovered";

/// Namespace label: the platform's floor for the criticality of every application in the
/// namespace (`low`, `medium`, `high`, `critical`). Namespaces are cluster-scoped, so a
/// team with `edit` in its namespace cannot change it (the idea of Pod Security
/// Admission's namespace labels); an AppPosture may raise its criticality above the
/// floor, never lower it below. Without the label the floor is `medium`.
pub const CRITICALITY_LABEL: &str = "aspm.stance.dev/criticality";
/// Namespace label: the platform's floor for the exposure of every application in the
/// namespace (`none`, `internal`, `internet`); detected and declared exposure may be
/// higher, never lower.
pub const EXPOSURE_LABEL: &str = "aspm.stance.dev/exposure";
/// Stance's own namespace unless configured otherwise (the chart's default).
pub const DEFAULT_STANCE_NAMESPACE: &str = "stance-system";

/// Namespace assumed for namespaced manifests that do not state one.
pub const DEFAULT_NAMESPACE: &str = "default";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_version_is_group_and_version() {
        assert_eq!(API_VERSION, format!("{GROUP}/{VERSION}"));
    }
}
