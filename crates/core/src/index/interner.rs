//! String interning for the index. Scanner reports repeat the same strings endlessly (a
//! CVE's title and URL in every image that has it, package names, versions); keeping one
//! copy of each is most of the operator's memory budget at cluster scale.

use std::sync::Arc;

use rustc_hash::FxHashSet;

use crate::model::{Finding, FindingDetail};

/// A set of shared strings. Entries nobody else holds any more are dropped by a sweep
/// after enough findings were released.
#[derive(Debug, Default)]
pub struct Interner {
    strings: FxHashSet<Arc<str>>,
    /// Finding details (what an issue is): the same CVE entry in many images and many
    /// reports of one image is one allocation.
    details: FxHashSet<Arc<FindingDetail>>,
    released_since_sweep: usize,
}

impl Interner {
    /// Replaces `s` by the shared copy of its text (adding it if new).
    pub fn intern(&mut self, s: &mut Arc<str>) {
        match self.strings.get(&**s) {
            Some(shared) => {
                if !Arc::ptr_eq(shared, s) {
                    *s = shared.clone();
                }
            }
            None => {
                self.strings.insert(s.clone());
            }
        }
    }

    fn intern_opt(&mut self, s: &mut Option<Arc<str>>) {
        if let Some(s) = s {
            self.intern(s);
        }
    }

    /// Interns every repeated string of a finding.
    pub fn intern_finding(&mut self, f: &mut Finding) {
        self.intern(&mut f.id);
        self.intern(&mut f.title);
        for a in &mut f.aliases {
            self.intern(a);
        }
        if let Some(p) = &mut f.package {
            self.intern(&mut p.name);
            self.intern_opt(&mut p.installed_version);
            self.intern_opt(&mut p.fixed_version);
            self.intern_opt(&mut p.purl);
        }
        self.intern_opt(&mut f.primary_url);
        self.intern_opt(&mut f.location);
    }

    /// Interns a finding: its strings, then its whole detail. Call after the detail is final
    /// (enriched): a later change copies it out of the shared set again.
    pub fn intern_all(&mut self, f: &mut Finding) {
        if let Some(shared) = self.details.get(&**f.detail()) {
            if !Arc::ptr_eq(shared, f.detail()) {
                f.set_detail(shared.clone());
            }
            return;
        }
        self.intern_finding(f);
        self.details.insert(f.detail().clone());
    }

    /// Number of distinct finding details.
    pub fn details(&self) -> usize {
        self.details.len()
    }

    /// Notes that `n` findings were dropped; sweeps when as many were released as there
    /// are shared strings (amortised O(1) per released finding).
    pub fn released(&mut self, n: usize) {
        self.released_since_sweep += n;
        if self.released_since_sweep > (self.strings.len() + self.details.len()).max(1024) {
            self.details.retain(|d| Arc::strong_count(d) > 1);
            self.strings.retain(|s| Arc::strong_count(s) > 1);
            self.released_since_sweep = 0;
        }
    }

    /// Distinct strings held.
    pub fn len(&self) -> usize {
        self.strings.len()
    }

    /// True when no string is held.
    pub fn is_empty(&self) -> bool {
        self.strings.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_strings_share_one_allocation_and_unused_ones_are_swept() {
        let mut i = Interner::default();
        let mut a: Arc<str> = Arc::from("curl: HSTS ignored");
        let mut b: Arc<str> = Arc::from("curl: HSTS ignored");
        i.intern(&mut a);
        i.intern(&mut b);
        assert!(Arc::ptr_eq(&a, &b));
        assert_eq!(i.len(), 1);
        drop((a, b));
        let mut c: Arc<str> = Arc::from("other");
        i.intern(&mut c);
        i.released(5000);
        assert_eq!(i.len(), 1, "the unused string was swept, the used one kept");
    }
}
