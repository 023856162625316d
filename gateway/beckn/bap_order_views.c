/* bap_order_views.c - the network orders as our buyers read them
 * (GET /api/network/orders[/{id}], and the answer of every action): state,
 * amounts, lines, the requests sent and the last callback, only the
 * owner's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/p2p_log.h"
#include "common/p2p_time.h"
#include "gateway/beckn/bap.h"
#include "gateway/beckn/bap_api.h"
#include "gateway/beckn/bap_order.h"
#include "gateway/http.h"
#include "gateway/idempotency.h"
#include "gateway/pg_pool.h"

static json_t *json_or_null(PGresult *r, int row, int col)
{
    if (PQgetisnull(r, row, col))
        return json_null();
    json_t *doc = json_loads(PQgetvalue(r, row, col), 0, NULL);
    return doc ? doc : json_null();
}

static json_t *text_or_null(PGresult *r, int row, int col)
{
    return PQgetisnull(r, row, col) ? json_null() : json_string(PQgetvalue(r, row, col));
}

static json_t *time_or_null(PGresult *r, int row, int col)
{
    if (PQgetisnull(r, row, col))
        return json_null();
    char buf[P2P_TIME_BUF];
    p2p_time_format(strtoll(PQgetvalue(r, row, col), NULL, 10), true, buf);
    return json_string(buf);
}

static json_int_t int_at(PGresult *r, int row, int col)
{
    return (json_int_t)strtoll(PQgetvalue(r, row, col), NULL, 10);
}

static json_t *lines_view(PGconn *db, const char *order_id)
{
    const char *params[] = {order_id};
    PGresult *r = beckn_bap_exec(db, "bap lines view",
                                 "select line, item_id, offer_id, quantity_wh, price_per_kwh "
                                 "from network_order_lines where order_id = $1 order by line",
                                 1, params);
    if (!r)
        return NULL;
    json_t *lines = json_array();
    for (int i = 0; lines && i < PQntuples(r); i++)
        json_array_append_new(
            lines, json_pack("{s:I, s:s, s:s, s:I, s:I, s:I}", "line", int_at(r, i, 0), "item_id",
                             PQgetvalue(r, i, 1), "offer_id", PQgetvalue(r, i, 2), "quantity_wh",
                             int_at(r, i, 3), "price_per_kwh", int_at(r, i, 4), "amount",
                             (json_int_t)bap_line_amount(int_at(r, i, 3), int_at(r, i, 4))));
    PQclear(r);
    return lines;
}

static json_t *requests_view(PGconn *db, const char *order_id)
{
    const char *params[] = {order_id};
    PGresult *r = beckn_bap_exec(db, "bap requests view",
                                 "select action, message_id, ack, error, sent_at_ms, "
                                 "answered_at_ms, callback_message_id from network_order_requests "
                                 "where order_id = $1 order by sent_at_ms, message_id", 1, params);
    if (!r)
        return NULL;
    json_t *list = json_array();
    for (int i = 0; list && i < PQntuples(r); i++)
        json_array_append_new(
            list, json_pack("{s:s, s:s, s:s, s:o, s:o, s:o, s:o}", "action", PQgetvalue(r, i, 0),
                            "message_id", PQgetvalue(r, i, 1), "ack", PQgetvalue(r, i, 2),
                            "error", text_or_null(r, i, 3), "sent_at", time_or_null(r, i, 4),
                            "answered_at", time_or_null(r, i, 5), "callback_message_id",
                            text_or_null(r, i, 6)));
    PQclear(r);
    return list;
}

static const char *const order_columns =
    "select order_id, state, transaction_id, bpp_id, bpp_uri, seller, currency, remote_order_id, "
    "remote_status, payment_status, total_quantity_wh, amount_due, last_action, "
    "last_callback_at_ms, last_error, beckn_order, created_at_ms, updated_at_ms, refund "
    "from network_orders ";

static json_t *order_row(PGresult *r, int i)
{
    return json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:I, s:I, s:o, s:o, s:o, s:o, s:o, "
        "s:o, s:I}",
        "order_id", PQgetvalue(r, i, 0), "state", PQgetvalue(r, i, 1), "transaction_id",
        PQgetvalue(r, i, 2), "bpp_id", PQgetvalue(r, i, 3), "bpp_uri", PQgetvalue(r, i, 4),
        "seller", PQgetvalue(r, i, 5), "currency", PQgetvalue(r, i, 6), "remote_order_id",
        text_or_null(r, i, 7), "remote_status", text_or_null(r, i, 8), "payment_status",
        text_or_null(r, i, 9), "total_quantity_wh", int_at(r, i, 10), "amount_due",
        int_at(r, i, 11), "last_action", text_or_null(r, i, 12), "last_callback_at",
        time_or_null(r, i, 13), "last_error", json_or_null(r, i, 14), "beckn_order",
        json_or_null(r, i, 15), "created_at", time_or_null(r, i, 16), "updated_at",
        time_or_null(r, i, 17), "refund", int_at(r, i, 18));
}

/* The owner's order as JSON; NULL with *found 0 when absent or not theirs. */
static json_t *order_view(PGconn *db, const char *order_id, const char *user, int *found)
{
    char sql[1024];
    snprintf(sql, sizeof sql, "%s where order_id = $1 and user_id = $2", order_columns);
    const char *params[] = {order_id, user};
    PGresult *r = beckn_bap_exec(db, "bap order view", sql, 2, params);
    *found = r && PQntuples(r) == 1;
    json_t *view = *found ? order_row(r, 0) : NULL;
    PQclear(r);
    if (!view)
        return NULL;
    json_t *lines = lines_view(db, order_id), *requests = requests_view(db, order_id);
    if (!lines || !requests || json_object_set_new(view, "lines", lines) ||
        json_object_set_new(view, "requests", requests)) {
        json_decref(view);
        return NULL;
    }
    return view;
}

int bap_reply_order(struct mg_connection *c, int status, const char *order_id,
                    const char *user, const char *claim_id)
{
    PGconn *db = pg_pool_get(BECKN_BAP_PG_WAIT_MS);
    int found = 0;
    json_t *view = db ? order_view(db, order_id, user, &found) : NULL;
    if (db)
        pg_pool_put(db);
    if (!view && db && !found)
        return http_reply_error(c, 404, "not_found", "order_id", "no such network order");
    if (!view)
        return http_reply_error(c, 503, "unavailable", NULL, "the order could not be read");
    if (!claim_id)
        return http_reply_json(c, status, view);
    char *text = json_dumps(view, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(view);
    if (!text)
        return http_reply_error(c, 503, "unavailable", NULL, "out of memory, read the order");
    if (idempotency_complete(claim_id, status, text)) /* a retry then gets 202 PENDING */
        p2p_log(P2P_WARN, "idempotency_complete", "answer of %s not stored", claim_id);
    status = http_reply_text(c, status, "application/json", text, strlen(text));
    free(text);
    return status;
}

int bap_list_orders(struct mg_connection *c, const char *user)
{
    char sql[1024];
    snprintf(sql, sizeof sql, "%s where user_id = $1 order by created_at_ms desc limit 100",
             order_columns);
    const char *params[] = {user};
    PGconn *db = pg_pool_get(BECKN_BAP_PG_WAIT_MS);
    PGresult *r = db ? beckn_bap_exec(db, "bap order list", sql, 1, params) : NULL;
    if (db)
        pg_pool_put(db);
    if (!r)
        return http_reply_error(c, 503, "unavailable", NULL, "the orders could not be read");
    json_t *orders = json_array();
    for (int i = 0; orders && i < PQntuples(r); i++)
        json_array_append_new(orders, order_row(r, i));
    PQclear(r);
    return http_reply_json(c, 200, json_pack("{s:o}", "orders", orders));
}
