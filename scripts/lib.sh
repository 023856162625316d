# Shared shell helpers and the local stack's settings. Sourced, not run.
# Every setting is an environment variable with a default; docs/configuration.md lists them.
: "${ROOT:?}"
export P2P_VAR="${P2P_VAR:-$ROOT/var}"
export P2P_PG_PORT="${P2P_PG_PORT:-54329}"
export P2P_KAFKA_PORT="${P2P_KAFKA_PORT:-19092}"
export P2P_KAFKA_CONTROLLER_PORT="${P2P_KAFKA_CONTROLLER_PORT:-19093}"
export P2P_HTTP_PORT="${P2P_HTTP_PORT:-4000}"
export KAFKA_BROKERS="${KAFKA_BROKERS:-127.0.0.1:$P2P_KAFKA_PORT}"
export PG_DATABASE="${PG_DATABASE:-p2p}"
export PG_CONNINFO="${PG_CONNINFO:-host=127.0.0.1 port=$P2P_PG_PORT user=postgres dbname=$PG_DATABASE}"
export P2P_BUILD="${P2P_BUILD:-$ROOT/build}"
# Debian's python3 carries the python3-* packages the tests use (not a pyenv one).
export PY=/usr/bin/python3
mkdir -p "$P2P_VAR/log" "$P2P_VAR/run"

step() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die()  { printf 'error: %s\n' "$*" >&2; exit 1; }

# pid_alive NAME: true when var/run/NAME.pid names a running process.
pid_alive() {
  local f="$P2P_VAR/run/$1.pid"
  [ -f "$f" ] && kill -0 "$(cat "$f")" 2>/dev/null
}

# stop_pid NAME: TERM the process, wait up to 15 s, then KILL it.
stop_pid() {
  local f="$P2P_VAR/run/$1.pid" pid i
  [ -f "$f" ] || return 0
  pid=$(cat "$f")
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    for i in $(seq 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$f"
}

# wait_for SECONDS DESCRIPTION COMMAND...: retry COMMAND until it succeeds.
wait_for() {
  local secs=$1 what=$2 i; shift 2
  for i in $(seq $((secs * 5))); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  die "$what did not come up within ${secs}s"
}
