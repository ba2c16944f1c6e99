# syntax=docker/dockerfile:1
# Stance from source, for those with Docker: `docker build -t stance .`
# The published image (ghcr.io/stance-dev/stance) is the same final stage, built by the
# release workflow from binaries it compiles natively per architecture (Containerfile.release).

# Builder: the toolchain the project is tested with, on Debian (whose static glibc the
# crt-static build links against).
FROM docker.io/library/rust:1.95-bookworm AS builder
WORKDIR /src
COPY . .
# A static binary (glibc linked in, mimalloc compiled in) needs nothing from the final
# image but itself. The release profile keeps line tables for profiling; the image does not
# need them, so they are stripped (symbols stay, for readable backtraces).
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    target="$(rustc -vV | sed -n 's/^host: //p')" \
 && RUSTFLAGS='-C target-feature=+crt-static' cargo build --release --locked --bin stance --target "$target" \
 && objcopy --strip-debug "target/$target/release/stance" /stance \
 && mkdir -p /out/etc/ssl/certs /out/usr/local/bin \
 && cp /etc/ssl/certs/ca-certificates.crt /out/etc/ssl/certs/ \
 && cp /stance /out/usr/local/bin/stance

# Final: nothing but the binary and the CA bundle; no shell, no package manager.
FROM scratch
COPY --from=builder /out/ /
USER 65532:65532
ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
ENTRYPOINT ["/usr/local/bin/stance"]
CMD ["--help"]
LABEL org.opencontainers.image.title="stance" \
      org.opencontainers.image.description="Application Security Posture Management inside Kubernetes" \
      org.opencontainers.image.source="https://github.com/stance-dev/stance" \
      org.opencontainers.image.url="https://github.com/stance-dev/stance" \
      org.opencontainers.image.documentation="https://github.com/stance-dev/stance/tree/main/docs" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.vendor="Stance"
