//! The list/watch state of one watched kind (pure: no I/O, unit-tested without a cluster).
//!
//! A watch delivers a list (start-up, or a re-list after 410 Gone, an API server restart, a
//! network drop), then changes. This is where the rules for both live:
//! - **A re-list is a reset**: objects the list did not show again are removed when it
//!   completes ([`Step::Synced`]), so state is never lost or duplicated.
//! - **What did not change is not applied again.** An object whose resourceVersion is the
//!   one already applied (a re-list repeats every object) is only marked as seen. For the
//!   kinds whose status Stance writes (AppPosture, Asset, GuardrailPolicy, RiskException),
//!   the object without its status is compared instead, so Stance's own status writes do
//!   not come back as index changes (each one used to re-trigger the reassessment of every
//!   application). Their status still reaches [`Observed`].
//! - **Only the first list holds back correlation** ([`Listing::hold_refresh`]): until
//!   then nothing is served or written, and correlating once at the end is cheaper than
//!   after every page. After it, a change arriving during a re-list is correlated and
//!   announced at once; it no longer waits for the re-list to finish (a re-list of 4,000
//!   reports takes about a minute on the load-test cluster, BENCHMARKS.md).

use std::collections::hash_map::DefaultHasher;
use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};

use serde_json::Value;
use stance_core::index::PostureIndex;

use super::feed::{self, FeedState, ObjKey, Prepared};
use super::observed::Observed;
use super::targets::Feed;
use crate::ingest::Warning;

/// One watch event, its object already parsed.
#[derive(Debug)]
pub enum Step {
    /// A list begins (start-up or re-list).
    Relist,
    /// An object was listed, added or modified.
    Apply(Box<Prepared>),
    /// An object was deleted.
    Delete(ObjKey),
    /// The list is complete.
    Synced,
}

/// What the steps of one batch did.
#[derive(Debug, Default)]
pub struct Outcome {
    /// The index changed (correlate, then tell the status writers).
    pub changed: bool,
    /// A list completed in this batch.
    pub synced: bool,
    /// Objects listed again unchanged, or changed in their status only (not re-applied).
    pub unchanged: usize,
    /// What the index did not take from the applied reports, and why.
    pub notes: Vec<Warning>,
}

/// See the module documentation.
#[derive(Debug, Default)]
pub struct Listing {
    feed_state: FeedState,
    /// Every object held, with the fingerprint of what was applied (`None`: no
    /// fingerprint, always re-applied).
    known: HashMap<ObjKey, Option<u64>>,
    /// The keys seen by the list in progress.
    relisting: Option<HashSet<ObjKey>>,
    /// A list has completed once.
    synced_once: bool,
}

/// What identifies the applied content of an object: its resourceVersion (the API server
/// changes it with every write), or, for the kinds whose status Stance writes, a hash of
/// the object without `status` and the write bookkeeping (`resourceVersion`,
/// `managedFields`). `None` when the object has neither.
pub fn fingerprint(feed: Feed, obj: &Value) -> Option<u64> {
    let mut h = DefaultHasher::new();
    if matches!(feed, Feed::AppPosture | Feed::Asset | Feed::Policy | Feed::Exception) {
        let mut content = obj.clone();
        let map = content.as_object_mut()?;
        map.remove("status");
        if let Some(meta) = map.get_mut("metadata").and_then(Value::as_object_mut) {
            meta.remove("resourceVersion");
            meta.remove("managedFields");
        }
        serde_json::to_vec(&content).ok()?.hash(&mut h);
    } else {
        obj.pointer("/metadata/resourceVersion")?.as_str()?.hash(&mut h);
    }
    Some(h.finish())
}

impl Listing {
    /// True while correlation waits for the list in progress: only the first one.
    pub fn hold_refresh(&self) -> bool {
        self.relisting.is_some() && !self.synced_once
    }

    /// True while a list is in progress.
    pub fn listing(&self) -> bool {
        self.relisting.is_some()
    }

    /// Objects held.
    pub fn len(&self) -> usize {
        self.known.len()
    }

    /// True when no object is held.
    pub fn is_empty(&self) -> bool {
        self.known.is_empty()
    }

    /// Applies one step to the index and to `observed`; adds what it did to `out`.
    pub fn step(
        &mut self,
        index: &mut PostureIndex,
        observed: &mut Observed,
        feed: Feed,
        kind: &str,
        step: Step,
        out: &mut Outcome,
    ) {
        match step {
            Step::Relist => self.relisting = Some(HashSet::new()),
            Step::Apply(p) => {
                let Some(key) = p.key.clone() else { return };
                if let Some(seen) = self.relisting.as_mut() {
                    seen.insert(key.clone());
                }
                let fp = p.fingerprint;
                if fp.is_some() && self.known.get(&key) == Some(&fp) {
                    feed::observe(observed, &key, *p);
                    out.unchanged += 1;
                    return;
                }
                self.known.insert(key, fp);
                out.notes.extend(feed::commit(index, &mut self.feed_state, observed, feed, kind, *p));
                out.changed = true;
            }
            Step::Delete(key) => {
                if self.known.remove(&key).is_some() {
                    out.changed = true;
                }
                feed::delete(index, &mut self.feed_state, observed, feed, kind, &key);
            }
            Step::Synced => {
                if let Some(seen) = self.relisting.take() {
                    let stale: Vec<ObjKey> = self.known.keys().filter(|k| !seen.contains(*k)).cloned().collect();
                    for k in stale {
                        self.known.remove(&k);
                        feed::delete(index, &mut self.feed_state, observed, feed, kind, &k);
                        out.changed = true;
                    }
                }
                self.synced_once = true;
                out.synced = true;
            }
        }
    }
}

#[cfg(test)]
#[path = "listing_tests.rs"]
mod tests;
