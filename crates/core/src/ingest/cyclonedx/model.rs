//! The CycloneDX JSON document structure: only the fields Stance reads, everything
//! optional and null-tolerant.

use std::sync::Arc;

use serde::Deserialize;
use stance_ecosystem::{Purl, Scheme, VersionRange};

use crate::ingest::lenient::Num;
use crate::ingest::purl::{id_name, package_name, purl_type};
use crate::model::ListedVersion;

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub(super) struct Bom {
    #[serde(rename = "serialNumber")]
    pub(super) serial_number: Option<String>,
    pub(super) metadata: Option<Metadata>,
    pub(super) components: Option<Vec<CdxComponent>>,
    pub(super) external_references: Option<Vec<ExternalReference>>,
    pub(super) vulnerabilities: Option<Vec<Vulnerability>>,
}

#[derive(Deserialize, Default)]
pub(super) struct Metadata {
    pub(super) timestamp: Option<String>,
    pub(super) tools: Option<Tools>,
    pub(super) component: Option<CdxComponent>,
}

/// `metadata.tools`: an array of tools up to 1.4, `{components, services}` from 1.5.
#[derive(Deserialize)]
#[serde(untagged)]
pub(super) enum Tools {
    List(Vec<Tool>),
    Object { components: Option<Vec<Tool>>, services: Option<Vec<Tool>> },
}

#[derive(Deserialize)]
pub(super) struct Tool {
    pub(super) name: Option<String>,
    pub(super) version: Option<String>,
}

impl Tools {
    /// `name version` of every tool, joined with `, `.
    pub(super) fn joined(&self) -> String {
        let tools: Vec<&Tool> = match self {
            Tools::List(list) => list.iter().collect(),
            Tools::Object { components, services } => components.iter().chain(services).flatten().collect(),
        };
        let mut names: Vec<String> = Vec::new();
        for t in tools {
            let name = t.name.as_deref().unwrap_or("").trim();
            if name.is_empty() {
                continue;
            }
            let s = match t.version.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
                Some(v) => format!("{name} {v}"),
                None => name.to_string(),
            };
            if !names.contains(&s) {
                names.push(s);
            }
        }
        names.join(", ")
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct CdxComponent {
    #[serde(rename = "bom-ref")]
    pub(super) bom_ref: Option<String>,
    #[serde(rename = "type")]
    pub(super) ty: Option<String>,
    pub(super) group: Option<String>,
    pub(super) name: Option<String>,
    pub(super) version: Option<String>,
    pub(super) purl: Option<String>,
    pub(super) licenses: Option<Vec<LicenseChoice>>,
    pub(super) properties: Option<Vec<Property>>,
    pub(super) external_references: Option<Vec<ExternalReference>>,
    pub(super) components: Option<Vec<CdxComponent>>,
}

impl CdxComponent {
    pub(super) fn properties(&self, name: &str) -> impl Iterator<Item = &str> {
        self.properties
            .iter()
            .flatten()
            .filter(move |p| p.name.as_deref() == Some(name))
            .filter_map(|p| p.value.as_deref())
            .filter(|v| !v.trim().is_empty())
    }

    pub(super) fn has_property(&self, name: &str) -> bool {
        self.properties.iter().flatten().any(|p| p.name.as_deref() == Some(name))
    }

    /// The ecosystem-style display name (see the module docs): the name prefixed with the
    /// `group` as [`package_name`] does for the purl's type, else the purl's name.
    pub(super) fn display_name(&self) -> Option<String> {
        let name = self.name.as_deref().map(str::trim).unwrap_or("");
        let purl = self.purl.as_deref().map(str::trim).filter(|p| !p.is_empty());
        if name.is_empty() {
            return Some(id_name(&Purl::parse(purl?).ok()?.id));
        }
        Some(package_name(&purl.map(purl_type).unwrap_or_default(), self.group.as_deref(), name))
    }
}

#[derive(Deserialize)]
pub(super) struct LicenseChoice {
    pub(super) license: Option<LicenseRef>,
    pub(super) expression: Option<String>,
    /// CycloneDX 1.6: `declared` or `concluded` (for an `expression` entry).
    pub(super) acknowledgement: Option<String>,
}

#[derive(Deserialize)]
pub(super) struct LicenseRef {
    pub(super) id: Option<String>,
    pub(super) name: Option<String>,
    /// CycloneDX 1.6: `declared` or `concluded`.
    pub(super) acknowledgement: Option<String>,
}

#[derive(Deserialize)]
pub(super) struct Property {
    pub(super) name: Option<String>,
    pub(super) value: Option<String>,
}

#[derive(Deserialize)]
pub(super) struct ExternalReference {
    #[serde(rename = "type")]
    pub(super) ty: Option<String>,
    pub(super) url: Option<String>,
}

#[derive(Deserialize)]
pub(super) struct Vulnerability {
    pub(super) id: Option<String>,
    pub(super) source: Option<VulnSource>,
    pub(super) references: Option<Vec<VulnReference>>,
    pub(super) ratings: Option<Vec<Rating>>,
    pub(super) description: Option<String>,
    pub(super) detail: Option<String>,
    pub(super) recommendation: Option<String>,
    pub(super) advisories: Option<Vec<Advisory>>,
    pub(super) published: Option<String>,
    pub(super) updated: Option<String>,
    pub(super) analysis: Option<Analysis>,
    pub(super) affects: Option<Vec<Affect>>,
}

#[derive(Deserialize)]
pub(super) struct VulnSource {
    pub(super) name: Option<String>,
    pub(super) url: Option<String>,
}

#[derive(Deserialize)]
pub(super) struct VulnReference {
    pub(super) id: Option<String>,
}

#[derive(Deserialize)]
pub(super) struct Rating {
    pub(super) source: Option<VulnSource>,
    /// A number, or a numeric string as some tools write it (`"7.5"`).
    #[serde(default)]
    pub(super) score: Num,
    pub(super) severity: Option<String>,
    pub(super) method: Option<String>,
}

#[derive(Deserialize)]
pub(super) struct Advisory {
    pub(super) url: Option<String>,
}

#[derive(Deserialize)]
pub(super) struct Analysis {
    pub(super) state: Option<String>,
    pub(super) justification: Option<String>,
    pub(super) detail: Option<String>,
    pub(super) response: Option<Vec<String>>,
    #[serde(rename = "lastUpdated")]
    pub(super) last_updated: Option<String>,
}

#[derive(Deserialize)]
pub(super) struct Affect {
    #[serde(rename = "ref")]
    pub(super) reference: Option<String>,
    /// An array (the schema); a single object is read as a list of one, as CycloneDX's own
    /// VEX use-case examples (`bom-examples/VEX/Use-Cases/Case-5`) write it.
    pub(super) versions: Option<AffectVersions>,
}

/// `affects[].versions`: an array of entries, or one entry.
#[derive(Deserialize)]
#[serde(untagged)]
pub(super) enum AffectVersions {
    List(Vec<AffectVersion>),
    One(AffectVersion),
}

impl Affect {
    /// The entries of `versions` (none when absent).
    pub(super) fn versions(&self) -> &[AffectVersion] {
        self.versions.as_ref().map(AffectVersions::as_slice).unwrap_or_default()
    }
}

impl AffectVersion {
    /// The entry as a listed version: its `version`, else its `vers:` `range` parsed in
    /// `scheme`; `None` when it has neither or the range does not parse in that scheme
    /// (a range Stance cannot read lists nothing).
    pub(super) fn listed(&self, scheme: Scheme) -> Option<ListedVersion> {
        match (self.version.as_deref().map(str::trim), self.range.as_deref().map(str::trim)) {
            (Some(v), _) if !v.is_empty() => Some(ListedVersion::Exact(v.to_string())),
            (_, Some(r)) if !r.is_empty() => {
                VersionRange::parse(scheme, r).ok().map(|r| ListedVersion::Range(Arc::new(r)))
            }
            _ => None,
        }
    }

    /// True when the entry's status is `unaffected` (absent is `affected`).
    pub(super) fn is_unaffected(&self) -> bool {
        self.status.as_deref().is_some_and(|s| s.trim().eq_ignore_ascii_case("unaffected"))
    }
}

impl AffectVersions {
    pub(super) fn as_slice(&self) -> &[AffectVersion] {
        match self {
            AffectVersions::List(l) => l,
            AffectVersions::One(o) => std::slice::from_ref(o),
        }
    }
}

#[derive(Deserialize)]
pub(super) struct AffectVersion {
    pub(super) version: Option<String>,
    /// A package-URL `vers:` range (CycloneDX 1.5 `affectedVersions.range`).
    pub(super) range: Option<String>,
    /// `affected` (the default), `unaffected` or `unknown`; `state` is read as a synonym,
    /// as the same examples write it.
    #[serde(alias = "state")]
    pub(super) status: Option<String>,
}
