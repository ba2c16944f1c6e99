//! OpenVEX documents, v0.2.0 and the legacy v0.0.1 (openvex/spec `OPENVEX-SPEC.md`;
//! go-vex reads both): statements that a vulnerability does or does not affect products.
//!
//! Recognised by `@context` starting with `https://openvex.dev/ns`. One [`Report`] per
//! document, carrying the document as [`VexDocument`] and no findings: its statements apply
//! to every scanner's findings (`crate::vex`).
//!
//! * **Vulnerability**: v0.2.0's object (`name`, else `@id`, plus `aliases`), or v0.0.1's
//!   string.
//! * **Products**: v0.2.0 objects (`@id`, else `identifiers.purl`, else a `hashes` digest,
//!   else `identifiers.cpe23`/`cpe22`) with their `subcomponents`; v0.0.1 strings, with the
//!   statement's own `subcomponents` strings applying to each.
//! * **Status** `not_affected`, `affected`, `fixed`, `under_investigation`; `justification`,
//!   `impact_statement`, `action_statement` kept as written.
//! * **Time**: the statement's `last_updated`, else its `timestamp`, else the document's
//!   (`last_updated`, else `timestamp`) — the spec's inheritance rule.
//!
//! The spec's MUSTs a gate relies on are enforced: a statement without a known status, a
//! vulnerability or any product, and a `not_affected` statement with neither justification
//! nor impact statement, make the document unreadable (a warning naming the statement),
//! never a silent suppression.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Deserialize;
use serde_json::Value;

use super::error_path::deserialize_located;
use super::lenient::non_empty_arc;
use super::vex_product::{digest, product_id};
use super::{FormatError, source, timestamp};
use crate::model::{Format, ProductId, Report, VexDocument, VexFormat, VexProduct, VexState, VexStatement};

/// True for an OpenVEX document (`@context` `https://openvex.dev/ns…`).
pub fn detect(v: &Value) -> bool {
    v.get("@context").and_then(Value::as_str).is_some_and(|c| c.trim().starts_with("https://openvex.dev/ns"))
}

#[derive(Deserialize)]
struct Doc {
    #[serde(rename = "@id")]
    id: Option<String>,
    author: Option<String>,
    timestamp: Option<String>,
    last_updated: Option<String>,
    #[serde(default)]
    statements: Vec<Statement>,
}

#[derive(Deserialize)]
struct Statement {
    vulnerability: Option<Vulnerability>,
    #[serde(default)]
    products: Vec<Product>,
    /// v0.0.1: subcomponents of every product of the statement.
    #[serde(default)]
    subcomponents: Vec<Product>,
    status: Option<String>,
    justification: Option<String>,
    impact_statement: Option<String>,
    action_statement: Option<String>,
    timestamp: Option<String>,
    last_updated: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Vulnerability {
    Legacy(String),
    Object {
        #[serde(rename = "@id")]
        id: Option<String>,
        name: Option<String>,
        #[serde(default)]
        aliases: Vec<String>,
    },
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Product {
    Legacy(String),
    Object {
        #[serde(rename = "@id")]
        id: Option<String>,
        #[serde(default)]
        identifiers: BTreeMap<String, String>,
        #[serde(default)]
        hashes: BTreeMap<String, String>,
        #[serde(default)]
        subcomponents: Vec<Product>,
    },
}

impl Product {
    fn id(&self) -> Option<ProductId> {
        match self {
            Product::Legacy(s) => Some(product_id(s)),
            Product::Object { id, identifiers, hashes, .. } => {
                let named = id.as_deref().map(product_id).filter(|p| !matches!(p, ProductId::Unidentified(_)));
                let ident = |k: &str| identifiers.get(k).map(|s| product_id(s));
                let hash = || {
                    hashes.iter().find_map(|(algo, hex)| {
                        digest(&format!("{}:{hex}", algo.replace('-', ""))).map(|d| ProductId::Image {
                            tag: None,
                            name: None,
                            digest: Some(d),
                        })
                    })
                };
                named
                    .or_else(|| ident("purl"))
                    .or_else(hash)
                    .or_else(|| ident("cpe23"))
                    .or_else(|| ident("cpe22"))
                    .or_else(|| id.as_deref().map(product_id))
            }
        }
    }

    fn subcomponents(&self) -> &[Product] {
        match self {
            Product::Legacy(_) => &[],
            Product::Object { subcomponents, .. } => subcomponents,
        }
    }
}

/// Parses one OpenVEX document into one report carrying it.
pub fn parse(origin: &str, v: &Value) -> Result<Vec<Report>, FormatError> {
    let doc: Doc = deserialize_located(v)?;
    let doc_time =
        doc.last_updated.as_deref().and_then(timestamp::parse).or(doc.timestamp.as_deref().and_then(timestamp::parse));
    let mut statements = Vec::with_capacity(doc.statements.len());
    for (i, s) in doc.statements.iter().enumerate() {
        statements.push(statement(&format!("statements[{i}]"), s, doc_time)?);
    }
    let author = non_empty_arc(doc.author.as_deref());
    let src = source(Format::OpenVex, author.as_deref().unwrap_or("OpenVEX"), origin);
    let mut report = Report::new(src);
    report.scanned_at = doc_time;
    report.vex = Some(Arc::new(VexDocument {
        format: VexFormat::OpenVex,
        id: non_empty_arc(doc.id.as_deref()).unwrap_or_else(|| Arc::from(origin)),
        origin: Arc::from(origin),
        author,
        timestamp: doc_time,
        statements,
    }));
    Ok(vec![report])
}

fn statement(path: &str, s: &Statement, doc_time: Option<jiff::Timestamp>) -> Result<VexStatement, FormatError> {
    let status = s.status.as_deref().unwrap_or("");
    let state = VexState::parse(status)
        .filter(|st| {
            matches!(st, VexState::NotAffected | VexState::Affected | VexState::Fixed | VexState::UnderInvestigation)
        })
        .ok_or_else(|| {
            FormatError::new(
                format!("{path}.status"),
                format!("{status:?} is not an OpenVEX status (not_affected, affected, fixed, under_investigation)"),
            )
        })?;
    let mut vulnerabilities: Vec<Arc<str>> = Vec::new();
    match &s.vulnerability {
        Some(Vulnerability::Legacy(name)) => vulnerabilities.extend(non_empty_arc(Some(name))),
        Some(Vulnerability::Object { id, name, aliases }) => {
            for n in [name.as_deref(), id.as_deref()].into_iter().chain(aliases.iter().map(|a| Some(a.as_str()))) {
                if let Some(n) = non_empty_arc(n)
                    && !vulnerabilities.contains(&n)
                {
                    vulnerabilities.push(n);
                }
            }
        }
        None => {}
    }
    if vulnerabilities.is_empty() {
        return Err(FormatError::new(format!("{path}.vulnerability"), "the statement names no vulnerability"));
    }
    let legacy_subs: Vec<ProductId> = s.subcomponents.iter().filter_map(Product::id).collect();
    let mut products = Vec::new();
    for p in &s.products {
        let Some(id) = p.id() else { continue };
        let mut subcomponents: Vec<ProductId> = p.subcomponents().iter().filter_map(Product::id).collect();
        subcomponents.extend(legacy_subs.iter().cloned());
        products.push(VexProduct { id, subcomponents });
    }
    if products.is_empty() {
        return Err(FormatError::new(format!("{path}.products"), "the statement names no product"));
    }
    let justification = non_empty_arc(s.justification.as_deref());
    let impact = non_empty_arc(s.impact_statement.as_deref());
    if state == VexState::NotAffected && justification.is_none() && impact.is_none() {
        return Err(FormatError::new(
            path,
            "a not_affected statement needs a justification or an impact_statement (OpenVEX spec); it was not applied",
        ));
    }
    let time = s
        .last_updated
        .as_deref()
        .and_then(timestamp::parse)
        .or(s.timestamp.as_deref().and_then(timestamp::parse))
        .or(doc_time);
    Ok(VexStatement {
        path: Arc::from(path),
        vulnerabilities,
        products,
        state,
        justification,
        impact,
        action: non_empty_arc(s.action_statement.as_deref()),
        timestamp: time,
    })
}
