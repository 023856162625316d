/* After the trade: DISCOM delivery reports pay sellers for what was delivered
 * and refund buyers for the rest (product.md §8), trust follows delivery
 * (§7); plus deposits and withdrawals, payments by the platforms that pay
 * for their buyers (receivables), declared capacity and verified meter data.
 * A fill is settled once: a second report changes nothing; a payment is
 * applied once: its reference, resent, changes nothing either. */
#include <stdio.h>
#include <string.h>

#include "common/p2p_json.h"
#include "engine/core/internal.h"

#define MONEY_MAX 1000000000000LL /* 10^12 minor units in one deposit is a typo */
#define CAPACITY_MAX_WH 1000000000LL /* 1 GWh a month is beyond a prosumer */

void delivery_report(struct engine *e, const struct command *c, struct event_sink *out)
{
    const char *id = c->u.delivery.fill_id;
    uint32_t f = fill_find(e, id);
    if (f == ID_INDEX_NONE) {
        refuse(out, EV_COMMAND_REJECTED, id, "discom", "not_found", "fill_id", "no such trade");
        return;
    }
    struct fill_entry *fl = &e->fills[f];
    struct order_entry *o = &e->orders[fl->order];
    const struct offer_terms *t = &e->offers[fl->offer].terms;
    if (fl->status == FILL_SETTLED) {
        refuse(out, EV_COMMAND_REJECTED, id, "discom", "duplicate_report", "fill_id", "this trade is already settled");
        return;
    }
    if (fl->status != FILL_SOLD) {
        refuse(out, EV_COMMAND_REJECTED, id, "discom", "not_deliverable", "fill_id", "this trade was not sold or was cancelled");
        return;
    }
    int64_t end = t->delivery_end_ms < o->req.window_end_ms ? t->delivery_end_ms : o->req.window_end_ms;
    if (e->now_ms < end) {
        refuse(out, EV_COMMAND_REJECTED, id, "discom", "too_early", "fill_id", "the delivery window has not ended yet");
        return;
    }
    int64_t delivered = c->u.delivery.delivered_wh, curtailed = c->u.delivery.curtailed_wh;
    if (delivered < 0 || curtailed < 0 || curtailed > fl->quantity_wh) {
        refuse(out, EV_COMMAND_REJECTED, id, "discom", "invalid_field", delivered < 0 ? "delivered_wh" : "curtailed_wh",
               "delivered and curtailed energy must be >= 0, curtailed at most the traded quantity");
        return;
    }
    int64_t expected = fl->quantity_wh - curtailed;
    if (delivered > expected)
        delivered = expected;
    int64_t paid = money_cost(delivered, fl->price_per_kwh);
    int64_t platform_fee = money_rate(paid, e->p.platform_fee_bp);
    int64_t refund = (fl->amount - paid) + (fl->fee - platform_fee);
    struct journal_builder j;
    journal_begin(e, out, &j, "delivery_settled", id);
    journal_post(e, &j, ACCOUNT_ESCROW, fl->order, -(fl->amount + fl->fee));
    journal_post(e, &j, ACCOUNT_WALLET, fl->seller, paid);
    journal_post(e, &j, ACCOUNT_PLATFORM, 0, platform_fee);
    journal_post_buyer(e, &j, fl->order, refund);
    if (expected > 0) {
        if (delivered >= expected)
            trust_adjust(e, out, fl->seller, e->p.trust_success_bonus, "delivery_full", id);
        else if (delivered == 0)
            trust_adjust(e, out, fl->seller, -e->p.trust_failure_penalty, "delivery_failed", id);
        else
            trust_adjust(e, out, fl->seller,
                         -(int32_t)((e->p.trust_failure_penalty * (expected - delivered) + expected / 2) /
                                    expected),
                         "delivery_partial", id);
    }
    fl->status = FILL_SETTLED;
    o->open_lines--;
    struct event *ev = emit(out, EV_DELIVERY_SETTLED);
    ev->u.delivery.fill = f;
    ev->u.delivery.delivered_wh = delivered;
    ev->u.delivery.curtailed_wh = curtailed;
    ev->u.delivery.seller_paid = paid;
    ev->u.delivery.buyer_refund = refund;
    ev->u.delivery.platform_fee = platform_fee;
    settle_if_done(e, out, fl->order);
}

void money_command(struct engine *e, const struct command *c, struct event_sink *out)
{
    const char *who = c->u.money.participant_id;
    int64_t amount = c->u.money.amount;
    bool deposit = c->kind == CMD_DEPOSIT;
    if (amount < 1 || amount > MONEY_MAX) {
        refuse(out, EV_COMMAND_REJECTED, c->command_id, who, "invalid_field", "amount",
               "amount must be a positive number of minor units, at most 10^12");
        return;
    }
    uint32_t p = deposit ? participant_get(e, who) : engine_find_participant(e, who);
    if (p == ID_INDEX_NONE || (!deposit && e->participants[p].wallet < amount)) {
        refuse(out, EV_COMMAND_REJECTED, c->command_id, who, deposit ? "capacity" : "insufficient_funds",
               deposit ? "participant_id" : "amount",
               deposit ? "no room for another participant" : "the amount exceeds the available balance");
        return;
    }
    struct journal_builder j;
    journal_begin(e, out, &j, deposit ? "deposit" : "withdrawal",
                  c->u.money.reference[0] ? c->u.money.reference : c->command_id);
    journal_post(e, &j, ACCOUNT_EXTERNAL, 0, deposit ? -amount : amount);
    journal_post(e, &j, ACCOUNT_WALLET, p, deposit ? amount : -amount);
    *(deposit ? &e->deposited : &e->withdrawn) += amount;
}

/* Whether an order's reservation ever became a sale: its lines were sold
 * (and may since be settled or cancelled), not merely reserved or released. */
static bool was_confirmed(const struct engine *e, const struct order_entry *o)
{
    if (o->nfills == 0)
        return false;
    uint8_t s = e->fills[o->first_fill].status;
    return s != FILL_RESERVED && s != FILL_RELEASED;
}

/* The payment of order `order` with this reference, or ID_INDEX_NONE. */
static uint32_t payment_find(const struct engine *e, uint32_t order, const char *reference)
{
    const struct order_entry *o = &e->orders[order];
    uint32_t p = o->last_payment;
    for (uint16_t k = 0; k < o->npayments; k++, p = e->payments[p].prev_of_order)
        if (strcmp(e->payments[p].reference, reference) == 0)
            return p;
    return ID_INDEX_NONE;
}

/* Keeps an applied payment as the order's newest (room checked by the caller). */
static void payment_record(struct engine *e, uint32_t order, const struct command *c)
{
    struct order_entry *o = &e->orders[order];
    uint32_t p = e->npayments++;
    struct payment_entry *pe = &e->payments[p];
    pe->order = order;
    pe->prev_of_order = o->npayments ? o->last_payment : ID_INDEX_NONE;
    pe->amount = c->u.payment.amount;
    memcpy(pe->reference, c->u.payment.reference, sizeof pe->reference);
    o->last_payment = p;
    o->npayments++;
}

/* A payment's reference is its identity: one that was already applied to the
 * order is refused (duplicate_payment: the same amount, i.e. a resend; else
 * reference_reused), so a platform retrying never pays twice. Returns true
 * when it refused. */
static bool refused_reference(const struct engine *e, uint32_t order, const struct command *c,
                              struct event_sink *out)
{
    const char *id = c->u.payment.order_id, *payer = c->u.payment.payer_id;
    const struct order_entry *o = &e->orders[order];
    uint32_t p = payment_find(e, order, c->u.payment.reference);
    char msg[200];
    if (p != ID_INDEX_NONE && e->payments[p].amount == c->u.payment.amount) {
        snprintf(msg, sizeof msg,
                 "this payment was already applied to the order; paid so far %lld, still owed %lld",
                 (long long)o->paid, (long long)o->owed);
        refuse(out, EV_COMMAND_REJECTED, id, payer, "duplicate_payment", "reference", msg);
    } else if (p != ID_INDEX_NONE) {
        snprintf(msg, sizeof msg,
                 "a payment of %lld with this reference was already applied to the order",
                 (long long)e->payments[p].amount);
        refuse(out, EV_COMMAND_REJECTED, id, payer, "reference_reused", "reference", msg);
    } else if (o->npayments >= ENGINE_PAYMENTS_PER_ORDER || e->npayments >= e->cap.orders) {
        if (o->npayments >= ENGINE_PAYMENTS_PER_ORDER)
            snprintf(msg, sizeof msg, "an order takes at most %d payments",
                     ENGINE_PAYMENTS_PER_ORDER);
        else
            snprintf(msg, sizeof msg, "no room to record another payment");
        refuse(out, EV_COMMAND_REJECTED, id, payer, "capacity", "reference", msg);
    } else {
        return false;
    }
    return true;
}

void order_payment(struct engine *e, const struct command *c, struct event_sink *out)
{
    const char *id = c->u.payment.order_id, *payer = c->u.payment.payer_id;
    const char *reference = c->u.payment.reference;
    int64_t amount = c->u.payment.amount;
    uint32_t i = engine_find_order(e, id);
    const struct order_entry *o = i == ID_INDEX_NONE ? NULL : &e->orders[i];
    char msg[160];
    if (amount < 1 || amount > MONEY_MAX) {
        refuse(out, EV_COMMAND_REJECTED, id, payer, "invalid_field", "amount",
               "amount must be a positive number of minor units, at most 10^12");
    } else if (!reference[0]) {
        refuse(out, EV_COMMAND_REJECTED, id, payer, "missing_field", "reference",
               "a payment needs its reference (transaction id): it makes a resend harmless");
    } else if (!p2p_id_valid(reference, ENGINE_ID_LEN - 1)) {
        refuse(out, EV_COMMAND_REJECTED, id, payer, "invalid_field", "reference",
               "reference must be 1 to 64 letters, digits and . _ : @ - (starting with a letter "
               "or digit)");
    } else if (!o) {
        refuse(out, EV_COMMAND_REJECTED, id, payer, "not_found", "order_id", "no such order");
    } else if (o->payer == ID_INDEX_NONE) {
        refuse(out, EV_COMMAND_REJECTED, id, payer, "no_payer", "payer_id",
               "this order is paid from the buyer's wallet, not by a platform");
    } else if (strcmp(e->participants[o->payer].id, payer) != 0) {
        refuse(out, EV_COMMAND_REJECTED, id, payer, "wrong_payer", "payer_id",
               "another platform pays for this order");
    } else if (!was_confirmed(e, o)) {
        refuse(out, EV_COMMAND_REJECTED, id, payer, "not_confirmed", "order_id",
               "the order was never confirmed: nothing is owed for it");
    } else if (refused_reference(e, i, c, out)) {
        return;
    } else if (amount > o->owed) {
        snprintf(msg, sizeof msg, "the amount exceeds what is still owed for this order (%lld)",
                 (long long)(o->owed > 0 ? o->owed : 0));
        refuse(out, EV_COMMAND_REJECTED, id, payer, "exceeds_outstanding", "amount", msg);
    } else {
        struct journal_builder j;
        journal_begin(e, out, &j, "receivable_paid", id);
        journal_post(e, &j, ACCOUNT_EXTERNAL, 0, -amount);
        journal_post_buyer(e, &j, i, amount);
        e->orders[i].paid += amount;
        e->payments_received += amount;
        payment_record(e, i, c);
        struct event *ev = emit(out, EV_ORDER_PAID);
        ev->u.order_paid.order = i;
        ev->u.order_paid.amount = amount;
        ev->u.order_paid.paid_total = e->orders[i].paid;
        ev->u.order_paid.outstanding = e->orders[i].owed;
        memcpy(ev->u.order_paid.reference, reference, sizeof ev->u.order_paid.reference);
    }
}

void profile_update(struct engine *e, const struct command *c, struct event_sink *out)
{
    const char *who = c->u.profile.participant_id;
    int64_t cap = c->u.profile.capacity_wh_per_month;
    uint32_t p = cap < 0 || cap > CAPACITY_MAX_WH ? ID_INDEX_NONE : participant_get(e, who);
    if (p == ID_INDEX_NONE) {
        refuse(out, EV_COMMAND_REJECTED, c->command_id, who, "invalid_field", "capacity_wh_per_month",
               "production capacity must be between 0 and 1,000,000 kWh a month");
        return;
    }
    e->participants[p].capacity_wh = cap;
    emit(out, EV_PARTICIPANT_UPDATED)->u.participant.participant = p;
}

void meter_verified(struct engine *e, const struct command *c, struct event_sink *out)
{
    static const int32_t quality_percent[] = {[METER_LOW] = 0, [METER_MEDIUM] = 60, [METER_HIGH] = 100};
    const char *who = c->u.meter.participant_id;
    int64_t monthly = c->u.meter.monthly_wh;
    bool valid = monthly >= 1 && monthly <= CAPACITY_MAX_WH && (unsigned)c->u.meter.quality <= METER_HIGH;
    uint32_t p = valid ? participant_get(e, who) : ID_INDEX_NONE;
    if (p == ID_INDEX_NONE) {
        refuse(out, EV_COMMAND_REJECTED, c->command_id, who, "invalid_field", "monthly_wh",
               "verified production must be between 1 Wh and 1,000,000 kWh a month");
        return;
    }
    struct participant *pp = &e->participants[p];
    pp->verified_wh = monthly;
    int32_t bonus = e->p.trust_meter_bonus * quality_percent[c->u.meter.quality] / 100;
    if (bonus > 0 && !pp->meter_bonus_given) {
        pp->meter_bonus_given = true;
        trust_adjust(e, out, p, bonus, "meter_data", c->command_id);
    }
    emit(out, EV_PARTICIPANT_UPDATED)->u.participant.participant = p;
}
