//! The dashboard's HTTP surface (warp): read-only pages, `GET /api/where?q=` (JSON), the
//! stylesheet, and in `token` mode `POST /login` / `POST /logout` (the token cookie).
//! Every response carries a strict Content-Security-Policy (no script, styles only from
//! this origin), `nosniff`, `no-referrer`, `frame-ancestors 'none'` and `no-store`.

use std::net::SocketAddr;
use std::sync::Arc;

use askama::Template;
use http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use warp::filters::BoxedFilter;
use warp::reply::Response;
use warp::{Filter, Reply};

use super::Dashboard;
use super::access::{Refusal, TOKEN_COOKIE, Viewer};
use super::pages::{self, Chrome, FindingFilter, MessagePage};
use stance_core::blast_radius::{self, Query};
use stance_core::model::Severity;

/// The Content-Security-Policy of every response: nothing runs, nothing loads from
/// elsewhere, forms post only here.
pub const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; \
                       frame-ancestors 'none'; base-uri 'none'";

const STYLE: &str = include_str!("style.css");
/// Largest login form accepted.
const MAX_FORM: u64 = 16 * 1024;

fn secure(mut r: Response) -> Response {
    let h = r.headers_mut();
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

fn html(status: StatusCode, body: String) -> Response {
    let mut r = warp::reply::with_status(warp::reply::html(body), status).into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    r
}

fn render(t: &impl Template) -> Response {
    match t.render() {
        Ok(body) => html(StatusCode::OK, body),
        Err(e) => {
            tracing::error!(error = %e, "dashboard template failed");
            html(StatusCode::INTERNAL_SERVER_ERROR, "internal error (logged)".into())
        }
    }
}

fn message(status: StatusCode, chrome: Chrome, heading: &str, text: &str, login: bool) -> Response {
    let page = MessagePage { chrome, heading: heading.into(), message: text.into(), login };
    let mut r = render(&page);
    *r.status_mut() = status;
    r
}

/// Decodes `%XX` escapes of a path segment (invalid ones are kept as written).
fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        if b[i] == b'%'
            && let (Some(h), Some(l)) = (b.get(i + 1).and_then(|c| hex(*c)), b.get(i + 2).and_then(|c| hex(*c)))
        {
            out.push((h * 16 + l) as u8);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn param<'a>(q: &'a [(String, String)], key: &str) -> Option<&'a str> {
    q.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

fn page_of(q: &[(String, String)], key: &str) -> usize {
    param(q, key).and_then(|p| p.parse().ok()).unwrap_or(1)
}

/// The dashboard's routes.
pub fn routes(dash: Arc<Dashboard>) -> BoxedFilter<(Response,)> {
    let d = dash.clone();
    let pages = warp::method()
        .and(warp::path::full())
        .and(warp::query::<Vec<(String, String)>>().or(warp::any().map(Vec::new)).unify())
        .and(warp::header::headers_cloned())
        .and(warp::addr::remote())
        .then(move |m: Method, path: warp::path::FullPath, q: Vec<(String, String)>, h: HeaderMap, remote| {
            let d = d.clone();
            async move { secure(get(d, m, path.as_str().to_string(), q, h, remote).await) }
        });
    let d = dash;
    let login = warp::post()
        .and(warp::path("login"))
        .and(warp::path::end())
        .and(warp::body::content_length_limit(MAX_FORM))
        .and(warp::body::form::<Vec<(String, String)>>())
        .map(move |form: Vec<(String, String)>| secure(login_reply(&d, &form)));
    let logout = warp::post().and(warp::path("logout")).and(warp::path::end()).map(|| {
        let mut r = warp::redirect::see_other(http::Uri::from_static("/")).into_response();
        let gone = format!("{TOKEN_COOKIE}=; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age=0");
        if let Ok(v) = HeaderValue::from_str(&gone) {
            r.headers_mut().insert(header::SET_COOKIE, v);
        }
        secure(r)
    });
    login.or(logout).unify().or(pages).unify().boxed()
}

/// `POST /login` in `token` mode: the form's token becomes an HttpOnly, SameSite=Strict,
/// Secure cookie (it is checked on every request, like a bearer header).
fn login_reply(d: &Dashboard, form: &[(String, String)]) -> Response {
    if !d.access.uses_tokens() {
        return html(StatusCode::NOT_FOUND, "not found\n".into());
    }
    let token = param(form, "token").unwrap_or("").trim().to_string();
    // A token is a JWT or an opaque string: anything that could break the cookie is refused.
    if token.is_empty() || !token.bytes().all(|b| b.is_ascii_graphic() && b != b';' && b != b',' && b != b'"') {
        let chrome = Chrome::new("Sign in", None, &Viewer::Namespaces(Default::default()), d.now());
        return message(StatusCode::BAD_REQUEST, chrome, "Sign in", "Paste a Kubernetes token.", true);
    }
    let mut r = warp::redirect::see_other(http::Uri::from_static("/")).into_response();
    let cookie = format!("{TOKEN_COOKIE}={token}; Path=/; HttpOnly; Secure; SameSite=Strict");
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    r
}

async fn get(
    d: Arc<Dashboard>,
    m: Method,
    path: String,
    q: Vec<(String, String)>,
    h: HeaderMap,
    remote: Option<SocketAddr>,
) -> Response {
    if m != Method::GET && m != Method::HEAD {
        return html(StatusCode::METHOD_NOT_ALLOWED, "the dashboard is read-only: use GET\n".into());
    }
    match path.as_str() {
        "/static/style.css" => {
            let mut r = warp::reply::with_header(STYLE, "content-type", "text/css; charset=utf-8").into_response();
            r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("max-age=300"));
            return r;
        }
        "/healthz" => return warp::reply::with_status("ok", StatusCode::OK).into_response(),
        _ => {}
    }
    let index = d.index.clone();
    let namespaces = move || index.read().map(|i| pages::namespaces(&i)).unwrap_or_default();
    let (identity, viewer) = match d.access.viewer(&h, remote, namespaces).await {
        Ok(v) => v,
        Err(refusal) => {
            let chrome = Chrome::new("Sign in", None, &Viewer::Namespaces(Default::default()), d.now());
            let (status, login) = match &refusal {
                Refusal::Unauthenticated(_) => (StatusCode::UNAUTHORIZED, d.access.uses_tokens()),
                Refusal::Forbidden(_) => (StatusCode::FORBIDDEN, false),
                Refusal::Unavailable(e) => {
                    tracing::warn!(error = %e, "dashboard: access review failed");
                    (StatusCode::SERVICE_UNAVAILABLE, false)
                }
            };
            return message(status, chrome, "Sign in to Stance", &refusal.to_string(), login);
        }
    };
    let user = identity.map(|i| i.user);
    // Pages read the index and render synchronously: off the async reactor.
    tokio::task::spawn_blocking(move || page(&d, &path, &q, user.as_deref(), &viewer)).await.unwrap_or_else(|e| {
        tracing::error!(error = %e, "dashboard page panicked");
        html(StatusCode::INTERNAL_SERVER_ERROR, "internal error (logged)".into())
    })
}

fn not_found(chrome: Chrome, what: &str) -> Response {
    message(StatusCode::NOT_FOUND, chrome, "Not found", what, false)
}

/// One page, synchronously.
fn page(d: &Dashboard, path: &str, q: &[(String, String)], user: Option<&str>, viewer: &Viewer) -> Response {
    let now = d.now();
    let chrome = |title: &str| Chrome::new(title, user, viewer, now);
    let segments: Vec<String> = path.trim_start_matches('/').split('/').map(decode).collect();
    let seg: Vec<&str> = segments.iter().map(String::as_str).collect();
    match seg.as_slice() {
        [""] => {
            let model = d.model();
            render(&pages::overview(
                &model,
                viewer,
                chrome("Overview"),
                page_of(q, "page"),
                page_of(q, "ipage"),
                d.trends.as_deref(),
                now,
            ))
        }
        ["api", "trends"] => api_trends(d, param(q, "app"), viewer),
        [kind @ ("apps" | "inferred"), ns, name] => {
            if !viewer.sees(ns) {
                return not_found(chrome("Not found"), "No such application in the namespaces you can see.");
            }
            let filter = FindingFilter {
                severity: param(q, "severity").map(Severity::parse),
                kev: param(q, "kev") == Some("1"),
            };
            let model = d.model();
            let Ok(index) = d.index.read() else {
                return html(StatusCode::INTERNAL_SERVER_ERROR, "internal error (logged)".into());
            };
            let title = format!("{ns}/{name}");
            match pages::app_page(
                &index,
                &model,
                ns,
                name,
                *kind == "inferred",
                &filter,
                page_of(q, "page"),
                chrome(&title),
                now,
            ) {
                Some(p) => render(&p),
                None => not_found(chrome("Not found"), "No such application in the namespaces you can see."),
            }
        }
        ["findings", _] | ["search"] | ["api", "where"] => {
            let Ok(index) = d.index.read() else {
                return html(StatusCode::INTERNAL_SERVER_ERROR, "internal error (logged)".into());
            };
            if seg[0] == "api" {
                return api_where(&index, param(q, "q").unwrap_or(""), viewer, now);
            }
            let (text, finding) = match seg.as_slice() {
                [_, id] => (*id, true),
                _ => (param(q, "q").unwrap_or(""), false),
            };
            let title = if finding { format!("Finding {text}") } else { "Search".into() };
            render(&pages::search_page(&index, text, finding, viewer, page_of(q, "page"), chrome(&title), now))
        }
        ["policies"] => render(&pages::policies_page(&d.model(), viewer, chrome("Policies"))),
        ["exceptions"] => render(&pages::exceptions_page(&d.model(), viewer, chrome("Exceptions"))),
        ["not-running"] => {
            render(&pages::not_running_page(&d.model(), viewer, page_of(q, "page"), chrome("Not running")))
        }
        _ => not_found(chrome("Not found"), "No such page. Start from the overview."),
    }
}

/// `GET /api/trends[?app=NS/NAME]`: open findings by severity per day from the history
/// store, oldest first (`{"app": …, "points": [{"day", "open": {critical, …}}]}`); 404 without
/// a store (`--history`), 400 for an `app` that is not `NS/NAME`.
fn api_trends(d: &Dashboard, app: Option<&str>, viewer: &Viewer) -> Response {
    let reply = |status: StatusCode, body: serde_json::Value| {
        warp::reply::with_status(warp::reply::json(&body), status).into_response()
    };
    let Some(trends) = d.trends.as_deref() else {
        return reply(
            StatusCode::NOT_FOUND,
            serde_json::json!({"error": "no history store: serve with --history URL"}),
        );
    };
    let app = match app.map(|a| a.split_once('/')) {
        None => None,
        Some(Some((ns, name))) if !ns.is_empty() && !name.is_empty() => Some((ns, name)),
        Some(_) => {
            return reply(StatusCode::BAD_REQUEST, serde_json::json!({"error": "app must be NAMESPACE/NAME"}));
        }
    };
    let points = super::trends::json(&trends.trend(app, viewer));
    reply(StatusCode::OK, serde_json::json!({"app": app.map(|(ns, n)| format!("{ns}/{n}")), "points": points}))
}

/// `GET /api/where?q=`: the blast radius as JSON (the same document as `stance where
/// --format json`); 400 with the reason for a query that cannot be read.
fn api_where(index: &stance_core::index::PostureIndex, q: &str, viewer: &Viewer, now: jiff::Timestamp) -> Response {
    let query = match Query::parse(q) {
        Ok(query) => query,
        Err(e) => {
            let body = serde_json::json!({ "error": e.to_string() });
            return warp::reply::with_status(warp::reply::json(&body), StatusCode::BAD_REQUEST).into_response();
        }
    };
    let visible = |ns: &str| viewer.sees(ns);
    let scope: blast_radius::Visible<'_> = if viewer.is_all() { None } else { Some(&visible) };
    warp::reply::json(&blast_radius::search(index, &query, scope, now)).into_response()
}
