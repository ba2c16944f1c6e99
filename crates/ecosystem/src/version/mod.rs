//! Version order per package ecosystem.
//!
//! A package's ecosystem (its package-URL type) decides how its versions are written and
//! ordered; one generic order for every ecosystem gets real versions wrong (Alpine's
//! `1.1.1j-r0` sorts *after* `1.1.1`, Debian's `2.2~rc-4` *before* `2.2-1`, PEP 440's
//! `1.0.post1` after `1.0` but `1.0.dev1` before it). [`Scheme::for_purl_type`] picks the
//! order; [`Scheme::parse`] reads a version in it, rejecting text that is not a version of
//! that ecosystem; [`Version::try_cmp`] compares two versions of the same scheme.
//!
//! | scheme | purl types | rule | implementation |
//! |---|---|---|---|
//! | [`Scheme::Semver`] | npm, cargo, hex, pub, swift, composer, conan, cocoapods, helm… | SemVer 2.0 precedence (§11), build metadata ignored | `semver` crate |
//! | [`Scheme::Golang`] | golang | SemVer with the `v` prefix, `v1`/`v1.2` shorthands, pseudo-versions | `semver` crate |
//! | [`Scheme::Nuget`] | nuget | NuGet's SemVer 2.0 with a 4th part, case-insensitive labels | [`nuget`] |
//! | [`Scheme::Debian`] | deb | dpkg `verrevcmp` (epoch, upstream, revision, `~`) | [`dpkg`] (port) |
//! | [`Scheme::Rpm`] | rpm, alpm | rpm `rpmvercmp` (epoch, `~`, `^`); a range bound without a release ignores releases | `rpm-version` crate |
//! | [`Scheme::Pep440`] | pypi | PEP 440 (epochs, pre/post/dev, local, normalisation) | `pep440_rs` crate |
//! | [`Scheme::Apk`] | apk | apk-tools `apk_version_compare` | [`apk`] (port) |
//! | [`Scheme::Maven`] | maven | Maven `ComparableVersion` | [`maven`] (port) |
//! | [`Scheme::Generic`] | anything else | numbers as numbers, qualifiers before releases | [`generic`] |

pub mod apk;
pub mod dpkg;
pub mod generic;
pub mod maven;
pub mod nuget;
mod pep440;
mod rpm;
mod semver;

use std::cmp::Ordering;
use std::fmt;

/// How one ecosystem writes and orders versions.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scheme {
    /// Semantic Versioning 2.0.0 (<https://semver.org>, §11 precedence).
    Semver,
    /// Go modules: SemVer with a `v` prefix (<https://go.dev/ref/mod#versions>).
    Golang,
    /// NuGet (<https://learn.microsoft.com/nuget/concepts/package-versioning>).
    Nuget,
    /// Debian policy §5.6.12, as dpkg compares (`lib/dpkg/version.c`).
    Debian,
    /// RPM EVR, as `rpmvercmp` compares (`rpmio/rpmvercmp.c`).
    Rpm,
    /// PEP 440 (<https://peps.python.org/pep-0440/>).
    Pep440,
    /// Alpine apk-tools (`src/version.c`).
    Apk,
    /// Maven `ComparableVersion` (`maven-artifact`).
    Maven,
    /// Unknown ecosystems only: see [`generic`].
    Generic,
}

impl Scheme {
    /// The scheme of a package-URL type (`npm`, `apk`, …; any case). Unknown types get
    /// [`Scheme::Generic`].
    pub fn for_purl_type(ty: &str) -> Scheme {
        match ty.trim().to_ascii_lowercase().as_str() {
            "npm" | "cargo" | "hex" | "pub" | "swift" | "composer" | "conan" | "cocoapods" | "helm" | "bitnami"
            | "julia" => Scheme::Semver,
            "golang" => Scheme::Golang,
            "nuget" => Scheme::Nuget,
            "deb" => Scheme::Debian,
            "rpm" | "alpm" => Scheme::Rpm,
            "pypi" => Scheme::Pep440,
            "apk" => Scheme::Apk,
            "maven" => Scheme::Maven,
            _ => Scheme::Generic,
        }
    }

    /// The scheme of a `vers:` versioning-scheme name (`vers:<type>/…`): the purl types,
    /// plus the vers-only names `semver`, `alpine`, `debian`, `pypi`, `generic`.
    pub fn for_vers_type(ty: &str) -> Scheme {
        match ty.trim().to_ascii_lowercase().as_str() {
            "semver" => Scheme::Semver,
            "alpine" => Scheme::Apk,
            "debian" => Scheme::Debian,
            other => Scheme::for_purl_type(other),
        }
    }

    /// A short name for messages (`apk`, `semver`, …).
    pub fn name(self) -> &'static str {
        match self {
            Scheme::Semver => "semver",
            Scheme::Golang => "golang",
            Scheme::Nuget => "nuget",
            Scheme::Debian => "debian",
            Scheme::Rpm => "rpm",
            Scheme::Pep440 => "pep440",
            Scheme::Apk => "apk",
            Scheme::Maven => "maven",
            Scheme::Generic => "generic",
        }
    }

    /// Parses `text` as a version of this scheme (surrounding whitespace ignored).
    pub fn parse(self, text: &str) -> Result<Version, VersionError> {
        let t = text.trim();
        let err = |reason: String| VersionError::Invalid { scheme: self, text: text.to_string(), reason };
        if t.is_empty() {
            return Err(err("it is empty".into()));
        }
        let parsed = match self {
            Scheme::Semver => Parsed::Semver(semver::parse(t, false).map_err(err)?),
            Scheme::Golang => Parsed::Semver(semver::parse(t, true).map_err(err)?),
            Scheme::Nuget => Parsed::Nuget(nuget::NugetVersion::parse(t).map_err(err)?),
            Scheme::Debian => Parsed::Debian(dpkg::DebVersion::parse(t).map_err(err)?),
            Scheme::Rpm => Parsed::Rpm(rpm::RpmVersion::parse(t).map_err(err)?),
            Scheme::Pep440 => Parsed::Pep440(pep440::parse(t).map_err(err)?),
            Scheme::Apk => Parsed::Apk(apk::ApkVersion::parse(t).map_err(err)?),
            Scheme::Maven => Parsed::Maven(maven::MavenVersion::parse(t)),
            Scheme::Generic => Parsed::Generic(generic::GenericVersion::parse(t)),
        };
        Ok(Version { text: t.to_string(), parsed })
    }

    /// Parses both and compares them.
    pub fn compare(self, a: &str, b: &str) -> Result<Ordering, VersionError> {
        self.parse(a)?.try_cmp(&self.parse(b)?)
    }
}

impl fmt::Display for Scheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A version parsed in its ecosystem's scheme. Versions of the same scheme compare with
/// [`Version::try_cmp`]; two versions are *equal* in a scheme when they compare `Equal`
/// (`1.0` and `1.0.0` in Maven), which need not mean the same text.
#[derive(Clone, Debug)]
pub struct Version {
    text: String,
    parsed: Parsed,
}

#[derive(Clone, Debug)]
enum Parsed {
    Semver(::semver::Version),
    Nuget(nuget::NugetVersion),
    Debian(dpkg::DebVersion),
    Rpm(rpm::RpmVersion),
    Pep440(::pep440_rs::Version),
    Apk(apk::ApkVersion),
    Maven(maven::MavenVersion),
    Generic(generic::GenericVersion),
}

impl Version {
    /// The text as written (trimmed).
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The order of two versions of the same scheme; an error when the schemes differ
    /// (a Go and a Golang-shaped SemVer version are the same scheme).
    pub fn try_cmp(&self, other: &Version) -> Result<Ordering, VersionError> {
        Ok(match (&self.parsed, &other.parsed) {
            (Parsed::Semver(a), Parsed::Semver(b)) => a.cmp_precedence(b),
            (Parsed::Nuget(a), Parsed::Nuget(b)) => a.cmp(b),
            (Parsed::Debian(a), Parsed::Debian(b)) => a.cmp(b),
            (Parsed::Rpm(a), Parsed::Rpm(b)) => a.cmp(b),
            (Parsed::Pep440(a), Parsed::Pep440(b)) => a.cmp(b),
            (Parsed::Apk(a), Parsed::Apk(b)) => a.cmp(b),
            (Parsed::Maven(a), Parsed::Maven(b)) => a.cmp(b),
            (Parsed::Generic(a), Parsed::Generic(b)) => a.cmp(b),
            _ => {
                return Err(VersionError::SchemeMismatch { a: self.text.clone(), b: other.text.clone() });
            }
        })
    }
}

impl Version {
    /// How this version (a package's) stands against a range `bound` of the same scheme:
    /// [`Version::try_cmp`], except for RPM (and alpm) bounds written without a release,
    /// which compare epoch and version only (`5.6.0-1.fc40` is `Equal` to the bound
    /// `5.6.0`), as rpm's `rpmverOverlap` and pacman's `alpm_pkg_vercmp` do. Debian bounds
    /// compare the whole version, as dpkg's `dpkg_version_relate` (`lib/dpkg/version.c`) does:
    /// `= 1.0` is not `1.0-1`.
    /// Ranges use this; sorting uses [`Version::try_cmp`], a total order.
    pub fn try_cmp_to_bound(&self, bound: &Version) -> Result<Ordering, VersionError> {
        match (&self.parsed, &bound.parsed) {
            (Parsed::Rpm(a), Parsed::Rpm(b)) => Ok(a.cmp_to_bound(b)),
            _ => self.try_cmp(bound),
        }
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// Why a version could not be read or compared.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VersionError {
    /// The text is not a version of the scheme.
    #[error("{text:?} is not a valid {scheme} version: {reason}")]
    Invalid {
        /// The scheme the text was read in.
        scheme: Scheme,
        /// The text as given.
        text: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Two versions of different schemes were compared.
    #[error("{a:?} and {b:?} are versions of different ecosystems and cannot be compared")]
    SchemeMismatch {
        /// The first version's text.
        a: String,
        /// The second version's text.
        b: String,
    },
}

/// Compares two decimal digit strings by value, without overflow (`007` = `7`).
pub(crate) fn cmp_digits(a: &str, b: &str) -> Ordering {
    let a = a.trim_start_matches('0');
    let b = b.trim_start_matches('0');
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}
