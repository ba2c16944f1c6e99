//! CVSS v3.0 / v3.1 base scores from vector strings, for formats that state only the
//! vector (OSV records' `severity[].score`). The equations and constants are FIRST's
//! specification, section 7 (<https://www.first.org/cvss/v3.1/specification-document>);
//! v3.0 vectors use the same equations.

/// The base score of a `CVSS:3.x/AV:…/AC:…/PR:…/UI:…/S:…/C:…/I:…/A:…` vector; `None` when
/// it is not a complete v3 vector (v2 and v4 vectors included). Temporal and environmental
/// metrics in the vector are ignored.
pub(crate) fn base_score_v3(vector: &str) -> Option<f32> {
    let mut parts = vector.trim().split('/');
    let version = parts.next()?;
    if !matches!(version, "CVSS:3.0" | "CVSS:3.1") {
        return None;
    }
    let (mut av, mut ac, mut pr, mut ui, mut s, mut c, mut i, mut a) = (None, None, None, None, None, None, None, None);
    for part in parts {
        let (k, v) = part.split_once(':')?;
        match k {
            "AV" => av = Some(pick(v, &[("N", 0.85), ("A", 0.62), ("L", 0.55), ("P", 0.2)])?),
            "AC" => ac = Some(pick(v, &[("L", 0.77), ("H", 0.44)])?),
            "PR" => pr = Some(v),
            "UI" => ui = Some(pick(v, &[("N", 0.85), ("R", 0.62)])?),
            "S" => s = Some(pick(v, &[("U", 0.0), ("C", 1.0)])? > 0.5),
            "C" => c = Some(cia(v)?),
            "I" => i = Some(cia(v)?),
            "A" => a = Some(cia(v)?),
            _ => {}
        }
    }
    let changed = s?;
    let pr = match (pr?, changed) {
        ("N", _) => 0.85,
        ("L", false) => 0.62,
        ("L", true) => 0.68,
        ("H", false) => 0.27,
        ("H", true) => 0.5,
        _ => return None,
    };
    let iss = 1.0 - (1.0 - c?) * (1.0 - i?) * (1.0 - a?);
    let impact = if changed { 7.52 * (iss - 0.029) - 3.25 * (iss - 0.02f64).powi(15) } else { 6.42 * iss };
    let exploitability = 8.22 * av? * ac? * pr * ui?;
    let score = if impact <= 0.0 {
        0.0
    } else if changed {
        round_up((1.08 * (impact + exploitability)).min(10.0))
    } else {
        round_up((impact + exploitability).min(10.0))
    };
    Some(score as f32)
}

fn pick(v: &str, table: &[(&str, f64)]) -> Option<f64> {
    table.iter().find(|(k, _)| *k == v).map(|(_, w)| *w)
}

fn cia(v: &str) -> Option<f64> {
    pick(v, &[("H", 0.56), ("L", 0.22), ("N", 0.0)])
}

/// CVSS v3.1's `Roundup` (Appendix A): the smallest one-decimal number ≥ `x`, computed on
/// integers so that floating-point noise (`4.000000001`) does not round up.
fn round_up(x: f64) -> f64 {
    let int_input = (x * 100_000.0).round() as i64;
    if int_input % 10_000 == 0 { int_input as f64 / 100_000.0 } else { ((int_input / 10_000) + 1) as f64 / 10.0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_points_of_the_specification() {
        // FIRST's examples (CVSS v3.1 User Guide / NVD): Heartbleed, Shellshock, Log4Shell.
        assert_eq!(base_score_v3("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N"), Some(7.5));
        assert_eq!(base_score_v3("CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"), Some(9.8));
        assert_eq!(base_score_v3("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H"), Some(10.0));
        assert_eq!(base_score_v3("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N"), Some(0.0));
        assert_eq!(base_score_v3("CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H"), Some(7.8));
        assert_eq!(base_score_v3("CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:L/I:L/A:N"), Some(6.4));
    }

    #[test]
    fn not_v3_vectors() {
        assert_eq!(base_score_v3("AV:N/AC:M/Au:N/C:P/I:P/A:N"), None);
        assert_eq!(base_score_v3("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"), None);
        assert_eq!(base_score_v3("CVSS:3.1/AV:N/AC:L"), None);
        assert_eq!(base_score_v3("CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"), None);
        assert_eq!(base_score_v3(""), None);
    }
}
