//! RPM versions (`[epoch:]version[-release]`) ordered by the `rpm-version` crate, whose
//! comparison is rpm's `rpmvercmp` (`~` sorts before anything, `^` after the base but
//! before anything else appended), and a missing release sorts before any release, as
//! `rpmverCmp` does (`rpmio/rpmver.cc`). Arch Linux (`alpm`) versions use the same order: pacman's
//! `alpm_pkg_vercmp` is derived from `rpmvercmp`.

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
