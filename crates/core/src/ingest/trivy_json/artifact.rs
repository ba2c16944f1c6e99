//! What a Trivy JSON report scanned: an image (named as the user gave it, with the
//! manifest digest), a remote repository, or a local path.

use std::sync::Arc;

use super::model::{Doc, Metadata};
use crate::ingest::lenient::Text;
use crate::ingest::trivy_artifact::{image_from_names, is_remote_repository, looks_like_path};
use crate::model::artifact::normalize_repository;
use crate::model::{Artifact, ImageRef};

/// The scanned artifact of a whole-document report.
pub(super) fn report_artifact(doc: &Doc, meta: &Metadata) -> Artifact {
    let ty = doc.artifact_type.get().unwrap_or("");
    let name = doc.artifact_name.get();
    let has_image_meta = meta.image_id.get().is_some()
        || meta.repo_tags.as_ref().is_some_and(|t| !t.is_empty())
        || meta.repo_digests.as_ref().is_some_and(|d| !d.is_empty());
    if ty == "container_image" || (ty.is_empty() && has_image_meta) {
        if let Some(img) = image_from_metadata(name, meta) {
            return Artifact::Image(img);
        }
    }
    if let Some(url) = meta.repo_url.get() {
        return Artifact::Repository(Arc::from(normalize_repository(url)));
    }
    match name {
        Some(n) if ty == "repository" && is_remote_repository(n) => {
            Artifact::Repository(Arc::from(normalize_repository(n)))
        }
        Some(n) => Artifact::Other(Arc::from(n)),
        None => Artifact::Other(Arc::from("unknown")),
    }
}

/// Builds the image from the scanned name and `Metadata`: the name as the user gave it
/// (else `Metadata.Reference`, else the first `RepoTags` entry), with the manifest digest
/// from the `RepoDigests` entry of the same repository.
pub(super) fn image_from_metadata(artifact_name: Option<&str>, meta: &Metadata) -> Option<ImageRef> {
    let tags = meta.repo_tags.iter().flatten().filter_map(Text::get);
    let digests = meta.repo_digests.iter().flatten().filter_map(Text::get);
    image_from_names(artifact_name, meta.reference.get().into_iter().chain(tags), digests)
}

/// The image named by an OS result's target, `name (family version)`.
pub(super) fn image_from_target(target: &str) -> Option<ImageRef> {
    let (name, rest) = target.split_once(" (")?;
    if !rest.ends_with(')') || looks_like_path(name) {
        return None;
    }
    ImageRef::parse(name).ok()
}
