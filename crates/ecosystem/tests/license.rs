//! Licence expressions evaluated against deny lists: the SPDX specification's examples
//! (spdx/spdx-spec docs/annexes/spdx-license-expressions.md, see SOURCES.md), the case in
//! ../shared/cases/license-or-expression, and the format rules.

use stance_ecosystem::{CdxLicense, DeniedLicences, LicenseExpr, Licensing};

fn deny(ids: &[&str]) -> DeniedLicences {
    DeniedLicences::parse(ids.iter().copied()).unwrap_or_else(|e| panic!("{e}"))
}

fn verdict(expr: &str, denied: &[&str]) -> (bool, Vec<String>) {
    let v = deny(denied).evaluate(&LicenseExpr::parse(expr));
    (v.denied, v.forced_by)
}

/// ../shared/cases/license-or-expression: jszip's dual licence is allowed, AND is denied.
#[test]
fn or_lets_the_user_choose_and_forces_all() {
    let policy = ["GPL-3.0-or-later", "AGPL-3.0-only"];
    assert_eq!(verdict("(MIT OR GPL-3.0-or-later)", &policy), (false, vec![]));
    assert_eq!(verdict("MIT AND GPL-3.0-or-later", &policy), (true, vec!["GPL-3.0-or-later".to_string()]));
}

#[test]
fn spdx_spec_examples() {
    // Disjunctive "OR": a choice (commutative).
    for e in ["LGPL-2.1-only OR MIT", "MIT OR LGPL-2.1-only", "LGPL-2.1-only OR MIT OR BSD-3-Clause"] {
        assert!(!verdict(e, &["LGPL-2.1-only"]).0, "{e}");
        assert!(verdict(e, &["LGPL-2.1-only", "MIT", "BSD-3-Clause"]).0, "{e}");
    }
    // Conjunctive "AND": all apply.
    for e in ["LGPL-2.1-only AND MIT", "MIT AND LGPL-2.1-only", "LGPL-2.1-only AND MIT AND BSD-2-Clause"] {
        assert_eq!(verdict(e, &["MIT"]), (true, vec!["MIT".to_string()]), "{e}");
    }
    // Precedence: AND binds tighter than OR.
    let e = "LGPL-2.1-only OR BSD-3-Clause AND MIT";
    assert!(!verdict(e, &["MIT"]).0, "LGPL-2.1-only is a choice");
    assert_eq!(verdict(e, &["MIT", "LGPL-2.1-only"]), (true, vec!["LGPL-2.1-only".into(), "MIT".into()]));
    assert!(verdict("MIT AND (LGPL-2.1-or-later OR BSD-3-Clause)", &["MIT"]).0);
    assert!(!verdict("MIT AND (LGPL-2.1-or-later OR BSD-3-Clause)", &["BSD-3-Clause"]).0);
    // WITH: the exception does not change the licence a plain deny names.
    let e = "GPL-2.0-or-later WITH Bison-exception-2.2";
    assert!(verdict(e, &["GPL-2.0-or-later"]).0);
    assert!(verdict(e, &["GPL-2.0-or-later WITH Bison-exception-2.2"]).0);
    assert!(!verdict(e, &["GPL-2.0-or-later WITH Classpath-exception-2.0"]).0);
    assert!(!verdict("GPL-2.0-or-later", &["GPL-2.0-or-later WITH Bison-exception-2.2"]).0);
    // Simple expressions: `+`, LicenseRef, DocumentRef.
    assert!(verdict("CDDL-1.0+", &["CDDL-1.0+"]).0);
    assert!(!verdict("CDDL-1.0+", &["CDDL-1.0"]).0, "`+` lets the user choose a later version");
    for r in ["LicenseRef-23", "LicenseRef-MIT-Style-1", "DocumentRef-spdx-tool-1.2:LicenseRef-MIT-Style-2"] {
        assert!(verdict(r, &[r]).0, "{r}");
        assert!(!verdict(r, &["MIT"]).0, "{r}");
    }
    // Case: ids case-insensitive; LicenseRef variable part case-insensitive.
    assert!(verdict("mit", &["MIT"]).0);
    assert!(verdict("Mit AND apache-2.0", &["Apache-2.0"]).0);
    assert!(verdict("LicenseRef-Name", &["LicenseRef-name"]).0);
    // Operators in lower case.
    assert!(!verdict("mit or gpl-3.0-or-later", &["GPL-3.0-or-later"]).0);
    assert!(verdict("mit and gpl-3.0-or-later", &["GPL-3.0-or-later"]).0);
}

#[test]
fn or_later_follows_the_spdx_list() {
    let d = ["GPL-3.0-or-later"];
    for same in ["GPL-3.0-or-later", "GPL-3.0+", "gpl-3.0+", "(GPL-3.0+)"] {
        assert!(verdict(same, &d).0, "{same}");
    }
    for other in ["GPL-3.0-only", "GPL-3.0", "GPL-2.0-or-later", "LGPL-3.0-or-later"] {
        assert!(!verdict(other, &d).0, "{other}");
    }
    assert!(verdict("GPL-3.0", &["GPL-3.0-only"]).0, "the deprecated bare id is -only");
    assert!(verdict("GPL-2.0+", &["GPL-2.0-or-later"]).0);
    assert!(verdict("GPL-2.0-or-later", &["GPL-2.0+"]).0, "deny entries are read the same way");
}

#[test]
fn explains_which_denied_licences_force_the_verdict() {
    // Only AGPL forces this: the first choice can be MIT.
    assert_eq!(
        verdict("(MIT OR GPL-3.0-or-later) AND AGPL-3.0-only", &["GPL-3.0-or-later", "AGPL-3.0-only"]),
        (true, vec!["AGPL-3.0-only".to_string()])
    );
    // Either choice takes one denied licence: both are named.
    assert_eq!(
        verdict("(GPL-3.0-or-later OR AGPL-3.0-only) AND MIT", &["GPL-3.0-or-later", "AGPL-3.0-only"]),
        (true, vec!["AGPL-3.0-only".to_string(), "GPL-3.0-or-later".to_string()])
    );
    // A large expression still gets an exact verdict.
    let many = (0..20).map(|i| format!("(MIT OR LicenseRef-x{i})")).collect::<Vec<_>>().join(" AND ");
    assert_eq!(verdict(&many, &["MIT"]), (false, vec![]));
    let all_denied = format!("{many} AND GPL-3.0-only");
    let (denied, by) = verdict(&all_denied, &["MIT", "GPL-3.0-only"]);
    assert!(denied);
    assert!(by.contains(&"GPL-3.0-only".to_string()), "{by:?}");
}

#[test]
fn real_world_text_is_read_without_passing_a_denied_licence() {
    let d = ["GPL-3.0-or-later"];
    assert!(!verdict("MIT/GPL-3.0-or-later", &d).0, "`/` is a choice");
    assert!(verdict("GPL-3.0-or-later, MIT", &d).0, "a comma list is read as all applying");
    assert!(verdict("GPL-3.0+; BSD", &d).0);
    let v = deny(&d).evaluate(&LicenseExpr::parse("Apache License, Version 2.0"));
    assert!(!v.denied && v.lenient && v.unknown == vec!["Apache License, Version 2.0".to_string()], "{v:?}");
    let v = deny(&d).evaluate(&LicenseExpr::parse("Commercial OR MIT"));
    assert!(!v.denied && !v.lenient && v.unknown == vec!["Commercial".to_string()], "{v:?}");
    let v = deny(&d).evaluate(&LicenseExpr::parse("Commercial AND GPL-3.0-or-later"));
    assert!(v.denied, "{v:?}");
    // Nothing panics on garbage.
    for junk in
        ["", "(", ")", "AND", "MIT AND", "WITH", "GPL-2.0 WITH", "((((MIT", "+", "é ü", "LicenseRef-", "MIT WITH MIT"]
    {
        let _ = deny(&d).evaluate(&LicenseExpr::parse(junk));
    }
}

#[test]
fn deny_lists_must_name_one_licence() {
    assert!(DeniedLicences::parse(["GPL-3.0-or-later", "agpl-3.0-only", "LicenseRef-Proprietary"]).is_ok());
    for bad in ["GPL3", "MIT OR Apache-2.0", "Commercial", "", "MIT AND GPL-3.0-only"] {
        let e = DeniedLicences::parse(["MIT", bad]).expect_err(bad);
        assert!(e.to_string().contains("denied licence 1"), "{e}");
    }
    let d = deny(&["gpl-3.0-OR-LATER"]);
    assert_eq!(d.ids().collect::<Vec<_>>(), vec!["GPL-3.0-or-later"]);
}

#[test]
fn format_rules() {
    let d = deny(&["GPL-3.0-or-later"]);
    // SPDX: concluded over declared; NOASSERTION falls through; NONE is no licence.
    assert!(!Licensing::spdx(Some("MIT"), Some("GPL-3.0-or-later")).evaluate(&d).denied);
    assert!(Licensing::spdx(Some("NOASSERTION"), Some("GPL-3.0-or-later")).evaluate(&d).denied);
    assert!(Licensing::spdx(None, Some("GPL-3.0-or-later")).evaluate(&d).denied);
    assert_eq!(Licensing::spdx(Some("NONE"), Some("GPL-3.0-or-later")), Licensing::None);
    assert!(Licensing::spdx(Some("NOASSERTION"), None).evaluate(&d).no_assertion);
    // CycloneDX: entries all apply; concluded entries win.
    let id = |id, concluded| CdxLicense::Id { id, concluded };
    assert!(Licensing::cyclonedx(&[id("MIT", false), id("GPL-3.0-or-later", false)]).evaluate(&d).denied);
    assert!(
        !Licensing::cyclonedx(&[CdxLicense::Expression { expression: "MIT OR GPL-3.0-or-later", concluded: false }])
            .evaluate(&d)
            .denied
    );
    assert!(!Licensing::cyclonedx(&[id("GPL-3.0-or-later", false), id("MIT", true)]).evaluate(&d).denied);
    assert!(
        Licensing::cyclonedx(&[CdxLicense::Name { name: "GNU GPL v3 or later (GPL-3.0-or-later)", concluded: false }])
            .evaluate(&d)
            .denied
    );
    assert_eq!(Licensing::cyclonedx(&[]), Licensing::NoAssertion);
    // A plain list (Stance's Component.licenses): all apply.
    assert!(Licensing::all_of(["MIT", "GPL-3.0-or-later"]).evaluate(&d).denied);
    assert!(!Licensing::all_of(["(MIT OR GPL-3.0-or-later)", "NOASSERTION"]).evaluate(&d).denied);
    assert_eq!(Licensing::all_of(["NONE"]), Licensing::None);
}
