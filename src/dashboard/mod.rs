//! The dashboard: server-rendered HTML over the posture index, read-only, usable without
//! JavaScript. Served by `stance serve --state DIR...` (a snapshot) and by `stance run
//! --dashboard-listen ADDR` (the live index).
//!
//! - Pages ([`pages`]): overview, application (declared and inferred), finding, search (the
//!   blast radius of [`stance_core::blast_radius`]), not running, policies, exceptions; `GET
//!   /api/where?q=` answers a search as JSON.
//! - One data model with `stance scan --format json`: the pages render
//!   [`crate::output::scan::ScanOutput`] (built by the same `build`, cached per index
//!   generation) and, for an application's full finding list, the same
//!   [`AppOutput::new`](crate::output::scan::AppOutput::new) over the core's assessment.
//! - Templates are askama's (`templates/`, checked at compile time, every value
//!   HTML-escaped); the one chart is a hand-written SVG bar chart ([`chart`]).
//! - Security ([`access`]): a strict Content-Security-Policy (no script at all, styles only
//!   from `/static/style.css`), no secrets shown, access modes `none` (loopback only),
//!   `token` (TokenReview) and `proxy` (trusted headers), and per-namespace visibility from
//!   SubjectAccessReviews.
//! - Trends: [`TrendSource`] is where the history store plugs in ([`trends`], `stance serve
//!   --history`); without one the overview says trends need it.

pub mod access;
pub mod chart;
pub mod pages;
pub mod routes;
pub mod trends;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use jiff::Timestamp;

use crate::output::scan::{self, ScanOutput};
use stance_core::assessment::status::SeverityCounts;
use stance_core::index::SharedIndex;

pub use access::{Access, Viewer};
pub use routes::routes;

/// How long a built overview model is reused while the index does not change (the time
/// moves exception expiry and scan age on).
pub const MODEL_MAX_AGE: Duration = Duration::from_secs(60);
/// Findings per application kept in the cached model (the application page lists all).
pub const MODEL_TOP_FINDINGS: usize = 10;

/// Open findings by severity at one time, for an application (`Some((ns, name))`) or the
/// whole cluster (`None`).
pub type TrendPoint = (Timestamp, SeverityCounts);

/// Where trends come from: the history store (a separate issue) implements this; without
/// one the dashboard shows no trend chart and says why.
pub trait TrendSource: Send + Sync {
    /// Points oldest first, for one application or (`None`) every application the viewer
    /// sees; an empty list when nothing was recorded.
    fn trend(&self, app: Option<(&str, &str)>, viewer: &Viewer) -> Vec<TrendPoint>;
}

/// Where the posture comes from and how "now" is taken.
pub struct Dashboard {
    pub index: SharedIndex,
    /// A fixed evaluation time (`--now`); `None` is the clock.
    pub now: Option<Timestamp>,
    pub access: Access,
    pub trends: Option<Arc<dyn TrendSource>>,
    /// What the loader could not read (a snapshot's warnings), shown on the overview.
    pub load_summary: scan::LoadSummary,
    cache: Mutex<Option<Cached>>,
}

struct Cached {
    generation: u64,
    built: Instant,
    model: Arc<ScanOutput>,
}

impl Dashboard {
    /// A dashboard over `index`.
    pub fn new(
        index: SharedIndex,
        now: Option<Timestamp>,
        access: Access,
        load_summary: scan::LoadSummary,
    ) -> Dashboard {
        Dashboard { index, now, access, trends: None, load_summary, cache: Mutex::new(None) }
    }

    /// The evaluation time.
    pub fn now(&self) -> Timestamp {
        self.now.unwrap_or_else(Timestamp::now)
    }

    /// The posture as `stance scan --format json` builds it, rebuilt when the index changed
    /// or the model is older than [`MODEL_MAX_AGE`]. Blocking: call from a blocking task.
    pub fn model(&self) -> Arc<ScanOutput> {
        let Ok(index) = self.index.read() else {
            // A writer panicked while holding the lock: serve the last model rather than none.
            return self.cache.lock().ok().and_then(|c| c.as_ref().map(|c| c.model.clone())).unwrap_or_default();
        };
        let generation = index.generation();
        if let Ok(cache) = self.cache.lock()
            && let Some(c) = cache.as_ref()
            && c.generation == generation
            && (self.now.is_some() || c.built.elapsed() < MODEL_MAX_AGE)
        {
            return c.model.clone();
        }
        let model = Arc::new(scan::build(&index, &self.load_summary, self.now(), MODEL_TOP_FINDINGS));
        if let Ok(mut cache) = self.cache.lock() {
            *cache = Some(Cached { generation, built: Instant::now(), model: model.clone() });
        }
        model
    }
}
