#include "gateway/seller_read_api.h"

#include <stdio.h>
#include <string.h>

#include "common/p2p_config.h"
#include "common/p2p_time.h"
#include "gateway/auth.h"
#include "gateway/http.h"
#include "gateway/participant_view.h"
#include "gateway/read_db.h"

#define PAGE_DEFAULT 50
#define PAGE_MAX 500
#define OFFSET_MAX 1000000

/* The calendar month (UTC) of query parameter `month` (YYYY-MM, default the
 * current one) as [*from, *to) in ms. Returns 0 or the 400 already answered. */
static int read_month(struct mg_connection *c, char month[8], int64_t *from, int64_t *to)
{
    char text[16], start[32], next[32];
    int len = http_query(c, "month", text, sizeof text);
    if (len == -1) {
        char now[P2P_TIME_BUF];
        p2p_time_format(p2p_now_ms(), false, now);
        memcpy(text, now, 7);
        text[7] = '\0';
        len = 7;
    }
    int year = 0, mon = 0, used = 0;
    if (len != 7 || sscanf(text, "%4d-%2d%n", &year, &mon, &used) != 2 || used != 7 ||
        year < 1970 || year > 2099 || mon < 1 || mon > 12)
        return http_reply_error(c, 400, "invalid_field", "month",
                                "month must be a calendar month such as 2026-11");
    snprintf(start, sizeof start, "%04d-%02d-01T00:00:00Z", year, mon);
    snprintf(next, sizeof next, "%04d-%02d-01T00:00:00Z", mon == 12 ? year + 1 : year,
             mon == 12 ? 1 : mon + 1);
    if (p2p_time_parse(start, from) || p2p_time_parse(next, to))
        return http_reply_error(c, 400, "invalid_field", "month",
                                "month must be a calendar month such as 2026-11");
    snprintf(month, 8, "%04d-%02d", year, mon);
    return 0;
}

static int profile(struct mg_connection *c, const struct p2p_config *cfg)
{
    char user[USER_ID_BUF], month[8], from_text[24], to_text[24];
    int64_t from, to;
    struct participant_view p;
    int status = auth_require_user(c, cfg, user);
    if (status || (status = read_month(c, month, &from, &to)) ||
        (status = participant_view_load(c, user, &p)))
        return status;
    snprintf(from_text, sizeof from_text, "%lld", (long long)from);
    snprintf(to_text, sizeof to_text, "%lld", (long long)to);
    const char *params[3] = {user, from_text, to_text};
    /* The engine's commitment of a month (engine/core/book.c): per offer
     * delivering in it, the open remainder plus reserved plus sold energy. */
    PGresult *r = read_db_query(
        c,
        "select"
        " (select coalesce(sum(remaining_wh), 0) from offers where seller_id = $1"
        "   and status = 'LISTED' and delivery_start_ms >= $2::bigint"
        "   and delivery_start_ms < $3::bigint),"
        " (select coalesce(sum(quantity_wh), 0) from order_lines where seller_id = $1"
        "   and status = 'RESERVED' and delivery_start_ms >= $2::bigint"
        "   and delivery_start_ms < $3::bigint),"
        " (select coalesce(sum(quantity_wh), 0) from order_lines where seller_id = $1"
        "   and status in ('SOLD', 'DELIVERED') and delivery_start_ms >= $2::bigint"
        "   and delivery_start_ms < $3::bigint),"
        " (select count(*) from offers where seller_id = $1 and status = 'LISTED'),"
        " (select count(*) from offers where seller_id = $1)",
        3, params);
    if (!r)
        return 503;
    int64_t open = read_db_int(r, 0, 0), reserved = read_db_int(r, 0, 1),
            sold = read_db_int(r, 0, 2), listed = read_db_int(r, 0, 3),
            offers = read_db_int(r, 0, 4);
    PQclear(r);
    int64_t committed = open + reserved + sold;
    int64_t left = p.trade_limit_wh > committed ? p.trade_limit_wh - committed : 0;
    json_t *doc = participant_view_json(&p);
    if (doc) {
        json_object_set_new(doc, "seller_id", json_string(user));
        json_object_set_new(
            doc, "month",
            json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:I}", "month", month, "open_wh",
                      (json_int_t)open, "reserved_wh", (json_int_t)reserved, "sold_wh",
                      (json_int_t)sold, "committed_wh", (json_int_t)committed,
                      "available_wh", (json_int_t)left, "used_percent",
                      (json_int_t)(p.trade_limit_wh > 0 ? committed * 100 / p.trade_limit_wh
                                                        : committed > 0 ? 100 : 0)));
        json_object_set_new(doc, "offers",
                            json_pack("{s:I, s:I}", "listed", (json_int_t)listed, "total",
                                      (json_int_t)offers));
    }
    return http_reply_json(c, 200, doc);
}

static const char *const line_statuses[] = {"RESERVED", "SOLD", "RELEASED", "CANCELLED_BY_SELLER",
                                            "DELIVERED", NULL};

static json_t *line_json(const PGresult *r, int i)
{
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:s}", "fill_id",
                          PQgetvalue(r, i, 0), "order_id", PQgetvalue(r, i, 1), "buyer_id",
                          PQgetvalue(r, i, 2), "offer_id", PQgetvalue(r, i, 3), "status",
                          PQgetvalue(r, i, 4), "quantity_wh", (json_int_t)read_db_int(r, i, 5),
                          "price_per_kwh", (json_int_t)read_db_int(r, i, 6), "amount",
                          (json_int_t)read_db_int(r, i, 7), "fee", (json_int_t)read_db_int(r, i, 8),
                          "order_status", PQgetvalue(r, i, 9));
    if (!o)
        return NULL;
    json_object_set_new(o, "delivery_start", read_db_time(r, i, 10, false));
    json_object_set_new(o, "delivery_end", read_db_time(r, i, 11, false));
    json_object_set_new(o, "delivered_wh", read_db_int_or_null(r, i, 12));
    json_object_set_new(o, "curtailed_wh", read_db_int_or_null(r, i, 13));
    json_object_set_new(o, "seller_paid", read_db_int_or_null(r, i, 14));
    json_object_set_new(o, "buyer_refund", read_db_int_or_null(r, i, 15));
    json_object_set_new(o, "ordered_at", read_db_time(r, i, 16, true));
    return o;
}

static int orders(struct mg_connection *c, const struct p2p_config *cfg)
{
    char user[USER_ID_BUF], status_text[24], limit_text[24], offset_text[24];
    int64_t limit, offset;
    int status = auth_require_user(c, cfg, user);
    if (status || (status = read_db_query_int(c, "limit", 1, PAGE_MAX, PAGE_DEFAULT, &limit)) ||
        (status = read_db_query_int(c, "offset", 0, OFFSET_MAX, 0, &offset)))
        return status;
    int len = http_query(c, "status", status_text, sizeof status_text);
    int known = len == -1;
    for (int i = 0; line_statuses[i] && !known && len > 0; i++)
        known = strcmp(status_text, line_statuses[i]) == 0;
    if (!known)
        return http_reply_error(c, 400, "invalid_field", "status",
                                "status must be RESERVED, SOLD, RELEASED, CANCELLED_BY_SELLER or "
                                "DELIVERED");
    snprintf(limit_text, sizeof limit_text, "%lld", (long long)limit);
    snprintf(offset_text, sizeof offset_text, "%lld", (long long)offset);
    const char *params[4] = {user, len == -1 ? NULL : status_text, limit_text, offset_text};
    PGresult *r = read_db_query(
        c,
        "select l.fill_id, l.order_id, o.buyer_id, l.offer_id, l.status, l.quantity_wh,"
        " l.price_per_kwh, l.amount, l.fee, o.status, l.delivery_start_ms, l.delivery_end_ms,"
        " l.delivered_wh, l.curtailed_wh, l.seller_paid, l.buyer_refund, o.created_at_ms,"
        " count(*) over ()"
        " from order_lines l join orders o on o.order_id = l.order_id"
        " where l.seller_id = $1 and ($2::text is null or l.status = $2::text)"
        " order by l.delivery_start_ms desc, o.created_at_ms desc, l.fill_id"
        " limit $3::int offset $4::int",
        4, params);
    if (!r)
        return 503;
    json_t *lines = json_array();
    for (int i = 0; lines && i < PQntuples(r); i++)
        json_array_append_new(lines, line_json(r, i));
    int rows = PQntuples(r);
    int64_t total = rows ? read_db_int(r, 0, 17) : 0;
    PQclear(r);
    json_t *next = rows && offset + rows < total ? json_integer(offset + rows) : json_null();
    return http_reply_json(c, 200,
                           json_pack("{s:s, s:o, s:{s:I, s:I, s:o}}", "seller_id", user, "orders",
                                     lines ? lines : json_array(), "page", "limit",
                                     (json_int_t)limit, "offset", (json_int_t)offset,
                                     "next_offset", next));
}

int seller_read_profile(struct mg_connection *c, void *cbdata)
{
    int status = read_db_route(c, "/seller/profile", "GET");
    return status ? status : profile(c, cbdata);
}

int seller_read_orders(struct mg_connection *c, void *cbdata)
{
    int status = read_db_route(c, "/seller/orders", "GET");
    return status ? status : orders(c, cbdata);
}
