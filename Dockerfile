# One image for the engine, the projector and the gateway; compose.yaml picks the
# program with `command:`. Build: docker build -t p2p-energy:local .

# --- build stage: compile a release build with meson ---------------------------
FROM debian:12 AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      build-essential meson ninja-build pkg-config \
      librdkafka-dev libpq-dev libjansson-dev libuv1-dev libcivetweb-dev check \
      libsodium-dev libcurl4-openssl-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# werror is off here only: an optimiser warning at -O3 should not stop an image
# build. Development builds (./p2p build) keep -Werror.
RUN meson setup build --buildtype=release -Dwerror=false \
 && ninja -C build engine/p2p-engine projections/p2p-projector gateway/p2p-gateway \
      gateway/beckn/p2p-beckn-worker

# --- runtime stage: the three programs, their libraries, migrations, web UI ---
FROM debian:12-slim
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      librdkafka1 libpq5 libjansson4 libuv1 libcivetweb1 libsodium23 libcurl4 \
      ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --no-create-home --home-dir /app --shell /usr/sbin/nologin p2p
COPY --from=build /src/build/engine/p2p-engine \
                  /src/build/projections/p2p-projector \
                  /src/build/gateway/p2p-gateway \
                  /src/build/gateway/beckn/p2p-beckn-worker /usr/local/bin/
COPY projections/migrations /app/migrations
COPY web /app/web
ENV P2P_MIGRATIONS_DIR=/app/migrations \
    P2P_WEB_ROOT=/app/web \
    P2P_HTTP_HOST=0.0.0.0
WORKDIR /app
USER p2p
EXPOSE 4000
CMD ["p2p-gateway"]
