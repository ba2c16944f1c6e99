//! The admission decisions audit trail: who asked to run what, which policy and rule
//! answered, and what the answer did (deny, warn, audit, excepted). One row per violation;
//! retention as for lifecycles ([`Store::retain`]).
//!
//! The webhook never touches the database: it hands its records to the operator side over
//! a bounded channel (`stance::webhook::audit`), which writes them here in batches.

use jiff::Timestamp;
use serde::Serialize;
use sqlx::Arguments;
use sqlx::any::AnyArguments;

use super::Error;
use super::store::Store;

/// One violation of one admission decision.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Decision {
    /// The cluster (filled in by the store on write; read back from it).
    pub cluster: String,
    pub at: Timestamp,
    /// The AdmissionRequest uid.
    pub uid: String,
    /// The violation's position in the verdict (a request's rows are `uid` + `seq`).
    pub seq: u32,
    /// `CREATE` or `UPDATE`.
    pub operation: String,
    /// The requester (`request.userInfo.username`).
    pub username: String,
    /// `Kind/namespace/name`.
    pub workload: String,
    pub policy: String,
    pub rule: String,
    /// `deny`, `warn`, `audit` or `excepted`.
    pub effect: String,
    pub message: String,
}

impl Store {
    /// Records decisions under this store's cluster; a decision already recorded (same uid
    /// and position) is kept as it was.
    pub async fn record_decisions(&self, decisions: &[Decision]) -> Result<usize, Error> {
        let mut n = 0;
        for chunk in decisions.chunks(self.rows_per_statement()) {
            let mut sql = String::from(
                "INSERT INTO admission_decisions (cluster, at, uid, seq, operation, username, workload, policy, rule, \
                 effect, message) VALUES ",
            );
            let mut args = AnyArguments::default();
            for (i, d) in chunk.iter().enumerate() {
                let base = i * 11;
                sql.push_str(if i == 0 { "(" } else { ", (" });
                sql.push_str(&(1..=11).map(|k| format!("${}", base + k)).collect::<Vec<_>>().join(", "));
                sql.push(')');
                let _ = args.add(self.cluster.as_str());
                let _ = args.add(d.at.as_second());
                let _ = args.add(d.uid.as_str());
                let _ = args.add(i64::from(d.seq));
                let _ = args.add(d.operation.as_str());
                let _ = args.add(d.username.as_str());
                let _ = args.add(d.workload.as_str());
                let _ = args.add(d.policy.as_str());
                let _ = args.add(d.rule.as_str());
                let _ = args.add(d.effect.as_str());
                let _ = args.add(d.message.as_str());
            }
            sql.push_str(" ON CONFLICT (cluster, uid, seq) DO NOTHING");
            let r = sqlx::query_with(&sql, args).execute(&self.pool).await.map_err(|e| self.query_error(e))?;
            n += r.rows_affected() as usize;
        }
        Ok(n)
    }
}
