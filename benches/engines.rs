//! Criterion bench (issue 14 §3): the same guardrail — "deny an image with a fixable critical
//! or a known-exploited vulnerability on an internet-facing app, unless an unexpired exception
//! covers it" — judged by Stance (the webhook's handler), Rego (`regorus`) and CEL
//! (`cel-interpreter`) on the same AdmissionReview bytes and the same report data: 100,000
//! synthetic findings over 5,000 images plus the case images, the CISA KEV catalog, two
//! applications, two exceptions. `tests/engines.rs` asserts that the three agree; the engines
//! and the data are in `tests/engines_support`.
//!
//! Each engine loads its data once, outside the timed loop (the one-off load times are
//! printed); each iteration is one review from its bytes to the verdict.
//!
//! Run: `cargo bench --bench engines --features synthetic` (the feature only lets it share the
//! release build of `hack/loadtest-apiserver.sh`). Results: BENCHMARKS.md.

#[path = "../tests/engines_support/mod.rs"]
mod engines_support;

use std::hint::black_box;
use std::time::Instant;

use criterion::{Criterion, criterion_group, criterion_main};
use engines_support::*;
use jiff::Timestamp;
use stance_core::synthetic::{self, Spec};

/// The allocator the `stance` binary ships with (src/main.rs), so the numbers are the binary's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn engines(c: &mut Criterion) {
    let now = Timestamp::now();
    let kev = kev_ids(&fixture(KEV));
    let kev_id = kev.iter().find(|id| id.starts_with("CVE-2021-")).expect("a 2021 KEV entry").clone();
    let bulk = synthetic::reports(&Spec { images: 5_000, findings: 100_000, reports_per_image: 1, seed: 5 });
    let world = case_world(bulk, &kev_id, now);

    let t = Instant::now();
    let stance = StanceEngine::new(&world);
    eprintln!("engines: Stance index (file loader, correlation, refresh) built in {:.2?}", t.elapsed());
    let t = Instant::now();
    let mut rego = RegoEngine::new(&world);
    eprintln!("engines: Rego policy compiled and data document loaded in {:.2?}", t.elapsed());
    let t = Instant::now();
    let cel = CelEngine::new(&world);
    eprintln!("engines: CEL programs compiled and params converted in {:.2?}", t.elapsed());

    let [a, b, _] = CLEAN;
    // Three containers each: every image is looked up and every finding of it read.
    let reviews = [
        ("allowed", review("shop", "web-1", &WEB, &[a, b, EXCEPTED]), true),
        ("denied_critical", review("shop", "web-1", &WEB, &[a, CRITICAL, b]), false),
        ("denied_kev", review("shop", "web-1", &WEB, &[KEV_IMAGE, a, b]), false),
    ];
    for (name, body, admitted) in &reviews {
        assert_eq!(stance.allowed(body, now), *admitted, "Stance: {name}");
        assert_eq!(rego.allowed(body), *admitted, "Rego: {name}");
        assert_eq!(cel.allowed(body, now), *admitted, "CEL: {name}");
        let mut g = c.benchmark_group(format!("engines/{name}"));
        g.bench_function("stance", |bch| bch.iter(|| stance.allowed(black_box(body), now)));
        g.bench_function("rego", |bch| bch.iter(|| rego.allowed(black_box(body))));
        g.bench_function("cel", |bch| bch.iter(|| cel.allowed(black_box(body), now)));
        g.finish();
    }
}

criterion_group!(benches, engines);
criterion_main!(benches);
