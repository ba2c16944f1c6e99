//! Which AppPostures a burst of index changes re-runs (no cluster: the index, the change
//! and writer channels, and what reaches the controller's triggers).

use std::sync::{Arc, RwLock};
use std::time::Duration;

use futures::StreamExt;
use futures::channel::mpsc::UnboundedReceiver;
use kube::runtime::reflector::ObjectRef;
use tokio::sync::watch as channel;
use tokio_util::sync::CancellationToken;

use super::{Rerun, route_changes};
use crate::api::AppPosture;
use stance_core::guardrail::CompileError;
use stance_core::index::{IndexConfig, PolicyEntry, PostureIndex, SharedIndex};
use stance_core::model::{App, Artifact, Finding, FindingKind, Format, Report, Severity, Source};
use stance_core::selector::LabelSelector;
use stance_core::synthetic::{image, pod};

fn app(ns: &str, name: &str) -> App {
    App {
        namespace: Arc::from(ns),
        name: Arc::from(name),
        selector: Some(LabelSelector {
            match_labels: [("app".to_string(), name.to_string())].into(),
            match_expressions: Vec::new(),
        }),
        ..Default::default()
    }
}

/// A trusted report of synthetic image `i` with one CRITICAL.
fn report(i: usize) -> Report {
    let img = image(i);
    let source = Arc::new(Source {
        format: Format::TrivyOperator,
        scanner: Arc::from("Trivy"),
        origin: Arc::from(format!("report of image {i}")),
        workload: None,
        container: None,
    });
    let mut r = Report::new(source.clone());
    r.scanned = vec![Artifact::Image(img.clone())];
    r.findings.push(Finding::new(
        FindingKind::Vulnerability,
        "CVE-2024-0001",
        Severity::Critical,
        "CVE-2024-0001",
        Artifact::Image(img),
        source,
    ));
    r
}

/// Applies `change` and announces the new generation, as a watch does.
fn change(index: &SharedIndex, changes: &channel::Sender<u64>, change: impl FnOnce(&mut PostureIndex)) {
    let mut idx = index.write().unwrap();
    change(&mut idx);
    idx.refresh();
    changes.send_replace(idx.generation());
}

/// What the controller was asked to re-run in the next 200 ms.
async fn asked(some: &mut UnboundedReceiver<ObjectRef<AppPosture>>) -> Vec<String> {
    let mut out = Vec::new();
    while let Ok(Some(r)) = tokio::time::timeout(Duration::from_millis(200), some.next()).await {
        out.push(format!("{}/{}", r.namespace.unwrap_or_default(), r.name));
    }
    out
}

#[tokio::test]
async fn a_pass_re_runs_the_apps_a_change_reaches_and_all_of_them_on_everything() {
    let index: SharedIndex = Arc::new(RwLock::new(PostureIndex::new(IndexConfig::default())));
    {
        let mut idx = index.write().unwrap();
        // a/web and b/api run image 1; c/db runs image 2.
        for (ns, name, img) in [("a", "web", 1), ("b", "api", 1), ("c", "db", 2)] {
            idx.apply_workload(pod(ns, name, &[img]));
            idx.apply_app(app(ns, name));
        }
        idx.refresh();
    }
    let (changes_tx, changes_rx) = channel::channel(0u64);
    let (writer_tx, writer_rx) = channel::channel(false);
    let (all_tx, mut all) = futures::channel::mpsc::unbounded();
    let (some_tx, mut some) = futures::channel::mpsc::unbounded();
    let token = CancellationToken::new();
    let window = Duration::from_millis(10);
    tokio::spawn(route_changes(
        index.clone(),
        changes_rx,
        writer_rx,
        window,
        Rerun { all: all_tx, some: some_tx },
        token.clone(),
    ));

    // Before this replica may write, a change re-runs nothing...
    change(&index, &changes_tx, |idx| {
        idx.apply_report("image-2", report(2));
    });
    assert_eq!(asked(&mut some).await, Vec::<String>::new());
    assert!(all.try_recv().is_err(), "nothing re-run before writing");
    // ...and becoming the writer re-runs every application.
    writer_tx.send_replace(true);
    assert_eq!(tokio::time::timeout(Duration::from_secs(5), all.next()).await.ok().flatten(), Some(()));

    // A report of image 1 reaches the two applications running it, not c/db.
    change(&index, &changes_tx, |idx| {
        idx.apply_report("image-1", report(1));
    });
    let mut got = asked(&mut some).await;
    got.sort();
    assert_eq!(got, vec!["a/web".to_string(), "b/api".to_string()]);
    assert!(all.try_recv().is_err());

    // A GuardrailPolicy reaches every application.
    change(&index, &changes_tx, |idx| {
        idx.apply_policy(PolicyEntry {
            name: Arc::from("p"),
            generation: None,
            enforcement: Default::default(),
            description: None,
            compiled: Err(CompileError::new("spec", "test")),
        });
    });
    assert_eq!(tokio::time::timeout(Duration::from_secs(5), all.next()).await.ok().flatten(), Some(()));
    assert_eq!(asked(&mut some).await, Vec::<String>::new());
    token.cancel();
}
