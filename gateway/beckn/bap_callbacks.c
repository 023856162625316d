/* bap_callbacks.c - the callbacks our BAP receives (beckn.md §1.2, §7.2-7.9):
 * on_discover from a CDS, and on_select/on_init/on_confirm/on_status/
 * on_cancel/on_update from the BPP of one of our buyers' network orders.
 * Each is verified by the inbound pipeline (signature, context addressed to
 * our bap_id, signer = bpp_id for order callbacks), must match a request of
 * ours (on_update and on_status may be unsolicited for a known order), and
 * its order must pass the arithmetic of bap_order.h before the network order
 * is updated; otherwise it is NACKed (30008 / 30000, HTTP 400) and the
 * refusal recorded on the order. An asynchronous error callback
 * (message.error) is ACKed and recorded. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/p2p_log.h"
#include "gateway/beckn/bap.h"
#include "gateway/beckn/bap_order.h"
#include "gateway/beckn/inbound.h"
#include "gateway/beckn/units.h"
#include "gateway/pg_pool.h"

static int nack_unmatched(struct mg_connection *c, const struct beckn_bap *bap,
                          const struct beckn_inbound *in, const char *what)
{
    return beckn_reply_nackf(c, bap->node, 400, "30008", "context.transaction_id",
                             "%s matches no request of ours (transaction %s)", what,
                             in->ctx.transaction_id);
}

int bap_on_discover(struct mg_connection *c, void *cbdata)
{
    const struct beckn_bap *bap = cbdata;
    struct beckn_inbound in;
    int status = beckn_inbound_receive(c, bap->node, "on_discover", BECKN_IN_CDS_ON_DISCOVER,
                                       BECKN_BAP_BODY_MAX, &in);
    if (status)
        return status;
    const char *cds = bap->settings.cds_subscriber_id;
    const json_t *catalogs = json_object_get(json_object_get(in.root, "message"), "catalogs");
    if (cds[0] && strcmp(cds, in.auth.subscriber_id) != 0 &&
        strcmp(bap->node->key.subscriber_id, in.auth.subscriber_id) != 0)
        status = beckn_reply_nackf(c, bap->node, 401, "60000", "Authorization",
                                   "AUT_UNAUTHORIZED_ACTION: on_discover is accepted from %s only",
                                   cds);
    else if (!json_is_array(catalogs))
        status = beckn_reply_nackf(c, bap->node, 400, "30000", "message.catalogs",
                                   "message.catalogs must be an array");
    if (status) {
        beckn_inbound_release(&in);
        return status;
    }
    char *text = beckn_dumps(catalogs);
    char now[24];
    snprintf(now, sizeof now, "%lld", (long long)in.received_ms);
    const char *params[] = {in.ctx.transaction_id, in.ctx.message_id, in.auth.subscriber_id,
                            text, now};
    PGconn *db = pg_pool_get(BECKN_BAP_PG_WAIT_MS);
    PGresult *r = db && text ? beckn_bap_exec(
        db, "bap on_discover",
        "insert into beckn_discovery_answers (transaction_id, message_id, sender, catalogs, "
        "received_at_ms) select transaction_id, $2, $3, $4, $5::bigint from beckn_discoveries "
        "where transaction_id = $1 on conflict do nothing", 5, params) : NULL;
    if (db)
        pg_pool_put(db);
    free(text);
    if (!r)
        status = beckn_reply_nackf(c, bap->node, 503, "50000", "", "PostgreSQL is unavailable");
    else if (strcmp(PQcmdTuples(r), "0") == 0)
        status = nack_unmatched(c, bap, &in, "this on_discover");
    else
        status = beckn_reply_ack(c);
    PQclear(r);
    beckn_inbound_release(&in);
    return status;
}

/* ---------------------------------------------------------------- order callbacks */

struct network_order {
    char order_id[64];
    char bpp_id[256];
    char currency[8];
    char state[24];
    int nlines;
};

static int load_order(PGconn *db, const char *transaction_id, struct network_order *o)
{
    const char *params[] = {transaction_id};
    PGresult *r = beckn_bap_exec(db, "bap load order",
                                 "select order_id, bpp_id, currency, state, (select count(*) from "
                                 "network_order_lines l where l.order_id = o.order_id) "
                                 "from network_orders o where transaction_id = $1 for update",
                                 1, params);
    if (!r)
        return -1;
    int found = PQntuples(r) == 1;
    if (found) {
        snprintf(o->order_id, sizeof o->order_id, "%s", PQgetvalue(r, 0, 0));
        snprintf(o->bpp_id, sizeof o->bpp_id, "%s", PQgetvalue(r, 0, 1));
        snprintf(o->currency, sizeof o->currency, "%s", PQgetvalue(r, 0, 2));
        snprintf(o->state, sizeof o->state, "%s", PQgetvalue(r, 0, 3));
        o->nlines = atoi(PQgetvalue(r, 0, 4));
    }
    PQclear(r);
    return found;
}

/* The request this callback answers: same message_id if there is one, else
 * the latest unanswered request of that action. Copies its message_id.
 * Returns 1 found, 0 none, -1 database error. */
static int match_request(PGconn *db, const struct network_order *o, const char *action,
                         const char *message_id, bool answered_too, char out[128])
{
    const char *params[] = {o->order_id, action, message_id, answered_too ? "true" : "false"};
    PGresult *r = beckn_bap_exec(db, "bap match request",
                                 "select message_id from network_order_requests where order_id = $1 "
                                 "and action = $2 and ack in ('PENDING', 'ACK') and "
                                 "(answered_at_ms is null or $4::boolean) "
                                 "order by (message_id = $3) desc, sent_at_ms desc limit 1",
                                 4, params);
    if (!r)
        return -1;
    int found = PQntuples(r) == 1;
    if (found)
        snprintf(out, 128, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    return found;
}

/* Lines must be the ones we asked for (same offers and quantities, in order). */
static int check_lines(PGconn *db, const struct network_order *o, const struct bap_order *got,
                       struct beckn_nack *n)
{
    const char *params[] = {o->order_id};
    PGresult *r = beckn_bap_exec(db, "bap lines", "select offer_id, quantity_wh from "
                                 "network_order_lines where order_id = $1 order by line", 1, params);
    if (!r)
        return -2;
    int bad = PQntuples(r) != got->nlines;
    for (int i = 0; !bad && i < got->nlines; i++)
        bad = strcmp(PQgetvalue(r, i, 0), got->lines[i].offer_id) != 0 ||
              strtoll(PQgetvalue(r, i, 1), NULL, 10) != got->lines[i].quantity_wh;
    PQclear(r);
    if (!bad)
        return 0;
    n->http_status = 400;
    snprintf(n->code, sizeof n->code, "30000");
    snprintf(n->paths, sizeof n->paths, "message.order.beckn:orderItems");
    snprintf(n->message, sizeof n->message,
             "the order items are not the offers and quantities we selected");
    return -1;
}

static const char *next_state(const char *action, const struct bap_order *got, bool error)
{
    if (error)
        return strcmp(action, "select") == 0 || strcmp(action, "init") == 0 ||
                       strcmp(action, "confirm") == 0
                   ? "FAILED"
                   : NULL;
    if (strcmp(action, "select") == 0)
        return "QUOTED";
    if (strcmp(action, "init") == 0)
        return "INITIALIZED";
    if (strcmp(action, "confirm") == 0)
        return "CONFIRMED";
    if (strcmp(action, "cancel") == 0 || strcmp(got->status, "CANCELLED") == 0)
        return "CANCELLED";
    return NULL; /* status, update: the remote status changes, our state does not */
}

static void record_refusal(PGconn *db, const struct network_order *o, const struct beckn_nack *n)
{
    json_t *e = json_pack("{s:s, s:s, s:s}", "code", n->code, "message", n->message, "paths",
                          n->paths);
    char *text = e ? beckn_dumps(e) : NULL;
    json_decref(e);
    const char *params[] = {o->order_id, text};
    PQclear(text ? beckn_bap_exec(db, "bap refusal",
                                  "update network_orders set last_error = $2 where order_id = $1",
                                  2, params)
                 : NULL);
    free(text);
}

struct callback {
    const struct beckn_inbound *in;
    const char *action;            /* select, init, … (callback action without on_) */
    const json_t *order;           /* message.order or NULL */
    const json_t *error;           /* message.error or NULL */
    struct bap_order got;
};

/* Applies the callback inside the open transaction. Returns 0, -1 with *n
 * (refused), or -2 (database error). */
static int apply(PGconn *db, struct callback *cb, struct beckn_nack *n)
{
    const struct beckn_context *x = &cb->in->ctx;
    struct network_order o;
    int found = load_order(db, x->transaction_id, &o);
    if (found < 0)
        return -2;
    if (!found || strcmp(o.bpp_id, x->bpp_id) != 0) {
        n->http_status = 400;
        snprintf(n->code, sizeof n->code, "30008");
        snprintf(n->paths, sizeof n->paths, "context.transaction_id");
        snprintf(n->message, sizeof n->message, "no order of ours from %s has transaction %s",
                 x->bpp_id, x->transaction_id);
        return -1;
    }
    bool unsolicited_ok = strcmp(cb->action, "update") == 0 || strcmp(cb->action, "status") == 0;
    char request[128] = "";
    int m = match_request(db, &o, cb->action, x->message_id, unsolicited_ok, request);
    if (m < 0)
        return -2;
    if (!m && !unsolicited_ok) {
        n->http_status = 400;
        snprintf(n->code, sizeof n->code, "30008");
        snprintf(n->paths, sizeof n->paths, "context.action");
        snprintf(n->message, sizeof n->message, "we sent no %s awaiting an answer in transaction %s",
                 cb->action, x->transaction_id);
        return -1;
    }
    int rc = 0;
    if (!cb->error) {
        rc = bap_order_read(cb->order, o.currency, &cb->got, n);
        bool lines_expected = strcmp(cb->action, "select") == 0 ||
                              strcmp(cb->action, "init") == 0 || strcmp(cb->action, "confirm") == 0;
        if (!rc && lines_expected && cb->got.nlines == 0) {
            n->http_status = 400;
            snprintf(n->code, sizeof n->code, "30000");
            snprintf(n->paths, sizeof n->paths, "message.order.beckn:orderItems");
            snprintf(n->message, sizeof n->message, "on_%s must carry the order items", cb->action);
            rc = -1;
        }
        if (!rc && cb->got.nlines)
            rc = check_lines(db, &o, &cb->got, n);
        if (!rc && strcmp(cb->action, "confirm") == 0 && !cb->got.order_id[0]) {
            n->http_status = 400;
            snprintf(n->code, sizeof n->code, "30000");
            snprintf(n->paths, sizeof n->paths, "message.order.beckn:id");
            snprintf(n->message, sizeof n->message, "on_confirm must assign the order a beckn:id");
            rc = -1;
        }
        if (rc == -1)
            record_refusal(db, &o, n);
        if (rc)
            return rc;
    }
    const char *state = next_state(cb->action, &cb->got, cb->error != NULL);
    char *order_text = cb->order ? beckn_dumps(cb->order) : NULL;
    char *error_text = cb->error ? beckn_dumps(cb->error) : NULL;
    char now[24], qty[24], amount[24], refund[24];
    snprintf(refund, sizeof refund, "%lld", (long long)cb->got.refund);
    snprintf(now, sizeof now, "%lld", (long long)cb->in->received_ms);
    snprintf(qty, sizeof qty, "%lld", (long long)cb->got.lines_quantity_wh);
    snprintf(amount, sizeof amount, "%lld",
             (long long)(cb->got.has_amount ? cb->got.amount : cb->got.lines_amount));
    char last[24];
    snprintf(last, sizeof last, "on_%s", cb->action);
    bool priced = cb->got.nlines > 0;
    const char *params[] = {o.order_id, state, cb->got.order_id[0] ? cb->got.order_id : NULL,
                            cb->got.status[0] ? cb->got.status : NULL,
                            cb->got.payment_status[0] ? cb->got.payment_status : NULL,
                            priced ? qty : NULL, priced ? amount : NULL, last, now, error_text,
                            order_text, cb->got.has_refund ? refund : NULL};
    PGresult *r = beckn_bap_exec(
        db, "bap apply callback",
        "update network_orders set state = coalesce($2, state), "
        "remote_order_id = coalesce($3, remote_order_id), "
        "remote_status = coalesce($4, remote_status), "
        "payment_status = coalesce($5, payment_status), "
        "total_quantity_wh = coalesce($6::bigint, total_quantity_wh), "
        "amount_due = coalesce($7::bigint, amount_due), last_action = $8, "
        "last_callback_at_ms = $9::bigint, updated_at_ms = $9::bigint, "
        "last_error = $10, beckn_order = coalesce($11, beckn_order), "
        "refund = coalesce($12::bigint, refund) where order_id = $1",
        12, params);
    free(order_text);
    free(error_text);
    if (!r)
        return -2;
    PQclear(r);
    if (request[0]) {
        const char *rp[] = {request, now, x->message_id};
        r = beckn_bap_exec(db, "bap answer request",
                           "update network_order_requests set answered_at_ms = coalesce("
                           "answered_at_ms, $2::bigint), callback_message_id = $3 "
                           "where message_id = $1", 3, rp);
        if (!r)
            return -2;
        PQclear(r);
    }
    return 0;
}

int bap_on_callback(struct mg_connection *c, void *cbdata)
{
    const struct beckn_bap *bap = cbdata;
    const char *uri = mg_get_request_info(c)->local_uri;
    const char *prefix = "/beckn/";
    if (strncmp(uri, prefix, strlen(prefix)) != 0 || strchr(uri + strlen(prefix), '/') ||
        strncmp(uri + strlen(prefix), "on_", 3) != 0)
        return beckn_reply_nackf(c, bap->node, 404, "30000", "", "no such Beckn endpoint");
    const char *action = uri + strlen(prefix); /* on_select, … */
    struct beckn_inbound in;
    int status = beckn_inbound_receive(c, bap->node, action, BECKN_IN_BAP_CALLBACK,
                                       BECKN_BAP_BODY_MAX, &in);
    if (status)
        return status;
    const json_t *message = json_object_get(in.root, "message");
    struct callback cb = {.in = &in, .action = action + 3,
                          .order = json_object_get(message, "order"),
                          .error = json_object_get(message, "error")};
    if (cb.error && !json_is_object(cb.error))
        cb.error = NULL;
    if (!cb.error && !json_is_object(cb.order)) {
        status = beckn_reply_nackf(c, bap->node, 400, "30000", "message.order",
                                   "message.order must be an object (or message.error given)");
        beckn_inbound_release(&in);
        return status;
    }
    struct beckn_nack n;
    PGconn *db = pg_pool_get(BECKN_BAP_PG_WAIT_MS);
    PGresult *r = db ? beckn_bap_exec(db, "bap begin", "begin", 0, NULL) : NULL;
    int rc = r ? apply(db, &cb, &n) : -2;
    PQclear(r);
    if (db) {
        /* a refusal is recorded on the order: commit it too */
        r = beckn_bap_exec(db, "bap end", rc == -2 ? "rollback" : "commit", 0, NULL);
        if (!r && rc == 0)
            rc = -2;
        PQclear(r);
        pg_pool_put(db);
    }
    if (rc == -2)
        status = beckn_reply_nackf(c, bap->node, 503, "50000", "", "PostgreSQL is unavailable");
    else if (rc == -1)
        status = beckn_reply_nack(c, bap->node, &n);
    else
        status = beckn_reply_ack(c);
    if (rc == 0)
        p2p_log(P2P_INFO, "bap_callback", "%s for transaction %s from %s", action,
                in.ctx.transaction_id, in.ctx.bpp_id);
    beckn_inbound_release(&in);
    return status;
}
