//! Every parser and comparison takes arbitrary text without panicking (they read
//! attacker-supplied SBOMs and reports).

use proptest::prelude::*;
use stance_ecosystem::{DeniedLicences, ImagePrefix, ImageRef, LicenseExpr, PackageId, Purl, Scheme, VersionRange};

const SCHEMES: [Scheme; 9] = [
    Scheme::Semver,
    Scheme::Golang,
    Scheme::Nuget,
    Scheme::Debian,
    Scheme::Rpm,
    Scheme::Pep440,
    Scheme::Apk,
    Scheme::Maven,
    Scheme::Generic,
];

/// Text biased towards the characters these grammars use, plus anything.
fn text() -> impl Strategy<Value = String> {
    prop_oneof!["[0-9a-zA-Z.:~^+_@/%!=<>|*,()-]{0,24}", "[0-9.]{1,6}[a-z_~-]{0,4}[0-9.]{0,6}(-r[0-9])?", ".{0,24}",]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn versions_and_ranges(a in text(), b in text()) {
        for s in SCHEMES {
            if let (Ok(x), Ok(y)) = (s.parse(&a), s.parse(&b)) {
                let o = x.try_cmp(&y).expect("same scheme");
                prop_assert_eq!(y.try_cmp(&x).expect("same scheme"), o.reverse(), "{} {:?} {:?}", s, a, b);
                prop_assert_eq!(x.try_cmp(&x).expect("same scheme"), std::cmp::Ordering::Equal);
            }
            if let Ok(r) = VersionRange::parse(s, &a) {
                let _ = r.contains(&b);
            }
            let _ = VersionRange::parse(s, &format!("vers:{}/{a}", s.name()));
        }
    }

    #[test]
    fn package_ids(a in text()) {
        let _ = PackageId::from_purl(&a);
        let _ = PackageId::from_purl(&format!("pkg:npm/{a}"));
        if let Ok(p) = Purl::parse(&format!("pkg:pypi/{a}")) {
            // The canonical purl names the same package.
            prop_assert_eq!(PackageId::from_purl(&p.id.to_purl()).expect("canonical form parses"), p.id);
        }
        let _ = PackageId::from_parts(&a, Some(&a), &a);
    }

    #[test]
    fn image_refs(a in text()) {
        if let Ok(r) = ImageRef::parse(&a) {
            // The canonical form is stable.
            prop_assert_eq!(ImageRef::parse(&r.to_string()).expect("canonical form parses"), r);
        }
        let _ = ImagePrefix::parse(&a);
        let _ = ImageRef::from_parts(&a, &a, Some(&a), Some(&a));
    }

    #[test]
    fn licences(a in text(), b in "[A-Za-z0-9.+ ()-]{0,30}") {
        let deny = DeniedLicences::parse(["GPL-3.0-or-later", "MIT"]).expect("valid");
        let _ = deny.evaluate(&LicenseExpr::parse(&a));
        let _ = deny.evaluate(&LicenseExpr::parse(&b));
        let _ = DeniedLicences::parse([a.as_str()]);
    }
}
