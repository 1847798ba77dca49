# MAESTRO: one image with the one `maestro` binary, for both apps.
#
#   docker build -t maestro:0.1.0 .
#   docker run --rm -p 8080:8080 -p 50051:50051 -v "$PWD/config:/etc/maestro:ro" maestro:0.1.0
#   docker run --rm -p 9102:9102 \
#       -e MAESTRO_HEALTH_URL=http://127.0.0.1:9102/ric/v1/health/alive maestro:0.1.0 \
#       rapp --a1-url http://XAPP:8080 --kpi-url http://XAPP:50051 \
#            --metrics-addr 0.0.0.0:9102 --data-dir /var/lib/maestro/rapp --keep-serving
#
# Ports (all documented in README.md, "Deploy"):
#   8080  xApp HTTP: A1-P v2, /metrics, /ric/v1/health/{alive,ready}   (config/xapp.json http_addr)
#   50051 xApp gRPC: maestro.kpi.v1.KpiStream                          (config/xapp.json grpc_addr)
#   9102  rApp HTTP: /metrics, /ric/v1/health/{alive,ready}            (maestro rapp --metrics-addr)
#
# The build is offline but for the crate registry: protoc comes from the protoc-bin-vendored
# crate, the ASN.1 module is compiled by a crate; no apt, no curl, nothing else is fetched.

ARG RUST_VERSION=1.95
# Optional stage `xapp-flexric` (docker build --target xapp-flexric): the binary linked against
# a FlexRIC installation that YOU supply in an image (the project does not build FlexRIC). The
# image needs cargo, a C compiler, libclang, libsctp-dev and libsqlite3-dev, and FlexRIC's
# install prefix with include/flexric/ and lib/libe42_xapp_shared.so (README, "Deploy into an
# OAI/FlexRIC testbed"). BuildKit skips the stage unless it is the target.
ARG FLEXRIC_IMAGE=flexric-dev:local

FROM rust:${RUST_VERSION}-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock build.rs ./
COPY src ./src
COPY api ./api
COPY e2sm ./e2sm
COPY ffi ./ffi
COPY xapp ./xapp
COPY rapp ./rapp
# A workspace member (maestro-bench, not built here): cargo reads its manifest.
COPY bench ./bench
# The rApp compiles its prompt files in (include_str! of config/prompts/*).
COPY config ./config
RUN cargo build --release --locked --bin maestro \
    && install -D -m 0755 target/release/maestro /out/maestro

FROM ${FLEXRIC_IMAGE} AS xapp-flexric
# FlexRIC's install prefix in that image, and the version macros it was built with (read from
# <prefix>/share/flexric/CMakeCache.txt when that file exists).
ARG FLEXRIC_PREFIX=/usr/local
ARG FLEXRIC_E2AP_VERSION=
ARG FLEXRIC_KPM_VERSION=
ENV FLEXRIC_DIR=${FLEXRIC_PREFIX} \
    FLEXRIC_E2AP_VERSION=${FLEXRIC_E2AP_VERSION} \
    FLEXRIC_KPM_VERSION=${FLEXRIC_KPM_VERSION}
WORKDIR /src
COPY Cargo.toml Cargo.lock build.rs ./
COPY src ./src
COPY api ./api
COPY e2sm ./e2sm
COPY ffi ./ffi
COPY xapp ./xapp
COPY rapp ./rapp
# A workspace member (maestro-bench, not built here): cargo reads its manifest.
COPY bench ./bench
COPY config ./config
RUN cargo build --release --locked --features flexric --bin maestro \
    && install -D -m 0755 target/release/maestro /usr/local/bin/maestro \
    && rm -rf target
EXPOSE 8080 50051
ENTRYPOINT ["maestro"]
CMD ["xapp", "--config", "/src/config/xapp-flexric.json", "--a1-addr", "0.0.0.0:8080", "--grpc-addr", "0.0.0.0:50051"]

FROM debian:bookworm-slim AS runtime
# No package downloads in the build: the CA bundle (for https:// LLM endpoints) comes from the
# builder image, and the health check is the binary itself (`maestro health`), not curl.
RUN useradd --system --uid 10001 --user-group --home-dir /var/lib/maestro --create-home maestro \
    && mkdir -p /etc/maestro /etc/ssl/certs
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /out/maestro /usr/local/bin/maestro
# Defaults; mount your own directory over /etc/maestro (a Kubernetes ConfigMap, or -v).
COPY config/xapp.json config/scenario.json /etc/maestro/
COPY config/regulations /etc/maestro/regulations
USER 10001:10001
WORKDIR /var/lib/maestro
VOLUME ["/etc/maestro", "/var/lib/maestro"]
EXPOSE 8080 50051 9102
# The xApp's liveness endpoint; for the rApp set
# MAESTRO_HEALTH_URL=http://127.0.0.1:9102/ric/v1/health/alive.
ENV MAESTRO_HEALTH_URL=http://127.0.0.1:8080/ric/v1/health/alive \
    SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
    CMD ["maestro", "health"]
ENTRYPOINT ["maestro"]
CMD ["xapp", "--config", "/etc/maestro/xapp.json", "--a1-addr", "0.0.0.0:8080", "--grpc-addr", "0.0.0.0:50051", "--data-dir", "/var/lib/maestro/state"]
