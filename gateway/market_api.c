#include "gateway/market_api.h"

#include <stdio.h>

#include "common/p2p_config.h"
#include "common/p2p_time.h"
#include "engine/core/offer.h"
#include "gateway/http.h"
#include "gateway/read_db.h"

#define DAY_MS 86400000LL
#define RANGE_MAX_MS (62 * DAY_MS) /* two months of slots per answer */

static json_t *slot_json(const PGresult *r, int i, int64_t slot_ms)
{
    int64_t start = read_db_int(r, i, 0), sold = read_db_int(r, i, 3), amount = read_db_int(r, i, 5);
    char from[P2P_TIME_BUF], to[P2P_TIME_BUF];
    p2p_time_format(start, false, from);
    p2p_time_format(start + slot_ms, false, to);
    /* the average price of the energy sold in the slot, half-up per kWh */
    json_t *average = sold > 0 ? json_integer((amount * 1000 + sold / 2) / sold) : json_null();
    json_t *o = json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:o}", "slot_start", from, "slot_end",
                          to, "source_type", PQgetvalue(r, i, 1), "listed_wh",
                          (json_int_t)read_db_int(r, i, 2), "sold_wh", (json_int_t)sold, "trades",
                          (json_int_t)read_db_int(r, i, 4), "amount", (json_int_t)amount,
                          "average_price_per_kwh", average);
    if (o) {
        json_object_set_new(o, "price_min", read_db_int_or_null(r, i, 6));
        json_object_set_new(o, "price_max", read_db_int_or_null(r, i, 7));
    }
    return o;
}

static int read_range(struct mg_connection *c, const struct p2p_config *cfg, int64_t *from,
                      int64_t *to, char *source, size_t source_cap)
{
    bool has_from, has_to;
    int status = read_db_query_time(c, "from", from, &has_from);
    if (status || (status = read_db_query_time(c, "to", to, &has_to)))
        return status;
    int64_t now = p2p_now_ms();
    if (!has_from)
        *from = now - now % DAY_MS;
    if (!has_to) { /* the end of the trade horizon, or a day after a later `from`; at most
                    * RANGE_MAX_MS after `from`: a default is never refused */
        *to = *from < now + cfg->rules.horizon_ms ? now + cfg->rules.horizon_ms + cfg->rules.slot_ms
                                                  : *from + DAY_MS;
        if (*to - *from > RANGE_MAX_MS)
            *to = *from + RANGE_MAX_MS;
    }
    if (*to <= *from)
        return http_reply_error(c, 400, "window_inverted", "to", "to must be after from");
    if (*to - *from > RANGE_MAX_MS)
        return http_reply_error(c, 400, "invalid_field", "to",
                                "a range may span at most %lld days", RANGE_MAX_MS / DAY_MS);
    int len = http_query(c, "source_type", source, source_cap);
    enum source_type parsed;
    if (len == -1)
        source[0] = '\0';
    else if (len < 1 || source_type_parse(source, &parsed))
        return http_reply_error(c, 400, "invalid_field", "source_type",
                                "source_type must be SOLAR, BATTERY, GRID, HYBRID or RENEWABLE");
    return 0;
}

int market_api(struct mg_connection *c, void *cbdata)
{
    const struct p2p_config *cfg = cbdata;
    int64_t from, to;
    char source[16];
    int status = read_db_route(c, "/api/market", "GET");
    if (status || (status = read_range(c, cfg, &from, &to, source, sizeof source)))
        return status;
    char from_text[24], to_text[24], slot_text[24];
    snprintf(from_text, sizeof from_text, "%lld", (long long)from);
    snprintf(to_text, sizeof to_text, "%lld", (long long)to);
    snprintf(slot_text, sizeof slot_text, "%lld", (long long)cfg->rules.slot_ms);
    const char *params[5] = {cfg->market, from_text, to_text, source[0] ? source : NULL,
                             slot_text};
    /* a slot is in the range when it overlaps it */
    PGresult *r = read_db_query(c,
                                "select slot_start_ms, source_type, listed_wh, sold_wh, trades,"
                                " amount, price_min, price_max from market_slots"
                                " where market = $1 and slot_start_ms < $3::bigint"
                                " and slot_start_ms + $5::bigint > $2::bigint"
                                " and ($4::text is null or source_type = $4::text)"
                                " order by slot_start_ms, source_type",
                                5, params);
    if (!r)
        return 503;
    json_t *slots = json_array();
    for (int i = 0; slots && i < PQntuples(r); i++)
        json_array_append_new(slots, slot_json(r, i, cfg->rules.slot_ms));
    PQclear(r);
    char from_rfc[P2P_TIME_BUF], to_rfc[P2P_TIME_BUF];
    p2p_time_format(from, false, from_rfc);
    p2p_time_format(to, false, to_rfc);
    return http_reply_json(c, 200,
                           json_pack("{s:s, s:s, s:s, s:s, s:I, s:o}", "market", cfg->market,
                                     "currency", cfg->currency, "from", from_rfc, "to", to_rfc,
                                     "slot_minutes", (json_int_t)(cfg->rules.slot_ms / 60000),
                                     "slots", slots ? slots : json_array()));
}
