//! `RiskException` objects → validated [`Exception`] values, and when they apply.

use std::sync::Arc;

use globset::{Glob, GlobSet, GlobSetBuilder};
use jiff::Timestamp;

use crate::api::risk_exception::ExceptionAnalysis;
use crate::api::{RiskException, RiskExceptionState};
use crate::ingest::timestamp;
use crate::model::{ImageRef, Workload};

/// A validated exception.
#[derive(Clone, Debug)]
pub struct Exception {
    pub namespace: Arc<str>,
    pub name: Arc<str>,
    pub policy: Option<String>,
    pub rules: Vec<String>,
    /// Upper-case finding ids; empty means every finding of the matched rules.
    pub findings: Vec<String>,
    /// Workload namespaces covered; `*` covers all.
    pub namespaces: Vec<String>,
    pub apps: Vec<String>,
    pub images: Option<GlobSet>,
    pub workloads: Vec<String>,
    pub expires: Timestamp,
    pub created: Option<Timestamp>,
    pub max_days: u32,
    pub analysis: Option<ExceptionAnalysis>,
    pub ticket: Option<String>,
}

impl Exception {
    /// Validates an exception. `max_days` is the longest lifetime allowed.
    pub fn compile(e: &RiskException, max_days: u32) -> Result<Exception, String> {
        let spec = &e.spec;
        let namespace = e.metadata.namespace.as_deref().unwrap_or(crate::ingest::kubernetes::DEFAULT_NAMESPACE);
        if spec.justification.trim().is_empty() {
            return Err("spec.justification is empty: say why the risk is acceptable".into());
        }
        let expires = timestamp::parse(&spec.expires).ok_or_else(|| {
            format!("spec.expires: {:?} is not an RFC 3339 time (e.g. 2026-12-31T00:00:00Z)", spec.expires)
        })?;
        let created = e.metadata.creation_timestamp.as_ref().map(|t| t.0);
        if let Some(c) = created {
            let days = expires.duration_since(c).as_secs() / 86_400;
            if days > i64::from(max_days) {
                return Err(format!(
                    "spec.expires is {days} days after creation; exceptions may last at most {max_days} days \
                     (operator setting --max-exception-days)"
                ));
            }
        }
        let images = if spec.match_.images.is_empty() {
            None
        } else {
            let mut b = GlobSetBuilder::new();
            for (i, pattern) in spec.match_.images.iter().enumerate() {
                let glob = Glob::new(pattern).map_err(|err| format!("spec.match.images[{i}]: {err}"))?;
                b.add(glob);
            }
            Some(b.build().map_err(|err| format!("spec.match.images: {err}"))?)
        };
        let namespaces = if spec.match_.namespaces.is_empty() {
            vec![namespace.to_string()]
        } else {
            spec.match_.namespaces.clone()
        };
        Ok(Exception {
            namespace: Arc::from(namespace),
            name: Arc::from(e.metadata.name.as_deref().unwrap_or("")),
            policy: spec.policy.clone(),
            rules: spec.rules.clone(),
            findings: spec.findings.iter().map(|f| f.trim().to_ascii_uppercase()).collect(),
            namespaces,
            apps: spec.match_.apps.clone(),
            images,
            workloads: spec.match_.workloads.clone(),
            expires,
            created,
            max_days,
            analysis: spec.analysis.clone(),
            ticket: spec.ticket.clone(),
        })
    }

    /// `namespace/name`, for messages.
    pub fn id(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }

    /// Lifecycle state at `now`, with the reason when not active. An exception read
    /// without a creation time (offline manifests) is judged by its remaining lifetime.
    pub fn state(&self, now: Timestamp) -> (RiskExceptionState, Option<String>) {
        if self.expires <= now {
            return (RiskExceptionState::Expired, Some(format!("expired at {}", self.expires)));
        }
        if self.created.is_none() {
            let days = self.expires.duration_since(now).as_secs() / 86_400;
            if days > i64::from(self.max_days) {
                return (
                    RiskExceptionState::Invalid,
                    Some(format!("expires in {days} days; exceptions may last at most {} days", self.max_days)),
                );
            }
        }
        (RiskExceptionState::Active, None)
    }

    pub fn is_active(&self, now: Timestamp) -> bool {
        self.state(now).0 == RiskExceptionState::Active
    }

    /// True when the exception names this policy and rule (or does not restrict them).
    pub fn covers_rule(&self, policy: &str, rule_name: &str, rule_type: &str) -> bool {
        self.policy.as_deref().is_none_or(|p| p == policy)
            && (self.rules.is_empty() || self.rules.iter().any(|r| r == rule_name || r == rule_type))
    }

    /// True when the workload (and, for image rules, the image) is in scope.
    pub fn covers_target(&self, w: &Workload, apps: &[&str], image: Option<&ImageRef>) -> bool {
        let ns_ok = self.namespaces.iter().any(|n| n == "*" || *n == *w.namespace);
        let app_ok = self.apps.is_empty() || self.apps.iter().any(|a| apps.contains(&a.as_str()));
        let wl_ok = self.workloads.is_empty() || self.workloads.iter().any(|n| *n == *w.name);
        let img_ok = match (&self.images, image) {
            (None, _) => true,
            (Some(set), Some(img)) => {
                let full = img.to_string();
                let name = img.name();
                let tagged = img.tag_key().map(|k| k.0.to_string()).unwrap_or_else(|| name.clone());
                set.is_match(&full) || set.is_match(&name) || set.is_match(&tagged)
            }
            (Some(_), None) => false,
        };
        ns_ok && app_ok && wl_ok && img_ok
    }

    /// True when the exception covers a finding with these ids (or covers all findings).
    pub fn covers_finding<'a>(&self, mut ids: impl Iterator<Item = &'a str>) -> bool {
        self.findings.is_empty() || ids.any(|id| self.findings.iter().any(|f| f.eq_ignore_ascii_case(id)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::RiskExceptionSpec;

    fn exc(expires: &str, created: Option<&str>) -> RiskException {
        let mut e = RiskException::new(
            "log4j-waiver",
            RiskExceptionSpec {
                justification: "vendor patch pending".into(),
                expires: expires.into(),
                findings: vec!["cve-2021-44228".into()],
                ..Default::default()
            },
        );
        e.metadata.namespace = Some("stance-system".into());
        e.metadata.creation_timestamp =
            created.map(|c| k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(c.parse().unwrap()));
        e
    }

    #[test]
    fn lifetime_is_bounded_and_expiry_is_exact() {
        let e = Exception::compile(&exc("2026-02-01T00:00:00Z", Some("2026-01-01T00:00:00Z")), 90).unwrap();
        assert!(e.is_active("2026-01-31T23:59:59Z".parse().unwrap()));
        assert_eq!(e.state("2026-02-01T00:00:00Z".parse().unwrap()).0, RiskExceptionState::Expired);
        let err = Exception::compile(&exc("2027-01-01T00:00:00Z", Some("2026-01-01T00:00:00Z")), 90).unwrap_err();
        assert!(err.contains("at most 90 days"), "{err}");
        let offline = Exception::compile(&exc("2027-01-01T00:00:00Z", None), 90).unwrap();
        assert_eq!(offline.state("2026-01-01T00:00:00Z".parse().unwrap()).0, RiskExceptionState::Invalid);
        assert!(Exception::compile(&exc("next tuesday", None), 90).unwrap_err().starts_with("spec.expires"));
    }

    #[test]
    fn finding_ids_match_case_insensitively() {
        let e = Exception::compile(&exc("2026-02-01T00:00:00Z", None), 90).unwrap();
        assert!(e.covers_finding(["GHSA-x", "CVE-2021-44228"].into_iter()));
        assert!(!e.covers_finding(["CVE-2021-45046"].into_iter()));
        assert_eq!(e.namespaces, vec!["stance-system".to_string()]);
    }
}
