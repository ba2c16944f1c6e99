//! A standalone CycloneDX VEX document — a BOM with `vulnerabilities[].analysis` and no
//! components (CycloneDX 1.4+ "BOM-Link"/VEX use, the CISA VEX use cases) — read as a
//! [`VexDocument`] whose statements apply to every scanner's findings.
//!
//! * One statement per vulnerability with an `analysis.state`: its `id` and
//!   `references[].id` are the vulnerability's ids; `analysis.justification`, `detail`
//!   (the impact) and `response` (the action) as written.
//! * Products from `affects[].ref`: the BOM's own subject when the ref is its bom-ref (an
//!   image by digest or repository, else the subject's purl), the fragment of a BOM-Link
//!   (`urn:cdx:<serial>/<version>#<purl or bom-ref>`), or the ref itself (a purl).
//! * `affects[].versions[]` (CycloneDX 1.5 `affectedVersions`: a `version` or a `vers:`
//!   `range`, with a `status` of `affected` — the default —, `unaffected` or `unknown`)
//!   narrows a package to the versions listed whose status agrees with the analysis: for a
//!   state that suppresses (`not_affected`, `false_positive`, `resolved`, …) only the
//!   versions listed `unaffected`; for the others (`exploitable`, `in_triage`) the versions
//!   listed `affected` or `unknown`. A listed version a statement contradicts, or a range
//!   that does not parse in the package's version scheme, covers nothing: a statement applies
//!   only where it is known to hold.
//! * Time: `analysis.lastUpdated`, else the vulnerability's `updated`, else
//!   `metadata.timestamp`.

use std::sync::Arc;

use jiff::Timestamp;

use stance_ecosystem::Scheme;

use super::model::{AffectVersion, AffectVersions, Bom, CdxComponent, Vulnerability};
use crate::ingest::lenient::non_empty_arc;
use crate::ingest::timestamp;
use crate::ingest::vex_product::product_id;
use crate::model::{Artifact, ProductId, VexDocument, VexFormat, VexProduct, VexState, VexStatement};

/// True when a BOM is a standalone VEX document: no component anywhere, and at least one
/// vulnerability with an analysis state.
pub(super) fn is_standalone(bom: &Bom, meta_component: Option<&CdxComponent>) -> bool {
    let no_components = bom.components.as_deref().unwrap_or_default().is_empty()
        && meta_component.is_none_or(|c| c.components.as_deref().unwrap_or_default().is_empty());
    no_components
        && bom.vulnerabilities.iter().flatten().any(|v| v.analysis.as_ref().is_some_and(|a| a.state.is_some()))
}

/// The VEX document of a standalone VEX BOM (see the module documentation).
pub(super) fn document(
    origin: &str,
    bom: &Bom,
    subject: Option<(&CdxComponent, &Artifact)>,
    doc_time: Option<Timestamp>,
) -> VexDocument {
    let mut statements = Vec::new();
    for (i, v) in bom.vulnerabilities.iter().flatten().enumerate() {
        if let Some(s) = statement(&format!("vulnerabilities[{i}]"), v, subject, doc_time) {
            statements.push(s);
        }
    }
    VexDocument {
        format: VexFormat::CycloneDx,
        id: non_empty_arc(bom.serial_number.as_deref()).unwrap_or_else(|| Arc::from(origin)),
        origin: Arc::from(origin),
        author: None,
        timestamp: doc_time,
        statements,
    }
}

fn statement(
    path: &str,
    v: &Vulnerability,
    subject: Option<(&CdxComponent, &Artifact)>,
    doc_time: Option<Timestamp>,
) -> Option<VexStatement> {
    let a = v.analysis.as_ref()?;
    let state = VexState::parse(a.state.as_deref()?)?;
    let mut vulnerabilities: Vec<Arc<str>> = Vec::new();
    for id in v.id.iter().chain(v.references.iter().flatten().filter_map(|r| r.id.as_ref())) {
        if let Some(id) = non_empty_arc(Some(id))
            && !vulnerabilities.contains(&id)
        {
            vulnerabilities.push(id);
        }
    }
    if vulnerabilities.is_empty() {
        return None;
    }
    let products = v
        .affects
        .iter()
        .flatten()
        .filter_map(|af| Some((af.reference.as_deref().map(str::trim).filter(|r| !r.is_empty())?, af)))
        .map(|(r, af)| VexProduct {
            id: narrowed(
                product(r, subject),
                af.versions.as_ref().map(AffectVersions::as_slice).unwrap_or_default(),
                state,
            ),
            subcomponents: Vec::new(),
        })
        .collect();
    let response: Vec<&str> = a.response.iter().flatten().map(String::as_str).collect();
    let time = a
        .last_updated
        .as_deref()
        .and_then(timestamp::parse)
        .or(v.updated.as_deref().and_then(timestamp::parse))
        .or(doc_time);
    Some(VexStatement {
        path: Arc::from(path),
        vulnerabilities,
        products,
        state,
        justification: non_empty_arc(a.justification.as_deref()),
        impact: non_empty_arc(a.detail.as_deref()),
        action: non_empty_arc(Some(&response.join(", "))),
        timestamp: time,
    })
}

/// A package narrowed to the listed versions that agree with `state` (see the module
/// documentation); other products, and packages without a version list, as they are.
fn narrowed(id: ProductId, listed: &[AffectVersion], state: VexState) -> ProductId {
    let ProductId::Package(purl) = id else { return id };
    if listed.is_empty() {
        return ProductId::Package(purl);
    }
    let scheme = Scheme::for_purl_type(purl.id.ty());
    let versions =
        listed.iter().filter(|l| l.is_unaffected() == state.suppresses()).filter_map(|l| l.listed(scheme)).collect();
    ProductId::PackageVersions { purl, versions }
}

fn product(reference: &str, subject: Option<(&CdxComponent, &Artifact)>) -> ProductId {
    if let Some((c, artifact)) = subject
        && c.bom_ref.as_deref().map(str::trim) == Some(reference)
    {
        return match artifact {
            Artifact::Image(img) => ProductId::Image {
                name: img.digest.is_none().then(|| img.name()),
                tag: img.tag.as_deref().filter(|_| img.digest.is_none()).map(str::to_string),
                digest: img.digest.as_deref().map(str::to_string),
            },
            _ => match c.purl.as_deref().map(str::trim).filter(|p| !p.is_empty()) {
                Some(purl) => product_id(purl),
                None => ProductId::Unidentified(artifact.to_string()),
            },
        };
    }
    // A BOM-Link names a component of another BOM after `#`.
    let target = match reference.split_once('#') {
        Some((bom, fragment)) if bom.starts_with("urn:cdx:") => fragment,
        _ => reference,
    };
    product_id(target)
}
