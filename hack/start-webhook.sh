# Sourced by the load tests (hack/loadtest-webhook.sh, hack/loadtest-apiserver.sh): starts
# `stance webhook` on 127.0.0.1 from a synthetic state and waits until it listens.
# Needs: BIN (directory of the stance binary), WORK (scratch dir holding data/), FIXTURES,
# NOW, and a `die` function. Sets: SERVER_PID, ADDR (host:port of HTTPS), METRICS (host:port);
# the server's log is $WORK/server.log and its CA bundle $WORK/ca.pem.
start_webhook() {
  STANCE_LOG=info "$BIN/stance" webhook --state "$WORK/data" --state "$FIXTURES/kev/known_exploited_vulnerabilities.json" \
    --listen 127.0.0.1:0 --metrics-listen 127.0.0.1:0 --self-signed --ca-bundle-out "$WORK/ca.pem" --now "$NOW" \
    --log-format json >"$WORK/server.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 1 600); do
    grep -q '^listening on https://' "$WORK/server.log" 2>/dev/null && break
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/server.log" >&2; die "the webhook exited"; }
    sleep 0.1
  done
  ADDR=$(sed -n 's|^listening on https://||p' "$WORK/server.log")
  METRICS=$(sed -n 's|^metrics on ||p' "$WORK/server.log")
  [ -n "$ADDR" ] || die "the webhook did not start: $(cat "$WORK/server.log")"
}
