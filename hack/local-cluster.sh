#!/usr/bin/env bash
# A real, local Kubernetes API server for Stance's integration tests and demo.
#
# No container engine is needed: genuine kube-apiserver, kube-controller-manager and kubectl
# v1.20.2 are built from Debian bookworm's `kubernetes` source package (the full upstream tree
# with vendored dependencies) and run next to Debian's etcd 3.4, all on 127.0.0.1.
# This is the etcd + apiserver arrangement that controller-runtime's envtest uses, plus the
# controller-manager (garbage collection, Deployments -> ReplicaSets -> Pods, namespace
# deletion, ServiceAccounts and their token secrets). There is NO kubelet and NO scheduler:
# Pods are created but never scheduled or run.
#
# Usage:
#   hack/local-cluster.sh build                build the binaries into the cache (idempotent)
#   hack/local-cluster.sh up [STATEDIR]        build if needed, start the cluster, wait until
#                                              ready; prints `export KUBECONFIG=...` on stdout
#   hack/local-cluster.sh down [STATEDIR]      stop what `up` started, remove the etcd data
#   hack/local-cluster.sh status [STATEDIR]    processes + curl health checks (exit 0 = healthy)
#   hack/local-cluster.sh kubeconfig [STATEDIR] print the kubeconfig path
#   hack/local-cluster.sh kubectl-path         print a kubectl (v1.20.2, built with the server)
#   hack/local-cluster.sh kubectl ARGS...      run that kubectl against the cluster
#
# Typical use:  eval "$(hack/local-cluster.sh up)"; "$(hack/local-cluster.sh kubectl-path)" get ns
#
# Environment:
#   STANCE_K8S_CACHE        binaries + build log   (default ~/.cache/stance/k8s-v1.20.2-r<RECIPE>)
#   STANCE_CLUSTER_DIR      default STATEDIR       (default /tmp/stance-cluster)
#   STANCE_APISERVER_PORT   kube-apiserver https   (default 6443)
#   STANCE_ETCD_PORT        etcd client            (default 12379; not 2379, which a system
#                                                   etcd.service from Debian's etcd-server may hold)
#   STANCE_ETCD_PEER_PORT   etcd peer              (default 12380)
#   STANCE_KCM_PORT         controller-manager https health port (default 10257)
#   STANCE_UP_TIMEOUT       seconds to wait for readiness (default 180)
# The ports are fixed, so one cluster runs at a time per port set.
#
# What `up` gives you (written to STATEDIR):
#   kubeconfig    server https://127.0.0.1:6443, CA verified (pki/ca.crt), bearer token of a
#                 user in system:masters (token in STATEDIR/admin.token)
#   pki/          a private CA (ca.crt/ca.key) and the apiserver's serving cert signed by it,
#                 SANs: 127.0.0.1, localhost, 10.0.0.1, kubernetes.default.svc(.cluster.local)
#   logs/         etcd.log, kube-apiserver.log, kube-controller-manager.log
# Authentication: token file + service-account tokens; authorization: RBAC; admission: the
# 1.20 defaults, with ServiceAccount, MutatingAdmissionWebhook and ValidatingAdmissionWebhook
# explicitly on, so a ValidatingWebhookConfiguration whose clientConfig.url is
# https://127.0.0.1:PORT/... (caBundle = the webhook's CA) is called by the real API server.
#
# Known limits of 1.20 (tests must not rely on these): CRD x-kubernetes-validations (CEL) is
# ignored; no WatchList streaming; no ValidatingAdmissionPolicy; server-side apply exists
# (beta); no kubelet/scheduler, so Pods stay Pending forever.
set -euo pipefail

K8S_VERSION=1.20.2
# Bump when the build recipe changes: a cache built by another recipe is rebuilt.
RECIPE=4
DEB_SRC_PKG=kubernetes
DEB_SRC_VERSION_PREFERRED=1.20.5+really1.20.2-1.1+deb12u1

# One cache per recipe: checkouts on different recipes (branches) must not rebuild over each other.
CACHE=${STANCE_K8S_CACHE:-$HOME/.cache/stance/k8s-v$K8S_VERSION-r$RECIPE}
DEFAULT_STATE=${STANCE_CLUSTER_DIR:-/tmp/stance-cluster}
API_PORT=${STANCE_APISERVER_PORT:-6443}
ETCD_PORT=${STANCE_ETCD_PORT:-12379}
ETCD_PEER_PORT=${STANCE_ETCD_PEER_PORT:-12380}
KCM_PORT=${STANCE_KCM_PORT:-10257}
UP_TIMEOUT=${STANCE_UP_TIMEOUT:-180}
ENV_PORTS="API_PORT=$API_PORT ETCD_PORT=$ETCD_PORT ETCD_PEER_PORT=$ETCD_PEER_PORT KCM_PORT=$KCM_PORT"
BINS=(kube-apiserver kube-controller-manager kubectl)

# Progress goes to stderr so that stdout carries only what callers evaluate or capture.
log() { printf '[local-cluster %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { printf '[local-cluster] ERROR: %s\n' "$*" >&2; exit 1; }

# curl that never goes through a proxy (everything here is on 127.0.0.1).
lcurl() { curl --noproxy '*' -sS --max-time 5 "$@"; }

# ---------------------------------------------------------------------------------------------
# build
# ---------------------------------------------------------------------------------------------

pkg_installed() { [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ]; }

APT_UPDATED=0
apt_install() {
  local missing=() p
  for p in "$@"; do pkg_installed "$p" || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  [ "$(id -u)" = 0 ] || die "missing Debian packages: ${missing[*]} (run as root, or apt-get install them)"
  log "apt-get install ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  local lock=(-o DPkg::Lock::Timeout=300)
  if [ "$APT_UPDATED" = 0 ]; then
    apt-get "${lock[@]}" update -q >&2 || log "warning: apt-get update reported errors"
    APT_UPDATED=1
  fi
  apt-get "${lock[@]}" install -y -q --no-install-recommends "${missing[@]}" >&2 \
    || die "apt-get install ${missing[*]} failed"
}

build_info() { printf 'kubernetes=v%s recipe=%s bins=%s\n' "$K8S_VERSION" "$RECIPE" "${BINS[*]}"; }

built() {
  [ -f "$CACHE/BUILD-INFO" ] && [ "$(cat "$CACHE/BUILD-INFO")" = "$(build_info)" ] || return 1
  local b; for b in "${BINS[@]}"; do [ -x "$CACHE/$b" ] || return 1; done
}

# Writes deb-src variants of the system's Debian apt sources into $1 (a sourceparts dir).
write_src_sources() {
  local dir=$1 f n=0
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    grep -qi 'debian' "$f" || continue
    sed -E 's/^Types:.*/Types: deb-src/' "$f" > "$dir/src$n.sources"; n=$((n + 1))
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    grep -E '^[[:space:]]*deb[[:space:]]' "$f" | grep -i debian \
      | sed -E 's/^[[:space:]]*deb[[:space:]]/deb-src /' > "$dir/src$n.list" || true
    n=$((n + 1))
  done
  if ! grep -qs . "$dir"/*; then
    . /etc/os-release
    echo "deb-src http://deb.debian.org/debian ${VERSION_CODENAME:-bookworm} main" > "$dir/fallback.list"
  fi
}

do_build() {
  mkdir -p "$CACHE"
  exec 8>"$CACHE/.build.lock"
  if ! flock -n 8; then log "another build is running in $CACHE; waiting"; flock 8; fi
  if built; then log "binaries already built in $CACHE ($(build_info))"; return 0; fi

  local LOG="$CACHE/build.log" W="$CACHE/work" t0=$SECONDS
  : > "$LOG"
  # Fail loudly, with the log, on any error below (the paths are expanded now, on purpose).
  # shellcheck disable=SC2064
  trap "rc=\$?; if [ \$rc -ne 0 ]; then
          echo '[local-cluster] BUILD FAILED (exit '\$rc'). Last lines of $LOG:' >&2
          tail -n 25 '$LOG' >&2; echo '[local-cluster] full build log: $LOG (work dir kept: $W)' >&2
        fi" EXIT

  log "build 1/6: Debian packages (golang-go, etcd-server, openssl, curl, rsync, make, patch, xz-utils)"
  # rsync is REQUIRED: kubernetes' hack/lib/golang.sh places every built binary (including the
  # code generators run by `make`) with `find ... -exec rsync`. Without rsync nothing is copied,
  # the Makefile then `touch`es an empty, non-executable _output/bin/prerelease-lifecycle-gen and
  # the build dies with "Permission denied". Debian's package lists rsync in Build-Depends.
  apt_install golang-go etcd-server openssl curl rsync make patch xz-utils ca-certificates >>"$LOG" 2>&1

  rm -rf "$W"; mkdir -p "$W/apt/lists/partial" "$W/apt/cache/archives/partial" "$W/apt/sources.d"
  log "build 2/6: fetching the '$DEB_SRC_PKG' source package (private deb-src apt config)"
  write_src_sources "$W/apt/sources.d"
  local A=(-o Dir::Etc::sourcelist=/dev/null -o Dir::Etc::sourceparts="$W/apt/sources.d"
           -o Dir::State::Lists="$W/apt/lists" -o Dir::Cache="$W/apt/cache"
           -o Dir::Etc::Preferences=/dev/null -o Dir::Etc::PreferencesParts=/dev/null)
  apt-get "${A[@]}" update -q >>"$LOG" 2>&1 || log "warning: deb-src apt-get update reported errors (see $LOG)"
  # Prefer the version this was written against; fall back to any other Debian revision of the
  # same upstream release (e.g. a later +deb12uN security update that replaced it on the mirror).
  local ver=$DEB_SRC_VERSION_PREFERRED
  if ! apt-cache "${A[@]}" showsrc "$DEB_SRC_PKG=$ver" 2>/dev/null | grep -q '^Version:'; then
    ver=$(apt-cache "${A[@]}" showsrc "$DEB_SRC_PKG" 2>/dev/null | sed -n 's/^Version: //p' \
            | grep -F "really$K8S_VERSION" | sort -V | tail -n1 || true)
    [ -n "$ver" ] || { echo "no source of $DEB_SRC_PKG with upstream $K8S_VERSION found" >>"$LOG"; return 1; }
  fi
  log "          $DEB_SRC_PKG=$ver"
  (cd "$W" && apt-get "${A[@]}" source --download-only -q "$DEB_SRC_PKG=$ver") >>"$LOG" 2>&1
  (cd "$W" && apt-get download -q golang-github-modern-go-reflect2-dev) >>"$LOG" 2>&1

  log "build 3/6: unpacking and patching the source tree"
  local orig; orig=$(ls "$W"/${DEB_SRC_PKG}_*.orig.tar.* | head -n1)
  tar -C "$W" -xf "$orig" >>"$LOG" 2>&1
  local SRC="$W/kubernetes-$K8S_VERSION"
  [ -d "$SRC" ] || { echo "expected $SRC after unpacking $orig" >>"$LOG"; return 1; }
  # Debian's own patches (kubectl printing fixes incl. CVE-2021-25743).
  local deb; deb=$(ls "$W"/${DEB_SRC_PKG}_*.debian.tar.* 2>/dev/null | head -n1 || true)
  if [ -n "$deb" ]; then
    tar -C "$SRC" -xf "$deb" >>"$LOG" 2>&1
    if [ -f "$SRC/debian/patches/series" ]; then
      local p
      while read -r p; do
        case "$p" in ''|'#'*) continue;; esac
        echo "applying debian/patches/$p" >>"$LOG"
        patch -d "$SRC" -p1 --forward -s < "$SRC/debian/patches/${p%% *}" >>"$LOG" 2>&1
      done < "$SRC/debian/patches/series"
    fi
  fi
  # Go >= 1.18 crashes the vendored reflect2 v1.0.1 (SIGSEGV on the first custom-object create
  # in kube-apiserver): use Debian's reflect2 1.0.2 instead.
  dpkg-deb -x "$(ls "$W"/golang-github-modern-go-reflect2-dev_*.deb | head -n1)" "$W/r2" >>"$LOG" 2>&1
  rm -rf "$SRC/vendor/github.com/modern-go/reflect2"
  mkdir -p "$SRC/vendor/github.com/modern-go/reflect2"
  cp "$W"/r2/usr/share/gocode/src/github.com/modern-go/reflect2/*.go \
     "$W"/r2/usr/share/gocode/src/github.com/modern-go/reflect2/*.s \
     "$SRC/vendor/github.com/modern-go/reflect2/"
  # Go >= 1.16 makes the vendored OpenAPI validators treat every zero value as null, so the
  # server refuses `""` in a custom resource's string field ("must be of type string: null") —
  # e.g. every real Trivy Operator report (fixedVersion: "" when there is no fix). Kubernetes
  # 1.21 fixed it by dropping that check (kubernetes/kube-openapi#230, issue
  # kubernetes/kubernetes#99804); apply the same one-line fix to both vendored copies.
  local zero_check='if data == nil || reflect.DeepEqual(reflect.Zero(reflect.TypeOf(data)), reflect.ValueOf(data)) {'
  local f patched=0
  for f in vendor/k8s.io/kube-openapi/pkg/validation/validate/type.go vendor/github.com/go-openapi/validate/type.go; do
    [ -f "$SRC/$f" ] && grep -qF "$zero_check" "$SRC/$f" || continue
    sed -i 's/if data == nil || reflect\.DeepEqual(reflect\.Zero(reflect\.TypeOf(data)), reflect\.ValueOf(data)) {/if data == nil {/' "$SRC/$f"
    grep -qF "$zero_check" "$SRC/$f" && { echo "could not patch $f" >>"$LOG"; return 1; }
    echo "patched the zero-value check in $f" >>"$LOG"; patched=$((patched + 1))
  done
  [ $patched -gt 0 ] || { echo "the OpenAPI zero-value check to patch was not found" >>"$LOG"; return 1; }
  mkdir -p "$SRC/.go/src/k8s.io" && ln -sfn ../../.. "$SRC/.go/src/k8s.io/kubernetes"

  log "build 4/6: compiling kube-apiserver, kube-controller-manager, kubectl (several minutes; log: $LOG)"
  # Debian's Go 1.19 (the one this tree is known to build with) first in PATH; no user Go env.
  (cd "$SRC" && env -u GOFLAGS -u GO111MODULE -u GOROOT -u GOBIN -u GOPROXY -u GOTOOLCHAIN \
      PATH="/usr/lib/go/bin:$PATH" GOPATH="$SRC/.go" GOCACHE="$W/gocache" CGO_ENABLED=0 HOME="$W" \
      KUBE_GIT_VERSION="v$K8S_VERSION" KUBE_GIT_TREE_STATE=clean \
      make WHAT="cmd/kube-apiserver cmd/kube-controller-manager cmd/kubectl") >>"$LOG" 2>&1

  log "build 5/6: installing into $CACHE"
  local b
  for b in "${BINS[@]}"; do
    [ -x "$SRC/_output/bin/$b" ] || { echo "missing $SRC/_output/bin/$b" >>"$LOG"; return 1; }
    cp "$SRC/_output/bin/$b" "$CACHE/$b.tmp" && mv -f "$CACHE/$b.tmp" "$CACHE/$b"
  done
  local v; v=$("$CACHE/kube-apiserver" --version 2>&1 || true); echo "$v" >>"$LOG"
  [ "$v" = "Kubernetes v$K8S_VERSION" ] || { echo "kube-apiserver --version is not v$K8S_VERSION" >>"$LOG"; return 1; }
  build_info > "$CACHE/BUILD-INFO"

  log "build 6/6: cleaning up the work dir"
  rm -rf "$W"
  trap - EXIT
  log "built in $((SECONDS - t0))s: $CACHE/{${BINS[*]// /,}}"
}

ensure_built() { built || do_build; }

# ---------------------------------------------------------------------------------------------
# cluster
# ---------------------------------------------------------------------------------------------

state_dir() { local d=${1:-$DEFAULT_STATE}; mkdir -p "$d"; (cd "$d" && pwd); }

COMPONENTS=(etcd kube-apiserver kube-controller-manager)

# pid of a component if its pid file names a live process running that component's binary.
comp_pid() {
  local S=$1 c=$2 pid
  [ -f "$S/run/$c.pid" ] || return 1
  pid=$(cat "$S/run/$c.pid" 2>/dev/null) || return 1
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  local exe; exe=$(readlink "/proc/$pid/exe" 2>/dev/null) || return 1
  exe=${exe% (deleted)}; [ "${exe##*/}" = "$c" ] || return 1
  local stat; stat=$(cat "/proc/$pid/stat" 2>/dev/null) || return 1
  stat=${stat##*) }; [ "${stat%% *}" != Z ] || return 1   # a zombie is not running
  echo "$pid"
}

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Starts "$@" fully detached (own session, stdin from /dev/null, output to the log, no inherited
# lock fds), and records its pid. The pid is written by the process itself right before exec.
spawn() {
  local S=$1 c=$2; shift 2
  rm -f "$S/run/$c.pid"
  setsid bash -c 'echo $$ > "$0"; exec "$@"' "$S/run/$c.pid" "$@" \
    < /dev/null >> "$S/logs/$c.log" 2>&1 8>&- 9>&- &
  local i; for i in $(seq 1 100); do comp_pid "$S" "$c" >/dev/null && return 0; sleep 0.05; done
  fail_with_log "$S" "$c" "could not start $c"
}

api_get() { # path -> body on stdout; fails on non-2xx
  local S=$1 path=$2
  lcurl -f --cacert "$S/pki/ca.crt" -H "Authorization: Bearer $(cat "$S/admin.token")" \
    "https://127.0.0.1:$API_PORT$path"
}

fail_with_log() { # component message
  local S=$1 c=$2; shift 2
  echo "[local-cluster] ERROR: $*. Last lines of $S/logs/$c.log:" >&2
  tail -n 30 "$S/logs/$c.log" >&2 || true
  exit 1
}

wait_for() { # S component description command...
  local S=$1 c=$2 what=$3; shift 3
  local deadline=$((SECONDS + UP_TIMEOUT))
  until "$@" >/dev/null 2>&1; do
    comp_pid "$S" "$c" >/dev/null || fail_with_log "$S" "$c" "$c exited while waiting for $what"
    [ $SECONDS -lt $deadline ] || fail_with_log "$S" "$c" "timed out after ${UP_TIMEOUT}s waiting for $what"
    sleep 0.3
  done
}

make_pki() {
  local S=$1 P=$1/pki
  mkdir -p "$P"; chmod 700 "$P"
  if [ ! -s "$P/ca.crt" ]; then
    log "creating CA and apiserver serving certificate in $P"
    openssl req -x509 -newkey rsa:2048 -nodes -keyout "$P/ca.key" -out "$P/ca.crt" -days 3650 \
      -subj "/CN=stance-local-ca" 2>/dev/null
    rm -f "$P/apiserver.crt"
  fi
  if [ ! -s "$P/apiserver.crt" ]; then
    cat > "$P/apiserver.ext" <<EOF
basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=IP:127.0.0.1,IP:10.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local
EOF
    openssl req -newkey rsa:2048 -nodes -keyout "$P/apiserver.key" -out "$P/apiserver.csr" \
      -subj "/CN=kube-apiserver" 2>/dev/null
    openssl x509 -req -in "$P/apiserver.csr" -CA "$P/ca.crt" -CAkey "$P/ca.key" -CAcreateserial \
      -days 3650 -extfile "$P/apiserver.ext" -out "$P/apiserver.crt" 2>/dev/null
  fi
  if [ ! -s "$P/sa.key" ]; then
    openssl genrsa -out "$P/sa.key" 2048 2>/dev/null
    openssl rsa -in "$P/sa.key" -pubout -out "$P/sa.pub" 2>/dev/null
  fi
  [ -s "$S/admin.token" ] || { openssl rand -hex 24 > "$S/admin.token"; chmod 600 "$S/admin.token"; }
  printf '%s,stance-admin,stance-admin,"system:masters"\n' "$(cat "$S/admin.token")" > "$P/tokens.csv"
  chmod 600 "$P/tokens.csv"
}

write_kubeconfig() {
  local S=$1
  cat > "$S/kubeconfig.tmp" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: stance-local
  cluster:
    server: https://127.0.0.1:$API_PORT
    certificate-authority: $S/pki/ca.crt
users:
- name: stance-admin
  user:
    token: $(cat "$S/admin.token")
contexts:
- name: stance-local
  context:
    cluster: stance-local
    user: stance-admin
    namespace: default
current-context: stance-local
EOF
  chmod 600 "$S/kubeconfig.tmp"; mv -f "$S/kubeconfig.tmp" "$S/kubeconfig"
}

# A running cluster keeps the ports it was started with (STATEDIR/ports.env), whatever the env.
load_ports() { if [ -f "$1/ports.env" ]; then . "$1/ports.env"; fi; }
reset_ports() { eval "$ENV_PORTS"; }

healthy() { # quiet check of the whole cluster
  local S=$1 c
  for c in "${COMPONENTS[@]}"; do comp_pid "$S" "$c" >/dev/null || return 1; done
  [ -f "$S/kubeconfig" ] && api_get "$S" /readyz >/dev/null 2>&1 \
    && lcurl -kf "https://127.0.0.1:$KCM_PORT/healthz" >/dev/null 2>&1
}

stop_components() {
  local S=$1 c pid i any=0
  for c in kube-controller-manager kube-apiserver etcd; do
    if pid=$(comp_pid "$S" "$c"); then
      any=1; log "stopping $c (pid $pid)"
      kill -TERM "$pid" 2>/dev/null || true
      for i in $(seq 1 100); do comp_pid "$S" "$c" >/dev/null || break; sleep 0.1; done
      if comp_pid "$S" "$c" >/dev/null; then log "$c did not stop; SIGKILL"; kill -KILL "$pid" 2>/dev/null || true; sleep 0.3; fi
    fi
    rm -f "$S/run/$c.pid"
  done
  [ $any = 1 ] || log "nothing running for $S"
}

do_up() {
  local S; S=$(state_dir "${1:-}")
  mkdir -p "$S/run" "$S/logs"
  exec 9>"$S/run/.lock"; flock 9
  load_ports "$S"
  if healthy "$S"; then
    log "cluster already up in $S (reusing)"
    echo "export KUBECONFIG=$S/kubeconfig"; return 0
  fi
  local c any=0
  for c in "${COMPONENTS[@]}"; do comp_pid "$S" "$c" >/dev/null && any=1; done
  if [ $any = 1 ]; then log "cluster in $S is only partly up; restarting it"; stop_components "$S"; fi
  reset_ports

  local t0=$SECONDS
  ensure_built
  command -v etcd >/dev/null || apt_install etcd-server
  command -v openssl >/dev/null && command -v curl >/dev/null || apt_install openssl curl
  local ETCD; ETCD=$(command -v etcd)

  local port
  for port in "$API_PORT" "$ETCD_PORT" "$ETCD_PEER_PORT" "$KCM_PORT"; do
    port_busy "$port" && die "port 127.0.0.1:$port is already in use (another cluster? run '$0 down' for its STATEDIR, or set STANCE_*_PORT)"
  done
  local tb=$SECONDS
  make_pki "$S"
  write_kubeconfig "$S"
  printf 'API_PORT=%s\nETCD_PORT=%s\nETCD_PEER_PORT=%s\nKCM_PORT=%s\n' \
    "$API_PORT" "$ETCD_PORT" "$ETCD_PEER_PORT" "$KCM_PORT" > "$S/ports.env"
  for c in "${COMPONENTS[@]}"; do
    [ -f "$S/logs/$c.log" ] && mv -f "$S/logs/$c.log" "$S/logs/$c.log.prev"; : > "$S/logs/$c.log"
  done

  log "starting etcd on 127.0.0.1:$ETCD_PORT (data: $S/etcd)"
  [ "$(uname -m)" = aarch64 ] && export ETCD_UNSUPPORTED_ARCH=arm64
  spawn "$S" etcd "$ETCD" --name stance-local --data-dir "$S/etcd" \
    --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
    --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-cluster "stance-local=http://127.0.0.1:$ETCD_PEER_PORT" \
    --logger zap --log-outputs stderr
  wait_for "$S" etcd "etcd /health" lcurl -f "http://127.0.0.1:$ETCD_PORT/health"

  # --endpoint-reconciler-type=none: the `kubernetes` Service cannot get 127.0.0.1 endpoints
  # (loopback is invalid there) and nothing runs in-cluster anyway; this silences the retries.
  log "starting kube-apiserver on https://127.0.0.1:$API_PORT"
  spawn "$S" kube-apiserver "$CACHE/kube-apiserver" \
    --etcd-servers="http://127.0.0.1:$ETCD_PORT" \
    --bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port="$API_PORT" \
    --tls-cert-file="$S/pki/apiserver.crt" --tls-private-key-file="$S/pki/apiserver.key" \
    --client-ca-file="$S/pki/ca.crt" \
    --token-auth-file="$S/pki/tokens.csv" --authorization-mode=RBAC \
    --enable-admission-plugins=NamespaceLifecycle,LimitRanger,ServiceAccount,DefaultStorageClass,ResourceQuota,MutatingAdmissionWebhook,ValidatingAdmissionWebhook \
    --service-account-issuer=https://kubernetes.default.svc.cluster.local \
    --service-account-key-file="$S/pki/sa.pub" --service-account-signing-key-file="$S/pki/sa.key" \
    --service-cluster-ip-range=10.0.0.0/24 --allow-privileged=true \
    --endpoint-reconciler-type=none
  wait_for "$S" kube-apiserver "kube-apiserver /readyz" api_get "$S" /readyz

  log "starting kube-controller-manager (health: https://127.0.0.1:$KCM_PORT/healthz)"
  spawn "$S" kube-controller-manager "$CACHE/kube-controller-manager" \
    --kubeconfig="$S/kubeconfig" \
    --bind-address=127.0.0.1 --secure-port="$KCM_PORT" --port=0 --leader-elect=false \
    --service-account-private-key-file="$S/pki/sa.key" --root-ca-file="$S/pki/ca.crt" \
    --cluster-signing-cert-file="$S/pki/ca.crt" --cluster-signing-key-file="$S/pki/ca.key" \
    --use-service-account-credentials=false \
    --controllers='*,-nodeipam,-nodelifecycle,-cloud-node-lifecycle,-route,-service' \
    --cert-dir="$S/pki/generated-kcm"
  wait_for "$S" kube-controller-manager "kube-controller-manager /healthz" \
    lcurl -kf "https://127.0.0.1:$KCM_PORT/healthz"
  wait_for "$S" kube-apiserver "namespace default" api_get "$S" /api/v1/namespaces/default
  # The ServiceAccount admission plugin is on: Pods are refused until the namespace's default
  # ServiceAccount and its token secret exist, so wait for both.
  wait_for "$S" kube-controller-manager "ServiceAccount default/default and its token" \
    sa_has_token "$S"
  log "cluster ready in $((SECONDS - tb))s (up total $((SECONDS - t0))s); state: $S"
  log "kubectl: $CACHE/kubectl  (or: $0 kubectl ...)"
  echo "export KUBECONFIG=$S/kubeconfig"
}

sa_has_token() { api_get "$1" /api/v1/namespaces/default/serviceaccounts/default | grep -q '"secrets"'; }

do_down() {
  local S; S=$(state_dir "${1:-}")
  mkdir -p "$S/run"
  exec 9>"$S/run/.lock"; flock 9
  stop_components "$S"
  rm -rf "$S/etcd"
  log "down: $S (etcd data removed; pki, kubeconfig and logs kept)"
}

do_status() {
  local S; S=$(state_dir "${1:-}")
  local ok=0 c pid
  load_ports "$S"
  echo "state dir:  $S"
  echo "binaries:   $CACHE ($(built && echo built || echo NOT built))"
  for c in "${COMPONENTS[@]}"; do
    if pid=$(comp_pid "$S" "$c"); then printf '%-24s running (pid %s)\n' "$c:" "$pid"
    else printf '%-24s not running\n' "$c:"; ok=1; fi
  done
  if lcurl -f "http://127.0.0.1:$ETCD_PORT/health" >/dev/null 2>&1; then
    echo "etcd /health:            ok (127.0.0.1:$ETCD_PORT)"; else echo "etcd /health:            FAIL"; ok=1; fi
  if [ -f "$S/admin.token" ] && api_get "$S" /readyz >/dev/null 2>&1; then
    echo "apiserver /readyz:       ok (https://127.0.0.1:$API_PORT, CA-verified, token)"
    echo "apiserver /version:      $(api_get "$S" /version | sed -n 's/.*"gitVersion": *"\([^"]*\)".*/\1/p')"
  else echo "apiserver /readyz:       FAIL"; ok=1; fi
  if lcurl -kf "https://127.0.0.1:$KCM_PORT/healthz" >/dev/null 2>&1; then
    echo "controller-manager:      ok (https://127.0.0.1:$KCM_PORT/healthz)"; else echo "controller-manager:      FAIL"; ok=1; fi
  [ $ok = 0 ] && echo "KUBECONFIG=$S/kubeconfig"
  return $ok
}

kubectl_path() { ensure_built >&2; echo "$CACHE/kubectl"; }

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; }

cmd=${1:-help}; shift || true
case "$cmd" in
  build)        do_build ;;
  up)           do_up "${1:-}" ;;
  down)         do_down "${1:-}" ;;
  status)       do_status "${1:-}" ;;
  kubeconfig)   echo "$(state_dir "${1:-}")/kubeconfig" ;;
  kubectl-path) kubectl_path ;;
  kubectl)      ensure_built >&2
                KUBECONFIG="$(state_dir)/kubeconfig" exec "$CACHE/kubectl" "$@" ;;
  help|-h|--help) usage ;;
  *) usage >&2; exit 2 ;;
esac
