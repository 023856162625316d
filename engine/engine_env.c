#include "engine/engine_env.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

int parse_fraction_bp(const char *s, int32_t *out)
{
    int32_t whole = 0, frac = 0, digits = 0;
    if (*s < '0' || *s > '9')
        return -1;
    while (*s >= '0' && *s <= '9' && whole <= 1)
        whole = whole * 10 + (*s++ - '0');
    if (*s == '.') {
        for (s++; *s >= '0' && *s <= '9'; s++, digits++) {
            if (digits < 4)
                frac = frac * 10 + (*s - '0');
            else if (*s != '0')
                return -1; /* more precision than 1/10000 */
        }
    }
    for (; digits < 4; digits++)
        frac *= 10;
    int32_t v = whole * 10000 + frac;
    if (*s || v > 10000)
        return -1;
    *out = v;
    return 0;
}

static int fraction(const char *name, int32_t *out, char *err, size_t errlen)
{
    const char *v = getenv(name);
    if (!v || !*v)
        return 0;
    if (parse_fraction_bp(v, out)) {
        snprintf(err, errlen, "%s=%s is not a decimal between 0 and 1 with at most 4 decimals", name, v);
        return -1;
    }
    return 0;
}

/* An integer variable times `scale` (seconds -> ms, kWh -> Wh); unset keeps *out. */
static int integer(const char *name, int64_t scale, int64_t min, int64_t max, int64_t *out,
                   char *err, size_t errlen)
{
    int64_t n;
    if (p2p_env_int(name, *out / scale, min, max, &n, err, errlen))
        return -1;
    *out = n * scale;
    return 0;
}

int engine_env_load(const struct p2p_config *cfg, struct engine_params *p,
                    struct engine_capacity *cap, char *err, size_t errlen)
{
    engine_params_default(p);
    p->market = cfg->rules;
    int64_t limit = p->default_limit_wh, lines = p->max_offers_per_order;
    int64_t c_part = 1 << 16, c_off = 1 << 18, c_ord = 1 << 18, c_fill = 1 << 19;
    if (integer("RESERVATION_TTL_SECONDS", 1000, 1, 86400, &p->reservation_ttl_ms, err, errlen) ||
        integer("CANCEL_WINDOW_MINUTES", 60000, 0, 10080, &p->cancel_window_ms, err, errlen) ||
        integer("MAX_OFFERS_PER_ORDER", 1, 1, ENGINE_MAX_LINES, &lines, err, errlen) ||
        integer("TRUST_DEFAULT_LIMIT", 1000, 0, 1000000, &limit, err, errlen) ||
        integer("P2P_ENGINE_MAX_PARTICIPANTS", 1, 16, 1 << 24, &c_part, err, errlen) ||
        integer("P2P_ENGINE_MAX_OFFERS", 1, 16, 1 << 26, &c_off, err, errlen) ||
        integer("P2P_ENGINE_MAX_ORDERS", 1, 16, 1 << 26, &c_ord, err, errlen) ||
        integer("P2P_ENGINE_MAX_FILLS", 1, 64, 1 << 27, &c_fill, err, errlen) ||
        fraction("MIN_TRUST_THRESHOLD", &p->min_trust, err, errlen) ||
        fraction("PLATFORM_FEE_RATE", &p->platform_fee_bp, err, errlen) ||
        fraction("CANCEL_FEE_RATE", &p->cancel_fee_bp, err, errlen) ||
        fraction("SELLER_CANCEL_PENALTY_RATE", &p->seller_cancel_penalty_bp, err, errlen) ||
        fraction("TRUST_DEFAULT_SCORE", &p->trust_default, err, errlen) ||
        fraction("TRUST_SUCCESS_BONUS", &p->trust_success_bonus, err, errlen) ||
        fraction("TRUST_FAILURE_PENALTY", &p->trust_failure_penalty, err, errlen) ||
        fraction("TRUST_CANCEL_PENALTY", &p->trust_cancel_penalty, err, errlen) ||
        fraction("TRUST_METER_BONUS", &p->trust_meter_bonus, err, errlen))
        return -1;
    int32_t wp = p->weight_price * 100, wt = p->weight_trust * 100, wf = p->weight_time * 100;
    if (fraction("MATCH_WEIGHT_PRICE", &wp, err, errlen) ||
        fraction("MATCH_WEIGHT_TRUST", &wt, err, errlen) ||
        fraction("MATCH_WEIGHT_TIME", &wf, err, errlen))
        return -1;
    if (wp % 100 || wt % 100 || wf % 100 || wp + wt + wf != 10000) {
        snprintf(err, errlen, "MATCH_WEIGHT_* must be whole percents that add up to 1");
        return -1;
    }
    p->weight_price = wp / 100;
    p->weight_trust = wt / 100;
    p->weight_time = wf / 100;
    p->max_offers_per_order = (int32_t)lines;
    p->default_limit_wh = limit;
    cap->participants = (uint32_t)c_part;
    cap->offers = (uint32_t)c_off;
    cap->orders = (uint32_t)c_ord;
    cap->fills = (uint32_t)c_fill;
    return 0;
}
