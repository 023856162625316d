#include "gateway/participant_view.h"

#include <stdio.h>

#include "engine/core/engine.h"
#include "gateway/market_params.h"
#include "gateway/read_db.h"

int participant_view_load(struct mg_connection *c, const char *participant_id,
                          struct participant_view *out)
{
    const struct engine_params *p = market_params();
    const char *params[1] = {participant_id};
    PGresult *r = read_db_query(c,
                                "select trust, trade_limit_wh, capacity_wh_per_month,"
                                " verified_wh_per_month, updated_at_ms"
                                " from participants where participant_id = $1",
                                1, params);
    if (!r)
        return 503;
    out->known = PQntuples(r) == 1;
    out->trust = out->known ? (int32_t)read_db_int(r, 0, 0) : p->trust_default;
    out->has_capacity = out->known && !PQgetisnull(r, 0, 2);
    out->has_verified = out->known && !PQgetisnull(r, 0, 3);
    out->capacity_wh_per_month = out->has_capacity ? read_db_int(r, 0, 2) : 0;
    out->verified_wh_per_month = out->has_verified ? read_db_int(r, 0, 3) : 0;
    out->updated_at_ms = out->known ? read_db_int(r, 0, 4) : 0;
    /* the engine's number when it has one: it decides the limit */
    out->trade_limit_wh = out->known ? read_db_int(r, 0, 1) : p->default_limit_wh;
    PQclear(r);
    out->tier = trust_tier_name(out->trust);
    out->tier_percent = trust_tier_percent(out->trust);
    out->limit_basis = out->verified_wh_per_month > 0   ? "verified"
                       : out->capacity_wh_per_month > 0 ? "declared"
                                                        : "default";
    return 0;
}

/* Tier bounds come from the engine's own tier table (trust_tier_name): the
 * current tier starts where the name last changed below `trust`, the next
 * where it changes above. */
int32_t participant_tier_progress(int32_t trust, const char **next, int32_t *next_from)
{
    const char *here = trust_tier_name(trust);
    int32_t from = trust, to = trust + 1;
    while (from > 0 && trust_tier_name(from - 1) == here)
        from--;
    while (to <= 10000 && trust_tier_name(to) == here)
        to++;
    if (to > 10000) {
        *next = NULL;
        *next_from = -1;
        return 100;
    }
    *next = trust_tier_name(to);
    *next_from = to;
    return (int32_t)((int64_t)(trust - from) * 100 / (to - from));
}

json_t *participant_view_json(const struct participant_view *p)
{
    char score[8];
    snprintf(score, sizeof score, "%d.%02d", p->trust / 10000, p->trust % 10000 / 100);
    json_t *o = json_pack("{s:i, s:s, s:s, s:i, s:I, s:s}", "trust", p->trust, "trust_score", score,
                          "tier", p->tier, "trade_limit_percent", p->tier_percent,
                          "trade_limit_wh", (json_int_t)p->trade_limit_wh, "trade_limit_basis",
                          p->limit_basis);
    if (!o)
        return NULL;
    json_object_set_new(o, "production_capacity_wh_per_month",
                        p->has_capacity ? json_integer(p->capacity_wh_per_month) : json_null());
    json_object_set_new(o, "verified_production_wh_per_month",
                        p->has_verified ? json_integer(p->verified_wh_per_month) : json_null());
    return o;
}
