//! Alpine (apk-tools) versions: `digit{.digit}...{letter}{_suffix{#}}...{~hash}{-r#}`.
//!
//! A port of apk-tools' `apk_version_validate` and `apk_version_compare`
//! (alpinelinux/apk-tools `src/version.c`): the version is read as tokens — an initial
//! number, `.`-numbers, one letter (`1.1.1j`), `_suffix[N]` where the suffix is one of
//! `alpha beta pre rc` (before the release) or `cvs svn git hg p` (after it), an optional
//! `~commit-hash`, and `-rN` (the package release). Tokens compare pairwise: numbers as
//! numbers (a `.`-number with a leading zero compares as a string, as Gentoo does),
//! letters and suffixes by their rank. When one version runs out first, the other is
//! greater unless its next token is a pre-release suffix. So
//! `1.1.1 < 1.1.1-r0 < 1.1.1a < … < 1.1.1j-r0 < 1.1.1k` and `1.0_rc1 < 1.0 < 1.0_p1`.

use std::cmp::Ordering;

use super::cmp_digits;

/// Token kinds in the order apk-tools declares them (the order matters in comparisons).
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    InitialDigit,
    Digit,
    Letter,
    Suffix,
    SuffixNo,
    CommitHash,
    RevisionNo,
    End,
}

/// Suffix ranks: `alpha < beta < pre < rc < (none) < cvs < svn < git < hg < p`.
const SUFFIXES: [&str; 9] = ["alpha", "beta", "pre", "rc", "cvs", "svn", "git", "hg", "p"];
/// Rank of "no suffix"; suffixes ranked below it are pre-releases.
const SUFFIX_NONE: usize = 4;

fn suffix_rank(s: &str) -> Option<usize> {
    SUFFIXES.iter().position(|x| *x == s).map(|i| if i >= SUFFIX_NONE { i + 1 } else { i })
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Token {
    kind: Kind,
    /// The token's text (digits, the letter, the suffix name, the hash).
    value: String,
    suffix: usize,
}

/// A validated apk version, kept as its token list.
#[derive(Clone, Debug)]
pub struct ApkVersion {
    tokens: Vec<Token>,
}

impl ApkVersion {
    /// Parses and validates a trimmed version; the error names the offending position.
    pub fn parse(text: &str) -> Result<ApkVersion, String> {
        let b = text.as_bytes();
        let digits = |i: usize| b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
        let n = digits(0);
        if n == 0 {
            return Err("it does not start with a digit".into());
        }
        let mut tokens = vec![Token { kind: Kind::InitialDigit, value: text[..n].to_string(), suffix: 0 }];
        let mut i = n;
        let mut last = Kind::InitialDigit;
        let invalid = |i: usize| Err(format!("unexpected {:?} at byte {i}", &text[i..]));
        while i < b.len() {
            let start = i;
            let (kind, value, suffix) = match b[i] {
                b'a'..=b'z' => {
                    if last > Kind::Digit {
                        return invalid(start);
                    }
                    i += 1;
                    (Kind::Letter, text[start..i].to_string(), 0)
                }
                b'.' | b'0'..=b'9' => {
                    if b[i] == b'.' {
                        if last > Kind::Digit {
                            return invalid(start);
                        }
                        i += 1;
                    }
                    let kind = match last {
                        Kind::InitialDigit | Kind::Digit => Kind::Digit,
                        Kind::Suffix => Kind::SuffixNo,
                        _ => return invalid(start),
                    };
                    let n = digits(i);
                    if n == 0 {
                        return invalid(start);
                    }
                    i += n;
                    (kind, text[i - n..i].to_string(), 0)
                }
                b'_' => {
                    if last > Kind::SuffixNo {
                        return invalid(start);
                    }
                    i += 1;
                    let n = b[i..].iter().take_while(|c| c.is_ascii_lowercase()).count();
                    let name = &text[i..i + n];
                    i += n;
                    match suffix_rank(name) {
                        Some(r) => (Kind::Suffix, name.to_string(), r),
                        None => {
                            return Err(format!(
                                "unknown suffix _{name} (apk knows _alpha _beta _pre _rc _cvs _svn _git _hg _p)"
                            ));
                        }
                    }
                }
                b'~' => {
                    if last >= Kind::CommitHash {
                        return invalid(start);
                    }
                    i += 1;
                    let n = b[i..].iter().take_while(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(c)).count();
                    if n == 0 {
                        return invalid(start);
                    }
                    i += n;
                    (Kind::CommitHash, text[i - n..i].to_string(), 0)
                }
                b'-' => {
                    if last >= Kind::RevisionNo || !text[i..].starts_with("-r") {
                        return invalid(start);
                    }
                    i += 2;
                    let n = digits(i);
                    if n == 0 {
                        return Err("-r must be followed by the release number".into());
                    }
                    i += n;
                    (Kind::RevisionNo, text[i - n..i].to_string(), 0)
                }
                _ => return invalid(start),
            };
            last = kind;
            tokens.push(Token { kind, value, suffix });
        }
        Ok(ApkVersion { tokens })
    }
}

/// apk-tools' `token_cmp` for two tokens of the same kind.
fn token_cmp(a: &Token, b: &Token) -> Ordering {
    match a.kind {
        Kind::Digit if a.value.starts_with('0') || b.value.starts_with('0') => {
            a.value.as_bytes().cmp(b.value.as_bytes())
        }
        Kind::InitialDigit | Kind::Digit | Kind::SuffixNo | Kind::RevisionNo => cmp_digits(&a.value, &b.value),
        Kind::Letter => a.value.cmp(&b.value),
        Kind::Suffix => a.suffix.cmp(&b.suffix),
        Kind::CommitHash | Kind::End => a.value.as_bytes().cmp(b.value.as_bytes()),
    }
}

impl PartialEq for ApkVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for ApkVersion {}
impl PartialOrd for ApkVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for ApkVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        let end = Token { kind: Kind::End, value: String::new(), suffix: 0 };
        let mut i = 0;
        loop {
            let ta = self.tokens.get(i).unwrap_or(&end);
            let tb = other.tokens.get(i).unwrap_or(&end);
            if ta.kind != tb.kind || ta.kind == Kind::End {
                // The shorter version is older, unless the longer one goes on with a
                // pre-release suffix.
                if ta.kind == tb.kind {
                    return Ordering::Equal;
                }
                if ta.kind == Kind::Suffix && ta.suffix < SUFFIX_NONE {
                    return Ordering::Less;
                }
                if tb.kind == Kind::Suffix && tb.suffix < SUFFIX_NONE {
                    return Ordering::Greater;
                }
                return tb.kind.cmp(&ta.kind);
            }
            let o = token_cmp(ta, tb);
            if o != Ordering::Equal {
                return o;
            }
            i += 1;
        }
    }
}
