#!/usr/bin/env bash
# Seeds demo data through the gateway's public API (the same path a user takes):
# three prosumers declare their production capacity, then list solar and
# battery energy for the coming delivery slots. Needs the gateway running with
# P2P_DEV_AUTH=1. Reports how many offers the engine actually listed.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/scripts/lib.sh"
BASE="http://127.0.0.1:$P2P_HTTP_PORT"

slot() { date -u -d "$(date -u +%Y-%m-%dT%H:00:00Z) + $1 hours" +%Y-%m-%dT%H:00:00Z; }

offer() { # SELLER SOURCE WH PRICE START_HOURS_AHEAD -> prints the engine's answer: LISTED, a
  # rejection code, or the offer's status URL while it is still pending
  local start end
  start=$(slot "$5"); end=$(slot "$(($5 + 1))")
  curl -sS -X POST "$BASE/seller/offers" -H "X-Dev-User: $1" -H 'Content-Type: application/json' \
    -d "{\"source_type\":\"$2\",\"quantity_wh\":$3,\"price_per_kwh\":$4,\"delivery_start\":\"$start\",\"delivery_end\":\"$end\",\"meter_id\":\"MTR-$1\"}" \
    | jq -r 'if .status == "PENDING" then "/api/offers/" + .offer_id else (.status // .error.code) end'
}

if [ "$(curl -fsS "$BASE/api/offers?seller_id=asha&limit=500" | jq '.offers | length')" -gt 0 ]; then
  step "demo offers already present"
  exit 0
fi
step "declaring the demo sellers' production capacity (500 kWh a month each)"
for who in asha ravi meera; do
  curl -fsS -X PUT "$BASE/api/profile" -H "X-Dev-User: $who" -H 'Content-Type: application/json' \
    -d '{"production_capacity_wh_per_month":500000}' >/dev/null
done
sleep 2 # the engine reads profiles and offers from different topics
step "seeding demo offers"
urls=()
for h in 6 7 8 9 10 11 12 13; do
  urls+=("$(offer asha SOLAR $((3000 + h * 250)) $((600 + h * 5)) "$h")")
  urls+=("$(offer ravi SOLAR $((2000 + h * 100)) $((580 + h * 7)) "$h")")
  urls+=("$(offer meera BATTERY 1500 $((700 + h * 3)) "$h")")
done
listed=0 rejected=0
for url in "${urls[@]}"; do
  status=$url
  for _ in $(seq 50); do
    case $status in /api/*) ;; *) break ;; esac
    status=$(curl -fsS "$BASE$url" 2>/dev/null | jq -r .status) || { status=$url; sleep 0.2; }
  done
  case $status in LISTED) listed=$((listed + 1)) ;; *) rejected=$((rejected + 1)) ;; esac
done
step "$listed demo offers listed, $rejected not (sellers asha, ravi, meera)"
