#!/usr/bin/env bash
# Runs every test against the real stack: installs what is missing, builds with
# ASan + UBSan, starts PostgreSQL and Kafka (stopping them afterwards if this
# script started them), runs meson's suites and prints "N passed, N failed".
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
export ROOT
. "$ROOT/scripts/lib.sh"
. "$ROOT/scripts/stack.sh"

"$ROOT/scripts/setup.sh" || exit 1
"$ROOT/p2p" build || exit 1

started_pg=0 started_kafka=0
pg_ready || started_pg=1
pid_alive kafka || started_kafka=1
cleanup() {
  [ $started_kafka = 1 ] && kafka_down
  [ $started_pg = 1 ] && pg_down
  return 0
}
trap cleanup EXIT
(pg_up && kafka_up) || exit 1

export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:halt_on_error=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
export P2P_SOURCE_ROOT="$ROOT"
step "running tests"
meson test -C "$P2P_BUILD" --print-errorlogs --num-processes 2 "$@"
status=$?
cleanup >/dev/null 2>&1
trap - EXIT
# The summary is the last line (CI reads it).
"$PY" "$ROOT/scripts/test_summary.py" "$P2P_BUILD/meson-logs/testlog.json"
exit $status
