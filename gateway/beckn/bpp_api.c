/* bpp_api.c - the BPP endpoints (bpp_api.h). */
#include "gateway/beckn/bpp_api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/p2p_id.h"
#include "common/p2p_json.h"
#include "common/p2p_log.h"
#include "common/p2p_time.h"
#include "gateway/beckn/beckn_order.h"
#include "gateway/beckn/callbacks.h"
#include "gateway/beckn/inbound.h"
#include "gateway/beckn/outbox.h"
#include "gateway/beckn/packs.h"
#include "gateway/beckn/replay.h"
#include "gateway/beckn/units.h"
#include "gateway/command_bus.h"
#include "gateway/pg_pool.h"

#define PG_WAIT_MS 2000
#define BECKN_PAYMENT_REF_MAX 64 /* = the engine's id length: order.payment.v1 reference */

static const struct p2p_config *cfg;
static const struct beckn_node *node;

typedef int (*handler_fn)(struct mg_connection *c, struct beckn_inbound *in);

struct endpoint {
    const char *pattern;
    const char *action;
    handler_fn handle;
};

static const json_t *message_order(const struct beckn_inbound *in)
{
    return json_object_get(json_object_get(in->root, "message"), "order");
}

/* A request we ACK-ed the signature of but cannot take now (database or
 * Kafka down): forget its message_id so the BAP may retry it unchanged. */
static int unavailable(struct mg_connection *c, const struct beckn_inbound *in, const char *what)
{
    PGconn *db = pg_pool_get(PG_WAIT_MS);
    if (!db || beckn_replay_forget(db, in->auth.subscriber_id, in->ctx.message_id))
        p2p_log(P2P_WARN, "beckn_replay_forget_failed",
                "message %s of %s stays remembered: a retry with the same id is refused",
                in->ctx.message_id, in->auth.subscriber_id);
    if (db)
        pg_pool_put(db);
    return beckn_reply_nackf(c, node, 503, "50000", "", "%s; nothing was recorded, retry later",
                             what);
}

/* The stored Beckn order `order_id` of this BAP: its engine buyer id. */
static int find_order(const char *order_id, const char *bap_id, char *buyer_id, size_t cap,
                      bool *found)
{
    PGconn *db = pg_pool_get(PG_WAIT_MS);
    if (!db)
        return -1;
    const char *p[2] = {order_id, bap_id};
    PGresult *r = PQexecParams(db,
                               "select buyer_id from beckn_orders where order_id = $1"
                               " and bap_id = $2",
                               2, NULL, p, NULL, NULL, 0);
    int rc = PQresultStatus(r) == PGRES_TUPLES_OK ? 0 : -1;
    *found = rc == 0 && PQntuples(r) == 1;
    if (*found)
        snprintf(buyer_id, cap, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    pg_pool_put(db);
    return rc;
}

struct engine_command {
    const char *action;   /* Beckn action that caused it */
    const char *ce_type;  /* energy.p2p.order.quote.v1, ... */
    const char *order_id;
    const char *buyer_id;
    json_t *value;        /* the command's fields besides the common ones (stolen) */
};

/* Records the correlation row, appends the command, ACKs. */
static int submit(struct mg_connection *c, struct beckn_inbound *in, struct engine_command *cmd)
{
    char command_id[P2P_UUID_BUF], now_text[24], topic[160], err[256];
    p2p_uuid(command_id);
    int64_t now = p2p_now_ms();
    snprintf(now_text, sizeof now_text, "%lld", (long long)now);
    snprintf(topic, sizeof topic, "%sorders", cfg->topic_prefix);
    json_object_set_new(cmd->value, "command_id", json_string(command_id));
    json_object_set_new(cmd->value, "issued_at_ms", json_integer(now));
    json_object_set_new(cmd->value, "market", json_string(cfg->market));
    char *json = beckn_dump(cmd->value);
    const json_t *order = message_order(in);
    char *request_order = order ? json_dumps(order, JSON_COMPACT | JSON_PRESERVE_ORDER)
                                : strdup("null");
    if (!json || !request_order) {
        free(json);
        free(request_order);
        return unavailable(c, in, "out of memory");
    }
    PGconn *db = pg_pool_get(PG_WAIT_MS);
    int rc = -1;
    if (db) {
        const struct beckn_context *x = &in->ctx;
        const char *p[11] = {command_id,   cmd->action,   x->transaction_id, x->message_id,
                             x->bap_id,    x->bap_uri,    x->domain,         cmd->order_id,
                             cmd->buyer_id, request_order, now_text};
        PGresult *r = PQexecParams(
            db,
            "insert into beckn_commands (command_id, action, transaction_id, message_id, bap_id,"
            " bap_uri, domain, order_id, buyer_id, request_order, created_at_ms)"
            " values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::bigint)",
            11, NULL, p, NULL, NULL, 0);
        rc = PQresultStatus(r) == PGRES_COMMAND_OK ? 0 : -1;
        if (rc)
            p2p_log(P2P_WARN, "beckn_command_record_failed", "%s", PQerrorMessage(db));
        PQclear(r);
        pg_pool_put(db);
    }
    free(request_order);
    if (rc) {
        free(json);
        return unavailable(c, in, "PostgreSQL is unavailable");
    }
    rc = command_bus_submit(cfg, topic, cmd->ce_type, command_id, now, json, err, sizeof err);
    free(json);
    if (rc)
        return unavailable(c, in, err);
    return beckn_reply_ack(c);
}

static json_t *lines_json(const struct beckn_order_request *r)
{
    json_t *lines = json_array();
    for (int i = 0; lines && i < r->nlines; i++)
        json_array_append_new(lines, json_pack("{s:s, s:I}", "offer_id", r->lines[i].offer_id,
                                               "quantity_wh", (json_int_t)r->lines[i].quantity_wh));
    return lines;
}

/* select and init: an order naming our offers. */
static int order_request(struct mg_connection *c, struct beckn_inbound *in, const char *action,
                         const char *ce_type)
{
    struct beckn_order_request r;
    struct beckn_nack n;
    if (beckn_order_read(message_order(in), &r, &n))
        return beckn_reply_nack(c, node, &n);
    char order_id[BECKN_ORDER_ID_BUF], buyer_id[BECKN_BUYER_ID_BUF];
    beckn_derive_order_id(in->ctx.bap_id, in->ctx.transaction_id, order_id);
    beckn_derive_buyer_id(in->ctx.bap_id, r.buyer_ref, buyer_id);
    json_t *value = json_pack("{s:s, s:s, s:s, s:o}", "order_id", order_id, "buyer_id", buyer_id,
                              "payer_id", in->ctx.bap_id, "lines", lines_json(&r));
    if (!value)
        return unavailable(c, in, "out of memory");
    struct engine_command cmd = {action, ce_type, order_id, buyer_id, value};
    return submit(c, in, &cmd);
}

static int handle_select(struct mg_connection *c, struct beckn_inbound *in)
{
    return order_request(c, in, "select", "energy.p2p.order.quote.v1");
}

static int handle_init(struct mg_connection *c, struct beckn_inbound *in)
{
    return order_request(c, in, "init", "energy.p2p.order.reserve.v1");
}

/* The order id a confirm/cancel/status/update names: message.order.beckn:id,
 * or (confirm, whose order has no id yet) the one derived from the
 * transaction. */
static int order_id_of(struct mg_connection *c, struct beckn_inbound *in, bool may_derive,
                       char order_id[BECKN_ORDER_ID_BUF])
{
    const json_t *order = message_order(in);
    const json_t *id = json_object_get(order, "beckn:id");
    if (!json_is_object(order))
        return beckn_reply_nackf(c, node, 400, "30000", "message.order",
                                 "message.order is required");
    if (json_is_string(id) && json_string_length(id) < BECKN_ORDER_ID_BUF) {
        snprintf(order_id, BECKN_ORDER_ID_BUF, "%s", json_string_value(id));
        return 0;
    }
    if (id || !may_derive)
        return beckn_reply_nackf(c, node, 400, "30000", "message.order.beckn:id",
                                 "message.order.beckn:id must name the order");
    beckn_derive_order_id(in->ctx.bap_id, in->ctx.transaction_id, order_id);
    return 0;
}

/* confirm and cancel: a command on an order this BAP created. */
static int order_target(struct mg_connection *c, struct beckn_inbound *in, const char *action,
                        const char *ce_type, bool may_derive)
{
    char order_id[BECKN_ORDER_ID_BUF], buyer_id[BECKN_BUYER_ID_BUF];
    int status = order_id_of(c, in, may_derive, order_id);
    if (status)
        return status;
    struct beckn_nack n;
    if (beckn_check_order_packs(message_order(in), &n))
        return beckn_reply_nack(c, node, &n);
    bool found;
    if (find_order(order_id, in->ctx.bap_id, buyer_id, sizeof buyer_id, &found))
        return unavailable(c, in, "PostgreSQL is unavailable");
    if (!found)
        return beckn_reply_nackf(c, node, 404, "30008", "message.order.beckn:id",
                                 "no order %s of %s (init it first)", order_id, in->ctx.bap_id);
    json_t *value = json_pack("{s:s, s:s}", "order_id", order_id, "buyer_id", buyer_id);
    if (!value)
        return unavailable(c, in, "out of memory");
    struct engine_command cmd = {action, ce_type, order_id, buyer_id, value};
    return submit(c, in, &cmd);
}

static int handle_confirm(struct mg_connection *c, struct beckn_inbound *in)
{
    return order_target(c, in, "confirm", "energy.p2p.order.confirm.v1", true);
}

static int handle_cancel(struct mg_connection *c, struct beckn_inbound *in)
{
    return order_target(c, in, "cancel", "energy.p2p.order.cancel.v1", false);
}

static void reply_to_of(const struct beckn_inbound *in, struct beckn_reply_to *to)
{
    snprintf(to->transaction_id, sizeof to->transaction_id, "%s", in->ctx.transaction_id);
    snprintf(to->message_id, sizeof to->message_id, "%s", in->ctx.message_id);
    snprintf(to->bap_id, sizeof to->bap_id, "%s", in->ctx.bap_id);
    snprintf(to->bap_uri, sizeof to->bap_uri, "%s", in->ctx.bap_uri);
    snprintf(to->domain, sizeof to->domain, "%s", in->ctx.domain);
}

/* Queues a callback built here in the gateway (status, support). */
static int queue_callback(struct mg_connection *c, struct beckn_inbound *in, PGconn *db,
                          const char *on_action, json_t *message)
{
    struct beckn_reply_to to;
    reply_to_of(in, &to);
    char *body = beckn_callback_body(node, &to, on_action, p2p_now_ms(), message, NULL);
    char url[600], key[400], err[256];
    if (!body || beckn_callback_url(in->ctx.bap_uri, on_action, url, sizeof url)) {
        free(body);
        return beckn_reply_nackf(c, node, 400, "30000", "context.bap_uri",
                                 "cannot build the callback to bap_uri");
    }
    snprintf(key, sizeof key, "%s/%s/%s", on_action, in->auth.subscriber_id, in->ctx.message_id);
    struct beckn_outbox_item item = {key, url, on_action, in->ctx.transaction_id,
                                     in->ctx.message_id, body};
    int rc = beckn_outbox_enqueue(db, &item, p2p_now_ms(), err, sizeof err);
    free(body);
    if (rc < 0) {
        p2p_log(P2P_WARN, "beckn_outbox_enqueue_failed", "%s", err);
        return -1;
    }
    return beckn_reply_ack(c);
}

static int handle_status(struct mg_connection *c, struct beckn_inbound *in)
{
    char order_id[BECKN_ORDER_ID_BUF], err[256];
    int status = order_id_of(c, in, false, order_id);
    if (status)
        return status;
    PGconn *db = pg_pool_get(PG_WAIT_MS);
    if (!db)
        return unavailable(c, in, "PostgreSQL is unavailable");
    json_t *order =
        beckn_status_order(db, order_id, in->ctx.bap_id, cfg->currency, err, sizeof err);
    if (!order) {
        pg_pool_put(db);
        if (strcmp(err, "not found") == 0)
            return beckn_reply_nackf(c, node, 404, "30008", "message.order.beckn:id",
                                     "no order %s of %s", order_id, in->ctx.bap_id);
        p2p_log(P2P_WARN, "beckn_status_failed", "%s", err);
        return unavailable(c, in, "PostgreSQL could not answer");
    }
    status = queue_callback(c, in, db, "on_status", json_pack("{s:o}", "order", order));
    pg_pool_put(db);
    return status < 0 ? unavailable(c, in, "PostgreSQL could not store the callback") : status;
}

/* update: only a payment by the BAP's platform (the payer of its orders). */
static int handle_update(struct mg_connection *c, struct beckn_inbound *in)
{
    char order_id[BECKN_ORDER_ID_BUF], buyer_id[BECKN_BUYER_ID_BUF];
    int status = order_id_of(c, in, false, order_id);
    if (status)
        return status;
    const json_t *payment = json_object_get(message_order(in), "beckn:payment");
    const char *pay_status = json_string_value(json_object_get(payment, "beckn:paymentStatus"));
    if (!pay_status || (strcmp(pay_status, "PAID") && strcmp(pay_status, "COMPLETED") &&
                        strcmp(pay_status, "CAPTURED") && strcmp(pay_status, "SETTLED")))
        return beckn_reply_nackf(c, node, 400, "50002", "message.order.beckn:payment",
                                 "only a payment update (beckn:paymentStatus PAID or COMPLETED) is "
                                 "accepted");
    /* the engine counts the amount in the market's minor units: a payment
     * in another currency (or in more decimals than it has) is refused */
    const json_t *money = json_object_get(payment, "beckn:amount");
    const char *currency = json_string_value(json_object_get(money, "currency"));
    if (!currency || strcmp(currency, cfg->currency) != 0)
        return beckn_reply_nackf(c, node, 400, "30000",
                                 "message.order.beckn:payment.beckn:amount.currency",
                                 "the payment must be in %s", cfg->currency);
    int64_t amount;
    int decimals = beckn_currency_exponent(cfg->currency);
    if (beckn_units_exact(json_object_get(money, "value"), decimals, &amount))
        return beckn_reply_nackf(c, node, 400, "30000",
                                 "message.order.beckn:payment.beckn:amount.value",
                                 "the amount must be a positive number below 10^12 with at most "
                                 "%d decimals", decimals);
    /* the payment's reference is its identity: the engine applies a
     * reference once per order, so a retried update never pays twice */
    const char *ref_field = "message.order.beckn:payment.beckn:txnRef";
    const json_t *ref = json_object_get(payment, "beckn:txnRef");
    if (!ref || json_is_null(ref)) {
        ref_field = "message.order.beckn:payment.beckn:id";
        ref = json_object_get(payment, "beckn:id");
    }
    if (!ref || json_is_null(ref))
        return beckn_reply_nackf(c, node, 400, "30000", "message.order.beckn:payment.beckn:txnRef",
                                 "the payment needs its reference: beckn:txnRef (or beckn:id)");
    if (!json_is_string(ref) || !p2p_id_valid(json_string_value(ref), BECKN_PAYMENT_REF_MAX))
        return beckn_reply_nackf(c, node, 400, "30000", ref_field,
                                 "the payment reference must be 1 to %d letters, digits and "
                                 ". _ : @ - (starting with a letter or digit)",
                                 BECKN_PAYMENT_REF_MAX);
    bool found;
    if (find_order(order_id, in->ctx.bap_id, buyer_id, sizeof buyer_id, &found))
        return unavailable(c, in, "PostgreSQL is unavailable");
    if (!found)
        return beckn_reply_nackf(c, node, 404, "30008", "message.order.beckn:id",
                                 "no order %s of %s", order_id, in->ctx.bap_id);
    json_t *value = json_pack("{s:s, s:s, s:I, s:s}", "order_id", order_id, "payer_id",
                              in->ctx.bap_id, "amount", (json_int_t)amount, "reference",
                              json_string_value(ref));
    if (!value)
        return unavailable(c, in, "out of memory");
    struct engine_command cmd = {"update", "energy.p2p.order.payment.v1", order_id, buyer_id,
                                 value};
    return submit(c, in, &cmd);
}

static int handle_track(struct mg_connection *c, struct beckn_inbound *in)
{
    (void)in;
    return beckn_reply_nackf(c, node, 400, "40005", "", "tracking is not supported: use status");
}

static int handle_rating(struct mg_connection *c, struct beckn_inbound *in)
{
    (void)in;
    return beckn_reply_nackf(c, node, 400, "40001", "",
                             "ratings are not applicable: trust comes from verified deliveries");
}

static int handle_support(struct mg_connection *c, struct beckn_inbound *in)
{
    if (!node->support_email[0] && !node->support_phone[0])
        return beckn_reply_nackf(c, node, 400, "50004", "", "support is not available");
    json_t *channels = json_array();
    json_t *info = json_pack("{s:s, s:s}", "@context",
                             "https://raw.githubusercontent.com/beckn/protocol-specifications-new/"
                             "refs/heads/main/schema/core/v2/context.jsonld",
                             "@type", "beckn:SupportInfo");
    if (!info || !channels) {
        json_decref(info);
        json_decref(channels);
        return unavailable(c, in, "out of memory");
    }
    if (node->support_email[0]) {
        json_object_set_new(info, "email", json_string(node->support_email));
        json_array_append_new(channels, json_string("EMAIL"));
    }
    if (node->support_phone[0]) {
        json_object_set_new(info, "phone", json_string(node->support_phone));
        json_array_append_new(channels, json_string("PHONE"));
    }
    json_object_set_new(info, "channels", channels);
    PGconn *db = pg_pool_get(PG_WAIT_MS);
    if (!db) {
        json_decref(info);
        return unavailable(c, in, "PostgreSQL is unavailable");
    }
    int status = queue_callback(c, in, db, "on_support", json_pack("{s:o}", "support", info));
    pg_pool_put(db);
    return status < 0 ? unavailable(c, in, "PostgreSQL could not store the callback") : status;
}

static const struct endpoint endpoints[] = {
    {"/beckn/select", "select", handle_select},    {"/beckn/init", "init", handle_init},
    {"/beckn/confirm", "confirm", handle_confirm}, {"/beckn/status", "status", handle_status},
    {"/beckn/cancel", "cancel", handle_cancel},    {"/beckn/update", "update", handle_update},
    {"/beckn/track", "track", handle_track},       {"/beckn/rating", "rating", handle_rating},
    {"/beckn/support", "support", handle_support},
};

static int dispatch(struct mg_connection *c, void *cbdata)
{
    const struct endpoint *ep = cbdata;
    struct beckn_inbound in;
    int status = beckn_inbound_receive(c, node, ep->action, BECKN_IN_BPP, cfg->max_body_bytes, &in);
    if (status)
        return status;
    status = ep->handle(c, &in);
    beckn_inbound_release(&in);
    return status;
}

static int unknown_endpoint(struct mg_connection *c, void *cbdata)
{
    (void)cbdata;
    return beckn_reply_nackf(c, node, 404, "30000", "", "no such Beckn endpoint");
}

void bpp_api_register(struct mg_context *ctx, const struct p2p_config *config,
                      const struct beckn_node *beckn)
{
    cfg = config;
    node = beckn;
    for (size_t i = 0; i < sizeof endpoints / sizeof endpoints[0]; i++)
        mg_set_request_handler(ctx, endpoints[i].pattern, dispatch, (void *)&endpoints[i]);
    mg_set_request_handler(ctx, "/beckn", unknown_endpoint, NULL);
}
