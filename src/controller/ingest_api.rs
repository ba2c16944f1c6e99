//! `POST /ingest`: CI pipelines upload SARIF, ZAP, CycloneDX/SPDX or Trivy JSON results.
//!
//! The bearer token is authenticated with a TokenReview for a dedicated audience
//! ([`IngestOptions::audience`], `kubectl create token SA --audience stance`: a token minted
//! for the API server or another service is refused) and the caller authorized with a
//! SubjectAccessReview for `create` on the virtual resource `reports.aspm.stance.dev` in
//! the target namespace (as kube-rbac-proxy does), so access is granted with ordinary
//! RBAC. An application or asset in another namespace (`app=NS/NAME`) needs the same
//! grant there too.
//!
//! The body is a typed channel: it must hold scanner reports or SBOMs only. A body with
//! anything else (a RiskException, a policy, a namespace, a workload, a KEV catalog…) is
//! refused whole with 400, never stored. An accepted upload is stored as a ConfigMap
//! labelled `aspm.stance.dev/report` in Stance's own namespace, with provenance
//! annotations Stance writes: who uploaded it, the namespace it was authorized for, when.
//! Tenants cannot write that namespace, so the operator's watch can believe them (see
//! `docs/security.md`); the chart needs no cluster-wide ConfigMap write.
//!
//! `POST /ingest?namespace=NS&app=NAME` (or `&asset=NAME`, or `NS2/NAME`) `[&name=ID]`,
//! body: the report (optionally gzip). Answers 201 with what was stored, or a 4xx naming
//! the problem.

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::Arc;

use bytes::Bytes;
use k8s_openapi::ByteString;
use k8s_openapi::api::authentication::v1::{TokenReview, TokenReviewSpec};
use k8s_openapi::api::authorization::v1::{ResourceAttributes, SubjectAccessReview, SubjectAccessReviewSpec};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, ObjectMeta, Patch, PatchParams, PostParams};
use serde::Deserialize;
use serde_json::json;
use warp::http::StatusCode;
use warp::{Filter, Reply};

use stance_core::ingest::gzip::{self, InflateError};
use stance_core::model::{Channel, Provenance, Upload};
use stance_core::names::{
    APP_ANNOTATION, ASSET_ANNOTATION, DEFAULT_STANCE_NAMESPACE, GROUP, MANAGED_BY, MANAGED_BY_LABEL, REPORT_LABEL,
    UPLOAD_NAMESPACE_ANNOTATION, UPLOADED_AT_ANNOTATION, UPLOADED_BY_ANNOTATION,
};

use super::metrics::{ControllerMetrics, RefusedLabels, ResultLabels};
use crate::ingest::{Limits, Parsed, Reader, Refusal};

/// Largest accepted upload (after optional gzip: ConfigMaps hold at most 1 MiB). The
/// report inside is inflated within the read budget every reader uses ([`Limits`]).
pub const MAX_UPLOAD: u64 = 1024 * 1024;

/// The token audience `POST /ingest` requires unless configured otherwise.
pub const DEFAULT_AUDIENCE: &str = "stance";

/// How uploads are authenticated, read and stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IngestOptions {
    /// Stance's own namespace: uploads are stored there.
    pub namespace: String,
    /// The audience a bearer token must have been issued for.
    pub audience: String,
    /// The read budget of one upload.
    pub limits: Limits,
}

impl Default for IngestOptions {
    fn default() -> Self {
        IngestOptions {
            namespace: DEFAULT_STANCE_NAMESPACE.into(),
            audience: DEFAULT_AUDIENCE.into(),
            limits: Limits::default(),
        }
    }
}

/// Who uploaded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    pub username: String,
    pub uid: String,
    pub groups: Vec<String>,
}

/// The cluster operations the endpoint needs (a trait so tests can fake them).
pub trait Backend: Send + Sync + 'static {
    /// The caller a bearer token belongs to, when the token is valid for `audience`;
    /// `None` when it is not.
    fn authenticate(&self, token: &str, audience: &str) -> impl Future<Output = Result<Option<Caller>, String>> + Send;
    /// Whether the caller may create reports in the namespace.
    fn authorize(
        &self,
        caller: &Caller,
        namespace: &str,
    ) -> impl Future<Output = Result<(bool, String), String>> + Send;
    /// Creates or replaces the ConfigMap.
    fn store(&self, cm: ConfigMap) -> impl Future<Output = Result<(), String>> + Send;
}

/// The real backend: TokenReview, SubjectAccessReview and ConfigMaps through the API.
#[derive(Clone)]
pub struct KubeBackend(pub kube::Client);

impl Backend for KubeBackend {
    async fn authenticate(&self, token: &str, audience: &str) -> Result<Option<Caller>, String> {
        let review = TokenReview {
            spec: TokenReviewSpec { token: Some(token.to_string()), audiences: Some(vec![audience.to_string()]) },
            ..Default::default()
        };
        let res = Api::<TokenReview>::all(self.0.clone())
            .create(&PostParams::default(), &review)
            .await
            .map_err(|e| format!("TokenReview failed: {e}"))?;
        let status = res.status.unwrap_or_default();
        // The API server answers with the requested audiences the token is valid for; a
        // token for another audience (the API server's own, another service's) is refused.
        let for_us = status.audiences.as_ref().is_some_and(|a| a.iter().any(|x| x == audience));
        if status.authenticated != Some(true) || !for_us {
            return Ok(None);
        }
        let user = status.user.unwrap_or_default();
        Ok(Some(Caller {
            username: user.username.unwrap_or_default(),
            uid: user.uid.unwrap_or_default(),
            groups: user.groups.unwrap_or_default(),
        }))
    }

    async fn authorize(&self, caller: &Caller, namespace: &str) -> Result<(bool, String), String> {
        let sar = SubjectAccessReview {
            spec: SubjectAccessReviewSpec {
                user: Some(caller.username.clone()),
                uid: Some(caller.uid.clone()),
                groups: Some(caller.groups.clone()),
                resource_attributes: Some(ResourceAttributes {
                    group: Some(GROUP.into()),
                    resource: Some("reports".into()),
                    verb: Some("create".into()),
                    namespace: Some(namespace.into()),
                    ..Default::default()
                }),
                ..Default::default()
            },
            ..Default::default()
        };
        let res = Api::<SubjectAccessReview>::all(self.0.clone())
            .create(&PostParams::default(), &sar)
            .await
            .map_err(|e| format!("SubjectAccessReview failed: {e}"))?;
        let status = res.status.unwrap_or_default();
        Ok((status.allowed, status.reason.unwrap_or_default()))
    }

    async fn store(&self, cm: ConfigMap) -> Result<(), String> {
        let ns = cm.metadata.namespace.clone().unwrap_or_default();
        let name = cm.metadata.name.clone().unwrap_or_default();
        Api::<ConfigMap>::namespaced(self.0.clone(), &ns)
            .patch(&name, &PatchParams::apply(super::reconcile::FIELD_MANAGER).force(), &Patch::Apply(&cm))
            .await
            .map(|_| ())
            .map_err(|e| format!("cannot store ConfigMap {ns}/{name}: {e}"))
    }
}

/// Query parameters.
#[derive(Debug, Deserialize)]
pub struct IngestQuery {
    pub namespace: Option<String>,
    pub app: Option<String>,
    pub asset: Option<String>,
    /// Stable name of the upload (re-uploads with the same name replace it); default:
    /// derived from the subject and the scanner.
    pub name: Option<String>,
}

fn reply(status: StatusCode, body: serde_json::Value) -> warp::reply::Response {
    warp::reply::with_status(warp::reply::json(&body), status).into_response()
}

fn problem(status: StatusCode, message: impl Into<String>) -> warp::reply::Response {
    reply(status, json!({"error": message.into()}))
}

fn dns_label(s: &str) -> String {
    let clean: String =
        s.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' }).collect();
    clean.trim_matches('-').chars().take(40).collect::<String>().trim_end_matches('-').to_string()
}

/// The application or asset an upload is for, and the namespace whose evidence it is.
struct Subject {
    annotation: &'static str,
    namespace: String,
    name: String,
}

/// Handles one upload (everything but the HTTP plumbing).
pub async fn handle<B: Backend>(
    backend: &B,
    metrics: &ControllerMetrics,
    opts: &IngestOptions,
    authorization: Option<String>,
    query: IngestQuery,
    body: Bytes,
) -> warp::reply::Response {
    let outcome = |result: &str| {
        metrics.ingest_uploads.get_or_create(&ResultLabels { kind: "upload".into(), result: result.into() }).inc();
    };
    let Some(token) =
        authorization.as_deref().and_then(|h| h.strip_prefix("Bearer ")).map(str::trim).filter(|t| !t.is_empty())
    else {
        outcome("unauthenticated");
        return problem(
            StatusCode::UNAUTHORIZED,
            format!(
                "send a ServiceAccount token for audience {0:?} as `Authorization: Bearer <token>` (kubectl create \
                 token SA --audience {0})",
                opts.audience
            ),
        );
    };
    let Some(namespace) = query.namespace.filter(|n| !n.is_empty()) else {
        outcome("bad_request");
        return problem(StatusCode::BAD_REQUEST, "query parameter `namespace` is required");
    };
    let subject = match (&query.app, &query.asset) {
        (Some(a), None) if !a.is_empty() => (APP_ANNOTATION, a.clone()),
        (None, Some(a)) if !a.is_empty() => (ASSET_ANNOTATION, a.clone()),
        _ => {
            outcome("bad_request");
            return problem(
                StatusCode::BAD_REQUEST,
                "give exactly one of `app=<AppPosture name>` or `asset=<Asset name>`",
            );
        }
    };
    // `app=NS/NAME` names an application in another namespace: the upload is that
    // namespace's evidence, and needs the grant there too.
    let subject = match subject.1.split_once('/') {
        Some((ns, name)) if !ns.is_empty() && !name.is_empty() && !name.contains('/') => {
            Subject { annotation: subject.0, namespace: ns.to_string(), name: name.to_string() }
        }
        None => Subject { annotation: subject.0, namespace: namespace.clone(), name: subject.1 },
        Some(_) => {
            outcome("bad_request");
            return problem(StatusCode::BAD_REQUEST, "`app` / `asset` is `NAME` or `NAMESPACE/NAME`");
        }
    };
    if body.len() as u64 > MAX_UPLOAD {
        outcome("too_large");
        return problem(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("upload is {} bytes; the limit is {MAX_UPLOAD} (gzip it)", body.len()),
        );
    }
    let caller = match backend.authenticate(token, &opts.audience).await {
        Ok(Some(c)) => c,
        Ok(None) => {
            outcome("unauthenticated");
            return problem(
                StatusCode::UNAUTHORIZED,
                format!(
                    "the token is not valid for this cluster, or was not issued for audience {0:?}: mint one with \
                     `kubectl create token SA --audience {0}`",
                    opts.audience
                ),
            );
        }
        Err(e) => {
            tracing::error!(error = %e, "authentication failed");
            outcome("error");
            return problem(StatusCode::SERVICE_UNAVAILABLE, "cannot verify the token right now; retry later");
        }
    };
    let mut namespaces = vec![namespace.as_str()];
    if subject.namespace != namespace {
        namespaces.push(&subject.namespace);
    }
    for ns in namespaces {
        match backend.authorize(&caller, ns).await {
            Ok((true, _)) => {}
            Ok((false, reason)) => {
                outcome("forbidden");
                let why = if reason.is_empty() { String::new() } else { format!(" ({reason})") };
                return problem(
                    StatusCode::FORBIDDEN,
                    format!(
                        "{} may not upload reports to namespace {ns}: grant `create` on `reports.aspm.stance.dev` there{why}",
                        caller.username
                    ),
                );
            }
            Err(e) => {
                tracing::error!(error = %e, "authorization failed");
                outcome("error");
                return problem(StatusCode::SERVICE_UNAVAILABLE, "cannot check permissions right now; retry later");
            }
        }
    }
    // Inflated once, within the budget every reader uses: what is parsed below is exactly
    // what is stored, never a truncated copy.
    let report = if gzip::is_gzip(&body) {
        match gzip::inflate(&body, opts.limits.max_decompressed) {
            Ok(inflated) => inflated,
            Err(e @ InflateError::TooLarge { .. }) => {
                outcome("too_large");
                refused(metrics, Refusal::Decompressed);
                return problem(StatusCode::PAYLOAD_TOO_LARGE, format!("the upload's {e}; split the report"));
            }
            Err(e) => {
                outcome("unrecognized");
                return problem(StatusCode::UNPROCESSABLE_ENTITY, format!("the upload is {e}"));
            }
        }
    } else {
        body.to_vec()
    };
    // Recognise the content with the same parsers the operator uses, through the upload's
    // own channel: reports only.
    let upload =
        Upload { uploader: Arc::from(caller.username.as_str()), namespace: Arc::from(subject.namespace.as_str()) };
    let reader = Reader::new(Provenance::new(Channel::Upload(upload), jiff::Timestamp::now()), opts.limits);
    let mut parsed = Vec::new();
    let mut warnings = Vec::new();
    crate::ingest::read_bytes(&reader, "upload", &report, &mut parsed, &mut warnings);
    if let Some(w) = warnings.iter().find(|w| w.refusal.is_some()) {
        let refusal = w.refusal.unwrap_or(Refusal::NotAReport);
        refused(metrics, refusal);
        outcome("refused");
        let (status, advice) = match refusal {
            Refusal::NotAReport => (
                StatusCode::BAD_REQUEST,
                "send scanner reports and SBOMs only (exceptions, policies and other objects are applied with \
                 kubectl, never through an upload)",
            ),
            _ => (StatusCode::PAYLOAD_TOO_LARGE, "split the report"),
        };
        return problem(status, format!("refused: {}: {}; {advice}", w.origin, w.message));
    }
    let reports: Vec<_> =
        parsed.iter().filter_map(|p| if let Parsed::Report(r) = p { Some(r) } else { None }).collect();
    if reports.is_empty() || !warnings.is_empty() {
        outcome("unrecognized");
        let detail =
            warnings.first().map(|w| w.message.clone()).unwrap_or_else(|| "no scanner report found in it".into());
        return problem(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!(
                "not a report Stance can read ({detail}); send SARIF 2.1.0, OWASP ZAP JSON, CycloneDX or SPDX JSON, or Trivy JSON"
            ),
        );
    }
    let format = reports[0].source.format.as_str();
    let findings: usize = reports.iter().map(|r| r.findings.len()).sum();
    let scanner = reports[0].source.scanner.to_string();
    // Unique across namespaces: every upload lives in Stance's namespace. The readable part
    // is ambiguous (`team` + `a-x` and `team-a` + `x` read alike, and each part is cut at 40
    // characters), so a hash of the exact pair keeps one namespace's upload from replacing
    // another's; the same namespace and name still replace the previous upload.
    let name = match &query.name {
        Some(n) => format!(
            "stance-upload-{}-{}-{}",
            dns_label(&subject.namespace),
            dns_label(n),
            &crate::output::stable_id(&[&subject.namespace, n])[..10]
        ),
        None => format!(
            "stance-upload-{}-{}-{}",
            dns_label(&subject.namespace),
            dns_label(&subject.name),
            &crate::output::stable_id(&[&subject.namespace, &subject.name, format, &scanner])[..10]
        ),
    };
    // Always stored gzip'd: ConfigMaps are limited to 1 MiB.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    if gz.write_all(&report).is_err() {
        outcome("error");
        return problem(StatusCode::INTERNAL_SERVER_ERROR, "cannot compress the upload");
    }
    let Ok(compressed) = gz.finish() else {
        outcome("error");
        return problem(StatusCode::INTERNAL_SERVER_ERROR, "cannot compress the upload");
    };
    if compressed.len() as u64 > MAX_UPLOAD {
        outcome("too_large");
        return problem(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the report is {} bytes compressed; the limit is {MAX_UPLOAD}", compressed.len()),
        );
    }
    let cm = ConfigMap {
        metadata: ObjectMeta {
            name: Some(name.clone()),
            namespace: Some(opts.namespace.clone()),
            labels: Some(BTreeMap::from([
                (REPORT_LABEL.to_string(), format.to_string()),
                (MANAGED_BY_LABEL.to_string(), MANAGED_BY.to_string()),
            ])),
            annotations: Some(BTreeMap::from([
                (subject.annotation.to_string(), format!("{}/{}", subject.namespace, subject.name)),
                (UPLOADED_BY_ANNOTATION.to_string(), caller.username.clone()),
                (UPLOAD_NAMESPACE_ANNOTATION.to_string(), subject.namespace.clone()),
                (UPLOADED_AT_ANNOTATION.to_string(), jiff::Timestamp::now().to_string()),
            ])),
            ..Default::default()
        },
        binary_data: Some(BTreeMap::from([(format!("report.{format}.gz"), ByteString(compressed))])),
        ..Default::default()
    };
    if let Err(e) = backend.store(cm).await {
        tracing::error!(error = %e, "storing an upload failed");
        outcome("error");
        return problem(StatusCode::SERVICE_UNAVAILABLE, "cannot store the report right now; retry later");
    }
    outcome("stored");
    tracing::info!(namespace = %subject.namespace, name, format, findings, user = %caller.username, "report uploaded");
    reply(
        StatusCode::CREATED,
        json!({
            "namespace": subject.namespace,
            "configMap": name,
            "configMapNamespace": opts.namespace,
            "format": format,
            "findings": findings,
        }),
    )
}

fn refused(metrics: &ControllerMetrics, refusal: Refusal) {
    let labels = RefusedLabels { kind: "upload".into(), reason: refusal.as_str().into() };
    metrics.refused_documents.get_or_create(&labels).inc();
}

/// The warp route for `POST /ingest`.
pub fn route<B: Backend>(
    backend: Arc<B>,
    metrics: Arc<ControllerMetrics>,
    opts: IngestOptions,
) -> impl Filter<Extract = (warp::reply::Response,), Error = warp::Rejection> + Clone {
    let opts = Arc::new(opts);
    warp::path("ingest")
        .and(warp::path::end())
        .and(warp::post())
        .and(warp::header::optional::<String>("authorization"))
        .and(warp::query::<IngestQuery>())
        // Read a little past the limit so an oversized body is answered 413 by `handle`.
        .and(warp::body::content_length_limit(MAX_UPLOAD + 1))
        .and(warp::body::bytes())
        .then(move |auth, query, body| {
            let backend = backend.clone();
            let metrics = metrics.clone();
            let opts = opts.clone();
            async move { handle(&*backend, &metrics, &opts, auth, query, body).await }
        })
}
