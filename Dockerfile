# syntax=docker/dockerfile:1
# Central Auth: a multi-stage build into a small Debian image that runs as a
# non-root user, keeps its SQLite data in a volume and reports its health.
# Build from the repository root: docker build -t central-auth .
# scripts/dockerfile-check (run by scripts/test) assembles exactly what the
# build stage copies and builds it offline, so a file the build needs but the
# Dockerfile leaves out fails the test suite, not the next image build.

FROM rust:1.95-slim-bookworm AS build
# The image has gcc and libc6-dev, all that the C parts need (mimalloc,
# the bundled SQLite, ring).
WORKDIR /src

# Dependencies first, in a layer that only the manifests, the lockfile and
# .cargo/config.toml invalidate, so a change to the sources reuses the
# downloaded crates. cargo needs the manifest of every workspace member to
# resolve the workspace.
COPY Cargo.toml Cargo.lock ./
COPY .cargo .cargo
COPY example-service/Cargo.toml example-service/
COPY bench/Cargo.toml bench/
# cargo refuses a manifest without a target, so every member gets an empty
# src/lib.rs and src/main.rs (the members' dev-dependency on central-auth
# wants a library) for the fetch; they go before the sources come.
RUN set -eu; \
    stubs=""; \
    for manifest in $(find . -name Cargo.toml); do \
      dir="${manifest%Cargo.toml}src"; mkdir -p "$dir"; touch "$dir/lib.rs" "$dir/main.rs"; \
      stubs="$stubs $dir"; \
    done; \
    cargo fetch --locked; \
    rm -r $stubs

# Then the whole workspace; .dockerignore keeps out build output, local data,
# secrets and what the build never reads (tests, docs, scripts). The server
# embeds web/ (rust-embed), templates/ (askama) and migrations/
# (sqlx::migrate!), and cargo loads every member (example-service, bench).
COPY . .
# The target folder is a BuildKit cache mount: after a source change only the
# workspace crate is recompiled, not every dependency. It is not part of the
# image, so the binary is copied out of it. --offline: everything was fetched.
RUN --mount=type=cache,id=central-auth-target,target=/src/target \
    cargo build --release --locked --offline --bin central-auth \
 && cp target/release/central-auth /usr/local/bin/central-auth

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /var/lib/central-auth central-auth \
 && mkdir -p /var/lib/central-auth/data \
 && chown -R central-auth: /var/lib/central-auth
COPY --from=build /usr/local/bin/central-auth /usr/local/bin/central-auth
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
