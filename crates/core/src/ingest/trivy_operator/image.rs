//! The image a Trivy Operator report scanned, from `report.registry` and
//! `report.artifact`, completed from the embedded SBOM where the CR falls short.

use super::model::{ArtifactDoc, RegistryDoc};
use super::sbom::BomRefs;
use crate::ingest::FormatError;
use crate::model::ImageRef;

/// The scanned image from `report.registry` and `report.artifact`, completed from the
/// SBOM's own statements where the CR's are missing or are the config digest.
pub(super) fn image(art: &ArtifactDoc, registry: &RegistryDoc, bom: Option<&BomRefs>) -> Result<ImageRef, FormatError> {
    let Some(repository) = art.repository.get() else {
        // SBOM reports name the image in the BOM too.
        if let Some(first) = bom.and_then(|b| b.names.first()) {
            let mut img = first.clone();
            if img.digest.is_none() {
                img.digest = bom.and_then(|b| same_repo(&b.names, &img)).and_then(|r| r.digest.clone());
            }
            return Ok(img);
        }
        return Err(FormatError::new("report.artifact.repository", "missing"));
    };
    let tag = art.tag.get();
    let digest = art.digest.get();
    let server = registry.server.get();
    let mut img = ImageRef::from_parts(server.unwrap_or(""), repository, tag, digest);
    let Some(bom) = bom else { return Ok(img) };
    if server.is_none()
        && let Some(named) = bom.names.iter().find(|n| {
            ImageRef::from_parts(&n.registry, repository, None, None).repository == n.repository
                && n.registry != img.registry
        })
    {
        img = ImageRef::from_parts(&named.registry, repository, tag, digest);
    }
    if img.digest.is_some() && img.digest.as_deref() == bom.image_id.as_deref() {
        img.digest = same_repo(&bom.names, &img).and_then(|r| r.digest.clone());
    }
    if img.digest.is_none() {
        img.digest = same_repo(&bom.names, &img).and_then(|r| r.digest.clone());
    }
    Ok(img)
}

/// The first reference with a digest of the same registry and repository as `img`.
fn same_repo<'a>(names: &'a [ImageRef], img: &ImageRef) -> Option<&'a ImageRef> {
    names.iter().find(|n| n.digest.is_some() && n.registry == img.registry && n.repository == img.repository)
}
