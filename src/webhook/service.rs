//! The HTTP layer around the handler: routing, the body limit, the evaluation (inline within
//! a slice, else bounded and deadline-guarded on the blocking pool), fail-open /
//! fail-closed answers, metrics and the audit hand-off. Generic over the request body, so tests drive it in-process
//! with `Full<Bytes>` bodies and no socket.
//!
//! Serves `POST /validate` (AdmissionReview) and `POST /validate-noop` (benchmark baseline:
//! reads the review and allows it, evaluating nothing); `crate::endpoints` routes to it.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Request, Response, StatusCode, header};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use jiff::Timestamp;
use tokio::sync::Semaphore;

use super::audit::AuditSender;
use super::handler::{self, BadRequest, Decision, Handled, HandlerOptions, Outcome};
use super::metrics::WebhookMetrics;
use super::review::{self, StatusOut};
use super::tls::ClientIdentity;
use stance_core::index::{PostureIndex, SharedIndex};
use stance_core::policy::Budget;

/// Largest accepted request body (Kubernetes objects are at most ~1.5 MiB in etcd; an
/// UPDATE review carries two).
pub const MAX_BODY_BYTES: usize = 3 * 1024 * 1024;

/// The evaluation run for `/validate` (replaceable in tests to exercise deadlines and panics):
/// [`handler::handle_within`], which asks the [`Slice`] before each policy.
pub type Evaluator = fn(&[u8], &PostureIndex, Timestamp, &HandlerOptions, &Slice) -> Result<Handled, SliceSpent>;

/// How long a review may be evaluated on the thread that read it before it is stopped and
/// re-run on the blocking pool. Most reviews take 50–200 µs (BENCHMARKS.md); handing each
/// to a blocking thread cost more CPU than evaluating it.
pub const DEFAULT_INLINE_SLICE: Duration = Duration::from_millis(1);

/// Reviews larger than this go to the blocking pool at once: reading one (JSON) is work the
/// slice does not interrupt, and this bounds it to about 0.2 ms on the reactor thread.
pub const INLINE_MAX_BODY: usize = 64 * 1024;

/// The budget of one evaluation: until an instant (inline), or none (on the blocking pool,
/// where the deadline is guarded from outside the evaluation).
#[derive(Copy, Clone, Debug)]
pub struct Slice {
    until: Option<Instant>,
}

impl Slice {
    /// No limit.
    pub fn unlimited() -> Slice {
        Slice { until: None }
    }

    /// Until `until`.
    pub fn until(until: Instant) -> Slice {
        Slice { until: Some(until) }
    }
}

/// The inline slice ran out: re-run the review on the blocking pool.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct SliceSpent;

impl Budget for Slice {
    type Exhausted = SliceSpent;

    fn check(&self) -> Result<(), SliceSpent> {
        match self.until {
            Some(t) if Instant::now() >= t => Err(SliceSpent),
            _ => Ok(()),
        }
    }
}

/// How the service answers.
#[derive(Clone, Debug)]
pub struct ServiceOptions {
    /// Answer allowed (with a warning) instead of denied when evaluation fails.
    pub fail_open: bool,
    /// Overall deadline per review, from the body received (including waiting for a slot).
    pub timeout: Duration,
    /// Most evaluations running or waiting at once on the blocking pool.
    pub max_in_flight: usize,
    /// How long a review may run inline before it moves to the blocking pool
    /// ([`DEFAULT_INLINE_SLICE`]); zero: every review goes to the pool.
    pub inline_slice: Duration,
    /// Evaluate as of this time instead of the clock.
    pub now: Option<Timestamp>,
    pub handler: HandlerOptions,
    pub max_body_bytes: usize,
    /// Answer `POST /validate` only for callers whose client certificate the TLS layer
    /// verified against `--client-ca` ([`ClientIdentity::Verified`] in the request's
    /// extensions); others get 401 and nothing is evaluated.
    pub require_client_cert: bool,
}

impl Default for ServiceOptions {
    fn default() -> Self {
        ServiceOptions {
            fail_open: false,
            timeout: Duration::from_millis(2000),
            max_in_flight: default_max_in_flight(),
            inline_slice: DEFAULT_INLINE_SLICE,
            now: None,
            handler: HandlerOptions::default(),
            max_body_bytes: MAX_BODY_BYTES,
            require_client_cert: false,
        }
    }
}

/// Twice the available parallelism.
pub fn default_max_in_flight() -> usize {
    2 * std::thread::available_parallelism().map_or(2, usize::from)
}

/// Everything a request needs; shared by all connections.
pub struct Webhook {
    index: SharedIndex,
    metrics: Arc<WebhookMetrics>,
    audit: Option<AuditSender>,
    slots: Arc<Semaphore>,
    opts: ServiceOptions,
    handler_opts: Arc<HandlerOptions>,
    evaluator: Evaluator,
}

/// Why an evaluation did not produce an answer.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Failure {
    Timeout,
    Panic,
    Internal,
}

impl Failure {
    fn label(self) -> &'static str {
        match self {
            Failure::Timeout => "timeout",
            Failure::Panic => "panic",
            Failure::Internal => "internal",
        }
    }
}

impl Webhook {
    pub fn new(
        index: SharedIndex,
        metrics: Arc<WebhookMetrics>,
        audit: Option<AuditSender>,
        opts: ServiceOptions,
    ) -> Webhook {
        Webhook {
            index,
            metrics,
            audit,
            slots: Arc::new(Semaphore::new(opts.max_in_flight.max(1))),
            handler_opts: Arc::new(opts.handler.clone()),
            opts,
            evaluator: handler::handle_within,
        }
    }

    /// Replaces the evaluation (tests: slow or panicking evaluators).
    pub fn with_evaluator(mut self, evaluator: Evaluator) -> Webhook {
        self.evaluator = evaluator;
        self
    }

    /// Answers `POST /validate` (or, with `noop`, `POST /validate-noop`): reads the body
    /// within the limit, evaluates, records. Generic over the body, so tests drive it
    /// in-process.
    pub async fn validate<B>(&self, req: Request<B>, noop: bool) -> Response<Bytes>
    where
        B: hyper::body::Body,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let endpoint = if noop { "validate-noop" } else { "validate" };
        // Absent: the request did not come through the TLS listener (in-process callers).
        let caller = req.extensions().get::<ClientIdentity>().copied().unwrap_or(ClientIdentity::Unverified);
        if self.opts.require_client_cert && caller != ClientIdentity::Verified {
            self.metrics.unauthenticated.inc();
            let message = "Stance answers admission reviews only from the API server: present a client certificate \
                           signed by the webhook's --client-ca (AdmissionConfiguration kubeConfigFile, docs/install.md)";
            return json(
                401,
                review::render("", false, StatusOut::failure(401, "Unauthorized", message.into()), vec![]),
            );
        }
        let (status, body) = match read_body(req, self.opts.max_body_bytes).await {
            Err((reason, message)) => {
                let bad = handler::bad_request(reason, message);
                if noop {
                    self.metrics.bad_request(reason.as_str());
                } else {
                    self.metrics.record(&bad.outcome);
                }
                (bad.status, bad.body)
            }
            Ok(body) => {
                let received = Instant::now();
                let answer = if noop {
                    let h = handler::handle_noop(&body);
                    if let Decision::Invalid(reason) = h.outcome.decision {
                        self.metrics.bad_request(reason.as_str());
                    }
                    (h.status, h.body)
                } else {
                    self.evaluate(body, caller).await
                };
                self.metrics.observe_latency(endpoint, received.elapsed().as_secs_f64());
                answer
            }
        };
        json(status, body)
    }

    /// Evaluates inline within the slice ([`Webhook::evaluate_inline`]); otherwise runs the
    /// evaluator on the blocking pool within a slot and the deadline. There the outcome is
    /// recorded (metrics, audit hand-off) and dropped on the evaluation thread, so the reactor
    /// only gets the answer's bytes back.
    async fn evaluate(&self, body: Bytes, caller: ClientIdentity) -> (u16, Vec<u8>) {
        let deadline = tokio::time::Instant::now() + self.opts.timeout;
        let _in_flight = InFlight::enter(&self.metrics);
        if let Some(answer) = self.evaluate_inline(&body, caller) {
            return answer;
        }
        let permit = match tokio::time::timeout_at(deadline, self.slots.clone().acquire_owned()).await {
            Ok(Ok(p)) => p,
            Ok(Err(_)) => return self.failed(Failure::Internal, &body),
            Err(_) => return self.failed(Failure::Timeout, &body),
        };
        let index = self.index.clone();
        let opts = self.handler_opts.clone();
        let now = self.now();
        let evaluator = self.evaluator;
        let input = body.clone();
        let recorder = Recorder { metrics: self.metrics.clone(), audit: self.audit.clone() };
        let task = tokio::task::spawn_blocking(move || {
            // The slot is held until the evaluation really ends, even past the deadline.
            let _permit = permit;
            let started = Instant::now();
            // The guard lives only inside this closure: never across an await.
            let index = index.read().map_err(|_| "the posture index lock is poisoned")?;
            let handled = evaluator(&input, &index, now, &opts, &Slice::unlimited());
            drop(index);
            let Ok(handled) = handled else { return Err("an unlimited evaluation reported running out of time") };
            recorder.metrics.evaluation.observe(started.elapsed().as_secs_f64());
            recorder.metrics.evaluated("pool");
            Ok::<_, &'static str>(recorder.finish(handled, now, caller))
        });
        match tokio::time::timeout_at(deadline, task).await {
            Ok(Ok(Ok(answer))) => answer,
            Ok(Ok(Err(why))) => {
                tracing::error!(error = why, "cannot evaluate admission requests");
                self.failed(Failure::Internal, &body)
            }
            Ok(Err(join)) => {
                tracing::error!(error = %join, "evaluation panicked");
                self.failed(if join.is_panic() { Failure::Panic } else { Failure::Internal }, &body)
            }
            Err(_) => self.failed(Failure::Timeout, &body),
        }
    }

    /// Evaluates on this (reactor) thread, within [`ServiceOptions::inline_slice`]: no
    /// hand-off to another thread, which cost more than a typical evaluation. `None` when the
    /// review must go to the blocking pool instead: inline evaluation is off, the body is
    /// larger than [`INLINE_MAX_BODY`], a refresh holds the index (waiting for it would
    /// block the reactor), or the slice ran out (counted; evaluation is pure, so the re-run
    /// gives the same answer and the stopped run leaves nothing behind). A panic is answered
    /// here, as on the pool.
    fn evaluate_inline(&self, body: &[u8], caller: ClientIdentity) -> Option<(u16, Vec<u8>)> {
        if self.opts.inline_slice.is_zero() || body.len() > INLINE_MAX_BODY {
            return None;
        }
        // Poisoned too: the pool path reports it.
        let index = self.index.try_read().ok()?;
        let now = self.now();
        let started = Instant::now();
        let slice = Slice::until(started + self.opts.inline_slice);
        let run = std::panic::catch_unwind(AssertUnwindSafe(|| {
            (self.evaluator)(body, &index, now, &self.handler_opts, &slice)
        }));
        drop(index);
        match run {
            Ok(Ok(handled)) => {
                self.metrics.evaluation.observe(started.elapsed().as_secs_f64());
                self.metrics.evaluated("inline");
                let recorder = Recorder { metrics: self.metrics.clone(), audit: self.audit.clone() };
                Some(recorder.finish(handled, now, caller))
            }
            Ok(Err(SliceSpent)) => {
                self.metrics.inline_stopped.inc();
                None
            }
            Err(_) => {
                tracing::error!("evaluation panicked");
                Some(self.failed(Failure::Panic, body))
            }
        }
    }

    fn now(&self) -> Timestamp {
        self.opts.now.unwrap_or_else(Timestamp::now)
    }

    /// The answer when evaluation failed: allowed with a warning (fail open) or denied
    /// (fail closed). Details go to the log, not to the caller.
    fn failed(&self, failure: Failure, body: &[u8]) -> (u16, Vec<u8>) {
        self.metrics.evaluation_error(failure.label());
        let uid = review::uid_of(body);
        let what = match failure {
            Failure::Timeout => format!("it did not finish within {} ms", self.opts.timeout.as_millis()),
            Failure::Panic | Failure::Internal => "of an internal error".to_string(),
        };
        tracing::warn!(uid = %uid, reason = failure.label(), fail_open = self.opts.fail_open,
            "admission request not evaluated");
        let mut outcome = Outcome::failed(uid);
        if self.opts.fail_open {
            self.metrics.fail_open.inc();
            outcome.decision = Decision::Warn;
            let warning = format!(
                "Stance could not evaluate this request because {what}; it was admitted without guardrail checks \
                 (the webhook fails open). Ask your platform team to check the stance webhook (request uid {}).",
                outcome.uid
            );
            let body = review::render(&outcome.uid, true, StatusOut::ok(), vec![warning]);
            self.metrics.record(&outcome);
            (200, body)
        } else {
            outcome.decision = Decision::Deny;
            let message = format!(
                "Stance could not evaluate this request because {what}, and refuses it (the webhook fails closed). \
                 Retry in a moment; if it keeps failing, ask your platform team to check the stance webhook's logs \
                 and metrics (request uid {}).",
                outcome.uid
            );
            let body = review::render(&outcome.uid, false, StatusOut::failure(500, "InternalError", message), vec![]);
            self.metrics.record(&outcome);
            (200, body)
        }
    }
}

/// Records what happened to an evaluated request.
struct Recorder {
    metrics: Arc<WebhookMetrics>,
    audit: Option<AuditSender>,
}

impl Recorder {
    /// Counts the outcome, hands the audit record (admitted with violations, or denied)
    /// over without ever waiting, and returns
    /// the answer.
    fn finish(&self, handled: Handled, now: Timestamp, caller: ClientIdentity) -> (u16, Vec<u8>) {
        self.metrics.record(&handled.outcome);
        if let Some(tx) = &self.audit
            && let Some(mut record) = handled.outcome.audit_record(now).or_else(|| handled.outcome.denial_record(now))
            && let Err(e) = {
                record.user_verified = caller == ClientIdentity::Verified;
                tx.try_send(record)
            }
        {
            self.metrics.audit_dropped.inc();
            tracing::debug!(error = %e, "audit record dropped");
        }
        (handled.status, handled.body)
    }
}

/// Counts an evaluation in `stance_webhook_in_flight` for as long as it lives.
struct InFlight<'a>(&'a WebhookMetrics);

impl<'a> InFlight<'a> {
    fn enter(m: &'a WebhookMetrics) -> InFlight<'a> {
        m.in_flight.inc();
        InFlight(m)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.dec();
    }
}

/// Collects the body, refusing more than `limit` bytes with 413.
async fn read_body<B>(req: Request<B>, limit: usize) -> Result<Bytes, (BadRequest, String)>
where
    B: hyper::body::Body,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let too_large =
        || (BadRequest::BodyTooLarge, format!("the request body is larger than {limit} bytes, the most Stance reads"));
    let declared = req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(too_large());
    }
    match Limited::new(req.into_body(), limit).collect().await {
        Ok(c) => Ok(c.to_bytes()),
        Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => Err(too_large()),
        Err(e) => {
            tracing::debug!(error = %e, "cannot read a request body");
            Err((BadRequest::InvalidJson, "the request body could not be read".into()))
        }
    }
}

fn json(status: u16, body: Vec<u8>) -> Response<Bytes> {
    let mut r = Response::new(Bytes::from(body));
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    r.headers_mut().insert(header::CONTENT_TYPE, header::HeaderValue::from_static("application/json"));
    r
}
