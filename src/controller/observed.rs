//! What the cluster last showed of the objects whose status the sweep writes: the status
//! of Assets, GuardrailPolicies and RiskExceptions, and the owner references of Assets.
//!
//! The index keeps domain values only; this is the Kubernetes-side state the writer needs
//! to skip writes that would change nothing and to keep conditions' transition times. The
//! watches fill it with the objects they apply ([`Observed::apply`]); the sweep reads it.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use stance_core::assessment::status::{AssetStatus, RiskExceptionStatus};
use stance_core::names::DEFAULT_NAMESPACE;

use super::feed::ObjKey;
use super::targets::Feed;
use crate::api::guardrail_policy::GuardrailPolicyStatus;

/// Shared by the watches (writers) and the sweep (reader). Lock it after the index, never
/// across an `.await`.
pub type SharedObserved = Arc<Mutex<Observed>>;

/// `(namespace, name)`.
pub type NsName = (String, String);

/// An Asset as last seen.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ObservedAsset {
    pub status: Option<AssetStatus>,
    pub owner_references: Option<Vec<OwnerReference>>,
}

/// See the module documentation.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Observed {
    pub assets: BTreeMap<NsName, ObservedAsset>,
    pub policies: BTreeMap<String, Option<GuardrailPolicyStatus>>,
    pub exceptions: BTreeMap<NsName, Option<RiskExceptionStatus>>,
}

/// What one watched object adds to [`Observed`] (read outside any lock).
#[derive(Clone, Debug, PartialEq)]
pub enum Update {
    Asset(ObservedAsset),
    Policy(Option<GuardrailPolicyStatus>),
    Exception(Option<RiskExceptionStatus>),
}

/// The status at `/status`, when present and readable. An unreadable status is treated as
/// absent: the sweep then writes a fresh one.
fn status<T: DeserializeOwned>(obj: &Value) -> Option<T> {
    obj.get("status").filter(|s| !s.is_null()).and_then(|s| T::deserialize(s).ok())
}

impl Update {
    /// The part of a watched object this store keeps; `None` for kinds it does not track.
    pub fn of(feed: Feed, obj: &Value) -> Option<Update> {
        match feed {
            Feed::Asset => Some(Update::Asset(ObservedAsset {
                status: status(obj),
                owner_references: obj
                    .pointer("/metadata/ownerReferences")
                    .and_then(|o| Option::<Vec<OwnerReference>>::deserialize(o).ok())
                    .flatten(),
            })),
            Feed::Policy => Some(Update::Policy(status(obj))),
            Feed::Exception => Some(Update::Exception(status(obj))),
            _ => None,
        }
    }
}

fn ns_name(key: &ObjKey) -> NsName {
    (key.0.clone().unwrap_or_else(|| DEFAULT_NAMESPACE.to_string()), key.1.clone())
}

impl Observed {
    /// Records what an applied object showed.
    pub fn apply(&mut self, key: &ObjKey, update: Update) {
        match update {
            Update::Asset(a) => {
                self.assets.insert(ns_name(key), a);
            }
            Update::Policy(s) => {
                self.policies.insert(key.1.clone(), s);
            }
            Update::Exception(s) => {
                self.exceptions.insert(ns_name(key), s);
            }
        }
    }

    /// Forgets a deleted object.
    pub fn delete(&mut self, feed: Feed, key: &ObjKey) {
        match feed {
            Feed::Asset => {
                self.assets.remove(&ns_name(key));
            }
            Feed::Policy => {
                self.policies.remove(&key.1);
            }
            Feed::Exception => {
                self.exceptions.remove(&ns_name(key));
            }
            _ => {}
        }
    }

    pub fn asset(&self, namespace: &str, name: &str) -> Option<&ObservedAsset> {
        self.assets.get(&(namespace.to_string(), name.to_string()))
    }

    pub fn policy_status(&self, name: &str) -> Option<&GuardrailPolicyStatus> {
        self.policies.get(name).and_then(Option::as_ref)
    }

    pub fn exception_status(&self, namespace: &str, name: &str) -> Option<&RiskExceptionStatus> {
        self.exceptions.get(&(namespace.to_string(), name.to_string())).and_then(Option::as_ref)
    }
}
