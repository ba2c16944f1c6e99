#!/usr/bin/env bash
# The whole test suite, exactly as CI runs it (.ci/run calls this script):
# formatting, lints, unit and integration tests, and the tests against a real
# Kubernetes API server, which this script starts (hack/local-cluster.sh) and stops.
#
# STANCE_TEST_NO_CLUSTER=1 skips the cluster (those tests then show as "ignored").
# STANCE_TEST_NO_BROWSER=1 skips the dashboard's browser test (and installing Chromium).
# STANCE_TEST_NO_POSTGRES=1 skips PostgreSQL (the history store then is tested on SQLite only).
# STANCE_TEST_NO_IMAGE=1 skips building and testing the release image (hack/image.sh,
# tests/image.rs), which costs a static release build.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v cargo >/dev/null 2>&1; then
  echo "cargo is not installed: install Rust (https://rustup.rs) and re-run" >&2
  exit 2
fi
# rustfmt and clippy ship as rustup components; add them if this toolchain lacks them.
if command -v rustup >/dev/null 2>&1; then
  rustup component add rustfmt clippy >/dev/null 2>&1 || true
fi
if [ ! -d ../shared/fixtures ]; then
  echo "../shared/fixtures is missing: the tests read real third-party scanner output from there" >&2
  exit 2
fi

# The chart tests render charts/stance with the real Helm engine (the PyPI package
# helm-python-sdk bundles Helm's library; no helm binary needed).
if ! python3 -c "import helm_python" >/dev/null 2>&1; then
  echo "== installing helm-python-sdk (for the chart tests)"
  python3 -m pip install --quiet helm-python-sdk
fi

# The image test builds the release image with buildah and unpacks it with umoci (Debian
# packages, daemonless); it needs objcopy/readelf (binutils) and a CA bundle too.
if [ "${STANCE_TEST_NO_IMAGE:-}" != 1 ]; then
  missing=()
  command -v buildah >/dev/null 2>&1 || missing+=(buildah)
  command -v umoci >/dev/null 2>&1 || missing+=(umoci)
  command -v objcopy >/dev/null 2>&1 || missing+=(binutils)
  [ -s /etc/ssl/certs/ca-certificates.crt ] || missing+=(ca-certificates)
  if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" != 0 ]; then
      echo "missing Debian packages for the image test: ${missing[*]} (run as root, apt-get install them, or set STANCE_TEST_NO_IMAGE=1)" >&2
      exit 2
    fi
    echo "== installing ${missing[*]} (for the image test)"
    lock=(-o DPkg::Lock::Timeout=300)
    apt-get "${lock[@]}" update -q >/dev/null || echo "warning: apt-get update reported errors" >&2
    DEBIAN_FRONTEND=noninteractive apt-get "${lock[@]}" install -y -q --no-install-recommends "${missing[@]}" >/dev/null
  fi
fi

# The dashboard's browser test (tests/dashboard_browser.rs) drives Debian's headless Chromium
# through chromedriver. STANCE_TEST_NO_BROWSER=1 skips it.
if [ "${STANCE_TEST_NO_BROWSER:-}" != 1 ] && { ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; }; then
  if [ "$(id -u)" != 0 ]; then
    echo "missing Debian packages for the browser test: chromium chromium-driver (run as root, apt-get install them, or set STANCE_TEST_NO_BROWSER=1)" >&2
    exit 2
  fi
  echo "== installing chromium chromium-driver (for the dashboard's browser test)"
  lock=(-o DPkg::Lock::Timeout=300)
  apt-get "${lock[@]}" update -q >/dev/null || echo "warning: apt-get update reported errors" >&2
  DEBIAN_FRONTEND=noninteractive apt-get "${lock[@]}" install -y -q --no-install-recommends chromium chromium-driver >/dev/null
fi

# The demo's scripts and their tests (hack/demo-objects.py, examples/demo/derive.py) read YAML.
if ! python3 -c "import yaml" >/dev/null 2>&1; then
  echo "== installing PyYAML (for the demo tests)"
  python3 -m pip install --quiet pyyaml
fi

echo "== cargo fmt --all --check"
cargo fmt --all --check
echo "== cargo clippy --workspace --all-targets --all-features -- -D warnings"
cargo clippy --locked --workspace --all-targets --all-features -- -D warnings

cluster_args=()
if [ "${STANCE_TEST_NO_CLUSTER:-}" != 1 ]; then
  # A private state dir and ports, so a developer's own local cluster is left alone.
  export STANCE_CLUSTER_DIR="${STANCE_CLUSTER_DIR:-$(mktemp -d /tmp/stance-test-cluster.XXXX)}"
  export STANCE_APISERVER_PORT="${STANCE_APISERVER_PORT:-16443}" STANCE_ETCD_PORT="${STANCE_ETCD_PORT:-22379}" \
         STANCE_ETCD_PEER_PORT="${STANCE_ETCD_PEER_PORT:-22380}" STANCE_KCM_PORT="${STANCE_KCM_PORT:-20257}"
  echo "== starting a local Kubernetes API server (first run builds it: several minutes)"
  trap 'hack/local-cluster.sh down "$STANCE_CLUSTER_DIR" >/dev/null 2>&1 || true' EXIT
  eval "$(hack/local-cluster.sh up "$STANCE_CLUSTER_DIR")"
  export STANCE_TEST_KUBECONFIG="$KUBECONFIG"
  export STANCE_TEST_KUBECTL="$(hack/local-cluster.sh kubectl-path)"
  cluster_args=(-- --include-ignored)
fi

# A real PostgreSQL for the history store's tests (hack/postgres.sh; STANCE_TEST_NO_POSTGRES=1
# skips it: those tests then run against SQLite only).
if [ "${STANCE_TEST_NO_POSTGRES:-}" != 1 ]; then
  pg_dir="$(mktemp -d /tmp/stance-test-postgres.XXXX)"
  # Replaces the cluster's trap: stops both.
  trap 'hack/postgres.sh down "$pg_dir" >/dev/null 2>&1 || true
        [ "${STANCE_TEST_NO_CLUSTER:-}" = 1 ] || hack/local-cluster.sh down "$STANCE_CLUSTER_DIR" >/dev/null 2>&1 || true' EXIT
  echo "== starting PostgreSQL (hack/postgres.sh)"
  eval "$(hack/postgres.sh up "$pg_dir")"
elif [ ${#cluster_args[@]} -gt 0 ]; then
  # tests/history_cluster.rs: the operator on PostgreSQL needs it (its SQLite twin still runs).
  cluster_args+=(--skip operator_restart_keeps_first_seen_on_postgres)
fi

# The release image: built here, tested by tests/image.rs (ignored unless STANCE_TEST_IMAGE
# names the archive), which runs with the cluster tests' --include-ignored or on its own.
image_test=(--skip release_image_runs_the_demo_like_the_host_binary)
if [ "${STANCE_TEST_NO_IMAGE:-}" != 1 ]; then
  echo "== release image (hack/image.sh)"
  image_line="$(hack/image.sh)"
  echo "$image_line"
  export STANCE_TEST_IMAGE="${image_line%% *}"
  image_test=()
fi

echo "== cargo test --workspace"
if [ ${#cluster_args[@]} -gt 0 ]; then
  cargo test --locked --workspace --no-fail-fast "${cluster_args[@]}" "${image_test[@]}"
else
  cargo test --locked --workspace --no-fail-fast
  if [ -n "${STANCE_TEST_IMAGE:-}" ]; then
    echo "== the release image runs the demo (tests/image.rs)"
    cargo test --locked --test image -- --ignored
  fi
fi
