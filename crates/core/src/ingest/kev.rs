//! CISA Known Exploited Vulnerabilities catalog (`known_exploited_vulnerabilities.json`).

use std::sync::Arc;

use crate::ingest::FormatError;
use rustc_hash::FxHashMap;
use serde::Deserialize;
use serde_json::Value;

/// One catalog entry, reduced to what ranking and messages use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KevEntry {
    /// `dateAdded` (YYYY-MM-DD).
    pub date_added: Arc<str>,
    /// `knownRansomwareCampaignUse` is `Known`.
    pub ransomware: bool,
    /// `dueDate`: when CISA BOD 22-01 requires federal agencies to have remediated it
    /// (the remediation policy's KEV deadline uses it when earlier). `None` when absent or
    /// not a `YYYY-MM-DD` date.
    pub due_date: Option<jiff::civil::Date>,
}

/// The KEV catalog, indexed by upper-case CVE id.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Kev {
    pub catalog_version: String,
    entries: FxHashMap<Arc<str>, KevEntry>,
}

impl Kev {
    /// The catalog entry of a CVE id (case-insensitive).
    pub fn get(&self, id: &str) -> Option<&KevEntry> {
        if id.bytes().any(|b| b.is_ascii_lowercase()) {
            self.entries.get(id.to_ascii_uppercase().as_str())
        } else {
            self.entries.get(id)
        }
    }

    /// True when the id is in the catalog.
    pub fn contains(&self, id: &str) -> bool {
        self.get(id).is_some()
    }

    /// Entries in the catalog.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True for an empty catalog.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Adds an entry (used when merging several catalogs and by tests).
    pub fn insert(&mut self, cve: &str, entry: KevEntry) {
        self.entries.insert(Arc::from(cve.trim().to_ascii_uppercase()), entry);
    }

    /// Merges another catalog into this one (the newer version string wins).
    pub fn merge(&mut self, other: Kev) {
        if other.catalog_version > self.catalog_version {
            self.catalog_version = other.catalog_version;
        }
        self.entries.extend(other.entries);
    }
}

/// True for a document shaped like the KEV catalog.
pub fn detect(v: &Value) -> bool {
    v.get("catalogVersion").is_some() && v.get("vulnerabilities").is_some_and(Value::is_array)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Catalog {
    #[serde(default)]
    catalog_version: String,
    vulnerabilities: Vec<CatalogEntry>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CatalogEntry {
    #[serde(rename = "cveID")]
    cve_id: String,
    #[serde(default)]
    date_added: String,
    #[serde(default)]
    known_ransomware_campaign_use: String,
    #[serde(default)]
    due_date: String,
}

/// Parses the catalog.
pub fn parse(v: &Value) -> Result<Kev, FormatError> {
    let catalog: Catalog = super::error_path::typed(v, "")?;
    let mut kev = Kev { catalog_version: catalog.catalog_version, entries: FxHashMap::default() };
    for e in catalog.vulnerabilities {
        kev.insert(
            &e.cve_id,
            KevEntry {
                date_added: Arc::from(e.date_added),
                ransomware: e.known_ransomware_campaign_use.eq_ignore_ascii_case("known"),
                // Strictly a date: a malformed one sets no deadline rather than another one.
                due_date: e.due_date.trim().parse().ok(),
            },
        );
    }
    Ok(kev)
}
