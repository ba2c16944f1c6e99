//! Per-ecosystem semantics for Stance, as each ecosystem specifies them.
//!
//! Pure functions over plain data (no I/O, no clock, no dependency on the `stance`
//! crate): the one place that decides
//!
//! * how versions of a package ecosystem are ordered ([`Scheme`], [`Version`]) and whether a
//!   version is inside a range written in Stance's policy syntax or as a package-URL
//!   `vers:` ([`VersionRange`]);
//! * whether two package references name the same package ([`PackageId`], [`Purl`]);
//! * whether two image references name the same image, and whether an image is under an
//!   allowed registry or repository prefix ([`ImageRef`], [`ImagePrefix`]);
//! * whether a licence expression, or the licences a CycloneDX or SPDX document lists,
//!   force a denied licence ([`LicenseExpr`], [`Licensing`], [`DeniedLicences`]).
//!
//! ```
//! use stance_ecosystem::{DeniedLicences, ImagePrefix, ImageRef, LicenseExpr, PackageId, VersionRange};
//!
//! // A banned-package rule, compiled once …
//! let banned = PackageId::from_purl("pkg:apk/alpine/openssl").unwrap();
//! let range = VersionRange::parse(banned.scheme(), ">=1.1.1, <1.1.1k").unwrap();
//! // … and an SBOM component judged against it.
//! let component = PackageId::from_purl("pkg:apk/alpine/openssl@1.1.1j-r0?arch=x86_64").unwrap();
//! assert_eq!(component, banned);
//! assert_eq!(range.contains("1.1.1j-r0"), Ok(true));
//!
//! let allowed = ImagePrefix::parse("ghcr.io/acme").unwrap();
//! assert!(!allowed.matches(&ImageRef::parse("ghcr.io/acme-evil/x:1").unwrap()));
//!
//! let deny = DeniedLicences::parse(["GPL-3.0-or-later"]).unwrap();
//! assert!(!deny.evaluate(&LicenseExpr::parse("MIT OR GPL-3.0-or-later")).denied);
//! ```
//!
//! Each module cites the specification or upstream source of its rules and is tested
//! against that ecosystem's published vectors (`tests/data/SOURCES.md`). How Stance's
//! policy compiler, index and parsers use this crate: `INTEGRATION.md`.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod image_ref;
pub mod license;
pub mod package_id;
pub mod range;
pub mod version;

pub use image_ref::{ImagePrefix, ImageRef, ImageRefError};
pub use license::{CdxLicense, DeniedLicences, LicenseError, LicenseExpr, LicenseVerdict, Licensing};
pub use package_id::{PackageId, Purl, PurlError, osv_purl};
pub use range::{Comparator, Constraint, RangeError, VersionRange};
pub use version::{Scheme, Version, VersionError};
