//! Per-ecosystem semantics for Stance, as each ecosystem specifies them.
//!
//! Pure functions over plain data (no I/O, no clock): the one place that decides
//!
//! * how versions of a package ecosystem are ordered ([`version`]) and whether a version
//!   is inside a range written in Stance's policy syntax or as a package-URL `vers:`
//!   ([`range`]);
//! * whether two package references name the same package ([`package_id`]);
//! * whether two image references name the same image, and whether an image is under an
//!   allowed registry or repository prefix ([`image_ref`]);
//! * whether an SPDX licence expression, or the licences a CycloneDX or SPDX document lists,
//!   force a denied licence ([`license`]).
//!
//! Each module cites the specification or upstream source of its rules, and is tested
//! against that ecosystem's own published test vectors (`tests/data/SOURCES.md`).

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod image_ref;
pub mod license;
pub mod package_id;
pub mod range;
pub mod version;

pub use image_ref::{ImagePrefix, ImageRef, ImageRefError};
pub use license::{CdxLicense, DeniedLicences, LicenseError, LicenseExpr, LicenseVerdict, Licensing};
pub use package_id::{PackageId, Purl, PurlError};
pub use range::{Comparator, Constraint, RangeError, VersionRange};
pub use version::{Scheme, Version, VersionError};
