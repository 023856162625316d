#include "engine/core/offer.h"

#include <string.h>

static const char *const source_names[SOURCE_TYPE_COUNT] = {"SOLAR", "BATTERY", "GRID", "HYBRID",
                                                            "RENEWABLE"};

int source_type_parse(const char *name, enum source_type *out)
{
    for (int i = 0; i < SOURCE_TYPE_COUNT; i++)
        if (strcmp(name, source_names[i]) == 0) {
            *out = (enum source_type)i;
            return 0;
        }
    return -1;
}

const char *source_type_name(enum source_type t)
{
    return (unsigned)t < SOURCE_TYPE_COUNT ? source_names[t] : "UNKNOWN";
}

int64_t offer_default_min_order_wh(int64_t quantity_wh)
{
    return quantity_wh < 1000 ? quantity_wh : 1000;
}

static bool time_in_range(int64_t ms) { return ms >= 0 && ms <= P2P_TIME_MAX_MS; }

int delivery_window_check(const struct market_rules *r, int64_t start, int64_t end, int64_t now,
                          const char *sf, const char *ef, struct p2p_violation *v)
{
    if (!time_in_range(start))
        return p2p_violate(v, "invalid_field", sf, "%s must be a time between 1970 and 2100", sf);
    if (!time_in_range(end))
        return p2p_violate(v, "invalid_field", ef, "%s must be a time between 1970 and 2100", ef);
    if (end <= start)
        return p2p_violate(v, "window_inverted", ef, "%s must be after %s", ef, sf);
    if (start % r->slot_ms != 0)
        return p2p_violate(v, "window_not_aligned", sf, "%s must be on a %lld-minute slot boundary",
                           sf, (long long)(r->slot_ms / 60000));
    if (end % r->slot_ms != 0)
        return p2p_violate(v, "window_not_aligned", ef, "%s must be on a %lld-minute slot boundary",
                           ef, (long long)(r->slot_ms / 60000));
    if (end - start > OFFER_MAX_WINDOW_MS)
        return p2p_violate(v, "invalid_field", ef, "a delivery window may last at most 24 hours");
    if (start - now < r->gate_closure_ms)
        return p2p_violate(v, "gate_closed", sf,
                           "%s must be at least %lld minutes from now (gate closure)", sf,
                           (long long)(r->gate_closure_ms / 60000));
    if (start - now > r->horizon_ms)
        return p2p_violate(v, "beyond_horizon", sf, "%s must be at most %lld days from now", sf,
                           (long long)(r->horizon_ms / 86400000));
    return 0;
}

int offer_terms_check(const struct market_rules *r, const struct offer_terms *t, int64_t now,
                      struct p2p_violation *v)
{
    if (t->quantity_wh < 1 || t->quantity_wh > OFFER_MAX_WH)
        return p2p_violate(v, "invalid_field", "quantity_wh",
                           "quantity_wh must be between 1 and %d Wh", OFFER_MAX_WH);
    if (t->price_per_kwh < 1 || t->price_per_kwh > OFFER_MAX_PRICE_PER_KWH)
        return p2p_violate(v, "invalid_field", "price_per_kwh",
                           "price_per_kwh must be between 1 and %d minor units per kWh",
                           OFFER_MAX_PRICE_PER_KWH);
    if (t->min_order_wh < 1 || t->min_order_wh > t->quantity_wh)
        return p2p_violate(v, "invalid_field", "min_order_wh",
                           "min_order_wh must be between 1 and quantity_wh (%lld Wh)",
                           (long long)t->quantity_wh);
    if (strcmp(t->currency, r->currency) != 0)
        return p2p_violate(v, "invalid_field", "currency", "currency must be %s in this market",
                           r->currency);
    if (delivery_window_check(r, t->delivery_start_ms, t->delivery_end_ms, now, "delivery_start",
                              "delivery_end", v))
        return -1;
    if (t->has_valid_until &&
        (t->valid_until_ms <= now || t->valid_until_ms > t->delivery_start_ms))
        return p2p_violate(v, "invalid_field", "valid_until",
                           "valid_until must be in the future and not after delivery_start");
    return 0;
}
