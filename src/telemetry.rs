//! Logs, metrics and health shared by the operator and the webhook.
//!
//! - Structured logs via `tracing` on standard error; JSON lines with `--log-format json`, plain
//!   lines otherwise (colour only on a terminal); the level comes from
//!   `STANCE_LOG` (or `RUST_LOG`), e.g. `STANCE_LOG=info,stance::webhook=debug`.
//! - One Prometheus registry per process: each component registers its own metric
//!   families at start-up, then the registry is frozen and served on `/metrics`
//!   (`crate::endpoints`).
//! - [`Readiness`]: named conditions that must all hold before `/readyz` says ready
//!   (e.g. every watch has synced; the webhook listener is bound).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use prometheus_client::registry::Registry;

/// Initialises the global tracing subscriber (once; later calls are no-ops). Logs go to
/// standard error, one event per line: JSON objects with `json`, else plain text, coloured
/// only when standard error is a terminal (a log file or collector gets no ANSI escape codes).
pub fn init_tracing(json: bool) {
    use std::io::IsTerminal;
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("STANCE_LOG")
        .or_else(|_| EnvFilter::try_from_default_env())
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(true)
        .with_writer(std::io::stderr)
        .with_ansi(!json && std::io::stderr().is_terminal());
    let _ = if json { builder.json().flatten_event(true).try_init() } else { builder.try_init() };
}

/// Named readiness conditions. `/readyz` answers 200 only when all registered ones hold.
#[derive(Clone, Debug, Default)]
pub struct Readiness(Arc<Mutex<BTreeMap<String, bool>>>);

impl Readiness {
    /// Registers a condition (initially not ready).
    pub fn register(&self, name: &str) {
        self.lock().entry(name.to_string()).or_insert(false);
    }

    pub fn set(&self, name: &str, ready: bool) {
        self.lock().insert(name.to_string(), ready);
    }

    pub fn is_ready(&self) -> bool {
        let m = self.lock();
        !m.is_empty() && m.values().all(|v| *v)
    }

    /// True when every registered condition whose name starts with `prefix` is met (and
    /// there is at least one).
    pub fn ready_with_prefix(&self, prefix: &str) -> bool {
        let m = self.lock();
        let mut matching = m.iter().filter(|(k, _)| k.starts_with(prefix)).peekable();
        matching.peek().is_some() && matching.all(|(_, v)| *v)
    }

    /// The conditions not yet met (for the `/readyz` body).
    pub fn pending(&self) -> Vec<String> {
        self.lock().iter().filter(|(_, v)| !**v).map(|(k, _)| k.clone()).collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, bool>> {
        // A poisoned lock only means a panic elsewhere while holding it; the map is still valid.
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Encodes the registry in the Prometheus text format.
pub fn encode(registry: &Registry) -> String {
    let mut out = String::new();
    if let Err(e) = prometheus_client::encoding::text::encode(&mut out, registry) {
        tracing::error!(error = %e, "cannot encode metrics");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readiness_needs_every_condition() {
        let r = Readiness::default();
        assert!(!r.is_ready(), "nothing registered is not ready");
        r.register("watches");
        r.register("listener");
        r.set("watches", true);
        assert!(!r.is_ready());
        assert_eq!(r.pending(), ["listener"]);
        r.set("listener", true);
        assert!(r.is_ready());
    }

    #[test]
    fn a_prefix_is_ready_when_its_conditions_are() {
        let r = Readiness::default();
        assert!(!r.ready_with_prefix("watch:"), "no watch registered yet");
        r.register("watch:Pod");
        r.register("watch:VulnerabilityReport");
        r.register("listener");
        r.set("watch:Pod", true);
        assert!(!r.ready_with_prefix("watch:"));
        r.set("watch:VulnerabilityReport", true);
        assert!(r.ready_with_prefix("watch:"), "the listener does not count");
        assert!(!r.is_ready());
        r.register("watch:HTTPRoute");
        assert!(!r.ready_with_prefix("watch:"), "a kind found later holds writes until it lists");
    }
}
