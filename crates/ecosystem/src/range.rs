//! Version ranges of banned-package rules, in Stance's syntax or as a package-URL `vers:`.
//!
//! **Stance syntax** (unchanged from `policy::version`): comma- (or `&&`-) separated
//! comparisons that must *all* hold — `>=1.1.1, <1.1.1k`. Each is `<`, `<=`, `>`, `>=`,
//! `=`/`==`, `!=` followed by a version, or a bare version (`=`). Empty text is every
//! version.
//!
//! **`vers:`** (package-url/vers-spec, `docs/specification/how-to-parse.md`):
//! `vers:<type>/<constraint>|<constraint>…` or `vers:<type>/*`. A constraint is a version
//! with an optional `<`, `<=`, `>`, `>=`, `!=` (none = equality). Constraints form a
//! *union* evaluated by the spec's algorithm ("Checking if a version is contained within a
//! range"): `vers:apk/>=1.1.1|<1.1.1k` is every version from `1.1.1` up to `1.1.1k`.
//! Whitespace, empty constraints, malformed or non-canonical percent-encoding, a version
//! given twice and redundant neighbours (`<1|<2`) are errors, as the spec requires; the
//! constraints may be given in any order (they are sorted by version, which the spec's
//! containment vectors also rely on). The `vers` type must name the package's own scheme.
//!
//! Every bound is parsed in the package's [`Scheme`] when the range is parsed, so a bound
//! that is not a version of that ecosystem is an error naming the bound.
//!
//! A version is compared with each bound by [`Version::try_cmp_to_bound`]: an RPM (or alpm)
//! bound written without a release compares epoch and version only, as rpm does for a
//! dependency range, so `vers:rpm/5.6.0|5.6.1` and `=5.6.0` contain `5.6.0-1.fc40`.

use std::cmp::Ordering;
use std::fmt;

use crate::version::{Scheme, Version, VersionError};

/// A comparison operator.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Comparator {
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `=` (written `=`, `==` or nothing)
    Eq,
    /// `!=`
    Ne,
}

impl Comparator {
    /// The operator as written in `vers:` (`Eq` is the empty string).
    pub fn as_str(self) -> &'static str {
        match self {
            Comparator::Lt => "<",
            Comparator::Le => "<=",
            Comparator::Gt => ">",
            Comparator::Ge => ">=",
            Comparator::Eq => "=",
            Comparator::Ne => "!=",
        }
    }

    fn holds(self, o: Ordering) -> bool {
        match self {
            Comparator::Lt => o == Ordering::Less,
            Comparator::Le => o != Ordering::Greater,
            Comparator::Gt => o == Ordering::Greater,
            Comparator::Ge => o != Ordering::Less,
            Comparator::Eq => o == Ordering::Equal,
            Comparator::Ne => o != Ordering::Equal,
        }
    }
}

/// One comparison: `<1.1.1k`.
#[derive(Clone, Debug)]
pub struct Constraint {
    /// The operator.
    pub comparator: Comparator,
    /// The bound, parsed in the range's scheme.
    pub version: Version,
}

#[derive(Clone, Debug)]
enum Form {
    /// Every version (empty Stance text, `vers:<type>/*`).
    Any,
    /// Stance syntax: every constraint holds.
    All(Vec<Constraint>),
    /// `vers:`: sorted by version, evaluated by the vers algorithm.
    Vers(Vec<Constraint>),
}

/// A parsed range, bound to the [`Scheme`] of the package it applies to.
#[derive(Clone, Debug)]
pub struct VersionRange {
    scheme: Scheme,
    text: String,
    form: Form,
}

/// Why a range could not be parsed or evaluated. Messages say what to write instead; the
/// caller prefixes the field (`spec.rules[2].components.banned[0].versions: …`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RangeError {
    /// A part is not a comparison.
    #[error("`{part}` is not a comparison like `<2.17.1` or `>=2.0.0`")]
    Syntax {
        /// The offending part, trimmed.
        part: String,
    },
    /// A bound is not a version of the package's ecosystem.
    #[error("bound {position} `{part}`: {source}")]
    Bound {
        /// 1-based position of the bound in the text.
        position: usize,
        /// The constraint as written.
        part: String,
        /// Why the version does not parse.
        source: VersionError,
    },
    /// A `vers:` text breaks the vers specification.
    #[error("`{text}` is not a valid vers range: {reason}")]
    Vers {
        /// The whole text.
        text: String,
        /// What is wrong.
        reason: String,
    },
    /// The `vers:` type is another ecosystem's.
    #[error("the range is for `{vers_type}` versions but the package's versions are {scheme} versions")]
    VersTypeMismatch {
        /// The type written after `vers:`.
        vers_type: String,
        /// The package's scheme.
        scheme: Scheme,
    },
    /// The version tested against the range is not a version of its ecosystem.
    #[error(transparent)]
    Version(#[from] VersionError),
}

impl VersionRange {
    /// Parses `text` for packages of `scheme`: `vers:…` when it starts with `vers:`, else
    /// Stance syntax.
    pub fn parse(scheme: Scheme, text: &str) -> Result<VersionRange, RangeError> {
        let trimmed = text.trim();
        if trimmed.get(..5).is_some_and(|p| p.eq_ignore_ascii_case("vers:")) {
            let range = VersionRange::parse_vers(trimmed)?;
            if range.scheme != scheme {
                let vers_type = trimmed[5..].split('/').next().unwrap_or("").to_string();
                return Err(RangeError::VersTypeMismatch { vers_type, scheme });
            }
            return Ok(range);
        }
        let mut constraints = Vec::new();
        for part in trimmed.split(',').flat_map(|p| p.split("&&")).map(str::trim).filter(|p| !p.is_empty()) {
            let (comparator, rest) = split_comparator(part, true);
            let v = rest.trim();
            if v.is_empty() || v.contains(char::is_whitespace) {
                return Err(RangeError::Syntax { part: part.to_string() });
            }
            let position = constraints.len() + 1;
            let version =
                scheme.parse(v).map_err(|source| RangeError::Bound { position, part: part.to_string(), source })?;
            constraints.push(Constraint { comparator, version });
        }
        let form = if constraints.is_empty() { Form::Any } else { Form::All(constraints) };
        Ok(VersionRange { scheme, text: trimmed.to_string(), form })
    }

    /// Parses a `vers:` range; its scheme comes from the vers type
    /// ([`Scheme::for_vers_type`]).
    pub fn parse_vers(text: &str) -> Result<VersionRange, RangeError> {
        let err = |reason: &str| RangeError::Vers { text: text.to_string(), reason: reason.to_string() };
        if text.contains(|c: char| c.is_ascii_whitespace()) {
            return Err(err("whitespace is not permitted"));
        }
        let (uri, spec) = text.split_once(':').ok_or_else(|| err("it does not start with `vers:`"))?;
        if uri != "vers" {
            return Err(err("the scheme must be `vers` in lower case"));
        }
        let (ty, constraints) = spec.split_once('/').ok_or_else(|| err("`/` must follow the type"))?;
        if ty.is_empty() || ty != ty.to_ascii_lowercase() {
            return Err(err("the type must be given in lower case"));
        }
        let scheme = Scheme::for_vers_type(ty);
        if constraints.is_empty() {
            return Err(err("there are no constraints (write `*` for every version)"));
        }
        if constraints == "*" {
            return Ok(VersionRange { scheme, text: text.to_string(), form: Form::Any });
        }
        if constraints.starts_with('|') || constraints.ends_with('|') {
            return Err(err("a leading or trailing `|` is not permitted"));
        }
        let mut list = Vec::new();
        for (i, part) in constraints.split('|').enumerate() {
            if part.is_empty() {
                return Err(err("consecutive `|` are not permitted"));
            }
            let (comparator, raw) = split_comparator(part, false);
            if raw.is_empty() {
                return Err(err("a constraint has no version"));
            }
            if raw == "*" || part.contains('*') {
                return Err(err("`*` must be the only constraint"));
            }
            let decoded = percent_decode(raw).map_err(|r| err(&r))?;
            let version = scheme.parse(&decoded).map_err(|source| RangeError::Bound {
                position: i + 1,
                part: part.to_string(),
                source,
            })?;
            list.push(Constraint { comparator, version });
        }
        let mut ordered: Vec<(Constraint, usize)> = list.into_iter().enumerate().map(|(i, c)| (c, i)).collect();
        let mut failure = None;
        ordered.sort_by(|(a, _), (b, _)| {
            a.version.try_cmp(&b.version).unwrap_or_else(|e| {
                failure = Some(e);
                Ordering::Equal
            })
        });
        if let Some(e) = failure {
            return Err(e.into());
        }
        let list: Vec<Constraint> = ordered.into_iter().map(|(c, _)| c).collect();
        for w in list.windows(2) {
            if w[0].version.try_cmp(&w[1].version)? == Ordering::Equal {
                return Err(err(&format!("the version {} appears in more than one constraint", w[1].version)));
            }
        }
        let bounds: Vec<Comparator> = list.iter().map(|c| c.comparator).filter(|c| *c != Comparator::Ne).collect();
        for w in bounds.windows(2) {
            use Comparator::*;
            let ok = match w[0] {
                Eq | Lt | Le => matches!(w[1], Eq | Gt | Ge),
                Gt | Ge => matches!(w[1], Lt | Le),
                Ne => true,
            };
            if !ok {
                return Err(err(&format!(
                    "`{}` followed by `{}` is redundant: simplify the constraints",
                    w[0].as_str(),
                    w[1].as_str()
                )));
            }
        }
        Ok(VersionRange { scheme, text: text.to_string(), form: Form::Vers(list) })
    }

    /// The scheme the bounds were parsed in.
    pub fn scheme(&self) -> Scheme {
        self.scheme
    }

    /// The range as written (trimmed).
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// True when the range is every version.
    pub fn is_any(&self) -> bool {
        matches!(self.form, Form::Any)
    }

    /// The constraints (empty for every version).
    pub fn constraints(&self) -> &[Constraint] {
        match &self.form {
            Form::Any => &[],
            Form::All(c) | Form::Vers(c) => c,
        }
    }

    /// Whether `version` (text in this range's scheme) is inside. An error when it is not
    /// a version of the scheme — the caller decides what an unreadable version means.
    pub fn contains(&self, version: &str) -> Result<bool, RangeError> {
        if self.is_any() {
            return Ok(true);
        }
        self.contains_version(&self.scheme.parse(version)?)
    }

    /// [`VersionRange::contains`] for a parsed version (an error if of another scheme).
    pub fn contains_version(&self, v: &Version) -> Result<bool, RangeError> {
        match &self.form {
            Form::Any => Ok(true),
            Form::All(cs) => {
                for c in cs {
                    if !c.comparator.holds(v.try_cmp_to_bound(&c.version)?) {
                        return Ok(false);
                    }
                }
                Ok(true)
            }
            Form::Vers(cs) => vers_contains(cs, v),
        }
    }
}

/// Two ranges are equal when they are the same text for the same scheme: the text
/// determines the parsed constraints.
impl PartialEq for VersionRange {
    fn eq(&self, other: &VersionRange) -> bool {
        self.scheme == other.scheme && self.text == other.text
    }
}

impl fmt::Display for VersionRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// The vers-spec containment algorithm over constraints sorted by version.
fn vers_contains(cs: &[Constraint], v: &Version) -> Result<bool, RangeError> {
    use Comparator::*;
    let mut orders = Vec::with_capacity(cs.len());
    for c in cs {
        let o = v.try_cmp_to_bound(&c.version)?;
        if o == Ordering::Equal {
            match c.comparator {
                Eq | Le | Ge => return Ok(true),
                Ne => return Ok(false),
                Lt | Gt => {}
            }
        }
        orders.push(o);
    }
    let bounds: Vec<(Comparator, Ordering)> = cs
        .iter()
        .zip(orders)
        .filter(|(c, _)| !matches!(c.comparator, Eq | Ne))
        .map(|(c, o)| (c.comparator, o))
        .collect();
    if let [(only, o)] = bounds.as_slice() {
        // A single bound: the pairwise walk below needs two.
        return Ok(match only {
            Lt | Le => *o == Ordering::Less,
            Gt | Ge => *o == Ordering::Greater,
            Eq | Ne => false,
        });
    }
    for (i, w) in bounds.windows(2).enumerate() {
        let ((cur, cur_o), (next, next_o)) = (w[0], w[1]);
        if i == 0 && matches!(cur, Lt | Le) && cur_o == Ordering::Less {
            return Ok(true);
        }
        if i + 2 == bounds.len() && matches!(next, Gt | Ge) && next_o == Ordering::Greater {
            return Ok(true);
        }
        if matches!(cur, Gt | Ge) && matches!(next, Lt | Le) && cur_o == Ordering::Greater && next_o == Ordering::Less {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Splits the leading operator. Stance syntax also accepts `==` and `=`.
fn split_comparator(part: &str, stance: bool) -> (Comparator, &str) {
    let ops: &[(&str, Comparator)] = &[
        (">=", Comparator::Ge),
        ("<=", Comparator::Le),
        ("!=", Comparator::Ne),
        ("==", Comparator::Eq),
        (">", Comparator::Gt),
        ("<", Comparator::Lt),
        ("=", Comparator::Eq),
    ];
    for (op, c) in ops {
        if (stance || !op.starts_with('=')) && part.starts_with(op) {
            return (*c, &part[op.len()..]);
        }
    }
    (Comparator::Eq, part)
}

/// Percent-decodes a vers version once, refusing malformed and non-canonical encodings
/// (lower-case hex digits, or encoded characters that need no encoding).
fn percent_decode(s: &str) -> Result<String, String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'%' {
            out.push(b[i]);
            i += 1;
            continue;
        }
        let hex = b.get(i + 1..i + 3).filter(|h| h.iter().all(u8::is_ascii_hexdigit));
        let Some(h) = hex else {
            return Err("invalid percent-encoding in version".into());
        };
        if h.iter().any(u8::is_ascii_lowercase) {
            return Err("percent-encoding in version is not canonical (use upper-case hex digits)".into());
        }
        let byte = u8::from_str_radix(std::str::from_utf8(h).unwrap_or("zz"), 16)
            .map_err(|_| "invalid percent-encoding in version".to_string())?;
        if byte.is_ascii_alphanumeric() || b".-_~:".contains(&byte) {
            return Err(format!("percent-encoding of {:?} is not canonical: write it unencoded", byte as char));
        }
        out.push(byte);
        i += 3;
    }
    String::from_utf8(out).map_err(|_| "the percent-decoded version is not UTF-8".into())
}
