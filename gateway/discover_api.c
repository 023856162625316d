#include "gateway/discover_api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/p2p_json.h"
#include "common/p2p_time.h"
#include "engine/core/engine.h"
#include "engine/core/offer.h"
#include "engine/core/score.h"
#include "gateway/auth.h"
#include "gateway/http.h"
#include "gateway/market_params.h"
#include "gateway/read_db.h"

#define RANKED_DEFAULT 100
#define RANKED_MAX 500
/* Offers overlapping one window of at most 24 h; beyond this many the answer
 * says it ranked only the first ones listed (candidates_ranked < candidates). */
#define CANDIDATES_MAX 10000

struct discover_request {
    int64_t quantity_wh, start_ms, end_ms, max_price, limit;
    bool has_max_price, has_source;
    char source[16];
};

struct ranked {
    int row;           /* in the query result */
    int64_t listed_at; /* listing order (offer-events offset): the engine's tie-break */
    struct score_parts parts;
};

static const char *const accepted_fields[] = {"quantity_wh",       "delivery_start", "delivery_end",
                                              "max_price_per_kwh", "source_type",    "limit",
                                              NULL};

static int read_time(const json_t *body, const char *name, int64_t *out, struct p2p_violation *v)
{
    char text[40];
    if (p2p_json_str(body, name, text, sizeof text, v))
        return -1;
    if (p2p_time_parse(text, out))
        return p2p_violate(v, "invalid_field", name,
                           "%s must be an RFC 3339 UTC time such as 2026-11-25T10:00:00Z", name);
    return 0;
}

static int read_request(const json_t *body, const struct p2p_config *cfg,
                        struct discover_request *q, struct p2p_violation *v)
{
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)body, key, val) {
        int known = 0;
        for (int i = 0; accepted_fields[i] && !known; i++)
            known = strcmp(key, accepted_fields[i]) == 0;
        if (!known)
            return p2p_violate(v, "unknown_field", key, "%s is not a field of a discovery request",
                               key);
    }
    bool has_limit;
    enum source_type source;
    if (p2p_json_int(body, "quantity_wh", &q->quantity_wh, v) ||
        read_time(body, "delivery_start", &q->start_ms, v) ||
        read_time(body, "delivery_end", &q->end_ms, v) ||
        p2p_json_opt_int(body, "max_price_per_kwh", &q->max_price, &q->has_max_price, v) ||
        p2p_json_opt_int(body, "limit", &q->limit, &has_limit, v))
        return -1;
    /* an over-long or empty source_type is reported like any other unknown one */
    int bad_source = p2p_json_opt_str(body, "source_type", q->source, sizeof q->source,
                                      &q->has_source, v);
    if (bad_source && strcmp(v->code, "invalid_field") != 0)
        return -1;
    if (bad_source || (q->has_source && source_type_parse(q->source, &source)))
        return p2p_violate(v, "invalid_field", "source_type",
                           "source_type must be SOLAR, BATTERY, GRID, HYBRID or RENEWABLE");
    if (q->quantity_wh < 1 || q->quantity_wh > OFFER_MAX_WH)
        return p2p_violate(v, "invalid_field", "quantity_wh",
                           "quantity_wh must be between 1 and %d Wh", OFFER_MAX_WH);
    if (q->has_max_price && (q->max_price < 1 || q->max_price > OFFER_MAX_PRICE_PER_KWH))
        return p2p_violate(v, "invalid_field", "max_price_per_kwh",
                           "max_price_per_kwh must be between 1 and %d", OFFER_MAX_PRICE_PER_KWH);
    if (!has_limit)
        q->limit = RANKED_DEFAULT;
    else if (q->limit < 1 || q->limit > RANKED_MAX)
        return p2p_violate(v, "invalid_field", "limit", "limit must be between 1 and %d",
                           RANKED_MAX);
    return delivery_window_check(&cfg->rules, q->start_ms, q->end_ms, p2p_now_ms(),
                                 "delivery_start", "delivery_end", v);
}

static int by_rank(const void *pa, const void *pb)
{
    const struct ranked *a = pa, *b = pb;
    if (a->parts.score != b->parts.score)
        return a->parts.score > b->parts.score ? -1 : 1;
    return a->listed_at < b->listed_at ? -1 : a->listed_at > b->listed_at;
}

/* Columns of the candidate query. */
enum { C_ID, C_SELLER, C_SOURCE, C_REMAINING, C_PRICE, C_CURRENCY, C_MIN_ORDER, C_START, C_END,
       C_TRUST, C_LISTED_AT, C_MIN_PRICE, C_MAX_PRICE, C_COUNT };

static PGresult *candidates(struct mg_connection *c, const struct p2p_config *cfg,
                            const struct discover_request *q, const char *buyer)
{
    const struct engine_params *p = market_params();
    int64_t now = p2p_now_ms();
    char ws[24], we[24], gate[24], now_text[24], trust_default[16], min_trust[16], max_price[24],
        cap[16];
    snprintf(ws, sizeof ws, "%lld", (long long)q->start_ms);
    snprintf(we, sizeof we, "%lld", (long long)q->end_ms);
    snprintf(gate, sizeof gate, "%lld", (long long)(now + p->market.gate_closure_ms));
    snprintf(now_text, sizeof now_text, "%lld", (long long)now);
    snprintf(trust_default, sizeof trust_default, "%d", p->trust_default);
    snprintf(min_trust, sizeof min_trust, "%d", p->min_trust);
    snprintf(max_price, sizeof max_price, "%lld", (long long)q->max_price);
    snprintf(cap, sizeof cap, "%d", CANDIDATES_MAX);
    const char *params[11] = {cfg->market, ws, we, gate, now_text, buyer, trust_default,
                              min_trust, q->has_max_price ? max_price : NULL,
                              q->has_source ? q->source : NULL, cap};
    return read_db_query(
        c,
        "select o.offer_id, o.seller_id, o.source_type, o.remaining_wh, o.price_per_kwh,"
        " o.currency, o.min_order_wh, o.delivery_start_ms, o.delivery_end_ms,"
        " coalesce(p.trust, $7::int), o.event_offset,"
        " min(o.price_per_kwh) over (), max(o.price_per_kwh) over (), count(*) over ()"
        " from offers o left join participants p on p.participant_id = o.seller_id"
        " where o.status = 'LISTED' and o.market = $1"
        " and o.delivery_start_ms < $3::bigint and o.delivery_end_ms > $2::bigint"
        " and o.delivery_start_ms >= $4::bigint"
        " and (o.valid_until_ms is null or o.valid_until_ms > $5::bigint)"
        " and o.remaining_wh >= o.min_order_wh and o.seller_id <> $6"
        " and coalesce(p.trust, $7::int) >= $8::int"
        " and ($9::bigint is null or o.price_per_kwh <= $9::bigint)"
        " and ($10::text is null or o.source_type = $10::text)"
        " order by o.event_offset limit $11::int",
        11, params);
}

static json_t *offer_json(const PGresult *r, const struct ranked *k, int rank)
{
    json_t *o = json_pack("{s:i, s:s, s:s, s:s, s:I, s:s, s:I, s:I}", "rank", rank, "offer_id",
                          PQgetvalue(r, k->row, C_ID), "seller_id", PQgetvalue(r, k->row, C_SELLER),
                          "source_type", PQgetvalue(r, k->row, C_SOURCE), "price_per_kwh",
                          (json_int_t)read_db_int(r, k->row, C_PRICE), "currency",
                          PQgetvalue(r, k->row, C_CURRENCY), "remaining_wh",
                          (json_int_t)read_db_int(r, k->row, C_REMAINING), "min_order_wh",
                          (json_int_t)read_db_int(r, k->row, C_MIN_ORDER));
    if (!o)
        return NULL;
    json_object_set_new(o, "delivery_start", read_db_time(r, k->row, C_START, false));
    json_object_set_new(o, "delivery_end", read_db_time(r, k->row, C_END, false));
    json_object_set_new(o, "seller_trust", json_integer(read_db_int(r, k->row, C_TRUST)));
    json_object_set_new(o, "price_score", json_integer(k->parts.price_score));
    json_object_set_new(o, "trust", json_integer(k->parts.trust));
    json_object_set_new(o, "time_fit", json_integer(k->parts.time_fit));
    json_object_set_new(o, "score", json_integer(k->parts.score));
    return o;
}

/* The engine's allocation (match_allocate): greedy over the best
 * MAX_OFFERS_PER_ORDER, a line never below the offer's minimum. */
static json_t *allocation_json(const PGresult *r, const struct ranked *ranked, int n,
                               int64_t quantity_wh)
{
    const struct engine_params *p = market_params();
    json_t *lines = json_array();
    int64_t need = quantity_wh, amount = 0, fee = 0;
    for (int k = 0; lines && k < n && k < p->max_offers_per_order && need > 0; k++) {
        int row = ranked[k].row;
        int64_t open = read_db_int(r, row, C_REMAINING), price = read_db_int(r, row, C_PRICE);
        int64_t take = need < open ? need : open;
        if (take < read_db_int(r, row, C_MIN_ORDER))
            continue;
        int64_t line_amount = money_cost(take, price), line_fee = money_rate(line_amount,
                                                                            p->platform_fee_bp);
        json_array_append_new(lines, json_pack("{s:i, s:s, s:s, s:I, s:I, s:I, s:I, s:i}", "rank",
                                               k + 1, "offer_id", PQgetvalue(r, row, C_ID),
                                               "seller_id", PQgetvalue(r, row, C_SELLER),
                                               "quantity_wh", (json_int_t)take, "price_per_kwh",
                                               (json_int_t)price, "amount", (json_int_t)line_amount,
                                               "fee", (json_int_t)line_fee, "score",
                                               ranked[k].parts.score));
        need -= take;
        amount += line_amount;
        fee += line_fee;
    }
    return json_pack("{s:o, s:I, s:I, s:I, s:I, s:I}", "lines", lines ? lines : json_array(),
                     "filled_wh", (json_int_t)(quantity_wh - need), "shortfall_wh",
                     (json_int_t)need, "amount", (json_int_t)amount, "fee", (json_int_t)fee, "total",
                     (json_int_t)(amount + fee));
}

static int answer(struct mg_connection *c, const struct discover_request *q, PGresult *r)
{
    const struct engine_params *p = market_params();
    int n = PQntuples(r);
    struct ranked *ranked = n ? calloc((size_t)n, sizeof *ranked) : NULL;
    if (n && !ranked) {
        PQclear(r);
        return http_reply_error(c, 503, "unavailable", NULL, "out of memory, retry later");
    }
    int64_t window_ms = q->end_ms - q->start_ms;
    for (int i = 0; i < n; i++) {
        int64_t start = read_db_int(r, i, C_START), end = read_db_int(r, i, C_END);
        int64_t overlap = (end < q->end_ms ? end : q->end_ms) -
                          (start > q->start_ms ? start : q->start_ms);
        ranked[i].row = i;
        ranked[i].listed_at = read_db_int(r, i, C_LISTED_AT);
        match_score(p, read_db_int(r, i, C_PRICE), read_db_int(r, i, C_MIN_PRICE),
                    read_db_int(r, i, C_MAX_PRICE), (int32_t)read_db_int(r, i, C_TRUST), overlap,
                    window_ms, &ranked[i].parts);
    }
    if (n)
        qsort(ranked, (size_t)n, sizeof *ranked, by_rank);
    json_t *offers = json_array();
    for (int k = 0; offers && k < n && k < q->limit; k++)
        json_array_append_new(offers, offer_json(r, &ranked[k], k + 1));
    json_t *doc = json_pack("{s:I, s:i, s:{s:i, s:i, s:i}, s:o, s:o}", "candidates",
                            (json_int_t)(n ? read_db_int(r, 0, C_COUNT) : 0), "candidates_ranked", n,
                            "weights", "price", p->weight_price, "trust", p->weight_trust,
                            "time_fit", p->weight_time, "offers", offers ? offers : json_array(),
                            "allocation", allocation_json(r, ranked, n, q->quantity_wh));
    free(ranked);
    PQclear(r);
    return http_reply_json(c, 200, doc);
}

int discover_api(struct mg_connection *c, void *cbdata)
{
    const struct p2p_config *cfg = cbdata;
    char user[USER_ID_BUF], *raw;
    size_t len;
    int status = read_db_route(c, "/api/discover", "POST");
    if (status || (status = auth_require_user(c, cfg, user)) ||
        (status = http_read_body(c, cfg->max_body_bytes, &raw, &len)))
        return status;
    struct p2p_violation v;
    json_t *body = p2p_json_parse_object(raw, len, &v);
    free(raw);
    if (!body)
        return http_reply_violation(c, 400, &v);
    struct discover_request q;
    memset(&q, 0, sizeof q);
    int bad = read_request(body, cfg, &q, &v);
    json_decref(body);
    if (bad)
        return http_reply_violation(c, 400, &v);
    PGresult *r = candidates(c, cfg, &q, user);
    return r ? answer(c, &q, r) : 503;
}
