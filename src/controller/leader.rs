//! Leader election on a `coordination.k8s.io/v1` Lease, as client-go does it: the holder
//! renews the lease every few seconds; another replica takes over only after the lease
//! has not been renewed for its whole duration. Writes use the lease's resourceVersion,
//! so two replicas racing for it cannot both win.
//!
//! Every replica keeps watching and indexing (the webhook needs a warm index); only the
//! leader writes status.

use std::time::{Duration, Instant};

use jiff::Timestamp;
use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;
use kube::Client;
use kube::api::{Api, ObjectMeta, PostParams};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

/// Lease settings.
#[derive(Clone, Debug)]
pub struct LeaderConfig {
    pub namespace: String,
    pub lease_name: String,
    /// This replica's identity (the pod name).
    pub identity: String,
    pub lease_duration: Duration,
    pub renew_every: Duration,
    pub retry_every: Duration,
}

impl LeaderConfig {
    pub fn new(namespace: &str, identity: &str) -> LeaderConfig {
        LeaderConfig {
            namespace: namespace.into(),
            lease_name: "stance-operator".into(),
            identity: identity.into(),
            lease_duration: Duration::from_secs(15),
            renew_every: Duration::from_secs(5),
            retry_every: Duration::from_secs(2),
        }
    }
}

/// What to write to the lease, given what is there (pure; unit-tested).
/// `None`: someone else holds a live lease.
pub fn next_spec(current: Option<&LeaseSpec>, me: &str, duration: Duration, now: Timestamp) -> Option<LeaseSpec> {
    let secs = duration.as_secs() as i32;
    let fresh = |transitions: i32| LeaseSpec {
        holder_identity: Some(me.to_string()),
        lease_duration_seconds: Some(secs),
        acquire_time: Some(MicroTime(now)),
        renew_time: Some(MicroTime(now)),
        lease_transitions: Some(transitions),
        ..Default::default()
    };
    let Some(spec) = current else { return Some(fresh(0)) };
    let holder = spec.holder_identity.as_deref().filter(|h| !h.is_empty());
    if holder == Some(me) {
        let mut renewed = spec.clone();
        renewed.renew_time = Some(MicroTime(now));
        renewed.lease_duration_seconds = Some(secs);
        return Some(renewed);
    }
    let ttl = spec.lease_duration_seconds.unwrap_or(secs).max(1);
    let expired = match &spec.renew_time {
        Some(t) => now.duration_since(t.0).as_secs() >= i64::from(ttl),
        None => true,
    };
    (holder.is_none() || expired).then(|| fresh(spec.lease_transitions.unwrap_or(0) + 1))
}

async fn try_lead(api: &Api<Lease>, cfg: &LeaderConfig) -> Result<bool, kube::Error> {
    let now = Timestamp::now();
    match api.get_opt(&cfg.lease_name).await? {
        None => {
            let lease = Lease {
                metadata: ObjectMeta { name: Some(cfg.lease_name.clone()), ..Default::default() },
                spec: next_spec(None, &cfg.identity, cfg.lease_duration, now),
            };
            match api.create(&PostParams::default(), &lease).await {
                Ok(_) => Ok(true),
                Err(kube::Error::Api(e)) if e.code == 409 => Ok(false),
                Err(e) => Err(e),
            }
        }
        Some(mut lease) => match next_spec(lease.spec.as_ref(), &cfg.identity, cfg.lease_duration, now) {
            None => Ok(false),
            Some(spec) => {
                lease.spec = Some(spec);
                // `replace` carries the resourceVersion we read: a concurrent writer makes it 409.
                match api.replace(&cfg.lease_name, &PostParams::default(), &lease).await {
                    Ok(_) => Ok(true),
                    Err(kube::Error::Api(e)) if e.code == 409 => Ok(false),
                    Err(e) => Err(e),
                }
            }
        },
    }
}

/// Gives the lease up on shutdown so another replica takes over without waiting.
async fn release(api: &Api<Lease>, cfg: &LeaderConfig) {
    if let Ok(Some(mut lease)) = api.get_opt(&cfg.lease_name).await
        && let Some(spec) = lease.spec.as_mut()
        && spec.holder_identity.as_deref() == Some(cfg.identity.as_str())
    {
        spec.holder_identity = None;
        spec.lease_duration_seconds = Some(1);
        if let Err(e) = api.replace(&cfg.lease_name, &PostParams::default(), &lease).await {
            tracing::warn!(error = %e, "could not release the leader lease");
        }
    }
}

/// Campaigns for the lease until `token` is cancelled, publishing leadership on `tx`.
pub async fn run(client: Client, cfg: LeaderConfig, tx: watch::Sender<bool>, token: CancellationToken) {
    let api: Api<Lease> = Api::namespaced(client, &cfg.namespace);
    let mut last_renewed: Option<Instant> = None;
    loop {
        let leading = match try_lead(&api, &cfg).await {
            Ok(true) => {
                last_renewed = Some(Instant::now());
                true
            }
            Ok(false) => false,
            Err(e) => {
                // Cannot reach the API server: keep leading only while our lease surely
                // has not expired for the others (two thirds of its duration).
                let still = last_renewed.is_some_and(|t| t.elapsed() < cfg.lease_duration * 2 / 3);
                tracing::warn!(error = %e, still_leading = still, "leader lease renewal failed");
                still
            }
        };
        if tx.send_if_modified(|cur| std::mem::replace(cur, leading) != leading) {
            tracing::info!(identity = %cfg.identity, leading, "leadership changed");
        }
        let wait = if leading { cfg.renew_every } else { cfg.retry_every };
        tokio::select! {
            _ = token.cancelled() => {
                if *tx.borrow() {
                    release(&api, &cfg).await;
                    tracing::info!(identity = %cfg.identity, "released the leader lease");
                }
                tx.send_replace(false);
                return;
            }
            _ = tokio::time::sleep(wait) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: i64) -> Timestamp {
        Timestamp::from_second(s).unwrap()
    }

    #[test]
    fn acquire_renew_and_takeover_only_after_expiry() {
        let d = Duration::from_secs(15);
        let first = next_spec(None, "a", d, at(100)).unwrap();
        assert_eq!(first.holder_identity.as_deref(), Some("a"));
        assert_eq!(first.lease_transitions, Some(0));
        // The holder renews.
        let renewed = next_spec(Some(&first), "a", d, at(105)).unwrap();
        assert_eq!(renewed.renew_time.unwrap().0, at(105));
        assert_eq!(renewed.acquire_time, first.acquire_time);
        // Another replica must wait for the full duration.
        assert!(next_spec(Some(&first), "b", d, at(114)).is_none());
        let taken = next_spec(Some(&first), "b", d, at(115)).unwrap();
        assert_eq!(taken.holder_identity.as_deref(), Some("b"));
        assert_eq!(taken.lease_transitions, Some(1));
        // A released lease (no holder) is free at once.
        let released = LeaseSpec { holder_identity: None, ..first };
        assert!(next_spec(Some(&released), "b", d, at(101)).is_some());
    }
}
