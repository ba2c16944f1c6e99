//! Debian package versions: `[epoch:]upstream_version[-debian_revision]`.
//!
//! Parsing follows dpkg's `parseversion` (`lib/dpkg/parsehelp.c`) and Debian Policy §5.6.12:
//! the epoch is the decimal number before the first `:`, the revision is after the last
//! `-`; the upstream version must start with a digit and use only `[A-Za-z0-9.+~-:]`
//! (`-` only with a revision, `:` only with an epoch), the revision only `[A-Za-z0-9.+~]`.
//!
//! Comparison ports dpkg's `verrevcmp` (`lib/dpkg/version.c`): alternating non-digit and
//! digit runs; non-digits compare by `order()` — `~` before the end of the string, the end
//! before letters, letters before other characters — and digit runs compare as numbers.
//! Epochs compare as numbers first, then upstream, then revision.

use std::cmp::Ordering;

use super::cmp_digits;

/// A parsed Debian version.
#[derive(Clone, Debug)]
pub struct DebVersion {
    epoch: u32,
    upstream: String,
    revision: String,
}

impl DebVersion {
    /// Parses a trimmed version; the error says which part is wrong.
    pub fn parse(text: &str) -> Result<DebVersion, String> {
        if text.chars().any(char::is_whitespace) {
            return Err("it contains whitespace".into());
        }
        let (epoch, rest) = match text.split_once(':') {
            Some((e, r)) => {
                if e.is_empty() {
                    return Err("the epoch before ':' is empty".into());
                }
                if !e.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(format!("the epoch {e:?} is not a number"));
                }
                // dpkg rejects epochs above INT_MAX.
                let n: u32 = e.parse().ok().filter(|n| *n <= i32::MAX as u32).ok_or("the epoch is too big")?;
                (n, r)
            }
            None => (0, text),
        };
        let (upstream, revision) = match rest.rsplit_once('-') {
            Some((u, r)) => {
                if r.is_empty() {
                    return Err("the revision after the last '-' is empty".into());
                }
                (u, r)
            }
            None => (rest, ""),
        };
        if upstream.is_empty() {
            return Err("the upstream version is empty".into());
        }
        if !upstream.starts_with(|c: char| c.is_ascii_digit()) {
            return Err(format!("the upstream version {upstream:?} does not start with a digit"));
        }
        if let Some(c) = upstream.chars().find(|&c| !(c.is_ascii_alphanumeric() || ".-+~:".contains(c))) {
            return Err(format!("the upstream version contains {c:?} (allowed: A-Z a-z 0-9 . + ~ - :)"));
        }
        if let Some(c) = revision.chars().find(|&c| !(c.is_ascii_alphanumeric() || ".+~".contains(c))) {
            return Err(format!("the revision contains {c:?} (allowed: A-Z a-z 0-9 . + ~)"));
        }
        Ok(DebVersion { epoch, upstream: upstream.to_string(), revision: revision.to_string() })
    }
}

/// dpkg's `order()`: the weight of a non-digit character (`None` = end of string).
fn order(c: Option<u8>) -> i32 {
    match c {
        None => 0,
        Some(c) if c.is_ascii_digit() => 0,
        Some(c) if c.is_ascii_alphabetic() => i32::from(c),
        Some(b'~') => -1,
        Some(c) => i32::from(c) + 256,
    }
}

/// dpkg's `verrevcmp`.
pub fn verrevcmp(a: &str, b: &str) -> Ordering {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        while (i < a.len() && !a[i].is_ascii_digit()) || (j < b.len() && !b[j].is_ascii_digit()) {
            let (ac, bc) = (order(a.get(i).copied()), order(b.get(j).copied()));
            if ac != bc {
                return ac.cmp(&bc);
            }
            i += 1;
            j += 1;
        }
        let si = i;
        while i < a.len() && a[i].is_ascii_digit() {
            i += 1;
        }
        let sj = j;
        while j < b.len() && b[j].is_ascii_digit() {
            j += 1;
        }
        // Both runs are ASCII digits, so slicing is on char boundaries.
        let o = cmp_digits(
            std::str::from_utf8(&a[si.min(a.len())..i.min(a.len())]).unwrap_or(""),
            std::str::from_utf8(&b[sj.min(b.len())..j.min(b.len())]).unwrap_or(""),
        );
        if o != Ordering::Equal {
            return o;
        }
    }
    Ordering::Equal
}

impl PartialEq for DebVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for DebVersion {}
impl PartialOrd for DebVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for DebVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        self.epoch
            .cmp(&other.epoch)
            .then_with(|| verrevcmp(&self.upstream, &other.upstream))
            .then_with(|| verrevcmp(&self.revision, &other.revision))
    }
}
