#!/usr/bin/env bash
# A real, throwaway PostgreSQL for the history store's tests (crates/history/tests), from
# Debian's `postgresql` package: initdb into a temp dir, listen on 127.0.0.1 only, on its
# own port, trust authentication (nothing but local tests ever connects).
#
# Usage:
#   hack/postgres.sh up STATEDIR    install the package if missing (root: apt-get), initdb,
#                                   start, wait; prints `export STANCE_TEST_POSTGRES_URL=…`
#   hack/postgres.sh down STATEDIR  stop the server and remove STATEDIR
#
# Environment: STANCE_POSTGRES_PORT (default 25432).
# initdb and postgres refuse to run as root: as root, the server runs as the `postgres` user
# the Debian package creates (runuser), in a state dir it owns.
set -euo pipefail

cmd="${1:-}"
dir="${2:?usage: hack/postgres.sh up|down STATEDIR}"
port="${STANCE_POSTGRES_PORT:-25432}"

bindir() {
  local d
  d="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
  [ -n "$d" ] && echo "$d"
}

as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "$cmd" in
up)
  if [ -z "$(bindir)" ]; then
    if [ "$(id -u)" != 0 ]; then
      echo "PostgreSQL is not installed: apt-get install postgresql (as root), or set STANCE_TEST_NO_POSTGRES=1" >&2
      exit 2
    fi
    echo "== installing postgresql (for the history store tests)" >&2
    lock=(-o DPkg::Lock::Timeout=300)
    apt-get "${lock[@]}" update -q >/dev/null || echo "warning: apt-get update reported errors" >&2
    DEBIAN_FRONTEND=noninteractive apt-get "${lock[@]}" install -y -q --no-install-recommends postgresql >/dev/null
  fi
  bin="$(bindir)"
  mkdir -p "$dir"
  [ "$(id -u)" = 0 ] && chown postgres: "$dir"
  as_owner "$bin/initdb" -D "$dir/data" -U stance -A trust --no-sync -E UTF8 >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; exit 1; }
  as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 \
    -o "-h 127.0.0.1 -p $port -k $dir -c fsync=off -c full_page_writes=off" start >/dev/null \
    || { cat "$dir/postgres.log" >&2; exit 1; }
  echo "export STANCE_TEST_POSTGRES_URL=postgres://stance@127.0.0.1:$port/postgres"
  ;;
down)
  bin="$(bindir)"
  if [ -n "$bin" ] && [ -d "$dir/data" ]; then
    as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$dir"
  ;;
*)
  echo "usage: hack/postgres.sh up|down STATEDIR" >&2
  exit 2
  ;;
esac
