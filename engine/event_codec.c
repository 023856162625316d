#include "engine/event_codec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const output_topic_names[OUTPUT_TOPIC_COUNT] = {
    "offer-events", "order-events", "fills", "trust", "journal", "participant-events",
    "engine-sequence"};

#define J(v) ((json_int_t)(v))

static const char *pid(const struct engine *e, uint32_t i) { return e->participants[i].id; }

static json_t *violation_json(const struct p2p_violation *r)
{
    return json_pack("{s:s, s:s, s:s}", "code", r->code, "field", r->field, "message", r->message);
}

static void offer_closed(const struct engine *e, const struct event *ev, json_t *root)
{
    const struct offer_entry *o = &e->offers[ev->u.offer_closed.offer];
    json_object_set_new(root, "offer_id", json_string(o->terms.offer_id));
    json_object_set_new(root, "seller_id", json_string(o->terms.seller_id));
    json_object_set_new(root, "wh", json_integer(ev->u.offer_closed.wh));
    json_object_set_new(root, "remaining_wh", json_integer(engine_offer_open_wh(o)));
}

static json_t *line_json(const struct engine *e, uint32_t offer, int line, const char *fill_id,
                         int64_t wh, int64_t amount, int64_t fee, int32_t score)
{
    const struct offer_entry *o = &e->offers[offer];
    json_t *l = json_pack("{s:i, s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "line", line,
                          "offer_id", o->terms.offer_id, "seller_id", o->terms.seller_id,
                          "quantity_wh", J(wh), "price_per_kwh", J(o->terms.price_per_kwh), "amount",
                          J(amount), "fee", J(fee), "score_ppm", J(score), "delivery_start_ms",
                          J(o->terms.delivery_start_ms), "delivery_end_ms", J(o->terms.delivery_end_ms));
    if (l && fill_id)
        json_object_set_new(l, "fill_id", json_string(fill_id));
    return l;
}

/* The platform paying for an order's buyer, or JSON null. */
static json_t *payer_json(const struct engine *e, const struct order_entry *o)
{
    return o->payer == ID_INDEX_NONE ? json_null() : json_string(pid(e, o->payer));
}

static void request_fields(json_t *root, const struct order_request *r, const char *buyer)
{
    json_object_set_new(root, "order_id", json_string(r->order_id));
    json_object_set_new(root, "buyer_id", json_string(buyer));
    json_object_set_new(root, "payer_id", r->payer_id[0] ? json_string(r->payer_id) : json_null());
    json_object_set_new(root, "quantity_wh", json_integer(r->quantity_wh));
    json_object_set_new(root, "window_start_ms", json_integer(r->window_start_ms));
    json_object_set_new(root, "window_end_ms", json_integer(r->window_end_ms));
}

static void order_fields(const struct engine *e, const struct event_sink *sink,
                         const struct event *ev, json_t *root)
{
    json_t *lines = json_array();
    if (ev->kind == EV_ORDER_QUOTED) {
        request_fields(root, &sink->quote_request, sink->quote_request.buyer_id);
        for (int k = 0; k < sink->nquote_lines; k++) {
            const struct quote_line *q = &sink->quote_lines[k];
            json_array_append_new(lines, line_json(e, q->offer, k + 1, NULL, q->quantity_wh,
                                                   q->amount, q->fee, q->score_ppm));
        }
    } else {
        const struct order_entry *o = &e->orders[ev->u.order.order];
        request_fields(root, &o->req, pid(e, o->buyer));
        for (uint32_t f = o->first_fill; f < o->first_fill + o->nfills; f++) {
            const struct fill_entry *fl = &e->fills[f];
            char fid[ENGINE_ID_LEN + 8];
            json_array_append_new(lines, line_json(e, fl->offer, fl->line, engine_fill_id(e, f, fid),
                                                   fl->quantity_wh, fl->amount, fl->fee,
                                                   fl->score_ppm));
        }
        if (ev->kind == EV_ORDER_RESERVED)
            json_object_set_new(root, "expires_at_ms", json_integer(o->expires_at_ms));
    }
    json_object_set_new(root, "filled_wh", json_integer(ev->u.order.filled_wh));
    json_object_set_new(root, "amount", json_integer(ev->u.order.amount));
    json_object_set_new(root, "fee", json_integer(ev->u.order.fee));
    json_object_set_new(root, "total", json_integer(ev->u.order.amount + ev->u.order.fee));
    json_object_set_new(root, "lines", lines);
}

static void fill_fields(const struct engine *e, uint32_t f, json_t *root)
{
    const struct fill_entry *fl = &e->fills[f];
    const struct offer_entry *o = &e->offers[fl->offer];
    char fid[ENGINE_ID_LEN + 8];
    json_object_set_new(root, "fill_id", json_string(engine_fill_id(e, f, fid)));
    json_object_set_new(root, "order_id", json_string(e->orders[fl->order].id));
    json_object_set_new(root, "offer_id", json_string(o->terms.offer_id));
    json_object_set_new(root, "seller_id", json_string(pid(e, fl->seller)));
    json_object_set_new(root, "buyer_id", json_string(pid(e, fl->buyer)));
    json_object_set_new(root, "payer_id", payer_json(e, &e->orders[fl->order]));
    json_object_set_new(root, "quantity_wh", json_integer(fl->quantity_wh));
    json_object_set_new(root, "price_per_kwh", json_integer(fl->price_per_kwh));
    json_object_set_new(root, "amount", json_integer(fl->amount));
    json_object_set_new(root, "fee", json_integer(fl->fee));
    json_object_set_new(root, "delivery_start_ms", json_integer(o->terms.delivery_start_ms));
    json_object_set_new(root, "delivery_end_ms", json_integer(o->terms.delivery_end_ms));
}

static void participant_fields(const struct engine *e, uint32_t p, json_t *root)
{
    const struct participant *pp = &e->participants[p];
    json_object_set_new(root, "participant_id", json_string(pp->id));
    json_object_set_new(root, "trust", json_integer(pp->trust));
    json_object_set_new(root, "tier", json_string(trust_tier_name(pp->trust)));
    json_object_set_new(root, "trade_limit_wh", json_integer(engine_trade_limit_wh(e, p)));
    json_object_set_new(root, "capacity_wh_per_month", json_integer(pp->capacity_wh));
    json_object_set_new(root, "verified_wh_per_month", json_integer(pp->verified_wh));
}

static const char *account_name(const struct engine *e, const struct posting *p, char *buf, size_t n)
{
    switch (p->account) {
    case ACCOUNT_WALLET: snprintf(buf, n, "wallet:%s", pid(e, p->owner)); break;
    case ACCOUNT_ESCROW: snprintf(buf, n, "escrow:%s", e->orders[p->owner].id); break;
    case ACCOUNT_PLATFORM: snprintf(buf, n, "platform"); break;
    case ACCOUNT_EXTERNAL: snprintf(buf, n, "external"); break;
    case ACCOUNT_RECEIVABLE: snprintf(buf, n, "receivable:%s", pid(e, p->owner)); break;
    }
    return buf;
}

static enum output_topic rejection_topic(enum command_kind cause)
{
    switch (cause) {
    case CMD_OFFER_SUBMIT:
    case CMD_OFFER_WITHDRAW: return OUT_OFFER_EVENTS;
    case CMD_DEPOSIT:
    case CMD_WITHDRAWAL:
    case CMD_PROFILE_UPDATE:
    case CMD_METER_VERIFIED: return OUT_PARTICIPANT_EVENTS;
    default: return OUT_ORDER_EVENTS;
    }
}

int event_encode(const struct engine *e, const struct event_sink *sink, const struct event *ev,
                 enum command_kind cause, const struct event_origin *origin,
                 const char *prev_hash, struct encoded_event *out)
{
    json_t *root = NULL;
    out->json = NULL;
    switch (ev->kind) {
    case EV_OFFER_LISTED:
        out->topic = OUT_OFFER_EVENTS;
        out->ce_type = "energy.p2p.offer.listed.v1";
        root = offer_listed_json(origin, &e->offers[ev->u.offer.offer].terms);
        break;
    case EV_OFFER_REJECTED:
        out->topic = OUT_OFFER_EVENTS;
        out->ce_type = "energy.p2p.offer.rejected.v1";
        root = offer_rejected_json(origin, ev->u.rejected.subject_id, ev->u.rejected.actor_id,
                                   &ev->u.rejected.reason);
        break;
    case EV_OFFER_WITHDRAWN:
    case EV_OFFER_EXPIRED:
        out->topic = OUT_OFFER_EVENTS;
        out->ce_type = ev->kind == EV_OFFER_WITHDRAWN ? "energy.p2p.offer.withdrawn.v1"
                                                      : "energy.p2p.offer.expired.v1";
        if ((root = event_origin_json(origin)))
            offer_closed(e, ev, root);
        break;
    case EV_ORDER_QUOTED:
    case EV_ORDER_RESERVED:
    case EV_ORDER_CONFIRMED:
    case EV_ORDER_SETTLED:
        out->topic = OUT_ORDER_EVENTS;
        out->ce_type = ev->kind == EV_ORDER_QUOTED      ? "energy.p2p.order.quoted.v1"
                       : ev->kind == EV_ORDER_RESERVED  ? "energy.p2p.order.reserved.v1"
                       : ev->kind == EV_ORDER_CONFIRMED ? "energy.p2p.order.confirmed.v1"
                                                        : "energy.p2p.order.settled.v1";
        if ((root = event_origin_json(origin)))
            order_fields(e, sink, ev, root);
        break;
    case EV_ORDER_CANCELLED:
    case EV_ORDER_EXPIRED: {
        const struct order_entry *o = &e->orders[ev->u.order_cancelled.order];
        out->topic = OUT_ORDER_EVENTS;
        out->ce_type = ev->kind == EV_ORDER_CANCELLED ? "energy.p2p.order.cancelled.v1"
                                                      : "energy.p2p.order.expired.v1";
        if ((root = event_origin_json(origin))) {
            json_object_set_new(root, "order_id", json_string(o->id));
            json_object_set_new(root, "buyer_id", json_string(pid(e, o->buyer)));
            json_object_set_new(root, "payer_id", payer_json(e, o));
            json_object_set_new(root, "released_wh", json_integer(ev->u.order_cancelled.released_wh));
            json_object_set_new(root, "refund", json_integer(ev->u.order_cancelled.refund));
            json_object_set_new(root, "cancel_fee", json_integer(ev->u.order_cancelled.cancel_fee));
        }
        break;
    }
    case EV_ORDER_REJECTED:
    case EV_COMMAND_REJECTED:
        out->topic = ev->kind == EV_ORDER_REJECTED ? OUT_ORDER_EVENTS : rejection_topic(cause);
        out->ce_type = ev->kind == EV_ORDER_REJECTED ? "energy.p2p.order.rejected.v1"
                                                     : "energy.p2p.command.rejected.v1";
        if ((root = event_origin_json(origin))) {
            json_object_set_new(root, "subject_id", json_string(ev->u.rejected.subject_id));
            json_object_set_new(root, "actor_id", json_string(ev->u.rejected.actor_id));
            json_object_set_new(root, "reason", violation_json(&ev->u.rejected.reason));
            if (ev->kind == EV_ORDER_REJECTED) {
                json_t *alts = json_array();
                for (int k = 0; k < ev->u.rejected.nalternatives; k++) {
                    const struct alternative_window *w = &ev->u.rejected.alternatives[k];
                    json_array_append_new(alts, json_pack("{s:I, s:I, s:I}", "window_start_ms",
                                                          J(w->start_ms), "window_end_ms",
                                                          J(w->end_ms), "available_wh",
                                                          J(w->available_wh)));
                }
                json_object_set_new(root, "shortfall_wh", json_integer(ev->u.rejected.shortfall_wh));
                json_object_set_new(root, "alternatives", alts);
            }
        }
        break;
    case EV_ORDER_PAID: {
        const struct order_entry *o = &e->orders[ev->u.order_paid.order];
        out->topic = OUT_ORDER_EVENTS;
        out->ce_type = "energy.p2p.order.paid.v1";
        if ((root = event_origin_json(origin))) {
            json_object_set_new(root, "order_id", json_string(o->id));
            json_object_set_new(root, "buyer_id", json_string(pid(e, o->buyer)));
            json_object_set_new(root, "payer_id", payer_json(e, o));
            json_object_set_new(root, "amount", json_integer(ev->u.order_paid.amount));
            json_object_set_new(root, "paid_total", json_integer(ev->u.order_paid.paid_total));
            json_object_set_new(root, "outstanding", json_integer(ev->u.order_paid.outstanding));
            json_object_set_new(root, "reference", json_string(ev->u.order_paid.reference));
        }
        break;
    }
    case EV_FILL:
        out->topic = OUT_FILLS;
        out->ce_type = "energy.p2p.fill.v1";
        if ((root = event_origin_json(origin)))
            fill_fields(e, ev->u.fill.fill, root);
        break;
    case EV_FILL_CANCELLED:
        out->topic = OUT_ORDER_EVENTS;
        out->ce_type = "energy.p2p.fill.cancelled.v1";
        if ((root = event_origin_json(origin))) {
            fill_fields(e, ev->u.fill_cancelled.fill, root);
            json_object_set_new(root, "refund", json_integer(ev->u.fill_cancelled.refund));
            json_object_set_new(root, "penalty", json_integer(ev->u.fill_cancelled.penalty));
        }
        break;
    case EV_DELIVERY_SETTLED:
        out->topic = OUT_ORDER_EVENTS;
        out->ce_type = "energy.p2p.delivery.settled.v1";
        if ((root = event_origin_json(origin))) {
            fill_fields(e, ev->u.delivery.fill, root);
            json_object_set_new(root, "delivered_wh", json_integer(ev->u.delivery.delivered_wh));
            json_object_set_new(root, "curtailed_wh", json_integer(ev->u.delivery.curtailed_wh));
            json_object_set_new(root, "seller_paid", json_integer(ev->u.delivery.seller_paid));
            json_object_set_new(root, "buyer_refund", json_integer(ev->u.delivery.buyer_refund));
            json_object_set_new(root, "platform_fee", json_integer(ev->u.delivery.platform_fee));
        }
        break;
    case EV_TRUST_CHANGED:
        out->topic = OUT_TRUST;
        out->ce_type = "energy.p2p.trust.changed.v1";
        if ((root = event_origin_json(origin))) {
            participant_fields(e, ev->u.trust.participant, root);
            json_object_set_new(root, "old_score", json_integer(ev->u.trust.old_score));
            json_object_set_new(root, "new_score", json_integer(ev->u.trust.new_score));
            json_object_set_new(root, "delta", json_integer(ev->u.trust.new_score - ev->u.trust.old_score));
            json_object_set_new(root, "reason", json_string(ev->u.trust.reason));
            json_object_set_new(root, "ref_id", json_string(ev->u.trust.ref_id));
        }
        break;
    case EV_JOURNAL_ENTRY:
        out->topic = OUT_JOURNAL;
        out->ce_type = "energy.p2p.journal.entry.v1";
        if ((root = event_origin_json(origin))) {
            json_t *postings = json_array();
            char acct[ENGINE_ID_LEN + 16];
            for (int k = 0; k < ev->u.journal.npostings; k++) {
                const struct posting *p = &ev->u.journal.postings[k];
                json_array_append_new(postings, json_pack("{s:s, s:I}", "account",
                                                          account_name(e, p, acct, sizeof acct),
                                                          "amount", J(p->amount)));
            }
            json_object_set_new(root, "reason", json_string(ev->u.journal.reason));
            json_object_set_new(root, "ref_id", json_string(ev->u.journal.ref_id));
            json_object_set_new(root, "currency", json_string(e->p.market.currency));
            json_object_set_new(root, "postings", postings);
        }
        break;
    case EV_PARTICIPANT_UPDATED:
        out->topic = OUT_PARTICIPANT_EVENTS;
        out->ce_type = "energy.p2p.participant.updated.v1";
        if ((root = event_origin_json(origin)))
            participant_fields(e, ev->u.participant.participant, root);
        break;
    }
    if (!root)
        return -1;
    json_object_set_new(root, "prev_hash", json_string(prev_hash));
    out->json = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(root);
    return out->json ? 0 : -1;
}
