//! License ids and expressions as SBOMs declare them, cleaned up for display. Every SBOM
//! parser (CycloneDX, SPDX, the BOM a Trivy Operator SBOM report embeds) cleans its
//! licenses here.

use std::sync::Arc;

/// A license id, name or expression as declared, without redundant enclosing parentheses;
/// `None` for empty, `NOASSERTION` and `NONE`.
pub(crate) fn normalize_license(text: &str) -> Option<String> {
    let mut s = text.trim();
    while s.starts_with('(') && s.ends_with(')') && closing_paren(s) == Some(s.len() - 1) {
        s = s[1..s.len() - 1].trim();
    }
    if s.is_empty() || s.eq_ignore_ascii_case("NOASSERTION") || s.eq_ignore_ascii_case("NONE") {
        return None;
    }
    Some(s.to_string())
}

/// The licence an SPDX package is under (SPDX 2.3 §7.13 "Concluded license" and §7.15
/// "Declared license"; SPDX 3 `hasConcludedLicense` / `hasDeclaredLicense`): the concluded
/// licence is what the document's author determined and wins; the declared one counts
/// only when nothing was concluded (`NOASSERTION`, empty or absent). A concluded `NONE`
/// states that there is no licence: the declared one is then not consulted.
pub(crate) fn spdx_license(concluded: Option<&str>, declared: Option<&str>) -> Option<String> {
    let asserted = |t: &&str| !t.trim().is_empty() && !t.trim().eq_ignore_ascii_case("NOASSERTION");
    concluded.filter(asserted).or(declared.filter(asserted)).and_then(normalize_license)
}

/// A component's licenses: each [normalized](normalize_license), in declaration order,
/// without `NOASSERTION` / `NONE` / empty entries and without duplicates.
pub(crate) fn licenses<'a>(declared: impl IntoIterator<Item = &'a str>) -> Vec<Arc<str>> {
    let mut out: Vec<Arc<str>> = Vec::new();
    for l in declared.into_iter().filter_map(normalize_license) {
        if !out.iter().any(|o| **o == *l) {
            out.push(Arc::from(l));
        }
    }
    out
}

/// Byte index of the parenthesis closing the one at index 0.
fn closing_paren(s: &str) -> Option<usize> {
    let mut depth = 0usize;
    for (i, b) in s.bytes().enumerate() {
        match b {
            b'(' => depth += 1,
            b')' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn licenses_normalise() {
        assert_eq!(normalize_license(" (MIT OR Apache-2.0) ").as_deref(), Some("MIT OR Apache-2.0"));
        assert_eq!(normalize_license("(MIT) AND (BSD-3-Clause)").as_deref(), Some("(MIT) AND (BSD-3-Clause)"));
        assert_eq!(normalize_license("NOASSERTION"), None);
        assert_eq!(normalize_license(""), None);
        assert_eq!(normalize_license("(("), Some("((".to_string()));
        assert_eq!(normalize_license("(é)").as_deref(), Some("é"));
    }

    #[test]
    fn spdx_concluded_wins_and_none_is_no_licence() {
        assert_eq!(spdx_license(Some("MIT"), Some("GPL-3.0-only")).as_deref(), Some("MIT"));
        assert_eq!(spdx_license(Some("NOASSERTION"), Some("GPL-3.0-only")).as_deref(), Some("GPL-3.0-only"));
        assert_eq!(spdx_license(None, Some("GPL-3.0-only")).as_deref(), Some("GPL-3.0-only"));
        assert_eq!(spdx_license(Some("NONE"), Some("GPL-3.0-only")), None);
    }

    #[test]
    fn license_lists_drop_noassertion_and_duplicates() {
        let l = licenses(["MIT", "NOASSERTION", "(MIT)", " ", "Apache-2.0", "NONE", "MIT"]);
        assert_eq!(l, vec![Arc::<str>::from("MIT"), Arc::from("Apache-2.0")]);
    }
}
