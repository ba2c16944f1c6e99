//! `evaluate` against real scanner output (Trivy JSON / Trivy Operator fixtures, the real
//! KEV catalog) and small manifests: every rule type, enforcement mode, exception case,
//! `onUnscanned` and the `newRiskOnly` ratchet.

mod common;

use jiff::Timestamp;
use stance::api::Enforcement;
use stance::ingest::{KubeObject, Loaded};
use stance_core::index::{IndexConfig, PostureIndex};
use stance_core::model::{Workload, WorkloadKind};
use stance_core::policy::{Verdict, evaluate};

const NOW: &str = "2026-11-27T12:00:00Z";
const SPRING: &str = "ghcr.io/aquasecurity/trivy-test-images:spring4shell-jre11";
const ALPINE: &str = "ghcr.io/aquasecurity/trivy-test-images:alpine-310";

fn now() -> Timestamp {
    NOW.parse().unwrap()
}

use common::mk_index;

fn mk_workload(yaml: &str) -> Workload {
    let mut loaded = Loaded::default();
    loaded.add_bytes("w.yaml", yaml.as_bytes());
    assert!(loaded.warnings.is_empty(), "{:#?}", loaded.warnings);
    match loaded.objects.pop() {
        Some(KubeObject::Workload(w)) => w,
        other => panic!("not a workload: {other:?}"),
    }
}

fn mk_deployment(ns: &str, name: &str, image: &str) -> Workload {
    mk_workload(&format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: {name}, namespace: {ns}, labels: {{app: {name}, team: t}}}}\n\
         spec:\n  selector: {{matchLabels: {{app: {name}}}}}\n  template:\n    metadata: {{labels: {{app: {name}}}}}\n    spec:\n\
         \x20     securityContext: {{runAsNonRoot: true}}\n      containers:\n      - name: main\n        image: {image}\n\
         \x20       securityContext: {{allowPrivilegeEscalation: false}}\n        resources: {{limits: {{cpu: 100m, memory: 64Mi}}}}\n"
    ))
}

fn policy(name: &str, enforcement: &str, extra: &str, rules: &str) -> String {
    format!(
        "---\napiVersion: aspm.stance.dev/v1alpha1\nkind: GuardrailPolicy\nmetadata: {{name: {name}}}\nspec:\n  enforcement: {enforcement}\n{extra}  rules:\n{rules}"
    )
}

fn exception(ns: &str, name: &str, findings: &str, expires: &str, extra: &str) -> String {
    format!(
        "---\napiVersion: aspm.stance.dev/v1alpha1\nkind: RiskException\nmetadata: {{name: {name}, namespace: {ns}}}\nspec:\n  findings: {findings}\n  justification: waf rule in place\n  expires: \"{expires}\"\n{extra}"
    )
}

fn check(index: &PostureIndex, w: &Workload) -> Verdict {
    evaluate(w, None, index, now())
}

const KEV_RULE: &str = "  - name: kev\n    vulnerabilities: {maxSeverity: MEDIUM, knownExploitedOnly: true}\n";
const FIXTURES: [&str; 3] = [
    "trivy/spring4shell-jre11.json.golden",
    "trivy/alpine-310.json.golden",
    "kev/known_exploited_vulnerabilities.json",
];

#[test]
fn known_exploited_critical_is_denied_with_an_actionable_message() {
    let index = mk_index(&policy("no-kev", "Enforce", "", KEV_RULE), &FIXTURES);
    let v = check(&index, &mk_deployment("pay", "api", SPRING));
    assert!(!v.allowed());
    let d: Vec<_> = v.denials().collect();
    assert_eq!(d.len(), 1);
    let m = &d[0].message;
    for needle in [
        "CVE-2022-22965",
        "CRITICAL",
        "spring-beans 5.3.15",
        "fixed in 5.3.18",
        "known exploited",
        SPRING,
        "container main",
        "RiskException",
        "stance-system",
    ] {
        assert!(m.contains(needle), "message lacks {needle:?}: {m}");
    }
    assert_eq!(d[0].item_strs(), ["CVE-2022-22965"]);
    // The alpine image's MEDIUM, non-KEV vulnerabilities do not count.
    assert!(check(&index, &mk_deployment("shop", "catalog", ALPINE)).allowed());
}

#[test]
fn enforcement_modes() {
    for (mode, allowed, warns, audits) in [("Enforce", false, 0, 0), ("Warn", true, 1, 0), ("Audit", true, 0, 1)] {
        let index = mk_index(&policy("p", mode, "", KEV_RULE), &FIXTURES);
        let v = check(&index, &mk_deployment("pay", "api", SPRING));
        assert_eq!(v.allowed(), allowed, "{mode}");
        assert_eq!(v.warnings().count(), warns, "{mode}");
        assert_eq!(v.audits().count(), audits, "{mode}");
        assert_eq!(v.violations[0].enforcement.as_str(), mode);
    }
}

#[test]
fn vulnerability_filters() {
    let w = mk_deployment("shop", "catalog", ALPINE); // 4 MEDIUM findings, all fixable
    let cases = [
        ("{maxSeverity: LOW}", 4),
        ("{maxSeverity: MEDIUM}", 0),
        ("{maxSeverity: LOW, ignore: [CVE-2019-1549]}", 2),
        ("{maxSeverity: LOW, knownExploitedOnly: true}", 0),
        // First seen (no history store: the report's `CreatedAt`, 2021-08-25) long before
        // `now`: older than any SLA of a few days…
        ("{maxSeverity: LOW, olderThanDays: 30}", 4),
        // …but not older than 20 years.
        ("{maxSeverity: LOW, olderThanDays: 7300}", 0),
    ];
    for (rule, count) in cases {
        let index = mk_index(&policy("p", "Enforce", "", &format!("  - vulnerabilities: {rule}\n")), &FIXTURES);
        let v = check(&index, &w);
        let items = v.violations.first().map_or(0, |x| x.items.len());
        assert_eq!(items, count, "{rule}: {v:#?}");
    }
    // minEpss needs EPSS data: CVE-2019-1551 has 0.011 in this file, 1549 0.004.
    let mut loaded = Loaded::default();
    loaded.add_bytes(
        "p.yaml",
        policy("p", "Enforce", "", "  - vulnerabilities: {maxSeverity: LOW, minEpss: 0.01}\n").as_bytes(),
    );
    loaded.add_bytes(FIXTURES[1], &common::fixture_bytes(FIXTURES[1]));
    loaded.add_bytes("epss.csv", b"cve,epss,percentile\nCVE-2019-1551,0.011,0.84\nCVE-2019-1549,0.004,0.72\n");
    let index = loaded.into_index(IndexConfig::default());
    let v = check(&index, &w);
    // Two packages (libcrypto1.1, libssl1.1) carry CVE-2019-1551.
    assert_eq!(v.violations[0].item_strs(), ["CVE-2019-1551", "CVE-2019-1551"]);
}

#[test]
fn exceptions_active_expired_and_untrusted() {
    let base = policy("no-kev", "Enforce", "", KEV_RULE);
    let w = mk_deployment("pay", "api", SPRING);
    let cases = [
        // (exception, allowed, why)
        (
            exception(
                "stance-system",
                "ok",
                "[CVE-2022-22965]",
                "2026-12-15T00:00:00Z",
                "  match: {namespaces: [pay]}\n",
            ),
            true,
            "active, trusted",
        ),
        (
            exception(
                "stance-system",
                "old",
                "[CVE-2022-22965]",
                "2026-11-01T00:00:00Z",
                "  match: {namespaces: [pay]}\n",
            ),
            false,
            "expired",
        ),
        (exception("pay", "self", "[CVE-2022-22965]", "2026-12-15T00:00:00Z", ""), false, "app team's own namespace"),
        (
            exception("stance-system", "other-ns", "[CVE-2022-22965]", "2026-12-15T00:00:00Z", ""),
            false,
            "covers stance-system workloads only",
        ),
        (
            exception(
                "stance-system",
                "other-cve",
                "[CVE-2021-44228]",
                "2026-12-15T00:00:00Z",
                "  match: {namespaces: ['*']}\n",
            ),
            false,
            "other finding",
        ),
        (
            exception(
                "stance-system",
                "too-long",
                "[CVE-2022-22965]",
                "2027-12-15T00:00:00Z",
                "  match: {namespaces: ['*']}\n",
            ),
            false,
            "lifetime above 90 days",
        ),
        (
            exception(
                "stance-system",
                "img",
                "[]",
                "2026-12-15T00:00:00Z",
                "  match: {namespaces: ['*'], images: ['ghcr.io/aquasecurity/*']}\n",
            ),
            true,
            "whole rule, image glob",
        ),
        (
            exception(
                "stance-system",
                "img2",
                "[]",
                "2026-12-15T00:00:00Z",
                "  match: {namespaces: ['*'], images: ['docker.io/*']}\n",
            ),
            false,
            "other images",
        ),
        (
            exception(
                "stance-system",
                "pol",
                "[]",
                "2026-12-15T00:00:00Z",
                "  policy: other-policy\n  match: {namespaces: ['*']}\n",
            ),
            false,
            "other policy",
        ),
    ];
    for (exc, allowed, why) in cases {
        let index = mk_index(&format!("{base}{exc}"), &FIXTURES);
        let v = check(&index, &w);
        assert_eq!(v.allowed(), allowed, "{why}: {v:#?}");
        if allowed {
            assert!(!v.violations[0].excepted_by.is_empty(), "{why}: recorded as excepted");
        }
    }
    // The policy may trust the app namespace explicitly.
    let trusting = policy("no-kev", "Enforce", "  exceptions: {allowSameNamespace: true}\n", KEV_RULE);
    let index = mk_index(
        &format!("{trusting}{}", exception("pay", "self", "[CVE-2022-22965]", "2026-12-15T00:00:00Z", "")),
        &FIXTURES,
    );
    assert!(check(&index, &w).allowed());
}

#[test]
fn partial_exception_keeps_the_rest() {
    let p = policy("p", "Enforce", "", "  - vulnerabilities: {maxSeverity: LOW}\n");
    let e =
        exception("stance-system", "one", "[CVE-2019-1549]", "2026-12-15T00:00:00Z", "  match: {namespaces: [shop]}\n");
    let index = mk_index(&format!("{p}{e}"), &FIXTURES);
    let v = check(&index, &mk_deployment("shop", "catalog", ALPINE));
    assert!(!v.allowed());
    let d = v.denials().next().unwrap();
    assert_eq!(d.item_strs(), ["CVE-2019-1551", "CVE-2019-1551"]);
    assert!(d.message.contains("excepted by stance-system/one"), "{}", d.message);
}

#[test]
fn unscanned_images_follow_on_unscanned() {
    let w = mk_deployment("shop", "new", "ghcr.io/acme/brand-new:1.0");
    for (mode, allowed, warns) in [("deny", false, 0), ("warn", true, 1), ("allow", true, 0)] {
        let index = mk_index(&policy("p", "Enforce", &format!("  onUnscanned: {mode}\n"), KEV_RULE), &FIXTURES);
        let v = check(&index, &w);
        assert_eq!((v.allowed(), v.warnings().count()), (allowed, warns), "{mode}: {v:#?}");
        if !allowed || warns > 0 {
            assert!(v.violations[0].message.contains("no scan report"), "{}", v.violations[0].message);
        }
    }
}

#[test]
fn new_risk_only_ratchet() {
    let p = policy("p", "Enforce", "  newRiskOnly: true\n", KEV_RULE);
    let index = mk_index(&p, &FIXTURES);
    let running = mk_deployment("pay", "api", SPRING);
    // An unrelated change (a new label) to a workload that already had the problem: allowed with a warning.
    let mut relabelled = running.clone();
    relabelled.labels.insert("hotfix".into(), "1".into());
    let v = evaluate(&relabelled, Some(&running), &index, now());
    assert!(v.allowed(), "{v:#?}");
    assert!(v.violations[0].preexisting);
    assert_eq!(v.warnings().count(), 1);
    // Introducing the vulnerable image in an update is still denied.
    let before = mk_deployment("pay", "api", ALPINE);
    assert!(!evaluate(&running, Some(&before), &index, now()).allowed());
    // Without the ratchet the same update is denied.
    let strict = mk_index(&policy("p", "Enforce", "", KEV_RULE), &FIXTURES);
    assert!(!evaluate(&relabelled, Some(&running), &strict, now()).allowed());
}

#[test]
fn every_workload_kind_and_container_list_is_checked() {
    let index = mk_index(&policy("p", "Enforce", "", KEV_RULE), &FIXTURES);
    let pod_spec = format!(
        "initContainers: [{{name: init, image: '{SPRING}'}}]\n  containers: [{{name: app, image: '{ALPINE}'}}]\n  ephemeralContainers: [{{name: dbg, image: '{SPRING}'}}]"
    );
    let template = |indent: &str| pod_spec.replace('\n', &format!("\n{indent}"));
    let docs = [
        format!("apiVersion: v1\nkind: Pod\nmetadata: {{name: p, namespace: x}}\nspec:\n  {}", template("")),
        format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: d, namespace: x}}\nspec:\n  selector: {{}}\n  template:\n    spec:\n      {}",
            template("    ")
        ),
        format!(
            "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {{name: s, namespace: x}}\nspec:\n  serviceName: s\n  selector: {{}}\n  template:\n    spec:\n      {}",
            template("    ")
        ),
        format!(
            "apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {{name: ds, namespace: x}}\nspec:\n  selector: {{}}\n  template:\n    spec:\n      {}",
            template("    ")
        ),
        format!(
            "apiVersion: apps/v1\nkind: ReplicaSet\nmetadata: {{name: rs, namespace: x}}\nspec:\n  selector: {{}}\n  template:\n    spec:\n      {}",
            template("    ")
        ),
        format!(
            "apiVersion: batch/v1\nkind: Job\nmetadata: {{name: j, namespace: x}}\nspec:\n  template:\n    spec:\n      {}",
            template("    ")
        ),
        format!(
            "apiVersion: batch/v1\nkind: CronJob\nmetadata: {{name: cj, namespace: x}}\nspec:\n  schedule: '* * * * *'\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          {}",
            template("        ")
        ),
    ];
    let mut kinds = Vec::new();
    for d in docs {
        let w = mk_workload(&d);
        kinds.push(w.kind);
        let v = check(&index, &w);
        let containers: Vec<&str> = v.denials().filter_map(|x| x.container.as_deref()).collect();
        assert_eq!(containers, ["init", "dbg"], "{:?}: {v:#?}", w.kind);
    }
    assert_eq!(kinds, WorkloadKind::ALL);
}

#[test]
fn image_reference_workload_security_and_ownership() {
    let p = policy(
        "p",
        "Enforce",
        "",
        "  - imageReference: {allowedRegistries: [ghcr.io/acme], requireDigest: true, disallowLatest: true}\n  - workloadSecurity: {requireResourceLimits: false}\n  - ownership: {requiredLabels: [team, cost-center]}\n",
    );
    let index = mk_index(&p, &[]);
    let w = mk_workload(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: dbg, namespace: x, labels: {team: a}}\nspec:\n  hostPID: true\n  volumes: [{name: h, hostPath: {path: /}}]\n  containers: [{name: c, image: busybox, securityContext: {privileged: true}}]\n",
    );
    let v = check(&index, &w);
    let items =
        |rule: &str| v.violations.iter().find(|x| x.rule_type == rule).map(|x| x.item_strs()).unwrap_or_default();
    assert_eq!(items("imageReference"), ["registry", "digest", "latest"]);
    assert_eq!(items("workloadSecurity"), ["hostPID", "hostPath:/", "privileged:c", "runAsRoot:c"]);
    assert_eq!(items("ownership"), ["label:cost-center", "appPosture"]);
    let good = mk_workload(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: ok, namespace: x, labels: {team: a, cost-center: b}}\nspec:\n  securityContext: {runAsUser: 1000}\n  containers: [{name: c, image: 'ghcr.io/acme/app:1.0@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef', securityContext: {allowPrivilegeEscalation: false}}]\n---\n",
    );
    let app = "---\napiVersion: aspm.stance.dev/v1alpha1\nkind: AppPosture\nmetadata: {name: a, namespace: x}\nspec: {selector: {matchLabels: {team: a}}}\n";
    let index = mk_index(&format!("{p}{app}"), &[]);
    let v = check(&index, &good);
    assert!(v.violations.is_empty(), "{v:#?}");
}

#[test]
fn evidence_components_and_risk_rules() {
    let p = policy(
        "p",
        "Enforce",
        "  onUnscanned: allow\n",
        "  - scanRequired: {maxAgeHours: 24}\n  - sbomRequired: {}\n  - components:\n      banned: [{purl: pkg:maven/org.springframework/spring-beans, versions: '<5.3.18'}]\n  - riskScore: {max: 50}\n",
    );
    let index = mk_index(&p, &FIXTURES);
    let v = check(&index, &mk_deployment("pay", "api", SPRING));
    let by_rule = |r: &str| v.violations.iter().find(|x| x.rule_type == r);
    // The golden was created in 2021: older than 24 hours.
    assert!(by_rule("scanRequired").unwrap().message.contains("last scanned"), "{v:#?}");
    assert!(by_rule("sbomRequired").is_some());
    assert_eq!(by_rule("components").unwrap().item_strs(), ["pkg:maven/org.springframework/spring-beans@5.3.15"]);
    assert!(by_rule("riskScore").unwrap().message.contains("CVE-2022-22965 risk"), "{v:#?}");
    // An image nobody scanned: scanRequired fires, the others cannot judge (onUnscanned: allow).
    let v = check(&index, &mk_deployment("pay", "new", "ghcr.io/acme/new:1"));
    let rules: Vec<&str> = v.violations.iter().map(|x| x.rule_type).collect();
    assert_eq!(rules, ["scanRequired", "sbomRequired"]);
}

#[test]
fn match_criteria() {
    let ns = "---\napiVersion: v1\nkind: Namespace\nmetadata: {name: prod, labels: {env: prod}}\n";
    let app = "---\napiVersion: aspm.stance.dev/v1alpha1\nkind: AppPosture\nmetadata: {name: a, namespace: prod, labels: {tier: web}}\nspec: {criticality: critical, exposure: internet, selector: {matchLabels: {app: api}}}\n";
    let cases = [
        ("  match: {namespaceSelector: {matchLabels: {env: prod}}}\n", true, false),
        ("  match: {namespaces: [dev]}\n", false, true),
        ("  match: {excludeNamespaces: [prod]}\n", false, true),
        ("  match: {appSelector: {matchLabels: {tier: web}}}\n", true, false),
        ("  match: {criticalities: [critical]}\n", true, false),
        ("  match: {criticalities: [low]}\n", false, false),
        ("  match: {exposures: [internet]}\n", true, false),
        ("  match: {kinds: [StatefulSet]}\n", false, false),
        ("  match: {kinds: [Deployment]}\n", true, true),
    ];
    for (m, in_prod, in_dev) in cases {
        let index = mk_index(&format!("{}{ns}{app}", policy("p", "Enforce", m, KEV_RULE)), &FIXTURES);
        assert_eq!(!check(&index, &mk_deployment("prod", "api", SPRING)).allowed(), in_prod, "{m} in prod");
        assert_eq!(!check(&index, &mk_deployment("dev", "api", SPRING)).allowed(), in_dev, "{m} in dev");
    }
}

#[test]
fn invalid_policies_are_reported_and_never_applied() {
    let bad = [
        ("  - vulnerabilities: {maxSeverity: HIGH}\n    sbomRequired: {}\n", "sets 2 rule types"),
        ("  - name: x\n", "sets no rule type"),
        ("  - components: {banned: [{purl: 'log4j', versions: '<2'}]}\n", "banned[0].purl"),
        ("  - components: {banned: [{purl: 'pkg:maven/a/b', versions: '<2 beta'}]}\n", "banned[0].versions"),
        ("  - riskScore: {max: 80}\n  - riskScore: {max: 90}\n", "duplicate rule name"),
    ];
    for (rules, err) in bad {
        let index = mk_index(&policy("bad", "Enforce", "", rules), &FIXTURES);
        let entry = index.policies().next().unwrap();
        let e = entry.compiled.as_ref().unwrap_err().to_string();
        assert!(e.contains(err) && e.starts_with("spec.rules"), "{e}");
        assert!(check(&index, &mk_deployment("pay", "api", SPRING)).violations.is_empty());
    }
}

#[test]
fn exempt_namespaces_are_never_evaluated() {
    let index = mk_index(&policy("p", "Enforce", "", KEV_RULE), &FIXTURES);
    let v = check(&index, &mk_deployment("kube-system", "api", SPRING));
    assert!(v.allowed() && v.violations.is_empty() && v.exempt.is_some());
    assert_eq!(Enforcement::default(), Enforcement::Enforce);
}

#[test]
fn vulnerability_rules_see_every_finding_over_the_threshold() {
    // The rule stops reading an image's findings at its threshold, trusting the index to
    // list them worst first: check that order, and that every severity threshold finds
    // exactly the findings a full scan of the real reports counts.
    use stance_core::model::Severity;
    use stance_core::policy::rules::vulnerabilities::counts;
    let index = mk_index("", &[&FIXTURES[..], &["defectdojo/trivy_operator/vulnerabilityreport_many.json"]].concat());
    let w = mk_deployment("a", "b", SPRING);
    let image = stance_core::model::ImageRef::parse(SPRING).unwrap();
    let mut checked = 0;
    let dates = stance_core::lifecycle::Dates::new(None, [], index.kev());
    for (_, posture) in index.artifacts() {
        let sev: Vec<Severity> = posture.findings.iter().map(|f| f.severity).collect();
        assert!(sev.windows(2).all(|w| w[0] >= w[1]), "not worst first: {sev:?}");
        for max in ["UNKNOWN", "INFO", "LOW", "MEDIUM", "HIGH"] {
            let rule: stance::api::guardrail_policy::VulnerabilityRule =
                serde_yaml::from_str(&format!("maxSeverity: {max}")).unwrap();
            let mut want: Vec<&str> =
                posture.findings.iter().filter(|f| counts(&rule, f, &dates, now())).map(|f| &*f.id).collect();
            let img = stance_core::policy::context::ImageCtx::new(&w.containers[0], &image, Some(posture));
            let hit = stance_core::policy::rules::vulnerabilities::check(&rule, &img, &dates, now());
            let mut got: Vec<&str> = hit.iter().flat_map(|h| h.items.iter().map(|i| &*i.key)).collect();
            want.sort_unstable();
            got.sort_unstable();
            assert_eq!(got, want, "maxSeverity {max}");
            checked += want.len();
        }
    }
    assert!(checked > 100, "the fixtures must exercise the rule ({checked})");
}

#[test]
fn unscored_vulnerabilities_count_above_every_threshold_but_critical() {
    // A CVE listed as known exploited before it is scored: Trivy writes `"Severity":
    // "UNKNOWN"`. Read by order alone, UNKNOWN sat below INFO and passed every policy.
    let report = r#"{"SchemaVersion": 2, "ArtifactName": "ghcr.io/acme/api:1.0", "ArtifactType": "container_image",
        "Results": [{"Target": "ghcr.io/acme/api:1.0 (alpine 3.20.3)", "Class": "os-pkgs", "Type": "alpine",
        "Vulnerabilities": [{"VulnerabilityID": "CVE-2022-22965", "PkgName": "libfoo", "InstalledVersion": "1.0.0-r0",
        "FixedVersion": "1.0.1-r0", "Severity": "UNKNOWN"}]}]}"#;
    let w = mk_deployment("shop", "api", "ghcr.io/acme/api:1.0");
    for (rule, denied) in [
        ("{maxSeverity: INFO, knownExploitedOnly: true}", true),
        ("{maxSeverity: HIGH}", true),
        ("{maxSeverity: UNKNOWN}", true),
        ("{maxSeverity: CRITICAL}", false),
    ] {
        let mut loaded = Loaded::default();
        loaded.add_bytes("p.yaml", policy("p", "Enforce", "", &format!("  - vulnerabilities: {rule}\n")).as_bytes());
        loaded.add_bytes("trivy.json", report.as_bytes());
        loaded.add_bytes(FIXTURES[2], &common::fixture_bytes(FIXTURES[2]));
        assert!(loaded.warnings.is_empty(), "{:#?}", loaded.warnings);
        let v = check(&loaded.into_index(IndexConfig::default()), &w);
        assert_eq!(!v.allowed(), denied, "{rule}: {v:#?}");
        if denied {
            let m = &v.violations[0].message;
            assert!(m.contains("CVE-2022-22965 UNKNOWN") && m.contains("until scored"), "{rule}: {m}");
        }
    }
}
