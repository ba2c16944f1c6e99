//! RPM versions (`[epoch:]version[-release]`) ordered by the `rpm-version` crate, whose
//! comparison is rpm's `rpmvercmp` (`~` sorts before anything, `^` after the base but
//! before anything else appended), and a missing release sorts before any release, as
//! `rpmverCmp` does (`rpmio/rpmver.cc`). Arch Linux (`alpm`) versions use the same order: pacman's
//! `alpm_pkg_vercmp` is derived from `rpmvercmp`.
//!
//! That total order is for sorting. A range bound written without a release
//! (`xz-libs = 5.6.0`) is compared by [`RpmVersion::cmp_to_bound`] instead, which leaves
//! releases out as rpm's `rpmverOverlap` (`rpmio/rpmver.c`) does when one side has none:
//! `= 5.6.0` covers `5.6.0-1.fc40`. pacman's `alpm_pkg_vercmp` (`lib/libalpm/version.c`)
//! does the same whenever either side lacks a `pkgrel` (its `test/util/vercmptest.sh`:
//! `1.5-1` vs `1.5` is `0`).

use std::cmp::Ordering;

/// An EVR whose epoch is a number.
#[derive(Clone, Debug)]
pub struct RpmVersion {
    epoch: String,
    version: String,
    release: String,
}

impl RpmVersion {
    pub(super) fn parse(text: &str) -> Result<RpmVersion, String> {
        if text.chars().any(char::is_whitespace) {
            return Err("it contains whitespace".into());
        }
        // As rpm's `rpmverParse`: the epoch ends at the first ':', the release starts after
        // the last '-'.
        let (epoch, vr) = text.split_once(':').unwrap_or(("", text));
        let (version, release) = vr.rsplit_once('-').unwrap_or((vr, ""));
        if !epoch.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!("the epoch {epoch:?} before ':' is not a number"));
        }
        if version.is_empty() {
            return Err("the version part is empty".into());
        }
        if vr.ends_with('-') {
            return Err("the release after '-' is empty".into());
        }
        Ok(RpmVersion { epoch: epoch.to_string(), version: version.to_string(), release: release.to_string() })
    }

    fn evr(&self) -> rpm_version::Evr<'_> {
        rpm_version::Evr::new(self.epoch.as_str(), self.version.as_str(), self.release.as_str())
    }

    /// How this (installed) version stands against a range bound: as [`Ord`], except that a
    /// bound without a release compares epoch and version only (`rpmverOverlap`: "always
    /// matches if the side with no release has SENSE_EQUAL"), so `5.6.0-1.fc40` is
    /// `Equal` to the bound `5.6.0` — inside `=5.6.0`, `<=5.6.0`, `>=5.6.0`, outside
    /// `<5.6.0` and `>5.6.0`, as rpm decides for `Requires: xz-libs < 5.6.0`.
    pub(super) fn cmp_to_bound(&self, bound: &RpmVersion) -> Ordering {
        if bound.release.is_empty() {
            let mine = rpm_version::Evr::new(self.epoch.as_str(), self.version.as_str(), "");
            return mine.cmp(&bound.evr());
        }
        self.cmp(bound)
    }
}

impl PartialEq for RpmVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for RpmVersion {}
impl PartialOrd for RpmVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for RpmVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        self.evr().cmp(&other.evr())
    }
}
