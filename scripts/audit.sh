#!/usr/bin/env bash
# ./p2p audit [--input-prefix PREFIX] [--max-batches N]: re-executes the local
# stack's engine over the inputs its sequence log names and compares every
# output with the stored one, byte for byte (docs/engine.md, "Audit"). It runs
# with the same environment as the engine (P2P_TOPIC_PREFIX, P2P_MARKET, the
# trading rules), so the rules it applies are the engine's. Exit 0 identical,
# 1 divergence, 2 could not audit; the last stdout line is one JSON object.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
export ROOT
. "$ROOT/scripts/lib.sh"

"$ROOT/p2p" build >&2
bin="$P2P_BUILD/engine/p2p-audit"
[ -x "$bin" ] || die "$bin is not built"
exec "$bin" "$@"
