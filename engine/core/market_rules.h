/* The trading rules of one market, as numbers (product.md §3): delivery slots,
 * gate closure, trade horizon, currency. Pure data shared by the engine core
 * and by the gateway's early validation. */
#ifndef P2P_MARKET_RULES_H
#define P2P_MARKET_RULES_H

#include <stdint.h>

struct market_rules {
    int64_t slot_ms;         /* delivery windows start and end on multiples of this */
    int64_t gate_closure_ms; /* a window must start at least this long after "now" */
    int64_t horizon_ms;      /* ...and at most this long after "now" */
    char currency[4];        /* ISO 4217 code of the deployment */
};

#endif
