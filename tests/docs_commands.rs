//! Every `stance …` command the documentation shows is one the binary accepts: each command
//! in a fenced code block of README.md, docs/*.md and examples/gitops/README.md is parsed
//! with the real command line, and the offline ones (scan, findings, check, crds) are run —
//! a usage error or an unreadable path (exit code 2) fails the test, naming file and line.
//! Servers (operator, run, webhook) are not started: their arguments are parsed, and the
//! relative paths they name must exist.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use clap::Parser;

/// The documents, and the folder their commands are run from.
const DOCS: &[(&str, &str)] = &[
    ("README.md", "."),
    ("docs/concepts.md", "."),
    ("docs/install.md", "."),
    ("docs/operations.md", "."),
    ("docs/output.md", "."),
    ("docs/policy-reference.md", "."),
    ("docs/risk.md", "."),
    ("docs/security.md", "."),
    ("examples/gitops/README.md", "examples/gitops"),
];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[derive(Debug)]
struct Shown {
    file: String,
    line: usize,
    dir: PathBuf,
    args: Vec<String>,
}

/// Splits a shell line into words (quotes and backslashes), stopping at the first pipe,
/// redirection, `;`, `&&`, `||` or comment: what follows is not an argument of `stance`.
fn words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut has = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                has = true;
                for c in chars.by_ref().take_while(|c| *c != '\'') {
                    cur.push(c);
                }
            }
            '"' => {
                has = true;
                while let Some(c) = chars.next() {
                    match c {
                        '"' => break,
                        '\\' => cur.extend(chars.next()),
                        _ => cur.push(c),
                    }
                }
            }
            '\\' => {
                has = true;
                cur.extend(chars.next());
            }
            '|' | '>' | '<' | ';' | '&' if !has => break,
            '|' | '>' | '<' | ';' | '&' => {
                out.push(std::mem::take(&mut cur));
                break;
            }
            '#' if !has => break,
            c if c.is_whitespace() => {
                if has {
                    out.push(std::mem::take(&mut cur));
                    has = false;
                }
            }
            c => {
                has = true;
                cur.push(c);
            }
        }
    }
    if has {
        out.push(cur);
    }
    out
}

/// The `stance` commands of one Markdown document: lines of fenced blocks (continuations
/// joined) that start with `stance`, `$ stance`, or `cargo run [--release] --` (the binary).
fn commands(file: &str, dir: &Path) -> Vec<Shown> {
    let text = std::fs::read_to_string(root().join(file)).unwrap();
    let mut out = Vec::new();
    let (mut fenced, mut pending, mut start) = (false, String::new(), 0);
    for (i, line) in text.lines().enumerate() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            pending.clear();
            continue;
        }
        if !fenced {
            continue;
        }
        if pending.is_empty() {
            start = i + 1;
        }
        let trimmed = line.trim();
        if let Some(head) = trimmed.strip_suffix('\\') {
            pending.push_str(head);
            pending.push(' ');
            continue;
        }
        pending.push_str(trimmed);
        let full = std::mem::take(&mut pending);
        let mut w = words(full.trim_start_matches("$ "));
        let at = if w.first().is_some_and(|c| c == "stance") {
            Some(1)
        } else if w.len() > 2 && w[0] == "cargo" && w[1] == "run" {
            w.iter().position(|a| a == "--").map(|p| p + 1)
        } else {
            None
        };
        if let Some(at) = at {
            w.drain(..at);
            out.push(Shown { file: file.to_string(), line: start, dir: dir.to_path_buf(), args: w });
        }
    }
    out
}

fn all_commands() -> Vec<Shown> {
    DOCS.iter().flat_map(|(file, dir)| commands(file, &root().join(dir))).collect()
}

/// Why the binary rejects a shown command, if it does.
fn rejection(c: &Shown) -> Option<String> {
    if let Some(p) = c.args.iter().find(|a| a.contains('$') || a.starts_with('<')) {
        return Some(format!("{p:?} is a placeholder: show a command that runs, or use a ```text block"));
    }
    let argv = std::iter::once("stance".to_string()).chain(c.args.iter().cloned());
    if let Err(e) = stance::cli::Cli::try_parse_from(argv) {
        if !matches!(e.kind(), clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion) {
            return Some(e.render().to_string());
        }
    }
    let sub = c.args.first().map(String::as_str).unwrap_or("");
    if matches!(sub, "operator" | "run" | "webhook") {
        // Not started; the files it would read must be there.
        for pair in c.args.windows(2) {
            let path_flag = ["--state", "--feed", "--tls-cert", "--tls-key"].contains(&pair[0].as_str());
            if path_flag && !pair[1].starts_with('/') && !c.dir.join(&pair[1]).exists() {
                return Some(format!("{} does not exist (relative to {})", pair[1], c.dir.display()));
            }
        }
        return None;
    }
    let mut child = Command::new(env!("CARGO_BIN_EXE_stance"))
        .args(&c.args)
        .current_dir(&c.dir)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            return Some("did not finish within 60 s".into());
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let stderr = std::io::read_to_string(child.stderr.take().unwrap()).unwrap_or_default();
    // 0 and 1 (a denial by `stance check`) are answers; 2 is a usage error or an unreadable path.
    match status.code() {
        Some(0 | 1) => None,
        code => Some(format!("exit code {code:?}: {stderr}")),
    }
}

#[test]
fn every_documented_stance_command_is_accepted() {
    let shown = all_commands();
    // The documents do show commands: a parser that finds none would pass vacuously.
    assert!(shown.len() >= 8, "found only {} commands: {shown:#?}", shown.len());
    let problems: Vec<String> = shown
        .iter()
        .filter_map(|c| rejection(c).map(|why| format!("{}:{}: stance {}\n  {why}", c.file, c.line, c.args.join(" "))))
        .collect();
    assert!(problems.is_empty(), "documented commands the binary rejects:\n{}", problems.join("\n"));
}

#[test]
fn the_check_catches_what_the_docs_used_to_get_wrong() {
    let shown = |line: &str| Shown {
        file: "x.md".into(),
        line: 1,
        dir: root(),
        args: words(line).into_iter().skip(1).collect(),
    };
    // The flag is --feed, not --feeds.
    assert!(rejection(&shown("stance operator --feeds kev.json")).is_some());
    // A path that is not there.
    assert!(rejection(&shown("stance scan examples/no-such-folder")).is_some());
    assert!(rejection(&shown("stance scan $DIR")).is_some());
    // Several manifests after one -f are accepted, and a denial (exit 1) is an answer.
    assert!(
        rejection(&shown(
            "stance check -f examples/demo/cluster/payments.yaml examples/demo/cluster/shop.yaml --state examples/demo"
        ))
        .is_none()
    );
    assert_eq!(words("stance scan 'a b' \"c\\\"d\" e\\ f | head # x"), ["stance", "scan", "a b", "c\"d", "e f"]);
    let md = commands("examples/gitops/README.md", &root().join("examples/gitops"));
    assert!(md.iter().any(|c| c.args.first().is_some_and(|a| a == "check") && c.args.len() > 8), "{md:#?}");
}

/// docs/output.md's JSON example shows the demo's real `summary` counts.
#[test]
fn output_doc_summary_is_what_scan_prints() {
    let doc = std::fs::read_to_string(root().join("docs/output.md")).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_stance"))
        .args(["scan", "examples/demo", "--format", "json", "--now", "2026-11-27T12:00:00Z"])
        .current_dir(root())
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let s = &v["summary"];
    for key in ["files", "reports", "findings", "images", "workloads", "apps", "warnings"] {
        let shown = format!("\"{key}\": {}", s[key]);
        assert!(doc.contains(&shown), "docs/output.md should show {shown} (what stance scan examples/demo prints)");
    }
    let violations = format!("\"violations\": {{ {} }}", {
        let m = s["violations"].as_object().unwrap();
        m.iter().map(|(k, n)| format!("\"{k}\": {n}")).collect::<Vec<_>>().join(", ")
    });
    assert!(doc.contains(&violations), "docs/output.md should show {violations}");
}
