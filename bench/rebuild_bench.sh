#!/usr/bin/env bash
# Read-model rebuild benchmark (./p2p bench rebuild): drives the real engine
# with the seeded workload of bench/workload.c (p2p-bench-commands) until it
# has written at least P2P_BENCH_EVENTS events (default 1,000,000; --short:
# P2P_BENCH_SHORT_EVENTS, default 20,000, what CI runs), then times
# p2p-rebuild projecting them all into a fresh database and swapping them in.
# Everything lives under its own topic prefix and database, removed at the end.
# The last line of stdout is one JSON object: events, events_per_sec, seconds,
# commands.
# usage: rebuild_bench.sh BUILD_DIR SOURCE_DIR [--short]
set -euo pipefail
BUILD=${1:?build dir}
SRC=${2:?source dir}
EVENTS=${P2P_BENCH_EVENTS:-1000000}
[ "${3:-}" = --short ] && EVENTS=${P2P_BENCH_SHORT_EVENTS:-20000}
PY=/usr/bin/python3
run="$(date +%H%M%S)$$"
db="p2p_bench_$run"
pg="host=127.0.0.1 port=${P2P_PG_PORT:-54329} user=postgres"
export KAFKA_BROKERS=${KAFKA_BROKERS:-127.0.0.1:19092}
export PG_CONNINFO="$pg dbname=$db"
export P2P_TOPIC_PREFIX="bench$run."
export P2P_ENGINE_ID="bench-engine-$run" P2P_PROJECTOR_ID="bench-projector-$run"
export P2P_MIGRATIONS_DIR="$SRC/projections/migrations"
export P2P_ENGINE_SNAPSHOT_DIR
P2P_ENGINE_SNAPSHOT_DIR=$(mktemp -d)
# room for the whole run: no "capacity" refusals
export P2P_ENGINE_MAX_OFFERS=${P2P_ENGINE_MAX_OFFERS:-1048576}
export P2P_ENGINE_MAX_ORDERS=${P2P_ENGINE_MAX_ORDERS:-1048576}
export P2P_ENGINE_MAX_FILLS=${P2P_ENGINE_MAX_FILLS:-2097152}
logs="$BUILD/bench-logs/rebuild-$run"
mkdir -p "$logs"
engine_pid=

cleanup() {
  [ -n "$engine_pid" ] && kill "$engine_pid" 2>/dev/null && wait "$engine_pid" 2>/dev/null
  psql "$pg dbname=postgres" -qc "drop database if exists \"$db\" with (force)" >/dev/null 2>&1 || true
  "$PY" - "$KAFKA_BROKERS" "$P2P_TOPIC_PREFIX" <<'PY' || true
import sys
from confluent_kafka.admin import AdminClient
a = AdminClient({"bootstrap.servers": sys.argv[1]})
names = [t for t in a.list_topics(timeout=10).topics if t.startswith(sys.argv[2])]
for f in (a.delete_topics(names, operation_timeout=30).values() if names else []):
    try:
        f.result()
    except Exception:
        pass
PY
  rm -rf "$P2P_ENGINE_SNAPSHOT_DIR"
}
trap cleanup EXIT

psql "$pg dbname=postgres" -qc "create database \"$db\"" >/dev/null
echo "generating >= $EVENTS engine events (logs in $logs)" >&2
"$BUILD/engine/p2p-engine" 2>"$logs/engine.log" &
engine_pid=$!
t0=$(date +%s.%N)
gen=$("$BUILD/bench/p2p-bench-commands" --events "$EVENTS" 2>"$logs/commands.log" | tail -n 1)
t1=$(date +%s.%N)
kill "$engine_pid"; wait "$engine_pid" || true; engine_pid=
echo "engine answered: $gen in $(awk "BEGIN { printf \"%.1f\", $t1 - $t0 }") s" >&2

echo "rebuilding the read models from the log" >&2
out=$("$BUILD/projections/p2p-rebuild" 2>"$logs/rebuild.log" | tail -n 1) || {
  tail -n 20 "$logs/rebuild.log" >&2; echo "$out"; exit 1; }
grep -v '^{' "$logs/rebuild.log" | tail -n 2 >&2 || true
"$PY" - "$gen" "$out" <<'PY'
import json, sys
gen, out = json.loads(sys.argv[1]), json.loads(sys.argv[2])
rate = out["events_per_sec"]
print("rebuild: %d events projected in %.2f s = %.0f events/s (%s 50,000 events/s target); "
      "log made by the engine from %d commands"
      % (out["events"], out["seconds"], rate, ">=" if rate >= 50000 else "below the",
         gen["commands"]))
print(json.dumps({"benchmark": "rebuild", "events": out["events"],
                  "events_per_sec": round(rate, 1), "seconds": out["seconds"],
                  "commands": gen["commands"]}))
PY
