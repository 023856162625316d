#!/usr/bin/env bash
# Seeds demo data through the gateway's public API (the same path a user takes):
# a few prosumers list solar and battery energy for the coming delivery slots.
# Needs the gateway running with P2P_DEV_AUTH=1.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/scripts/lib.sh"
BASE="http://127.0.0.1:$P2P_HTTP_PORT"

slot() { date -u -d "$(date -u +%Y-%m-%dT%H:00:00Z) + $1 hours" +%Y-%m-%dT%H:00:00Z; }

offer() { # SELLER SOURCE WH PRICE START_HOURS_AHEAD
  local start end
  start=$(slot "$5"); end=$(slot "$(($5 + 1))")
  curl -fsS -X POST "$BASE/seller/offers" -H "X-Dev-User: $1" -H 'Content-Type: application/json' \
    -d "{\"source_type\":\"$2\",\"quantity_wh\":$3,\"price_per_kwh\":$4,\"delivery_start\":\"$start\",\"delivery_end\":\"$end\",\"meter_id\":\"MTR-$1\"}" >/dev/null
}

if [ "$(curl -fsS "$BASE/api/offers?seller_id=asha&limit=500" | jq '.offers | length')" -gt 0 ]; then
  step "demo offers already present"
  exit 0
fi
step "seeding demo offers"
n=0
for h in 6 7 8 9 10 11 12 13; do
  offer asha SOLAR $((3000 + h * 250)) $((600 + h * 5)) "$h"
  offer ravi SOLAR $((2000 + h * 100)) $((580 + h * 7)) "$h"
  offer meera BATTERY 1500 $((700 + h * 3)) "$h"
  n=$((n + 3))
done
for i in $(seq 50); do
  [ "$(curl -fsS "$BASE/api/offers?limit=500" | jq '.offers | length')" -ge "$n" ] && break
  sleep 0.2
done
step "$n demo offers listed (sellers asha, ravi, meera)"
