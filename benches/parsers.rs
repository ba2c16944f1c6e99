//! Criterion benches of the scanner formats added for issue 13, on their largest real
//! fixtures (`../shared/fixtures`). Run: `cargo bench --bench parsers`. Results and the
//! machine they ran on are in BENCHMARKS.md.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use stance::ingest::parse_bytes;

/// The allocator the `stance` binary ships with (src/main.rs), so the numbers are the binary's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn fixture(rel: &str) -> Vec<u8> {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures").join(rel);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn parse_new_formats(c: &mut Criterion) {
    let mut g = c.benchmark_group("parse_new");
    for rel in [
        "defectdojo/kubescape/many_findings.json",
        "defectdojo/osv-scanner/many_findings.json",
        "defectdojo/checkov/checkov-report-multiple-check_type.json",
        "defectdojo/snyk/all_containers_target_output.json",
        "defectdojo/snyk/snykcontainer_issue_9270.json",
        "defectdojo/grype/issue_9618.json",
        "defectdojo/semgrep/many_vulns.json",
        "spdx3/examplemaven-0.0.1-enriched.spdx3.json",
    ] {
        let bytes = fixture(rel);
        g.throughput(criterion::Throughput::Bytes(bytes.len() as u64));
        g.bench_function(rel.trim_start_matches("defectdojo/"), |b| {
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

criterion_group!(benches, parse_new_formats);
criterion_main!(benches);
