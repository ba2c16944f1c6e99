#!/usr/bin/env bash
# Operator load test (benchmark; results go to BENCHMARKS.md by hand, with this command):
#   hack/loadtest-operator.sh              # full size: 2,000 Deployments, 4,000 reports
#   STANCE_LOAD_DEPLOYMENTS=200 hack/loadtest-operator.sh   # smaller
#   STANCE_LOAD_ROUNDS=3 (operator starts measured, medians printed; default 3)
#   STANCE_LOAD_KEEP=1 STANCE_CLUSTER_DIR=/tmp/x hack/loadtest-operator.sh  # keep cluster + data, reuse next run
#   STANCE_LOAD_BIN=/tmp/before:/tmp/after   # prebuilt operators, alternated round by round (no build)
#   STANCE_LOAD_LOG=DIR                       # keep each start's operator log (info) in DIR
# Each round first pages through the reports with hack/list-reports-floor.py (the API
# server's own list time, printed next to the operator's convergence).
# Starts a private local cluster (hack/local-cluster.sh) on its own ports, seeds it,
# runs the release operator against it, prints convergence, change latency and RSS.
set -euo pipefail
cd "$(dirname "$0")/.."
export STANCE_CLUSTER_DIR="${STANCE_CLUSTER_DIR:-$(mktemp -d /tmp/stance-load-cluster.XXXX)}"
export STANCE_APISERVER_PORT="${STANCE_APISERVER_PORT:-17443}" STANCE_ETCD_PORT="${STANCE_ETCD_PORT:-23379}" \
       STANCE_ETCD_PEER_PORT="${STANCE_ETCD_PEER_PORT:-23380}" STANCE_KCM_PORT="${STANCE_KCM_PORT:-21257}"
if [ -z "${STANCE_LOAD_KEEP:-}" ]; then
  trap 'hack/local-cluster.sh down "$STANCE_CLUSTER_DIR" >/dev/null 2>&1 || true' EXIT
else
  echo "STANCE_LOAD_KEEP: the cluster in $STANCE_CLUSTER_DIR stays up (hack/local-cluster.sh down $STANCE_CLUSTER_DIR)" >&2
fi
eval "$(hack/local-cluster.sh up "$STANCE_CLUSTER_DIR")"
K=$(hack/local-cluster.sh kubectl-path)
"$K" apply -f crds/ >/dev/null
"$K" apply -f ../shared/fixtures/crds/trivy-operator/ >/dev/null
[ -n "${STANCE_LOAD_BIN:-}" ] || cargo build --release --locked --bin stance
STANCE_LOAD_CLUSTER_DIR="$STANCE_CLUSTER_DIR" STANCE_LOAD_SERVER="https://127.0.0.1:$STANCE_APISERVER_PORT" \
  STANCE_TEST_KUBECONFIG="$KUBECONFIG" cargo bench --locked --bench operator_load
