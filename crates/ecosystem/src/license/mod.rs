//! SPDX licence expressions, evaluated as expressions, and the licence lists of SBOM formats.
//!
//! A component's licensing is an expression (SPDX annex "SPDX license expressions"):
//! `OR` is a choice the user may make, `AND` means every licence applies, `WITH` adds an
//! exception to a licence, `+` means "this version or any later one". Precedence is `+`,
//! `WITH`, `AND`, `OR`, with parentheses to group. A policy's denied licences fire only
//! when **every** choice the expression allows takes a denied licence:
//! `MIT OR GPL-3.0-or-later` is allowed under "deny GPL-3.0-or-later" (choose MIT),
//! `MIT AND GPL-3.0-or-later` is denied. [`LicenseVerdict::forced_by`] names the denied
//! licences that force the verdict.
//!
//! **Matching a denied licence** (decisions, following the SPDX spec):
//!
//! * Identifiers match case-insensitively (spec: "License identifiers … should be matched
//!   in a case-insensitive manner"); for `LicenseRef-` only the part after the prefix is.
//! * `GPL-3.0+`, the deprecated `GPL-3.0+` id and `GPL-3.0-or-later` are one licence ("the
//!   current version of the license or any later version"), distinct from `GPL-3.0-only`
//!   (and the deprecated bare `GPL-3.0`, which the SPDX list defines as `-only`). The same
//!   holds for every licence with `+` (`MPL-1.1+`). A denied `GPL-3.0-or-later` therefore
//!   matches `GPL-3.0+` but not `GPL-3.0-only`: deny both to deny GPL-3.0 in any form.
//! * `WITH`: a denied licence written without an exception matches the licence with or
//!   without any exception (an exception adds permissions; the work is still under that
//!   licence). A denied entry written with one (`GPL-2.0-only WITH Classpath-exception-2.0`)
//!   matches only that combination.
//!
//! **Real-world text** is read leniently, never silently: operators in any case, `/` as
//! `OR` (`MIT/Apache-2.0`), identifiers in any case. A word that is no SPDX identifier
//! (`Commercial`) stays in the expression as an unknown licence, reported in
//! [`LicenseVerdict::unknown`] and matching no denied id. Text that still does not parse as
//! an expression (`Apache License, Version 2.0`) is read as *all* the licences it names
//! applying, plus itself as an unknown licence, and the verdict says so
//! ([`LicenseVerdict::lenient`]) — a denied id inside such text is never passed over.

mod deny;
mod expr;
mod formats;

pub use deny::{DeniedLicences, LicenseVerdict};
pub use expr::LicenseExpr;
pub use formats::{CdxLicense, Licensing};

/// Why a licence or deny list could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LicenseError {
    /// A denied entry is not one licence.
    #[error(
        "denied licence {index} {text:?}: {reason}; write one SPDX licence id (e.g. GPL-3.0-or-later), optionally WITH an exception, or LicenseRef-… for a licence outside the SPDX list"
    )]
    Denied {
        /// 0-based position in the deny list.
        index: usize,
        /// The entry as written.
        text: String,
        /// What is wrong.
        reason: String,
    },
}
