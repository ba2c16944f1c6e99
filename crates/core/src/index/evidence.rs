//! Reports in and out of the index, with what their channel lets them assert
//! (`docs/security.md`, "Evidence and who may assert it"):
//!
//! - every time a report states (scan time, first seen, published) is clamped to when
//!   Stance observed it: a date in the future does not make a report win;
//! - only trusted reports count as scans, as SBOMs, and say which digest a tag is;
//! - a tenant's report adds findings only: its VEX statements and suppressions are
//!   dropped (with a warning), and an attribution to an application or asset of another
//!   namespace is ignored (with a warning);
//! - only trusted VEX documents are held (a tenant's is dropped, with a warning); their
//!   statements' times are clamped like the rest, and a statement that disagrees with
//!   another document's is named in a warning (`crate::vex`);
//! - absence is never evidence: an SBOM without components is not an SBOM;
//! - deleting a report removes everything it contributed, its tag claims included.

use std::collections::BTreeMap;
use std::sync::Arc;

use rustc_hash::FxHashMap;

use super::{PostureIndex, StoredReport, TagClaim, enrich};
use crate::ingest::Warning;
use crate::model::artifact::image_artifact_key;
use crate::model::{Artifact, ArtifactKey, Report, Trust};

impl PostureIndex {
    /// Adds or replaces the report with this id. Call [`refresh`](Self::refresh) before
    /// reading. Returns what was not taken from it and why (a tenant's VEX statements, an
    /// attribution to another namespace), each naming the report's origin.
    pub fn apply_report(&mut self, id: &str, mut report: Report) -> Vec<Warning> {
        self.delete_report(id);
        self.generation += 1;
        let id: Arc<str> = Arc::from(id);
        let mut notes = Vec::new();
        let origin = report.source.origin.to_string();
        let provenance = report.provenance;
        let trust = self.config.trust.trust(&provenance.channel);
        let trusted = trust.is_trusted();
        let scanned_at = provenance.clamp(report.scanned_at);
        let mut subject = report.subject;
        if let (Trust::Tenant(ns), Some(s)) = (&trust, &subject)
            && s.namespace.as_deref() != Some(&**ns)
        {
            notes.push(Warning::new(
                &origin,
                format!(
                    "attributed to {s}, in another namespace: ignored, as {} speaks for namespace {ns} only",
                    provenance.channel
                ),
            ));
            subject = None;
        }
        // An SBOM lists components; it is not evidence that anyone looked for
        // vulnerabilities, so SBOM-only documents do not mark their subject scanned.
        let sbom_only = report.components.is_some()
            && !report.findings.iter().any(|f| f.kind == crate::model::FindingKind::Vulnerability);
        let mut stored = StoredReport {
            trust,
            scanned: Vec::new(),
            scanned_at,
            by_artifact: FxHashMap::default(),
            components: None,
            subject,
            artifacts: FxHashMap::default(),
            tag_claims: Vec::new(),
            vex: false,
        };
        if let Some(doc) = report.vex.take() {
            if trusted {
                let doc = clamp_vex(&doc, &provenance);
                for line in self.vex.conflicts(&id, &doc) {
                    notes.push(Warning::new(&origin, line));
                }
                Arc::make_mut(&mut self.vex).insert(&id, Arc::new(doc));
                stored.vex = true;
                self.mark_all_dirty();
            } else {
                notes.push(Warning::new(
                    &origin,
                    format!(
                        "VEX document {} ignored: only trusted sources may suppress findings, and {} is evidence of \
                         its namespace",
                        doc.id, provenance.channel
                    ),
                ));
            }
        }
        for a in &report.scanned {
            let k = a.key();
            if trusted {
                claim_tag(&mut stored, a);
            }
            stored.artifacts.entry(k.clone()).or_insert_with(|| a.clone());
            // A tenant's report is never a scan: which sources count as scanners is the
            // platform's choice, not the document's.
            if trusted && !sbom_only {
                stored.scanned.push(k);
            }
        }
        // Parsers give every finding its own copy of the report's artifact: share one.
        let mut shared_artifacts: FxHashMap<ArtifactKey, Arc<Artifact>> = FxHashMap::default();
        let mut vex_dropped = 0usize;
        for mut f in report.findings {
            let k = f.artifact.key();
            if !stored.artifacts.contains_key(&k) {
                if trusted {
                    claim_tag(&mut stored, &f.artifact);
                }
                stored.artifacts.insert(k.clone(), (*f.artifact).clone());
            }
            f.artifact = shared_artifacts.entry(k.clone()).or_insert_with(|| f.artifact.clone()).clone();
            if !trusted && f.vex.take().is_some() {
                vex_dropped += 1;
            }
            f.first_seen = provenance.clamp(f.first_seen);
            if f.published.is_some_and(|p| p > provenance.observed) {
                f.published = Some(provenance.observed);
            }
            f.prefer_cve_id();
            enrich(&mut f, &self.kev, &self.epss);
            self.strings.intern_all(&mut f);
            stored.by_artifact.entry(k).or_default().push(Arc::new(f));
        }
        if vex_dropped > 0 {
            notes.push(Warning::new(
                &origin,
                format!(
                    "{vex_dropped} VEX statement(s) or suppression(s) ignored: only trusted sources may suppress \
                     findings, and {} is evidence of its namespace",
                    provenance.channel
                ),
            ));
        }
        // Absence is never evidence: an SBOM without components does not replace one with
        // them, and only a trusted SBOM counts.
        if let (true, Some(components), Some(first)) = (trusted, report.components, report.scanned.first())
            && !components.is_empty()
        {
            stored.components = Some((first.key(), Arc::new(components)));
        }
        for claim in &stored.tag_claims {
            let counts = self.tag_claims.entry(claim.tag.clone()).or_default();
            *counts.entry((claim.at, claim.digest.clone())).or_default() += 1;
        }
        let tags: Vec<_> = stored.tag_claims.iter().map(|c| c.tag.clone()).collect();
        for k in stored.artifacts.keys() {
            self.reports_by_key.entry(k.clone()).or_default().insert(id.clone());
        }
        let keys: Vec<ArtifactKey> = stored.artifacts.keys().cloned().collect();
        if let Some(s) = &stored.subject {
            self.reports_by_subject.entry(s.clone()).or_default().insert(id.clone());
        }
        self.touch_report(&stored);
        self.reports.insert(id, stored);
        for k in keys {
            self.mark_dirty(k);
        }
        for tag in tags {
            self.settle_tag(&tag);
        }
        notes
    }

    /// Removes a report and everything it contributed (no-op when unknown).
    pub fn delete_report(&mut self, id: &str) {
        let Some(old) = self.reports.remove(id) else { return };
        self.generation += 1;
        if old.vex {
            Arc::make_mut(&mut self.vex).remove(id);
            self.mark_all_dirty();
        }
        self.strings.released(old.by_artifact.values().map(Vec::len).sum());
        self.touch_report(&old);
        for k in old.artifacts.keys() {
            if let Some(set) = self.reports_by_key.get_mut(k) {
                set.remove(id);
                if set.is_empty() {
                    self.reports_by_key.remove(k);
                }
            }
            self.mark_dirty(k.clone());
        }
        if let Some(s) = &old.subject
            && let Some(set) = self.reports_by_subject.get_mut(s)
        {
            set.remove(id);
        }
        for claim in old.tag_claims {
            if let Some(counts) = self.tag_claims.get_mut(&claim.tag) {
                let key = (claim.at, claim.digest);
                match counts.get_mut(&key) {
                    Some(n) if *n > 1 => *n -= 1,
                    Some(_) => {
                        counts.remove(&key);
                    }
                    None => {}
                }
                if counts.is_empty() {
                    self.tag_claims.remove(&claim.tag);
                }
            }
            self.settle_tag(&claim.tag);
        }
    }

    /// Points a tag at the digest its greatest claim names (or at nothing), marking what
    /// moved for recomputation.
    /// Notes the namespaces a report reaches beyond its artifacts' keys: those of the
    /// objects it names (an application covers the objects of its workloads) and of its
    /// subject (reports attributed to an application or its Asset belong to it).
    fn touch_report(&mut self, r: &StoredReport) {
        let namespaces: Vec<Arc<str>> = r
            .artifacts
            .values()
            .filter_map(|a| match a {
                Artifact::Object(o) => o.namespace.clone(),
                _ => None,
            })
            .chain(r.subject.as_ref().and_then(|s| s.namespace.clone()))
            .collect();
        for ns in namespaces {
            self.touched(super::Touch::Namespace(ns));
        }
    }

    fn settle_tag(&mut self, tag: &super::ImageKey) {
        let winner = self.tag_claims.get(tag).and_then(BTreeMap::last_key_value).map(|((_, d), _)| d.clone());
        let current = self.tag_digest.get(tag).cloned();
        if winner == current {
            return;
        }
        if let Some(old) = current {
            if let Some(tags) = self.digest_tags.get_mut(&old) {
                tags.remove(tag);
                if tags.is_empty() {
                    self.digest_tags.remove(&old);
                }
            }
            self.tag_digest.remove(tag);
            self.mark_dirty(image_artifact_key(&old));
        }
        if let Some(new) = winner {
            self.tag_digest.insert(tag.clone(), new.clone());
            self.digest_tags.entry(new.clone()).or_default().insert(tag.clone());
            self.mark_dirty(image_artifact_key(&new));
        }
        self.mark_dirty(image_artifact_key(tag));
    }
}

/// Records that a trusted report says an image tag is a digest (once per tag).
fn claim_tag(stored: &mut StoredReport, a: &Artifact) {
    let Artifact::Image(img) = a else { return };
    let (Some(tag), Some(_)) = (img.tag_key(), &img.digest) else { return };
    if stored.tag_claims.iter().any(|c| c.tag == tag) {
        return;
    }
    stored.tag_claims.push(TagClaim { tag, at: stored.scanned_at, digest: img.key() });
}

/// A VEX document with every time it states clamped to when Stance observed it: a
/// future-dated statement cannot stay the latest for good.
fn clamp_vex(doc: &crate::model::VexDocument, provenance: &crate::model::Provenance) -> crate::model::VexDocument {
    let mut doc = doc.clone();
    doc.timestamp = provenance.clamp(doc.timestamp);
    for s in &mut doc.statements {
        s.timestamp = provenance.clamp(s.timestamp);
    }
    doc
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::IndexConfig;
    use crate::model::{Channel, Finding, FindingKind, ImageRef, Provenance, Severity, Source};

    const D1: &str = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
    const D2: &str = "sha256:2222222222222222222222222222222222222222222222222222222222222222";

    fn report(image: &str, at: &str, channel: Channel) -> Report {
        let img = ImageRef::parse(image).unwrap();
        let src = Arc::new(Source {
            format: crate::model::Format::TrivyJson,
            scanner: Arc::from("Trivy"),
            origin: Arc::from(image),
            workload: None,
            container: None,
        });
        let mut r = Report::new(src.clone());
        r.scanned = vec![Artifact::Image(img.clone())];
        r.scanned_at = Some(at.parse().unwrap());
        let mut f =
            Finding::new(FindingKind::Vulnerability, "CVE-2024-0001", Severity::High, "t", Artifact::Image(img), src);
        f.vex = Some(crate::model::Vex::new(crate::model::VexState::NotAffected, None));
        r.findings.push(f);
        r.provenance = Provenance::new(channel, "2026-11-27T12:00:00Z".parse().unwrap());
        r
    }

    fn tenant(ns: &str) -> Channel {
        Channel::ReportConfigMap { namespace: Arc::from(ns), name: Arc::from("r"), upload: None }
    }

    #[test]
    fn the_newest_trusted_claim_points_the_tag_whatever_the_order() {
        let tag = ImageRef::parse("nginx:1.25").unwrap();
        let older = report(&format!("nginx:1.25@{D1}"), "2026-11-01T00:00:00Z", Channel::File);
        // Dated 2099: clamped to when it was observed, it still is the newest.
        let newer = report(&format!("nginx:1.25@{D2}"), "2099-01-01T00:00:00Z", Channel::File);
        for order in [[older.clone(), newer.clone()], [newer.clone(), older.clone()]] {
            let mut index = PostureIndex::new(IndexConfig::default());
            for (i, r) in order.into_iter().enumerate() {
                index.apply_report(&format!("r{i}"), r);
            }
            index.refresh();
            let p = index.image_for("default", &tag).unwrap();
            assert_eq!(p.artifact.as_ref().unwrap().image().unwrap().digest.as_deref(), Some(D2));
            assert_eq!(p.last_scanned, Some("2026-11-27T12:00:00Z".parse().unwrap()), "clamped");
        }
        // Deleting the claim re-points the tag.
        let mut index = PostureIndex::new(IndexConfig::default());
        index.apply_report("old", older);
        index.apply_report("new", newer);
        index.delete_report("new");
        index.refresh();
        let p = index.image_for("default", &tag).unwrap();
        assert_eq!(p.artifact.as_ref().unwrap().image().unwrap().digest.as_deref(), Some(D1));
    }

    #[test]
    fn tenant_evidence_only_adds_findings_in_its_own_namespace() {
        let mut index = PostureIndex::new(IndexConfig::default());
        let tag = ImageRef::parse("nginx:1.25").unwrap();
        index.apply_report("trusted", report(&format!("nginx:1.25@{D1}"), "2026-11-01T00:00:00Z", Channel::File));
        let mut forged = report(&format!("nginx:1.25@{D2}"), "2099-01-01T00:00:00Z", tenant("sandbox"));
        forged.findings[0].vex = None;
        let on_d1 = Artifact::Image(ImageRef::parse(&format!("nginx@{D1}")).unwrap());
        let src = forged.source.clone();
        forged.findings.push(Finding::new(
            FindingKind::Vulnerability,
            "CVE-2099-0001",
            Severity::High,
            "t",
            on_d1,
            src,
        ));
        let notes = index.apply_report("forged", forged);
        assert!(notes.is_empty(), "{notes:?}");
        index.refresh();
        // The tag still resolves to the trusted digest, for everyone.
        for viewer in ["default", "sandbox"] {
            let p = index.image_for(viewer, &tag).unwrap();
            assert_eq!(p.artifact.as_ref().unwrap().image().unwrap().digest.as_deref(), Some(D1), "{viewer}");
        }
        let ids = |viewer: &str| -> Vec<String> {
            index.image_for(viewer, &tag).unwrap().findings.iter().map(|f| f.id.to_string()).collect()
        };
        assert_eq!(ids("default"), ["CVE-2024-0001"]);
        assert_eq!(ids("sandbox"), ["CVE-2024-0001", "CVE-2099-0001"]);
        // The trusted finding keeps its VEX statement; the tenant's could not have hidden it.
        assert!(index.image_for("sandbox", &tag).unwrap().findings.iter().any(|f| f.suppressed()));
    }

    #[test]
    fn tenant_vex_and_foreign_attributions_are_dropped_with_a_warning() {
        let mut index = PostureIndex::new(IndexConfig::default());
        let mut r = report("ghcr.io/acme/app:1", "2026-11-01T00:00:00Z", tenant("team-a"));
        r.subject = Some(crate::model::ObjectRef::new("AppPosture", Some("team-b"), "billing"));
        let notes = index.apply_report("r", r);
        assert_eq!(notes.len(), 2, "{notes:?}");
        assert!(notes[0].message.contains("AppPosture/team-b/billing"), "{}", notes[0].message);
        assert!(notes[1].message.contains("1 VEX statement"), "{}", notes[1].message);
        index.refresh();
        let p = index.image_for("team-a", &ImageRef::parse("ghcr.io/acme/app:1").unwrap()).unwrap();
        assert!(!p.scanned, "a tenant's report is not a scan");
        assert!(!p.findings[0].suppressed());
        assert!(index.image_for("team-b", &ImageRef::parse("ghcr.io/acme/app:1").unwrap()).is_none());
    }
}
