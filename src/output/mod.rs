//! What `stance scan` and `stance findings` print: one serializable model
//! ([`scan::ScanOutput`], [`findings::FindingLine`]) rendered as a table, JSON, SARIF or
//! PolicyReports. The JSON form is the stable schema documented in `docs/output.md`.

pub mod findings;
pub mod openreports;
pub mod policy_report;
pub mod sarif;
pub mod scan;
pub mod table;

/// A stable 64-bit FNV-1a hash, hex-encoded: finding ids must not change between runs,
/// machines or Rust versions (std's hasher is randomly seeded).
pub fn stable_id(parts: &[&str]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for p in parts {
        for b in p.bytes().chain([0xff]) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    format!("{h:016x}")
}
