//! Who may see the dashboard, and which namespaces they see.
//!
//! - `none`: no authentication — allowed only when listening on a loopback address
//!   ([`Access::check_listen`]), for `stance serve` on a laptop or a CI artifact.
//! - `token`: a Kubernetes bearer token (`kubectl create token …`, or a user's OIDC token)
//!   in `Authorization: Bearer …`, or in the `stance_token` cookie that `POST /login` sets
//!   (HttpOnly, SameSite=Strict, Secure), checked with a TokenReview.
//! - `proxy`: the user and groups an authenticating proxy (oauth2-proxy, …) puts in
//!   headers (default `X-Forwarded-User`, `X-Forwarded-Groups`, comma-separated), trusted
//!   only from the configured source addresses; any other source is refused.
//!
//! In `token` and `proxy` modes a user sees the namespaces where a SubjectAccessReview
//! allows `get` on `apppostures.aspm.stance.dev` — all of them when the review allows it
//! cluster-wide (no namespace). Identities and decisions are cached for [`CACHE_TTL`].

use std::collections::{BTreeSet, HashMap};
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::StreamExt;
use http::HeaderMap;
use ipnet::IpNet;
use k8s_openapi::api::authentication::v1::{TokenReview, TokenReviewSpec};
use k8s_openapi::api::authorization::v1::{ResourceAttributes, SubjectAccessReview, SubjectAccessReviewSpec};
use kube::api::{Api, PostParams};

use stance_core::names;

/// How long a token's identity and a user's namespace decisions are reused.
pub const CACHE_TTL: Duration = Duration::from_secs(30);
/// Most cached identities or decisions before the cache is emptied.
const CACHE_MAX: usize = 10_000;
/// SubjectAccessReviews in flight at once for one user's namespaces.
const REVIEWS_IN_FLIGHT: usize = 16;
/// The cookie `POST /login` sets in `token` mode.
pub const TOKEN_COOKIE: &str = "stance_token";

/// Which namespaces a viewer sees.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Viewer {
    /// Every namespace, and what runs in none (CI scans, repositories).
    All,
    /// Only these.
    Namespaces(BTreeSet<String>),
}

impl Viewer {
    /// True when the viewer sees this namespace.
    pub fn sees(&self, namespace: &str) -> bool {
        match self {
            Viewer::All => true,
            Viewer::Namespaces(set) => set.contains(namespace),
        }
    }

    /// True for a cluster-wide viewer.
    pub fn is_all(&self) -> bool {
        matches!(self, Viewer::All)
    }
}

/// An authenticated user.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Identity {
    pub user: String,
    pub groups: Vec<String>,
}

/// How requests are authenticated (see the module documentation).
pub enum Access {
    None,
    Token(Arc<Reviewer>),
    Proxy { reviewer: Arc<Reviewer>, trusted: Vec<IpNet>, user_header: String, groups_header: String },
}

/// Why a request is refused: 401 (who are you), 403 (not you), 503 (cannot ask).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("{0}")]
    Unauthenticated(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("cannot check access with the Kubernetes API: {0}")]
    Unavailable(String),
}

/// A mode that cannot serve on the chosen address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "--dashboard-auth none serves without authentication, so it only listens on a loopback address (127.0.0.1 or [::1]), \
     not {0}: use --dashboard-auth token or proxy"
)]
pub struct UnsafeListen(pub SocketAddr);

impl Access {
    /// `none` only on loopback addresses.
    pub fn check_listen(&self, addr: SocketAddr) -> Result<(), UnsafeListen> {
        match self {
            Access::None if !addr.ip().is_loopback() => Err(UnsafeListen(addr)),
            _ => Ok(()),
        }
    }

    /// True when `POST /login` (a token form) makes sense.
    pub fn uses_tokens(&self) -> bool {
        matches!(self, Access::Token(_))
    }

    /// The viewer of a request, given the namespaces that hold anything (for per-namespace
    /// reviews when the user may not read cluster-wide).
    pub async fn viewer(
        &self,
        headers: &HeaderMap,
        remote: Option<SocketAddr>,
        namespaces: impl FnOnce() -> Vec<String>,
    ) -> Result<(Option<Identity>, Viewer), Refusal> {
        let (reviewer, identity) = match self {
            Access::None => return Ok((None, Viewer::All)),
            Access::Token(reviewer) => {
                let token = bearer(headers).ok_or_else(|| {
                    Refusal::Unauthenticated(
                        "sign in with a Kubernetes token (kubectl create token …), or send Authorization: Bearer <token>"
                            .into(),
                    )
                })?;
                (reviewer, reviewer.authenticate(&token).await?)
            }
            Access::Proxy { reviewer, trusted, user_header, groups_header } => {
                let from = remote.map(|a| a.ip());
                if !from.is_some_and(|ip| trusted.iter().any(|n| n.contains(&canonical(ip)))) {
                    return Err(Refusal::Forbidden(format!(
                        "requests must come through the authenticating proxy (this one came from {})",
                        from.map_or("an unknown address".into(), |ip| ip.to_string())
                    )));
                }
                let user = header(headers, user_header).filter(|u| !u.is_empty()).ok_or_else(|| {
                    Refusal::Unauthenticated(format!("the proxy sent no {user_header} header: sign in through it"))
                })?;
                let groups = header(headers, groups_header)
                    .map(|g| g.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect())
                    .unwrap_or_default();
                (reviewer, Identity { user, groups })
            }
        };
        let viewer = reviewer.viewer(&identity, namespaces).await?;
        Ok((Some(identity), viewer))
    }
}

/// IPv4-mapped IPv6 addresses (`::ffff:10.0.0.1`) compare as IPv4.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers.get(name).and_then(|v| v.to_str().ok()).map(|s| s.trim().to_string())
}

/// The bearer token of a request: `Authorization: Bearer …`, else the login cookie.
pub fn bearer(headers: &HeaderMap) -> Option<String> {
    if let Some(t) = header(headers, "authorization")
        .and_then(|a| a.strip_prefix("Bearer ").or_else(|| a.strip_prefix("bearer ")).map(|t| t.trim().to_string()))
    {
        return Some(t).filter(|t| !t.is_empty());
    }
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == TOKEN_COOKIE)
        .map(|(_, v)| v.trim().to_string())
        .filter(|t| !t.is_empty())
}

/// Asks the API server who a token is and what a user may read, with a short cache.
pub struct Reviewer {
    client: kube::Client,
    identities: Mutex<HashMap<String, (Instant, Identity)>>,
    viewers: Mutex<HashMap<Identity, (Instant, Viewer)>>,
}

impl Reviewer {
    /// A reviewer using the operator's client (its ServiceAccount needs `create` on
    /// tokenreviews and subjectaccessreviews: the chart binds `system:auth-delegator`).
    pub fn new(client: kube::Client) -> Reviewer {
        Reviewer { client, identities: Mutex::default(), viewers: Mutex::default() }
    }

    /// The identity of a token (TokenReview); refused when the API server does not
    /// authenticate it.
    pub async fn authenticate(&self, token: &str) -> Result<Identity, Refusal> {
        if let Some(id) = cached(&self.identities, token) {
            return Ok(id);
        }
        let review = TokenReview {
            spec: TokenReviewSpec { token: Some(token.to_string()), audiences: None },
            ..TokenReview::default()
        };
        let api: Api<TokenReview> = Api::all(self.client.clone());
        let answer =
            api.create(&PostParams::default(), &review).await.map_err(|e| Refusal::Unavailable(e.to_string()))?;
        let status = answer.status.unwrap_or_default();
        let user = status.user.filter(|_| status.authenticated == Some(true)).ok_or_else(|| {
            Refusal::Unauthenticated(format!(
                "the Kubernetes API server does not accept this token{}",
                status.error.map(|e| format!(": {e}")).unwrap_or_default()
            ))
        })?;
        let identity = Identity { user: user.username.unwrap_or_default(), groups: user.groups.unwrap_or_default() };
        store(&self.identities, token.to_string(), identity.clone());
        Ok(identity)
    }

    /// The namespaces `identity` may read AppPostures in: all when a cluster-wide review
    /// allows it, else those of `namespaces` a per-namespace review allows.
    pub async fn viewer(
        &self,
        identity: &Identity,
        namespaces: impl FnOnce() -> Vec<String>,
    ) -> Result<Viewer, Refusal> {
        if let Some(v) = cached(&self.viewers, identity) {
            return Ok(v);
        }
        let viewer = if self.allowed(identity, None).await? {
            Viewer::All
        } else {
            let checks = futures::stream::iter(namespaces())
                .map(|ns| async move { self.allowed(identity, Some(&ns)).await.map(|ok| ok.then_some(ns)) })
                .buffer_unordered(REVIEWS_IN_FLIGHT)
                .collect::<Vec<_>>()
                .await;
            let mut seen = BTreeSet::new();
            for c in checks {
                if let Some(ns) = c? {
                    seen.insert(ns);
                }
            }
            Viewer::Namespaces(seen)
        };
        store(&self.viewers, identity.clone(), viewer.clone());
        Ok(viewer)
    }

    async fn allowed(&self, identity: &Identity, namespace: Option<&str>) -> Result<bool, Refusal> {
        let review = SubjectAccessReview {
            spec: SubjectAccessReviewSpec {
                user: Some(identity.user.clone()),
                groups: Some(identity.groups.clone()),
                resource_attributes: Some(ResourceAttributes {
                    verb: Some("get".into()),
                    group: Some(names::GROUP.into()),
                    resource: Some("apppostures".into()),
                    namespace: namespace.map(str::to_string),
                    ..ResourceAttributes::default()
                }),
                ..SubjectAccessReviewSpec::default()
            },
            ..SubjectAccessReview::default()
        };
        let api: Api<SubjectAccessReview> = Api::all(self.client.clone());
        let answer =
            api.create(&PostParams::default(), &review).await.map_err(|e| Refusal::Unavailable(e.to_string()))?;
        Ok(answer.status.is_some_and(|s| s.allowed))
    }
}

fn cached<K, Q, V>(map: &Mutex<HashMap<K, (Instant, V)>>, key: &Q) -> Option<V>
where
    K: std::hash::Hash + Eq + std::borrow::Borrow<Q>,
    Q: std::hash::Hash + Eq + ?Sized,
    V: Clone,
{
    let map = map.lock().ok()?;
    map.get(key).filter(|(at, _)| at.elapsed() < CACHE_TTL).map(|(_, v)| v.clone())
}

fn store<K: std::hash::Hash + Eq, V>(map: &Mutex<HashMap<K, (Instant, V)>>, key: K, value: V) {
    if let Ok(mut map) = map.lock() {
        if map.len() >= CACHE_MAX {
            map.retain(|_, (at, _)| at.elapsed() < CACHE_TTL);
            if map.len() >= CACHE_MAX {
                map.clear();
            }
        }
        map.insert(key, (Instant::now(), value));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn none_listens_on_loopback_only() {
        assert!(Access::None.check_listen("127.0.0.1:8080".parse().unwrap()).is_ok());
        assert!(Access::None.check_listen("[::1]:8080".parse().unwrap()).is_ok());
        let e = Access::None.check_listen("0.0.0.0:8080".parse().unwrap()).unwrap_err();
        assert!(e.to_string().contains("--dashboard-auth token or proxy"), "{e}");
    }

    #[test]
    fn tokens_come_from_the_header_or_the_cookie() {
        let mut h = HeaderMap::new();
        h.insert("authorization", "Bearer abc".parse().unwrap());
        assert_eq!(bearer(&h).as_deref(), Some("abc"));
        let mut h = HeaderMap::new();
        h.insert("cookie", "a=b; stance_token=xyz".parse().unwrap());
        assert_eq!(bearer(&h).as_deref(), Some("xyz"));
        assert_eq!(bearer(&HeaderMap::new()), None);
        assert_eq!(canonical("::ffff:10.1.2.3".parse().unwrap()), "10.1.2.3".parse::<IpAddr>().unwrap());
    }
}
