//! Denied licences and the verdict on an expression (rules: [`super`]).

use std::collections::BTreeSet;

use super::LicenseError;
use super::expr::{Licence, LicenseExpr, Node};

/// A policy's denied licences, each one licence (optionally `WITH` an exception).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DeniedLicences {
    entries: Vec<Licence>,
}

/// The answer for one component.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LicenseVerdict {
    /// True when every choice the licensing allows takes a denied licence.
    pub denied: bool,
    /// When denied: the denied licences (as written in the deny list, canonical) that
    /// force it — those of the minimal sets some choice cannot avoid. Empty otherwise.
    pub forced_by: Vec<String>,
    /// Licence texts that are no SPDX id or reference (they match no denied id).
    pub unknown: Vec<String>,
    /// True when the text was not an expression and was read as "all named licences apply".
    pub lenient: bool,
    /// True when the document makes no assertion about the licence (SPDX `NOASSERTION`, no
    /// licence at all): nothing could be judged.
    pub no_assertion: bool,
}

/// Above this many alternatives the explanation lists every denied licence present
/// instead of the minimal ones (the verdict itself is exact at any size).
const MAX_CHOICES: usize = 256;

impl DeniedLicences {
    /// Reads a deny list; an entry that is not one licence is an error naming it.
    pub fn parse<'a>(ids: impl IntoIterator<Item = &'a str>) -> Result<DeniedLicences, LicenseError> {
        let mut entries = Vec::new();
        for (index, text) in ids.into_iter().enumerate() {
            let err = |reason: &str| LicenseError::Denied { index, text: text.to_string(), reason: reason.to_string() };
            let e = LicenseExpr::parse(text);
            match &e.root {
                _ if e.lenient => return Err(err("it is not a licence expression")),
                Node::Leaf(l) if l.unknown => return Err(err("it is not an SPDX licence or exception id")),
                Node::Leaf(l) => entries.push(l.clone()),
                _ => return Err(err("it combines licences with AND/OR")),
            }
        }
        Ok(DeniedLicences { entries })
    }

    /// True when nothing is denied.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The entries, canonical.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|l| l.display.as_str())
    }

    /// The denied entries a licence requirement matches.
    fn matching<'a>(&'a self, l: &'a Licence) -> impl Iterator<Item = &'a Licence> + 'a {
        self.entries.iter().filter(move |d| {
            !l.unknown
                && d.base == l.base
                && d.or_later == l.or_later
                && (d.exception.is_none() || d.exception == l.exception)
        })
    }

    fn denies(&self, l: &Licence) -> bool {
        self.matching(l).next().is_some()
    }

    /// Judges an expression.
    pub fn evaluate(&self, expr: &LicenseExpr) -> LicenseVerdict {
        let mut unknown = Vec::new();
        expr.root.leaves(&mut |l: &Licence| {
            if l.unknown && !unknown.contains(&l.display) {
                unknown.push(l.display.clone());
            }
        });
        let denied = !self.allowed(&expr.root);
        let forced_by = if denied { self.forced_by(&expr.root) } else { Vec::new() };
        LicenseVerdict { denied, forced_by, unknown, lenient: expr.lenient, no_assertion: false }
    }

    /// Whether some choice avoids every denied licence.
    fn allowed(&self, n: &Node) -> bool {
        match n {
            Node::Leaf(l) => !self.denies(l),
            Node::And(c) => c.iter().all(|n| self.allowed(n)),
            Node::Or(c) => c.iter().any(|n| self.allowed(n)),
        }
    }

    /// The union of the minimal sets of denied licences the choices take.
    fn forced_by(&self, root: &Node) -> Vec<String> {
        let sets = match self.choices(root) {
            Some(choices) => {
                let mut sets: Vec<BTreeSet<String>> = choices;
                sets.sort_by_key(BTreeSet::len);
                let mut minimal: Vec<BTreeSet<String>> = Vec::new();
                for s in sets {
                    if !minimal.iter().any(|m| m.is_subset(&s)) {
                        minimal.push(s);
                    }
                }
                minimal
            }
            None => {
                let mut all = BTreeSet::new();
                root.leaves(&mut |l: &Licence| all.extend(self.matching(l).map(|d| d.display.clone())));
                vec![all]
            }
        };
        let union: BTreeSet<String> = sets.into_iter().flatten().collect();
        union.into_iter().collect()
    }

    /// For each way to comply (disjunctive normal form), the denied licences it takes;
    /// `None` when there are more than [`MAX_CHOICES`] ways.
    fn choices(&self, n: &Node) -> Option<Vec<BTreeSet<String>>> {
        match n {
            Node::Leaf(l) => Some(vec![self.matching(l).map(|d| d.display.clone()).collect()]),
            Node::Or(c) => {
                let mut out = Vec::new();
                for child in c {
                    out.extend(self.choices(child)?);
                    if out.len() > MAX_CHOICES {
                        return None;
                    }
                }
                Some(out)
            }
            Node::And(c) => {
                let mut out = vec![BTreeSet::new()];
                for child in c {
                    let alternatives = self.choices(child)?;
                    if out.len().saturating_mul(alternatives.len()) > MAX_CHOICES {
                        return None;
                    }
                    out = out
                        .iter()
                        .flat_map(|a| alternatives.iter().map(move |b| a.union(b).cloned().collect()))
                        .collect();
                }
                Some(out)
            }
        }
    }
}
