/* callbacks.c - on_* callback bodies (callbacks.h). */
#include "gateway/beckn/callbacks.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/p2p_time.h"
#include "gateway/beckn/beckn_order.h"
#include "gateway/beckn/message.h"

#define CORE_CONTEXT                                                                          \
    "https://raw.githubusercontent.com/beckn/protocol-specifications-new/refs/heads/main/"    \
    "schema/core/v2/context.jsonld"
#define PACK_CONTEXT(x)                                                                       \
    "https://raw.githubusercontent.com/beckn/protocol-specifications-new/refs/heads/"         \
    "p2p-trading/schema/" x "/context.jsonld"
#define PAYMENT_CONTEXT                                                                       \
    "https://raw.githubusercontent.com/beckn/protocol-specifications-new/refs/heads/main/"    \
    "schema/PaymentSettlement/v1/context.jsonld"

char *beckn_callback_body(const struct beckn_node *node, const struct beckn_reply_to *to,
                          const char *on_action, int64_t now_ms, json_t *message, json_t *error)
{
    char ts[P2P_TIME_BUF];
    p2p_time_format(now_ms, false, ts);
    json_t *ctx = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "domain",
                            to->domain, "version", BECKN_VERSION, "action", on_action, "bap_id",
                            to->bap_id, "bap_uri", to->bap_uri, "bpp_id", node->key.subscriber_id,
                            "bpp_uri", node->subscriber_uri, "transaction_id", to->transaction_id,
                            "message_id", to->message_id, "timestamp", ts, "ttl", "PT30S");
    json_t *doc = ctx && message ? json_pack("{s:o, s:o}", "context", ctx, "message", message)
                                 : NULL;
    if (!doc) {
        json_decref(ctx);
        json_decref(message);
        json_decref(error);
        return NULL;
    }
    if (error)
        json_object_set_new(doc, "error", error);
    return beckn_dump(doc);
}

json_t *beckn_error_json(const char *code, const char *message, const char *paths)
{
    json_t *e = json_pack("{s:s, s:s}", "code", code, "message", message);
    if (e && paths && *paths)
        json_object_set_new(e, "paths", json_string(paths));
    return e;
}

const char *beckn_error_code_for(const char *c)
{
    static const struct {
        const char *engine, *beckn;
    } map[] = {
        {"insufficient_supply", "40002"}, {"not_found", "30008"},
        {"gate_closed", "40003"},         {"not_open", "40003"},
        {"insufficient_funds", "40004"},  {"not_reserved", "40000"},
        {"reservation_expired", "40003"}, {"not_cancellable", "50001"},
        {"cancel_window_closed", "50001"}, {"delivery_started", "50001"},
        {"capacity", "40002"},            {"trade_limit", "40002"},
        {"invalid_field", "30000"},       {"missing_field", "30000"},
        {"wrong_type", "30000"},          {"malformed_command", "30000"},
        {"reference_reused", "30000"},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strcmp(map[i].engine, c) == 0)
            return map[i].beckn;
    return "40000";
}

static const char *offer_id_of(const json_t *item)
{
    const json_t *offer = json_object_get(item, "beckn:acceptedOffer");
    const json_t *id = json_is_object(offer) ? json_object_get(offer, "beckn:id") : offer;
    return json_string_value(id);
}

static json_t *price_spec(int64_t minor, const char *currency)
{
    return json_pack("{s:s, s:o, s:{s:i, s:s}}", "currency", currency, "value",
                     beckn_money_json(minor, currency), "applicableQuantity", "unitQuantity", 1,
                     "unitText", "kWh");
}

int beckn_price_order(json_t *order, const json_t *decision, const char *currency)
{
    const json_t *lines = json_object_get(decision, "lines");
    json_t *items = json_object_get(order, "beckn:orderItems");
    size_t i, j;
    json_t *item;
    const json_t *line;
    json_array_foreach(items, i, item) {
        const char *offer = offer_id_of(item);
        const json_t *match = NULL;
        json_array_foreach(lines, j, line)
            if (offer && strcmp(offer, json_string_value(json_object_get(line, "offer_id"))) == 0)
                match = line;
        if (!match)
            return -1;
        int64_t wh = json_integer_value(json_object_get(match, "quantity_wh"));
        int64_t price = json_integer_value(json_object_get(match, "price_per_kwh"));
        json_object_set_new(item, "beckn:quantity",
                            json_pack("{s:o, s:s}", "unitQuantity", beckn_kwh_json(wh), "unitText",
                                      "kWh"));
        json_object_set_new(item, "beckn:price", price_spec(price, currency));
    }
    int64_t amount = json_integer_value(json_object_get(decision, "amount"));
    int64_t fee = json_integer_value(json_object_get(decision, "fee"));
    int64_t total = json_integer_value(json_object_get(decision, "total"));
    json_object_set_new(
        order, "beckn:orderValue",
        json_pack("{s:s, s:o, s:[{s:s, s:o, s:s, s:s}, {s:s, s:o, s:s, s:s}]}", "currency",
                  currency, "value", beckn_money_json(total, currency), "components", "type",
                  "UNIT", "value", beckn_money_json(amount, currency), "currency", currency,
                  "description", "energy: sum of quantity x price per line", "type", "FEE",
                  "value", beckn_money_json(fee, currency), "currency", currency, "description",
                  "platform fee"));
    json_t *attrs = json_object_get(order, "beckn:orderAttributes");
    if (json_is_object(attrs))
        json_object_set_new(
            attrs, "total_quantity",
            beckn_kwh_json(json_integer_value(json_object_get(decision, "filled_wh"))));
    return 0;
}

static void add_str(json_t *o, const char *key, const char *value)
{
    if (value && *value)
        json_object_set_new(o, key, json_string(value));
}

json_t *beckn_payment_json(const struct beckn_node *node, const json_t *request_payment,
                           const char *status, int64_t amount, const char *currency)
{
    json_t *p = json_is_object(request_payment) ? json_deep_copy(request_payment)
                                                : json_pack("{s:s, s:s}", "@context", CORE_CONTEXT,
                                                            "@type", "beckn:Payment");
    if (!p)
        return NULL;
    json_object_set_new(p, "beckn:amount",
                        json_pack("{s:s, s:o}", "currency", currency, "value",
                                  beckn_money_json(amount, currency)));
    json_object_set_new(p, "beckn:beneficiary", json_string("BPP"));
    json_object_set_new(p, "beckn:paymentStatus", json_string(status));
    json_t *attrs = json_object_get(p, "beckn:paymentAttributes");
    if (!json_is_object(attrs)) {
        attrs = json_pack("{s:s, s:s, s:[]}", "@context", PAYMENT_CONTEXT, "@type",
                          "PaymentSettlement", "settlementAccounts");
        json_object_set_new(p, "beckn:paymentAttributes", attrs);
    }
    json_t *accounts = json_object_get(attrs, "settlementAccounts");
    if (!json_is_array(accounts)) {
        accounts = json_array();
        json_object_set_new(attrs, "settlementAccounts", accounts);
    }
    size_t i;
    json_t *a;
    json_array_foreach(accounts, i, a) /* already there: a repeated init */
    {
        const char *who = json_string_value(json_object_get(a, "beneficiaryId"));
        if (who && strcmp(who, node->key.subscriber_id) == 0)
            return p;
    }
    const struct beckn_settlement_account *s = &node->settlement;
    json_t *ours = json_pack("{s:s}", "beneficiaryId", node->key.subscriber_id);
    add_str(ours, "accountHolderName",
            s->holder_name[0] ? s->holder_name : node->key.subscriber_id);
    add_str(ours, "accountNumber", s->account_number);
    add_str(ours, "ifscCode", s->ifsc_code);
    add_str(ours, "bankName", s->bank_name);
    add_str(ours, "vpa", s->vpa);
    json_array_append_new(accounts, ours);
    return p;
}

/* ---- on_status from the stored state ------------------------------------ */

static const char *line_delivery_status(const char *status, int64_t qty, int64_t delivered)
{
    if (strcmp(status, "PENDING") == 0)
        return "PENDING";
    if (strcmp(status, "FAILED") == 0 || delivered == 0)
        return "FAILED";
    (void)qty;
    return "COMPLETED";
}

static json_t *delivery_json(PGresult *r, int i)
{
    const char *status = PQgetvalue(r, i, 1);
    int64_t qty = atoll(PQgetvalue(r, i, 2));
    int64_t delivered = atoll(PQgetvalue(r, i, 3));
    int64_t curtailed = atoll(PQgetvalue(r, i, 4));
    char start[P2P_TIME_BUF], end[P2P_TIME_BUF], updated[P2P_TIME_BUF];
    p2p_time_format(atoll(PQgetvalue(r, i, 5)), false, start);
    p2p_time_format(atoll(PQgetvalue(r, i, 6)), false, end);
    p2p_time_format(atoll(PQgetvalue(r, i, 7)), false, updated);
    json_t *readings = json_array();
    if (strcmp(status, "COMPLETED") == 0)
        json_array_append_new(
            readings,
            json_pack("{s:{s:s, s:s, s:s}, s:f, s:o, s:o, s:s}", "beckn:timeWindow", "@type",
                      "beckn:TimePeriod", "schema:startTime", start, "schema:endTime", end,
                      "consumedEnergy", 0.0, "producedEnergy", beckn_kwh_json(delivered),
                      "allocatedEnergy", beckn_kwh_json(delivered), "unit", "kWh"));
    json_t *d = json_pack("{s:s, s:s, s:s, s:s, s:o, s:o, s:s}", "@context",
                          PACK_CONTEXT("EnergyTradeDelivery/v0.2"), "@type", "EnergyTradeDelivery",
                          "deliveryStatus", line_delivery_status(status, qty, delivered),
                          "deliveryMode", "GRID_INJECTION", "deliveredQuantity",
                          beckn_kwh_json(delivered), "meterReadings", readings, "lastUpdated",
                          updated);
    if (d && curtailed > 0) {
        json_object_set_new(d, "curtailedQuantity", beckn_kwh_json(curtailed));
        json_object_set_new(d, "curtailmentReason", json_string("OTHER"));
    }
    return d;
}

static const char *order_status(const char *stored, bool any_delivered)
{
    if (strcmp(stored, "RESERVED") == 0)
        return "CREATED";
    if (strcmp(stored, "CONFIRMED") == 0)
        return any_delivered ? "INPROGRESS" : "CONFIRMED";
    if (strcmp(stored, "EXPIRED") == 0)
        return "CANCELLED";
    return stored; /* CANCELLED, COMPLETED, PARTIALLYFULFILLED */
}

json_t *beckn_status_order(PGconn *db, const char *order_id, const char *bap_id,
                           const char *currency, char *err, size_t errlen)
{
    const char *p[2] = {order_id, bap_id};
    PGresult *o = PQexecParams(db,
                               "select status, payment_status, total, refund, beckn_order"
                               " from beckn_orders where order_id = $1 and bap_id = $2",
                               2, NULL, p, NULL, NULL, 0);
    if (PQresultStatus(o) != PGRES_TUPLES_OK || PQntuples(o) != 1) {
        snprintf(err, errlen, "%s",
                 PQresultStatus(o) == PGRES_TUPLES_OK ? "not found" : PQerrorMessage(db));
        PQclear(o);
        return NULL;
    }
    PGresult *l = PQexecParams(db,
                               "select offer_id, status, quantity_wh, delivered_wh, curtailed_wh,"
                               " delivery_start_ms, delivery_end_ms, updated_at_ms"
                               " from beckn_order_lines where order_id = $1 order by line",
                               1, NULL, p, NULL, NULL, 0);
    if (PQresultStatus(l) != PGRES_TUPLES_OK) {
        snprintf(err, errlen, "%s", PQerrorMessage(db));
        PQclear(o);
        PQclear(l);
        return NULL;
    }
    json_t *order = json_loads(PQgetvalue(o, 0, 4), 0, NULL);
    if (!order) {
        snprintf(err, errlen, "stored order %s is not JSON", order_id);
        PQclear(o);
        PQclear(l);
        return NULL;
    }
    bool any_delivered = false;
    json_t *items = json_object_get(order, "beckn:orderItems");
    size_t i;
    json_t *item;
    json_array_foreach(items, i, item) {
        const char *offer = offer_id_of(item);
        for (int k = 0; offer && k < PQntuples(l); k++) {
            if (strcmp(offer, PQgetvalue(l, k, 0)) != 0)
                continue;
            any_delivered |= strcmp(PQgetvalue(l, k, 1), "PENDING") != 0;
            json_t *attrs = json_object_get(item, "beckn:orderItemAttributes");
            if (!json_is_object(attrs)) {
                attrs = json_pack("{s:s, s:s}", "@context", PACK_CONTEXT("EnergyOrderItem/v0.1"),
                                  "@type", "EnergyOrderItem");
                json_object_set_new(item, "beckn:orderItemAttributes", attrs);
            }
            json_object_set_new(attrs, "fulfillmentAttributes", delivery_json(l, k));
        }
    }
    json_object_set_new(order, "beckn:id", json_string(order_id));
    json_object_set_new(order, "beckn:orderStatus",
                        json_string(order_status(PQgetvalue(o, 0, 0), any_delivered)));
    json_t *payment = json_object_get(order, "beckn:payment");
    if (json_is_object(payment)) {
        json_object_set_new(payment, "beckn:paymentStatus", json_string(PQgetvalue(o, 0, 1)));
        json_object_set_new(payment, "beckn:amount",
                            json_pack("{s:s, s:o}", "currency", currency, "value",
                                      beckn_money_json(atoll(PQgetvalue(o, 0, 2)) -
                                                       atoll(PQgetvalue(o, 0, 3)), currency)));
    }
    PQclear(o);
    PQclear(l);
    return order;
}
