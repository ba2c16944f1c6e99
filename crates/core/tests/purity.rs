//! The core's purity, checked: it depends on no Kubernetes client, no async runtime, and
//! its code reads neither files nor the clock. A comment cannot keep a crate pure; this
//! test and the crate's `Cargo.toml` do.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Crates the core must never depend on (normal dependencies, transitively).
const FORBIDDEN_CRATES: &[&str] = &["kube", "kube-client", "kube-core", "kube-runtime", "k8s-openapi", "tokio"];

/// Calls that read files or the clock. The caller passes bytes and `now`.
const FORBIDDEN_CALLS: &[&str] =
    &["std::fs", "fs::read", "File::open", "SystemTime", "Timestamp::now", "Zoned::now", "Instant::now"];

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn no_kubernetes_client_or_async_runtime_in_the_dependency_tree() {
    let out = Command::new(env!("CARGO"))
        .args(["tree", "--locked", "--offline", "-p", "stance-core", "-e", "normal", "--prefix", "none"])
        .args(["--format", "{p}"])
        .current_dir(crate_dir())
        .output()
        .expect("cargo runs");
    assert!(out.status.success(), "cargo tree failed: {}", String::from_utf8_lossy(&out.stderr));
    let tree = String::from_utf8_lossy(&out.stdout);
    assert!(tree.lines().next().is_some_and(|l| l.starts_with("stance-core ")), "unexpected tree:\n{tree}");
    let found: Vec<&str> =
        tree.lines().filter(|l| FORBIDDEN_CRATES.iter().any(|c| l.split_whitespace().next() == Some(*c))).collect();
    assert!(found.is_empty(), "stance-core depends on {found:?}; the core must stay free of them:\n{tree}");
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("src is readable") {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn the_code_reads_neither_files_nor_the_clock() {
    let mut files = Vec::new();
    rust_files(&crate_dir().join("src"), &mut files);
    assert!(files.len() > 50, "found only {} source files", files.len());
    let mut hits = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).expect("source is UTF-8");
        for (n, line) in text.lines().enumerate() {
            if let Some(call) = FORBIDDEN_CALLS.iter().find(|c| line.contains(*c)) {
                hits.push(format!("{}:{}: {call}", f.display(), n + 1));
            }
        }
    }
    assert!(
        hits.is_empty(),
        "the core must not read files or the clock (pass bytes and `now` in):\n{}",
        hits.join("\n")
    );
}
