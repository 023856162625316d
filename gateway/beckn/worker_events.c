/* worker_events.c - engine events -> Beckn callbacks and state (worker_events.h). */
#include "gateway/beckn/worker_events.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/p2p_id.h"
#include "common/p2p_log.h"
#include "common/p2p_time.h"
#include "gateway/beckn/beckn_order.h"
#include "gateway/beckn/callbacks.h"
#include "gateway/beckn/order_state.h"
#include "gateway/beckn/outbox.h"

/* The Beckn request behind a command (a beckn_commands row). */
struct request {
    char command_id[128];
    char action[40];
    char order_id[BECKN_ORDER_ID_BUF];
    char buyer_id[BECKN_BUYER_ID_BUF];
    struct beckn_reply_to to;
    json_t *order; /* request's message.order (owned) */
};

struct ctx {
    PGconn *db;
    const struct beckn_node *node;
    const char *currency;
    char *err;
    size_t errlen;
};

/* 1 found, 0 not ours, -1 error. */
static int find_request(struct ctx *x, const char *cid, struct request *rq)
{
    const char *p[1] = {cid};
    PGresult *r = PQexecParams(x->db,
                               "select action, transaction_id, message_id, bap_id, bap_uri, domain,"
                               " order_id, buyer_id, request_order from beckn_commands"
                               " where command_id = $1",
                               1, NULL, p, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        snprintf(x->err, x->errlen, "%s", PQerrorMessage(x->db));
        PQclear(r);
        return -1;
    }
    int found = PQntuples(r) == 1;
    if (found) {
        snprintf(rq->command_id, sizeof rq->command_id, "%s", cid);
        snprintf(rq->action, sizeof rq->action, "%s", PQgetvalue(r, 0, 0));
        snprintf(rq->to.transaction_id, sizeof rq->to.transaction_id, "%s", PQgetvalue(r, 0, 1));
        snprintf(rq->to.message_id, sizeof rq->to.message_id, "%s", PQgetvalue(r, 0, 2));
        snprintf(rq->to.bap_id, sizeof rq->to.bap_id, "%s", PQgetvalue(r, 0, 3));
        snprintf(rq->to.bap_uri, sizeof rq->to.bap_uri, "%s", PQgetvalue(r, 0, 4));
        snprintf(rq->to.domain, sizeof rq->to.domain, "%s", PQgetvalue(r, 0, 5));
        snprintf(rq->order_id, sizeof rq->order_id, "%s", PQgetvalue(r, 0, 6));
        snprintf(rq->buyer_id, sizeof rq->buyer_id, "%s", PQgetvalue(r, 0, 7));
        rq->order = json_loads(PQgetvalue(r, 0, 8), JSON_DECODE_ANY, NULL);
    }
    PQclear(r);
    return found;
}

/* Queues on_<action> for the request; steals message and error. */
static int send_callback(struct ctx *x, const struct request *rq, json_t *message, json_t *error)
{
    char on_action[48], url[600], key[200];
    snprintf(on_action, sizeof on_action, "on_%s", rq->action);
    char *body = beckn_callback_body(x->node, &rq->to, on_action, p2p_now_ms(), message, error);
    if (!body) {
        /* Retrying the record would not help and would stall the worker. */
        p2p_log(P2P_ERROR, "beckn_callback_unbuildable", "%s for command %s could not be built",
                on_action, rq->command_id);
        return 0;
    }
    if (beckn_callback_url(rq->to.bap_uri, on_action, url, sizeof url)) {
        p2p_log(P2P_WARN, "beckn_callback_unroutable", "bap_uri of %s is too long", rq->command_id);
        free(body);
        return 0;
    }
    snprintf(key, sizeof key, "%s/%s", rq->command_id, on_action);
    struct beckn_outbox_item item = {key, url, on_action, rq->to.transaction_id, rq->to.message_id,
                                     body};
    int rc = beckn_outbox_enqueue(x->db, &item, p2p_now_ms(), x->err, x->errlen);
    free(body);
    return rc < 0 ? -1 : 0;
}

static json_t *order_copy(const struct request *rq)
{
    return json_is_object(rq->order) ? json_deep_copy(rq->order) : json_object();
}

static int on_select(struct ctx *x, const struct request *rq, const json_t *ev)
{
    json_t *order = order_copy(rq);
    if (beckn_price_order(order, ev, x->currency)) {
        json_decref(order);
        return send_callback(x, rq, json_pack("{s:O}", "order", rq->order),
                             beckn_error_json("40000", "the quote does not match the request", ""));
    }
    return send_callback(x, rq, json_pack("{s:o}", "order", order), NULL);
}

static int on_init(struct ctx *x, const struct request *rq, const json_t *ev)
{
    json_t *order = order_copy(rq);
    if (beckn_price_order(order, ev, x->currency)) {
        json_decref(order);
        return send_callback(x, rq, json_pack("{s:O}", "order", rq->order),
                             beckn_error_json("40000", "the reservation does not match the request", ""));
    }
    int64_t total = json_integer_value(json_object_get(ev, "total"));
    json_object_set_new(order, "beckn:orderStatus", json_string("CREATED"));
    json_object_set_new(order, "beckn:payment",
                        beckn_payment_json(x->node, json_object_get(order, "beckn:payment"),
                                           "AUTHORIZED", total, x->currency));
    char expires[P2P_TIME_BUF];
    p2p_time_format(json_integer_value(json_object_get(ev, "expires_at_ms")), false, expires);
    json_t *attrs = json_object_get(order, "beckn:orderAttributes");
    if (json_is_object(attrs))
        json_object_set_new(attrs, "reservationExpiresAt", json_string(expires));
    struct beckn_order_owner owner = {rq->order_id, rq->buyer_id, &rq->to};
    if (beckn_state_create(x->db, &owner, ev, order, p2p_now_ms(), x->err, x->errlen)) {
        json_decref(order);
        return -1;
    }
    return send_callback(x, rq, json_pack("{s:o}", "order", order), NULL);
}

static int on_confirm(struct ctx *x, const struct request *rq, const json_t *ev)
{
    bool failed;
    json_t *order = beckn_state_order(x->db, rq->order_id, &failed, x->err, x->errlen);
    if (failed)
        return -1;
    if (!order)
        order = order_copy(rq);
    beckn_price_order(order, ev, x->currency);
    json_object_set_new(order, "beckn:id", json_string(rq->order_id));
    json_object_set_new(order, "beckn:orderStatus", json_string("CONFIRMED"));
    if (beckn_state_save(x->db, rq->order_id, order, "CONFIRMED", NULL, p2p_now_ms(), x->err,
                         x->errlen)) {
        json_decref(order);
        return -1;
    }
    return send_callback(x, rq, json_pack("{s:o}", "order", order), NULL);
}

static int cancelled(struct ctx *x, const struct request *rq, const json_t *ev, const char *status)
{
    const char *order_id = json_string_value(json_object_get(ev, "order_id"));
    int64_t refund = json_integer_value(json_object_get(ev, "refund"));
    bool failed;
    json_t *order =
        order_id ? beckn_state_order(x->db, order_id, &failed, x->err, x->errlen) : NULL;
    if (order_id && failed)
        return -1;
    if (!order)
        return 0; /* not an order made through Beckn */
    const char *payment_status = refund > 0 ? "REFUNDED" : "CANCELLED";
    json_object_set_new(order, "beckn:id", json_string(order_id));
    json_object_set_new(order, "beckn:orderStatus", json_string("CANCELLED"));
    json_t *payment = json_object_get(order, "beckn:payment");
    if (json_is_object(payment)) {
        json_object_set_new(payment, "beckn:paymentStatus", json_string(payment_status));
        json_object_set_new(payment, "beckn:amount",
                            json_pack("{s:s, s:o}", "currency", x->currency, "value",
                                      beckn_money_json(refund, x->currency)));
    }
    if (beckn_state_save(x->db, order_id, order, status, payment_status, p2p_now_ms(), x->err,
                         x->errlen) ||
        beckn_state_refund(x->db, order_id, refund, x->err, x->errlen)) {
        json_decref(order);
        return -1;
    }
    if (rq && strcmp(rq->action, "cancel") == 0)
        return send_callback(x, rq, json_pack("{s:o}", "order", order), NULL);
    json_decref(order);
    return 0;
}

static int on_paid(struct ctx *x, const struct request *rq, const json_t *ev)
{
    bool failed;
    json_t *order = beckn_state_order(x->db, rq->order_id, &failed, x->err, x->errlen);
    if (failed)
        return -1;
    if (!order)
        return 0;
    int64_t outstanding = json_integer_value(json_object_get(ev, "outstanding"));
    const char *status = outstanding <= 0 ? "COMPLETED" : "AUTHORIZED"; /* Beckn paymentStatus */
    json_t *payment = json_object_get(order, "beckn:payment");
    if (json_is_object(payment)) {
        json_object_set_new(payment, "beckn:paymentStatus", json_string(status));
        json_object_set_new(payment, "beckn:amount",
                            json_pack("{s:s, s:o}", "currency", x->currency, "value",
                                      beckn_money_json(json_integer_value(
                                          json_object_get(ev, "paid_total")), x->currency)));
    }
    json_object_set_new(order, "beckn:id", json_string(rq->order_id));
    if (beckn_state_save(x->db, rq->order_id, order, NULL, status, p2p_now_ms(), x->err,
                         x->errlen)) {
        json_decref(order);
        return -1;
    }
    return send_callback(x, rq, json_pack("{s:o}", "order", order), NULL);
}

/* An init, confirm or payment update sent again for a transaction that
 * already got that far (the BAP retried with a new message_id): answer with
 * the order as it stands instead of an error. A payment resent is refused by
 * the engine as duplicate_payment (same reference, same amount, nothing moved):
 * the BAP gets the on_update it missed, with what is paid so far. 1 answered,
 * 0 not such a retry, -1 error. */
static int answer_retry(struct ctx *x, const struct request *rq, const char *code)
{
    bool init = strcmp(rq->action, "init") == 0 && strcmp(code, "duplicate_id") == 0;
    bool confirm = strcmp(rq->action, "confirm") == 0 && strcmp(code, "not_reserved") == 0;
    bool paid = strcmp(rq->action, "update") == 0 && strcmp(code, "duplicate_payment") == 0;
    if (!init && !confirm && !paid)
        return 0;
    char status[32];
    if (!paid &&
        beckn_state_status(x->db, rq->order_id, status, sizeof status, x->err, x->errlen))
        return -1;
    if (!paid && !(init && strcmp(status, "RESERVED") == 0) &&
        !(confirm && strcmp(status, "CONFIRMED") == 0))
        return 0;
    bool failed;
    json_t *order = beckn_state_order(x->db, rq->order_id, &failed, x->err, x->errlen);
    if (failed)
        return -1;
    if (!order)
        return 0;
    return send_callback(x, rq, json_pack("{s:o}", "order", order), NULL) ? -1 : 1;
}

static int rejected(struct ctx *x, const struct request *rq, const json_t *ev)
{
    const json_t *reason = json_object_get(ev, "reason");
    const char *code = json_string_value(json_object_get(reason, "code"));
    int retry = code ? answer_retry(x, rq, code) : 0;
    if (retry)
        return retry < 0 ? -1 : 0;
    const char *message = json_string_value(json_object_get(reason, "message"));
    const char *field = json_string_value(json_object_get(reason, "field"));
    char text[300];
    snprintf(text, sizeof text, "%s: %s", code ? code : "rejected", message ? message : "refused");
    /* an offer we do not have is "offer not found", not "order not found" */
    const char *beckn_code = code && field && strcmp(code, "not_found") == 0 &&
                                     strcmp(field, "lines") == 0
                                 ? "30006"
                                 : beckn_error_code_for(code ? code : "");
    return send_callback(x, rq, json_pack("{s:O}", "order", rq->order ? rq->order : json_null()),
                         beckn_error_json(beckn_code, text, field ? field : ""));
}

static int line_update(struct ctx *x, const json_t *ev, const char *status)
{
    const char *fill = json_string_value(json_object_get(ev, "fill_id"));
    return fill ? beckn_state_line(x->db, fill, status,
                                   json_integer_value(json_object_get(ev, "delivered_wh")),
                                   json_integer_value(json_object_get(ev, "curtailed_wh")),
                                   p2p_now_ms(), x->err, x->errlen)
                : 0;
}

/* Unsolicited on_update with the order's delivery state (DEG §3.4 step 7/8:
 * the BAP learns of deliveries and curtailment without polling). It answers
 * no request, so it carries a new message_id (spec text on messageId);
 * dedupe_key makes it once per engine event. */
static int push_progress(struct ctx *x, const char *order_id, const char *dedupe_key)
{
    struct request rq;
    memset(&rq, 0, sizeof rq);
    bool found;
    if (beckn_state_owner(x->db, order_id, &rq.to, &found, x->err, x->errlen))
        return -1;
    if (!found)
        return 0; /* not a Beckn order */
    snprintf(rq.command_id, sizeof rq.command_id, "%s", dedupe_key);
    snprintf(rq.action, sizeof rq.action, "update");
    snprintf(rq.order_id, sizeof rq.order_id, "%s", order_id);
    char uuid[P2P_UUID_BUF];
    p2p_uuid(uuid);
    snprintf(rq.to.message_id, sizeof rq.to.message_id, "msg-on-update-%s", uuid);
    json_t *order = beckn_status_order(x->db, order_id, rq.to.bap_id, x->currency, x->err,
                                       x->errlen);
    if (!order && strncmp(x->err, "stored order", 12) == 0) {
        p2p_log(P2P_ERROR, "beckn_progress_unbuildable", "%s", x->err);
        return 0; /* retrying would not help */
    }
    if (!order)
        return -1;
    return send_callback(x, &rq, json_pack("{s:o}", "order", order), NULL);
}

static int delivered(struct ctx *x, const json_t *ev, const char *event_id)
{
    const char *order_id = json_string_value(json_object_get(ev, "order_id"));
    char key[200];
    snprintf(key, sizeof key, "delivery/%s", event_id);
    return line_update(x, ev, "COMPLETED") || (order_id && push_progress(x, order_id, key)) ? -1
                                                                                            : 0;
}

static int settled(struct ctx *x, const json_t *ev)
{
    const char *order_id = json_string_value(json_object_get(ev, "order_id"));
    return order_id ? beckn_state_settled(x->db, order_id, x->err, x->errlen) : 0;
}

static int expired(struct ctx *x, const json_t *ev)
{
    const char *order_id = json_string_value(json_object_get(ev, "order_id"));
    return order_id ? beckn_state_expired(x->db, order_id, x->err, x->errlen) : 0;
}

int beckn_worker_handle(PGconn *db, const struct beckn_node *node, const char *currency,
                        const char *type, const json_t *ev, const char *cid, char *err,
                        size_t errlen)
{
    struct ctx x = {db, node, currency, err, errlen};
    const char *event_id = json_string_value(json_object_get(ev, "event_id"));
    if (strcmp(type, "delivery.settled.v1") == 0)
        return delivered(&x, ev, event_id ? event_id : "");
    if (strcmp(type, "fill.cancelled.v1") == 0)
        return line_update(&x, ev, "FAILED");
    if (strcmp(type, "order.settled.v1") == 0) {
        const char *order_id = json_string_value(json_object_get(ev, "order_id"));
        char key[200];
        snprintf(key, sizeof key, "settled/%s", event_id ? event_id : "");
        return settled(&x, ev) || (order_id && push_progress(&x, order_id, key)) ? -1 : 0;
    }
    if (strcmp(type, "order.expired.v1") == 0)
        return expired(&x, ev);
    struct request rq;
    memset(&rq, 0, sizeof rq);
    int found = cid && *cid ? find_request(&x, cid, &rq) : 0;
    if (found < 0)
        return -1;
    int rc = 0;
    if (strcmp(type, "order.cancelled.v1") == 0)
        rc = cancelled(&x, found ? &rq : NULL, ev, "CANCELLED");
    else if (!found)
        rc = 0;
    else if (strcmp(type, "order.quoted.v1") == 0 && strcmp(rq.action, "select") == 0)
        rc = on_select(&x, &rq, ev);
    else if (strcmp(type, "order.reserved.v1") == 0 && strcmp(rq.action, "init") == 0)
        rc = on_init(&x, &rq, ev);
    else if (strcmp(type, "order.confirmed.v1") == 0 && strcmp(rq.action, "confirm") == 0)
        rc = on_confirm(&x, &rq, ev);
    else if (strcmp(type, "order.paid.v1") == 0 && strcmp(rq.action, "update") == 0)
        rc = on_paid(&x, &rq, ev);
    else if (strcmp(type, "order.rejected.v1") == 0 || strcmp(type, "command.rejected.v1") == 0)
        rc = rejected(&x, &rq, ev);
    json_decref(rq.order);
    return rc;
}
