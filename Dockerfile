# Multi-stage image with the one `maestro` binary; entrypoints `maestro xapp` / `maestro rapp`.
# Builds offline from the repo plus the crate registry (protoc is vendored by a crate).
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock build.rs ./
COPY src ./src
COPY api ./api
COPY e2sm ./e2sm
COPY ffi ./ffi
COPY xapp ./xapp
COPY rapp ./rapp
RUN cargo build --release --locked --bin maestro

FROM debian:bookworm-slim
RUN useradd --system --uid 10001 --home-dir /var/lib/maestro --create-home maestro
COPY --from=build /src/target/release/maestro /usr/local/bin/maestro
COPY config /etc/maestro
USER maestro
WORKDIR /var/lib/maestro
# 8080: A1-P v2 + /metrics + /healthz + /readyz; 50051: gRPC KPI stream
EXPOSE 8080 50051
HEALTHCHECK --interval=10s --timeout=2s CMD ["maestro", "a1", "types"]
ENTRYPOINT ["maestro"]
CMD ["xapp", "--http", "0.0.0.0:8080", "--grpc", "0.0.0.0:50051", "--state-dir", "/var/lib/maestro/state"]
