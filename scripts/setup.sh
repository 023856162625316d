#!/usr/bin/env bash
# Installs what this project needs on a fresh Debian 12 machine: the Debian
# packages that are missing (apt-get, as root or through sudo) and Apache Kafka's
# jars resolved through Maven into var/kafka/libs. Idempotent: a second run
# finds everything in place and returns at once.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/scripts/lib.sh"

PACKAGES=(
  build-essential meson ninja-build pkg-config
  librdkafka-dev libpq-dev libjansson-dev libuv1-dev libcivetweb-dev check
  libsodium-dev libcurl4-openssl-dev
  clang-14 libclang-rt-14-dev
  postgresql default-jre-headless maven
  python3 python3-psycopg2 python3-jsonschema python3-confluent-kafka python3-nacl
  curl jq procps
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  step "installing Debian packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

KAFKA_LIBS="$P2P_VAR/kafka/libs"
if [ ! -f "$KAFKA_LIBS/.resolved" ] || [ "$ROOT/scripts/kafka/pom.xml" -nt "$KAFKA_LIBS/.resolved" ]; then
  step "resolving Apache Kafka jars through Maven into $KAFKA_LIBS"
  rm -rf "$KAFKA_LIBS"; mkdir -p "$KAFKA_LIBS"
  mvn -q -B -f "$ROOT/scripts/kafka/pom.xml" dependency:copy-dependencies \
      -DoutputDirectory="$KAFKA_LIBS" -DincludeScope=runtime
  touch "$KAFKA_LIBS/.resolved"
fi
step "setup complete"
