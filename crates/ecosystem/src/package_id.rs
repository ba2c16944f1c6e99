//! One identity for a package, built the same way from a package URL or from an SBOM's
//! (type, group, name): the only place that decides "same package".
//!
//! A [`PackageId`] is a purl's type, namespace and name, normalised:
//!
//! * **Syntax** is the purl specification's "How to parse a purl string" (package-url/
//!   purl-spec `PURL-SPECIFICATION.rst`): each path segment is percent-decoded once
//!   (`%40babel` = `@babel`); version, qualifiers and subpath are not part of the identity
//!   ([`Purl`] keeps them). The parser is this module's, not the `packageurl` crate's:
//!   `packageurl` 0.4 applies older per-type case rules (it lower-cases npm names and Go
//!   namespaces, which the current type definitions declare case-sensitive, and leaves
//!   all-upper-case names alone), which would merge distinct packages such as npm's
//!   `JSONStream` and `jsonstream`.
//! * **A decoded `/` inside the name** (`pkg:npm/%40babel%2Ftraverse`, as several SBOM
//!   producers write scoped packages) splits it: the part before the last `/` joins the
//!   namespace. No ecosystem has `/` in a package name.
//! * **A literal `@` that starts a path segment** (`pkg:npm/@babel/traverse`, as people type
//!   it in policies) is read as `%40`: a version separator cannot start a segment (the name
//!   would be empty), so this is unambiguous. An `@` elsewhere still starts the version.
//! * **Case**, per the type definitions of purl-spec (`types/*-definition.json`,
//!   `case_sensitive: false`): the namespace is lower-cased for alpm, apk, bitbucket, brew,
//!   composer, deb, github, hex, luarocks, qpkg, rpm, vscode-extension, yocto; the name for
//!   alpm, apk, bitbucket, bitnami, brew, chrome-extension, composer, deb, github, hex,
//!   luarocks, oci, otp, pub, pypi, vscode-extension. Beyond the spec, the name is also
//!   folded where the registry itself treats names case-insensitively, so two spellings
//!   can never be two packages: nuget (nuget.org package ids), cargo (crates.io, which
//!   also treats `-` and `_` as the same).
//! * **PyPI** names are normalised as PEP 503 says (lower case, runs of `-`, `_`, `.` become
//!   `-`): `Django_Rest.Framework` = `django-rest-framework`.
//! * **npm** scopes always start with `@`: a namespace given without it (`babel` from an
//!   SBOM group) gets it.
//!
//! Everything else is kept as written (maven, golang, npm names, … are case-sensitive).
//!
//! Lenient on purpose, because it does not change which package is named: an upper-case
//! type or qualifier key is lower-cased, and the type-specific validity rules of purl-spec
//! (a namespace required or prohibited, the shape of chrome-extension ids, julia's `uuid`
//! qualifier, cpan module names) are not enforced — real SBOMs break some of them
//! (`pkg:golang/stdlib` has no namespace).

use std::borrow::Cow;
use std::fmt;

use crate::version::Scheme;

/// A package's identity: purl type, namespace and name, normalised (see the module docs).
/// Equality is "same package".
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PackageId {
    ty: String,
    namespace: Option<String>,
    name: String,
}

/// A parsed package URL: the identity plus what is not part of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Purl {
    /// The package.
    pub id: PackageId,
    /// The version, percent-decoded, as written.
    pub version: Option<String>,
    /// Qualifiers (`arch=x86_64`), keys lower-cased, values decoded.
    pub qualifiers: Vec<(String, String)>,
    /// The subpath, decoded.
    pub subpath: Option<String>,
}

/// Why a package reference could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PurlError {
    /// Not a package URL.
    #[error(
        "{text:?} is not a package URL ({reason}); write pkg:<type>/<namespace>/<name>, e.g. pkg:npm/%40babel/traverse"
    )]
    Syntax {
        /// The text as given.
        text: String,
        /// The parser's reason.
        reason: String,
    },
    /// The version and the `epoch` qualifier cannot be read as one version.
    #[error("cannot tell the epoch of version {version:?}: {reason}")]
    Epoch {
        /// The version as given.
        version: String,
        /// What contradicts.
        reason: String,
    },
    /// A part is empty or invalid.
    #[error("invalid package {part}: {reason}")]
    Part {
        /// `type`, `namespace` or `name`.
        part: &'static str,
        /// What is wrong.
        reason: String,
    },
}

const NAMESPACE_CASE_INSENSITIVE: [&str; 13] = [
    "alpm",
    "apk",
    "bitbucket",
    "brew",
    "composer",
    "deb",
    "github",
    "hex",
    "luarocks",
    "qpkg",
    "rpm",
    "vscode-extension",
    "yocto",
];
const NAME_CASE_INSENSITIVE: [&str; 18] = [
    "alpm",
    "apk",
    "bitbucket",
    "bitnami",
    "brew",
    "chrome-extension",
    "composer",
    "deb",
    "github",
    "hex",
    "luarocks",
    "oci",
    "otp",
    "pub",
    "pypi",
    "vscode-extension",
    // Registry rules beyond the purl spec (see the module docs).
    "nuget",
    "cargo",
];

impl PackageId {
    /// The identity of a package URL (version, qualifiers and subpath ignored).
    pub fn from_purl(purl: &str) -> Result<PackageId, PurlError> {
        Purl::parse(purl).map(|p| p.id)
    }

    /// The identity of a package given as parts, as SBOMs list them: type (`npm`, `maven`,
    /// …), namespace or group (`@babel`, `org.apache.logging.log4j`; `None` or empty when
    /// there is none) and name. Parts are taken decoded (no percent-decoding).
    pub fn from_parts(ty: &str, namespace: Option<&str>, name: &str) -> Result<PackageId, PurlError> {
        let ty = ty.trim().to_ascii_lowercase();
        let valid_type = ty.starts_with(|c: char| c.is_ascii_alphabetic())
            && ty.chars().all(|c| c.is_ascii_alphanumeric() || ".+-".contains(c));
        if !valid_type {
            return Err(PurlError::Part { part: "type", reason: format!("{ty:?} is not a package-URL type") });
        }
        let mut namespace: Option<String> = namespace
            .map(|n| n.trim().trim_matches('/'))
            .filter(|n| !n.is_empty())
            .map(|n| n.split('/').filter(|s| !s.is_empty()).collect::<Vec<_>>().join("/"));
        let mut name = name.trim().trim_matches('/').to_string();
        if let Some((left, right)) = name.rsplit_once('/') {
            let left = left.trim_matches('/');
            namespace = Some(match namespace {
                Some(ns) if !left.is_empty() => format!("{ns}/{left}"),
                Some(ns) => ns,
                None => left.to_string(),
            })
            .filter(|n| !n.is_empty());
            name = right.to_string();
        }
        if name.is_empty() {
            return Err(PurlError::Part { part: "name", reason: "it is empty".into() });
        }
        if ty == "npm"
            && let Some(ns) = &namespace
            && !ns.starts_with('@')
        {
            namespace = Some(format!("@{ns}"));
        }
        if NAMESPACE_CASE_INSENSITIVE.contains(&ty.as_str()) {
            namespace = namespace.map(|n| n.to_lowercase());
        }
        if NAME_CASE_INSENSITIVE.contains(&ty.as_str()) {
            name = name.to_lowercase();
        }
        match ty.as_str() {
            "pypi" => name = pep503(&name),
            "cargo" => name = name.replace('_', "-"),
            _ => {}
        }
        Ok(PackageId { ty, namespace, name })
    }

    /// The purl type (`npm`), lower case.
    pub fn ty(&self) -> &str {
        &self.ty
    }

    /// The namespace (`@babel`), normalised; `None` when there is none.
    pub fn namespace(&self) -> Option<&str> {
        self.namespace.as_deref()
    }

    /// The name (`traverse`), normalised.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The version scheme of this package's ecosystem.
    pub fn scheme(&self) -> Scheme {
        Scheme::for_purl_type(&self.ty)
    }

    /// The canonical package URL without version (`pkg:npm/%40babel/traverse`).
    pub fn to_purl(&self) -> String {
        let mut out = format!("pkg:{}/", self.ty);
        for seg in self.namespace.iter().flat_map(|n| n.split('/')) {
            out.push_str(&encode(seg));
            out.push('/');
        }
        out.push_str(&encode(&self.name));
        out
    }
}

impl fmt::Display for PackageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_purl())
    }
}

impl Purl {
    /// Parses a package URL (see the module docs for what is accepted).
    pub fn parse(text: &str) -> Result<Purl, PurlError> {
        let t = text.trim();
        let syntax = |reason: &str| PurlError::Syntax { text: text.to_string(), reason: reason.to_string() };
        // Split off subpath (`#`) and qualifiers (`?`), from the right.
        let (rest, subpath) = match t.rsplit_once('#') {
            Some((r, s)) => (r, Some(s)),
            None => (t, None),
        };
        let (rest, query) = match rest.rsplit_once('?') {
            Some((r, q)) => (r, Some(q)),
            None => (rest, None),
        };
        let (scheme, rest) = rest.split_once(':').ok_or_else(|| syntax("no `pkg:` scheme"))?;
        if !scheme.eq_ignore_ascii_case("pkg") {
            return Err(syntax("the scheme is not `pkg:`"));
        }
        let rest = rest.trim_matches('/');
        let (ty, rest) = rest.split_once('/').ok_or_else(|| syntax("no `/` after the type"))?;
        // The version follows the last `@` — unless that `@` starts a namespace segment
        // (`@babel/traverse`): a version never contains `/`, so that `@` is literal. An `@`
        // starting the last segment leaves the name empty, which is an error below.
        let mut version = None;
        let mut path = rest;
        if let Some(i) = rest.rfind('@') {
            let starts_segment = i == 0 || rest.as_bytes()[i - 1] == b'/';
            if starts_segment && rest[i..].contains('/') {
                // literal `@` in a namespace segment; no version
            } else if starts_segment {
                return Err(syntax("the name is empty (nothing between `/` and `@`)"));
            } else {
                version = Some(decode(&rest[i + 1..]).map_err(|r| syntax(&r))?).filter(|v| !v.is_empty());
                path = &rest[..i];
            }
        }
        let mut segments = Vec::new();
        for seg in path.split('/').filter(|s| !s.is_empty()) {
            segments.push(decode(seg).map_err(|r| syntax(&r))?);
        }
        let name = segments.pop().ok_or_else(|| syntax("the name is missing"))?;
        let namespace = (!segments.is_empty()).then(|| segments.join("/"));
        let mut id = PackageId::from_parts(ty, namespace.as_deref(), &name)?;
        let mut qualifiers = Vec::new();
        for pair in query.into_iter().flat_map(|q| q.split('&')).filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let valid_key = k.starts_with(|c: char| c.is_ascii_alphabetic() || c == '.' || c == '-' || c == '_')
                && k.chars().all(|c| c.is_ascii_alphanumeric() || ".-_".contains(c));
            if !valid_key {
                return Err(syntax(&format!("{k:?} is not a qualifier key (letters, digits, `.`, `-`, `_`)")));
            }
            let v = decode(v).map_err(|r| syntax(&r))?;
            if !v.is_empty() {
                qualifiers.push((k.to_ascii_lowercase(), v));
            }
        }
        let subpath = match subpath {
            None => None,
            Some(sp) => {
                let mut parts = Vec::new();
                for seg in sp.split('/').filter(|s| !s.is_empty() && *s != "." && *s != "..") {
                    parts.push(decode(seg).map_err(|r| syntax(&r))?);
                }
                (!parts.is_empty()).then(|| parts.join("/"))
            }
        };
        // purl-spec mlflow definition: Databricks registries are case-insensitive.
        if id.ty == "mlflow"
            && qualifiers
                .iter()
                .any(|(k, v)| k == "repository_url" && v.to_ascii_lowercase().contains("azuredatabricks"))
        {
            id.name = id.name.to_lowercase();
        }
        Ok(Purl { id, version, qualifiers, subpath })
    }
}

impl Purl {
    /// `version` — this URL's own, or the one a report or SBOM gives for the package — as
    /// the ecosystem compares it: for types whose versions have an epoch (deb, rpm, alpm:
    /// [`Scheme::Debian`], [`Scheme::Rpm`]) a version written without `N:` gets the epoch
    /// of the `epoch` qualifier (purl-spec `PURL-TYPES.rst`, type rpm: the `epoch`
    /// qualifier; Trivy writes deb and rpm packages that way:
    /// `pkg:deb/debian/bsdutils@2.29.2-1%2Bdeb9u1?epoch=1` is `1:2.29.2-1+deb9u1`). Epoch 0
    /// is the default and adds nothing. A version that already has `N:` keeps it.
    ///
    /// Errors (the caller cannot judge the version, and must say so rather than guess):
    /// the qualifier is not a decimal number, two `epoch` qualifiers disagree, the
    /// version's own epoch disagrees with the qualifier's, or the version has a `:` with
    /// no number before it. Other types: `version` unchanged.
    pub fn version_with_epoch<'a>(&self, version: &'a str) -> Result<Cow<'a, str>, PurlError> {
        if !matches!(self.id.scheme(), Scheme::Debian | Scheme::Rpm) {
            return Ok(Cow::Borrowed(version));
        }
        let fail = |reason: String| PurlError::Epoch { version: version.to_string(), reason };
        let mut epoch: Option<&str> = None;
        for (_, v) in self.qualifiers.iter().filter(|(k, _)| k == "epoch") {
            let v = v.trim();
            if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
                return Err(fail(format!("the package URL's epoch qualifier {v:?} is not a number")));
            }
            let n = strip_zeros(v);
            match epoch {
                Some(e) if e != n => {
                    return Err(fail(format!("the package URL gives two epochs, {e} and {n}")));
                }
                _ => epoch = Some(n),
            }
        }
        let Some(epoch) = epoch else { return Ok(Cow::Borrowed(version)) };
        match version.split_once(':') {
            Some((own, _)) if !own.is_empty() && own.bytes().all(|b| b.is_ascii_digit()) => {
                if strip_zeros(own) == epoch {
                    Ok(Cow::Borrowed(version))
                } else {
                    Err(fail(format!("its epoch {own} is not the package URL's epoch qualifier {epoch}")))
                }
            }
            Some(_) => Err(fail("it has a `:` without an epoch number before it".into())),
            None if epoch == "0" => Ok(Cow::Borrowed(version)),
            None => Ok(Cow::Owned(format!("{epoch}:{}", version.trim_start()))),
        }
    }
}

/// A decimal number without leading zeros (`007` → `7`, `0` → `0`).
fn strip_zeros(digits: &str) -> &str {
    let s = digits.trim_start_matches('0');
    if s.is_empty() { "0" } else { s }
}

/// The package URL of a package named the OSV way (OSV schema §"affected[].package":
/// `ecosystem`, `name`, and the version): the purl type the OSV schema's ecosystem table
/// gives for it, a Maven `group:artifact` or a Composer `vendor/name` split into namespace
/// and name. `None` for an ecosystem without a purl type here (Linux distributions need a
/// distribution namespace OSV does not give) or a name the purl rules refuse.
pub fn osv_purl(ecosystem: &str, name: &str, version: Option<&str>) -> Option<String> {
    let ty = match ecosystem.split(':').next().unwrap_or("").trim() {
        "PyPI" => "pypi",
        "npm" => "npm",
        "Go" => "golang",
        "Maven" => "maven",
        "crates.io" => "cargo",
        "RubyGems" => "gem",
        "NuGet" => "nuget",
        "Packagist" => "composer",
        "Hex" => "hex",
        "Pub" => "pub",
        "Hackage" => "hackage",
        "CRAN" => "cran",
        _ => return None,
    };
    let name = name.trim();
    let (namespace, name) = match ty {
        "maven" => name.split_once(':').map_or((None, name), |(g, a)| (Some(g), a)),
        _ => name.rsplit_once('/').map_or((None, name), |(ns, n)| (Some(ns), n)),
    };
    let id = PackageId::from_parts(ty, namespace, name).ok()?;
    Some(match version.map(str::trim).filter(|v| !v.is_empty()) {
        Some(v) => format!("{}@{}", id.to_purl(), encode(v)),
        None => id.to_purl(),
    })
}

/// Percent-decodes once; a `%` not followed by two hex digits is an error.
fn decode(s: &str) -> Result<String, String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = b.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
            match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                Some(byte) => out.push(byte),
                None => {
                    let bad = s.get(i..(i + 3).min(s.len())).unwrap_or("%");
                    return Err(format!("`{bad}` is not a valid percent-encoding"));
                }
            }
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| "a percent-decoded part is not UTF-8".to_string())
}

/// Percent-encodes a purl segment: everything but `A-Z a-z 0-9 . - _ ~ :`.
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b".-_~:".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// PEP 503 name normalisation: lower case, runs of `-`, `_`, `.` → `-`.
fn pep503(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut in_run = false;
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            if !in_run {
                out.push('-');
            }
            in_run = true;
        } else {
            out.extend(c.to_lowercase());
            in_run = false;
        }
    }
    out
}

#[cfg(test)]
mod osv_tests {
    use super::*;

    #[test]
    fn osv_packages_as_purls() {
        assert_eq!(osv_purl("PyPI", "urllib3", Some("1.26.17")).as_deref(), Some("pkg:pypi/urllib3@1.26.17"));
        assert_eq!(
            osv_purl("Maven", "org.apache.logging.log4j:log4j-core", Some("2.14.1")).as_deref(),
            Some("pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1")
        );
        assert_eq!(osv_purl("npm", "@babel/traverse", None).as_deref(), Some("pkg:npm/%40babel/traverse"));
        assert_eq!(
            osv_purl("Go", "golang.org/x/text", Some("v0.3.6")).as_deref(),
            Some("pkg:golang/golang.org/x/text@v0.3.6")
        );
        assert_eq!(osv_purl("Debian:11", "openssl", Some("1.1.1n-0+deb11u3")), None);
    }
}
