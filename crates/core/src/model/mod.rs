//! Plain domain types shared by every part of Stance. No I/O, no Kubernetes client.

pub mod app;
pub mod artifact;
pub mod asset;
pub mod component;
pub mod context;
pub mod finding;
pub mod image;
pub mod network;
pub mod provenance;
pub mod report;
pub mod requester;
pub mod scope;
pub mod severity;
pub mod vex;
pub mod workload;

pub use app::App;
pub use artifact::{Artifact, ArtifactKey, ObjectRef};
pub use asset::{Asset, AssetType};
pub use component::Component;
pub use context::{Criticality, DataClassification, Exposure, LocalRef};
pub use finding::{Finding, FindingDetail, FindingKind, Format, Package, Source, Sources, Vex, VexState};
pub use image::{ImageKey, ImageRef};
pub use network::{GrantFrom, GrantTo, Namespace, ReferenceGrant, Route, Service};
pub use provenance::{Channel, Provenance, Trust, Upload};
pub use report::Report;
pub use requester::ControllerIdentity;
pub use severity::Severity;
pub use stance_ecosystem::{PackageId, Purl};
pub use vex::{ListedVersion, ProductId, VexConflict, VexDocument, VexFormat, VexProduct, VexSource, VexStatement};
pub use workload::{Container, ContainerKind, Workload, WorkloadKind};
