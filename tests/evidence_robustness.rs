//! Bounded work (issue 17 §4), through the operator's own path (`feed::prepare` → `commit`
//! under the write lock → `index::refresh_shared`) while admission (the webhook handler
//! over the same shared index) keeps answering:
//!
//! - `gzip-bomb-report-configmap` (the committed 32 MiB one, and the 64 MiB one its
//!   `make.sh` writes): refused with a warning and a refusal, peak memory far below the
//!   inflated size;
//! - `quadratic-correlation-one-package` (`make.sh 20000` and `40000`): 40,000 findings in
//!   one package cost about what 40,000 findings in 40,000 packages cost, and admission
//!   answers while they are correlated.
//!
//! The bounds are generous (this runs unoptimised, beside other tests): they catch the
//! faults (a bomb inflated whole, quadratic correlation, correlation under the write lock),
//! not regressions of speed, which BENCHMARKS.md tracks.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use base64::Engine;
use jiff::Timestamp;
use serde_json::{Value, json};
use stance::controller::feed::{self, FeedState};
use stance::controller::observed::Observed;
use stance::controller::targets::Feed;
use stance::ingest::{Limits, Reader, Refusal};
use stance_core::index::{PostureIndex, SharedIndex, refresh_shared};

const NOW: &str = "2026-11-27T12:00:00Z";

fn now() -> Timestamp {
    NOW.parse().unwrap()
}

/// Runs a case's `make.sh ARG DIR` in the case's folder.
fn make(case: &str, arg: &str, dir: &Path) {
    let status = Command::new("sh")
        .arg("./make.sh")
        .args([arg, dir.to_str().unwrap()])
        .current_dir(common::cases::path(case))
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "{case}/make.sh {arg}");
}

/// The namespace of the tenant writing the crafted ConfigMaps.
const TENANT: &str = "sandbox";

/// A report ConfigMap (as the watch delivers it) carrying one gzip'd file, written by a tenant.
fn config_map(name: &str, gz: &[u8]) -> Value {
    json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": TENANT, "labels": {"aspm.stance.dev/report": "trivy"}},
        "binaryData": {"report.json.gz": base64::engine::general_purpose::STANDARD.encode(gz)},
    })
}

/// The ConfigMap a case wrote, as the watch delivers it.
fn config_map_file(path: &Path) -> Value {
    serde_yaml::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// This thread's CPU time (user + system), from /proc (clock ticks of 10 ms).
fn thread_cpu() -> Duration {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").unwrap();
    let after = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    Duration::from_millis(ticks * 10)
}

/// The process's peak resident set (VmHWM), in MiB.
fn peak_rss_mib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse::<u64>().unwrap() / 1024
}

/// Resets the peak resident set to the current one (Linux `clear_refs` 5).
fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// When the phases of one object's trip through the operator's path began and ended.
struct Phases {
    /// Correlation (`refresh_shared`): from after the write lock of the apply to the end.
    refresh: (Duration, Duration),
}

/// One watched object through the operator's path; returns the refusals and its phases.
fn feed_object(index: &SharedIndex, state: &mut FeedState, obj: &Value, start: Instant) -> (Vec<Refusal>, Phases) {
    let p = feed::prepare(Feed::ReportConfigMap, "ConfigMap", obj, now(), Limits::default());
    let refusals = p.refusals.clone();
    {
        let mut idx = index.write().unwrap();
        let mut observed = Observed::default();
        feed::commit(&mut idx, state, &mut observed, Feed::ReportConfigMap, "ConfigMap", p);
    }
    let from = start.elapsed();
    refresh_shared(index).unwrap();
    (refusals, Phases { refresh: (from, start.elapsed()) })
}

/// Admission answering in a loop over the shared index until stopped: the times (since
/// `start`) each answer was given, and the longest one took.
struct Admission {
    stop: Arc<AtomicBool>,
    answers: Arc<Mutex<Vec<(Duration, Duration)>>>,
    thread: std::thread::JoinHandle<()>,
}

impl Admission {
    fn start(index: SharedIndex, review: Vec<u8>, start: Instant) -> Admission {
        let stop = Arc::new(AtomicBool::new(false));
        let answers = Arc::new(Mutex::new(Vec::new()));
        let (s, a) = (stop.clone(), answers.clone());
        let thread = std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                let asked = Instant::now();
                let idx = index.read().unwrap();
                let handled = stance::webhook::handle(&review, &idx, now(), &Default::default());
                drop(idx);
                let answer: Value = serde_json::from_slice(&handled.body).unwrap();
                assert_eq!(answer["response"]["allowed"], false, "the review is denied throughout: {answer}");
                a.lock().unwrap().push((asked.duration_since(start), asked.elapsed()));
                std::thread::sleep(Duration::from_millis(5));
            }
        });
        Admission { stop, answers, thread }
    }

    fn finish(self) -> Vec<(Duration, Duration)> {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.join().unwrap();
        Arc::try_unwrap(self.answers).unwrap().into_inner().unwrap()
    }
}

fn state_index() -> (SharedIndex, Vec<u8>) {
    let dir: PathBuf = common::cases::path("report-configmap-carries-exception");
    let reader = Reader::default();
    let loaded = stance::ingest::load_paths_with(&[dir.join("state")], &reader).unwrap();
    let index: PostureIndex = loaded.into_index(Default::default());
    let review = std::fs::read(dir.join("review-payments-api.json")).unwrap();
    (Arc::new(RwLock::new(index)), review)
}

#[test]
fn bombs_and_one_package_quadratics_are_bounded_while_admission_answers() {
    let tmp = tempfile::tempdir().unwrap();
    let (index, review) = state_index();
    let start = Instant::now();
    let admission = Admission::start(index.clone(), review, start);
    let mut state = FeedState::default();

    // Gzip bombs: 32 KB → 32 MiB, 87 KB → 64 MiB of "[[],[],…]".
    make("gzip-bomb-report-configmap", "64", tmp.path());
    let bombs = [
        common::cases::path("gzip-bomb-report-configmap/state/report-configmap.yaml"),
        tmp.path().join("report-configmap.yaml"),
    ];
    for bomb in bombs {
        let obj = config_map_file(&bomb);
        let reset = reset_peak_rss();
        let before = peak_rss_mib();
        let (refusals, _) = feed_object(&index, &mut state, &obj, start);
        let grew = peak_rss_mib().saturating_sub(before);
        assert_eq!(refusals, [Refusal::Decompressed], "{}", bomb.display());
        if reset {
            assert!(grew < 100, "{}: the peak resident set grew by {grew} MiB", bomb.display());
        }
    }

    // 20,000 and 40,000 findings, in one package and in as many packages.
    for n in ["20000", "40000"] {
        let dir = tmp.path().join(n);
        std::fs::create_dir(&dir).unwrap();
        make("quadratic-correlation-one-package", n, &dir);
        let mut cpu = Vec::new();
        for file in ["distinct-packages", "same-package"] {
            let gz = std::fs::read(dir.join(format!("{file}.json.gz"))).unwrap();
            let obj = config_map(&format!("{file}-{n}"), &gz);
            let cpu0 = thread_cpu();
            let (refusals, phases) = feed_object(&index, &mut state, &obj, start);
            assert!(refusals.is_empty(), "{refusals:?}");
            cpu.push((thread_cpu() - cpu0, phases));
            let idx = index.read().unwrap();
            let findings: usize = idx.artifacts_for(TENANT).map(|(_, p)| p.findings.len()).sum();
            assert!(findings >= n.parse().unwrap(), "{file} {n}: {findings} findings in {TENANT}'s view");
        }
        let (distinct, same) = (cpu[0].0, cpu[1].0);
        assert!(
            same <= distinct * 3 + Duration::from_millis(500),
            "{n} findings: one package took {same:?} of CPU, {n} packages {distinct:?}"
        );
        // Admission answered while the one-package report was correlated (it used to wait
        // for the index's write lock all along).
        let (from, to) = cpu[1].1.refresh;
        if to - from > Duration::from_millis(200) {
            let answers = admission.answers.lock().unwrap();
            let during = answers.iter().filter(|(at, _)| *at >= from && *at <= to).count();
            assert!(during > 0, "{n}: no admission answer in the {:?} correlation took", to - from);
        }
    }

    let answers = admission.finish();
    let slowest = answers.iter().map(|(_, took)| *took).max().unwrap();
    assert!(answers.len() > 10, "{} answers", answers.len());
    assert!(slowest < Duration::from_secs(5), "an admission review waited {slowest:?}");
}
