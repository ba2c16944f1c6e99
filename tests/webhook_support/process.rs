//! Running `stance webhook` as a process for the end-to-end and cluster tests.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::*;

/// A running `stance webhook`; killed when dropped.
pub struct Server {
    pub child: Child,
    pub addr: SocketAddr,
    pub metrics: SocketAddr,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A state folder with the test policies (deny known-exploited, warn on `latest`).
pub fn state_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let policies = [
        policy("no-kev", "Enforce", "  onUnscanned: allow\n", KEV_RULE),
        policy("no-latest", "Warn", "", "  - imageReference: {disallowLatest: true}\n"),
    ]
    .concat();
    std::fs::write(dir.path().join("policies.yaml"), policies).unwrap();
    dir
}

/// Starts the binary and waits for the addresses it prints.
pub fn start(state: &Path, tls_args: &[String]) -> Server {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_stance"));
    cmd.args(["webhook", "--listen", "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0", "--now", NOW])
        .arg("--state")
        .arg(state)
        .args(REPORTS.iter().flat_map(|r| ["--state".into(), common::fixture_path(r)]))
        .args(tls_args)
        .env("STANCE_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    let mut child = cmd.spawn().expect("start stance webhook");
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    // Reads (and keeps draining) stdout, where the addresses and the logs go.
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let (mut addr, mut metrics) = (None, None);
    let deadline = Instant::now() + Duration::from_secs(120);
    while addr.is_none() || metrics.is_none() {
        let line = rx
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .expect("the webhook prints its addresses");
        if let Some(a) = line.strip_prefix("listening on https://") {
            addr = Some(a.trim().parse().unwrap());
        }
        if let Some(m) = line.strip_prefix("metrics on http://") {
            metrics = Some(m.trim().trim_end_matches("/metrics").parse().unwrap());
        }
    }
    Server { child, addr: addr.unwrap(), metrics: metrics.unwrap() }
}

/// Sends SIGTERM and waits (at most 20 s) for the process to exit.
pub fn sigterm_and_wait(server: &mut Server) -> std::process::ExitStatus {
    sigterm(server);
    wait_exit(server)
}

/// Sends SIGTERM without waiting.
pub fn sigterm(server: &Server) {
    let ok = Command::new("kill").args(["-TERM", &server.child.id().to_string()]).status().unwrap();
    assert!(ok.success());
}

/// Waits (at most 20 s) for the process to exit.
pub fn wait_exit(server: &mut Server) -> std::process::ExitStatus {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(status) = server.child.try_wait().unwrap() {
            return status;
        }
        assert!(Instant::now() < deadline, "the webhook did not stop within 20 s of SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    }
}
