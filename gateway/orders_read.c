/* GET /api/orders, GET /api/orders/{id} and GET /api/commands/{id}: the
 * signed-in user's own orders and commands, read from PostgreSQL (the
 * projected read model, and public.api_commands for who issued a command).
 * Declared in gateway/orders_api.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/p2p_json.h"
#include "common/p2p_time.h"
#include "gateway/auth.h"
#include "gateway/command_flow.h"
#include "gateway/http.h"
#include "gateway/idempotency.h"
#include "gateway/orders_api.h"
#include "gateway/read_db.h"

#define PAGE_DEFAULT 20
#define PAGE_MAX 100


/* Of `orders o`. */
#define ORDER_COLUMNS                                                                          \
    "o.order_id, o.status, o.quantity_wh, o.window_start_ms, o.window_end_ms, o.filled_wh,"     \
    " o.amount, o.fee, o.total, o.expires_at_ms, o.confirmed_at_ms, o.refund, o.cancel_fee,"    \
    " o.delivered_wh, o.created_at_ms, o.updated_at_ms, o.buyer_id"
#define ORDER_NCOLUMNS 17

static json_t *order_row(const struct p2p_config *cfg, PGresult *r, int i)
{
    json_t *o = json_pack("{s:s, s:s, s:s}", "order_id", PQgetvalue(r, i, 0), "status",
                          PQgetvalue(r, i, 1), "buyer_id", PQgetvalue(r, i, 16));
    if (!o)
        return NULL;
    json_object_set_new(o, "quantity_wh", read_db_int_or_null(r, i, 2));
    json_object_set_new(o, "delivery_start", read_db_time(r, i, 3, false));
    json_object_set_new(o, "delivery_end", read_db_time(r, i, 4, false));
    json_object_set_new(o, "filled_wh", read_db_int_or_null(r, i, 5));
    json_object_set_new(o, "amount", read_db_int_or_null(r, i, 6));
    json_object_set_new(o, "fee", read_db_int_or_null(r, i, 7));
    json_object_set_new(o, "total", read_db_int_or_null(r, i, 8));
    json_object_set_new(o, "currency", json_string(cfg->currency));
    json_object_set_new(o, "expires_at", read_db_time(r, i, 9, false));
    json_object_set_new(o, "confirmed_at", read_db_time(r, i, 10, false));
    json_object_set_new(o, "refund", read_db_int_or_null(r, i, 11));
    json_object_set_new(o, "cancel_fee", read_db_int_or_null(r, i, 12));
    json_object_set_new(o, "delivered_wh", read_db_int_or_null(r, i, 13));
    json_object_set_new(o, "created_at", read_db_time(r, i, 14, false));
    json_object_set_new(o, "updated_at", read_db_time(r, i, 15, false));
    return o;
}

/* Of `order_lines l`. */
#define LINE_COLUMNS                                                                           \
    "l.line, l.fill_id, l.offer_id, l.seller_id, l.quantity_wh, l.price_per_kwh, l.amount,"     \
    " l.fee, l.delivery_start_ms, l.delivery_end_ms, l.status, l.delivered_wh, l.curtailed_wh," \
    " l.seller_paid, l.buyer_refund, l.order_id"

/* The lines among the rows of r whose LINE_COLUMNS start at column `first`
 * (rows without a line, of an outer join, skipped); only those of order_id
 * (the last of them) when it is not NULL. */
static json_t *lines_of(PGresult *r, int first, const char *order_id)
{
    json_t *lines = json_array();
    for (int i = 0; lines && i < PQntuples(r); i++) {
        if (PQgetisnull(r, i, first) ||
            (order_id && strcmp(PQgetvalue(r, i, first + 15), order_id) != 0))
            continue;
        json_t *l = json_pack("{s:i, s:s, s:s, s:s, s:s}", "line",
                              atoi(PQgetvalue(r, i, first + 0)), "fill_id",
                              PQgetvalue(r, i, first + 1), "offer_id", PQgetvalue(r, i, first + 2),
                              "seller_id", PQgetvalue(r, i, first + 3), "status",
                              PQgetvalue(r, i, first + 10));
        if (!l)
            continue;
        json_object_set_new(l, "quantity_wh", read_db_int_or_null(r, i, first + 4));
        json_object_set_new(l, "price_per_kwh", read_db_int_or_null(r, i, first + 5));
        json_object_set_new(l, "amount", read_db_int_or_null(r, i, first + 6));
        json_object_set_new(l, "fee", read_db_int_or_null(r, i, first + 7));
        json_object_set_new(l, "delivery_start", read_db_time(r, i, first + 8, false));
        json_object_set_new(l, "delivery_end", read_db_time(r, i, first + 9, false));
        json_t *delivery = json_null();
        if (!PQgetisnull(r, i, first + 11))
            delivery = json_pack("{s:o, s:o, s:o, s:o}", "delivered_wh",
                                 read_db_int_or_null(r, i, first + 11), "curtailed_wh",
                                 read_db_int_or_null(r, i, first + 12), "seller_paid",
                                 read_db_int_or_null(r, i, first + 13), "buyer_refund",
                                 read_db_int_or_null(r, i, first + 14));
        json_object_set_new(l, "delivery", delivery ? delivery : json_null());
        json_array_append_new(lines, l);
    }
    return lines;
}

/* Query limit (1..PAGE_MAX) and cursor ("<created_at_ms>:<order_id>", from
 * next_cursor of the previous page). */
static int list_orders(struct mg_connection *c, const struct p2p_config *cfg, const char *user)
{
    char limit_text[16], cursor[128], ms_text[24] = "", *after_id = NULL;
    int n = http_query(c, "limit", limit_text, sizeof limit_text);
    long limit = PAGE_DEFAULT;
    if (n != -1) {
        char *end;
        limit = n < 0 ? -1 : strtol(limit_text, &end, 10);
        if (n < 0 || *end || limit < 1 || limit > PAGE_MAX)
            return http_reply_error(c, 400, "invalid_field", "limit",
                                    "limit must be an integer from 1 to %d", PAGE_MAX);
    }
    n = http_query(c, "cursor", cursor, sizeof cursor);
    if (n != -1) {
        char *colon = n > 0 ? strchr(cursor, ':') : NULL;
        size_t digits = colon ? (size_t)(colon - cursor) : 0;
        if (!colon || digits < 1 || digits > 18 || strspn(cursor, "0123456789") != digits ||
            !p2p_id_valid(colon + 1, 64))
            return http_reply_error(c, 400, "invalid_field", "cursor",
                                    "cursor must be the next_cursor of a previous page");
        memcpy(ms_text, cursor, digits);
        ms_text[digits] = '\0';
        after_id = colon + 1;
    }
    snprintf(limit_text, sizeof limit_text, "%ld", limit + 1);
    const char *params[4] = {user, after_id ? ms_text : NULL, after_id, limit_text};
    PGresult *r = read_db_query(
        c,
        "select " ORDER_COLUMNS " from orders o where buyer_id = $1"
        " and ($2::bigint is null or (created_at_ms, order_id) < ($2::bigint, $3))"
        " order by created_at_ms desc, order_id desc limit $4::int",
        4, params);
    if (!r)
        return 503;
    json_t *list = json_array();
    int rows = PQntuples(r), shown = rows > limit ? (int)limit : rows;
    /* the page's lines in one query: ids are letters, digits and . _ : @ -,
     * so they go into an array literal as they are */
    size_t cap = 3 + (size_t)shown * 66;
    char *ids = malloc(cap);
    PGresult *lines = NULL;
    if (!ids) {
        PQclear(r);
        json_decref(list);
        return http_reply_error(c, 503, "unavailable", NULL, "out of memory, retry later");
    }
    {
        size_t n = 0;
        ids[n++] = '{';
        for (int i = 0; i < shown; i++)
            n += (size_t)snprintf(ids + n, cap - n, "%s%s", i ? "," : "", PQgetvalue(r, i, 0));
        snprintf(ids + n, cap - n, "}");
        const char *lp[1] = {ids};
        lines = read_db_query(c,
                              "select " LINE_COLUMNS " from order_lines l"
                              " where order_id = any($1::text[]) order by order_id, line",
                              1, lp);
        free(ids);
        if (!lines) {
            PQclear(r);
            json_decref(list);
            return 503;
        }
    }
    for (int i = 0; list && i < shown; i++) {
        json_t *o = order_row(cfg, r, i);
        if (o)
            json_object_set_new(o, "lines", lines_of(lines, 0, PQgetvalue(r, i, 0)));
        json_array_append_new(list, o);
    }
    PQclear(lines);
    json_t *next = json_null();
    if (rows > limit) {
        char buf[128];
        snprintf(buf, sizeof buf, "%s:%s", PQgetvalue(r, shown - 1, 14), PQgetvalue(r, shown - 1, 0));
        next = json_string(buf);
    }
    PQclear(r);
    return http_reply_json(c, 200, list ? json_pack("{s:o, s:o}", "orders", list, "next_cursor", next)
                                        : NULL);
}

/* One order of its buyer in one statement (one snapshot): the order's columns,
 * its status history as a JSON array of [status, at_ms, detail] (column
 * ORDER_NCOLUMNS), then one row per line with LINE_COLUMNS (NULL when it has
 * none). Polled for every order until it is visible. */
static const struct pg_statement order_of_buyer = {
    "order_of_buyer",
    "select " ORDER_COLUMNS ", h.history, " LINE_COLUMNS " from orders o"
    " cross join lateral (select coalesce(json_agg(json_build_array(s.status, s.at_ms, s.detail)"
    " order by s.at_ms, s.event_id), '[]')::text as history"
    " from order_status_history s where s.order_id = o.order_id) h"
    " left join order_lines l on l.order_id = o.order_id"
    " where o.order_id = $1 and o.buyer_id = $2 order by l.line",
    2};

/* [[status, at_ms, detail], ...] as the API's history entries. */
static json_t *history_of(const char *text)
{
    json_t *rows = json_loads(text, 0, NULL), *history = json_array();
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row) {
        if (!history)
            break;
        char at[P2P_TIME_BUF];
        p2p_time_format(json_integer_value(json_array_get(row, 1)), false, at);
        json_t *detail = json_array_get(row, 2);
        json_array_append_new(history, json_pack("{s:O, s:s, s:o}", "status",
                                                 json_array_get(row, 0), "at", at, "detail",
                                                 detail ? json_incref(detail) : json_object()));
    }
    json_decref(rows);
    return history;
}

static int get_order(struct mg_connection *c, const struct p2p_config *cfg, const char *user,
                     const char *id)
{
    const char *params[2] = {id, user};
    PGresult *r = read_db_prepared(c, &order_of_buyer, params);
    if (!r)
        return 503;
    if (PQntuples(r) < 1) {
        PQclear(r);
        return http_reply_error(c, 404, "not_found", "order_id", "you have no order %s", id);
    }
    json_t *o = order_row(cfg, r, 0);
    if (o) {
        json_object_set_new(o, "lines", lines_of(r, ORDER_NCOLUMNS + 1, NULL));
        json_object_set_new(o, "history", history_of(PQgetvalue(r, 0, ORDER_NCOLUMNS)));
    }
    PQclear(r);
    return http_reply_json(c, 200, o);
}

int orders_api_read(struct mg_connection *c, void *cbdata)
{
    const struct p2p_config *cfg = cbdata;
    const struct mg_request_info *ri = mg_get_request_info(c);
    const char *rest = ri->local_uri + strlen("/api/orders");
    if (*rest != '\0' && *rest != '/')
        return http_reply_error(c, 404, "not_found", NULL, "no such endpoint");
    if (strcmp(ri->request_method, "GET") != 0)
        return http_reply_error(c, 405, "method_not_allowed", NULL, "use GET");
    char user[USER_ID_BUF];
    int status = auth_require_user(c, cfg, user);
    if (status)
        return status;
    if (*rest == '\0' || strcmp(rest, "/") == 0)
        return list_orders(c, cfg, user);
    rest++;
    if (!p2p_id_valid(rest, 64))
        return http_reply_error(c, 404, "not_found", "order_id", "no such order");
    return get_order(c, cfg, user, rest);
}

/* GET /api/commands/{id}: the engine's answer from command_results (filled by
 * the projector), to the issuer only: a user (X-Dev-User) or the operator
 * (Authorization: Bearer). */
int commands_api(struct mg_connection *c, void *cbdata)
{
    const struct p2p_config *cfg = cbdata;
    const struct mg_request_info *ri = mg_get_request_info(c);
    if (strcmp(ri->request_method, "GET") != 0)
        return http_reply_error(c, 405, "method_not_allowed", NULL, "use GET");
    const char *id = ri->local_uri + strlen("/api/commands");
    if (*id != '/' || !p2p_id_valid(id + 1, 64))
        return http_reply_error(c, 404, "not_found", "command_id", "no such command");
    id++;
    char issuer[USER_ID_BUF];
    int status = mg_get_header(c, "Authorization") ? auth_require_operator(c)
                                                    : auth_require_user(c, cfg, issuer);
    if (status)
        return status;
    if (mg_get_header(c, "Authorization"))
        snprintf(issuer, sizeof issuer, "%s", OPERATOR_ISSUER);
    int mine = idempotency_issued_by(id, issuer);
    if (mine < 0)
        return http_reply_error(c, 503, "unavailable", NULL,
                                "PostgreSQL is unavailable, retry later");
    if (!mine)
        return http_reply_error(c, 404, "not_found", "command_id", "you issued no command %s", id);
    static const struct pg_statement result_of_command = {
        "result_of_command",
        "select outcome, event_type, subject_id, result::text, at_ms"
        " from command_results where command_id = $1",
        1};
    const char *params[1] = {id};
    PGresult *r = read_db_prepared(c, &result_of_command, params);
    if (!r)
        return 503;
    json_t *doc;
    if (PQntuples(r) == 0) {
        doc = json_pack("{s:s, s:s}", "command_id", id, "status", "PENDING");
    } else {
        bool accepted = strcmp(PQgetvalue(r, 0, 0), "accepted") == 0;
        json_t *result = json_loads(PQgetvalue(r, 0, 3), 0, NULL);
        const char *type = PQgetvalue(r, 0, 1);
        doc = json_pack("{s:s, s:s, s:s, s:o, s:o, s:o}", "command_id", id, "status",
                        accepted ? "ACCEPTED" : "REJECTED", "event_type", type, "subject_id",
                        PQgetisnull(r, 0, 2) ? json_null() : json_string(PQgetvalue(r, 0, 2)),
                        "decided_at", read_db_time(r, 0, 4, false), "result",
                        result ? result : json_null());
        if (doc && !accepted && result)
            json_object_set(doc, "error", json_object_get(result, "reason"));
    }
    PQclear(r);
    return http_reply_json(c, 200, doc);
}
