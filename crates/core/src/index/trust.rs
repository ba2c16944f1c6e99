//! Which channels speak for whom: the one rule that turns a report's [`Channel`] into its
//! [`Trust`]. `docs/security.md` ("Evidence and who may assert it") states the same rule
//! for people.
//!
//! - Trusted: the scanners' own custom resources (RBAC restricts who writes them, as the
//!   scanners' charts do), report ConfigMaps in Stance's own namespace and in the namespaces
//!   the platform configured, uploads by the identities the platform configured, and files
//!   given to the command line.
//! - Everything else is tenant evidence of one namespace: a report ConfigMap speaks for
//!   its own namespace, an upload for the namespace `POST /ingest` authorized it for.

use std::sync::Arc;

use crate::model::{Channel, Trust, Upload};

/// The platform's choice of trusted evidence sources.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrustConfig {
    /// Stance's own namespace: its report ConfigMaps are trusted, and only there do the
    /// upload annotations `POST /ingest` writes count (tenants cannot write it).
    pub own_namespace: String,
    /// Further namespaces whose report ConfigMaps are trusted (e.g. a CI scanner's).
    pub report_namespaces: Vec<String>,
    /// Identities (`system:serviceaccount:ns:name`, user names) whose uploads are trusted.
    pub uploaders: Vec<String>,
}

impl Default for TrustConfig {
    fn default() -> Self {
        TrustConfig {
            own_namespace: crate::names::DEFAULT_STANCE_NAMESPACE.into(),
            report_namespaces: Vec::new(),
            uploaders: Vec::new(),
        }
    }
}

impl TrustConfig {
    /// Whose word evidence from `channel` is.
    pub fn trust(&self, channel: &Channel) -> Trust {
        match channel {
            Channel::ScannerResource { .. } | Channel::File => Trust::Trusted,
            Channel::Upload(u) => self.upload(u),
            Channel::ReportConfigMap { namespace, upload, .. } => {
                let own = **namespace == *self.own_namespace;
                match upload {
                    // Only Stance writes upload annotations in its own namespace.
                    Some(u) if own => self.upload(u),
                    _ if own || self.report_namespaces.iter().any(|n| **n == **namespace) => Trust::Trusted,
                    _ => Trust::Tenant(namespace.clone()),
                }
            }
        }
    }

    fn upload(&self, u: &Upload) -> Trust {
        if self.uploaders.iter().any(|n| **n == *u.uploader) {
            Trust::Trusted
        } else {
            Trust::Tenant(Arc::clone(&u.namespace))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cm(ns: &str, upload: Option<(&str, &str)>) -> Channel {
        Channel::ReportConfigMap {
            namespace: Arc::from(ns),
            name: Arc::from("r"),
            upload: upload.map(|(u, n)| Upload { uploader: Arc::from(u), namespace: Arc::from(n) }),
        }
    }

    #[test]
    fn trust_follows_the_channel() {
        let t = TrustConfig {
            report_namespaces: vec!["ci-scans".into()],
            uploaders: vec!["system:serviceaccount:ci:scanner".into()],
            ..TrustConfig::default()
        };
        let tenant = |ns: &str| Trust::Tenant(Arc::from(ns));
        assert_eq!(t.trust(&Channel::File), Trust::Trusted);
        assert_eq!(
            t.trust(&Channel::ScannerResource { kind: Arc::from("VulnerabilityReport"), namespace: None }),
            Trust::Trusted
        );
        assert_eq!(t.trust(&cm("stance-system", None)), Trust::Trusted);
        assert_eq!(t.trust(&cm("ci-scans", None)), Trust::Trusted);
        assert_eq!(t.trust(&cm("payments", None)), tenant("payments"));
        // Upload annotations count in Stance's namespace only.
        assert_eq!(t.trust(&cm("stance-system", Some(("dev", "payments")))), tenant("payments"));
        assert_eq!(
            t.trust(&cm("stance-system", Some(("system:serviceaccount:ci:scanner", "payments")))),
            Trust::Trusted
        );
        assert_eq!(t.trust(&cm("sandbox", Some(("system:serviceaccount:ci:scanner", "shop")))), tenant("sandbox"));
        let up = |u: &str| Channel::Upload(Upload { uploader: Arc::from(u), namespace: Arc::from("shop") });
        assert_eq!(t.trust(&up("dev")), tenant("shop"));
        assert_eq!(t.trust(&up("system:serviceaccount:ci:scanner")), Trust::Trusted);
    }
}
