/* Deterministic command streams for the engine core: see workload.h.
 *
 * The stream mixes two sources:
 *  - a random mix of what participants start on their own: list an offer,
 *    buy, reserve, quote, withdraw an offer, move money, update a profile,
 *    report meter data, and a little bad input;
 *  - follow-ups scheduled in simulated time from the engine's answers: a
 *    reservation is confirmed a few seconds to minutes later (some too late,
 *    some never), a few confirmed orders and sold lines are cancelled, and
 *    the DISCOM reports every sold line some hours after its window ended;
 *    the platform paying for an order (some orders have one) pays what it
 *    owes in one or two payments, now and then too much, and sometimes sends
 *    a payment again (a retry after a lost answer: refused as a duplicate).
 * Follow-ups that are due go first, so the lifecycle of a trade plays out at
 * a realistic pace whatever the market's size. */
#include "bench/workload.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RING_OFFERS 2048u

enum action_kind {
    ACT_CONFIRM, ACT_CANCEL_ORDER, ACT_SALE_CANCEL, ACT_DELIVERY, ACT_DELIVERY_DUP, ACT_PAYMENT,
    ACT_PAYMENT_RESEND
};

#define PAYERS 3 /* platforms paying for some buyers: "bap<k>.example" */

struct action {
    int64_t due_ms;
    uint64_t seq; /* tie-break: scheduling order */
    uint32_t kind;
    uint32_t idx; /* order or fill index */
};

struct workload {
    struct workload_config cfg;
    uint64_t rng;
    int64_t now;
    uint64_t ncommands;   /* generated */
    uint64_t nrandom;     /* from the random mix (ticks excluded) */
    uint32_t setup_pos;   /* setup commands issued so far */
    uint32_t next_offer, next_order, next_quote;
    enum command_kind last_kind;
    uint64_t kind_counts[CMD_KIND_COUNT];
    /* sellers whose declared capacity is small: their offers hit the trade limit */
    uint8_t *small_seller;
    /* recently listed offers (engine indices), oldest overwritten */
    uint32_t offers[RING_OFFERS];
    uint32_t noffers_seen;
    char last_order_id[ENGINE_ID_LEN];
    /* follow-ups: a binary min-heap on (due_ms, seq) */
    struct action *heap;
    uint32_t heap_n, heap_cap;
    uint64_t action_seq;
    uint64_t dropped_actions;
};

/* ---- randomness: splitmix64 -------------------------------------------- */

static uint64_t rnd(struct workload *w)
{
    uint64_t z = (w->rng += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint64_t below(struct workload *w, uint64_t n) { return n ? rnd(w) % n : 0; }

/* uniform in [lo, hi] */
static int64_t between(struct workload *w, int64_t lo, int64_t hi)
{
    return lo + (int64_t)below(w, (uint64_t)(hi - lo) + 1);
}

static bool chance(struct workload *w, unsigned per_mille) { return below(w, 1000) < per_mille; }

/* ---- configuration -------------------------------------------------------- */

void workload_config_default(struct workload_config *c, uint64_t seed, uint32_t market,
                             uint64_t commands)
{
    memset(c, 0, sizeof *c);
    c->seed = seed;
    c->market = market;
    uint64_t s = commands / 250;
    c->sellers = (uint32_t)(s < 10 ? 10 : s > 500 ? 500 : s);
    c->buyers = 3 * c->sellers;
    c->start_ms = WORKLOAD_EPOCH_MS;
    /* ~20 commands per seller per simulated day: each seller lists ~4 offers a
     * day and each buyer places ~1.5 orders a day. */
    c->ms_per_command = 86400000LL / (20LL * c->sellers);
    c->tick_every = 100;
    c->expected_commands = commands;
}

void workload_capacity(const struct workload_config *c, uint64_t commands,
                       struct engine_capacity *cap)
{
    /* Offers come from 20% of the random mix, orders from ~40% (buy, reserve,
     * bad input); each order has a few lines. Generous margins. */
    cap->participants = c->sellers + c->buyers + 64;
    cap->offers = (uint32_t)(commands * 3 / 10 + 256);
    cap->orders = (uint32_t)(commands / 2 + 256);
    cap->fills = (uint32_t)(commands * 3 / 2 + 1024);
}

/* ---- life cycle --------------------------------------------------------------- */

struct workload *workload_create(const struct workload_config *c)
{
    struct workload *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->cfg = *c;
    if (w->cfg.sellers == 0)
        w->cfg.sellers = 1;
    if (w->cfg.buyers == 0)
        w->cfg.buyers = 1;
    if (w->cfg.tick_every == 0)
        w->cfg.tick_every = 100;
    if (w->cfg.ms_per_command <= 0)
        w->cfg.ms_per_command = 1000;
    w->rng = c->seed * 0x2545f4914f6cdd1dULL + c->market + 1;
    w->now = c->start_ms;
    w->heap_cap = (uint32_t)(2 * c->expected_commands + 4096);
    w->heap = calloc(w->heap_cap, sizeof *w->heap);
    w->small_seller = calloc(w->cfg.sellers, 1);
    if (!w->heap || !w->small_seller) {
        workload_destroy(w);
        return NULL;
    }
    for (uint32_t i = 0; i < w->cfg.sellers; i++)
        w->small_seller[i] = chance(w, 50); /* 5% */
    return w;
}

void workload_destroy(struct workload *w)
{
    if (!w)
        return;
    free(w->heap);
    free(w->small_seller);
    free(w);
}

int64_t workload_now(const struct workload *w) { return w->now; }

const uint64_t *workload_kind_counts(const struct workload *w) { return w->kind_counts; }

/* ---- follow-ups ---------------------------------------------------------------- */

static bool action_before(const struct action *a, const struct action *b)
{
    return a->due_ms < b->due_ms || (a->due_ms == b->due_ms && a->seq < b->seq);
}

static void schedule(struct workload *w, int64_t due, enum action_kind kind, uint32_t idx)
{
    if (w->heap_n >= w->heap_cap) {
        w->dropped_actions++;
        return;
    }
    struct action a = {due, w->action_seq++, (uint32_t)kind, idx};
    uint32_t i = w->heap_n++;
    while (i > 0) {
        uint32_t parent = (i - 1) / 2;
        if (!action_before(&a, &w->heap[parent]))
            break;
        w->heap[i] = w->heap[parent];
        i = parent;
    }
    w->heap[i] = a;
}

static struct action unschedule(struct workload *w)
{
    struct action top = w->heap[0], last = w->heap[--w->heap_n];
    uint32_t i = 0, n = w->heap_n;
    for (;;) {
        uint32_t c = 2 * i + 1;
        if (c >= n)
            break;
        if (c + 1 < n && action_before(&w->heap[c + 1], &w->heap[c]))
            c++;
        if (!action_before(&w->heap[c], &last))
            break;
        w->heap[i] = w->heap[c];
        i = c;
    }
    if (n > 0)
        w->heap[i] = last;
    return top;
}

/* ---- ids and windows ------------------------------------------------------------ */

static void seller_id(struct workload *w, char *out, uint32_t i) { snprintf(out, ENGINE_ID_LEN, "s%u", i % w->cfg.sellers); }
static void buyer_id(struct workload *w, char *out, uint32_t i) { snprintf(out, ENGINE_ID_LEN, "b%u", i % w->cfg.buyers); }

static int64_t floor_div(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

/* First and last slot a delivery window may start in now. */
static void tradable_slots(const struct engine *e, int64_t now, int64_t *first, int64_t *last)
{
    int64_t slot = e->p.market.slot_ms;
    *first = -floor_div(-(now + e->p.market.gate_closure_ms), slot); /* ceil */
    *last = floor_div(now + e->p.market.horizon_ms, slot);
}

/* A fresh window: most start within a day, some days ahead; 1-3 slots long. */
static void random_window(struct workload *w, const struct engine *e, int64_t *start, int64_t *end)
{
    int64_t first, last, slot = e->p.market.slot_ms;
    tradable_slots(e, w->now, &first, &last);
    int64_t span = last - first, k;
    unsigned r = (unsigned)below(w, 100);
    if (r < 55)
        k = between(w, 0, span < 19 ? span : 19);
    else if (r < 85)
        k = between(w, span < 20 ? span : 20, span < 67 ? span : 67);
    else
        k = between(w, span < 68 ? span : 68, span);
    r = (unsigned)below(w, 100);
    int64_t len = r < 60 ? 1 : r < 85 ? 2 : 3;
    *start = (first + k) * slot;
    *end = *start + len * slot;
}

/* A buyer's window: usually around a recently listed offer, else fresh. */
static void buy_window(struct workload *w, const struct engine *e, int64_t *start, int64_t *end)
{
    int64_t first, last, slot = e->p.market.slot_ms;
    tradable_slots(e, w->now, &first, &last);
    uint32_t seen = w->noffers_seen < RING_OFFERS ? w->noffers_seen : RING_OFFERS;
    if (seen > 0 && chance(w, 750)) {
        for (int attempt = 0; attempt < 3; attempt++) {
            uint32_t oi = w->offers[below(w, seen)];
            if (oi >= e->noffers)
                continue;
            const struct offer_entry *o = &e->offers[oi];
            int64_t ws = o->terms.delivery_start_ms, we = o->terms.delivery_end_ms;
            unsigned r = (unsigned)below(w, 100);
            ws += r < 15 ? -slot : r < 85 ? 0 : slot;
            r = (unsigned)below(w, 100);
            we += r < 15 ? -slot : r < 80 ? 0 : slot;
            if (ws < first * slot)
                ws = first * slot;
            if (ws > last * slot)
                continue;
            if (we <= ws)
                we = ws + slot;
            *start = ws;
            *end = we;
            return;
        }
    }
    random_window(w, e, start, end);
}

static enum source_type random_source(struct workload *w)
{
    unsigned r = (unsigned)below(w, 100);
    return r < 50 ? SOURCE_SOLAR : r < 70 ? SOURCE_BATTERY : r < 80 ? SOURCE_HYBRID
         : r < 95 ? SOURCE_RENEWABLE : SOURCE_GRID;
}

/* ---- command builders --------------------------------------------------------------- */

static void make_offer(struct workload *w, const struct engine *e, struct command *c)
{
    c->kind = CMD_OFFER_SUBMIT;
    struct offer_terms *t = &c->u.offer;
    uint32_t s = (uint32_t)below(w, w->cfg.sellers);
    snprintf(t->offer_id, sizeof t->offer_id, "L%u.%u", w->cfg.market, ++w->next_offer);
    seller_id(w, t->seller_id, s);
    snprintf(t->meter_id, sizeof t->meter_id, "MTR-%u-%u", w->cfg.market, s);
    memcpy(t->currency, e->p.market.currency, sizeof t->currency);
    t->source = random_source(w);
    t->quantity_wh = between(w, 5, 200) * 100;
    t->price_per_kwh = between(w, 300, 1200);
    t->min_order_wh = offer_default_min_order_wh(t->quantity_wh);
    if (chance(w, 150)) { /* some sellers want bigger orders */
        t->min_order_wh = between(w, 10, 30) * 100;
        if (t->min_order_wh > t->quantity_wh)
            t->min_order_wh = t->quantity_wh;
    }
    random_window(w, e, &t->delivery_start_ms, &t->delivery_end_ms);
    if (chance(w, 100)) {
        t->has_valid_until = true;
        t->valid_until_ms = w->now + between(w, 30, 240) * 60000LL;
    }
}

static void make_order(struct workload *w, const struct engine *e, struct command *c,
                       enum command_kind kind)
{
    c->kind = kind;
    struct order_request *r = &c->u.order;
    if (kind == CMD_ORDER_QUOTE)
        snprintf(r->order_id, sizeof r->order_id, "Q%u.%u", w->cfg.market, ++w->next_quote);
    else {
        snprintf(r->order_id, sizeof r->order_id, "O%u.%u", w->cfg.market, ++w->next_order);
        memcpy(w->last_order_id, r->order_id, sizeof w->last_order_id);
    }
    buyer_id(w, r->buyer_id, (uint32_t)below(w, w->cfg.buyers));
    r->quantity_wh = between(w, 5, 100) * 100;
    buy_window(w, e, &r->window_start_ms, &r->window_end_ms);
    if (chance(w, 250))
        r->max_price_per_kwh = between(w, 500, 1200);
    if (chance(w, 150)) {
        r->has_source = true;
        r->source = random_source(w);
    }
    r->allow_partial = chance(w, 300);
    if (chance(w, 120)) /* a buyer from another platform, which pays for it */
        snprintf(r->payer_id, sizeof r->payer_id, "bap%u.example", (unsigned)below(w, PAYERS));
}

/* A payment for a payer order: usually all that is owed, sometimes half
 * (and the rest later), sometimes more than is owed or from the wrong payer
 * (both refused). */
static void make_payment(struct workload *w, const struct engine *e, struct command *c, uint32_t oi)
{
    const struct order_entry *o = &e->orders[oi];
    c->kind = CMD_ORDER_PAYMENT;
    snprintf(c->u.payment.order_id, sizeof c->u.payment.order_id, "%s", o->id);
    snprintf(c->u.payment.payer_id, sizeof c->u.payment.payer_id, "%s",
             o->payer < e->nparticipants ? e->participants[o->payer].id : "bap0.example");
    snprintf(c->u.payment.reference, sizeof c->u.payment.reference, "pay-%u.%llu", w->cfg.market,
             (unsigned long long)w->ncommands);
    unsigned r = (unsigned)below(w, 100);
    int64_t owed = o->owed > 0 ? o->owed : 1;
    if (r < 70) {
        c->u.payment.amount = owed;
    } else if (r < 88) {
        c->u.payment.amount = owed / 2 > 0 ? owed / 2 : owed;
        schedule(w, w->now + between(w, 60, 24 * 60) * 60000LL, ACT_PAYMENT, oi);
    } else if (r < 95) {
        c->u.payment.amount = owed + between(w, 1, 1000);
    } else {
        snprintf(c->u.payment.payer_id, sizeof c->u.payment.payer_id, "bap-other.example");
        c->u.payment.amount = owed;
    }
}

/* The newest payment applied to an order, sent again unchanged (the
 * platform retrying after a lost answer). False when none was applied. */
static bool make_payment_resend(const struct engine *e, struct command *c, uint32_t oi)
{
    const struct order_entry *o = &e->orders[oi];
    if (o->npayments == 0 || o->payer >= e->nparticipants)
        return false;
    const struct payment_entry *p = &e->payments[o->last_payment];
    c->kind = CMD_ORDER_PAYMENT;
    snprintf(c->u.payment.order_id, sizeof c->u.payment.order_id, "%s", o->id);
    snprintf(c->u.payment.payer_id, sizeof c->u.payment.payer_id, "%s", e->participants[o->payer].id);
    snprintf(c->u.payment.reference, sizeof c->u.payment.reference, "%s", p->reference);
    c->u.payment.amount = p->amount;
    return true;
}

static void make_target(struct command *c, enum command_kind kind, const char *id, const char *actor)
{
    c->kind = kind;
    snprintf(c->u.target.id, sizeof c->u.target.id, "%s", id);
    snprintf(c->u.target.actor_id, sizeof c->u.target.actor_id, "%s", actor);
}

static void make_money(struct workload *w, struct command *c, enum command_kind kind,
                       const char *who, int64_t amount)
{
    c->kind = kind;
    snprintf(c->u.money.participant_id, sizeof c->u.money.participant_id, "%s", who);
    c->u.money.amount = amount;
    snprintf(c->u.money.reference, sizeof c->u.money.reference, "ref-%u.%llu", w->cfg.market,
             (unsigned long long)w->ncommands);
}

static void make_profile(struct workload *w, struct command *c, uint32_t s)
{
    c->kind = CMD_PROFILE_UPDATE;
    seller_id(w, c->u.profile.participant_id, s);
    c->u.profile.capacity_wh_per_month = w->small_seller[s] ? between(w, 50, 200) * 1000
                                                            : between(w, 200, 1000) * 1000000;
}

static void make_withdraw(struct workload *w, const struct engine *e, struct command *c)
{
    uint32_t seen = w->noffers_seen < RING_OFFERS ? w->noffers_seen : RING_OFFERS;
    uint32_t oi = ID_INDEX_NONE;
    for (int attempt = 0; attempt < 4 && seen > 0; attempt++) {
        oi = w->offers[below(w, seen)];
        if (oi < e->noffers && e->offers[oi].status == OFFER_OPEN)
            break;
    }
    if (oi == ID_INDEX_NONE || oi >= e->noffers) {
        make_offer(w, e, c);
        return;
    }
    const struct offer_entry *o = &e->offers[oi];
    make_target(c, CMD_OFFER_WITHDRAW, o->terms.offer_id, o->terms.seller_id);
}

static void make_delivery(struct workload *w, const struct engine *e, struct command *c, uint32_t f)
{
    c->kind = CMD_DELIVERY_REPORT;
    char id[ENGINE_ID_LEN + 8];
    snprintf(c->u.delivery.fill_id, sizeof c->u.delivery.fill_id, "%s", engine_fill_id(e, f, id));
    int64_t q = e->fills[f].quantity_wh;
    unsigned r = (unsigned)below(w, 100);
    if (r < 80) { /* delivered in full */
        c->u.delivery.delivered_wh = q;
    } else if (r < 86) { /* the grid curtailed part of it */
        c->u.delivery.curtailed_wh = between(w, 1, q / 2);
        c->u.delivery.delivered_wh = q - c->u.delivery.curtailed_wh;
    } else if (r < 96) { /* the seller fell short */
        c->u.delivery.delivered_wh = q * between(w, 30, 95) / 100;
    } else if (r < 99) { /* nothing */
        c->u.delivery.delivered_wh = 0;
    } else { /* the meter read more than was sold */
        c->u.delivery.delivered_wh = q + between(w, 1, 500);
    }
}

/* Bad input a real market sees now and then: each is refused, changing nothing. */
static void make_bad(struct workload *w, const struct engine *e, struct command *c)
{
    char who[ENGINE_ID_LEN];
    switch (below(w, 11)) {
    case 0: /* window off the slot grid */
        make_offer(w, e, c);
        c->u.offer.delivery_start_ms += 15 * 60000LL;
        break;
    case 1: /* window beyond the horizon */
        make_offer(w, e, c);
        c->u.offer.delivery_start_ms += e->p.market.horizon_ms + e->p.market.slot_ms;
        c->u.offer.delivery_end_ms += e->p.market.horizon_ms + e->p.market.slot_ms;
        break;
    case 2: /* cancel an order that does not exist */
        buyer_id(w, who, (uint32_t)below(w, w->cfg.buyers));
        make_target(c, CMD_ORDER_CANCEL, "O-unknown", who);
        break;
    case 3: /* zero quantity */
        make_order(w, e, c, CMD_ORDER_BUY);
        c->u.order.quantity_wh = 0;
        break;
    case 4: /* order id used before */
        make_order(w, e, c, CMD_ORDER_BUY);
        if (w->next_order > 1) {
            snprintf(c->u.order.order_id, sizeof c->u.order.order_id, "O%u.%u", w->cfg.market,
                     (unsigned)between(w, 1, w->next_order - 1));
        }
        break;
    case 5: /* a payment for the last order, which usually has no payer */
        c->kind = CMD_ORDER_PAYMENT;
        snprintf(c->u.payment.order_id, sizeof c->u.payment.order_id, "%s",
                 w->last_order_id[0] ? w->last_order_id : "O-unknown");
        snprintf(c->u.payment.payer_id, sizeof c->u.payment.payer_id, "bap0.example");
        snprintf(c->u.payment.reference, sizeof c->u.payment.reference, "pay-bad.%llu",
                 (unsigned long long)w->ncommands);
        c->u.payment.amount = between(w, 1, 100000);
        break;
    case 6: /* capacity out of range, from someone the market has not seen */
        c->kind = CMD_PROFILE_UPDATE;
        snprintf(c->u.profile.participant_id, sizeof c->u.profile.participant_id, "n%llu",
                 (unsigned long long)w->ncommands);
        c->u.profile.capacity_wh_per_month = -between(w, 1, 1000);
        break;
    case 7: /* meter data without production */
        c->kind = CMD_METER_VERIFIED;
        snprintf(c->u.meter.participant_id, sizeof c->u.meter.participant_id, "n%llu",
                 (unsigned long long)w->ncommands);
        c->u.meter.monthly_wh = 0;
        c->u.meter.quality = METER_HIGH;
        break;
    case 8: /* a deposit of nothing */
        buyer_id(w, who, (uint32_t)below(w, w->cfg.buyers));
        make_money(w, c, CMD_DEPOSIT, who, 0);
        break;
    case 9: /* a newcomer without money buys */
        make_order(w, e, c, CMD_ORDER_BUY);
        snprintf(c->u.order.buyer_id, sizeof c->u.order.buyer_id, "n%llu",
                 (unsigned long long)w->ncommands);
        break;
    default: { /* withdraw somebody else's offer */
        uint32_t seen = w->noffers_seen < RING_OFFERS ? w->noffers_seen : RING_OFFERS;
        if (seen == 0) {
            make_offer(w, e, c);
            c->u.offer.quantity_wh = -1;
            break;
        }
        uint32_t oi = w->offers[below(w, seen)];
        seller_id(w, who, (uint32_t)below(w, w->cfg.sellers));
        if (oi >= e->noffers)
            make_target(c, CMD_OFFER_WITHDRAW, "L-none", who);
        else
            make_target(c, CMD_OFFER_WITHDRAW, e->offers[oi].terms.offer_id,
                        strcmp(who, e->offers[oi].terms.seller_id) ? who : "s-other");
        break;
    }
    }
}

/* A due follow-up as a command; false when it no longer applies. */
static bool make_followup(struct workload *w, const struct engine *e, const struct action *a,
                          struct command *c)
{
    char id[ENGINE_ID_LEN + 8];
    switch ((enum action_kind)a->kind) {
    case ACT_CONFIRM:
    case ACT_CANCEL_ORDER: {
        if (a->idx >= e->norders)
            return false;
        const struct order_entry *o = &e->orders[a->idx];
        make_target(c, a->kind == ACT_CONFIRM ? CMD_ORDER_CONFIRM : CMD_ORDER_CANCEL, o->id,
                    e->participants[o->buyer].id);
        return true;
    }
    case ACT_SALE_CANCEL: {
        if (a->idx >= e->nfills)
            return false;
        const struct fill_entry *f = &e->fills[a->idx];
        make_target(c, CMD_SALE_CANCEL, engine_fill_id(e, a->idx, id), e->participants[f->seller].id);
        return true;
    }
    case ACT_DELIVERY:
        /* the DISCOM meters only trades that still stand */
        if (a->idx >= e->nfills || e->fills[a->idx].status != FILL_SOLD)
            return false;
        make_delivery(w, e, c, a->idx);
        return true;
    case ACT_DELIVERY_DUP:
        if (a->idx >= e->nfills)
            return false;
        make_delivery(w, e, c, a->idx);
        return true;
    case ACT_PAYMENT:
        if (a->idx >= e->norders)
            return false;
        make_payment(w, e, c, a->idx);
        return true;
    case ACT_PAYMENT_RESEND:
        return a->idx < e->norders && make_payment_resend(e, c, a->idx);
    }
    return false;
}

/* ---- the stream ------------------------------------------------------------------------ */

static bool make_setup(struct workload *w, struct command *c)
{
    uint32_t S = w->cfg.sellers, B = w->cfg.buyers, i = w->setup_pos;
    char who[ENGINE_ID_LEN];
    if (i >= 2 * S + B)
        return false;
    w->setup_pos++;
    if (i < S) { /* sellers declare their production */
        make_profile(w, c, i);
    } else if (i < 2 * S) { /* ...and keep some money for penalties */
        seller_id(w, who, i - S);
        make_money(w, c, CMD_DEPOSIT, who, between(w, 100, 500) * 100);
    } else { /* buyers fund their wallets; a few only a little */
        buyer_id(w, who, i - 2 * S);
        make_money(w, c, CMD_DEPOSIT, who,
                   chance(w, 920) ? between(w, 20, 100) * 100000 : between(w, 20, 100) * 1000);
    }
    return true;
}

static void make_random(struct workload *w, const struct engine *e, struct command *c)
{
    char who[ENGINE_ID_LEN];
    unsigned r = (unsigned)below(w, 1000);
    w->nrandom++;
    if (r < 270)
        make_offer(w, e, c);
    else if (r < 570)
        make_order(w, e, c, CMD_ORDER_BUY);
    else if (r < 690)
        make_order(w, e, c, CMD_ORDER_RESERVE);
    else if (r < 840)
        make_order(w, e, c, CMD_ORDER_QUOTE);
    else if (r < 900)
        make_withdraw(w, e, c);
    else if (r < 940) {
        buyer_id(w, who, (uint32_t)below(w, w->cfg.buyers));
        make_money(w, c, CMD_DEPOSIT, who, between(w, 5, 50) * 10000);
    } else if (r < 955) {
        buyer_id(w, who, (uint32_t)below(w, w->cfg.buyers));
        make_money(w, c, CMD_WITHDRAWAL, who, between(w, 1, 50) * 1000);
    } else if (r < 975)
        make_profile(w, c, (uint32_t)below(w, w->cfg.sellers));
    else if (r < 990) {
        c->kind = CMD_METER_VERIFIED;
        uint32_t s = (uint32_t)below(w, w->cfg.sellers);
        seller_id(w, c->u.meter.participant_id, s);
        c->u.meter.monthly_wh = w->small_seller[s] ? between(w, 50, 200) * 1000
                                                   : between(w, 200, 1000) * 1000000;
        c->u.meter.quality = (enum meter_quality)below(w, 3);
    } else
        make_bad(w, e, c);
}

void workload_next(struct workload *w, const struct engine *e, struct command *c)
{
    memset(c, 0, sizeof *c);
    w->now += (int64_t)below(w, (uint64_t)(2 * w->cfg.ms_per_command + 1));
    c->issued_at_ms = w->now;
    snprintf(c->command_id, sizeof c->command_id, "c%u.%llu", w->cfg.market,
             (unsigned long long)w->ncommands);
    w->ncommands++;
    if (!make_setup(w, c)) {
        bool done = false;
        if (w->ncommands % w->cfg.tick_every == 0) {
            c->kind = CMD_TICK;
            done = true;
        }
        while (!done && w->heap_n > 0 && w->heap[0].due_ms <= w->now) {
            struct action a = unschedule(w);
            done = make_followup(w, e, &a, c);
        }
        if (!done)
            make_random(w, e, c);
    }
    w->last_kind = c->kind;
    w->kind_counts[c->kind]++;
}

void workload_observe(struct workload *w, const struct engine *e, const struct event_sink *s)
{
    for (int32_t k = 0; k < s->count; k++) {
        const struct event *ev = &s->events[k];
        switch (ev->kind) {
        case EV_OFFER_LISTED:
            w->offers[w->noffers_seen++ % RING_OFFERS] = ev->u.offer.offer;
            break;
        case EV_ORDER_RESERVED:
            if (w->last_kind == CMD_ORDER_RESERVE) {
                unsigned r = (unsigned)below(w, 100);
                uint32_t o = ev->u.order.order;
                if (r < 75) /* confirmed a little later */
                    schedule(w, w->now + between(w, 2, 300) * 1000, ACT_CONFIRM, o);
                else if (r < 85) /* ...or too late */
                    schedule(w, w->now + between(w, 540, 900) * 1000, ACT_CONFIRM, o);
                else if (r < 90) /* the buyer changed their mind */
                    schedule(w, w->now + between(w, 10, 300) * 1000, ACT_CANCEL_ORDER, o);
                /* else abandoned: it expires */
            }
            break;
        case EV_ORDER_CONFIRMED:
            if (e->orders[ev->u.order.order].payer != ID_INDEX_NONE) /* the platform pays later */
                schedule(w, w->now + between(w, 1, 6 * 60) * 60000LL, ACT_PAYMENT, ev->u.order.order);
            if (chance(w, 40)) /* some inside the cancellation window, some after */
                schedule(w, w->now + between(w, 1, 45) * 60000LL, ACT_CANCEL_ORDER, ev->u.order.order);
            break;
        case EV_ORDER_PAID: /* now and then the answer is lost and the payment resent */
            if (chance(w, 150))
                schedule(w, w->now + between(w, 1, 120) * 1000, ACT_PAYMENT_RESEND,
                         ev->u.order_paid.order);
            break;
        case EV_FILL: {
            uint32_t f = ev->u.fill.fill;
            const struct fill_entry *fl = &e->fills[f];
            const struct offer_terms *t = &e->offers[fl->offer].terms;
            int64_t wend = e->orders[fl->order].req.window_end_ms;
            int64_t end = t->delivery_end_ms < wend ? t->delivery_end_ms : wend;
            if (chance(w, 15))
                schedule(w, w->now + between(w, 1, 40) * 60000LL, ACT_SALE_CANCEL, f);
            schedule(w, end + between(w, 0, 6 * 60) * 60000LL, ACT_DELIVERY, f);
            if (chance(w, 10))
                schedule(w, end + between(w, 6 * 60, 30 * 60) * 60000LL, ACT_DELIVERY_DUP, f);
            break;
        }
        default:
            break;
        }
    }
}

/* ---- output hash ------------------------------------------------------------------------ */

static uint64_t h_bytes(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 1099511628211ULL;
    return h;
}

static uint64_t h_int(uint64_t h, int64_t v)
{
    unsigned char b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (unsigned char)((uint64_t)v >> (8 * i));
    return h_bytes(h, b, 8);
}

static uint64_t h_str(uint64_t h, const char *s)
{
    return h_bytes(h, s ? s : "", strlen(s ? s : "") + 1);
}

static uint64_t h_fill(uint64_t h, const struct engine *e, uint32_t f)
{
    char id[ENGINE_ID_LEN + 8];
    return h_str(h, engine_fill_id(e, f, id));
}

static uint64_t h_order(uint64_t h, const struct engine *e, uint32_t o)
{
    return h_str(h, o < e->norders ? e->orders[o].id : "");
}

uint64_t workload_hash_events(uint64_t h, const struct engine *e, const struct event_sink *s)
{
    for (int32_t k = 0; k < s->count; k++) {
        const struct event *ev = &s->events[k];
        h = h_int(h, ev->kind);
        switch (ev->kind) {
        case EV_OFFER_LISTED:
            h = h_str(h, e->offers[ev->u.offer.offer].terms.offer_id);
            break;
        case EV_OFFER_WITHDRAWN:
        case EV_OFFER_EXPIRED:
            h = h_str(h, e->offers[ev->u.offer_closed.offer].terms.offer_id);
            h = h_int(h, ev->u.offer_closed.wh);
            break;
        case EV_OFFER_REJECTED:
        case EV_ORDER_REJECTED:
        case EV_COMMAND_REJECTED:
            h = h_str(h, ev->u.rejected.subject_id);
            h = h_str(h, ev->u.rejected.actor_id);
            h = h_str(h, ev->u.rejected.reason.code);
            h = h_str(h, ev->u.rejected.reason.field);
            h = h_str(h, ev->u.rejected.reason.message);
            h = h_int(h, ev->u.rejected.shortfall_wh);
            h = h_int(h, ev->u.rejected.nalternatives);
            for (int32_t i = 0; i < ev->u.rejected.nalternatives && i < ENGINE_MAX_ALTERNATIVES; i++) {
                h = h_int(h, ev->u.rejected.alternatives[i].start_ms);
                h = h_int(h, ev->u.rejected.alternatives[i].end_ms);
                h = h_int(h, ev->u.rejected.alternatives[i].available_wh);
            }
            break;
        case EV_ORDER_QUOTED:
            h = h_str(h, s->quote_request.order_id);
            h = h_int(h, ev->u.order.nlines);
            h = h_int(h, ev->u.order.filled_wh);
            h = h_int(h, ev->u.order.amount);
            h = h_int(h, ev->u.order.fee);
            for (int32_t i = 0; i < s->nquote_lines; i++) {
                h = h_str(h, e->offers[s->quote_lines[i].offer].terms.offer_id);
                h = h_int(h, s->quote_lines[i].quantity_wh);
                h = h_int(h, s->quote_lines[i].amount);
                h = h_int(h, s->quote_lines[i].fee);
                h = h_int(h, s->quote_lines[i].score_ppm);
            }
            break;
        case EV_ORDER_RESERVED:
        case EV_ORDER_CONFIRMED:
        case EV_ORDER_SETTLED:
            h = h_order(h, e, ev->u.order.order);
            h = h_int(h, ev->u.order.nlines);
            h = h_int(h, ev->u.order.filled_wh);
            h = h_int(h, ev->u.order.amount);
            h = h_int(h, ev->u.order.fee);
            break;
        case EV_ORDER_CANCELLED:
        case EV_ORDER_EXPIRED:
            h = h_order(h, e, ev->u.order_cancelled.order);
            h = h_int(h, ev->u.order_cancelled.released_wh);
            h = h_int(h, ev->u.order_cancelled.refund);
            h = h_int(h, ev->u.order_cancelled.cancel_fee);
            break;
        case EV_FILL: {
            const struct fill_entry *f = &e->fills[ev->u.fill.fill];
            h = h_fill(h, e, ev->u.fill.fill);
            h = h_str(h, e->offers[f->offer].terms.offer_id);
            h = h_str(h, e->participants[f->seller].id);
            h = h_str(h, e->participants[f->buyer].id);
            h = h_int(h, f->quantity_wh);
            h = h_int(h, f->price_per_kwh);
            h = h_int(h, f->amount);
            h = h_int(h, f->fee);
            h = h_int(h, f->score_ppm);
            break;
        }
        case EV_FILL_CANCELLED:
            h = h_fill(h, e, ev->u.fill_cancelled.fill);
            h = h_int(h, ev->u.fill_cancelled.refund);
            h = h_int(h, ev->u.fill_cancelled.penalty);
            break;
        case EV_DELIVERY_SETTLED:
            h = h_fill(h, e, ev->u.delivery.fill);
            h = h_int(h, ev->u.delivery.delivered_wh);
            h = h_int(h, ev->u.delivery.curtailed_wh);
            h = h_int(h, ev->u.delivery.seller_paid);
            h = h_int(h, ev->u.delivery.buyer_refund);
            h = h_int(h, ev->u.delivery.platform_fee);
            break;
        case EV_TRUST_CHANGED:
            h = h_str(h, e->participants[ev->u.trust.participant].id);
            h = h_int(h, ev->u.trust.old_score);
            h = h_int(h, ev->u.trust.new_score);
            h = h_str(h, ev->u.trust.reason);
            h = h_str(h, ev->u.trust.ref_id);
            break;
        case EV_JOURNAL_ENTRY:
            h = h_str(h, ev->u.journal.reason);
            h = h_str(h, ev->u.journal.ref_id);
            h = h_int(h, ev->u.journal.npostings);
            for (int32_t i = 0; i < ev->u.journal.npostings && i < ENGINE_MAX_POSTINGS; i++) {
                const struct posting *p = &ev->u.journal.postings[i];
                h = h_int(h, p->account);
                if (p->account == ACCOUNT_WALLET || p->account == ACCOUNT_RECEIVABLE)
                    h = h_str(h, e->participants[p->owner].id);
                else if (p->account == ACCOUNT_ESCROW)
                    h = h_order(h, e, p->owner);
                h = h_int(h, p->amount);
            }
            break;
        case EV_ORDER_PAID:
            h = h_order(h, e, ev->u.order_paid.order);
            h = h_int(h, ev->u.order_paid.amount);
            h = h_int(h, ev->u.order_paid.paid_total);
            h = h_int(h, ev->u.order_paid.outstanding);
            h = h_str(h, ev->u.order_paid.reference);
            break;
        case EV_PARTICIPANT_UPDATED: {
            uint32_t p = ev->u.participant.participant;
            h = h_str(h, e->participants[p].id);
            h = h_int(h, e->participants[p].capacity_wh);
            h = h_int(h, e->participants[p].verified_wh);
            h = h_int(h, engine_trade_limit_wh(e, p));
            break;
        }
        }
    }
    return h;
}
