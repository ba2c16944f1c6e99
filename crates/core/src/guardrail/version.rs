//! Package version ordering and ranges (`>=2.0.0, <2.17.1`) for banned-component rules.
//!
//! Ecosystems disagree on version syntax; this ordering handles the common ground of
//! semver, Maven, PyPI, Debian and Alpine versions: numeric segments compare as numbers,
//! alphabetic ones lexically, and a trailing alphabetic segment (`-rc1`, `.beta`) sorts
//! *before* the release it precedes. Epochs (`1:2.3`) compare first.

use std::cmp::Ordering;

/// Compares two version strings.
pub fn compare(a: &str, b: &str) -> Ordering {
    let (ea, ra) = split_epoch(a);
    let (eb, rb) = split_epoch(b);
    ea.cmp(&eb).then_with(|| compare_tokens(&tokens(ra), &tokens(rb)))
}

fn split_epoch(v: &str) -> (u64, &str) {
    let v = v.trim().trim_start_matches(['v', 'V']);
    match v.split_once(':') {
        Some((e, rest)) if e.bytes().all(|b| b.is_ascii_digit()) && !e.is_empty() => (e.parse().unwrap_or(0), rest),
        _ => (0, v),
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Token<'a> {
    Num(u64),
    Alpha(&'a str),
}

fn tokens(v: &str) -> Vec<Token<'_>> {
    let mut out = Vec::new();
    let bytes = v.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let start = i;
        if bytes[i].is_ascii_digit() {
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                i += 1;
            }
            out.push(Token::Num(v[start..i].parse().unwrap_or(u64::MAX)));
        } else if bytes[i].is_ascii_alphabetic() {
            while i < bytes.len() && bytes[i].is_ascii_alphabetic() {
                i += 1;
            }
            out.push(Token::Alpha(&v[start..i]));
        } else {
            i += 1; // separators: . - _ + ~
        }
    }
    out
}

fn compare_tokens(a: &[Token<'_>], b: &[Token<'_>]) -> Ordering {
    for i in 0..a.len().max(b.len()) {
        let ord = match (a.get(i), b.get(i)) {
            (Some(Token::Num(x)), Some(Token::Num(y))) => x.cmp(y),
            (Some(Token::Alpha(x)), Some(Token::Alpha(y))) => x.to_ascii_lowercase().cmp(&y.to_ascii_lowercase()),
            // A number beats a qualifier at the same position (2.0.1 > 2.0.rc1).
            (Some(Token::Num(_)), Some(Token::Alpha(_))) => Ordering::Greater,
            (Some(Token::Alpha(_)), Some(Token::Num(_))) => Ordering::Less,
            // Extra trailing qualifier = pre-release (2.0-rc1 < 2.0); extra number = later (2.0.1 > 2.0).
            (Some(Token::Alpha(x)), None) => post_release(x),
            (None, Some(Token::Alpha(y))) => post_release(y).reverse(),
            (Some(Token::Num(_)), None) => Ordering::Greater,
            (None, Some(Token::Num(_))) => Ordering::Less,
            (None, None) => Ordering::Equal,
        };
        if ord != Ordering::Equal {
            return ord;
        }
    }
    Ordering::Equal
}

/// Qualifiers that mark a release *after* the plain version (Alpine `-r1` is a number
/// token preceded by `r`; Maven `.Final`, `.RELEASE`, `-sp1`, `-ga`).
fn post_release(q: &str) -> Ordering {
    match q.to_ascii_lowercase().as_str() {
        "r" | "p" | "pl" | "post" | "final" | "release" | "ga" | "sp" => Ordering::Greater,
        _ => Ordering::Less,
    }
}

/// A comparison operator in a range.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Op {
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
}

/// A part of a range text that is not a comparison (the part, as written).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a comparison like `<2.17.1` or `>=2.0.0`")]
pub struct RangeError(pub String);

/// A conjunction of comparisons: every one must hold.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Range(Vec<(Op, String)>);

impl Range {
    /// Parses `>=2.0.0, <2.17.1` (also `&&`-separated). An empty text matches every version.
    pub fn parse(text: &str) -> Result<Range, RangeError> {
        let mut out = Vec::new();
        for part in text.split([',']).flat_map(|p| p.split("&&")) {
            let p = part.trim();
            if p.is_empty() {
                continue;
            }
            let (op, rest) = if let Some(r) = p.strip_prefix(">=") {
                (Op::Ge, r)
            } else if let Some(r) = p.strip_prefix("<=") {
                (Op::Le, r)
            } else if let Some(r) = p.strip_prefix("!=") {
                (Op::Ne, r)
            } else if let Some(r) = p.strip_prefix("==") {
                (Op::Eq, r)
            } else if let Some(r) = p.strip_prefix('>') {
                (Op::Gt, r)
            } else if let Some(r) = p.strip_prefix('<') {
                (Op::Lt, r)
            } else if let Some(r) = p.strip_prefix('=') {
                (Op::Eq, r)
            } else {
                (Op::Eq, p)
            };
            let v = rest.trim();
            if v.is_empty() || v.contains(char::is_whitespace) {
                return Err(RangeError(p.to_string()));
            }
            out.push((op, v.to_string()));
        }
        Ok(Range(out))
    }

    /// True when `version` satisfies every comparison (ordered by [`compare`]).
    pub fn contains(&self, version: &str) -> bool {
        self.0.iter().all(|(op, v)| {
            let o = compare(version, v);
            match op {
                Op::Lt => o == Ordering::Less,
                Op::Le => o != Ordering::Greater,
                Op::Gt => o == Ordering::Greater,
                Op::Ge => o != Ordering::Less,
                Op::Eq => o == Ordering::Equal,
                Op::Ne => o != Ordering::Equal,
            }
        })
    }

    /// True for the empty range, which matches every version.
    pub fn is_any(&self) -> bool {
        self.0.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orders_common_ecosystems() {
        use Ordering::*;
        for (a, b, want) in [
            ("2.14.1", "2.17.1", Less),
            ("2.17.10", "2.17.9", Greater),
            ("2.17.1-rc1", "2.17.1", Less),
            ("1.1.22-r3", "1.1.22-r10", Less),
            ("1.1.22-r3", "1.1.22", Greater),
            ("1:1.0", "2.0", Greater),
            ("v1.3.1", "1.3.2", Less),
            ("5.3.18.RELEASE", "5.3.18", Greater),
            ("1.0", "1.0.0", Less),
            ("7.87.0-r1", "7.87.0-r2", Less),
        ] {
            assert_eq!(compare(a, b), want, "{a} vs {b}");
        }
    }

    #[test]
    fn ranges() {
        let r = Range::parse(">=2.0.0, <2.17.1").unwrap();
        assert!(r.contains("2.14.1"));
        assert!(!r.contains("2.17.1"));
        assert!(!r.contains("1.2.17"));
        assert!(Range::parse("").unwrap().contains("anything"));
        assert!(Range::parse("< 2.0 beta").is_err());
        assert!(Range::parse("!=1.0").unwrap().contains("1.1"));
    }
}
