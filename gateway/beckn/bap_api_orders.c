/* bap_api_orders.c - our buyers' orders on other platforms (BAP side):
 *   POST /api/network/orders                  select (lines of discovered offers)
 *   POST /api/network/orders/{id}/init|confirm|status|cancel
 *   GET  /api/network/orders[/{id}]           only the owner's
 * Each action sends one signed request to the seller's bpp_uri (bap_send.h)
 * and waits briefly for the callback that bap_callbacks.c checks and
 * records; the answer is the order as it then stands (200 when the callback
 * arrived, 202 while it is still awaited). The amount due to the remote
 * platform is Σ quantity × price of the accepted offers (bap_order.h), paid
 * under its Beckn payment terms. Every POST takes an Idempotency-Key
 * (command_flow_claim_key): a retry gets the first answer and sends nothing;
 * only answers with the order (200/201/202) are kept, so a request that was
 * refused, or that the other platform refused or did not take, is tried
 * again by its retry. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/p2p_id.h"
#include "common/p2p_json.h"
#include "common/p2p_log.h"
#include "common/p2p_time.h"
#include "gateway/auth.h"
#include "gateway/beckn/bap.h"
#include "gateway/beckn/bap_api.h"
#include "gateway/beckn/bap_order.h"
#include "gateway/beckn/bap_send.h"
#include "gateway/beckn/units.h"
#include "gateway/command_flow.h"
#include "gateway/http.h"
#include "gateway/idempotency.h"
#include "gateway/pg_pool.h"

#define ORDER_ID_MAX 64

static const char *const answered_sql =
    "select answered_at_ms is not null from network_order_requests where message_id = $1";

/* ---------------------------------------------------------------- select */

struct new_order {
    char bpp_id[256];
    char meter_id[128];
    int nlines;
    struct {
        char offer_id[256];
        char item_id[256];
        int64_t quantity_wh;
        struct bap_found_offer found;
    } lines[BAP_ORDER_MAX_LINES];
};

static void release_new_order(struct new_order *o)
{
    for (int i = 0; i < o->nlines; i++)
        json_decref(o->lines[i].found.offer);
}

static int read_new_order(const json_t *body, struct new_order *o, struct p2p_violation *v)
{
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)body, key, val)
        if (strcmp(key, "bpp_id") && strcmp(key, "bpp_uri") && strcmp(key, "meter_id") &&
            strcmp(key, "lines"))
            return p2p_violate(v, "unknown_field", key, "%s is not a field of a network order", key);
    if (p2p_json_str(body, "bpp_id", o->bpp_id, sizeof o->bpp_id, v) ||
        p2p_json_str(body, "meter_id", o->meter_id, sizeof o->meter_id, v))
        return -1;
    const json_t *lines = json_object_get(body, "lines");
    if (!json_is_array(lines) || json_array_size(lines) == 0 ||
        json_array_size(lines) > BAP_ORDER_MAX_LINES)
        return p2p_violate(v, lines ? "invalid_field" : "missing_field", "lines",
                           "lines must be an array of 1 to %d {offer_id, item_id, quantity_wh}",
                           BAP_ORDER_MAX_LINES);
    size_t i;
    const json_t *l;
    json_array_foreach(lines, i, l) {
        bool has_item;
        if (!json_is_object(l))
            return p2p_violate(v, "wrong_type", "lines", "each line must be an object");
        if (p2p_json_str(l, "offer_id", o->lines[i].offer_id, sizeof o->lines[i].offer_id, v) ||
            p2p_json_opt_str(l, "item_id", o->lines[i].item_id, sizeof o->lines[i].item_id,
                             &has_item, v) ||
            p2p_json_int(l, "quantity_wh", &o->lines[i].quantity_wh, v))
            return -1;
        if (o->lines[i].quantity_wh <= 0 || o->lines[i].quantity_wh > BAP_MAX_WH)
            return p2p_violate(v, "invalid_field", "quantity_wh",
                               "quantity_wh must be 1 to %lld Wh", BAP_MAX_WH);
        o->nlines = (int)i + 1;
    }
    return 0;
}

/* Finds every line's offer among the buyer's discoveries and checks the lines
 * fit together (one seller, one currency, one bpp_uri) and the offer bounds. */
static int resolve_lines(PGconn *db, struct beckn_registry *registry, const char *user,
                         struct new_order *o, struct p2p_violation *v)
{
    int resolved = 0, rc = 0;
    for (int i = 0; i < o->nlines && !rc; i++) {
        struct bap_found_offer *f = &o->lines[i].found;
        int found = bap_find_offer(db, user, o->bpp_id, o->lines[i].offer_id,
                                   o->lines[i].item_id, f);
        if (found < 0) {
            rc = p2p_violate(v, "unavailable", "lines", "the discoveries could not be read");
            break;
        }
        if (!found) {
            rc = p2p_violate(v, "invalid_field", "offer_id",
                             "offer %s of %s is not in your recent discoveries (discover first)",
                             o->lines[i].offer_id, o->bpp_id);
            break;
        }
        resolved = i + 1;
        struct beckn_peer peer;
        if (beckn_registry_lookup_subscriber(registry, o->bpp_id, &peer) == BECKN_REG_OK &&
            peer.url[0] && strcmp(peer.url, f->bpp_uri) != 0) {
            rc = p2p_violate(v, "invalid_field", "bpp_id",
                             "the catalog names %s as the address of %s, not its registered URL",
                             f->bpp_uri, o->bpp_id);
            break;
        }
        const struct bap_found_offer *first = &o->lines[0].found;
        if (strcmp(f->seller, first->seller) || strcmp(f->currency, first->currency) ||
            strcmp(f->bpp_uri, first->bpp_uri))
            rc = p2p_violate(v, "invalid_field", "lines",
                             "all lines of an order must be offers of one seller in one currency");
        else if (o->lines[i].quantity_wh < f->min_wh ||
                 (f->max_wh >= 0 && o->lines[i].quantity_wh > f->max_wh))
            rc = p2p_violate(v, "invalid_field", "quantity_wh",
                             "offer %s sells between %lld and %lld Wh", o->lines[i].offer_id,
                             (long long)f->min_wh, (long long)f->max_wh);
        snprintf(o->lines[i].item_id, sizeof o->lines[i].item_id, "%s", f->item_id);
    }
    if (rc) { /* keep only what release_new_order must free */
        for (int i = resolved; i < o->nlines; i++)
            o->lines[i].found.offer = NULL;
    }
    return rc;
}

static json_t *select_order(const struct beckn_bap *bap, const struct new_order *o,
                            const char *user, int64_t total_wh)
{
    json_t *items = json_array();
    for (int i = 0; items && i < o->nlines; i++)
        json_array_append_new(
            items,
            json_pack("{s:s, s:{s:s, s:s, s:{s:s, s:s, s:s}}, s:{s:o, s:s}, s:O}",
                      "beckn:orderedItem", o->lines[i].item_id, "beckn:orderItemAttributes",
                      "@context", BECKN_PACK_CONTEXT("EnergyOrderItem/v0.1"), "@type",
                      "EnergyOrderItem", "providerAttributes", "@context",
                      BECKN_PACK_CONTEXT("EnergyCustomer/v0.1"), "@type", "EnergyCustomer",
                      "meterId", o->meter_id, "beckn:quantity", "unitQuantity",
                      beckn_decimal(o->lines[i].quantity_wh, 3), "unitText", "kWh",
                      "beckn:acceptedOffer", o->lines[i].found.offer));
    return json_pack("{s:s, s:s, s:s, s:s, s:{s:s, s:s, s:s}, s:{s:s, s:s, s:s, s:s, s:o}, s:o}",
                     "@context", BECKN_CORE_CONTEXT, "@type", "beckn:Order", "beckn:orderStatus",
                     "CREATED", "beckn:seller", o->lines[0].found.seller, "beckn:buyer",
                     "beckn:id", user, "@context", BECKN_CORE_CONTEXT, "@type", "beckn:Buyer",
                     "beckn:orderAttributes", "@context",
                     BECKN_PACK_CONTEXT("EnergyTradeOrder/v0.2"), "@type", "EnergyTradeOrder",
                     "bap_id", bap->node->key.subscriber_id, "bpp_id", o->bpp_id,
                     "total_quantity", beckn_decimal(total_wh, 3), "beckn:orderItems", items);
}

/* Inserts the order and its lines (state SELECTING) in one transaction. */
static int insert_order(PGconn *db, const struct beckn_bap *bap, const struct new_order *o,
                        const char *user, const char *order_id, const char *txn,
                        int64_t total_wh, int64_t amount)
{
    char now[24], total[24], due[24];
    snprintf(now, sizeof now, "%lld", (long long)p2p_now_ms());
    snprintf(total, sizeof total, "%lld", (long long)total_wh);
    snprintf(due, sizeof due, "%lld", (long long)amount);
    const struct bap_found_offer *f = &o->lines[0].found;
    const char *params[] = {order_id, user, txn, o->bpp_id, f->bpp_uri, bap->settings.domain,
                            f->seller, f->currency, o->meter_id, total, due, now};
    PGresult *r = beckn_bap_exec(db, "bap begin", "begin", 0, NULL);
    int failed = !r;
    PQclear(r);
    if (!failed) {
        r = beckn_bap_exec(db, "bap insert order",
                           "insert into network_orders (order_id, user_id, transaction_id, bpp_id, "
                           "bpp_uri, domain, seller, currency, buyer_meter_id, state, "
                           "total_quantity_wh, amount_due, created_at_ms, updated_at_ms) values "
                           "($1, $2, $3, $4, $5, $6, $7, $8, $9, 'SELECTING', $10::bigint, "
                           "$11::bigint, $12::bigint, $12::bigint)", 12, params);
        failed = !r;
        PQclear(r);
    }
    for (int i = 0; i < o->nlines && !failed; i++) {
        char line[8], qty[24], price[24];
        snprintf(line, sizeof line, "%d", i + 1);
        snprintf(qty, sizeof qty, "%lld", (long long)o->lines[i].quantity_wh);
        snprintf(price, sizeof price, "%lld", (long long)o->lines[i].found.price_per_kwh);
        char *offer = beckn_dumps(o->lines[i].found.offer);
        const char *lp[] = {order_id, line, o->lines[i].item_id, o->lines[i].offer_id, qty, price,
                            offer};
        r = offer ? beckn_bap_exec(db, "bap insert line",
                                   "insert into network_order_lines (order_id, line, item_id, "
                                   "offer_id, quantity_wh, price_per_kwh, accepted_offer) values "
                                   "($1, $2::int, $3, $4, $5::bigint, $6::bigint, $7)", 7, lp)
                  : NULL;
        free(offer);
        failed = !r;
        PQclear(r);
    }
    r = beckn_bap_exec(db, "bap end", failed ? "rollback" : "commit", 0, NULL);
    failed = failed || !r;
    PQclear(r);
    return failed ? -1 : 0;
}

/* Marks the order after a refused/unreached request: back to `state`. */
static void after_failure(const char *order_id, const char *from, const char *state,
                          const struct beckn_post_result *res)
{
    json_t *e = json_pack("{s:s, s:s}", "code", res->error_code[0] ? res->error_code
                                                                   : res->http_status ? "NACK"
                                                                                      : "ERROR",
                          "message", res->transport_error[0] ? res->transport_error
                                                             : res->error_message);
    char *text = e ? beckn_dumps(e) : NULL;
    json_decref(e);
    char now[24];
    snprintf(now, sizeof now, "%lld", (long long)p2p_now_ms());
    const char *params[] = {order_id, from, state, text, now};
    PGconn *db = pg_pool_get(BECKN_BAP_PG_WAIT_MS);
    if (db) {
        PQclear(beckn_bap_exec(db, "bap after failure",
                               "update network_orders set state = $3, last_error = $4, "
                               "updated_at_ms = $5::bigint where order_id = $1 and state = $2",
                               5, params));
        pg_pool_put(db);
    }
    free(text);
}

/* Sends a request for an order whose state was moved to `pending`, waits,
 * and answers. On failure the state goes back to `previous`. */
static int send_and_answer(struct mg_connection *c, const struct beckn_bap *bap,
                           const char *user, const char *order_id, const char *bpp_uri,
                           const char *action, const char *message_id, const char *body,
                           const char *pending, const char *previous, int created_status,
                           const char *claim_id)
{
    struct beckn_post_result res;
    int rc = bap_send_request(bap, order_id, bpp_uri, action, message_id, body, &res);
    if (rc == -2)
        return http_reply_error(c, 503, "unavailable", NULL, "the request could not be recorded");
    if (rc == -1) {
        after_failure(order_id, pending, previous, &res);
        return bap_reply_post_failure(c, &res);
    }
    bool answered = bap_wait(bap, answered_sql, message_id);
    return bap_reply_order(c, answered ? created_status : 202, order_id, user, claim_id);
}

static int place_order(struct mg_connection *c, const struct beckn_bap *bap, const char *user,
                       json_t *body, const char *claim_id)
{
    int status;
    struct p2p_violation v;
    struct new_order *o = calloc(1, sizeof *o);
    if (!o) {
        json_decref(body);
        return http_reply_error(c, 503, "unavailable", NULL, "out of memory, retry later");
    }
    int bad = read_new_order(body, o, &v);
    json_decref(body);
    PGconn *db = bad ? NULL : pg_pool_get(BECKN_BAP_PG_WAIT_MS);
    if (!bad && !db)
        bad = p2p_violate(&v, "unavailable", "", "PostgreSQL is unavailable, retry later");
    if (!bad)
        bad = resolve_lines(db, bap->node->registry, user, o, &v);
    char order_id[P2P_UUID_BUF], txn[P2P_UUID_BUF], msg[P2P_UUID_BUF];
    int64_t total = 0, amount = 0;
    char *request = NULL;
    if (!bad) {
        for (int i = 0; i < o->nlines; i++) {
            total += o->lines[i].quantity_wh;
            amount += bap_line_amount(o->lines[i].quantity_wh, o->lines[i].found.price_per_kwh);
        }
        p2p_uuid(order_id);
        p2p_uuid(txn);
        const struct beckn_node *node = bap->node;
        request = beckn_body(beckn_context_new(&bap->settings, "select", node->key.subscriber_id,
                                               node->subscriber_uri, o->bpp_id,
                                               o->lines[0].found.bpp_uri, txn, p2p_now_ms(), msg),
                             json_pack("{s:o}", "order", select_order(bap, o, user, total)));
        if (!request || insert_order(db, bap, o, user, order_id, txn, total, amount))
            bad = p2p_violate(&v, "unavailable", "", "the order could not be recorded, retry later");
    }
    if (db)
        pg_pool_put(db);
    char bpp_uri[512];
    snprintf(bpp_uri, sizeof bpp_uri, "%s", o->lines[0].found.bpp_uri);
    release_new_order(o);
    free(o);
    if (bad) {
        free(request);
        return http_reply_violation(c, strcmp(v.code, "unavailable") == 0 ? 503 : 400, &v);
    }
    status = send_and_answer(c, bap, user, order_id, bpp_uri, "select", msg, request, "SELECTING",
                             "FAILED", 201, claim_id);
    free(request);
    return status;
}

/* Drops the Idempotency-Key's claim unless the answer was the order. */
static int keep_only_orders(const char *key, const char *claim_id, int status)
{
    if (key && status != 200 && status != 201 && status != 202 && idempotency_abandon(claim_id))
        p2p_log(P2P_WARN, "idempotency_abandon", "request %s stays claimed", claim_id);
    return status;
}

static int create_order(struct mg_connection *c, const struct beckn_bap *bap, const char *user)
{
    char *raw;
    size_t len;
    int status = http_read_body(c, bap->cfg->max_body_bytes, &raw, &len);
    if (status)
        return status;
    struct p2p_violation v;
    json_t *body = p2p_json_parse_object(raw, len, &v);
    free(raw);
    if (!body)
        return http_reply_violation(c, 400, &v);
    char claim_id[P2P_UUID_BUF];
    const char *key;
    p2p_uuid(claim_id);
    status = command_flow_claim_key(c, user, "POST /api/network/orders", body, claim_id, &key);
    if (status) {
        json_decref(body);
        return status;
    }
    status = place_order(c, bap, user, body, key ? claim_id : NULL);
    return keep_only_orders(key, claim_id, status);
}

/* ---------------------------------------------------------------- actions */

struct order_row {
    char state[24], bpp_id[256], bpp_uri[512], txn[128], remote_id[256], currency[8];
    int64_t amount_due;
    json_t *beckn_order; /* last callback's order (owned), may be NULL */
};

static int load_row(PGconn *db, const char *order_id, const char *user, struct order_row *o)
{
    const char *params[] = {order_id, user};
    PGresult *r = beckn_bap_exec(db, "bap load row",
                                 "select state, bpp_id, bpp_uri, transaction_id, "
                                 "coalesce(remote_order_id, ''), currency, amount_due, beckn_order "
                                 "from network_orders where order_id = $1 and user_id = $2",
                                 2, params);
    if (!r)
        return -1;
    int found = PQntuples(r) == 1;
    if (found) {
        snprintf(o->state, sizeof o->state, "%s", PQgetvalue(r, 0, 0));
        snprintf(o->bpp_id, sizeof o->bpp_id, "%s", PQgetvalue(r, 0, 1));
        snprintf(o->bpp_uri, sizeof o->bpp_uri, "%s", PQgetvalue(r, 0, 2));
        snprintf(o->txn, sizeof o->txn, "%s", PQgetvalue(r, 0, 3));
        snprintf(o->remote_id, sizeof o->remote_id, "%s", PQgetvalue(r, 0, 4));
        snprintf(o->currency, sizeof o->currency, "%s", PQgetvalue(r, 0, 5));
        o->amount_due = strtoll(PQgetvalue(r, 0, 6), NULL, 10);
        o->beckn_order = PQgetisnull(r, 0, 7) ? NULL : json_loads(PQgetvalue(r, 0, 7), 0, NULL);
    }
    PQclear(r);
    return found;
}

/* The order of init: the quote plus fulfillment and payment (INITIATED). */
static json_t *init_order(const struct beckn_bap *bap, const struct order_row *o,
                          const char *order_id)
{
    json_t *order = json_deep_copy(o->beckn_order);
    char payment_id[96];
    snprintf(payment_id, sizeof payment_id, "payment-%s", order_id);
    json_t *payment = json_pack(
        "{s:s, s:s, s:s, s:{s:s, s:o}, s:s, s:s}", "@context", BECKN_CORE_CONTEXT, "@type",
        "beckn:Payment", "beckn:id", payment_id, "beckn:amount", "currency", o->currency, "value",
        beckn_decimal(o->amount_due, beckn_currency_exponent(o->currency)), "beckn:beneficiary",
        "BPP", "beckn:paymentStatus", "INITIATED");
    const struct beckn_settlement_account *acct = &bap->node->settlement;
    if (payment && (acct->account_number[0] || acct->vpa[0])) {
        json_t *account = json_pack("{s:s}", "beneficiaryId", bap->node->key.subscriber_id);
        const char *names[] = {"accountHolderName", "accountNumber", "ifscCode", "bankName", "vpa"};
        const char *values[] = {acct->holder_name, acct->account_number, acct->ifsc_code,
                                acct->bank_name, acct->vpa};
        for (int i = 0; account && i < 5; i++)
            if (values[i][0])
                json_object_set_new(account, names[i], json_string(values[i]));
        json_object_set_new(payment, "beckn:paymentAttributes",
                            json_pack("{s:s, s:s, s:[o]}", "@context",
                                      "https://raw.githubusercontent.com/beckn/protocol-specifications-new/refs/heads/main/schema/PaymentSettlement/v1/context.jsonld",
                                      "@type", "PaymentSettlement", "settlementAccounts", account));
    }
    char fulfillment_id[96];
    snprintf(fulfillment_id, sizeof fulfillment_id, "fulfillment-%s", order_id);
    if (!order || !payment ||
        json_object_set_new(order, "beckn:fulfillment",
                            json_pack("{s:s, s:s, s:s, s:s}", "@context", BECKN_CORE_CONTEXT,
                                      "@type", "beckn:Fulfillment", "beckn:id", fulfillment_id,
                                      "beckn:mode", "DELIVERY")) ||
        json_object_set_new(order, "beckn:payment", payment)) {
        json_decref(order);
        return NULL;
    }
    return order;
}

struct action_rule {
    const char *action;
    const char *from;     /* state required ("*" any with a remote order id) */
    const char *pending;  /* state while the callback is awaited (NULL: unchanged) */
};

static const struct action_rule rules[] = {
    {"init", "QUOTED", "INITIALIZING"},
    {"confirm", "INITIALIZED", "CONFIRMING"},
    {"status", "*", NULL},
    {"cancel", "CONFIRMED", "CANCELLING"},
};

static int move_state(const char *order_id, const char *from, const char *to)
{
    char now[24];
    snprintf(now, sizeof now, "%lld", (long long)p2p_now_ms());
    const char *params[] = {order_id, from, to, now};
    PGconn *db = pg_pool_get(BECKN_BAP_PG_WAIT_MS);
    if (!db)
        return -1;
    PGresult *r = beckn_bap_exec(db, "bap move state",
                                 "update network_orders set state = $3, updated_at_ms = $4::bigint "
                                 "where order_id = $1 and state = $2", 4, params);
    pg_pool_put(db);
    int moved = r && strcmp(PQcmdTuples(r), "1") == 0;
    PQclear(r);
    return r ? moved : -1;
}

static int act(struct mg_connection *c, const struct beckn_bap *bap, const char *user,
               const char *order_id, const char *action, const char *claim_id)
{
    const struct action_rule *rule = NULL;
    for (size_t i = 0; i < sizeof rules / sizeof *rules; i++)
        if (strcmp(rules[i].action, action) == 0)
            rule = &rules[i];
    if (!rule)
        return http_reply_error(c, 404, "not_found", NULL, "no such action (init, confirm, "
                                "status, cancel)");
    struct order_row o;
    memset(&o, 0, sizeof o);
    PGconn *db = pg_pool_get(BECKN_BAP_PG_WAIT_MS);
    int found = db ? load_row(db, order_id, user, &o) : -1;
    if (db)
        pg_pool_put(db);
    if (found < 0)
        return http_reply_error(c, 503, "unavailable", NULL, "the order could not be read");
    if (!found)
        return http_reply_error(c, 404, "not_found", "order_id", "no such network order");
    int status = 0;
    bool any = strcmp(rule->from, "*") == 0;
    if (any ? !o.remote_id[0] : strcmp(o.state, rule->from) != 0)
        status = http_reply_error(c, 409, "wrong_state", "state",
                                  "%s needs an order in state %s; this one is %s", action,
                                  any ? "CONFIRMED (or later)" : rule->from, o.state);
    json_t *message = NULL;
    if (!status) {
        if (strcmp(action, "init") == 0)
            message = json_pack("{s:o}", "order", init_order(bap, &o, order_id));
        else if (strcmp(action, "confirm") == 0)
            message = json_pack("{s:O}", "order", o.beckn_order);
        else
            message = json_pack("{s:{s:s}}", "order", "beckn:id", o.remote_id);
        if (!message)
            status = http_reply_error(c, 503, "unavailable", NULL, "out of memory, retry later");
    }
    json_decref(o.beckn_order);
    if (status) {
        json_decref(message);
        return status;
    }
    char msg[P2P_UUID_BUF];
    const struct beckn_node *node = bap->node;
    char *body = beckn_body(beckn_context_new(&bap->settings, action, node->key.subscriber_id,
                                              node->subscriber_uri, o.bpp_id, o.bpp_uri, o.txn,
                                              p2p_now_ms(), msg),
                            message);
    if (!body)
        return http_reply_error(c, 503, "unavailable", NULL, "out of memory, retry later");
    if (rule->pending) {
        int moved = move_state(order_id, o.state, rule->pending);
        if (moved != 1) {
            free(body);
            return moved < 0 ? http_reply_error(c, 503, "unavailable", NULL, "retry later")
                             : http_reply_error(c, 409, "wrong_state", "state",
                                                "the order changed meanwhile; read it again");
        }
    }
    status = send_and_answer(c, bap, user, order_id, o.bpp_uri, action, msg, body,
                             rule->pending ? rule->pending : o.state, o.state, 200, claim_id);
    free(body);
    return status;
}

static int order_action(struct mg_connection *c, const struct beckn_bap *bap, const char *user,
                        const char *order_id, const char *action)
{
    /* No body is needed; one that is sent must be an empty JSON object. */
    const struct mg_request_info *ri = mg_get_request_info(c);
    if (ri->content_length > 0 || mg_get_header(c, "Transfer-Encoding")) {
        json_t *body = NULL;
        static const char *const none[] = {NULL};
        int st = command_flow_read_body(c, bap->cfg, &body);
        if (!st)
            st = command_flow_only_fields(c, body, none, "this request (it takes no body)");
        json_decref(body);
        if (st)
            return st;
    }
    char endpoint[128], claim_id[P2P_UUID_BUF];
    const char *key;
    snprintf(endpoint, sizeof endpoint, "POST /api/network/orders/%s/%s", order_id, action);
    p2p_uuid(claim_id);
    int status = command_flow_claim_key(c, user, endpoint, NULL, claim_id, &key);
    if (status)
        return status;
    status = act(c, bap, user, order_id, action, key ? claim_id : NULL);
    return keep_only_orders(key, claim_id, status);
}

int bap_api_orders(struct mg_connection *c, void *cbdata)
{
    const struct beckn_bap *bap = cbdata;
    const struct mg_request_info *ri = mg_get_request_info(c);
    const char *rest = ri->local_uri + strlen("/api/network/orders");
    bool post = strcmp(ri->request_method, "POST") == 0;
    bool get = strcmp(ri->request_method, "GET") == 0;
    char user[USER_ID_BUF];
    int status = auth_require_user(c, bap->cfg, user);
    if (status)
        return status;
    if (*rest == '\0' || strcmp(rest, "/") == 0) {
        if (get)
            return bap_list_orders(c, user);
        if (!post)
            return http_reply_error(c, 405, "method_not_allowed", NULL, "use GET or POST");
        if (!bap->node->configured)
            return http_reply_error(c, 503, "unavailable", NULL, "Beckn is not configured here");
        return create_order(c, bap, user);
    }
    if (*rest != '/')
        return http_reply_error(c, 404, "not_found", NULL, "no such endpoint");
    rest++;
    char order_id[ORDER_ID_MAX + 1], action[16] = "";
    const char *slash = strchr(rest, '/');
    size_t n = slash ? (size_t)(slash - rest) : strlen(rest);
    if (n == 0 || n > ORDER_ID_MAX)
        return http_reply_error(c, 404, "not_found", "order_id", "no such network order");
    memcpy(order_id, rest, n);
    order_id[n] = '\0';
    if (slash) {
        if (strlen(slash + 1) >= sizeof action || strchr(slash + 1, '/'))
            return http_reply_error(c, 404, "not_found", NULL, "no such endpoint");
        snprintf(action, sizeof action, "%s", slash + 1);
    }
    if (!action[0]) {
        if (!get)
            return http_reply_error(c, 405, "method_not_allowed", NULL, "use GET");
        return bap_reply_order(c, 200, order_id, user, NULL);
    }
    if (!post)
        return http_reply_error(c, 405, "method_not_allowed", NULL, "use POST");
    if (!bap->node->configured)
        return http_reply_error(c, 503, "unavailable", NULL, "Beckn is not configured here");
    return order_action(c, bap, user, order_id, action);
}
