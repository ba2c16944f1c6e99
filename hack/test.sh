#!/usr/bin/env bash
# The whole test suite, exactly as CI runs it (.ci/run calls this script):
# formatting, lints, then every unit, integration and end-to-end test.
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

echo "== cargo fmt --check"
cargo fmt --check
echo "== cargo clippy --all-targets -- -D warnings"
cargo clippy --locked --all-targets -- -D warnings
echo "== cargo test"
cargo test --locked
