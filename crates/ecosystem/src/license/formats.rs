//! How SBOM formats list a component's licences, combined by each format's own rule.

use super::{DeniedLicences, LicenseExpr, LicenseVerdict};

/// One entry of a CycloneDX component's `licenses` array (CycloneDX 1.4–1.6
/// `licenseChoice`): a `license` with an SPDX `id` or a free-text `name`, or an
/// `expression`; `concluded` is the 1.6 `acknowledgement: "concluded"` (else declared).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CdxLicense<'a> {
    /// `license.id`
    Id {
        /// The SPDX id.
        id: &'a str,
        /// `acknowledgement == "concluded"`.
        concluded: bool,
    },
    /// `license.name`
    Name {
        /// The free-text name.
        name: &'a str,
        /// `acknowledgement == "concluded"`.
        concluded: bool,
    },
    /// `expression`
    Expression {
        /// The SPDX expression.
        expression: &'a str,
        /// `acknowledgement == "concluded"`.
        concluded: bool,
    },
}

/// A component's licensing as its document states it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Licensing {
    /// The licence expression that applies.
    Expr(LicenseExpr),
    /// The document states that there is no licence (SPDX `NONE`).
    None,
    /// The document does not say (SPDX `NOASSERTION`, or nothing given).
    NoAssertion,
}

fn no_assertion(s: &str) -> bool {
    s.trim().is_empty() || s.trim().eq_ignore_ascii_case("NOASSERTION")
}

impl Licensing {
    /// SPDX 2.x packages (§7.13 "Concluded license", §7.15 "Declared license"; SPDX 3
    /// `hasConcludedLicense` / `hasDeclaredLicense`): the concluded licence is the one the
    /// document's author determined and wins; the declared one counts only when nothing
    /// was concluded (`NOASSERTION` or absent). `NONE` means no licence.
    pub fn spdx(concluded: Option<&str>, declared: Option<&str>) -> Licensing {
        let pick = match concluded.filter(|c| !no_assertion(c)) {
            Some(c) => Some(c),
            None => declared.filter(|d| !no_assertion(d)),
        };
        match pick {
            None => Licensing::NoAssertion,
            Some(t) if t.trim().eq_ignore_ascii_case("NONE") => Licensing::None,
            Some(t) => Licensing::Expr(LicenseExpr::parse(t)),
        }
    }

    /// A CycloneDX `licenses` array. The specification does not say whether several
    /// entries mean "all apply" or "choose one" (CycloneDX/specification#349, open); they
    /// are read as all applying, which never hides a denied licence. An SPDX choice is
    /// expressed with one `expression` entry. When some entries are acknowledged as
    /// `concluded`, only those count (as SPDX prefers concluded over declared).
    pub fn cyclonedx(entries: &[CdxLicense<'_>]) -> Licensing {
        let concluded = |e: &CdxLicense<'_>| match e {
            CdxLicense::Id { concluded, .. }
            | CdxLicense::Name { concluded, .. }
            | CdxLicense::Expression { concluded, .. } => *concluded,
        };
        let any_concluded = entries.iter().any(concluded);
        let exprs = entries.iter().filter(|e| !any_concluded || concluded(e)).filter_map(|e| {
            let text = match e {
                CdxLicense::Id { id: t, .. }
                | CdxLicense::Name { name: t, .. }
                | CdxLicense::Expression { expression: t, .. } => *t,
            };
            (!no_assertion(text)).then(|| LicenseExpr::parse(text))
        });
        match LicenseExpr::all_of(exprs) {
            Some(e) => Licensing::Expr(e),
            None => Licensing::NoAssertion,
        }
    }

    /// Licences listed without a stated rule (e.g. Stance's `Component.licenses`): all
    /// apply. `NOASSERTION`/empty entries are skipped; only `NONE` entries → no licence.
    pub fn all_of<'a>(texts: impl IntoIterator<Item = &'a str>) -> Licensing {
        let texts: Vec<&str> = texts.into_iter().filter(|t| !no_assertion(t)).collect();
        if !texts.is_empty() && texts.iter().all(|t| t.trim().eq_ignore_ascii_case("NONE")) {
            return Licensing::None;
        }
        let exprs = texts.into_iter().filter(|t| !t.trim().eq_ignore_ascii_case("NONE")).map(LicenseExpr::parse);
        match LicenseExpr::all_of(exprs) {
            Some(e) => Licensing::Expr(e),
            None => Licensing::NoAssertion,
        }
    }

    /// Judges this licensing against a deny list.
    pub fn evaluate(&self, deny: &DeniedLicences) -> LicenseVerdict {
        match self {
            Licensing::Expr(e) => deny.evaluate(e),
            Licensing::None => LicenseVerdict::default(),
            Licensing::NoAssertion => LicenseVerdict { no_assertion: true, ..LicenseVerdict::default() },
        }
    }
}
