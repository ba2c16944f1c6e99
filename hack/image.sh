#!/usr/bin/env bash
# Builds Stance's release image for this machine's architecture without a container engine
# or a registry: a static binary (cargo, crt-static on the gnu target) and the host's CA
# bundle, assembled by buildah (storage driver vfs, chroot isolation, as root) from
# Containerfile.release — `FROM scratch`, so nothing is pulled — and written as an OCI
# archive. tests/image.rs unpacks that archive and runs the binary from its root filesystem.
#
#   hack/image.sh [OUT]     default OUT: target/image/stance-<version>-oci.tar
#
# Prints the archive's path and the image's compressed size on its last line.
set -euo pipefail
cd "$(dirname "$0")/.."

for tool in buildah objcopy; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "$tool is not installed: apt-get install buildah binutils (hack/test.sh does it for you)" >&2
    exit 2
  fi
done
ca_bundle=/etc/ssl/certs/ca-certificates.crt
if [ ! -s "$ca_bundle" ]; then
  echo "$ca_bundle is missing: apt-get install ca-certificates" >&2
  exit 2
fi

case "$(uname -m)" in
  x86_64) arch=amd64 target=x86_64-unknown-linux-gnu ;;
  aarch64) arch=arm64 target=aarch64-unknown-linux-gnu ;;
  *) echo "unsupported architecture $(uname -m): the release image is built for amd64 and arm64" >&2; exit 2 ;;
esac
version="$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n1)"
out="${1:-target/image/stance-${version}-oci.tar}"
mkdir -p "$(dirname "$out")"

# The same command the release workflow runs per architecture. Debian's libc6-dev ships the
# static glibc; mimalloc's C code is compiled by its build script and linked in.
echo "== static release binary ($target)" >&2
RUSTFLAGS='-C target-feature=+crt-static' cargo build --release --locked --bin stance --target "$target" >&2
bin="target/$target/release/stance"
if LC_ALL=C readelf -l "$bin" | grep -q 'Requesting program interpreter'; then
  echo "$bin is dynamically linked: it would not run on an empty base image" >&2
  exit 1
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/stance-image.XXXXXX")"
trap 'buildah --root "$work/storage" --runroot "$work/run" --storage-driver vfs rmi --all >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
mkdir -p "$work/context"
# Line tables are for profiling on the build machine; symbols stay for readable backtraces.
objcopy --strip-debug "$bin" "$work/context/stance-linux-$arch"
cp "$ca_bundle" "$work/context/ca-certificates.crt"

# A private store: nothing is left in (or read from) the machine's container storage, so
# concurrent builds and other users' images do not interfere.
bah=(buildah --root "$work/storage" --runroot "$work/run" --storage-driver vfs)
revision="$(git rev-parse HEAD 2>/dev/null || echo unknown)"
# The commit's time, so the same commit gives the same image configuration.
epoch="$(git log -1 --format=%ct 2>/dev/null || echo 0)"
created="$(date -u -d "@$epoch" +%Y-%m-%dT%H:%M:%SZ)"
echo "== buildah build (Containerfile.release, FROM scratch)" >&2
"${bah[@]}" build --quiet --isolation chroot --format oci --timestamp "$epoch" \
  --build-arg "TARGETARCH=$arch" --build-arg "VERSION=$version" \
  --build-arg "REVISION=$revision" --build-arg "CREATED=$created" \
  -f Containerfile.release -t "localhost/stance:$version" "$work/context" >/dev/null
rm -f "$out"
"${bah[@]}" push --quiet "localhost/stance:$version" "oci-archive:$out:$version" >&2

# Compressed size = what a registry stores and a node pulls: the archive's layer blobs.
size=$(tar -tvf "$out" | awk '$6 ~ /^blobs\/sha256\// {s += $3} END {print s}')
echo "$out $version ${size}B ($(awk -v s="$size" 'BEGIN {printf "%.1f MB", s / 1000000}') compressed, all blobs)"
