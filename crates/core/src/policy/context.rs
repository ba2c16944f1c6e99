//! Everything evaluation needs to know about one workload, gathered once per request.

use std::collections::BTreeMap;
use std::sync::Arc;

use jiff::Timestamp;

use crate::index::exposure;
use crate::index::{ArtifactPosture, PostureIndex};
use crate::lifecycle::Dates;
use crate::model::{App, Container, Criticality, DataClassification, Exposure, ImageRef, Workload};
use crate::risk::RiskContext;

/// A container whose image reference parsed, with the image's posture if known.
#[derive(Clone, Debug)]
pub struct ImageCtx<'a> {
    pub container: &'a Container,
    pub image: &'a ImageRef,
    pub posture: Option<&'a Arc<ArtifactPosture>>,
    /// "image X (container c)", written once per request: every rule that reports on the
    /// image starts its message with it.
    pub label: String,
}

impl<'a> ImageCtx<'a> {
    /// The container, its parsed image and the image's posture as the workload sees it.
    pub fn new(container: &'a Container, image: &'a ImageRef, posture: Option<&'a Arc<ArtifactPosture>>) -> Self {
        ImageCtx { container, image, posture, label: crate::policy::rules::image_label(image, container) }
    }

    /// True when a vulnerability scan of the image is known.
    pub fn scanned(&self) -> bool {
        self.posture.is_some_and(|p| p.scanned)
    }
}

/// The evaluated workload in its context.
#[derive(Debug)]
pub struct Subject<'a> {
    pub workload: &'a Workload,
    /// `Kind/namespace/name`.
    pub workload_ref: Arc<str>,
    pub apps: Vec<&'a Arc<App>>,
    pub app_names: Vec<&'a str>,
    /// The criticality that counts: its applications' declarations, never below the
    /// namespace's floor (`medium` without the label), also when no application selects it.
    pub criticality: Criticality,
    pub exposure: Exposure,
    /// Why the exposure is what it is (detected objects and their signals).
    pub exposure_reasons: Vec<String>,
    /// Declared context that was ignored because it would lower what counts.
    pub overridden: Vec<String>,
    pub risk: RiskContext,
    pub namespace_labels: BTreeMap<String, String>,
    pub images: Vec<ImageCtx<'a>>,
    pub now: Timestamp,
    /// First-seen and due dates of its findings (from the index's lifecycle view).
    pub dates: Dates<'a>,
    /// Image-level outcomes are kept with the images' postures ([`IndexConfig::keep_outcomes`](crate::index::IndexConfig::keep_outcomes)).
    pub keep_outcomes: bool,
}

impl<'a> Subject<'a> {
    /// Gathers the workload's applications, reach, risk context, namespace labels and image postures.
    pub fn new(w: &'a Workload, index: &'a PostureIndex, now: Timestamp) -> Subject<'a> {
        let apps: Vec<&Arc<App>> = index.apps_of(w).collect();
        let data = apps.iter().map(|a| a.data_classification).max().unwrap_or(DataClassification::Internal);
        // The one resolution of context: the applications' detected exposure combined with
        // this workload's own (it may not be in the index yet at admission), never below
        // what was detected or the namespace's floors.
        let own = exposure::detect(&[w], index.network_in(&w.namespace));
        let app_refs: Vec<&App> = apps.iter().map(|a| &***a).collect();
        let ctx = index.context(&w.namespace, &app_refs, Some(&own));
        let (reach, criticality) = (ctx.reach, ctx.criticality);
        let images = w
            .containers
            .iter()
            .filter_map(|c| {
                c.image.as_ref().ok().map(|image| {
                    // Evidence as this workload's namespace sees it: trusted reports, plus
                    // what its own namespace's reports add.
                    ImageCtx::new(c, image, index.image_for(&w.namespace, image))
                })
            })
            .collect();
        let dates = Dates::new(index.ledger().map(|l| &**l), apps.iter().copied(), index.kev());
        Subject {
            workload: w,
            workload_ref: Arc::from(w.object_ref().to_string()),
            app_names: apps.iter().map(|a| &*a.name).collect(),
            apps,
            criticality,
            exposure: reach.exposure(),
            exposure_reasons: ctx.reasons,
            overridden: ctx.overridden,
            risk: RiskContext {
                reach,
                criticality,
                data,
                privileged: w.is_privileged(),
                root: w.may_run_as_root(),
                now,
            },
            namespace_labels: index.namespace_labels(&w.namespace),
            images,
            now,
            dates,
            keep_outcomes: index.config.keep_outcomes,
        }
    }
}
