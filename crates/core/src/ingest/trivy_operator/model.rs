//! The Trivy Operator report objects' fields Stance reads (lenient: every field optional).

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

use crate::ingest::lenient::{Num, Text};

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase", expecting = "an object")]
pub(super) struct Meta {
    pub(super) name: Text,
    pub(super) namespace: Text,
    pub(super) creation_timestamp: Text,
    pub(super) labels: Option<BTreeMap<String, Text>>,
    pub(super) annotations: Option<BTreeMap<String, Text>>,
    pub(super) owner_references: Option<Vec<OwnerRef>>,
}

#[derive(Deserialize, Default)]
#[serde(default, expecting = "an owner reference object")]
pub(super) struct OwnerRef {
    pub(super) kind: Text,
    pub(super) name: Text,
    pub(super) controller: Option<bool>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase", expecting = "an object")]
pub(super) struct Body {
    pub(super) artifact: Option<Value>,
    pub(super) registry: Option<Value>,
    pub(super) scanner: Option<Value>,
    pub(super) update_timestamp: Text,
    pub(super) vulnerabilities: Option<Vec<Value>>,
    pub(super) checks: Option<Vec<Value>>,
    pub(super) secrets: Option<Vec<Value>>,
    pub(super) components: Option<Value>,
}

#[derive(Deserialize, Default)]
#[serde(default, expecting = "an object")]
pub(super) struct ArtifactDoc {
    pub(super) repository: Text,
    pub(super) tag: Text,
    pub(super) digest: Text,
}

#[derive(Deserialize, Default)]
#[serde(default, expecting = "an object")]
pub(super) struct RegistryDoc {
    pub(super) server: Text,
}

#[derive(Deserialize, Default)]
#[serde(default, expecting = "an object")]
pub(super) struct ScannerDoc {
    pub(super) name: Text,
    pub(super) version: Text,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase", expecting = "a vulnerability object")]
pub(super) struct VulnCr {
    #[serde(rename = "vulnerabilityID")]
    pub(super) vulnerability_id: Text,
    pub(super) resource: Text,
    pub(super) installed_version: Text,
    pub(super) fixed_version: Text,
    pub(super) severity: Text,
    pub(super) title: Text,
    pub(super) primary_link: Text,
    pub(super) published_date: Text,
    pub(super) target: Text,
    pub(super) package_path: Text,
    #[serde(rename = "packagePURL")]
    pub(super) package_purl: Text,
    #[serde(rename = "pkgPURL")]
    pub(super) pkg_purl: Text,
    pub(super) score: Num,
    pub(super) cvss: Option<BTreeMap<String, Value>>,
}

#[derive(Deserialize, Default)]
#[serde(default, expecting = "a check object")]
pub(super) struct CheckCr {
    #[serde(rename = "checkID")]
    pub(super) check_id: Text,
    pub(super) id: Text,
    pub(super) title: Text,
    pub(super) severity: Text,
    pub(super) messages: Option<Vec<Text>>,
    pub(super) scope: Option<Scope>,
    pub(super) success: Option<bool>,
}

#[derive(Deserialize, Default)]
#[serde(default, expecting = "an object")]
pub(super) struct Scope {
    #[serde(rename = "type")]
    pub(super) ty: Text,
    pub(super) value: Text,
}

/// An exposed secret. `match` is deliberately not read: it is the secret.
#[derive(Deserialize, Default)]
#[serde(default, expecting = "a secret object")]
pub(super) struct SecretCr {
    #[serde(rename = "ruleID")]
    pub(super) rule_id: Text,
    pub(super) title: Text,
    pub(super) severity: Text,
    pub(super) target: Text,
}
