//! Lenient timestamp parsing: scanners write RFC 3339 with and without fractions or
//! offsets, and sometimes bare dates.

use jiff::Timestamp;
use jiff::civil::Date;

/// Parses RFC 3339 / ISO 8601 date-times, bare dates (midnight UTC) and date-times
/// without an offset (taken as UTC). `None` when it is none of these.
pub fn parse(text: &str) -> Option<Timestamp> {
    let t = text.trim();
    if t.is_empty() {
        return None;
    }
    if let Ok(ts) = t.parse::<Timestamp>() {
        return Some(ts);
    }
    if let Ok(dt) = t.parse::<jiff::civil::DateTime>() {
        return dt.to_zoned(jiff::tz::TimeZone::UTC).ok().map(|z| z.timestamp());
    }
    if let Ok(d) = t.get(..10).unwrap_or(t).parse::<Date>() {
        return d.to_zoned(jiff::tz::TimeZone::UTC).ok().map(|z| z.timestamp());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_scanner_spellings() {
        let a = parse("2021-08-25T12:20:30.000000005Z").unwrap();
        assert_eq!(a.as_second(), 1629894030);
        assert_eq!(parse("2021-08-25T12:20:30+00:00").unwrap().as_second(), 1629894030);
        assert_eq!(parse("2021-08-25T12:20:30").unwrap().as_second(), 1629894030);
        assert_eq!(parse("2021-08-25").unwrap().as_second(), 1629849600);
        assert!(parse("yesterday").is_none());
        assert!(parse("").is_none());
    }
}
