/* A participant as the engine last described them (read model
 * `participants`), with the engine's defaults for someone it has not
 * described yet (TRUST_DEFAULT_SCORE, TRUST_DEFAULT_LIMIT): trust, tier, the
 * tier's trade-limit percent, capacity and the monthly trade limit in Wh
 * (product.md §3, §7). Shared by GET /api/profile, /api/trust and
 * /seller/profile so all three say the same. */
#ifndef P2P_GATEWAY_PARTICIPANT_VIEW_H
#define P2P_GATEWAY_PARTICIPANT_VIEW_H

#include <civetweb.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

struct participant_view {
    bool known;                    /* the engine has described them */
    int32_t trust;                 /* 1/10000 */
    const char *tier;              /* static string */
    int32_t tier_percent;          /* trade limit, % of capacity */
    bool has_capacity, has_verified;
    int64_t capacity_wh_per_month; /* declared */
    int64_t verified_wh_per_month; /* from meter data */
    int64_t trade_limit_wh;
    const char *limit_basis;       /* "verified", "declared" or "default" */
    int64_t updated_at_ms;
};

/* Loads the participant. Returns 0, or 503 after answering the client. */
int participant_view_load(struct mg_connection *c, const char *participant_id,
                          struct participant_view *out);

/* Progress from the current tier's lower bound to the next tier's, in whole
 * percent (100 at the top tier); *next gets the next tier's name and
 * *next_from its lower bound (NULL / -1 at the top). */
int32_t participant_tier_progress(int32_t trust, const char **next, int32_t *next_from);

/* {"trust", "trust_score", "tier", "trade_limit_percent", "trade_limit_wh",
 *  "trade_limit_basis", "production_capacity_wh_per_month",
 *  "verified_production_wh_per_month"}: the part every profile view shows. */
json_t *participant_view_json(const struct participant_view *p);

#endif
