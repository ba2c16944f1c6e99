//! Everything evaluation needs to know about one workload, gathered once per request.

use std::collections::BTreeMap;
use std::sync::Arc;

use jiff::Timestamp;

use crate::index::exposure;
use crate::index::{ArtifactPosture, PostureIndex};
use crate::model::{App, Container, Criticality, DataClassification, Exposure, ImageRef, Workload};
use crate::risk::RiskContext;
use crate::risk::reach;

/// A container whose image reference parsed, with the image's posture if known.
#[derive(Clone, Debug)]
pub struct ImageCtx<'a> {
    pub container: &'a Container,
    pub image: &'a ImageRef,
    pub posture: Option<&'a Arc<ArtifactPosture>>,
}

impl ImageCtx<'_> {
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
    /// The highest criticality of its applications; `None` without an application.
    pub criticality: Option<Criticality>,
    pub exposure: Exposure,
    pub risk: RiskContext,
    pub namespace_labels: BTreeMap<String, String>,
    pub images: Vec<ImageCtx<'a>>,
    pub now: Timestamp,
}

impl<'a> Subject<'a> {
    /// Gathers the workload's applications, reach, risk context, namespace labels and image postures.
    pub fn new(w: &'a Workload, index: &'a PostureIndex, now: Timestamp) -> Subject<'a> {
        let apps: Vec<&Arc<App>> = index.apps_of(w).collect();
        let criticality = apps.iter().map(|a| a.criticality).max();
        let data = apps.iter().map(|a| a.data_classification).max().unwrap_or(DataClassification::Internal);
        // Declared exposure (the strongest of its applications') wins; else the applications'
        // detected exposure, combined with this workload's own (it may not be in the index
        // yet at admission).
        let declared = reach::strongest_declared(apps.iter().map(|a| a.exposure));
        let reach = match declared {
            Some(r) => r,
            None => {
                let own = exposure::detect(&[w], index.services_in(&w.namespace), index.routes()).reach;
                let detected =
                    apps.iter().filter_map(|a| index.detected_exposure(&a.namespace, &a.name)).map(|d| d.reach);
                reach::resolve(None, detected.chain([own]))
            }
        };
        let images = w
            .containers
            .iter()
            .filter_map(|c| {
                c.image.as_ref().ok().map(|image| ImageCtx {
                    container: c,
                    image,
                    // Evidence as this workload's namespace sees it: trusted reports, plus
                    // what its own namespace's reports add.
                    posture: index.image_for(&w.namespace, image),
                })
            })
            .collect();
        Subject {
            workload: w,
            workload_ref: Arc::from(w.object_ref().to_string()),
            app_names: apps.iter().map(|a| &*a.name).collect(),
            apps,
            criticality,
            exposure: reach.exposure(),
            risk: RiskContext {
                reach,
                criticality: criticality.unwrap_or_default(),
                data,
                privileged: w.is_privileged(),
                root: w.may_run_as_root(),
                now,
            },
            namespace_labels: index.namespace_labels(&w.namespace),
            images,
            now,
        }
    }
}
