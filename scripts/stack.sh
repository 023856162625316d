# Local stack control: a private PostgreSQL cluster, a single-node Kafka in KRaft
# mode, and the platform's own processes. Sourced by ./p2p, after lib.sh.
# Every function is idempotent: starting what runs, or stopping what is stopped, is a no-op.

PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

# The data folder lives in var/pg unless the postgres user cannot write there
# (a checkout under a private home directory); then it moves to /var/tmp.
pg_dir() {
  if [ -n "${P2P_PG_DIR:-}" ]; then echo "$P2P_PG_DIR"; return; fi
  local d="$P2P_VAR/pg"
  mkdir -p "$d"
  [ "$(id -u)" = 0 ] && chown postgres:postgres "$d"
  if as_pg test -w "$d" 2>/dev/null; then echo "$d"; return; fi
  d="/var/tmp/p2p-pg-$(printf '%s' "$ROOT" | md5sum | cut -c1-8)"
  mkdir -p "$d"; [ "$(id -u)" = 0 ] && chown postgres:postgres "$d"
  echo "$d"
}

pg_ready() { "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$P2P_PG_PORT"; }

pg_up() {
  local d; d=$(pg_dir)
  if [ ! -f "$d/data/PG_VERSION" ]; then
    step "initialising PostgreSQL in $d/data"
    as_pg "$PG_BIN/initdb" -D "$d/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$P2P_VAR/log/initdb.log" 2>&1 \
      || die "initdb failed, see $P2P_VAR/log/initdb.log"
  fi
  if ! pg_ready; then
    step "starting PostgreSQL on 127.0.0.1:$P2P_PG_PORT"
    as_pg mkdir -p "$d/run"
    as_pg "$PG_BIN/pg_ctl" -D "$d/data" -l "$d/postgres.log" -w -t 60 \
      -o "-p $P2P_PG_PORT -k $d/run -c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync=on" start >/dev/null \
      || die "PostgreSQL did not start, see $d/postgres.log"
  fi
  psql -h 127.0.0.1 -p "$P2P_PG_PORT" -U postgres -d postgres -tAc \
    "select 1 from pg_database where datname='$PG_DATABASE'" | grep -q 1 \
    || psql -h 127.0.0.1 -p "$P2P_PG_PORT" -U postgres -d postgres -qc "create database \"$PG_DATABASE\"" >/dev/null
}

pg_down() {
  local d; d=$(pg_dir)
  [ -f "$d/data/postmaster.pid" ] || return 0
  step "stopping PostgreSQL"
  as_pg "$PG_BIN/pg_ctl" -D "$d/data" -m fast -w stop >/dev/null || true
}

kafka_ready() {
  "$PY" - "$KAFKA_BROKERS" 2>/dev/null <<'PY'
import sys
from confluent_kafka.admin import AdminClient
AdminClient({"bootstrap.servers": sys.argv[1]}).list_topics(timeout=2)
PY
}

kafka_up() {
  local k="$P2P_VAR/kafka"
  [ -f "$k/libs/.resolved" ] || die "Kafka jars missing: run ./p2p setup"
  kafka_ready && return 0 # ours, or one already serving this port
  mkdir -p "$k/data"
  sed -e "s#@PORT@#$P2P_KAFKA_PORT#g" -e "s#@CONTROLLER_PORT@#$P2P_KAFKA_CONTROLLER_PORT#g" \
      -e "s#@DATA@#$k/data#g" "$ROOT/scripts/kafka/server.properties.in" > "$k/server.properties"
  local cp="$k/libs/*" log4j="-Dlog4j.configuration=file:$ROOT/scripts/kafka/log4j.properties"
  if [ ! -f "$k/data/meta.properties" ]; then
    step "formatting Kafka KRaft storage in $k/data"
    local id; id=$(java -cp "$cp" $log4j kafka.tools.StorageTool random-uuid)
    java -cp "$cp" $log4j kafka.tools.StorageTool format -t "$id" -c "$k/server.properties" >"$P2P_VAR/log/kafka-format.log" 2>&1 \
      || die "Kafka storage format failed, see $P2P_VAR/log/kafka-format.log"
  fi
  step "starting Kafka (KRaft) on 127.0.0.1:$P2P_KAFKA_PORT"
  nohup java -Xms256m -Xmx${P2P_KAFKA_HEAP:-768m} -XX:+UseG1GC -Djava.awt.headless=true $log4j \
      -cp "$cp" kafka.Kafka "$k/server.properties" >"$P2P_VAR/log/kafka.log" 2>&1 &
  echo $! > "$P2P_VAR/run/kafka.pid"
  wait_for 90 "Kafka" kafka_ready
}

kafka_down() { pid_alive kafka && step "stopping Kafka"; stop_pid kafka; }

# The platform's processes, each with its log in var/log and its pid in var/run.
SERVICES=(engine projector gateway beckn-worker)
service_bin() {
  case $1 in
    engine) echo "$P2P_BUILD/engine/p2p-engine" ;;
    projector) echo "$P2P_BUILD/projections/p2p-projector" ;;
    gateway) echo "$P2P_BUILD/gateway/p2p-gateway" ;;
    beckn-worker) echo "$P2P_BUILD/gateway/beckn/p2p-beckn-worker" ;;
  esac
}

service_up() {
  local name=$1 bin; bin=$(service_bin "$1")
  [ -x "$bin" ] || die "$bin is not built: run ./p2p build"
  pid_alive "$name" && return 0
  step "starting $name"
  P2P_MIGRATIONS_DIR="$ROOT/projections/migrations" P2P_WEB_ROOT="$ROOT/web" \
    P2P_ENGINE_SNAPSHOT_DIR="$P2P_VAR/engine" \
    nohup "$bin" >>"$P2P_VAR/log/$name.log" 2>&1 &
  echo $! > "$P2P_VAR/run/$name.pid"
}

gateway_ready() { curl -fsS "http://127.0.0.1:$P2P_HTTP_PORT/healthz" >/dev/null; }

services_up() {
  local s
  for s in "${SERVICES[@]}"; do service_up "$s"; done
  wait_for 30 "gateway" gateway_ready
}

services_down() {
  local s
  for s in beckn-worker gateway projector engine; do pid_alive "$s" && step "stopping $s"; stop_pid "$s"; done
}

status_line() { # NAME CHECK...
  local name=$1; shift
  if "$@" >/dev/null 2>&1; then printf '  %-10s up\n' "$name"; else printf '  %-10s down\n' "$name"; fi
}

stack_status() {
  status_line postgres pg_ready
  status_line kafka kafka_ready
  local s; for s in "${SERVICES[@]}"; do status_line "$s" pid_alive "$s"; done
}
