//! Stance's pure core: plain functions over plain data.
//!
//! No Kubernetes client, no async runtime, no file system, no clock: this crate's
//! `Cargo.toml` does not list kube, k8s-openapi or tokio, and a test
//! (`tests/purity.rs`) fails if it ever does, or if its code reads files or the time.
//! Callers pass the time (`now`) and the bytes.
//!
//! Layers, each depending only on those above it:
//!
//! - [`model`] — findings, artifacts, workloads, network objects, applications, assets and
//!   the business-context vocabulary (criticality, exposure, data classification).
//! - [`selector`] — Kubernetes label selectors, evaluated as the API server does.
//! - [`ingest`] — scanner reports, SBOMs, exploitability feeds: bytes → [`model`]. Kubernetes
//!   objects it does not own are handed back raw for the caller to convert.
//! - [`vex`] — VEX documents' statements applied to findings, whichever scanner reported them.
//! - [`guardrail`] — what a guardrail is: the rule specifications, compiled policies,
//!   risk exceptions and version ranges.
//! - [`risk`] — contextual risk scores and network reach.
//! - [`index`] — the in-memory posture index: correlation, topology, exposure detection.
//! - [`policy`] — guardrail evaluation of one workload against the index → verdict.
//! - [`assessment`] — an application's and an asset's posture, audits of running workloads,
//!   the status values the operator writes; applications inferred from labels.
//! - [`blast_radius`] — where a package, vulnerability or image runs, ranked by contextual risk.
//! - [`lifecycle`] — remediation lifecycles (first seen, fixed, reopened), due dates and time
//!   to fix, as a diff of the index against the records a store keeps.
#![forbid(unsafe_code)]

pub mod assessment;
pub mod blast_radius;
pub mod guardrail;
pub mod index;
pub mod ingest;
pub mod lifecycle;
pub mod model;
pub mod names;
pub mod policy;
pub mod risk;
pub mod selector;
#[cfg(feature = "synthetic")]
pub mod synthetic;
pub mod vex;
