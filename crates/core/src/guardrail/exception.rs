//! A RiskException's specification → a validated [`Exception`], and when it applies.
//!
//! The edge reads a `RiskException` object into an [`ExceptionSource`] and calls
//! [`Exception::compile`]; the index (and admission) then bound its lifetime with
//! [`Exception::bounded`], the operator's `--max-exception-days` being known there.

use std::sync::Arc;

use globset::{Glob, GlobSet, GlobSetBuilder};
use jiff::Timestamp;

use super::compile::CompileError;
use super::spec::{ExceptionAnalysis, ExceptionMatch, RiskExceptionState};
use crate::ingest::timestamp;
use crate::model::{ImageRef, Workload};

/// A RiskException's content in domain terms: what [`Exception::compile`] validates.
#[derive(Clone, Copy, Debug)]
pub struct ExceptionSource<'a> {
    /// The exception's namespace (already defaulted by the edge).
    pub namespace: &'a str,
    pub name: &'a str,
    pub policy: Option<&'a str>,
    pub rules: &'a [String],
    pub findings: &'a [String],
    pub matches: &'a ExceptionMatch,
    pub justification: &'a str,
    /// `spec.expires` as written (must be RFC 3339).
    pub expires: &'a str,
    /// `metadata.creationTimestamp`; `None` for manifests read from files.
    pub created: Option<Timestamp>,
    pub analysis: Option<&'a ExceptionAnalysis>,
    pub ticket: Option<&'a str>,
}

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
    /// The longest lifetime allowed, in days, once [`bounded`](Self::bounded).
    pub max_days: Option<u32>,
    pub analysis: Option<ExceptionAnalysis>,
    pub ticket: Option<String>,
}

impl Exception {
    /// Validates an exception's content (not yet its lifetime: see [`bounded`](Self::bounded)).
    pub fn compile(src: ExceptionSource<'_>) -> Result<Exception, CompileError> {
        if src.justification.trim().is_empty() {
            return Err(CompileError::new("spec.justification", "is empty: say why the risk is acceptable"));
        }
        let expires =
            timestamp::parse_rfc3339(src.expires).map_err(|e| CompileError::new("spec.expires", e.to_string()))?;
        let m = src.matches;
        let images = if m.images.is_empty() {
            None
        } else {
            let mut b = GlobSetBuilder::new();
            for (i, pattern) in m.images.iter().enumerate() {
                let glob = Glob::new(pattern)
                    .map_err(|err| CompileError::new(format!("spec.match.images[{i}]"), err.to_string()))?;
                b.add(glob);
            }
            Some(b.build().map_err(|err| CompileError::new("spec.match.images", err.to_string()))?)
        };
        let namespaces = if m.namespaces.is_empty() { vec![src.namespace.to_string()] } else { m.namespaces.clone() };
        // Application and workload names are chosen by the team that owns a namespace: a
        // bare name in an exception that spans namespaces would also waive the same-named
        // application another team creates in any of them. Such an exception names them
        // `namespace/name`.
        if namespaces.len() > 1 || namespaces.iter().any(|n| n == "*") {
            for (field, names) in [("apps", &m.apps), ("workloads", &m.workloads)] {
                if let Some((i, bare)) = names.iter().enumerate().find(|(_, n)| !n.contains('/')) {
                    return Err(CompileError::new(
                        format!("spec.match.{field}[{i}]"),
                        format!(
                            "`{bare}` names no namespace, and this exception covers namespaces {namespaces:?}: a \
                             team could give its own {} that name and be excepted too; write it as `namespace/{bare}`",
                            if field == "apps" { "application" } else { "workload" }
                        ),
                    ));
                }
            }
        }
        Ok(Exception {
            namespace: Arc::from(src.namespace),
            name: Arc::from(src.name),
            policy: src.policy.map(str::to_string),
            rules: src.rules.to_vec(),
            findings: src.findings.iter().map(|f| f.trim().to_ascii_uppercase()).collect(),
            namespaces,
            apps: m.apps.clone(),
            images,
            workloads: m.workloads.clone(),
            expires,
            created: src.created,
            max_days: None,
            analysis: src.analysis.cloned(),
            ticket: src.ticket.map(str::to_string),
        })
    }

    /// Bounds the lifetime (`expires` − creation) to `max_days`: an error when the
    /// creation time is known and the bound is exceeded; without a creation time (offline
    /// manifests) [`state`](Self::state) judges the remaining lifetime instead.
    pub fn bounded(mut self, max_days: u32) -> Result<Exception, CompileError> {
        if let Some(c) = self.created {
            let days = self.expires.duration_since(c).as_secs() / 86_400;
            if days > i64::from(max_days) {
                return Err(CompileError::new(
                    "spec.expires",
                    format!(
                        "is {days} days after creation; exceptions may last at most {max_days} days \
                         (operator setting --max-exception-days)"
                    ),
                ));
            }
        }
        self.max_days = Some(max_days);
        Ok(self)
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
        if let (None, Some(max_days)) = (self.created, self.max_days) {
            let days = self.expires.duration_since(now).as_secs() / 86_400;
            if days > i64::from(max_days) {
                return (
                    RiskExceptionState::Invalid,
                    Some(format!("expires in {days} days; exceptions may last at most {max_days} days")),
                );
            }
        }
        (RiskExceptionState::Active, None)
    }

    /// True when the exception applies at `now` ([`state`](Self::state) is active).
    pub fn is_active(&self, now: Timestamp) -> bool {
        self.state(now).0 == RiskExceptionState::Active
    }

    /// True when the exception names this policy and rule (or does not restrict them).
    pub fn covers_rule(&self, policy: &str, rule_name: &str, rule_type: &str) -> bool {
        self.policy.as_deref().is_none_or(|p| p == policy)
            && (self.rules.is_empty() || self.rules.iter().any(|r| r == rule_name || r == rule_type))
    }

    /// True when workloads in this namespace are in scope.
    pub fn covers_namespace(&self, namespace: &str) -> bool {
        self.namespaces.iter().any(|n| n == "*" || n == namespace)
    }

    /// True when the workload (and, for image rules, the image) is in scope.
    pub fn covers_target(&self, w: &Workload, apps: &[&str], image: Option<&ImageRef>) -> bool {
        let app_ok =
            self.apps.is_empty() || self.apps.iter().any(|a| apps.iter().any(|name| names(a, &w.namespace, name)));
        let wl_ok = self.workloads.is_empty() || self.workloads.iter().any(|n| names(n, &w.namespace, &w.name));
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
        self.covers_namespace(&w.namespace) && app_ok && wl_ok && img_ok
    }

    /// True when the exception may concern the application `namespace/app`: it covers the
    /// namespace and, when it lists applications, names this one. (Its workloads, images and
    /// findings narrow it further.) What an application's page lists, so a team sees the
    /// exceptions that may waive its own risk and no other team's.
    pub fn may_cover_app(&self, namespace: &str, app: &str) -> bool {
        self.covers_namespace(namespace) && (self.apps.is_empty() || self.apps.iter().any(|a| names(a, namespace, app)))
    }

    /// True when the exception covers a finding with these ids (or covers all findings):
    /// the rule for a guardrail violation's items.
    pub fn covers_finding<'a>(&self, mut ids: impl Iterator<Item = &'a str>) -> bool {
        self.findings.is_empty() || ids.any(|id| self.findings.iter().any(|f| f.eq_ignore_ascii_case(id)))
    }

    /// True when the exception names one of these finding ids explicitly. A blanket
    /// exception (no findings listed) excepts guardrail violations but names no finding,
    /// so it never hides one from posture.
    pub fn names_finding<'a>(&self, ids: impl Iterator<Item = &'a str>) -> bool {
        !self.findings.is_empty() && self.covers_finding(ids)
    }

    /// True when the exception hides a finding from an application's posture: it names the
    /// finding, and covers one of the `workloads` that run it (with the application's
    /// names and the image), or, for a finding no workload runs (a repository's, an
    /// endpoint's), the application's `namespace`.
    pub fn hides_finding<'a>(
        &self,
        ids: impl Iterator<Item = &'a str>,
        workloads: &[&Workload],
        apps: &[&str],
        image: Option<&ImageRef>,
        namespace: &str,
    ) -> bool {
        self.names_finding(ids)
            && if workloads.is_empty() {
                self.covers_namespace(namespace)
            } else {
                workloads.iter().any(|w| self.covers_target(w, apps, image))
            }
    }
}

/// Whether an entry of `match.apps` / `match.workloads` names the object `namespace/name`:
/// `namespace/name` names one object; a bare name (only allowed when the exception covers
/// one namespace, see [`Exception::compile`]) is looked up in the object's namespace.
fn names(entry: &str, namespace: &str, name: &str) -> bool {
    match entry.split_once('/') {
        Some((ns, n)) => ns == namespace && n == name,
        None => entry == name,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compile(expires: &str, created: Option<&str>) -> Result<Exception, CompileError> {
        let findings = vec!["cve-2021-44228".to_string()];
        let matches = ExceptionMatch::default();
        Exception::compile(ExceptionSource {
            namespace: "stance-system",
            name: "log4j-waiver",
            policy: None,
            rules: &[],
            findings: &findings,
            matches: &matches,
            justification: "vendor patch pending",
            expires,
            created: created.map(|c| c.parse().unwrap()),
            analysis: None,
            ticket: None,
        })
        .and_then(|e| e.bounded(90))
    }

    #[test]
    fn lifetime_is_bounded_and_expiry_is_exact() {
        let e = compile("2026-02-01T00:00:00Z", Some("2026-01-01T00:00:00Z")).unwrap();
        assert!(e.is_active("2026-01-31T23:59:59Z".parse().unwrap()));
        assert_eq!(e.state("2026-02-01T00:00:00Z".parse().unwrap()).0, RiskExceptionState::Expired);
        let err = compile("2027-01-01T00:00:00Z", Some("2026-01-01T00:00:00Z")).unwrap_err().to_string();
        assert!(err.contains("at most 90 days"), "{err}");
        let offline = compile("2027-01-01T00:00:00Z", None).unwrap();
        assert_eq!(offline.state("2026-01-01T00:00:00Z".parse().unwrap()).0, RiskExceptionState::Invalid);
        assert!(compile("next tuesday", None).unwrap_err().to_string().starts_with("spec.expires"));
    }

    #[test]
    fn finding_ids_match_case_insensitively() {
        let e = compile("2026-02-01T00:00:00Z", None).unwrap();
        assert!(e.covers_finding(["GHSA-x", "CVE-2021-44228"].into_iter()));
        assert!(!e.covers_finding(["CVE-2021-45046"].into_iter()));
        assert_eq!(e.namespaces, vec!["stance-system".to_string()]);
    }

    /// `match.apps` / `match.workloads` of an exception spanning namespaces name
    /// `namespace/name`: a bare name would waive any team's same-named application.
    #[test]
    fn names_are_qualified_when_an_exception_spans_namespaces() {
        use crate::model::{Container, Workload, WorkloadKind};
        let findings = vec!["CVE-2021-44228".to_string()];
        let with = |namespaces: &[&str], apps: &[&str], workloads: &[&str]| {
            let matches = ExceptionMatch {
                namespaces: namespaces.iter().map(|s| s.to_string()).collect(),
                apps: apps.iter().map(|s| s.to_string()).collect(),
                workloads: workloads.iter().map(|s| s.to_string()).collect(),
                ..ExceptionMatch::default()
            };
            Exception::compile(ExceptionSource {
                namespace: "stance-system",
                name: "waiver",
                policy: None,
                rules: &[],
                findings: &findings,
                matches: &matches,
                justification: "waf rule",
                expires: "2027-01-01T00:00:00Z",
                created: None,
                analysis: None,
                ticket: None,
            })
        };
        let err = with(&["*"], &["payments-api"], &[]).unwrap_err().to_string();
        assert!(err.starts_with("spec.match.apps[0]"), "{err}");
        assert!(err.contains("`namespace/payments-api`"), "{err}");
        let err = with(&["payments", "sandbox"], &[], &["api"]).unwrap_err().to_string();
        assert!(err.starts_with("spec.match.workloads[0]"), "{err}");

        let wl = |ns: &str| Workload::new(WorkloadKind::Deployment, ns, "api", vec![Container::hardened("c", "x:1")]);
        let qualified = with(&["*"], &["payments/payments-api"], &["payments/api"]).unwrap();
        assert!(qualified.covers_target(&wl("payments"), &["payments-api"], None));
        assert!(!qualified.covers_target(&wl("sandbox"), &["payments-api"], None), "another team's same name");
        assert!(qualified.may_cover_app("payments", "payments-api"));
        assert!(!qualified.may_cover_app("sandbox", "payments-api"));
        let single = with(&["payments"], &["payments-api"], &["api"]).unwrap();
        assert!(single.covers_target(&wl("payments"), &["payments-api"], None));
        assert!(!single.covers_target(&wl("sandbox"), &["payments-api"], None));
    }
}
