//! Deterministic synthetic data for benchmarks and load tests: scanner reports over many
//! images, policies and workloads, shaped like real Trivy Operator output (realistic id,
//! package and severity mixes; several reports per image, as one per ReplicaSet).
//!
//! Not used by Stance itself: behind the `synthetic` feature, for `benches/`, property
//! tests and the load-test data writer (`stance-synth`).

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Deserialize;

use crate::guardrail::{Enforcement, ExceptionSettings, GuardrailRule, MatchSource, OnUnscanned, Policy, PolicySource};
use crate::index::PolicyEntry;
use crate::model::{
    Artifact, Container, Criticality, Exposure, Finding, FindingKind, Format, ImageRef, Package, Report, Severity,
    Source, Workload, WorkloadKind,
};
use crate::selector::LabelSelector;

/// A tiny deterministic PRNG (xorshift64*): benchmarks must generate the same data on
/// every run and machine.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }
}

/// What to generate.
#[derive(Clone, Debug)]
pub struct Spec {
    pub images: usize,
    /// Findings in all reports together (input to correlation, duplicates included).
    pub findings: usize,
    /// Reports per image (Trivy Operator writes one per ReplicaSet running it); findings
    /// repeated across an image's reports are what correlation de-duplicates.
    pub reports_per_image: usize,
    pub seed: u64,
}

impl Spec {
    /// Total findings per image, split across its reports.
    fn per_image(&self) -> usize {
        (self.findings / self.images.max(1)).max(1)
    }
}

/// The image reference of synthetic image `i`.
pub fn image(i: usize) -> ImageRef {
    ImageRef::parse(&format!("registry.example.com/team-{}/service-{i}:1.{}.0", i % 100, i % 7))
        .unwrap_or_else(|_| unreachable_image())
}

fn unreachable_image() -> ImageRef {
    ImageRef::from_parts("registry.example.com", "invalid", Some("0"), None)
}

const PACKAGES: [&str; 24] = [
    "openssl",
    "libssl3",
    "libcrypto3",
    "zlib",
    "curl",
    "libcurl",
    "glibc",
    "busybox",
    "musl",
    "expat",
    "libxml2",
    "sqlite-libs",
    "ncurses",
    "bash",
    "tar",
    "gnutls",
    "krb5-libs",
    "log4j-core",
    "spring-beans",
    "jackson-databind",
    "netty-codec",
    "lodash",
    "minimist",
    "golang.org/x/net",
];

/// Scanner reports: `spec.images` images, each with findings spread over
/// `spec.reports_per_image` reports (the same image scanned for several workloads).
pub fn reports(spec: &Spec) -> Vec<Report> {
    let mut rng = Rng::new(spec.seed);
    let per_image = spec.per_image();
    let per_report = per_image / spec.reports_per_image.max(1);
    let scanner: Arc<str> = Arc::from("Trivy 0.50.0");
    let mut out = Vec::with_capacity(spec.images * spec.reports_per_image);
    let sev = [
        Severity::Critical,
        Severity::High,
        Severity::High,
        Severity::Medium,
        Severity::Medium,
        Severity::Medium,
        Severity::Low,
    ];
    for i in 0..spec.images {
        let img = image(i);
        let artifact = Artifact::Image(img);
        // The image's vulnerabilities; every report of the image sees mostly the same ones.
        let pool: Vec<(Arc<str>, usize, Severity)> = (0..per_report + per_report / 4 + 1)
            .map(|_| {
                let year = 2018 + rng.below(8);
                (
                    Arc::from(format!("CVE-{year}-{:05}", rng.below(60_000))),
                    rng.below(PACKAGES.len()),
                    sev[rng.below(sev.len())],
                )
            })
            .collect();
        for r in 0..spec.reports_per_image {
            let source = Arc::new(Source {
                format: Format::TrivyOperator,
                scanner: scanner.clone(),
                origin: Arc::from(format!("team-{}/replicaset-service-{i}-{r}", i % 100)),
                workload: None,
                container: None,
            });
            let mut report = Report::new(source.clone());
            report.scanned = vec![artifact.clone()];
            for k in 0..per_report {
                // 80% of a report's findings are shared with the image's other reports.
                let (id, pkg, severity) =
                    if k * 5 < per_report * 4 { pool[k].clone() } else { pool[rng.below(pool.len())].clone() };
                let mut f =
                    Finding::new(FindingKind::Vulnerability, &id, severity, &id, artifact.clone(), source.clone());
                f.cvss = Some(match severity {
                    Severity::Critical => 9.8,
                    Severity::High => 7.5,
                    Severity::Medium => 5.3,
                    _ => 3.1,
                });
                f.package = Some(Package {
                    purl: None,
                    name: Arc::from(PACKAGES[pkg]),
                    installed_version: Some(Arc::from("1.2.3")),
                    fixed_version: (k % 3 != 0).then(|| Arc::from("1.2.4")),
                });
                report.findings.push(f);
            }
            out.push(report);
        }
    }
    out
}

/// The specs of the synthetic policies (`spec` of a GuardrailPolicy, as YAML), cycled.
const POLICY_TEMPLATES: [&str; 10] = [
    "enforcement: Enforce\nrules: [{vulnerabilities: {maxSeverity: HIGH, fixAvailableOnly: true}}]",
    "enforcement: Enforce\nrules: [{vulnerabilities: {maxSeverity: MEDIUM, knownExploitedOnly: true}}]",
    "enforcement: Warn\nmatch: {exposures: [internet]}\nrules: [{riskScore: {max: 85}}]",
    "enforcement: Warn\nrules: [{scanRequired: {maxAgeHours: 168}}, {sbomRequired: {}}]",
    "enforcement: Enforce\nrules: [{components: {banned: [{purl: 'pkg:maven/org.apache.logging.log4j/log4j-core', versions: '>=2.0.0, <2.17.1'}], deniedLicenses: [AGPL-3.0-only]}}]",
    "enforcement: Audit\nrules: [{imageReference: {allowedRegistries: [registry.example.com], disallowLatest: true}}]",
    "enforcement: Audit\nrules: [{workloadSecurity: {}}]",
    "enforcement: Warn\nmatch: {namespaceSelector: {matchLabels: {env: prod}}}\nrules: [{ownership: {requiredLabels: [team]}}]",
    "enforcement: Enforce\nmatch: {criticalities: [critical]}\nrules: [{vulnerabilities: {maxSeverity: HIGH, olderThanDays: 30}}]",
    "enforcement: Enforce\nmatch: {kinds: [CronJob, Job]}\nrules: [{vulnerabilities: {maxSeverity: HIGH, minEpss: 0.5}}]",
];

/// `n` policies mixing every rule type and enforcement mode, as `(name, spec YAML)`: what
/// `stance-synth` writes as GuardrailPolicy objects.
pub fn policy_specs(n: usize) -> Vec<(String, &'static str)> {
    (0..n).map(|i| (format!("policy-{i}"), POLICY_TEMPLATES[i % POLICY_TEMPLATES.len()])).collect()
}

/// The part of a GuardrailPolicy spec the templates use, in domain types.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Template {
    #[serde(default)]
    enforcement: Enforcement,
    #[serde(default, rename = "match")]
    matcher: TemplateMatch,
    rules: Vec<GuardrailRule>,
}

#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct TemplateMatch {
    #[serde(default)]
    namespace_selector: Option<LabelSelector>,
    #[serde(default)]
    criticalities: Vec<Criticality>,
    #[serde(default)]
    exposures: Vec<Exposure>,
    #[serde(default)]
    kinds: Vec<String>,
}

/// `n` valid policies mixing every rule type and enforcement mode, compiled (the same
/// policies [`policy_specs`] describes).
pub fn policies(n: usize) -> Vec<PolicyEntry> {
    policy_specs(n)
        .into_iter()
        .filter_map(|(name, yaml)| {
            let t: Template = serde_yaml::from_str(yaml).ok()?;
            let settings = ExceptionSettings::default();
            let compiled = Policy::compile(PolicySource {
                name: Some(&name),
                enforcement: t.enforcement,
                matcher: MatchSource {
                    namespace_selector: t.matcher.namespace_selector.as_ref(),
                    criticalities: &t.matcher.criticalities,
                    exposures: &t.matcher.exposures,
                    kinds: &t.matcher.kinds,
                    ..MatchSource::default()
                },
                on_unscanned: OnUnscanned::default(),
                new_risk_only: false,
                exceptions: &settings,
                rules: &t.rules,
            });
            Some(PolicyEntry {
                name: Arc::from(name.as_str()),
                generation: None,
                enforcement: t.enforcement,
                description: None,
                compiled: compiled.map(Arc::new),
            })
        })
        .collect()
}

/// A Pod in namespace `ns` running the given synthetic images, each container with
/// `allowPrivilegeEscalation: false`, `runAsNonRoot: true` and CPU and memory limits.
pub fn pod(ns: &str, name: &str, images: &[usize]) -> Workload {
    let labels: BTreeMap<String, String> =
        [("team", "t"), ("app", name)].into_iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    let containers = images
        .iter()
        .enumerate()
        .map(|(c, i)| {
            // Written out and read back, as a manifest would give it.
            let raw = image(*i).to_string();
            Container::hardened(&format!("c{c}"), &raw)
        })
        .collect();
    let mut w = Workload::new(WorkloadKind::Pod, ns, name, containers);
    w.labels = labels.clone();
    w.pod_labels = labels;
    w
}
