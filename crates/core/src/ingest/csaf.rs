//! CSAF 2.0 documents (OASIS `csaf-v2.0-os`; profile 5 "VEX", and any other profile's
//! `product_status`): which products a vulnerability does or does not affect.
//!
//! Recognised by `document.csaf_version`. One [`Report`] per document, carrying it as a
//! [`VexDocument`] and no findings; its statements apply to every scanner's findings
//! (`crate::vex`).
//!
//! * **Product tree** (§3.1.5): every `full_product_name` in `branches` (recursively, any
//!   depth) and `full_product_names`, identified by its `product_identification_helper`
//!   (`purl`, else `cpe`; without either it names nothing Stance can find in a scan);
//!   `relationships` (§3.1.5.3: `default_component_of`, `installed_on`, …) define the product
//!   "`product_reference` as a component of `relates_to_product_reference`", read as that
//!   platform narrowed to the component; `product_groups` resolve the `group_ids` of flags
//!   and threats.
//! * **Statements**: one per (vulnerability, `product_status` entry, product).
//!   `known_not_affected` → not_affected, `fixed` / `first_fixed` → fixed, `known_affected` /
//!   `first_affected` / `last_affected` → affected, `under_investigation`; `recommended` says
//!   nothing about being affected and is not read. Vulnerability ids: `cve` and the `ids[]`
//!   texts.
//! * **Justification** from `flags[].label` (§3.2.3.5: `component_not_present`,
//!   `vulnerable_code_not_present`, …) naming the product; **impact** from
//!   `threats[category=impact].details`; **action** from `remediations[].details`.
//! * **Time**: the flag's `date` when one gives it, else `tracking.current_release_date`.
//!
//! The VEX profile's rule a gate relies on is enforced: a `known_not_affected` product
//! without a flag or an impact threat (§4.5) is an error naming the vulnerability.

use std::sync::Arc;

use rustc_hash::FxHashMap;
use serde::Deserialize;
use serde_json::Value;

use super::error_path::deserialize_located;
use super::lenient::non_empty_arc;
use super::vex_product::product_id;
use super::{FormatError, source, timestamp};
use crate::model::{Format, ProductId, Report, VexDocument, VexFormat, VexProduct, VexState, VexStatement};

/// True for a CSAF document (`document.csaf_version`).
pub fn detect(v: &Value) -> bool {
    v.pointer("/document/csaf_version").is_some_and(Value::is_string)
}

#[derive(Deserialize)]
struct Csaf {
    document: Document,
    #[serde(default)]
    product_tree: ProductTree,
    #[serde(default)]
    vulnerabilities: Vec<Vulnerability>,
}

#[derive(Deserialize)]
struct Document {
    publisher: Option<Publisher>,
    tracking: Option<Tracking>,
}

#[derive(Deserialize)]
struct Publisher {
    name: Option<String>,
}

#[derive(Deserialize)]
struct Tracking {
    id: Option<String>,
    current_release_date: Option<String>,
}

#[derive(Default, Deserialize)]
struct ProductTree {
    #[serde(default)]
    branches: Vec<Branch>,
    #[serde(default)]
    full_product_names: Vec<FullProductName>,
    #[serde(default)]
    relationships: Vec<Relationship>,
    #[serde(default)]
    product_groups: Vec<ProductGroup>,
}

#[derive(Deserialize)]
struct Branch {
    #[serde(default)]
    branches: Vec<Branch>,
    product: Option<FullProductName>,
}

#[derive(Deserialize)]
struct FullProductName {
    product_id: String,
    name: Option<String>,
    product_identification_helper: Option<Helper>,
}

#[derive(Deserialize)]
struct Helper {
    purl: Option<String>,
    cpe: Option<String>,
}

#[derive(Deserialize)]
struct Relationship {
    full_product_name: FullProductName,
    product_reference: String,
    relates_to_product_reference: String,
}

#[derive(Deserialize)]
struct ProductGroup {
    group_id: String,
    #[serde(default)]
    product_ids: Vec<String>,
}

#[derive(Deserialize)]
struct Vulnerability {
    cve: Option<String>,
    #[serde(default)]
    ids: Vec<VulnId>,
    #[serde(default)]
    product_status: FxHashMap<String, Vec<String>>,
    #[serde(default)]
    flags: Vec<Flag>,
    #[serde(default)]
    threats: Vec<Threat>,
    #[serde(default)]
    remediations: Vec<Remediation>,
}

#[derive(Deserialize)]
struct VulnId {
    text: String,
}

#[derive(Deserialize)]
struct Flag {
    label: String,
    date: Option<String>,
    #[serde(default)]
    product_ids: Vec<String>,
    #[serde(default)]
    group_ids: Vec<String>,
}

#[derive(Deserialize)]
struct Threat {
    category: String,
    details: String,
    #[serde(default)]
    product_ids: Vec<String>,
    #[serde(default)]
    group_ids: Vec<String>,
}

#[derive(Deserialize)]
struct Remediation {
    details: String,
    #[serde(default)]
    product_ids: Vec<String>,
    #[serde(default)]
    group_ids: Vec<String>,
}

/// The `product_status` keys read, in the order statements are made, with their state.
const STATUSES: [(&str, VexState); 7] = [
    ("known_not_affected", VexState::NotAffected),
    ("fixed", VexState::Fixed),
    ("first_fixed", VexState::Fixed),
    ("known_affected", VexState::Affected),
    ("first_affected", VexState::Affected),
    ("last_affected", VexState::Affected),
    ("under_investigation", VexState::UnderInvestigation),
];

/// Parses one CSAF document into one report carrying it.
pub fn parse(origin: &str, v: &Value) -> Result<Vec<Report>, FormatError> {
    let csaf: Csaf = deserialize_located(v)?;
    let tracking = csaf.document.tracking.as_ref();
    let doc_time = tracking.and_then(|t| t.current_release_date.as_deref()).and_then(timestamp::parse);
    let products = product_tree(&csaf.product_tree);
    let groups: FxHashMap<&str, &[String]> =
        csaf.product_tree.product_groups.iter().map(|g| (g.group_id.as_str(), g.product_ids.as_slice())).collect();
    let names = |ids: &[String], group_ids: &[String], product: &str| {
        ids.iter().any(|p| p == product)
            || group_ids.iter().any(|g| groups.get(g.as_str()).is_some_and(|ps| ps.iter().any(|p| p == product)))
    };
    let mut statements = Vec::new();
    for (vi, vuln) in csaf.vulnerabilities.iter().enumerate() {
        let mut vulnerabilities: Vec<Arc<str>> = Vec::new();
        for id in vuln.cve.iter().chain(vuln.ids.iter().map(|i| &i.text)) {
            if let Some(id) = non_empty_arc(Some(id))
                && !vulnerabilities.contains(&id)
            {
                vulnerabilities.push(id);
            }
        }
        if vulnerabilities.is_empty() {
            continue;
        }
        for (key, state) in STATUSES {
            for (pi, product) in vuln.product_status.get(key).into_iter().flatten().enumerate() {
                let path = format!("vulnerabilities[{vi}].product_status.{key}[{pi}]");
                let flag = vuln.flags.iter().find(|f| names(&f.product_ids, &f.group_ids, product));
                let impact = vuln
                    .threats
                    .iter()
                    .find(|t| t.category == "impact" && names(&t.product_ids, &t.group_ids, product))
                    .and_then(|t| non_empty_arc(Some(&t.details)));
                if state == VexState::NotAffected && flag.is_none() && impact.is_none() {
                    return Err(FormatError::new(
                        path,
                        format!(
                            "{product} is known_not_affected without a flag or an impact threat naming it (CSAF 2.0 \
                             §4.5, VEX profile); the document was not applied"
                        ),
                    ));
                }
                let action = vuln
                    .remediations
                    .iter()
                    .find(|r| names(&r.product_ids, &r.group_ids, product))
                    .and_then(|r| non_empty_arc(Some(&r.details)));
                let time = flag.and_then(|f| f.date.as_deref()).and_then(timestamp::parse).or(doc_time);
                let resolved = products.get(product.as_str()).cloned().unwrap_or_else(|| VexProduct {
                    id: ProductId::Unidentified(product.clone()),
                    subcomponents: Vec::new(),
                });
                statements.push(VexStatement {
                    path: Arc::from(path),
                    vulnerabilities: vulnerabilities.clone(),
                    products: vec![resolved],
                    state,
                    justification: flag.and_then(|f| non_empty_arc(Some(&f.label))),
                    impact,
                    action,
                    timestamp: time,
                });
            }
        }
    }
    let author = csaf.document.publisher.as_ref().and_then(|p| non_empty_arc(p.name.as_deref()));
    let src = source(Format::Csaf, author.as_deref().unwrap_or("CSAF"), origin);
    let mut report = Report::new(src);
    report.scanned_at = doc_time;
    report.vex = Some(Arc::new(VexDocument {
        format: VexFormat::Csaf,
        id: tracking.and_then(|t| non_empty_arc(t.id.as_deref())).unwrap_or_else(|| Arc::from(origin)),
        origin: Arc::from(origin),
        author,
        timestamp: doc_time,
        statements,
    }));
    Ok(vec![report])
}

/// Every product id of the tree → the product it names (see the module documentation).
fn product_tree(tree: &ProductTree) -> FxHashMap<String, VexProduct> {
    let mut plain: FxHashMap<&str, ProductId> = FxHashMap::default();
    let mut stack: Vec<&Branch> = tree.branches.iter().collect();
    let mut full: Vec<&FullProductName> = tree.full_product_names.iter().collect();
    while let Some(b) = stack.pop() {
        full.extend(b.product.as_ref());
        stack.extend(b.branches.iter());
    }
    for p in full {
        plain.insert(&p.product_id, identify(p));
    }
    let mut out: FxHashMap<String, VexProduct> =
        plain.iter().map(|(id, p)| (id.to_string(), VexProduct { id: p.clone(), subcomponents: Vec::new() })).collect();
    for r in &tree.relationships {
        let unknown = |id: &str| ProductId::Unidentified(id.to_string());
        let platform = plain.get(r.relates_to_product_reference.as_str()).cloned();
        let component = plain.get(r.product_reference.as_str()).cloned();
        let product = VexProduct {
            id: platform.unwrap_or_else(|| unknown(&r.relates_to_product_reference)),
            subcomponents: vec![component.unwrap_or_else(|| unknown(&r.product_reference))],
        };
        out.insert(r.full_product_name.product_id.clone(), product);
    }
    out
}

fn identify(p: &FullProductName) -> ProductId {
    let helper = p.product_identification_helper.as_ref();
    match (helper.and_then(|h| h.purl.as_deref()), helper.and_then(|h| h.cpe.as_deref())) {
        (Some(purl), _) => product_id(purl),
        (None, Some(cpe)) => product_id(cpe),
        (None, None) => ProductId::Unidentified(p.name.clone().unwrap_or_else(|| p.product_id.clone())),
    }
}
