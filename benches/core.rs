//! Criterion benches of the pure core. Run: `cargo bench --bench core`.
//! Results and the machine they ran on are in BENCHMARKS.md.

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use jiff::Timestamp;
use stance::ingest::{Loaded, parse_bytes};
use stance_core::index::correlate::correlate;
use stance_core::index::{IndexConfig, PostureIndex};
use stance_core::model::{Artifact, Channel, Finding, FindingKind, Format, Package, Provenance, Severity};
use stance_core::policy::{evaluate, judge};
use stance_core::synthetic::{self, Spec};

/// The allocator the `stance` binary ships with (src/main.rs), so the numbers are the binary's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn fixture(rel: &str) -> Vec<u8> {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures").join(rel);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn parse_largest_fixtures(c: &mut Criterion) {
    let mut g = c.benchmark_group("parse");
    for rel in [
        "cyclonedx-bom-examples/SBOM/juice-shop/via_npm/flat/bom.1.4.json",
        "defectdojo/sarif/semgrepowasp-benchmark-sample.sarif",
        "guac/oci-kubectl-linux-amd64-spdx-1.json",
        "guac/big-mongo-cyclonedx.json",
        "trivy-operator/00-sbom-pod.yaml",
        "kev/known_exploited_vulnerabilities.json",
    ] {
        let bytes = fixture(rel);
        g.throughput(criterion::Throughput::Bytes(bytes.len() as u64));
        g.bench_function(rel.rsplit('/').next().unwrap_or(rel), |b| {
            b.iter(|| {
                let (mut out, mut w) = (Vec::new(), Vec::new());
                parse_bytes(rel, black_box(&bytes), &mut out, &mut w);
                assert!(w.is_empty());
                out
            })
        });
    }
    g.finish();
}

/// Peak resident memory of this process so far (Linux VmHWM), in MiB.
fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

fn correlate_million(c: &mut Criterion) {
    let spec = Spec { images: 10_000, findings: 1_000_000, reports_per_image: 2, seed: 7 };
    let mut g = c.benchmark_group("correlate");
    g.sample_size(10).measurement_time(Duration::from_secs(40)).warm_up_time(Duration::from_secs(1));
    // The pure function over every finding at once.
    g.bench_function("correlate_1M_findings_10k_images", |b| {
        b.iter_batched(
            || synthetic::reports(&spec).into_iter().flat_map(|r| r.findings).collect::<Vec<_>>(),
            |findings| {
                let out = correlate(findings, |_| None);
                // Two reports per image share most findings: roughly half are duplicates.
                assert!(out.len() > 400_000 && out.len() < 1_000_000, "{} unique findings", out.len());
                out
            },
            BatchSize::PerIteration,
        )
    });
    // What the CLI and the operator do: apply every report to the index, refresh once.
    g.bench_function("index_1M_findings_10k_images", |b| {
        b.iter_batched(
            || synthetic::reports(&spec),
            |reports| {
                let mut index = PostureIndex::new(IndexConfig::default());
                for (i, r) in reports.into_iter().enumerate() {
                    index.apply_report(&format!("r{i}"), r);
                }
                index.refresh();
                assert_eq!(index.artifacts().count(), 10_000);
                index
            },
            BatchSize::PerIteration,
        )
    });
    g.finish();
    let unique = correlate(synthetic::reports(&spec).into_iter().flat_map(|r| r.findings), |_| None).len();
    eprintln!("correlate: 1,000,000 input findings -> {unique} unique");
    eprintln!("correlate: peak RSS of the bench process so far: {:.0} MiB", peak_rss_mib());
}

/// 100k findings over 1,000 images and `policies` synthetic policies; a Pod with 3
/// containers running scanned images; the evaluation time.
fn pod_setup(policies: usize) -> (PostureIndex, stance_core::model::Workload, Timestamp) {
    pod_setup_with(policies, IndexConfig::default())
}

/// [`pod_setup`] with an index configuration (e.g. without kept outcomes).
fn pod_setup_with(policies: usize, config: IndexConfig) -> (PostureIndex, stance_core::model::Workload, Timestamp) {
    let spec = Spec { images: 1_000, findings: 100_000, reports_per_image: 1, seed: 11 };
    let loaded = Loaded {
        reports: synthetic::reports(&spec),
        objects: synthetic::policies(policies).into_iter().map(stance::ingest::KubeObject::Policy).collect(),
        ..Loaded::default()
    };
    let index = loaded.into_index(config);
    assert_eq!(index.policies().filter(|p| p.compiled.is_ok()).count(), policies);
    let pod = synthetic::pod("shop", "web", &[1, 2, 3]);
    (index, pod, "2026-11-27T00:00:00Z".parse().unwrap())
}

fn evaluate_pod(c: &mut Criterion) {
    let (index, pod, now) = pod_setup(20);
    let verdict = evaluate(&pod, None, &index, now);
    assert!(!verdict.violations.is_empty(), "the bench must exercise real violations");
    c.bench_function("evaluate_pod_3_containers_20_policies_100k_findings", |b| {
        b.iter(|| evaluate(black_box(&pod), None, black_box(&index), now))
    });
}

/// What provenance scoping costs admission: the same Pod and index as
/// `evaluate_pod_3_containers_…`, plus another namespace's evidence (report ConfigMaps in
/// `sandbox`) adding findings to every image, so every image has a tenant view and each
/// lookup for the Pod's namespace asks for its view first. The verdict is the same.
fn evaluate_pod_tenant_views(c: &mut Criterion) {
    let (mut index, pod, now) = pod_setup(20);
    let spec = Spec { images: 1_000, findings: 20_000, reports_per_image: 1, seed: 13 };
    for ns in ["sandbox"] {
        let channel = Channel::ReportConfigMap { namespace: Arc::from(ns), name: Arc::from("ci"), upload: None };
        for (i, mut r) in synthetic::reports(&spec).into_iter().enumerate() {
            r.provenance = Provenance::new(channel.clone(), now);
            index.apply_report(&format!("{ns}-{i}"), r);
        }
    }
    index.refresh();
    assert_eq!(index.tenant_namespaces().len(), 1, "every image has a tenant view");
    let verdict = evaluate(&pod, None, &index, now);
    let (plain, _, _) = pod_setup(20);
    assert_eq!(verdict.violations.len(), evaluate(&pod, None, &plain, now).violations.len(), "the same verdict");
    c.bench_function("evaluate_pod_3_containers_20_policies_100k_findings_tenant_views", |b| {
        b.iter(|| evaluate(black_box(&pod), None, black_box(&index), now))
    });
}

/// The handed case `quadratic-correlation-one-package`'s shape: 40,000 findings with distinct
/// ids in one package of one image, against 40,000 in as many packages (near-linear: the two
/// cost about the same).
fn correlate_one_package(c: &mut Criterion) {
    let image = Artifact::Image(stance_core::model::ImageRef::parse("ghcr.io/x/y:1").unwrap());
    let source = stance_core::ingest::source(Format::TrivyJson, "Trivy", "bench");
    let findings = |same: bool| -> Vec<Finding> {
        (0..40_000)
            .map(|i| {
                let mut f = Finding::new(
                    FindingKind::Vulnerability,
                    &format!("CVE-2024-{i}"),
                    Severity::Low,
                    "",
                    image.clone(),
                    source.clone(),
                );
                let name = if same { "p".to_string() } else { format!("p{i}") };
                f.package = Some(Package {
                    name: Arc::from(name),
                    installed_version: Some(Arc::from("1")),
                    ..Default::default()
                });
                f
            })
            .collect()
    };
    let mut g = c.benchmark_group("correlate_40k");
    g.sample_size(20);
    for (name, same) in [("one_package", true), ("distinct_packages", false)] {
        g.bench_function(name, |b| {
            b.iter_batched(|| findings(same), |fs| correlate(fs, |_| None), BatchSize::LargeInput)
        });
    }
    g.finish();
}

fn judge_pod(c: &mut Criterion) {
    // Admission's path against the full verdict, side by side, where it matters: 50
    // policies, so the Pod breaks more rules than an answer shows.
    let (index, pod, now) = pod_setup(50);
    let n = evaluate(&pod, None, &index, now).violations.len();
    assert!(n > 20, "the bench needs more violations than an answer shows ({n})");
    let mut g = c.benchmark_group(format!("pod_50_policies_{n}_violations"));
    g.bench_function("evaluate_all_messages", |b| b.iter(|| evaluate(black_box(&pod), None, black_box(&index), now)));
    // What the webhook writes: the denial lines that fit in 4,000 bytes and 19 warnings,
    // with the image-level outcomes kept across requests (as served) and, side by side,
    // computed for every request (issue 14 §1).
    let (fresh, _, _) = pod_setup_with(50, IndexConfig { keep_outcomes: false, ..IndexConfig::default() });
    for (name, index) in [("judge_answer_messages", &index), ("judge_answer_messages_not_kept", &fresh)] {
        g.bench_function(name, |b| b.iter(|| answer_bytes(&judge(black_box(&pod), None, black_box(index), now))));
    }
    g.finish();
}

/// The bytes of what an admission answer shows: the denial lines that fit in 4,000 bytes
/// and 19 warnings.
fn answer_bytes(j: &stance_core::policy::Judgement<'_>) -> usize {
    let mut bytes = 0;
    for line in j.denials().map(|v| v.line()) {
        bytes += line.len();
        if bytes > 4000 {
            break;
        }
    }
    bytes + j.warnings().take(19).map(|v| v.line().len()).sum::<usize>()
}

criterion_group!(
    benches,
    parse_largest_fixtures,
    evaluate_pod,
    evaluate_pod_tenant_views,
    judge_pod,
    correlate_one_package,
    correlate_million
);
criterion_main!(benches);
