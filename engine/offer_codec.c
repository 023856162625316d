#include "engine/offer_codec.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "common/p2p_json.h"

static char *dump(json_t *root)
{
    if (!root)
        return NULL;
    char *s = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(root);
    return s;
}

static json_t *terms_json(const struct offer_terms *t)
{
    json_t *o = json_pack("{s:s, s:s, s:s, s:I, s:I, s:s, s:I, s:I, s:I, s:s}", "offer_id",
                          t->offer_id, "seller_id", t->seller_id, "source_type",
                          source_type_name(t->source), "quantity_wh", (json_int_t)t->quantity_wh,
                          "price_per_kwh", (json_int_t)t->price_per_kwh, "currency", t->currency,
                          "min_order_wh", (json_int_t)t->min_order_wh, "delivery_start_ms",
                          (json_int_t)t->delivery_start_ms, "delivery_end_ms",
                          (json_int_t)t->delivery_end_ms, "meter_id", t->meter_id);
    if (o)
        json_object_set_new(o, "valid_until_ms",
                            t->has_valid_until ? json_integer(t->valid_until_ms) : json_null());
    return o;
}

/* Reads the terms' fields from a command value or an event's "offer" object. */
int offer_terms_from_json(const json_t *o, struct offer_terms *t, struct p2p_violation *v)
{
    char source[16];
    if (p2p_json_id(o, "offer_id", t->offer_id, sizeof t->offer_id, v) ||
        p2p_json_id(o, "seller_id", t->seller_id, sizeof t->seller_id, v) ||
        p2p_json_str(o, "source_type", source, sizeof source, v) ||
        p2p_json_int(o, "quantity_wh", &t->quantity_wh, v) ||
        p2p_json_int(o, "price_per_kwh", &t->price_per_kwh, v) ||
        p2p_json_str(o, "currency", t->currency, sizeof t->currency, v) ||
        p2p_json_int(o, "min_order_wh", &t->min_order_wh, v) ||
        p2p_json_int(o, "delivery_start_ms", &t->delivery_start_ms, v) ||
        p2p_json_int(o, "delivery_end_ms", &t->delivery_end_ms, v) ||
        p2p_json_str(o, "meter_id", t->meter_id, sizeof t->meter_id, v) ||
        p2p_json_opt_int(o, "valid_until_ms", &t->valid_until_ms, &t->has_valid_until, v))
        return -1;
    if (source_type_parse(source, &t->source))
        return p2p_violate(v, "invalid_field", "source_type",
                           "source_type must be SOLAR, BATTERY, GRID, HYBRID or RENEWABLE");
    return 0;
}

char *offer_command_encode(const struct offer_command *c)
{
    json_t *o = json_pack("{s:s, s:I, s:s}", "command_id", c->command_id, "issued_at_ms",
                          (json_int_t)c->issued_at_ms, "market", c->market);
    json_t *t = terms_json(&c->terms);
    if (!o || !t) {
        json_decref(o);
        json_decref(t);
        return NULL;
    }
    json_object_update(o, t);
    json_decref(t);
    return dump(o);
}

/* Copies a string field if it is one, for best-effort ids in rejections. */
static void try_str(const json_t *o, const char *name, char *out, size_t cap)
{
    const char *s = json_string_value(json_object_get(o, name));
    if (s && strlen(s) < cap)
        memcpy(out, s, strlen(s) + 1);
}

int offer_command_decode(const char *value, size_t len, struct offer_command *c,
                         struct p2p_violation *v)
{
    memset(c, 0, sizeof *c);
    json_t *o = p2p_json_parse_object(value, len, v);
    if (!o) {
        snprintf(v->code, sizeof v->code, "malformed_command");
        return -1;
    }
    try_str(o, "command_id", c->command_id, sizeof c->command_id);
    try_str(o, "offer_id", c->terms.offer_id, sizeof c->terms.offer_id);
    try_str(o, "seller_id", c->terms.seller_id, sizeof c->terms.seller_id);
    int rc = -1;
    if (p2p_json_id(o, "command_id", c->command_id, sizeof c->command_id, v) ||
        p2p_json_int(o, "issued_at_ms", &c->issued_at_ms, v) ||
        p2p_json_id(o, "market", c->market, sizeof c->market, v) || offer_terms_from_json(o, &c->terms, v))
        goto out;
    if (c->issued_at_ms < 0 || c->issued_at_ms > P2P_TIME_MAX_MS) {
        p2p_violate(v, "invalid_field", "issued_at_ms", "issued_at_ms is not a plausible time");
        goto out;
    }
    rc = 0;
out:
    json_decref(o);
    return rc;
}

json_t *event_origin_json(const struct event_origin *o)
{
    return json_pack("{s:s, s:s, s:I, s:s, s:{s:s, s:i, s:I}}", "event_id", o->event_id,
                     "command_id", o->command_id, "occurred_at_ms", (json_int_t)o->occurred_at_ms,
                     "market", o->market, "input", "topic", o->topic, "partition",
                     (int)o->partition, "offset", (json_int_t)o->offset);
}

json_t *offer_listed_json(const struct event_origin *o, const struct offer_terms *t)
{
    json_t *root = event_origin_json(o);
    json_t *offer = terms_json(t);
    if (!root || !offer) {
        json_decref(root);
        json_decref(offer);
        return NULL;
    }
    json_object_set_new(offer, "remaining_wh", json_integer(t->quantity_wh));
    json_object_set_new(root, "offer", offer);
    return root;
}

json_t *offer_rejected_json(const struct event_origin *o, const char *offer_id,
                            const char *seller_id, const struct p2p_violation *r)
{
    json_t *root = event_origin_json(o);
    if (!root)
        return NULL;
    json_object_set_new(root, "offer_id", json_string(offer_id));
    json_object_set_new(root, "seller_id", json_string(seller_id));
    json_object_set_new(root, "reason", json_pack("{s:s, s:s, s:s}", "code", r->code, "field",
                                                  r->field, "message", r->message));
    return root;
}

char *offer_listed_encode(const struct event_origin *o, const struct offer_terms *t)
{
    return dump(offer_listed_json(o, t));
}

char *offer_rejected_encode(const struct event_origin *o, const char *offer_id,
                            const char *seller_id, const struct p2p_violation *r)
{
    return dump(offer_rejected_json(o, offer_id, seller_id, r));
}

static int origin_read(const json_t *o, struct event_origin *e, struct p2p_violation *v)
{
    int64_t partition;
    json_t *in = json_object_get(o, "input");
    if (!json_is_object(in))
        return p2p_violate(v, "missing_field", "input", "input is required");
    if (p2p_json_str(o, "event_id", e->event_id, sizeof e->event_id, v) ||
        p2p_json_str(o, "command_id", e->command_id, sizeof e->command_id, v) ||
        p2p_json_int(o, "occurred_at_ms", &e->occurred_at_ms, v) ||
        p2p_json_str(o, "market", e->market, sizeof e->market, v) ||
        p2p_json_str(in, "topic", e->topic, sizeof e->topic, v) ||
        p2p_json_int(in, "partition", &partition, v) || p2p_json_int(in, "offset", &e->offset, v))
        return -1;
    e->partition = (int32_t)partition;
    return 0;
}

int offer_event_decode(const char *ce_type, const char *value, size_t len, struct offer_event *ev,
                       struct p2p_violation *v)
{
    memset(ev, 0, sizeof *ev);
    json_t *o = p2p_json_parse_object(value, len, v);
    if (!o)
        return -1;
    int rc = -1;
    if (origin_read(o, &ev->origin, v))
        goto out;
    if (strcmp(ce_type, CE_OFFER_LISTED) == 0) {
        json_t *offer = json_object_get(o, "offer");
        ev->kind = OFFER_EVENT_LISTED;
        if (!json_is_object(offer)) {
            p2p_violate(v, "missing_field", "offer", "offer is required");
            goto out;
        }
        if (offer_terms_from_json(offer, &ev->terms, v) ||
            p2p_json_int(offer, "remaining_wh", &ev->remaining_wh, v))
            goto out;
    } else if (strcmp(ce_type, CE_OFFER_REJECTED) == 0) {
        json_t *r = json_object_get(o, "reason");
        ev->kind = OFFER_EVENT_REJECTED;
        try_str(o, "offer_id", ev->terms.offer_id, sizeof ev->terms.offer_id);
        try_str(o, "seller_id", ev->terms.seller_id, sizeof ev->terms.seller_id);
        if (!json_is_object(r)) {
            p2p_violate(v, "missing_field", "reason", "reason is required");
            goto out;
        }
        try_str(r, "code", ev->reason.code, sizeof ev->reason.code);
        try_str(r, "field", ev->reason.field, sizeof ev->reason.field);
        try_str(r, "message", ev->reason.message, sizeof ev->reason.message);
    } else if (strcmp(ce_type, CE_OFFER_WITHDRAWN) == 0 || strcmp(ce_type, CE_OFFER_EXPIRED) == 0) {
        ev->kind = strcmp(ce_type, CE_OFFER_WITHDRAWN) == 0 ? OFFER_EVENT_WITHDRAWN : OFFER_EVENT_EXPIRED;
        if (p2p_json_id(o, "offer_id", ev->terms.offer_id, sizeof ev->terms.offer_id, v) ||
            p2p_json_int(o, "remaining_wh", &ev->remaining_wh, v))
            goto out;
    } else {
        p2p_violate(v, "unknown_type", "ce_type", "unknown event type %s", ce_type);
        goto out;
    }
    rc = 0;
out:
    json_decref(o);
    return rc;
}
