//! The edge of ingestion: files and Kubernetes objects in, domain values out.
//!
//! The core (`stance_core::ingest`) recognises and parses every scanner format and hands
//! back the Kubernetes objects that are not reports, raw; [`kubernetes`] converts those
//! with the Kubernetes types (workloads, Services, Ingresses, HTTPRoutes, Namespaces, and
//! Stance's own kinds through `crate::api::convert`). [`loader`] reads files and folders.
//! [`parse_bytes`] / [`parse_value`] are the core's, with the objects converted.

pub mod kubernetes;
pub mod loader;

pub use loader::{
    LoadError, LoadSummary, Loaded, for_each_file, for_each_raw_file, load_index, load_index_with, load_paths,
    load_paths_with,
};
pub use stance_core::index::KubeObject;
pub use stance_core::ingest::{Epss, Kev, Limits, Reader, Refusal, Warning};

use serde_json::Value;
use stance_core::ingest::document;
use stance_core::model::Report;

/// One recognised document, Kubernetes objects converted.
#[derive(Debug)]
pub enum Parsed {
    Report(Report),
    Object(Box<KubeObject>),
    Kev(Kev),
    Epss(Epss),
    /// A Kubernetes object of a kind Stance does not use (counted, not warned about).
    Ignored(String),
}

/// Parses the bytes of one file (see `stance_core::ingest::parse_bytes`: trusted, dates as
/// written, default limits) and converts the Kubernetes objects in it. Problems become
/// warnings naming `origin`.
pub fn parse_bytes(origin: &str, bytes: &[u8], out: &mut Vec<Parsed>, warnings: &mut Vec<Warning>) {
    read_bytes(&Reader::default(), origin, bytes, out, warnings);
}

/// Parses one JSON/YAML value (see `stance_core::ingest::parse_value`) and converts the
/// Kubernetes objects in it.
pub fn parse_value(origin: &str, v: &Value, out: &mut Vec<Parsed>, warnings: &mut Vec<Warning>) {
    read_value(&Reader::default(), origin, v, out, warnings);
}

/// Reads the bytes of one object through `reader` (its channel, observation time and
/// budget) and converts the Kubernetes objects in it.
pub fn read_bytes(reader: &Reader, origin: &str, bytes: &[u8], out: &mut Vec<Parsed>, warnings: &mut Vec<Warning>) {
    let mut raw = Vec::new();
    reader.read_bytes(origin, bytes, &mut raw, warnings);
    convert(raw, out, warnings);
}

/// Reads one object already parsed through `reader` and converts the Kubernetes objects in it.
pub fn read_value(reader: &Reader, origin: &str, v: &Value, out: &mut Vec<Parsed>, warnings: &mut Vec<Warning>) {
    let mut raw = Vec::new();
    reader.read_value(origin, v, &mut raw, warnings);
    convert(raw, out, warnings);
}

/// Reads a watched report ConfigMap: the ConfigMap is the channel of what it carries.
pub fn read_config_map(reader: &Reader, origin: &str, v: &Value, out: &mut Vec<Parsed>, warnings: &mut Vec<Warning>) {
    let mut raw = Vec::new();
    reader.read_config_map(origin, v, &mut raw, warnings);
    convert(raw, out, warnings);
}

pub(crate) fn convert(raw: Vec<document::Parsed>, out: &mut Vec<Parsed>, warnings: &mut Vec<Warning>) {
    for p in raw {
        match p {
            document::Parsed::Report(r) => out.push(Parsed::Report(r)),
            document::Parsed::Kubernetes { origin, object } => {
                kubernetes::parse_object(&origin, &object, out, warnings)
            }
            document::Parsed::Kev(k) => out.push(Parsed::Kev(k)),
            document::Parsed::Epss(e) => out.push(Parsed::Epss(e)),
        }
    }
}
