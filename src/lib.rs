//! Stance: Application Security Posture Management inside Kubernetes.
//!
//! The core (`model`, `ingest`, `posture`, `policy`) is plain functions over plain data:
//! no Kubernetes client and no I/O beyond reading the files the CLI is given. The CLI,
//! the operator and the admission webhook are thin adapters over it.
#![forbid(unsafe_code)]

pub mod api;
pub mod cli;
pub mod controller;
pub mod ingest;
pub mod model;
pub mod output;
pub mod policy;
pub mod posture;
pub mod selector;
pub mod synthetic;
pub mod telemetry;
pub mod webhook;
