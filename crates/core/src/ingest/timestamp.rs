//! The one home of timestamp parsing: RFC 3339 date-times, strictly.
//!
//! Every time Stance reads from its users — a RiskException's `spec.expires`, `--now`, the
//! time a scanner report says it was made, a vulnerability's publication date — is an
//! RFC 3339 `date-time` (RFC 3339 §5.6: `2026-11-27T12:00:00Z`, with optional fractional
//! seconds, and `Z` or a numeric offset such as `+02:00`; `T` and `Z` in either case), the
//! format Kubernetes writes and validates as `format: date-time`. Anything else — a bare date,
//! a time without an offset, a week date — is refused, never read as some other instant
//! (midnight UTC, local time). Callers name the field in their error or warning.

use jiff::Timestamp;

/// Why a text is not an RFC 3339 date-time.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{text:?} is not an RFC 3339 time such as 2026-01-31T00:00:00Z ({problem})")]
pub struct TimeError {
    /// The text as given (cut to 64 characters).
    pub text: String,
    pub problem: &'static str,
}

/// Parses an RFC 3339 `date-time` (see the module documentation).
pub fn parse_rfc3339(text: &str) -> Result<Timestamp, TimeError> {
    let fail = |problem| Err(TimeError { text: text.chars().take(64).collect(), problem });
    let b = text.as_bytes();
    let digits = |range: std::ops::Range<usize>| b.get(range).is_some_and(|d| d.iter().all(u8::is_ascii_digit));
    if !(digits(0..4) && b.get(4) == Some(&b'-') && digits(5..7) && b.get(7) == Some(&b'-') && digits(8..10)) {
        return fail("expected a date YYYY-MM-DD first");
    }
    if b.len() == 10 {
        return fail("a date without a time and an offset");
    }
    if !matches!(b.get(10), Some(b'T' | b't')) {
        return fail("expected T between the date and the time");
    }
    if !(digits(11..13) && b.get(13) == Some(&b':') && digits(14..16) && b.get(16) == Some(&b':') && digits(17..19)) {
        return fail("expected a time hh:mm:ss after T");
    }
    let mut i = 19;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == start {
            return fail("expected digits after the decimal point");
        }
    }
    let offset_ok = match b.get(i) {
        Some(b'Z' | b'z') => b.len() == i + 1,
        Some(b'+' | b'-') => b.len() == i + 6 && digits(i + 1..i + 3) && b[i + 3] == b':' && digits(i + 4..i + 6),
        None => return fail("no UTC offset: add Z or +hh:mm"),
        _ => false,
    };
    if !offset_ok {
        return fail("expected Z or an offset +hh:mm at the end");
    }
    // The shape is RFC 3339's; jiff checks the ranges (month 13, February 30, hour 24).
    text.parse::<Timestamp>().or_else(|_| fail("out of range: no such date or time"))
}

/// [`parse_rfc3339`] for optional times read from documents: `None` for an empty text or one
/// that is not RFC 3339 (the time is then unknown, never another instant).
pub fn parse(text: &str) -> Option<Timestamp> {
    let t = text.trim();
    if t.is_empty() { None } else { parse_rfc3339(t).ok() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_date_times_are_read() {
        for (text, second) in [
            ("2021-08-25T12:20:30Z", 1629894030),
            ("2021-08-25T12:20:30.000000005Z", 1629894030),
            ("2021-08-25t12:20:30z", 1629894030),
            ("2021-08-25T14:20:30+02:00", 1629894030),
            ("2021-08-25T07:20:30-05:00", 1629894030),
        ] {
            assert_eq!(parse_rfc3339(text).map(|t| t.as_second()), Ok(second), "{text}");
        }
        let nanos = parse_rfc3339("2021-08-25T12:20:30.000000005Z").unwrap();
        assert_eq!(nanos.subsec_nanosecond(), 5);
    }

    #[test]
    fn other_spellings_are_refused_never_read_as_another_instant() {
        for (text, problem) in [
            ("2026-11-27", "a date without a time and an offset"),
            ("2021-08-25T12:20:30", "no UTC offset"),
            ("2021-08-25 12:20:30Z", "expected T"),
            ("2021-08-25T12:20Z", "expected a time hh:mm:ss"),
            ("2021-08-25T12:20:30.Z", "expected digits after the decimal point"),
            ("2021-08-25T12:20:30+0200", "expected Z or an offset"),
            ("2021-08-25T12:20:30Z[Europe/Paris]", "expected Z or an offset"),
            ("2021-W34-3T12:20:30Z", "expected a date"),
            ("20210825T122030Z", "expected a date"),
            ("2021-02-30T12:20:30Z", "out of range"),
            ("2021-08-25T24:20:30Z", "out of range"),
            ("yesterday", "expected a date"),
            ("", "expected a date"),
        ] {
            let e = parse_rfc3339(text).unwrap_err();
            assert!(e.problem.starts_with(problem), "{text}: {e}");
            assert!(e.to_string().contains("is not an RFC 3339 time"), "{e}");
        }
        assert_eq!(parse("2026-11-27"), None);
        assert_eq!(parse("  "), None);
        assert!(parse(" 2026-11-27T00:00:00Z ").is_some());
    }
}
