//! Every `stance …` command the documentation shows is one the binary accepts: each command
//! in a fenced code block of README.md, docs/*.md and examples/gitops/README.md is parsed
//! with the real command line, and the offline ones (scan, findings, check, crds) are run —
//! a usage error or an unreadable path (exit code 2) fails the test, naming file and line.
//! Servers (operator, run, webhook, serve) are not started: their arguments are parsed, and the
//! relative paths they name must exist.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use clap::Parser;

/// The documents, and the folder their commands are run from.
const DOCS: &[(&str, &str)] = &[
    ("README.md", "."),
    ("docs/concepts.md", "."),
    ("docs/dashboard.md", "."),
    ("docs/history.md", "."),
    ("docs/install.md", "."),
    ("docs/operations.md", "."),
    ("docs/output.md", "."),
    ("docs/policy-reference.md", "."),
    ("docs/risk.md", "."),
    ("docs/request-an-exception.md", "examples/gitops"),
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
    if matches!(sub, "operator" | "run" | "webhook" | "serve") {
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
    // docs/history.md replays a timeline into this store: start it afresh (a store refuses
    // a snapshot older than its last one).
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("/tmp/stance-history-demo.db{suffix}"));
    }
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

/// The fenced blocks of one language (`yaml`, `text`) in a document, in order.
fn blocks(file: &str, lang: &str) -> Vec<String> {
    let text = std::fs::read_to_string(root().join(file)).unwrap();
    let mut out = Vec::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        let t = line.trim_start();
        if let Some(rest) = t.strip_prefix("```") {
            match current.take() {
                Some(block) => out.push(block),
                None if rest == lang => current = Some(String::new()),
                None => {}
            }
            continue;
        }
        if let Some(block) = current.as_mut() {
            block.push_str(line);
            block.push('\n');
        }
    }
    out
}

/// Runs a shown command (with `args` changed by `edit`) and returns its exit code and output.
fn output(c: &Shown, edit: impl FnOnce(&mut Vec<String>)) -> (Option<i32>, String) {
    let mut args = c.args.clone();
    edit(&mut args);
    let out = Command::new(env!("CARGO_BIN_EXE_stance")).args(&args).current_dir(&c.dir).output().unwrap();
    (out.status.code(), String::from_utf8_lossy(&out.stdout).into_owned())
}

/// docs/request-an-exception.md shows what Stance does: the denial it quotes (with the
/// exception's fields), the exception written from them (the example file), the check that
/// then excepts the violation and keeps its CVE, the state `stance scan` shows (and the
/// `Unmatched` reason without `match`), and the denial that names the exception once expired.
#[test]
fn the_request_an_exception_page_is_what_stance_does() {
    const PAGE: &str = "docs/request-an-exception.md";
    let gitops = root().join("examples/gitops");
    let shown = commands(PAGE, &gitops);
    let [denied, excepted, scan] = &shown[..] else { panic!("three commands: {shown:#?}") };
    let texts = blocks(PAGE, "text");
    let [denial, excepted_line, unmatched, expired] = &texts[..] else { panic!("four text blocks: {texts:#?}") };

    let (code, out) = output(denied, |_| {});
    assert_eq!(code, Some(1), "{out}");
    for line in denial.lines() {
        assert!(out.contains(line), "the page quotes a line stance check does not print:\n{line}\n---\n{out}");
    }

    let yaml = blocks(PAGE, "yaml");
    let file = std::fs::read_to_string(gitops.join("requests/payments-spring4shell-kev.yaml")).unwrap();
    let parse = |t: &str| serde_yaml::from_str::<serde_yaml::Value>(t).unwrap();
    assert_eq!(parse(&yaml[0]), parse(&file), "the page shows the example file");

    let (code, out) = output(excepted, |_| {});
    assert_eq!(code, Some(1), "still denied by digest pinning: {out}");
    assert!(out.contains(excepted_line.trim_end()), "{out}");
    assert!(out.contains("deny:  [digest-pinning-in-prod/imageReference]"), "{out}");

    let (code, out) = output(scan, |_| {});
    assert_eq!(code, Some(0));
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let state = |v: &serde_json::Value, key: &str| {
        let e = v["exceptions"].as_array().unwrap().iter().find(|e| e["name"] == "payments-spring4shell-kev").unwrap();
        e[key].as_str().unwrap_or_default().to_string()
    };
    assert_eq!(state(&v, "state"), "Active");
    // The same exception without `match`: Unmatched, with the reason the page quotes.
    let dir = tempfile::tempdir().unwrap();
    let mut unscoped = parse(&file);
    unscoped["spec"].as_mapping_mut().unwrap().remove("match");
    std::fs::write(dir.path().join("unscoped.yaml"), serde_yaml::to_string(&unscoped).unwrap()).unwrap();
    let (_, out) = output(scan, |a| {
        let requests = a.iter().position(|x| x == "requests/").unwrap();
        a[requests] = dir.path().join("unscoped.yaml").display().to_string();
    });
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(state(&v, "state"), "Unmatched");
    assert_eq!(state(&v, "reason"), unmatched.trim_end());

    // After it expired: denied again, and the denial names it.
    let (code, out) = output(excepted, |a| {
        let now = a.iter().position(|x| x == "--now").unwrap();
        a[now + 1] = "2027-02-01T00:00:00Z".into();
    });
    assert_eq!(code, Some(1));
    let (head, tail) = expired.trim_end().split_once(" … ").unwrap();
    assert!(out.contains(head), "{out}");
    let named = tail.split(" … ").last().unwrap().split(". To accept").next().unwrap();
    assert!(out.contains(named), "the denial names the expired exception ({named}):\n{out}");
}
