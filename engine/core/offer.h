/* A seller's offer terms and the rules an offer must satisfy to be listed
 * (product.md §3). Pure: no I/O, no clock (the caller passes "now"), no
 * allocation. The gateway runs the same check before it accepts a command, and
 * the engine runs it again as the authority, with the command's own timestamp. */
#ifndef P2P_OFFER_H
#define P2P_OFFER_H

#include <stdbool.h>
#include <stdint.h>

#include "common/p2p_violation.h"
#include "engine/core/market_rules.h"

#define OFFER_MAX_WH 10000000          /* 10 MWh in one offer is beyond any prosumer */
#define OFFER_MAX_PRICE_PER_KWH 100000 /* 1,000.00 per kWh in major units */
#define OFFER_MAX_WINDOW_MS (24LL * 3600 * 1000)
#define P2P_TIME_MAX_MS 4102444800000LL /* 2100-01-01: later times are input errors */

enum source_type { SOURCE_SOLAR, SOURCE_BATTERY, SOURCE_GRID, SOURCE_HYBRID, SOURCE_RENEWABLE };
#define SOURCE_TYPE_COUNT 5

/* Returns 0 and sets *out for one of the Beckn EnergyResource names, else -1. */
int source_type_parse(const char *name, enum source_type *out);
const char *source_type_name(enum source_type t);

struct offer_terms {
    /* numbers first: matching reads these for every offer it visits */
    int64_t delivery_start_ms;
    int64_t delivery_end_ms;
    int64_t quantity_wh;
    int64_t price_per_kwh; /* minor currency units per kWh */
    int64_t min_order_wh;
    int64_t valid_until_ms;
    enum source_type source;
    bool has_valid_until;
    char currency[4];
    char offer_id[65];
    char seller_id[65];
    char meter_id[65];
};

/* Default minimum order: 1 kWh, or the whole offer when it is smaller. */
int64_t offer_default_min_order_wh(int64_t quantity_wh);

/* Checks a delivery window [start, end) against the market's rules at time
 * now_ms (slot alignment, order, length, gate closure, horizon); field names
 * are the caller's (offers: delivery_start/delivery_end). */
int delivery_window_check(const struct market_rules *rules, int64_t start_ms, int64_t end_ms,
                          int64_t now_ms, const char *start_field, const char *end_field,
                          struct p2p_violation *v);

/* Checks the terms against the market's rules at time now_ms. Returns 0, or
 * -1 with the first broken rule in *v (field names are the API's). */
int offer_terms_check(const struct market_rules *rules, const struct offer_terms *t,
                      int64_t now_ms, struct p2p_violation *v);

#endif
