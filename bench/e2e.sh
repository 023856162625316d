#!/usr/bin/env bash
# ./p2p bench e2e [--short] [LOAD OPTIONS]: the end-to-end benchmark. Starts its
# own engine, projector and gateway (from the build in $BENCH_BUILD) on the
# running PostgreSQL and Kafka, with a fresh database and topic prefix, then
# runs bench/e2e_load.c (open loop: POST /api/buy at a fixed rate, latency until
# the order is visible in GET /api/orders/{id}) and cleans up. The last line of
# output is the load generator's JSON summary.
#   --short         CI mode: 50 orders/s for 4 s (or P2P_BENCH_SHORT=1)
#   other options   passed to p2p-bench-e2e-load (--rate, --seconds, --connections, ...)
# Environment: BENCH_BUILD (default build-release), BENCH_HTTP_THREADS (320: a
# request waiting for its decision holds a gateway thread), BENCH_PG_POOL_SIZE (48).
set -euo pipefail
ROOT=${ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
. "$ROOT/scripts/lib.sh"
BUILD=${BENCH_BUILD:-$ROOT/build-release}

load_args=()
if [ "${1:-}" = --short ] || [ "${P2P_BENCH_SHORT:-0}" = 1 ]; then
  [ "${1:-}" = --short ] && shift
  load_args=(--rate 50 --seconds 4 --buyers 20 --connections 16)
fi
load_args+=("$@")

run="e2e$(date +%H%M%S)$$"
db="p2p_bench_$run"
prefix="bench-$run."
port=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
token=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
logs="$P2P_VAR/log/bench-$run"
mkdir -p "$logs"
pg="host=127.0.0.1 port=$P2P_PG_PORT user=postgres"
pids=()

cleanup() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  psql "$pg dbname=postgres" -qc "drop database if exists \"$db\" with (force)" >/dev/null 2>&1 || true
  "$PY" - "$KAFKA_BROKERS" "$prefix" <<'PY' || true
import sys
from confluent_kafka.admin import AdminClient
a = AdminClient({"bootstrap.servers": sys.argv[1]})
names = [t for t in a.list_topics(timeout=10).topics if t.startswith(sys.argv[2])]
for f in (a.delete_topics(names, operation_timeout=10).values() if names else []):
    try:
        f.result()
    except Exception:
        pass
PY
}
trap cleanup EXIT

psql "$pg dbname=postgres" -qc "create database \"$db\"" >/dev/null
export PG_CONNINFO="$pg dbname=$db" P2P_TOPIC_PREFIX="$prefix" P2P_ENGINE_ID="engine-$run" \
  P2P_PROJECTOR_ID="projector-$run" P2P_MIGRATIONS_DIR="$ROOT/projections/migrations" \
  P2P_HTTP_PORT="$port" P2P_HTTP_HOST=127.0.0.1 P2P_DEV_AUTH=1 P2P_OPERATOR_TOKEN="$token" \
  P2P_DECISION_WAIT_MS=10000 P2P_HTTP_THREADS="${BENCH_HTTP_THREADS:-320}" \
  P2P_PG_POOL_SIZE="${BENCH_PG_POOL_SIZE:-48}" \
  P2P_ENGINE_SNAPSHOT_DIR="$logs/snapshots" P2P_WEB_ROOT="$ROOT/web" \
  TRUST_DEFAULT_LIMIT=1000000 P2P_LOG_LEVEL=info
for svc in engine/p2p-engine projections/p2p-projector gateway/p2p-gateway; do
  name=$(basename "$svc")
  "$BUILD/$svc" >"$logs/$name.log" 2>&1 &
  pids+=($!)
done
ready() { curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 &&
          grep -q '"event":"engine_started"' "$logs/p2p-engine.log"; }
wait_for 60 "the bench stack" ready
step "stack up (logs in $logs); running the load"
start=$(date -u -d "$(date -u +%Y-%m-%dT%H:00:00Z) + 7 hours" +%Y-%m-%dT%H:00:00Z)
end=$(date -u -d "$start + 1 hour" +%Y-%m-%dT%H:00:00Z)
"$BUILD/bench/p2p-bench-e2e-load" --url "http://127.0.0.1:$port" \
  --window-start "$start" --window-end "$end" "${load_args[@]}"
# CPU seconds each service used over the whole run (utime + stime of /proc/PID/stat)
tick=$(getconf CLK_TCK)
cpu=""
for pid in "${pids[@]}"; do
  read -r -a st <"/proc/$pid/stat" || continue
  cpu+=" $(basename "$(readlink "/proc/$pid/exe")")=$(awk -v t=$((st[13] + st[14])) -v h="$tick" 'BEGIN { printf "%.1f", t / h }')s"
done
# and the PostgreSQL backends serving the gateway's pooled connections
ports=$(ss -tnpH "dst 127.0.0.1:$P2P_PG_PORT" |
        awk -v p="pid=${pids[2]}," 'index($0, p) { n = split($4, a, ":"); print a[n] }' | paste -sd, -)
ticks=0
for pid in $( [ -z "$ports" ] || psql "$pg dbname=postgres" -Atc \
    "select pid from pg_stat_activity where client_port in ($ports) and datname = '$db'"); do
  read -r -a st <"/proc/$pid/stat" && ticks=$((ticks + st[13] + st[14]))
done
cpu+=" gateway-postgres-backends=$(awk -v t=$ticks -v h="$tick" 'BEGIN { printf "%.1f", t / h }')s"
step "CPU seconds per process:$cpu"
