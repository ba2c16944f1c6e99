//! NuGet versions: `Major[.Minor[.Patch[.Revision]]][-label(.label)*][+metadata]`.
//!
//! As NuGet's `NuGetVersion` and `VersionComparer.Default` (NuGet/NuGet.Client,
//! `src/NuGet.Core/NuGet.Versioning`): missing parts are 0 (`1.0` = `1.0.0.0`), leading
//! zeros are allowed (`1.0.01` = `1.0.1`), a release (no label) sorts after its
//! pre-releases, labels compare as SemVer 2.0 identifiers but case-insensitively
//! (`1.0.0-BETA` = `1.0.0-beta`), and metadata after `+` is ignored.
//! <https://learn.microsoft.com/nuget/concepts/package-versioning>

use std::cmp::Ordering;

use super::cmp_digits;

/// A parsed NuGet version.
#[derive(Clone, Debug)]
pub struct NugetVersion {
    /// Major, minor, patch, revision as digit strings without leading zeros.
    parts: [String; 4],
    /// Pre-release labels, lower-cased; empty for a release.
    labels: Vec<String>,
}

impl NugetVersion {
    /// Parses a trimmed version; the error says what is wrong.
    pub fn parse(text: &str) -> Result<NugetVersion, String> {
        let (rest, metadata) = match text.split_once('+') {
            Some((r, m)) => (r, Some(m)),
            None => (text, None),
        };
        if let Some(m) = metadata
            && (m.is_empty() || !m.split('.').all(valid_identifier))
        {
            return Err(format!("the metadata {m:?} after '+' must be dot-separated [0-9A-Za-z-] identifiers"));
        }
        let (numbers, label) = match rest.split_once('-') {
            Some((n, l)) => (n, Some(l)),
            None => (rest, None),
        };
        let nums: Vec<&str> = numbers.split('.').collect();
        if nums.len() > 4 {
            return Err("it has more than four numeric parts".into());
        }
        let mut parts: [String; 4] = Default::default();
        for (i, n) in nums.iter().enumerate() {
            if n.is_empty() || !n.bytes().all(|b| b.is_ascii_digit()) {
                return Err(format!("the part {n:?} is not a number"));
            }
            parts[i] = n.trim_start_matches('0').to_string();
        }
        let labels = match label {
            None => Vec::new(),
            Some(l) => {
                if l.is_empty() || !l.split('.').all(valid_identifier) {
                    return Err(format!(
                        "the pre-release label {l:?} after '-' must be dot-separated [0-9A-Za-z-] identifiers"
                    ));
                }
                l.split('.').map(str::to_ascii_lowercase).collect()
            }
        };
        Ok(NugetVersion { parts, labels })
    }
}

fn valid_identifier(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

fn cmp_label(a: &str, b: &str) -> Ordering {
    let num = |s: &str| s.bytes().all(|c| c.is_ascii_digit());
    match (num(a), num(b)) {
        (true, true) => cmp_digits(a, b),
        (true, false) => Ordering::Less,
        (false, true) => Ordering::Greater,
        (false, false) => a.cmp(b),
    }
}

impl PartialEq for NugetVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for NugetVersion {}
impl PartialOrd for NugetVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for NugetVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        for (a, b) in self.parts.iter().zip(&other.parts) {
            let o = cmp_digits(a, b);
            if o != Ordering::Equal {
                return o;
            }
        }
        match (self.labels.is_empty(), other.labels.is_empty()) {
            (true, true) => Ordering::Equal,
            (true, false) => Ordering::Greater,
            (false, true) => Ordering::Less,
            (false, false) => {
                for (a, b) in self.labels.iter().zip(&other.labels) {
                    let o = cmp_label(a, b);
                    if o != Ordering::Equal {
                        return o;
                    }
                }
                self.labels.len().cmp(&other.labels.len())
            }
        }
    }
}
