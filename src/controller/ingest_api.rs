//! `POST /ingest`: CI pipelines upload SARIF, ZAP, CycloneDX/SPDX or Trivy JSON results.
//!
//! The bearer token is authenticated with a TokenReview and the caller authorized with a
//! SubjectAccessReview for `create` on the virtual resource `reports.aspm.stance.dev` in
//! the target namespace (as kube-rbac-proxy does), so access is granted with ordinary
//! RBAC. An accepted upload is stored as a ConfigMap labelled `aspm.stance.dev/report`,
//! which the operator's watch reads like any other report.
//!
//! `POST /ingest?namespace=NS&app=NAME` (or `&asset=NAME`) `[&name=ID]`, body: the report
//! (optionally gzip). Answers 201 with what was stored, or a 4xx naming the problem.

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

use stance_core::ingest::gzip::{self, InflateError, MAX_DECOMPRESSED};
use stance_core::names::{
    APP_ANNOTATION, ASSET_ANNOTATION, GROUP, MANAGED_BY, MANAGED_BY_LABEL, REPORT_LABEL, UPLOADED_AT_ANNOTATION,
    UPLOADED_BY_ANNOTATION,
};

use super::metrics::{ControllerMetrics, ResultLabels};
use crate::ingest::Parsed;

/// Largest accepted upload (after optional gzip: ConfigMaps hold at most 1 MiB). The
/// report inside is inflated with the one gzip cap every reader uses
/// ([`MAX_DECOMPRESSED`]).
pub const MAX_UPLOAD: u64 = 1024 * 1024;

/// Who uploaded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    pub username: String,
    pub uid: String,
    pub groups: Vec<String>,
}

/// The cluster operations the endpoint needs (a trait so tests can fake them).
pub trait Backend: Send + Sync + 'static {
    /// The caller a bearer token belongs to; `None` when the token is not valid.
    fn authenticate(&self, token: &str) -> impl Future<Output = Result<Option<Caller>, String>> + Send;
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
    async fn authenticate(&self, token: &str) -> Result<Option<Caller>, String> {
        let review = TokenReview {
            spec: TokenReviewSpec { token: Some(token.to_string()), ..Default::default() },
            ..Default::default()
        };
        let res = Api::<TokenReview>::all(self.0.clone())
            .create(&PostParams::default(), &review)
            .await
            .map_err(|e| format!("TokenReview failed: {e}"))?;
        let status = res.status.unwrap_or_default();
        if status.authenticated != Some(true) {
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

/// Handles one upload (everything but the HTTP plumbing).
pub async fn handle<B: Backend>(
    backend: &B,
    metrics: &ControllerMetrics,
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
        return problem(StatusCode::UNAUTHORIZED, "send a ServiceAccount token as `Authorization: Bearer <token>`");
    };
    let Some(namespace) = query.namespace.filter(|n| !n.is_empty()) else {
        outcome("bad_request");
        return problem(StatusCode::BAD_REQUEST, "query parameter `namespace` is required");
    };
    let (annotation, subject) = match (&query.app, &query.asset) {
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
    if body.len() as u64 > MAX_UPLOAD {
        outcome("too_large");
        return problem(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("upload is {} bytes; the limit is {MAX_UPLOAD} (gzip it)", body.len()),
        );
    }
    let caller = match backend.authenticate(token).await {
        Ok(Some(c)) => c,
        Ok(None) => {
            outcome("unauthenticated");
            return problem(StatusCode::UNAUTHORIZED, "the token is not valid for this cluster");
        }
        Err(e) => {
            tracing::error!(error = %e, "authentication failed");
            outcome("error");
            return problem(StatusCode::SERVICE_UNAVAILABLE, "cannot verify the token right now; retry later");
        }
    };
    match backend.authorize(&caller, &namespace).await {
        Ok((true, _)) => {}
        Ok((false, reason)) => {
            outcome("forbidden");
            let why = if reason.is_empty() { String::new() } else { format!(" ({reason})") };
            return problem(
                StatusCode::FORBIDDEN,
                format!(
                    "{} may not upload reports to namespace {namespace}: grant `create` on `reports.aspm.stance.dev` there{why}",
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
    // Inflated once, with the one cap every reader uses: what is parsed below is exactly
    // what is stored, never a truncated copy.
    let report = if gzip::is_gzip(&body) {
        match gzip::inflate(&body, MAX_DECOMPRESSED) {
            Ok(inflated) => inflated,
            Err(e @ InflateError::TooLarge { .. }) => {
                outcome("too_large");
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
    // Recognise the content with the same parsers the operator uses.
    let mut parsed = Vec::new();
    let mut warnings = Vec::new();
    crate::ingest::parse_bytes("upload", &report, &mut parsed, &mut warnings);
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
    let name = match &query.name {
        Some(n) => format!("stance-upload-{}", dns_label(n)),
        None => format!(
            "stance-upload-{}-{}",
            dns_label(&subject),
            &crate::output::stable_id(&[&subject, format, &scanner])[..10]
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
            namespace: Some(namespace.clone()),
            labels: Some(BTreeMap::from([
                (REPORT_LABEL.to_string(), format.to_string()),
                (MANAGED_BY_LABEL.to_string(), MANAGED_BY.to_string()),
            ])),
            annotations: Some(BTreeMap::from([
                (annotation.to_string(), subject.clone()),
                (UPLOADED_BY_ANNOTATION.to_string(), caller.username.clone()),
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
    tracing::info!(namespace, name, format, findings, user = %caller.username, "report uploaded");
    reply(
        StatusCode::CREATED,
        json!({"namespace": namespace, "configMap": name, "format": format, "findings": findings}),
    )
}

/// The warp route for `POST /ingest`.
pub fn route<B: Backend>(
    backend: Arc<B>,
    metrics: Arc<ControllerMetrics>,
) -> impl Filter<Extract = (warp::reply::Response,), Error = warp::Rejection> + Clone {
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
            async move { handle(&*backend, &metrics, auth, query, body).await }
        })
}
