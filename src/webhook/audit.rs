//! What admission hands to the operator: admitted workloads that broke non-blocking rules
//! (Warn, Audit, excepted, or pre-existing under `newRiskOnly`), so that it can record them
//! (Kubernetes Events on the AppPosture), and denied requests, for the history store's
//! admission decisions audit trail (`--history`, docs/history.md) only.
//!
//! Records are sent with `try_send` on a bounded channel: the request path never waits for
//! the consumer, and a full channel drops the record (counted in
//! `stance_webhook_audit_records_dropped_total`). Dry-run requests never produce one.

use jiff::Timestamp;
use serde::Serialize;

use stance_core::model::ObjectRef;
use stance_core::policy::Violation;

/// One admitted request whose workload has non-blocking violations, or one denied request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditRecord {
    /// False for a denied request (its workload was never created: no Event, only the
    /// audit trail).
    pub admitted: bool,
    /// The AdmissionRequest uid (correlates with the API server's audit log).
    pub uid: String,
    /// `CREATE` or `UPDATE`.
    pub operation: &'static str,
    /// `request.userInfo.username`, as the caller wrote it.
    pub user: String,
    /// Whether the API server vouches for `user`: the caller presented a client certificate
    /// that chains to `--client-ca`. Without `--client-ca`, anyone who can reach the port can
    /// write any `userInfo`, so the record says the name is unverified.
    pub user_verified: bool,
    pub workload: ObjectRef,
    /// Admitted: the verdict's non-blocking violations (none of them denied the request);
    /// the first [`WORDED_VIOLATIONS`] carry their message, the others' messages are empty.
    /// Denied: every violation of the verdict, unworded (the answer carried the words).
    pub violations: Vec<Violation>,
    /// The evaluation time.
    pub at: Timestamp,
}

/// How many violations of a record are published as Events (one each), and so how many
/// carry their message: the webhook writes no message nobody reads.
pub const WORDED_VIOLATIONS: usize = 5;

/// The sending half the webhook is given; the operator keeps the receiver.
pub type AuditSender = tokio::sync::mpsc::Sender<AuditRecord>;
