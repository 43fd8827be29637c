# syntax=docker/dockerfile:1
# Central Auth: a multi-stage build into a small Debian image that runs as a
# non-root user, keeps its SQLite data in a volume and reports its health.

FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src src
COPY migrations migrations
COPY templates templates
RUN cargo build --release --locked --bin central-auth

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /var/lib/central-auth central-auth \
 && mkdir -p /var/lib/central-auth/data \
 && chown -R central-auth: /var/lib/central-auth
COPY --from=build /src/target/release/central-auth /usr/local/bin/central-auth
USER central-auth
WORKDIR /var/lib/central-auth
ENV BIND_ADDR=0.0.0.0:8000 \
    DATABASE_URL=sqlite:///var/lib/central-auth/data/central-auth.db \
    LOG_FORMAT=json
VOLUME ["/var/lib/central-auth/data"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s --start-period=15s --retries=3 \
  CMD curl -fsS http://127.0.0.1:8000/healthz || exit 1
ENTRYPOINT ["central-auth"]
CMD ["serve"]
