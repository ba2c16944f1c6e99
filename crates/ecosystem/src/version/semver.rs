//! SemVer 2.0 versions through the `semver` crate, read the way package managers write
//! them: node-semver's loose prefix (`v1.2.3`, `=1.2.3`, `v 1.2.3`), and the `v1` / `v1.2`
//! shorthands Go's `golang.org/x/mod/semver` accepts (`v1.2` = `v1.2.0`; not with a
//! pre-release or build suffix). Precedence follows SemVer §11: build metadata is ignored
//! ([`semver::Version::cmp_precedence`]).

/// Parses `text` (already trimmed and non-empty).
pub(super) fn parse(text: &str, golang: bool) -> Result<semver::Version, String> {
    let mut t = text;
    if !golang {
        t = t.strip_prefix('=').unwrap_or(t).trim_start();
    }
    t = t.strip_prefix(['v', 'V']).unwrap_or(t);
    if !golang {
        t = t.trim_start();
    }
    let padded;
    if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        match t.split('.').count() {
            1 => {
                padded = format!("{t}.0.0");
                t = &padded;
            }
            2 => {
                padded = format!("{t}.0");
                t = &padded;
            }
            _ => {}
        }
    }
    semver::Version::parse(t).map_err(|e| format!("{e} (SemVer 2.0: MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD])"))
}
