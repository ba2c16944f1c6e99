//! Precomputed verdict parts: what an image's findings say under one rule, kept with the
//! image's posture so admission looks them up instead of recomputing them per request.
//!
//! Which findings of an image break a `vulnerabilities`, `riskScore` or `components` rule
//! changes when the image's evidence, the policy or the workload's risk context changes —
//! not per request. So the first evaluation that asks computes the [`Outcome`] once and
//! keeps it in the image's [`ArtifactPosture`] ([`PartMemo`]), keyed by policy, rule and
//! (for risk) the workload's risk context; every later request with that image is a lookup
//! plus the per-request parts (the container's label, exceptions, enforcement, the ratchet:
//! `evaluate`).
//!
//! Why a kept outcome is never stale:
//! - **Evidence.** The index never changes a posture in place: a report, SBOM, VEX
//!   document or KEV/EPSS feed that changes an image replaces its `Arc<ArtifactPosture>`
//!   (`index::refresh`), and the outcomes go with the old one. A tenant's view of an image
//!   is a posture of its own.
//! - **Policies.** A changed GuardrailPolicy is a new `Arc<Policy>`; the key is its
//!   address, and the slot holds a `Weak` to it, so the address cannot be reused for another
//!   policy while the slot exists.
//! - **Context.** `riskScore` outcomes are keyed by every part of the risk context except
//!   time; the other kept checks do not read the context.
//! - **Time.** An outcome carries the window of instants it holds for
//!   ([`risk::stable_window`]: a finding's age factor switching on is the only change time
//!   alone makes) and is recomputed for a request outside it.
//! - **Not kept.** `vulnerabilities` with `olderThanDays` and `remediation` read first-seen
//!   dates from the lifecycle ledger of the workload's applications, which the history task
//!   replaces after every observation; they are computed per request, as are the checks of
//!   the object itself (image reference, security settings, ownership) and `scanRequired` /
//!   `sbomRequired`, which cost a field read.
//!
//! The property test `tests/precomputed_verdicts.rs` compares verdicts from an index whose
//! outcomes were kept across changes and time with a fresh index's, on random inputs.

use std::borrow::Cow;
use std::fmt;
use std::sync::{Arc, PoisonError, RwLock, Weak};

use jiff::Timestamp;
use rustc_hash::FxHashMap;

use super::context::{ImageCtx, Subject};
use super::rules::{self, Hit, Item, ItemText};
use crate::guardrail::{Check, Policy};
#[cfg(doc)]
use crate::index::ArtifactPosture;
use crate::model::{Criticality, DataClassification};
use crate::risk::{self, Reach, RiskContext};

/// The result of one image-level check on one posture: its part of a violation, if the rule
/// is broken, and the instants it holds for.
#[derive(Debug)]
pub struct Outcome {
    /// `None` when the image passes the rule.
    pub part: Option<Part>,
    /// Holds for `now` in `[from, until)`; `None` is unbounded on that side.
    pub from: Option<Timestamp>,
    pub until: Option<Timestamp>,
}

impl Outcome {
    /// An outcome that holds at every instant (no time-dependent input).
    pub fn timeless(part: Option<Part>) -> Outcome {
        Outcome { part, from: None, until: None }
    }

    /// True when the outcome still holds at `now`.
    pub fn holds_at(&self, now: Timestamp) -> bool {
        self.from.is_none_or(|f| now >= f) && self.until.is_none_or(|u| now < u)
    }
}

/// An image's part of a violation, without the container: the header after the image's
/// label ("image X (container c)"), the offending items, the advice.
#[derive(Debug)]
pub struct Part {
    pub items: PartItems,
    /// The header after the image label, e.g. " has 3 vulnerabilities above HIGH".
    pub tail: Box<str>,
    pub advice: Cow<'static, str>,
}

/// The items of a [`Part`], in the order messages list them.
#[derive(Debug)]
pub enum PartItems {
    /// Indices into the posture's `findings`, worded as vulnerabilities.
    Vulnerabilities(Box<[u32]>),
    /// Indices into the posture's `findings`, worded with their risk in the request's context.
    Risks(Box<[u32]>),
    /// Items that are not findings (packages, licences): key and text.
    Plain(Box<[(Arc<str>, String)]>),
}

impl Part {
    /// The hit for one container running the image: `label` + tail, items borrowed from the
    /// image's posture (risk items scored in `risk`, the request's context and time).
    pub fn hit<'a>(&self, img: &ImageCtx<'a>, risk: RiskContext) -> Hit<'a> {
        let findings = img.posture.map_or(&[][..], |p| &p.findings[..]);
        let pick = |idx: &[u32]| -> Vec<&'a crate::model::Finding> {
            // The indices were taken from this very posture; `get` only so that a bug can
            // never become a panic on the admission path.
            idx.iter().filter_map(|&i| findings.get(i as usize)).map(|f| &**f).collect()
        };
        let items = match &self.items {
            PartItems::Vulnerabilities(idx) => {
                pick(idx).into_iter().map(|f| Item::finding(f, ItemText::Vulnerability(f))).collect()
            }
            PartItems::Risks(idx) => pick(idx).into_iter().map(|f| Item::finding(f, ItemText::Risk(f, risk))).collect(),
            PartItems::Plain(items) => items
                .iter()
                .map(|(key, text)| Item {
                    key: key.clone(),
                    aliases: &[],
                    text: ItemText::Plain(text.clone()),
                    container: None,
                })
                .collect(),
        };
        let mut header = String::with_capacity(img.label.len() + self.tail.len());
        header.push_str(&img.label);
        header.push_str(&self.tail);
        Hit { container: Some(img.container), image: Some(img.image), header, items, advice: self.advice.clone() }
    }
}

/// The parts of the risk context a `riskScore` outcome depends on (all but the time).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct ContextKey {
    reach: Reach,
    criticality: Criticality,
    data: DataClassification,
    privileged: bool,
    root: bool,
}

impl From<&RiskContext> for ContextKey {
    fn from(c: &RiskContext) -> Self {
        let RiskContext { reach, criticality, data, privileged, root, now: _ } = *c;
        ContextKey { reach, criticality, data, privileged, root }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct PartKey {
    /// The compiled policy's address (pinned by the slot's `Weak`).
    policy: usize,
    rule: usize,
    context: Option<ContextKey>,
}

struct Slot {
    /// Keeps the policy's allocation, so its address names no other policy while the slot lives.
    policy: Weak<Policy>,
    outcome: Arc<Outcome>,
}

/// The outcomes kept with one posture (see the module documentation). Cloning a posture
/// starts without them: a copy may be changed, and they are cheap to compute again.
#[derive(Default)]
pub struct PartMemo {
    slots: RwLock<FxHashMap<PartKey, Slot>>,
}

/// Slots beyond which inserting first drops those of policies that no longer exist.
const PRUNE_ABOVE: usize = 64;

impl PartMemo {
    /// The kept outcome for the key when it holds at `now`; otherwise `compute`s it and keeps it.
    fn get_or_compute(
        &self,
        policy: &Arc<Policy>,
        key: PartKey,
        now: Timestamp,
        compute: &dyn Fn() -> Outcome,
    ) -> Arc<Outcome> {
        // The map is consistent whatever panicked while it was held (inserts are single
        // calls), so a poisoned lock is still a valid memo.
        if let Some(slot) = self.slots.read().unwrap_or_else(PoisonError::into_inner).get(&key)
            && slot.outcome.holds_at(now)
        {
            return slot.outcome.clone();
        }
        let outcome = Arc::new(compute());
        let mut slots = self.slots.write().unwrap_or_else(PoisonError::into_inner);
        if slots.len() >= PRUNE_ABOVE {
            slots.retain(|_, s| s.policy.strong_count() > 0);
        }
        slots.insert(key, Slot { policy: Arc::downgrade(policy), outcome: outcome.clone() });
        outcome
    }

    /// How many outcomes are kept.
    pub fn len(&self) -> usize {
        self.slots.read().unwrap_or_else(PoisonError::into_inner).len()
    }

    /// True when none is kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Clone for PartMemo {
    fn clone(&self) -> Self {
        PartMemo::default()
    }
}

impl fmt::Debug for PartMemo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PartMemo({} outcomes)", self.len())
    }
}

/// The hit of an image-level check (`vulnerabilities`, `riskScore`, `components`,
/// `remediation`) on one scanned image, from the outcome kept with the image's posture when
/// there is one that holds at `s.now`. `rule` is the rule's index in `policy.rules`.
pub fn image_hit<'a>(policy: &Arc<Policy>, rule: usize, img: &ImageCtx<'a>, s: &Subject<'_>) -> Option<Hit<'a>> {
    let posture = img.posture?;
    let check = &policy.rules.get(rule)?.check;
    let keep = |context: Option<ContextKey>, compute: &dyn Fn() -> Outcome| {
        if s.keep_outcomes {
            let key = PartKey { policy: Arc::as_ptr(policy) as usize, rule, context };
            posture.precomputed.get_or_compute(policy, key, s.now, compute)
        } else {
            Arc::new(compute())
        }
    };
    let outcome = match check {
        Check::Vulnerabilities(r) if r.older_than_days.is_none() => {
            keep(None, &|| Outcome::timeless(rules::vulnerabilities::part(r, posture, &s.dates, s.now)))
        }
        Check::RiskScore(r) => keep(Some(ContextKey::from(&s.risk)), &|| {
            let (from, until) = risk::stable_window(posture.findings.iter().map(|f| &**f), s.now);
            Outcome { part: rules::risk_score::part(r, posture, &s.risk), from, until }
        }),
        Check::Components(c) => keep(None, &|| Outcome::timeless(rules::components::part(c, posture))),
        Check::Vulnerabilities(r) => {
            return rules::vulnerabilities::part(r, posture, &s.dates, s.now).map(|p| p.hit(img, s.risk));
        }
        Check::Remediation(r) => return rules::remediation::check(r, img, s),
        _ => return None,
    };
    outcome.part.as_ref().map(|p| p.hit(img, s.risk))
}
