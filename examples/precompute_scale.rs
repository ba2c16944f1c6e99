//! What precomputed verdict parts cost at scale (issue 14 §1; results in BENCHMARKS.md):
//! an index of 1,000,000 synthetic findings over 10,000 images (two reports each) and 50
//! policies, then one Pod per image judged three times:
//!
//! 1. the first pass computes every image's outcomes and keeps them (RSS before and after:
//!    what keeping them costs);
//! 2. the second pass finds them kept;
//! 3. the same passes on an index that keeps nothing (`keepOutcomes` off), side by side;
//!
//! then 1 % of the reports change (new findings): the refresh time, and the time of the
//! next pass, which recomputes the changed images only.
//!
//! ```sh
//! cargo run --release --example precompute_scale
//! ```
//!
//! Prints one line per measurement. Timings are wall-clock medians of 3 passes on a shared
//! machine: compare the lines of one run, not runs on different days.

use std::time::{Duration, Instant};

use jiff::Timestamp;
use stance_core::index::{IndexConfig, PostureIndex};
use stance_core::model::Workload;
use stance_core::policy::judge;
use stance_core::synthetic::{self, Spec};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const IMAGES: usize = 10_000;

/// VmRSS of this process in MiB (0 where /proc is not available).
fn rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmRSS:"))?.split_whitespace().nth(1)?.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

fn build(spec: &Spec, config: IndexConfig) -> (PostureIndex, Duration) {
    let mut index = PostureIndex::new(config);
    for p in synthetic::policies(50) {
        index.apply_policy(p);
    }
    for (i, r) in synthetic::reports(spec).into_iter().enumerate() {
        index.apply_report(&format!("r{i}"), r);
    }
    let start = Instant::now();
    index.refresh();
    (index, start.elapsed())
}

/// Judges every Pod once; returns the time and the number of violations (so the work
/// cannot be optimised away).
fn pass(index: &PostureIndex, pods: &[Workload], now: Timestamp) -> (Duration, usize) {
    let start = Instant::now();
    let violations = pods.iter().map(|p| judge(p, None, index, now).judged.len()).sum();
    (start.elapsed(), violations)
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let now: Timestamp = "2026-11-27T00:00:00Z".parse().expect("constant");
    let spec = Spec { images: IMAGES, findings: 1_000_000, reports_per_image: 2, seed: 7 };
    let pods: Vec<Workload> = (0..IMAGES).map(|i| synthetic::pod("shop", &format!("p{i}"), &[i])).collect();

    let base_rss = rss_mib();
    let (kept, refresh) = build(&spec, IndexConfig::default());
    let built_rss = rss_mib();
    println!(
        "index: {} findings, {} images; refresh {:.2} s; RSS {:.0} MiB (process before: {:.0} MiB)",
        kept.finding_count(),
        kept.artifacts().count(),
        refresh.as_secs_f64(),
        built_rss,
        base_rss
    );

    let (first, violations) = pass(&kept, &pods, now);
    let filled_rss = rss_mib();
    let outcomes: usize = kept.artifacts().map(|(_, p)| p.precomputed.len()).sum();
    println!(
        "first pass (computes and keeps): {:.0} ms for {IMAGES} Pods ({:.1} µs each), {violations} violations; \
         {outcomes} outcomes kept; RSS {:.0} MiB (+{:.0} MiB)",
        first.as_secs_f64() * 1e3,
        first.as_secs_f64() * 1e6 / IMAGES as f64,
        filled_rss,
        filled_rss - built_rss
    );
    let kept_passes = median((0..3).map(|_| pass(&kept, &pods, now).0).collect());

    let (fresh, _) = build(&spec, IndexConfig { keep_outcomes: false, ..IndexConfig::default() });
    let fresh_passes = median((0..3).map(|_| pass(&fresh, &pods, now).0).collect());
    drop(fresh);
    println!(
        "kept pass: {:.1} µs per Pod; not kept: {:.1} µs per Pod; ratio {:.2}",
        kept_passes.as_secs_f64() * 1e6 / IMAGES as f64,
        fresh_passes.as_secs_f64() * 1e6 / IMAGES as f64,
        kept_passes.as_secs_f64() / fresh_passes.as_secs_f64()
    );

    // 1 % of the images get a new report: their postures are replaced, their kept outcomes
    // go with them, and the next pass computes those again.
    let mut kept = kept;
    let changed = Spec { images: IMAGES / 100, findings: 10_000, reports_per_image: 1, seed: 99 };
    for (i, r) in synthetic::reports(&changed).into_iter().enumerate() {
        kept.apply_report(&format!("changed{i}"), r);
    }
    let start = Instant::now();
    kept.refresh();
    let refresh_changed = start.elapsed();
    let dropped = kept.artifacts().filter(|(_, p)| p.precomputed.is_empty()).count();
    let (after_change, _) = pass(&kept, &pods, now);
    let kept_again = median((0..3).map(|_| pass(&kept, &pods, now).0).collect());
    println!(
        "1 % of images changed: refresh {:.0} ms; {dropped} postures replaced (their outcomes dropped); \
         next pass {:.1} µs per Pod, then {:.1} µs per Pod kept; RSS {:.0} MiB",
        refresh_changed.as_secs_f64() * 1e3,
        after_change.as_secs_f64() * 1e6 / IMAGES as f64,
        kept_again.as_secs_f64() * 1e6 / IMAGES as f64,
        rss_mib()
    );
}
