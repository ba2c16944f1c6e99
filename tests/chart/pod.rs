//! The pod: hardening, resources, probes, spread, and the container's arguments against the real binary.

use super::*;

#[test]
#[ignore = "needs the Helm library (pip install helm-python-sdk): run hack/test.sh"]
fn pod_is_hardened_with_resources_probes_and_spread() {
    for name in VARIANTS {
        let v = variant(name);
        let pod = v.pod();
        let c = v.container();
        let ctx = |what: &str| format!("{name}: {what}");

        // Pod security context.
        let psc = pod.security_context.clone().expect("pod securityContext");
        assert_eq!(psc.run_as_non_root, Some(true), "{}", ctx("runAsNonRoot"));
        assert_eq!(psc.run_as_user, Some(65532), "{}", ctx("runAsUser"));
        assert_eq!(
            psc.seccomp_profile.as_ref().map(|s| s.type_.as_str()),
            Some("RuntimeDefault"),
            "{}",
            ctx("seccomp")
        );
        // Container security context.
        let sc = c.security_context.clone().expect("container securityContext");
        assert_eq!(sc.run_as_non_root, Some(true), "{}", ctx("runAsNonRoot"));
        assert_eq!(sc.run_as_user, Some(65532), "{}", ctx("runAsUser"));
        assert_eq!(sc.read_only_root_filesystem, Some(true), "{}", ctx("readOnlyRootFilesystem"));
        assert_eq!(sc.allow_privilege_escalation, Some(false), "{}", ctx("allowPrivilegeEscalation"));
        assert_ne!(sc.privileged, Some(true), "{}", ctx("privileged"));
        let caps = sc.capabilities.clone().expect("capabilities");
        assert_eq!(caps.drop, Some(vec!["ALL".to_string()]), "{}", ctx("drop ALL"));
        assert!(caps.add.unwrap_or_default().is_empty(), "{}", ctx("no capability added"));
        assert_eq!(sc.seccomp_profile.as_ref().map(|s| s.type_.as_str()), Some("RuntimeDefault"), "{}", ctx("seccomp"));
        // Nothing of the host.
        assert_ne!(pod.host_network, Some(true), "{}", ctx("hostNetwork"));
        assert_ne!(pod.host_pid, Some(true), "{}", ctx("hostPID"));
        assert_ne!(pod.host_ipc, Some(true), "{}", ctx("hostIPC"));
        for vol in pod.volumes.iter().flatten() {
            assert!(vol.host_path.is_none(), "{}", ctx(&format!("hostPath volume {}", vol.name)));
        }
        // It talks to the API server: the token is mounted, by the pod's explicit choice.
        assert_eq!(pod.automount_service_account_token, Some(true), "{}", ctx("automountServiceAccountToken"));
        assert_eq!(pod.service_account_name.as_deref(), Some(v.fullname().as_str()), "{}", ctx("serviceAccountName"));
        let grace = pod.termination_grace_period_seconds.expect("terminationGracePeriodSeconds");
        assert!((10..=120).contains(&grace), "{}", ctx("terminationGracePeriodSeconds"));

        // Requests and limits.
        let res = c.resources.clone().expect("resources");
        let requests = res.requests.unwrap_or_default();
        let limits = res.limits.unwrap_or_default();
        for key in ["cpu", "memory"] {
            assert!(requests.contains_key(key), "{}", ctx(&format!("requests.{key}")));
        }
        assert!(limits.contains_key("memory"), "{}", ctx("limits.memory"));
        assert!(mebibytes(&limits["memory"].0) >= mebibytes(&requests["memory"].0), "{}", ctx("limit >= request"));
        assert!(mebibytes(&requests["memory"].0) >= 384, "{}", ctx("room for a ~300 MB index"));

        // Image: the chart's appVersion unless pinned by digest.
        let image = c.image.clone().unwrap();
        if *name == "custom" {
            assert_eq!(image, format!("ghcr.io/stance-dev/stance@sha256:{}", "a".repeat(64)));
        } else {
            assert_eq!(image, format!("ghcr.io/stance-dev/stance:{}", env!("CARGO_PKG_VERSION")));
        }

        // Probes hit the real endpoints on the real listener: the named port is the metrics
        // container port, which is the port of --metrics-listen.
        let ports: BTreeMap<String, i32> =
            c.ports.iter().flatten().map(|p| (p.name.clone().unwrap_or_default(), p.container_port)).collect();
        let metrics_port = listen_port(&v.flag("--metrics-listen").expect("--metrics-listen"));
        let https_port = listen_port(&v.flag("--listen").expect("--listen"));
        assert_eq!(ports.get("metrics"), Some(&metrics_port), "{}", ctx("metrics port"));
        assert_eq!(ports.get("https"), Some(&https_port), "{}", ctx("https port"));
        for (probe, path) in [(c.liveness_probe.clone(), "/healthz"), (c.readiness_probe.clone(), "/readyz")] {
            let probe = probe.unwrap_or_else(|| panic!("{}", ctx(&format!("probe {path}"))));
            let get = probe.http_get.expect("httpGet probe");
            assert_eq!(get.path.as_deref(), Some(path), "{}", ctx("probe path"));
            let port = match &get.port {
                IntOrString::Int(p) => *p,
                IntOrString::String(n) => ports[n],
            };
            assert_eq!(port, metrics_port, "{}", ctx(&format!("{path} is served on the metrics listener")));
            assert_ne!(get.scheme.as_deref(), Some("HTTPS"), "{}", ctx("the metrics listener is plain HTTP"));
            assert!(probe.period_seconds.unwrap_or(10) >= 1 && probe.timeout_seconds.unwrap_or(1) >= 1);
        }

        // $(VAR) references in args resolve to env vars set from the downward API.
        let env: BTreeMap<String, String> = c
            .env
            .iter()
            .flatten()
            .map(|e| {
                let from = e.value_from.as_ref().and_then(|f| f.field_ref.as_ref()).map(|f| f.field_path.clone());
                (e.name.clone(), from.or(e.value.clone()).unwrap_or_default())
            })
            .collect();
        assert_eq!(
            env.get("POD_NAMESPACE").map(String::as_str),
            Some("metadata.namespace"),
            "{}",
            ctx("POD_NAMESPACE")
        );
        assert_eq!(env.get("POD_NAME").map(String::as_str), Some("metadata.name"), "{}", ctx("POD_NAME"));
        assert!(env.contains_key("STANCE_LOG"), "{}", ctx("STANCE_LOG"));
        assert_eq!(v.flag("--namespace").as_deref(), Some("$(POD_NAMESPACE)"));
        assert_eq!(v.flag("--identity").as_deref(), Some("$(POD_NAME)"));

        // The certificate files Stance is told to read are the mounted Secret's keys.
        let tls = pod.volumes.iter().flatten().find(|vol| vol.name == "tls").expect("tls volume");
        let secret = tls.secret.clone().expect("the tls volume is a Secret");
        assert_eq!(secret.secret_name.as_deref(), Some(format!("{}-tls", v.fullname()).as_str()));
        let mount = c.volume_mounts.iter().flatten().find(|m| m.name == "tls").expect("tls mount");
        assert_eq!(mount.read_only, Some(true));
        assert!(mount.sub_path.is_none(), "no subPath: rotated certificates must reach the pod");
        assert_eq!(v.flag("--tls-cert"), Some(format!("{}/tls.crt", mount.mount_path)));
        assert_eq!(v.flag("--tls-key"), Some(format!("{}/tls.key", mount.mount_path)));
        let keys: BTreeSet<String> = secret.items.iter().flatten().map(|i| i.key.clone()).collect();
        assert_eq!(keys, BTreeSet::from(["tls.crt".to_string(), "tls.key".to_string()]));

        // Replicas, rollout and spread.
        let deployment = v.deployment();
        let spec = deployment.spec.clone().unwrap();
        let replicas = spec.replicas.unwrap();
        let expected_replicas = match *name {
            "single" => 1,
            "custom" => 3,
            _ => 2,
        };
        assert_eq!(replicas, expected_replicas, "{}", ctx("replicas"));
        let selector = spec.selector.match_labels.clone().unwrap();
        let pod_labels = spec.template.metadata.clone().unwrap().labels.unwrap();
        assert!(selector.iter().all(|(k, val)| pod_labels.get(k) == Some(val)), "{}", ctx("selector matches the pods"));
        let strategy = spec.strategy.clone().unwrap();
        if *name == "single" {
            // The SQLite history's ReadWriteOnce volume: the old pod releases it first.
            assert_eq!(strategy.type_.as_deref(), Some("Recreate"), "{}", ctx("SQLite history rollout"));
        } else {
            let rolling = strategy.rolling_update.unwrap();
            assert_eq!(
                rolling.max_unavailable,
                Some(IntOrString::Int(0)),
                "{}",
                ctx("rollouts keep every replica serving")
            );
        }
        if replicas > 1 {
            let affinity = pod.affinity.clone().and_then(|a| a.pod_anti_affinity).expect("podAntiAffinity");
            let terms: Vec<_> = affinity
                .preferred_during_scheduling_ignored_during_execution
                .iter()
                .flatten()
                .map(|t| t.pod_affinity_term.clone())
                .chain(affinity.required_during_scheduling_ignored_during_execution.iter().flatten().cloned())
                .collect();
            assert!(
                terms.iter().any(|t| t.topology_key == "kubernetes.io/hostname"
                    && t.label_selector.as_ref().and_then(|s| s.match_labels.as_ref()) == Some(&selector)),
                "{}",
                ctx("replicas are spread across nodes")
            );
            if *name == "custom" {
                assert!(affinity.required_during_scheduling_ignored_during_execution.is_some(), "hard anti-affinity");
            }
            for t in pod.topology_spread_constraints.iter().flatten() {
                assert_eq!(
                    t.label_selector.as_ref().and_then(|s| s.match_labels.as_ref()),
                    Some(&selector),
                    "{}",
                    ctx("spread constraints select the pods")
                );
            }
            // Voluntary disruptions keep one replica answering admission requests.
            let pdb: PodDisruptionBudget = v.get("PodDisruptionBudget");
            assert_eq!(v.one("PodDisruptionBudget").api_version, "policy/v1");
            let pdb = pdb.spec.unwrap();
            assert_eq!(pdb.min_available, Some(IntOrString::Int(1)), "{}", ctx("minAvailable"));
            assert_eq!(pdb.selector.unwrap().match_labels.unwrap(), selector, "{}", ctx("PDB selects the pods"));
        } else {
            assert!(v.all("PodDisruptionBudget").is_empty(), "{}", ctx("no PDB for one replica"));
        }
        assert_eq!(
            pod.priority_class_name.as_deref(),
            if *name == "custom" { Some("platform-critical") } else { None },
            "{}",
            ctx("priorityClassName")
        );

        // The Service sends 443 to the HTTPS listener and exposes the metrics listener.
        let svc: Service = v.get("Service");
        let svc_spec = svc.spec.unwrap();
        assert_eq!(svc_spec.selector.as_ref(), Some(&selector), "{}", ctx("Service selects the pods"));
        let svc_ports: BTreeMap<String, (i32, IntOrString)> = svc_spec
            .ports
            .iter()
            .flatten()
            .map(|p| (p.name.clone().unwrap(), (p.port, p.target_port.clone().unwrap())))
            .collect();
        assert_eq!(svc_ports["https"], (443, IntOrString::String("https".into())), "{}", ctx("Service https"));
        assert_eq!(svc_ports["metrics"], (9090, IntOrString::String("metrics".into())), "{}", ctx("Service metrics"));

        // Feeds are mounted read-only and passed as --feed.
        let feeds = v.flag_values("--feed");
        if *name == "custom" {
            assert_eq!(
                feeds,
                ["/etc/stance/feeds/known_exploited_vulnerabilities.json", "/etc/stance/feeds/epss_scores.csv.gz"]
            );
            let m = c.volume_mounts.iter().flatten().find(|m| m.name == "feeds").expect("feeds mount");
            assert_eq!((m.mount_path.as_str(), m.read_only), ("/etc/stance/feeds", Some(true)));
        } else {
            assert!(feeds.is_empty());
        }
    }
}

fn mebibytes(q: &str) -> u64 {
    let (num, unit) = q.split_at(q.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(q.len()));
    let n: u64 = num.parse().unwrap_or_else(|_| panic!("quantity {q}"));
    match unit {
        "Gi" => n * 1024,
        "Mi" => n,
        "G" => n * 1000 * 1000 * 1000 / (1 << 20),
        "M" => n * 1000 * 1000 / (1 << 20),
        "" => n / (1 << 20),
        other => panic!("unit {other} of {q}"),
    }
}

fn listen_port(addr: &str) -> i32 {
    addr.rsplit(':').next().unwrap().parse().unwrap_or_else(|_| panic!("address {addr}"))
}

// ---------------------------------------------------------------------------------------------
// The container's arguments against the real binary

#[test]
#[ignore = "needs the Helm library (pip install helm-python-sdk): run hack/test.sh"]
fn container_args_are_accepted_by_stance_run() {
    let bin = env!("CARGO_BIN_EXE_stance");
    let help = Command::new(bin).args(["run", "--help"]).output().unwrap();
    let text = String::from_utf8_lossy(&help.stdout).into_owned();
    assert!(
        help.status.success(),
        "`stance run --help` failed: the chart runs `stance run`:\n{text}{}",
        String::from_utf8_lossy(&help.stderr)
    );
    let known: BTreeSet<String> = text
        .split(|c: char| c.is_whitespace() || c == ',' || c == '[' || c == ']' || c == '=' || c == '<')
        .filter(|w| w.starts_with("--") && w.len() > 2)
        .map(str::to_string)
        .collect();
    for name in VARIANTS {
        let v = variant(name);
        let args = v.args();
        assert_eq!(args.first().map(String::as_str), Some("run"), "{name}: the container runs `stance run`");
        assert!(v.container().command.is_none(), "{name}: the image's entrypoint is used");
        for a in &args[1..] {
            let flag = a.split('=').next().unwrap();
            assert!(flag.starts_with("--"), "{name}: argument {a:?} is not a --flag");
            assert!(known.contains(flag), "{name}: `stance run` has no flag {flag} (from {a:?}); it knows {known:?}");
        }
        // clap reads the arguments in order and stops at --help: every argument before it must
        // be one it accepts.
        let out = Command::new(bin).args(&args).arg("--help").output().unwrap();
        assert!(
            out.status.success(),
            "{name}: `stance {}` is refused:\n{}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );

        // Values the binary would refuse at start-up.
        let timeout: u64 = v.flag("--timeout-ms").expect("--timeout-ms").parse().unwrap();
        assert!((1..=30_000).contains(&timeout), "{name}: --timeout-ms {timeout}");
        assert!(matches!(v.flag("--log-format").as_deref(), Some("json" | "text")), "{name}: --log-format");
        let days: u32 = v.flag("--max-exception-days").unwrap().parse().unwrap();
        assert!(days >= 1);
        let leader = !v.has_switch("--no-leader-election");
        let replicas = v.deployment().spec.unwrap().replicas.unwrap();
        assert!(leader || replicas == 1, "{name}: several replicas need leader election");
        // The policy namespaces: the release namespace is always exempt, and exceptions default to it.
        assert!(v.flag_values("--exempt-namespace").contains(&v.namespace), "{name}: release namespace exempt");
        assert!(v.flag_values("--exempt-namespace").contains(&"kube-system".to_string()), "{name}: kube-system");
        let exceptions = v.flag_values("--exception-namespace");
        if *name == "custom" {
            assert_eq!(exceptions, ["security", "appsec"]);
            assert_eq!(v.flag_values("--exempt-namespace"), ["kube-system", "monitoring", "security"]);
            assert_eq!(v.flag("--max-in-flight").as_deref(), Some("64"));
        } else {
            assert_eq!(exceptions, std::slice::from_ref(&v.namespace));
        }
        assert_eq!(v.has_switch("--policy-reports"), *name == "policy-reports", "{name}: --policy-reports");
        assert_eq!(v.has_switch("--no-ingest"), *name == "no-ingest", "{name}: --no-ingest");
        assert_eq!(v.has_switch("--no-leader-election"), *name == "single", "{name}: --no-leader-election");
        assert_eq!(v.has_switch("--fail-open"), *name == "custom", "{name}: fail open only with failurePolicy Ignore");
        // Evidence: the upload audience, trusted sources, read budgets.
        let audience = v.flag("--ingest-audience");
        match *name {
            "no-ingest" => assert_eq!(audience, None, "{name}: no audience without ingest"),
            "custom" => {
                assert_eq!(audience.as_deref(), Some("aspm-ingest"));
                assert_eq!(v.flag_values("--trusted-uploader"), ["system:serviceaccount:ci:scanner"]);
                assert_eq!(v.flag_values("--trusted-report-namespace"), ["ci-scans"]);
                assert_eq!(v.flag("--max-decompressed-mib").as_deref(), Some("32"));
                assert_eq!(v.flag("--max-document-nodes").as_deref(), Some("2000000"));
            }
            _ => {
                assert_eq!(audience.as_deref(), Some("stance"), "{name}");
                assert!(
                    v.flag_values("--trusted-uploader").is_empty()
                        && v.flag_values("--trusted-report-namespace").is_empty()
                );
                assert_eq!(v.flag("--max-decompressed-mib").as_deref(), Some("16"), "{name}");
                assert_eq!(v.flag("--max-document-nodes").as_deref(), Some("1048576"), "{name}");
            }
        }
    }
}
