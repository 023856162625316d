#include "engine/command_codec.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "common/p2p_json.h"
#include "engine/offer_codec.h"

const char *const input_topic_names[INPUT_TOPIC_COUNT] = {"offers", "orders", "participants",
                                                          "deliveries", "ticks"};

typedef int (*decode_fn)(const json_t *o, struct command *c, struct p2p_violation *v);

static int id(const json_t *o, const char *name, char *out, struct p2p_violation *v)
{
    return p2p_json_id(o, name, out, ENGINE_ID_LEN, v);
}

static int dec_offer(const json_t *o, struct command *c, struct p2p_violation *v)
{
    return offer_terms_from_json(o, &c->u.offer, v);
}

static int dec_target(const json_t *o, struct command *c, const char *id_name,
                      const char *actor_name, struct p2p_violation *v)
{
    return id(o, id_name, c->u.target.id, v) || id(o, actor_name, c->u.target.actor_id, v) ? -1 : 0;
}

static int dec_withdraw(const json_t *o, struct command *c, struct p2p_violation *v)
{
    return dec_target(o, c, "offer_id", "seller_id", v);
}
static int dec_order_target(const json_t *o, struct command *c, struct p2p_violation *v)
{
    return dec_target(o, c, "order_id", "buyer_id", v);
}
static int dec_fill_target(const json_t *o, struct command *c, struct p2p_violation *v)
{
    /* fill ids contain a '/', so they are read as plain strings */
    return p2p_json_str(o, "fill_id", c->u.target.id, ENGINE_ID_LEN, v) ||
                   id(o, "seller_id", c->u.target.actor_id, v)
               ? -1
               : 0;
}

/* "lines": [{"offer_id", "quantity_wh"}, ...] names the offers to buy. */
static int dec_named_lines(const json_t *lines, struct command *c, struct p2p_violation *v)
{
    size_t k;
    json_t *line;
    if (!json_is_array(lines) || json_array_size(lines) < 1 ||
        json_array_size(lines) > COMMAND_MAX_LINES)
        return p2p_violate(v, "invalid_field", "lines",
                           "lines must be an array of 1 to %d {offer_id, quantity_wh}",
                           COMMAND_MAX_LINES);
    json_array_foreach(lines, k, line) {
        if (!json_is_object(line) ||
            id(line, "offer_id", c->lines[k].offer_id, v) ||
            p2p_json_int(line, "quantity_wh", &c->lines[k].quantity_wh, v))
            return json_is_object(line)
                       ? -1
                       : p2p_violate(v, "wrong_type", "lines", "each line must be an object");
        if (c->lines[k].quantity_wh < 1 || c->lines[k].quantity_wh > OFFER_MAX_WH)
            return p2p_violate(v, "invalid_field", "lines",
                               "each line's quantity_wh must be between 1 and %d Wh", OFFER_MAX_WH);
    }
    c->nlines = (int32_t)json_array_size(lines);
    return 0;
}

/* Optional "payer_id": absent or null = the buyer pays from its wallet. */
static int dec_payer(const json_t *o, struct order_request *r, struct p2p_violation *v)
{
    json_t *f = json_object_get(o, "payer_id");
    r->payer_id[0] = '\0';
    return f && !json_is_null(f) ? id(o, "payer_id", r->payer_id, v) : 0;
}

static int dec_order(const json_t *o, struct command *c, struct p2p_violation *v)
{
    struct order_request *r = &c->u.order;
    char source[16];
    bool has_max;
    json_t *partial = json_object_get(o, "allow_partial");
    json_t *lines = json_object_get(o, "lines");
    if (lines && !json_is_null(lines))
        return id(o, "order_id", r->order_id, v) || id(o, "buyer_id", r->buyer_id, v) ||
                       dec_payer(o, r, v) || dec_named_lines(lines, c, v)
                   ? -1
                   : 0;
    if (id(o, "order_id", r->order_id, v) || id(o, "buyer_id", r->buyer_id, v) ||
        dec_payer(o, r, v) ||
        p2p_json_int(o, "quantity_wh", &r->quantity_wh, v) ||
        p2p_json_int(o, "window_start_ms", &r->window_start_ms, v) ||
        p2p_json_int(o, "window_end_ms", &r->window_end_ms, v) ||
        p2p_json_opt_int(o, "max_price_per_kwh", &r->max_price_per_kwh, &has_max, v) ||
        p2p_json_opt_str(o, "source_type", source, sizeof source, &r->has_source, v))
        return -1;
    if (r->has_source && source_type_parse(source, &r->source))
        return p2p_violate(v, "invalid_field", "source_type",
                           "source_type must be SOLAR, BATTERY, GRID, HYBRID or RENEWABLE");
    if (partial && !json_is_boolean(partial))
        return p2p_violate(v, "wrong_type", "allow_partial", "allow_partial must be true or false");
    r->allow_partial = json_is_true(partial);
    return 0;
}

static int dec_money(const json_t *o, struct command *c, struct p2p_violation *v)
{
    bool has_ref;
    return id(o, "participant_id", c->u.money.participant_id, v) ||
                   p2p_json_int(o, "amount", &c->u.money.amount, v) ||
                   p2p_json_opt_str(o, "reference", c->u.money.reference, ENGINE_ID_LEN, &has_ref, v)
               ? -1
               : 0;
}

static int dec_payment(const json_t *o, struct command *c, struct p2p_violation *v)
{
    bool has_ref;
    return id(o, "order_id", c->u.payment.order_id, v) ||
                   id(o, "payer_id", c->u.payment.payer_id, v) ||
                   p2p_json_int(o, "amount", &c->u.payment.amount, v) ||
                   p2p_json_opt_str(o, "reference", c->u.payment.reference, ENGINE_ID_LEN, &has_ref, v)
               ? -1
               : 0;
}

static int dec_profile(const json_t *o, struct command *c, struct p2p_violation *v)
{
    return id(o, "participant_id", c->u.profile.participant_id, v) ||
                   p2p_json_int(o, "capacity_wh_per_month", &c->u.profile.capacity_wh_per_month, v)
               ? -1
               : 0;
}

static int dec_meter(const json_t *o, struct command *c, struct p2p_violation *v)
{
    char q[8];
    if (id(o, "participant_id", c->u.meter.participant_id, v) ||
        p2p_json_int(o, "monthly_wh", &c->u.meter.monthly_wh, v) ||
        p2p_json_str(o, "quality", q, sizeof q, v))
        return -1;
    if (strcmp(q, "HIGH") == 0)
        c->u.meter.quality = METER_HIGH;
    else if (strcmp(q, "MEDIUM") == 0)
        c->u.meter.quality = METER_MEDIUM;
    else if (strcmp(q, "LOW") == 0)
        c->u.meter.quality = METER_LOW;
    else
        return p2p_violate(v, "invalid_field", "quality", "quality must be HIGH, MEDIUM or LOW");
    return 0;
}

static int dec_delivery(const json_t *o, struct command *c, struct p2p_violation *v)
{
    bool has_curtailed;
    c->u.delivery.curtailed_wh = 0;
    return p2p_json_str(o, "fill_id", c->u.delivery.fill_id, ENGINE_ID_LEN, v) ||
                   p2p_json_int(o, "delivered_wh", &c->u.delivery.delivered_wh, v) ||
                   p2p_json_opt_int(o, "curtailed_wh", &c->u.delivery.curtailed_wh, &has_curtailed, v)
               ? -1
               : 0;
}

static int dec_tick(const json_t *o, struct command *c, struct p2p_violation *v)
{
    (void)o;
    (void)c;
    (void)v;
    return 0;
}

static const struct {
    const char *type;
    enum command_kind kind;
    decode_fn decode;
} commands[] = {
    {"energy.p2p.offer.submit.v1", CMD_OFFER_SUBMIT, dec_offer},
    {"energy.p2p.offer.withdraw.v1", CMD_OFFER_WITHDRAW, dec_withdraw},
    {"energy.p2p.order.quote.v1", CMD_ORDER_QUOTE, dec_order},
    {"energy.p2p.order.reserve.v1", CMD_ORDER_RESERVE, dec_order},
    {"energy.p2p.order.buy.v1", CMD_ORDER_BUY, dec_order},
    {"energy.p2p.order.confirm.v1", CMD_ORDER_CONFIRM, dec_order_target},
    {"energy.p2p.order.cancel.v1", CMD_ORDER_CANCEL, dec_order_target},
    {"energy.p2p.sale.cancel.v1", CMD_SALE_CANCEL, dec_fill_target},
    {"energy.p2p.order.payment.v1", CMD_ORDER_PAYMENT, dec_payment},
    {"energy.p2p.wallet.deposit.v1", CMD_DEPOSIT, dec_money},
    {"energy.p2p.wallet.withdrawal.v1", CMD_WITHDRAWAL, dec_money},
    {"energy.p2p.participant.profile.v1", CMD_PROFILE_UPDATE, dec_profile},
    {"energy.p2p.participant.meter.v1", CMD_METER_VERIFIED, dec_meter},
    {"energy.p2p.delivery.report.v1", CMD_DELIVERY_REPORT, dec_delivery},
    {"energy.p2p.clock.tick.v1", CMD_TICK, dec_tick},
};

int command_decode(const char *ce_type, const char *value, size_t len, struct command *c,
                   char market[65], struct p2p_violation *v)
{
    memset(c, 0, sizeof *c);
    market[0] = '\0';
    size_t k = 0, n = sizeof commands / sizeof *commands;
    while (k < n && strcmp(commands[k].type, ce_type) != 0)
        k++;
    if (k == n)
        return p2p_violate(v, "unknown_type", "ce_type", "unknown command type '%s'", ce_type);
    c->kind = commands[k].kind;
    json_t *o = p2p_json_parse_object(value, len, v);
    if (!o) {
        snprintf(v->code, sizeof v->code, "malformed_command");
        return -1;
    }
    const char *cid = json_string_value(json_object_get(o, "command_id"));
    if (cid && strlen(cid) < ENGINE_ID_LEN)
        memcpy(c->command_id, cid, strlen(cid) + 1);
    int rc = id(o, "command_id", c->command_id, v) ||
                     p2p_json_int(o, "issued_at_ms", &c->issued_at_ms, v) ||
                     p2p_json_id(o, "market", market, 65, v) || commands[k].decode(o, c, v)
                 ? -1
                 : 0;
    if (rc && c->kind == CMD_OFFER_SUBMIT) { /* keep the ids for the rejection */
        const char *oid = json_string_value(json_object_get(o, "offer_id"));
        const char *sid = json_string_value(json_object_get(o, "seller_id"));
        snprintf(c->u.offer.offer_id, sizeof c->u.offer.offer_id, "%s", oid && strlen(oid) < 65 ? oid : "");
        snprintf(c->u.offer.seller_id, sizeof c->u.offer.seller_id, "%s", sid && strlen(sid) < 65 ? sid : "");
    }
    if (rc == 0 && (c->issued_at_ms < 0 || c->issued_at_ms > P2P_TIME_MAX_MS))
        rc = p2p_violate(v, "invalid_field", "issued_at_ms", "issued_at_ms is not a plausible time");
    json_decref(o);
    return rc;
}
