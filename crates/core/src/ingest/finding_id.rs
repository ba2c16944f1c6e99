//! Recognising well-known finding identifiers: published vulnerabilities (`CVE-…`,
//! `GHSA-…`) and configuration checks (Trivy's `AVD-…` / `KSV…`, Checkov's `CKV_…`).

use crate::model::finding::is_cve;

/// True for identifiers of published vulnerabilities (`CVE-…`, `GHSA-…`).
pub(crate) fn is_vulnerability_id(id: &str) -> bool {
    let id = id.trim();
    // Compared as bytes: the id is scanner input and need not be ASCII (`"ruleId": "ééé"`).
    is_cve(id) || (id.len() > 5 && id.as_bytes()[..5].eq_ignore_ascii_case(b"ghsa-"))
}

/// Trivy and Checkov ids of configuration checks (`AVD-KSV-0001`, `KSV001`, `CKV_K8S_20`,
/// `CKV2_AWS_1`).
pub(crate) fn is_config_check_id(id: &str) -> bool {
    let u = id.trim().to_ascii_uppercase();
    u.starts_with("AVD-")
        || u.starts_with("CKV_")
        || u.starts_with("CKV2_")
        || u.strip_prefix("KSV").is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_digit() || c == '-'))
}

/// The first CVE or GHSA identifier in an advisory locator, in canonical case
/// (`https://avd.aquasec.com/nvd/cve-2024-9143` → `CVE-2024-9143`).
pub(crate) fn advisory_id(locator: &str) -> Option<String> {
    let bytes = locator.as_bytes();
    let lower = locator.to_ascii_lowercase();
    let word_start = |i: usize| i == 0 || !bytes[i - 1].is_ascii_alphanumeric();
    for (i, _) in lower.match_indices("cve-") {
        if !word_start(i) {
            continue;
        }
        // `i` is where the ASCII `cve-` starts, so `i + 4` is a char boundary; `get` keeps
        // it so should the matching change.
        let Some(rest) = lower.get(i + 4..) else { continue };
        let year: String = rest.chars().take_while(char::is_ascii_digit).collect();
        let number: String =
            rest.get(year.len() + 1..).unwrap_or("").chars().take_while(char::is_ascii_digit).collect();
        if year.len() == 4 && rest.get(year.len()..).is_some_and(|r| r.starts_with('-')) && number.len() >= 4 {
            return Some(format!("CVE-{year}-{number}"));
        }
    }
    for (i, _) in lower.match_indices("ghsa-") {
        if !word_start(i) {
            continue;
        }
        let Some(rest) = lower.get(i + 5..) else { continue };
        let parts: Vec<&str> = rest.splitn(4, '-').take(3).collect();
        let part_ok = |s: &str| s.len() >= 4 && s.bytes().take(4).all(|b| b.is_ascii_alphanumeric());
        if parts.len() == 3 && parts.iter().all(|s| part_ok(s)) {
            let ids: Vec<&str> = parts.iter().filter_map(|s| s.get(..4)).collect();
            return Some(format!("GHSA-{}", ids.join("-")));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advisory_ids() {
        assert_eq!(advisory_id("https://nvd.nist.gov/vuln/detail/CVE-2021-32012").as_deref(), Some("CVE-2021-32012"));
        assert_eq!(advisory_id("https://avd.aquasec.com/nvd/cve-2024-9143").as_deref(), Some("CVE-2024-9143"));
        assert_eq!(
            advisory_id("https://github.com/advisories/GHSA-jfh8-c2jp-5v3q").as_deref(),
            Some("GHSA-jfh8-c2jp-5v3q")
        );
        assert_eq!(advisory_id("https://example.com/advisory/42"), None);
        assert_eq!(advisory_id("xcve-2021-1234"), None);
        assert_eq!(advisory_id("cve-é"), None);
        assert_eq!(advisory_id("ghsa-éééé-aaaa-bbbb"), None);
    }

    #[test]
    fn non_ascii_ids_do_not_panic() {
        // `id[..5]` used to slice inside the second `é` (bytes 4..6).
        for id in ["ééé", "ghsaé", "é", "KSVé", "KSV", "ééééé-x"] {
            assert!(!is_vulnerability_id(id), "{id}");
            assert!(!is_config_check_id(id), "{id}");
        }
        assert!(is_vulnerability_id("GHSA-jfh8-c2jp-5v3q") && is_vulnerability_id("ghsa-é"));
        assert!(is_config_check_id("KSV001") && is_config_check_id("ksv-0001"));
    }
}
