//! The fallback order for package types with no known versioning scheme (`generic`,
//! `github`, `docker`, …) — Stance's original comparison, kept only for those.
//!
//! An optional leading `v` and numeric epoch (`1:2.3`) come first; the rest is split into
//! numeric and alphabetic runs (any other character separates). Numbers compare as
//! numbers, letters case-insensitively, a number beats a qualifier at the same position
//! (`2.0.1 > 2.0.rc1`), an extra trailing number is later (`2.0.1 > 2.0`) and an extra
//! trailing qualifier is earlier (`2.0-rc1 < 2.0`) unless it marks a post-release
//! (`r`, `p`, `pl`, `post`, `final`, `release`, `ga`, `sp`).

use std::cmp::Ordering;

use super::cmp_digits;

#[derive(Clone, Debug, PartialEq, Eq)]
enum Token {
    Num(String),
    Alpha(String),
}

/// A version read by the fallback rule (every string is one).
#[derive(Clone, Debug)]
pub struct GenericVersion {
    epoch: String,
    tokens: Vec<Token>,
}

impl GenericVersion {
    /// Splits a trimmed version into its epoch and tokens.
    pub fn parse(text: &str) -> GenericVersion {
        let v = text.trim_start_matches(['v', 'V']);
        let (epoch, rest) = match v.split_once(':') {
            Some((e, rest)) if !e.is_empty() && e.bytes().all(|b| b.is_ascii_digit()) => (e, rest),
            _ => ("0", v),
        };
        let mut tokens = Vec::new();
        let mut chars = rest.char_indices().peekable();
        while let Some((start, c)) = chars.next() {
            let same = |d: char| if c.is_ascii_digit() { d.is_ascii_digit() } else { d.is_ascii_alphabetic() };
            if !c.is_ascii_alphanumeric() {
                continue;
            }
            let mut end = start + c.len_utf8();
            while let Some(&(i, d)) = chars.peek() {
                if !same(d) {
                    break;
                }
                end = i + d.len_utf8();
                chars.next();
            }
            let run = &rest[start..end];
            tokens.push(if c.is_ascii_digit() {
                Token::Num(run.into())
            } else {
                Token::Alpha(run.to_ascii_lowercase())
            });
        }
        GenericVersion { epoch: epoch.to_string(), tokens }
    }
}

/// Qualifiers that mark a release *after* the plain version.
fn post_release(q: &str) -> Ordering {
    match q {
        "r" | "p" | "pl" | "post" | "final" | "release" | "ga" | "sp" => Ordering::Greater,
        _ => Ordering::Less,
    }
}

impl PartialEq for GenericVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for GenericVersion {}
impl PartialOrd for GenericVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for GenericVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        let o = cmp_digits(&self.epoch, &other.epoch);
        if o != Ordering::Equal {
            return o;
        }
        let (a, b) = (&self.tokens, &other.tokens);
        for i in 0..a.len().max(b.len()) {
            let ord = match (a.get(i), b.get(i)) {
                (Some(Token::Num(x)), Some(Token::Num(y))) => cmp_digits(x, y),
                (Some(Token::Alpha(x)), Some(Token::Alpha(y))) => x.cmp(y),
                (Some(Token::Num(_)), Some(Token::Alpha(_))) => Ordering::Greater,
                (Some(Token::Alpha(_)), Some(Token::Num(_))) => Ordering::Less,
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
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmp(a: &str, b: &str) -> Ordering {
        GenericVersion::parse(a).cmp(&GenericVersion::parse(b))
    }

    /// Stance's original cases for the generic order, unchanged.
    #[test]
    fn keeps_the_original_generic_order() {
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
            ("99999999999999999999999", "99999999999999999999998", Greater),
        ] {
            assert_eq!(cmp(a, b), want, "{a} vs {b}");
        }
    }
}
