//! The load client of `hack/loadtest-apiserver.sh` (issue 14 §2): what Stance's admission
//! webhook adds to a `create` through a real kube-apiserver.
//!
//! It creates Pods and Deployments (alternately, each with three containers running scanned
//! synthetic images) in one namespace through the API server, from `--concurrency` tokio tasks
//! sharing one kube client, in phases of `--seconds`: alternately WITH Stance's
//! ValidatingWebhookConfiguration installed (the chart's settings: failurePolicy Fail,
//! timeoutSeconds 5, sideEffects NoneOnDryRun, matchPolicy Equivalent, its rules and
//! namespaceSelector; `clientConfig.url` instead of a Service, as the local API server has no
//! cluster network) and WITHOUT it, `--rounds` times each, the order flipped every round. Each
//! request's latency is measured by the client, from the call to the answer. It prints one line
//! per phase and, at the end, the medians over rounds of each phase's p50, p99 and
//! requests/s, and the difference with − without.
//!
//! Why a Rust client and not kubectl or a generic HTTP load tool: kubectl spends ~100 ms
//! starting per object, far above what is measured; wrk-style tools would need the kubeconfig's
//! TLS and token handled by hand and cannot wait for the webhook configuration to take effect.
//! The kube client is the one Stance's operator uses (hyper, rustls, HTTP/1.1 keep-alive pool).
//!
//! Before each timed WITH phase it waits until the API server calls the webhook (a dry-run
//! create must move the webhook's `stance_webhook_admission_requests_total`), and after
//! removing the configuration until it no longer does. Every create must succeed (the load
//! uses Warn policies): a refused request stops the run, since it would not write to etcd and
//! would make the WITH numbers look better.
//!
//! Usage: cargo run --release --example loadtest_apiserver -- --kubeconfig FILE
//!   --webhook-url https://127.0.0.1:PORT/validate --ca-bundle FILE --metrics http://ADDR/metrics
//!   [--images 5000] [--seconds 20] [--rounds 3] [--concurrency 8] [--namespace loadtest]

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use base64::Engine as _;
use clap::Parser;
use k8s_openapi::api::admissionregistration::v1::ValidatingWebhookConfiguration;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Namespace, Pod, ServiceAccount};
use kube::api::{Api, DeleteParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};
use serde_json::{Value, json};

#[derive(Parser, Debug)]
struct Args {
    #[arg(long)]
    kubeconfig: PathBuf,
    /// The webhook's `/validate` URL as the API server reaches it.
    #[arg(long)]
    webhook_url: String,
    /// The webhook's CA certificate (PEM), for `clientConfig.caBundle`.
    #[arg(long)]
    ca_bundle: PathBuf,
    /// The webhook's Prometheus endpoint (to see when the API server starts calling it).
    #[arg(long)]
    metrics: String,
    /// How many synthetic images the index has (`stance-synth --images`).
    #[arg(long, default_value_t = 5000)]
    images: usize,
    #[arg(long, default_value_t = 20)]
    seconds: u64,
    #[arg(long, default_value_t = 3)]
    rounds: usize,
    #[arg(long, default_value_t = 8)]
    concurrency: usize,
    #[arg(long, default_value = "loadtest")]
    namespace: String,
}

const WEBHOOK: &str = "stance-loadtest";

/// The synthetic image `i` (`stance_core::synthetic::image`), as a manifest names it.
fn image(i: usize) -> String {
    format!("registry.example.com/team-{}/service-{i}:1.{}.0", i % 100, i % 7)
}

/// A pod spec with three containers running images `i`, `i+1`, `i+2`, hardened as the
/// synthetic policies ask (so the Warn policies' findings are the images', not the spec's).
fn pod_spec(i: usize, images: usize) -> Value {
    let containers: Vec<Value> = (0..3)
        .map(|c| {
            json!({"name": format!("c{c}"), "image": image((i + c) % images),
                   "securityContext": {"allowPrivilegeEscalation": false, "runAsNonRoot": true},
                   "resources": {"limits": {"cpu": "100m", "memory": "64Mi"}}})
        })
        .collect();
    json!({"containers": containers})
}

fn pod(name: &str, i: usize, images: usize) -> Result<Pod> {
    Ok(serde_json::from_value(json!({
        "metadata": {"name": name, "labels": {"app": name, "team": "load"}},
        "spec": pod_spec(i, images),
    }))?)
}

fn deployment(name: &str, i: usize, images: usize) -> Result<Deployment> {
    Ok(serde_json::from_value(json!({
        "metadata": {"name": name, "labels": {"app": name, "team": "load"}},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": name}},
                 "template": {"metadata": {"labels": {"app": name, "team": "load"}}, "spec": pod_spec(i, images)}},
    }))?)
}

/// The chart's workload webhook (charts/stance/templates/webhook.yaml) with a URL client config.
fn webhook_config(url: &str, ca: &[u8]) -> Result<ValidatingWebhookConfiguration> {
    Ok(serde_json::from_value(json!({
        "metadata": {"name": WEBHOOK},
        "webhooks": [{
            "name": "workloads.aspm.stance.dev",
            "admissionReviewVersions": ["v1"],
            "sideEffects": "NoneOnDryRun",
            "failurePolicy": "Fail",
            "matchPolicy": "Equivalent",
            "timeoutSeconds": 5,
            "clientConfig": {"url": url, "caBundle": base64::engine::general_purpose::STANDARD.encode(ca)},
            "namespaceSelector": {"matchExpressions": [
                {"key": "kubernetes.io/metadata.name", "operator": "NotIn", "values": ["kube-system", "stance-system"]},
                {"key": "aspm.stance.dev/ignore", "operator": "NotIn", "values": ["true"]},
            ]},
            "rules": [
                {"apiGroups": [""], "apiVersions": ["*"], "operations": ["CREATE", "UPDATE"],
                 "resources": ["pods", "pods/ephemeralcontainers"], "scope": "Namespaced"},
                {"apiGroups": ["apps"], "apiVersions": ["*"], "operations": ["CREATE", "UPDATE"],
                 "resources": ["deployments", "statefulsets", "daemonsets", "replicasets"], "scope": "Namespaced"},
                {"apiGroups": ["batch"], "apiVersions": ["*"], "operations": ["CREATE", "UPDATE"],
                 "resources": ["jobs", "cronjobs"], "scope": "Namespaced"},
            ],
        }],
    }))?)
}

/// The webhook's count of admission requests (all labels summed).
async fn webhook_requests(http: &reqwest_like::Http, metrics: &str) -> Result<f64> {
    let text = http.get(metrics).await?;
    Ok(text
        .lines()
        .filter(|l| l.starts_with("stance_webhook_admission_requests_total"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum())
}

/// Whether a dry-run create reaches the webhook now.
async fn webhook_called(pods: &Api<Pod>, http: &reqwest_like::Http, metrics: &str, n: usize) -> Result<bool> {
    let before = webhook_requests(http, metrics).await?;
    let dry = PostParams { dry_run: true, ..PostParams::default() };
    pods.create(&dry, &pod(&format!("probe-{n}"), 0, 1)?).await.context("dry-run create")?;
    Ok(webhook_requests(http, metrics).await? > before)
}

async fn wait_for(pods: &Api<Pod>, http: &reqwest_like::Http, metrics: &str, called: bool) -> Result<()> {
    let start = Instant::now();
    for n in 0.. {
        if webhook_called(pods, http, metrics, n).await? == called {
            return Ok(());
        }
        if start.elapsed() > Duration::from_secs(60) {
            bail!("the API server did not {} calling the webhook within 60 s", if called { "start" } else { "stop" });
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    Ok(())
}

/// One phase: latencies (µs) of every create, by kind, and the elapsed time.
struct Phase {
    pods: Vec<u64>,
    deployments: Vec<u64>,
    elapsed: Duration,
}

async fn phase(client: &Client, ns: &str, label: &str, seconds: u64, args: &Args) -> Result<Phase> {
    let next = Arc::new(AtomicUsize::new(0));
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..args.concurrency {
        let (client, ns, next, label, images) =
            (client.clone(), ns.to_string(), next.clone(), label.to_string(), args.images);
        tasks.push(tokio::spawn(async move {
            let pods: Api<Pod> = Api::namespaced(client.clone(), &ns);
            let deployments: Api<Deployment> = Api::namespaced(client, &ns);
            let (mut p, mut d) = (Vec::new(), Vec::new());
            while Instant::now() < deadline {
                let n = next.fetch_add(1, Ordering::Relaxed);
                let name = format!("{label}-{n}");
                let i = (n * 3) % images;
                let t = Instant::now();
                if n % 2 == 0 {
                    pods.create(&PostParams::default(), &pod(&name, i, images)?)
                        .await
                        .map_err(|e| anyhow::anyhow!("{name}: {e:?}"))?;
                    p.push(t.elapsed().as_micros() as u64);
                } else {
                    deployments
                        .create(&PostParams::default(), &deployment(&name, i, images)?)
                        .await
                        .map_err(|e| anyhow::anyhow!("{name}: {e:?}"))?;
                    d.push(t.elapsed().as_micros() as u64);
                }
            }
            Ok::<_, anyhow::Error>((p, d))
        }));
    }
    let mut out = Phase { pods: Vec::new(), deployments: Vec::new(), elapsed: Duration::ZERO };
    for t in tasks {
        let (p, d) = t.await??;
        out.pods.extend(p);
        out.deployments.extend(d);
    }
    out.elapsed = start.elapsed();
    Ok(out)
}

/// How a table column reads a row.
type Column = fn(&Row) -> f64;

/// One timed phase's numbers (latencies in µs).
struct Row {
    with: bool,
    rps: f64,
    pod_p50: u64,
    pod_p99: u64,
    deployment_p50: u64,
    deployment_p99: u64,
}

fn percentile(v: &mut [u64], q: f64) -> u64 {
    if v.is_empty() {
        return 0;
    }
    v.sort_unstable();
    v[((v.len() as f64 * q).ceil() as usize).clamp(1, v.len()) - 1]
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// A minimal HTTP GET for the webhook's plain-HTTP metrics endpoint (hyper, already a
/// dependency of the binary).
mod reqwest_like {
    use anyhow::{Context, Result};
    use http_body_util::{BodyExt, Empty};
    use hyper_util::client::legacy::Client;
    use hyper_util::client::legacy::connect::HttpConnector;
    use hyper_util::rt::TokioExecutor;

    pub struct Http(Client<HttpConnector, Empty<bytes::Bytes>>);

    impl Http {
        pub fn new() -> Http {
            Http(Client::builder(TokioExecutor::new()).build_http())
        }
        pub async fn get(&self, url: &str) -> Result<String> {
            let res = self.0.get(url.parse().context("metrics URL")?).await.context("GET metrics")?;
            let body = res.into_body().collect().await.context("metrics body")?.to_bytes();
            Ok(String::from_utf8_lossy(&body).into_owned())
        }
    }
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    let kubeconfig = Kubeconfig::read_from(&args.kubeconfig).context("kubeconfig")?;
    let mut config = Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default()).await?;
    config.read_timeout = Some(Duration::from_secs(30));
    let client = Client::try_from(config)?;
    let http = reqwest_like::Http::new();
    let ca = std::fs::read(&args.ca_bundle).with_context(|| args.ca_bundle.display().to_string())?;

    let namespaces: Api<Namespace> = Api::all(client.clone());
    let ns: Namespace = serde_json::from_value(json!({"metadata": {"name": args.namespace}}))?;
    namespaces.create(&PostParams::default(), &ns).await.context("create the namespace")?;
    // Pods need the namespace's default ServiceAccount and (Kubernetes < 1.24) its token
    // Secret, which the controller-manager creates.
    let accounts: Api<ServiceAccount> = Api::namespaced(client.clone(), &args.namespace);
    let start = Instant::now();
    loop {
        let account = accounts.get_opt("default").await?;
        if account.is_some_and(|sa| sa.secrets.is_some_and(|s| !s.is_empty())) {
            break;
        }
        if start.elapsed() > Duration::from_secs(60) {
            bail!("no default ServiceAccount in {} after 60 s (is kube-controller-manager running?)", args.namespace);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let configs: Api<ValidatingWebhookConfiguration> = Api::all(client.clone());
    let pods: Api<Pod> = Api::namespaced(client.clone(), &args.namespace);

    let result = run(&args, &client, &configs, &pods, &http, &ca).await;
    // Never leave a failurePolicy Fail webhook behind.
    let _ = configs.delete(WEBHOOK, &DeleteParams::default()).await;
    let _ = namespaces.delete(&args.namespace, &DeleteParams::default()).await;
    result
}

async fn run(
    args: &Args,
    client: &Client,
    configs: &Api<ValidatingWebhookConfiguration>,
    pods: &Api<Pod>,
    http: &reqwest_like::Http,
    ca: &[u8],
) -> Result<()> {
    let mut rows: Vec<Row> = Vec::new();
    let mut installed = false;
    println!("phase round webhook requests rps pod_p50_us pod_p99_us deployment_p50_us deployment_p99_us");
    // A warm-up phase of each (connections, caches, the webhook's TLS sessions), not recorded.
    for round in 0..=args.rounds {
        let order = if round % 2 == 1 { [true, false] } else { [false, true] };
        for with in order {
            if with && !installed {
                configs.create(&PostParams::default(), &webhook_config(&args.webhook_url, ca)?).await?;
                wait_for(pods, http, &args.metrics, true).await?;
                installed = true;
            } else if !with && installed {
                configs.delete(WEBHOOK, &DeleteParams::default()).await?;
                wait_for(pods, http, &args.metrics, false).await?;
                installed = false;
            }
            let label = format!("r{round}-{}", if with { "with" } else { "without" });
            let seconds = if round == 0 { args.seconds.min(5) } else { args.seconds };
            let mut p = phase(client, &args.namespace, &label, seconds, args).await?;
            let n = p.pods.len() + p.deployments.len();
            let rps = n as f64 / p.elapsed.as_secs_f64();
            let row = Row {
                with,
                rps,
                pod_p50: percentile(&mut p.pods, 0.5),
                pod_p99: percentile(&mut p.pods, 0.99),
                deployment_p50: percentile(&mut p.deployments, 0.5),
                deployment_p99: percentile(&mut p.deployments, 0.99),
            };
            println!(
                "{} {round} {} {n} {rps:.0} {} {} {} {}",
                if round == 0 { "warmup" } else { "timed" },
                if with { "with" } else { "without" },
                row.pod_p50,
                row.pod_p99,
                row.deployment_p50,
                row.deployment_p99
            );
            if round > 0 {
                rows.push(row);
            }
        }
    }
    let col = |with: bool, f: Column| median(rows.iter().filter(|r| r.with == with).map(f).collect());
    let cols: [(&str, Column); 5] = [
        ("requests/s", |r| r.rps),
        ("Pod p50 µs", |r| r.pod_p50 as f64),
        ("Pod p99 µs", |r| r.pod_p99 as f64),
        ("Deployment p50 µs", |r| r.deployment_p50 as f64),
        ("Deployment p99 µs", |r| r.deployment_p99 as f64),
    ];
    println!(
        "\n| medians of {} rounds × {} s, {} concurrent creates | with webhook | without | with − without |",
        args.rounds, args.seconds, args.concurrency
    );
    println!("|---|---|---|---|");
    for (name, f) in cols {
        let (w, wo) = (col(true, f), col(false, f));
        println!("| {name} | {w:.0} | {wo:.0} | {:+.0} |", w - wo);
    }
    Ok(())
}
