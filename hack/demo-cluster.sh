#!/usr/bin/env bash
# The demo as a live cluster: a local Kubernetes API server (hack/local-cluster.sh) holding the
# objects of examples/demo, with `stance run` (operator + admission webhook) watching it.
#
# Usage:
#   hack/demo-cluster.sh up       start the API server, load the demo, start `stance run` with a
#                                 self-signed certificate, register the chart's webhook
#                                 configuration, then print what to try
#   hack/demo-cluster.sh down     stop `stance run` and the API server started by `up`
#
# The steps of `up`, for any cluster ($KUBECONFIG; kubectl is $KUBECTL or the one on PATH) —
# tests/demo_cluster.rs runs them against the test cluster:
#   load       install Stance's and the scanners' CRDs, apply every object of examples/demo
#              (reports last, with their owners' uids filled in); fails naming any refused object
#   validate   `--dry-run=server` every Kubernetes object under examples/ (demo and gitops);
#              fails naming any refused object (run after `load`: the namespaces must exist)
#   serve      start `stance run` on 127.0.0.1, register the ValidatingWebhookConfiguration, wait
#              until the API server calls it and every AppPosture has a status; writes $STANCE_DEMO_DIR/payments-api-canary.yaml,
#              a Deployment the guardrails refuse
#   stop       stop that `stance run` and remove its webhook configuration
#   unload     delete the demo's objects (the CRDs stay)
#
# Environment (defaults differ from hack/local-cluster.sh's, so both can run at once):
#   STANCE_DEMO_DIR            state: cluster, certificate, logs     (default /tmp/stance-demo)
#   STANCE_APISERVER_PORT, STANCE_ETCD_PORT, STANCE_ETCD_PEER_PORT, STANCE_KCM_PORT
#                              the cluster's ports                   (default 7443 13379 13380 11257)
#   STANCE_DEMO_WEBHOOK_PORT   `stance run`'s HTTPS (webhook) port   (default 18443)
#   STANCE_DEMO_METRICS_PORT   its /metrics and /readyz port         (default 19090)
#   STANCE_DEMO_NOW            the time Stance evaluates at          (default 2026-11-27T12:00:00Z,
#                              the day the snapshot was taken, as in the README's quick start)
#   STANCE_BIN                 the stance binary                     (default target/release/stance,
#                              which `cargo build --release` brings up to date first)
set -euo pipefail
cd "$(dirname "$0")/.."

DEMO_DIR=${STANCE_DEMO_DIR:-/tmp/stance-demo}
export STANCE_APISERVER_PORT=${STANCE_APISERVER_PORT:-7443} STANCE_ETCD_PORT=${STANCE_ETCD_PORT:-13379} \
       STANCE_ETCD_PEER_PORT=${STANCE_ETCD_PEER_PORT:-13380} STANCE_KCM_PORT=${STANCE_KCM_PORT:-11257}
WEBHOOK_PORT=${STANCE_DEMO_WEBHOOK_PORT:-18443}
METRICS_PORT=${STANCE_DEMO_METRICS_PORT:-19090}
NOW=${STANCE_DEMO_NOW:-2026-11-27T12:00:00Z}
STANCE_BIN=${STANCE_BIN:-}
WEBHOOK_CONFIG=stance-demo
# The deploy `up` shows being refused (serve writes it): a canary of the payments API on the
# image with Spring4Shell (CISA KEV-listed). A new Deployment, because Stance judges what a
# request adds: an update that keeps a running image is not refused for that image.
DENIED_MANIFEST=$DEMO_DIR/payments-api-canary.yaml
write_denied_manifest() {
  cat > "$DENIED_MANIFEST" <<'EOF'
apiVersion: apps/v1
kind: Deployment
metadata:
  name: payments-api-canary
  namespace: payments
  labels: {app.kubernetes.io/name: payments-api-canary, team: payments}
spec:
  replicas: 1
  selector: {matchLabels: {app.kubernetes.io/name: payments-api-canary}}
  template:
    metadata:
      labels: {app.kubernetes.io/name: payments-api-canary, team: payments}
    spec:
      securityContext: {runAsNonRoot: true, runAsUser: 1000}
      containers:
      - name: api
        image: ghcr.io/aquasecurity/trivy-test-images:spring4shell-jre11
        securityContext: {allowPrivilegeEscalation: false}
        resources:
          limits: {cpu: "1", memory: 1Gi}
EOF
}

log() { printf '[demo-cluster %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { printf '[demo-cluster] ERROR: %s\n' "$*" >&2; exit 1; }
kctl() { "${KUBECTL:-kubectl}" "$@"; }

need_python() {
  if ! python3 -c 'import yaml' >/dev/null 2>&1; then
    log "installing PyYAML (hack/demo-objects.py reads the examples with it)"
    python3 -m pip install --quiet pyyaml || die "PyYAML is missing: pip install pyyaml (or apt-get install python3-yaml)"
  fi
  [ -d ../shared/fixtures/crds ] || die "../shared/fixtures/crds is missing: the scanners' CRDs are read from there"
}

need_cluster() { [ -n "${KUBECONFIG:-}" ] || die "set KUBECONFIG (or run '$0 up')"; }

objects() { need_python; need_cluster; KUBECTL=${KUBECTL:-kubectl} python3 hack/demo-objects.py "$@"; }

# pid of the `stance run` started by serve, if it is still running.
stance_pid() {
  local pid exe
  pid=$(cat "$DEMO_DIR/stance.pid" 2>/dev/null) || return 1
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  exe=$(readlink "/proc/$pid/exe" 2>/dev/null) || return 1
  exe=${exe% (deleted)}; [ "${exe##*/}" = stance ] || return 1
  echo "$pid"
}

do_stop() {
  local pid i
  if [ -n "${KUBECONFIG:-}" ]; then
    # First the webhook configuration: with failurePolicy Fail and nobody answering, every
    # write it covers would be refused.
    kctl delete validatingwebhookconfiguration "$WEBHOOK_CONFIG" --ignore-not-found --request-timeout=10s >/dev/null 2>&1 || true
  fi
  if pid=$(stance_pid); then
    log "stopping stance run (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 1 100); do stance_pid >/dev/null || break; sleep 0.1; done
    if stance_pid >/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
  fi
  rm -f "$DEMO_DIR/stance.pid"
}

# The stance binary: $STANCE_BIN as given, else this checkout's release build, brought up to
# date (cargo does nothing when it is).
ensure_stance() {
  if [ -n "$STANCE_BIN" ]; then
    [ -x "$STANCE_BIN" ] || die "STANCE_BIN=$STANCE_BIN is not an executable"
    return 0
  fi
  command -v cargo >/dev/null || die "cargo is not installed: install Rust (https://rustup.rs) or set STANCE_BIN"
  log "cargo build --release (stance)"
  cargo build --release --locked --bin stance >&2
  STANCE_BIN=target/release/stance
}

http_ok() { curl --noproxy '*' -sf --max-time 2 "$1" >/dev/null 2>&1; }

# Every AppPosture of the demo has a status (the leader has evaluated it).
postures_evaluated() {
  local out
  out=$(kctl get apppostures -A -o jsonpath='{range .items[*]}{.metadata.name}={.status.lastEvaluated}{"\n"}{end}' 2>/dev/null) || return 1
  [ -n "$out" ] && ! grep -q '=$' <<<"$out"
}

do_serve() {
  need_cluster; need_python; ensure_stance
  mkdir -p "$DEMO_DIR"
  do_stop
  write_denied_manifest
  local logf="$DEMO_DIR/stance.log"
  log "starting stance run (webhook https://127.0.0.1:$WEBHOOK_PORT, metrics http://127.0.0.1:$METRICS_PORT, log $logf)"
  # Fully detached (own session, no inherited stdin), its pid written by itself before exec.
  setsid bash -c 'echo $$ > "$0"; exec "$@"' "$DEMO_DIR/stance.pid" \
    "$STANCE_BIN" run --listen "127.0.0.1:$WEBHOOK_PORT" --metrics-listen "127.0.0.1:$METRICS_PORT" \
    --self-signed --ca-bundle-out "$DEMO_DIR/ca.pem" --namespace stance-system --identity stance-demo \
    --feed examples/demo/feeds/known_exploited_vulnerabilities.json --feed examples/demo/feeds/epss_scores.csv \
    --now "$NOW" --debounce-ms 200 \
    < /dev/null >> "$logf" 2>&1 &
  local i out
  for i in $(seq 1 600); do
    http_ok "http://127.0.0.1:$METRICS_PORT/readyz" && break
    if [ "$i" -gt 5 ] && ! stance_pid >/dev/null; then tail -n 20 "$logf" >&2; die "stance run exited"; fi
    [ "$i" -lt 600 ] || { tail -n 20 "$logf" >&2; die "stance run not ready after 120s"; }
    sleep 0.2
  done
  log "registering the ValidatingWebhookConfiguration $WEBHOOK_CONFIG (the chart's rules and failurePolicy)"
  objects webhook-config --url "https://127.0.0.1:$WEBHOOK_PORT/validate" --ca-file "$DEMO_DIR/ca.pem" \
    | kctl apply -f - >/dev/null
  # The API server picks a new configuration up within a moment: wait until it calls Stance.
  for i in $(seq 1 150); do
    out=$(kctl apply --dry-run=server -f "$DENIED_MANIFEST" 2>&1) || true
    grep -q 'denied the request' <<<"$out" && break
    [ "$i" -lt 150 ] || die "the API server does not call the webhook after 30s (see $logf)"
    sleep 0.2
  done
  for i in $(seq 1 600); do
    postures_evaluated && break
    [ "$i" -lt 600 ] || die "AppPostures have no status after 120s (see $logf)"
    sleep 0.2
  done
  log "every AppPosture has a status"
}

# Applies the denied manifest; prints kubectl's answer. Exit 1 if it was admitted.
try_denied() {
  local out
  out=$(kctl apply -f "$DENIED_MANIFEST" 2>&1) && { echo "$out"; return 1; }
  echo "$out"
}

do_up() {
  need_python; ensure_stance
  mkdir -p "$DEMO_DIR"
  trap '[ $? -eq 0 ] || log "up did not finish; hack/demo-cluster.sh down stops what it started"' EXIT
  eval "$(hack/local-cluster.sh up "$DEMO_DIR/cluster")"
  export KUBECONFIG
  KUBECTL=$(hack/local-cluster.sh kubectl-path)
  export KUBECTL
  log "loading the demo"
  objects load examples/demo > "$DEMO_DIR/load.log" || { cat "$DEMO_DIR/load.log" >&2; die "some objects were refused"; }
  tail -n 1 "$DEMO_DIR/load.log" >&2
  do_serve
  local postures denied
  postures=$(kctl get apppostures -A)
  denied=$(try_denied) || die "the API server admitted $DENIED_MANIFEST:"$'\n'"$denied"
  cat <<EOF

Stance is watching a live Kubernetes API server (v1.20.2, https://127.0.0.1:$STANCE_APISERVER_PORT) that holds
the demo: its workloads, Trivy Operator reports, CI scans, policies and exceptions. It evaluates
as of $NOW (STANCE_DEMO_NOW). Use the cluster from this shell with:

  export KUBECONFIG=$KUBECONFIG
  alias kubectl=$KUBECTL   # the v1.20.2 client built with the server

The applications, with the risk and counts \`stance scan examples/demo\` gives them:

  \$ kubectl get apppostures -A
$(sed 's/^/  /' <<<"$postures")

  \$ kubectl get apppostures -n payments payments-api -o yaml     # the findings behind the score

A deploy the guardrails refuse (\`stance check -f\` on this file gives the same verdict):

  \$ kubectl apply -f $DENIED_MANIFEST
$(sed 's/^/  /' <<<"$denied")

stance run: pid $(stance_pid), log $DEMO_DIR/stance.log, metrics http://127.0.0.1:$METRICS_PORT/metrics
Stop everything: hack/demo-cluster.sh down
EOF
}

do_down() {
  local kc="$DEMO_DIR/cluster/kubeconfig"
  if [ -f "$kc" ] && hack/local-cluster.sh status "$DEMO_DIR/cluster" >/dev/null 2>&1; then
    KUBECONFIG=$kc KUBECTL=$(hack/local-cluster.sh kubectl-path) do_stop
  else
    KUBECONFIG='' do_stop
  fi
  hack/local-cluster.sh down "$DEMO_DIR/cluster"
}

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; }

cmd=${1:-help}; shift || true
case "$cmd" in
  up)       do_up ;;
  down)     do_down ;;
  load)     objects load examples/demo ;;
  validate) objects validate examples ;;
  serve)    do_serve ;;
  stop)     do_stop ;;
  unload)   objects unload examples/demo ;;
  help|-h|--help) usage ;;
  *) usage >&2; exit 2 ;;
esac
