//! Stance: Application Security Posture Management inside Kubernetes.
//!
//! This crate is the edge around the pure core (`stance_core`: model, format parsers,
//! index, risk, guardrail evaluation, assessment): the custom resources and their
//! conversion into domain types ([`api`]), reading files and Kubernetes objects
//! ([`ingest`]), the CLI, the operator ([`controller`]), the admission webhook, outputs and
//! telemetry. Everything here that decides something asks the core.
#![forbid(unsafe_code)]

pub mod api;
pub mod cli;
pub mod controller;
pub mod dashboard;
pub mod endpoints;
pub mod ingest;
pub mod output;
pub mod telemetry;
pub mod webhook;
