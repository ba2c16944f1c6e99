#!/usr/bin/env bash
# Load test of the admission webhook — a benchmark, not a test (results: BENCHMARKS.md).
#
# 1. Builds the release binaries and writes the synthetic data set with `stance-synth`:
#    Trivy Operator VulnerabilityReports over 5,000 images (115,000 generated findings, about
#    100,000 after correlation: images repeat some vulnerabilities across packages), and 50
#    GuardrailPolicies (every rule type and enforcement mode), plus the CISA KEV catalog.
# 2. Starts `stance webhook --self-signed` on 127.0.0.1 from that state.
# 3. With wrk (Debian's package; installed if missing), posts the five real kubewarden Pod
#    AdmissionReviews and a Deployment review (three containers running scanned synthetic
#    images) in rotation over HTTPS keep-alive connections, alternating, in the same run:
#      POST /validate       the real evaluation
#      POST /validate-noop  the baseline: the same server, TLS and review parsing, no evaluation
#    Each endpoint gets ROUNDS timed runs of DURATION seconds after a warm-up, at saturation
#    (16 connections: throughput) and at light load (2 connections: latency without
#    queueing); the medians are reported. Server-side latency percentiles come from the
#    webhook's own histograms — stance_webhook_request_duration_seconds (body received →
#    answer ready, including the wait for an evaluation slot) and
#    stance_webhook_evaluation_duration_seconds (the evaluation thread alone) — as the
#    difference of /metrics scraped before and after each run.
# 4. Reports the server's memory (VmRSS now, VmHWM = peak) from /proc.
#
# Usage: hack/loadtest-webhook.sh
# Environment: STANCE_LOADTEST_DURATION (s, default 15), STANCE_LOADTEST_ROUNDS (default 3),
#   STANCE_LOADTEST_CONNECTIONS (saturation, default 16), STANCE_LOADTEST_LIGHT_CONNECTIONS (light
#   load, default 2), STANCE_LOADTEST_THREADS (wrk threads, default 1),
#   STANCE_LOADTEST_IMAGES / _FINDINGS / _POLICIES (default 5000 / 115000 / 50),
#   STANCE_LOADTEST_WORKDIR (default: a new temp dir, removed afterwards),
#   STANCE_LOADTEST_BIN (a directory with prebuilt `stance` and `stance-synth`: no build).
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${STANCE_LOADTEST_DURATION:-15}
ROUNDS=${STANCE_LOADTEST_ROUNDS:-3}
CONNECTIONS=${STANCE_LOADTEST_CONNECTIONS:-16}
THREADS=${STANCE_LOADTEST_THREADS:-1}
LIGHT=${STANCE_LOADTEST_LIGHT_CONNECTIONS:-2}
IMAGES=${STANCE_LOADTEST_IMAGES:-5000}
FINDINGS=${STANCE_LOADTEST_FINDINGS:-115000}
POLICIES=${STANCE_LOADTEST_POLICIES:-50}
NOW=2026-11-27T12:00:00Z
FIXTURES=../shared/fixtures

log() { printf '[loadtest %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { printf '[loadtest] ERROR: %s\n' "$*" >&2; exit 1; }

[ -d "$FIXTURES/kubewarden-load-testing" ] || die "$FIXTURES is missing (the real AdmissionReviews are read from there)"

if ! command -v wrk >/dev/null 2>&1; then
  [ "$(id -u)" = 0 ] || die "wrk is not installed: apt-get install wrk (as root)"
  log "installing wrk (Debian package)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get -o DPkg::Lock::Timeout=300 update -q >&2 || log "warning: apt-get update reported errors"
  apt-get -o DPkg::Lock::Timeout=300 install -y -q --no-install-recommends wrk >&2 || die "apt-get install wrk failed"
fi

WORK=${STANCE_LOADTEST_WORKDIR:-}
if [ -z "$WORK" ]; then
  WORK=$(mktemp -d /tmp/stance-loadtest.XXXX)
  REMOVE_WORK=1
fi
SERVER_PID=
cleanup() {
  if [ -n "$SERVER_PID" ]; then kill -TERM "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  if [ "${REMOVE_WORK:-}" = 1 ]; then rm -rf "$WORK"; fi
}
trap cleanup EXIT

if [ -n "${STANCE_LOADTEST_BIN:-}" ]; then
  BIN=$STANCE_LOADTEST_BIN # prebuilt stance + stance-synth, e.g. another commit's, side by side
else
  log "building the release binaries"
  cargo build --release --bins --features synthetic -q
  BIN=target/release
fi

log "writing the synthetic state ($IMAGES images, $FINDINGS findings, $POLICIES policies) to $WORK/data"
rm -rf "$WORK/data"
"$BIN/stance-synth" --out "$WORK/data" --images "$IMAGES" --findings "$FINDINGS" --policies "$POLICIES" >&2

log "starting stance webhook"
started=$(date +%s.%N)
# shellcheck source=hack/start-webhook.sh
. hack/start-webhook.sh
start_webhook
ready=$(date +%s.%N)
elapsed() { awk -v a="$started" -v b="$ready" 'BEGIN { printf "%.1f", b - a }'; }
STATE_LINE=$(grep '"state loaded"' "$WORK/server.log" | head -1)
field() { printf '%s' "$STATE_LINE" | sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p"; }
log "serving on $ADDR ($(field findings) findings in $(field artifacts) images, $(field policies) policies) after $(elapsed) s"
rss() { awk -v k="$1:" '$1 == k { printf "%.1f", $2 / 1024 }' "/proc/$SERVER_PID/status"; }
RSS_LOADED=$(rss VmRSS)

BODIES=("$FIXTURES"/kubewarden-load-testing/*.json "$WORK/data/reviews/deployment.json")
cat >"$WORK/post.lua" <<'LUA'
-- Posts the review files given after `--` in rotation (requests prebuilt per thread).
local requests, n = {}, 0
function init(args)
  for _, path in ipairs(args) do
    local f = assert(io.open(path, "rb"))
    local body = f:read("*all")
    f:close()
    requests[#requests + 1] = wrk.format("POST", wrk.path, { ["Content-Type"] = "application/json" }, body)
  end
end
function request()
  n = n + 1
  return requests[(n % #requests) + 1]
end
function done(summary, latency, _)
  local e = summary.errors
  io.write(string.format("RESULT requests=%d duration_us=%d p50_us=%d p90_us=%d p99_us=%d p999_us=%d errors=%d\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency:percentile(99.9), e.connect + e.read + e.write + e.status + e.timeout))
end
LUA

# The histogram buckets of one series: `scrape validate` (server latency of an endpoint) or
# `scrape evaluation` (time on the evaluation thread).
scrape() {
  local m
  m=$(curl --noproxy '*' -s "$METRICS")
  if [ "$1" = evaluation ]; then
    grep '^stance_webhook_evaluation_duration_seconds_bucket' <<<"$m" || true
  else
    grep '^stance_webhook_request_duration_seconds_bucket' <<<"$m" | grep "endpoint=\"$1\"" || true
  fi
}

# Server-side quantile (µs) from two scrapes of the histogram buckets (listed in increasing
# `le` order): linear interpolation inside the bucket that holds the quantile.
quantile() { # q before-file after-file
  awk -v q="$1" '
    { match($0, /le="[^"]+"/); le = substr($0, RSTART + 4, RLENGTH - 5); v = $NF }
    FNR == NR { before[le] = v; next }
    { n++; bound[n] = (le == "+Inf") ? 1e9 : le + 0; cum[n] = v - before[le] }
    END {
      total = cum[n]; if (total == 0) { print "-"; exit }
      want = q * total; lo = 0; prev = 0
      for (i = 1; i <= n; i++) {
        if (cum[i] >= want) {
          f = (cum[i] == prev) ? 1 : (want - prev) / (cum[i] - prev)
          printf "%.0f", (lo + f * (bound[i] - lo)) * 1e6; exit
        }
        lo = bound[i]; prev = cum[i]
      }
    }' "$2" "$3"
}

# CPU time the server has used so far, in clock ticks (user + system, /proc/PID/stat).
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$SERVER_PID/stat"; }
TICK=$(getconf CLK_TCK)

# One timed run: endpoint, connections, seconds →
# "rps client-p50 client-p99 client-p99.9 server-p50 server-p99 eval-p50 eval-p99 cpu-per-review errors"
# (µs). The server's CPU per review does not depend on how the two CPUs were shared with wrk
# and other work, which the throughput does.
run() {
  local ep=$1 conns=$2 secs=$3 out req dur c0 c1
  scrape "$ep" >"$WORK/before"
  scrape evaluation >"$WORK/before-eval"
  c0=$(cpu_ticks)
  out=$(wrk -t"$THREADS" -c"$conns" -d"${secs}s" --timeout 5s -s "$WORK/post.lua" "https://$ADDR/$ep" -- "${BODIES[@]}" | grep '^RESULT')
  c1=$(cpu_ticks)
  scrape "$ep" >"$WORK/after"
  scrape evaluation >"$WORK/after-eval"
  req=$(sed -E 's/.*requests=([0-9]+).*/\1/' <<<"$out")
  dur=$(sed -E 's/.*duration_us=([0-9]+).*/\1/' <<<"$out")
  printf '%s %s %s %s %s %s %s %s %s %s\n' \
    "$(awk -v r="$req" -v d="$dur" 'BEGIN { printf "%.0f", r / (d / 1e6) }')" \
    "$(sed -E 's/.*p50_us=([0-9]+).*/\1/' <<<"$out")" "$(sed -E 's/.*p99_us=([0-9]+).*/\1/' <<<"$out")" \
    "$(sed -E 's/.*p999_us=([0-9]+).*/\1/' <<<"$out")" \
    "$(quantile 0.5 "$WORK/before" "$WORK/after")" "$(quantile 0.99 "$WORK/before" "$WORK/after")" \
    "$(quantile 0.5 "$WORK/before-eval" "$WORK/after-eval")" "$(quantile 0.99 "$WORK/before-eval" "$WORK/after-eval")" \
    "$(awk -v t=$((c1 - c0)) -v hz="$TICK" -v r="$req" 'BEGIN { printf "%.0f", r ? t * 1e6 / hz / r : 0 }')" \
    "$(sed -E 's/.*errors=([0-9]+).*/\1/' <<<"$out")"
}

log "load average before the runs: $(cut -d' ' -f1-3 /proc/loadavg)"
log "warm-up (3 s each)"
run validate "$CONNECTIONS" 3 >/dev/null
run validate-noop "$CONNECTIONS" 3 >/dev/null

# Saturation: CONNECTIONS connections keep the server busy (throughput; latency then is
# mostly queueing). Light load: LIGHT connections (latency without queueing).
: >"$WORK/results"
for round in $(seq 1 "$ROUNDS"); do
  # Alternate which endpoint goes first, so neither always runs on a warmer machine.
  if [ $((round % 2)) = 1 ]; then order=(validate validate-noop); else order=(validate-noop validate); fi
  for ep in "${order[@]}" light-validate light-validate-noop; do
    case $ep in
      light-*) r=$(run "${ep#light-}" "$LIGHT" "$DURATION") ;;
      *) r=$(run "$ep" "$CONNECTIONS" "$DURATION") ;;
    esac
    log "round $round $ep: rps, client p50 p99 p99.9, server p50 p99, evaluation p50 p99, server CPU per review (µs), errors = $r"
    echo "$ep $r" >>"$WORK/results"
  done
done

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.0f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
col() { awk -v ep="$1" -v c="$2" '$1 == ep { print $c }' "$WORK/results" | median; }
V_RPS=$(col validate 2); N_RPS=$(col validate-noop 2)
RATIO=$(awk -v a="$V_RPS" -v b="$N_RPS" 'BEGIN { printf "%.2f", a / b }')
DECISIONS=$(curl --noproxy '*' -s "$METRICS" | grep '^stance_webhook_admission_requests_total' | sed 's/stance_webhook_admission_requests_total//' | tr '\n' ' ')

row() { # label key
  printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$1" "$(col "$2" 2)" "$(col "$2" 3)" "$(col "$2" 4)" \
    "$(col "$2" 5)" "$(col "$2" 6)" "$(col "$2" 7)" "$(col "$2" 8)" "$(col "$2" 9)" "$(col "$2" 10)"
}
V_CPU=$(col validate 10); N_CPU=$(col validate-noop 10)
cat <<EOF

## Load test result ($(date -u +%Y-%m-%dT%H:%MZ))

Machine: $(nproc) CPUs ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)), $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), $(uname -sr); load average at the end $(cut -d' ' -f1-3 /proc/loadavg)
State: $(field findings) correlated findings over $(field artifacts) images, $(field policies) policies (+ KEV catalog); ready in $(elapsed) s
Load: wrk $(wrk --version 2>&1 | head -1 | awk '{ print $2 }'), $THREADS thread(s), HTTPS keep-alive, ${#BODIES[@]} reviews in rotation, $ROUNDS × ${DURATION} s per row (medians)

| endpoint, connections | reviews/s | client p50 µs | client p99 µs | client p99.9 µs | server p50 µs | server p99 µs | evaluation p50 µs | evaluation p99 µs | server CPU µs per review |
|---|---|---|---|---|---|---|---|---|---|
$(row "POST /validate, $CONNECTIONS" validate)
$(row "POST /validate-noop (baseline), $CONNECTIONS" validate-noop)
$(row "POST /validate, $LIGHT" light-validate)
$(row "POST /validate-noop (baseline), $LIGHT" light-validate-noop)

/validate ÷ noop throughput at saturation: $RATIO
/validate ÷ noop server CPU per review at saturation: $(awk -v a="$V_CPU" -v b="$N_CPU" 'BEGIN { printf "%.2f", b ? a / b : 0 }') (reviews per CPU-second: $(awk -v a="$V_CPU" 'BEGIN { printf "%.0f", a ? 1e6 / a : 0 }') vs $(awk -v b="$N_CPU" 'BEGIN { printf "%.0f", b ? 1e6 / b : 0 }'))
Server memory: VmRSS $RSS_LOADED MiB after loading, $(rss VmRSS) MiB after the load; peak VmHWM $(rss VmHWM) MiB
Errors (connect/read/write/status/timeout, all runs): $(awk '{ s += $NF } END { print s + 0 }' "$WORK/results")
Decisions: $DECISIONS
EOF
