/* order_state.c - per-order Beckn state in PostgreSQL (order_state.h). */
#include "gateway/beckn/order_state.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DUMP_FLAGS (JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15))

static int run(PGconn *db, const char *q, int n, const char *const *p, char *err, size_t errlen)
{
    PGresult *r = PQexecParams(db, q, n, NULL, p, NULL, NULL, 0);
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
    if (!ok)
        snprintf(err, errlen, "%s", PQerrorMessage(db));
    PQclear(r);
    return ok ? 0 : -1;
}

static void num(char out[24], int64_t v)
{
    snprintf(out, 24, "%lld", (long long)v);
}

static int64_t field(const json_t *o, const char *key)
{
    return (int64_t)json_integer_value(json_object_get(o, key));
}

static int create_lines(PGconn *db, const char *order_id, const json_t *reserved,
                        const char *now, char *err, size_t errlen)
{
    size_t i;
    const json_t *line;
    json_array_foreach(json_object_get(reserved, "lines"), i, line) {
        char no[24], qty[24], price[24], start[24], end[24];
        num(no, field(line, "line"));
        num(qty, field(line, "quantity_wh"));
        num(price, field(line, "price_per_kwh"));
        num(start, field(line, "delivery_start_ms"));
        num(end, field(line, "delivery_end_ms"));
        const char *q[9] = {order_id, no, json_string_value(json_object_get(line, "fill_id")),
                            json_string_value(json_object_get(line, "offer_id")), qty, price, start,
                            end, now};
        if (run(db,
                "insert into beckn_order_lines (order_id, line, fill_id, offer_id, quantity_wh,"
                " price_per_kwh, delivery_start_ms, delivery_end_ms, status, updated_at_ms)"
                " values ($1, $2::int, $3, $4, $5::bigint, $6::bigint, $7::bigint, $8::bigint,"
                " 'PENDING', $9::bigint) on conflict do nothing",
                9, q, err, errlen))
            return -1;
    }
    return 0;
}

int beckn_state_create(PGconn *db, const struct beckn_order_owner *o, const json_t *reserved,
                       const json_t *order, int64_t now_ms, char *err, size_t errlen)
{
    char *text = json_dumps(order, DUMP_FLAGS);
    if (!text) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    char amount[24], fee[24], total[24], now[24];
    num(amount, field(reserved, "amount"));
    num(fee, field(reserved, "fee"));
    num(total, field(reserved, "total"));
    num(now, now_ms);
    const char *p[11] = {o->order_id, o->to->bap_id, o->to->bap_uri, o->to->transaction_id,
                         o->to->domain, o->buyer_id, amount, fee, total, text, now};
    int rc = run(db,
                 "insert into beckn_orders (order_id, bap_id, bap_uri, transaction_id, domain,"
                 " buyer_id, status, payment_status, amount, fee, total, beckn_order,"
                 " updated_at_ms) values ($1, $2, $3, $4, $5, $6, 'RESERVED', 'AUTHORIZED',"
                 " $7::bigint, $8::bigint, $9::bigint, $10, $11::bigint)"
                 " on conflict (order_id) do nothing",
                 11, p, err, errlen);
    free(text);
    return rc ? -1 : create_lines(db, o->order_id, reserved, now, err, errlen);
}

json_t *beckn_state_order(PGconn *db, const char *order_id, bool *failed, char *err,
                          size_t errlen)
{
    const char *p[1] = {order_id};
    PGresult *r = PQexecParams(db, "select beckn_order from beckn_orders where order_id = $1", 1,
                               NULL, p, NULL, NULL, 0);
    *failed = PQresultStatus(r) != PGRES_TUPLES_OK;
    if (*failed)
        snprintf(err, errlen, "%s", PQerrorMessage(db));
    json_t *o = !*failed && PQntuples(r) == 1 ? json_loads(PQgetvalue(r, 0, 0), 0, NULL) : NULL;
    PQclear(r);
    return o;
}

int beckn_state_save(PGconn *db, const char *order_id, const json_t *order, const char *status,
                     const char *payment_status, int64_t now_ms, char *err, size_t errlen)
{
    char *text = json_dumps(order, DUMP_FLAGS);
    if (!text) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    char now[24];
    num(now, now_ms);
    const char *p[5] = {order_id, text, status, payment_status, now};
    int rc = run(db,
                 "update beckn_orders set beckn_order = $2, status = coalesce($3, status),"
                 " payment_status = coalesce($4, payment_status), updated_at_ms = $5::bigint"
                 " where order_id = $1",
                 5, p, err, errlen);
    free(text);
    return rc;
}

int beckn_state_status(PGconn *db, const char *order_id, char *out, size_t cap, char *err,
                       size_t errlen)
{
    const char *p[1] = {order_id};
    PGresult *r = PQexecParams(db, "select status from beckn_orders where order_id = $1", 1, NULL,
                               p, NULL, NULL, 0);
    int ok = PQresultStatus(r) == PGRES_TUPLES_OK;
    if (!ok)
        snprintf(err, errlen, "%s", PQerrorMessage(db));
    snprintf(out, cap, "%s", ok && PQntuples(r) == 1 ? PQgetvalue(r, 0, 0) : "");
    PQclear(r);
    return ok ? 0 : -1;
}

int beckn_state_owner(PGconn *db, const char *order_id, struct beckn_reply_to *to, bool *found,
                      char *err, size_t errlen)
{
    const char *p[1] = {order_id};
    PGresult *r = PQexecParams(db,
                               "select transaction_id, bap_id, bap_uri, domain from beckn_orders"
                               " where order_id = $1",
                               1, NULL, p, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        snprintf(err, errlen, "%s", PQerrorMessage(db));
        PQclear(r);
        return -1;
    }
    *found = PQntuples(r) == 1;
    if (*found) {
        snprintf(to->transaction_id, sizeof to->transaction_id, "%s", PQgetvalue(r, 0, 0));
        snprintf(to->bap_id, sizeof to->bap_id, "%s", PQgetvalue(r, 0, 1));
        snprintf(to->bap_uri, sizeof to->bap_uri, "%s", PQgetvalue(r, 0, 2));
        snprintf(to->domain, sizeof to->domain, "%s", PQgetvalue(r, 0, 3));
    }
    PQclear(r);
    return 0;
}

int beckn_state_refund(PGconn *db, const char *order_id, int64_t refund, char *err, size_t errlen)
{
    char amount[24];
    num(amount, refund);
    const char *p[2] = {order_id, amount};
    return run(db, "update beckn_orders set refund = $2::bigint where order_id = $1", 2, p, err,
               errlen) ||
                   run(db,
                       "update beckn_order_lines set status = 'FAILED' where order_id = $1"
                       " and status = 'PENDING'",
                       1, p, err, errlen)
               ? -1
               : 0;
}

int beckn_state_line(PGconn *db, const char *fill_id, const char *status, int64_t delivered_wh,
                     int64_t curtailed_wh, int64_t now_ms, char *err, size_t errlen)
{
    char delivered[24], curtailed[24], now[24];
    num(delivered, delivered_wh);
    num(curtailed, curtailed_wh);
    num(now, now_ms);
    const char *p[5] = {fill_id, status, delivered, curtailed, now};
    return run(db,
               "update beckn_order_lines set status = $2, delivered_wh = $3::bigint,"
               " curtailed_wh = $4::bigint, updated_at_ms = $5::bigint where fill_id = $1",
               5, p, err, errlen);
}

int beckn_state_settled(PGconn *db, const char *order_id, char *err, size_t errlen)
{
    const char *p[1] = {order_id};
    return run(db,
               "update beckn_orders set status = case when exists (select 1 from"
               " beckn_order_lines l where l.order_id = $1 and (l.status <> 'COMPLETED'"
               " or l.delivered_wh < l.quantity_wh)) then 'PARTIALLYFULFILLED' else"
               " 'COMPLETED' end where order_id = $1",
               1, p, err, errlen);
}

int beckn_state_expired(PGconn *db, const char *order_id, char *err, size_t errlen)
{
    const char *p[1] = {order_id};
    return run(db,
               "update beckn_orders set status = 'EXPIRED', payment_status = 'CANCELLED'"
               " where order_id = $1 and status = 'RESERVED'",
               1, p, err, errlen);
}
