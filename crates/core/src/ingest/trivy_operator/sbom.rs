//! The CycloneDX BOM an SBOM report embeds: the image references its root component
//! states and its components, nested ones included.

use std::collections::HashSet;
use std::sync::Arc;

use serde::Deserialize;
use serde_json::Value;

use crate::ingest::FormatError;
use crate::ingest::error_path::{join, typed_or_default};
use crate::ingest::lenient::{Text, items};
use crate::ingest::license;
use crate::ingest::purl::{package_name, purl_type};
use crate::model::{Component, ImageRef};

#[derive(Deserialize, Default)]
#[serde(default, expecting = "a CycloneDX BOM object")]
pub(super) struct Bom {
    components: Option<Vec<Value>>,
    metadata: Option<BomMetadata>,
}

#[derive(Deserialize, Default)]
#[serde(default, expecting = "an object")]
struct BomMetadata {
    component: Option<Value>,
}

#[derive(Deserialize, Default)]
#[serde(default, expecting = "a CycloneDX component object")]
struct BomComponent {
    name: Text,
    group: Text,
    version: Text,
    purl: Text,
    licenses: Option<Vec<LicenseChoice>>,
    /// Checked to be a list; walked from the original value.
    #[allow(dead_code)]
    components: Option<Vec<Value>>,
    properties: Option<Vec<Property>>,
}

#[derive(Deserialize, Default)]
#[serde(default, expecting = "a CycloneDX license choice")]
struct LicenseChoice {
    license: Option<LicenseDoc>,
    expression: Text,
}

#[derive(Deserialize, Default)]
#[serde(default, expecting = "an object")]
struct LicenseDoc {
    id: Text,
    name: Text,
}

#[derive(Deserialize, Default)]
#[serde(default, expecting = "a name/value property")]
struct Property {
    name: Text,
    value: Text,
}

/// Image references the embedded BOM's root component states (Trivy's properties).
#[derive(Default)]
pub(super) struct BomRefs {
    /// `aquasecurity:trivy:RepoTag` and `…:RepoDigest` values that parse.
    pub(super) names: Vec<ImageRef>,
    /// `aquasecurity:trivy:ImageID`: the config digest.
    pub(super) image_id: Option<String>,
}

pub(super) fn bom_image_refs(bom: &Bom, path: &str) -> Result<BomRefs, FormatError> {
    let mut refs = BomRefs::default();
    let Some(root) = bom.metadata.as_ref().and_then(|m| m.component.as_ref()) else { return Ok(refs) };
    let root: BomComponent = typed_or_default(Some(root), &join(path, "metadata.component"))?;
    for p in root.properties.iter().flatten() {
        let (Some(name), Some(value)) = (p.name.get(), p.value.get()) else { continue };
        match name {
            "aquasecurity:trivy:RepoTag" | "aquasecurity:trivy:RepoDigest" => {
                refs.names.extend(value.split(',').filter_map(|v| ImageRef::parse(v).ok()));
            }
            "aquasecurity:trivy:ImageID" => refs.image_id = Some(value.to_string()),
            _ => {}
        }
    }
    Ok(refs)
}

/// Every component of the BOM, nested ones included, in document order (exact
/// duplicates once), named and with licenses cleaned up as the CycloneDX parser does.
pub(super) fn flatten_components(bom: &Bom, path: &str) -> Result<Vec<Component>, FormatError> {
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    // Depth-first with an explicit stack, so deep nesting cannot overflow ours.
    let mut stack: Vec<(String, &Value)> =
        items(&bom.components).map(|(i, v)| (format!("{path}.components[{i}]"), v)).collect();
    stack.reverse();
    while let Some((p, v)) = stack.pop() {
        let c: BomComponent = typed_or_default(Some(v), &p)?;
        // `c.components` is a copy; walk the original values (already checked to be a list).
        let children = v.get("components").and_then(Value::as_array).into_iter().flatten().enumerate();
        let children: Vec<(String, &Value)> = children.map(|(i, ch)| (format!("{p}.components[{i}]"), ch)).collect();
        stack.extend(children.into_iter().rev());
        let Some(name) = c.name.get() else { continue };
        let purl = c.purl.get();
        let name = package_name(&purl.map(purl_type).unwrap_or_default(), c.group.get(), name);
        let licenses = license::licenses(c.licenses.iter().flatten().filter_map(|l| {
            let lic = l.license.as_ref();
            lic.and_then(|x| x.id.get()).or_else(|| lic.and_then(|x| x.name.get())).or(l.expression.get())
        }));
        let component =
            Component { name: Arc::from(name), version: c.version.arc(), purl: purl.map(Arc::from), licenses };
        if seen.insert(component.clone()) {
            out.push(component);
        }
    }
    Ok(out)
}
