//! Everything evaluation needs to know about one workload, gathered once per request.

use std::collections::BTreeMap;
use std::sync::Arc;

use jiff::Timestamp;

use crate::api::{AppPosture, Criticality, DataClassification, Exposure};
use crate::model::{Container, ImageRef, Workload};
use crate::posture::exposure;
use crate::posture::risk::{Reach, RiskContext};
use crate::posture::{ArtifactPosture, PostureIndex};

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
    pub apps: Vec<&'a Arc<AppPosture>>,
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
    pub fn new(w: &'a Workload, index: &'a PostureIndex, now: Timestamp) -> Subject<'a> {
        let apps: Vec<&Arc<AppPosture>> = index.apps_of(w).collect();
        let criticality = apps.iter().map(|a| a.spec.criticality).max();
        let data = apps.iter().map(|a| a.spec.data_classification).max().unwrap_or(DataClassification::Internal);
        // Declared exposure wins; else the application's detected exposure, combined with
        // this workload's own (it may not be in the index yet at admission).
        let declared = apps.iter().map(|a| a.spec.exposure).filter(|e| *e != Exposure::Auto).max_by_key(|e| rank(*e));
        let reach = match declared {
            Some(e) => to_reach(e),
            None => {
                let own = exposure::detect(&[w], index.services_in(&w.namespace), index.routes()).reach;
                apps.iter()
                    .filter_map(|a| {
                        index.detected_exposure(a.metadata.namespace.as_deref()?, a.metadata.name.as_deref()?)
                    })
                    .map(|d| d.reach)
                    .chain([own])
                    .max_by_key(|r| reach_rank(*r))
                    .unwrap_or(Reach::None)
            }
        };
        let images = w
            .containers
            .iter()
            .filter_map(|c| {
                c.image.as_ref().ok().map(|image| ImageCtx { container: c, image, posture: index.image(image) })
            })
            .collect();
        Subject {
            workload: w,
            workload_ref: Arc::from(w.object_ref().to_string()),
            app_names: apps.iter().filter_map(|a| a.metadata.name.as_deref()).collect(),
            apps,
            criticality,
            exposure: from_reach(reach),
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

fn rank(e: Exposure) -> u8 {
    match e {
        Exposure::Internet => 3,
        Exposure::Internal => 2,
        Exposure::None => 1,
        Exposure::Auto => 0,
    }
}

fn reach_rank(r: Reach) -> u8 {
    match r {
        Reach::Internet => 3,
        Reach::Internal | Reach::Unknown => 2,
        Reach::None => 1,
    }
}

/// Declared exposure → reach.
pub fn to_reach(e: Exposure) -> Reach {
    match e {
        Exposure::Internet => Reach::Internet,
        Exposure::Internal => Reach::Internal,
        Exposure::None => Reach::None,
        Exposure::Auto => Reach::Unknown,
    }
}

fn from_reach(r: Reach) -> Exposure {
    match r {
        Reach::Internet => Exposure::Internet,
        Reach::Internal | Reach::Unknown => Exposure::Internal,
        Reach::None => Exposure::None,
    }
}
