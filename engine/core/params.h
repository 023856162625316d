/* The engine's tunable numbers (product.md §3–§8), all integers:
 * rates in basis points (1/10000), trust in 1/10000, energy in Wh, money in
 * minor units, time in ms. Defaults are engine_params_default(); the engine
 * process fills them from the environment. */
#ifndef P2P_ENGINE_PARAMS_H
#define P2P_ENGINE_PARAMS_H

#include <stdint.h>

#include "engine/core/market_rules.h"

struct engine_params {
    struct market_rules market;
    int64_t reservation_ttl_ms;     /* RESERVATION_TTL_SECONDS (600) */
    int64_t cancel_window_ms;       /* CANCEL_WINDOW_MINUTES (30) */
    int32_t max_offers_per_order;   /* MAX_OFFERS_PER_ORDER (15), at most ENGINE_MAX_LINES */
    int32_t min_trust;              /* MIN_TRUST_THRESHOLD 0.20 -> 2000 */
    int32_t weight_price;           /* matching weights in percent: 40 / 35 / 25 */
    int32_t weight_trust;
    int32_t weight_time;
    int32_t platform_fee_bp;        /* PLATFORM_FEE_RATE 2.5 % -> 250 */
    int32_t cancel_fee_bp;          /* CANCEL_FEE_RATE 10 % -> 1000 */
    int32_t seller_cancel_penalty_bp; /* SELLER_CANCEL_PENALTY_RATE 5 % -> 500 */
    int32_t trust_default;          /* TRUST_DEFAULT_SCORE 0.30 -> 3000 */
    int32_t trust_success_bonus;    /* 0.05 -> 500 */
    int32_t trust_failure_penalty;  /* 0.10 -> 1000 */
    int32_t trust_cancel_penalty;   /* 0.05 -> 500 */
    int32_t trust_meter_bonus;      /* 0.10 -> 1000 */
    int64_t default_limit_wh;       /* TRUST_DEFAULT_LIMIT 10 kWh -> 10000 */
};

void engine_params_default(struct engine_params *p);

#endif
