# syntax=docker/dockerfile:1
# genai-cost-agent: a multi-stage build (Rust builder -> distroless runtime with glibc).
#
#   docker build -t genai-cost-agent:0.1.0 .
#   docker run --rm -p 4317:4317 -p 4318:4318 -p 13133:13133 genai-cost-agent:0.1.0
#
# The image runs as the non-root user 10001 (the Helm chart's default runAsUser), with the
# repository's default config.yaml at /etc/genai-cost-agent/config.yaml, listening on all
# interfaces. The binary needs no system TLS library (rustls, with the Mozilla roots compiled in)
# and no protoc (the OTLP protobuf code ships pre-generated in opentelemetry-proto).

# The crate's rust-version (Cargo.toml: 1.89 for File::try_lock); locked dependencies need at most 1.88.
ARG RUST_VERSION=1.89

FROM rust:${RUST_VERSION}-slim-bookworm AS builder
WORKDIR /src
# No debug info in the image's binary (the release profile keeps some for profiling).
ENV CARGO_PROFILE_RELEASE_DEBUG=0 \
    CARGO_PROFILE_RELEASE_STRIP=symbols \
    CARGO_TERM_COLOR=never
COPY Cargo.toml Cargo.lock ./
COPY src ./src
# Cargo.toml declares the benchmark target, so its source must be present to read the manifest.
COPY benches ./benches
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bin genai-cost-agent \
    && install -D -m 0755 target/release/genai-cost-agent /out/genai-cost-agent

FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=builder /out/genai-cost-agent /usr/local/bin/genai-cost-agent
COPY config.yaml /etc/genai-cost-agent/config.yaml
# The default config reads these; inside a container the agent must listen beyond localhost.
ENV GENAI_COST_AGENT_GRPC_ENDPOINT=0.0.0.0:4317 \
    GENAI_COST_AGENT_HTTP_ENDPOINT=0.0.0.0:4318 \
    GENAI_COST_AGENT_TELEMETRY_ENDPOINT=0.0.0.0:13133
USER 10001:10001
# OTLP/gRPC, OTLP/HTTP, health (/healthz, /readyz) and the agent's own /metrics.
EXPOSE 4317 4318 13133
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/genai-cost-agent"]
CMD ["--config", "/etc/genai-cost-agent/config.yaml"]
