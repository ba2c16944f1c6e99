#!/usr/bin/env bash
# End-to-end admission latency through a real kube-apiserver (issue 14 §2) — a benchmark, not
# a test (results: BENCHMARKS.md).
#
# 1. Builds the release `stance`, `stance-synth` and the load client
#    (examples/loadtest_apiserver.rs), and writes the synthetic state with `stance-synth`:
#    VulnerabilityReports over 5,000 images (115,000 generated findings, ~100,000 after
#    correlation) and 50 GuardrailPolicies (every rule type), turned from Enforce into Warn so
#    that every create is admitted and written to etcd in both phases (a refused create skips
#    the write and would flatter the webhook), plus the CISA KEV catalog.
# 2. Starts a local cluster (hack/local-cluster.sh: kube-apiserver, etcd, controller-manager)
#    and `stance webhook --self-signed` on 127.0.0.1 serving that state.
# 3. The load client creates Pods and Deployments (alternately; three containers running
#    scanned synthetic images each) from CONCURRENCY tasks, in phases of DURATION seconds,
#    alternately with the chart's ValidatingWebhookConfiguration installed (failurePolicy Fail,
#    url client config) and without it, ROUNDS rounds after a warm-up, and prints the medians.
# 4. Stops the webhook and the cluster.
#
# Usage: hack/loadtest-apiserver.sh
# Environment: STANCE_LOADTEST_DURATION (s, default 20), STANCE_LOADTEST_ROUNDS (default 3),
#   STANCE_LOADTEST_CONCURRENCY (default 8), STANCE_LOADTEST_IMAGES / _FINDINGS / _POLICIES
#   (default 5000 / 115000 / 50), STANCE_LOADTEST_WORKDIR (default: a new temp dir, removed
#   afterwards), STANCE_LOADTEST_NO_BUILD=1 (use the binaries already in target/release); the cluster's STANCE_CLUSTER_DIR and ports as hack/local-cluster.sh reads them.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${STANCE_LOADTEST_DURATION:-20}
ROUNDS=${STANCE_LOADTEST_ROUNDS:-3}
CONCURRENCY=${STANCE_LOADTEST_CONCURRENCY:-8}
IMAGES=${STANCE_LOADTEST_IMAGES:-5000}
FINDINGS=${STANCE_LOADTEST_FINDINGS:-115000}
POLICIES=${STANCE_LOADTEST_POLICIES:-50}
NOW=2026-11-27T12:00:00Z
FIXTURES=../shared/fixtures
CLUSTER_DIR=${STANCE_CLUSTER_DIR:-/tmp/stance-loadtest-apiserver-cluster}

log() { printf '[loadtest-apiserver %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { printf '[loadtest-apiserver] ERROR: %s\n' "$*" >&2; exit 1; }

WORK=${STANCE_LOADTEST_WORKDIR:-}
if [ -z "$WORK" ]; then
  WORK=$(mktemp -d /tmp/stance-loadtest-apiserver.XXXX)
  REMOVE_WORK=1
fi
SERVER_PID=
CLUSTER_UP=
cleanup() {
  if [ -n "$SERVER_PID" ]; then kill -TERM "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  if [ -n "$CLUSTER_UP" ]; then hack/local-cluster.sh down "$CLUSTER_DIR" >&2 || true; fi
  if [ "${REMOVE_WORK:-}" = 1 ]; then rm -rf "$WORK"; fi
}
trap cleanup EXIT

if [ "${STANCE_LOADTEST_NO_BUILD:-}" != 1 ]; then
  log "building the release binaries and the load client"
  cargo build --release --bins --example loadtest_apiserver --features synthetic -q
fi
BIN=target/release

log "writing the synthetic state ($IMAGES images, $FINDINGS findings, $POLICIES policies, Enforce -> Warn)"
rm -rf "$WORK/data"
"$BIN/stance-synth" --out "$WORK/data" --images "$IMAGES" --findings "$FINDINGS" --policies "$POLICIES" >&2
sed -i 's/enforcement: Enforce/enforcement: Warn/' "$WORK/data/policies.yaml"
! grep -q 'enforcement: Enforce' "$WORK/data/policies.yaml" || die "an Enforce policy is left"

log "starting the local cluster in $CLUSTER_DIR"
CLUSTER_UP=1
STANCE_CLUSTER_DIR=$CLUSTER_DIR hack/local-cluster.sh up "$CLUSTER_DIR" >/dev/null
KUBECONFIG_FILE=$(STANCE_CLUSTER_DIR=$CLUSTER_DIR hack/local-cluster.sh kubeconfig "$CLUSTER_DIR")

log "starting stance webhook"
# shellcheck source=hack/start-webhook.sh
. hack/start-webhook.sh
start_webhook
STATE_LINE=$(grep '"state loaded"' "$WORK/server.log" | head -1)
field() { printf '%s' "$STATE_LINE" | sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p"; }
log "webhook on $ADDR: $(field findings) findings in $(field artifacts) images, $(field policies) policies"

log "load: $ROUNDS rounds x ${DURATION} s per phase, $CONCURRENCY concurrent creates (load average $(cut -d' ' -f1-3 /proc/loadavg))"
"$BIN/examples/loadtest_apiserver" --kubeconfig "$KUBECONFIG_FILE" --webhook-url "https://$ADDR/validate" \
  --ca-bundle "$WORK/ca.pem" --metrics "$METRICS" --images "$IMAGES" --seconds "$DURATION" --rounds "$ROUNDS" \
  --concurrency "$CONCURRENCY" | tee "$WORK/result"

DECISIONS=$(curl --noproxy '*' -s "$METRICS" | grep '^stance_webhook_admission_requests_total' | sed 's/stance_webhook_admission_requests_total//' | tr '\n' ' ')
cat <<OUT

Run $(date -u +%Y-%m-%dT%H:%MZ); machine: $(nproc) CPUs ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)), $(uname -sr); load average at the end $(cut -d' ' -f1-3 /proc/loadavg)
State: $(field findings) correlated findings over $(field artifacts) images, $(field policies) policies (Warn) + KEV catalog
Webhook decisions: $DECISIONS
OUT
