#include "engine/core/params.h"

#include <string.h>

void engine_params_default(struct engine_params *p)
{
    memset(p, 0, sizeof *p);
    p->market.slot_ms = 60 * 60000LL;
    p->market.gate_closure_ms = 240 * 60000LL;
    p->market.horizon_ms = 7 * 86400000LL;
    memcpy(p->market.currency, "INR", 4);
    p->reservation_ttl_ms = 600 * 1000LL;
    p->cancel_window_ms = 30 * 60000LL;
    p->max_offers_per_order = 15;
    p->min_trust = 2000;
    p->weight_price = 40;
    p->weight_trust = 35;
    p->weight_time = 25;
    p->platform_fee_bp = 250;
    p->cancel_fee_bp = 1000;
    p->seller_cancel_penalty_bp = 500;
    p->trust_default = 3000;
    p->trust_success_bonus = 500;
    p->trust_failure_penalty = 1000;
    p->trust_cancel_penalty = 500;
    p->trust_meter_bonus = 1000;
    p->default_limit_wh = 10000;
}
