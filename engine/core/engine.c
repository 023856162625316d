/* The engine core's tables, the command dispatcher, time, participants, the
 * journal and trust. Domain rules live in book.c (offers), matching.c,
 * orders.c and settlement.c. */
#include "engine/core/engine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/p2p_json.h"
#include "engine/core/internal.h"

static const char *participant_key(const void *ctx, uint32_t row)
{
    return ((const struct engine *)ctx)->participants[row].id;
}
static const char *offer_key(const void *ctx, uint32_t row)
{
    return ((const struct engine *)ctx)->offers[row].terms.offer_id;
}
static const char *order_key(const void *ctx, uint32_t row)
{
    return ((const struct engine *)ctx)->orders[row].id;
}

int engine_create(struct engine *e, const struct engine_params *p, const struct engine_capacity *cap)
{
    memset(e, 0, sizeof *e);
    e->p = *p;
    e->cap = *cap;
    if (e->p.max_offers_per_order < 1 || e->p.max_offers_per_order > ENGINE_MAX_LINES)
        e->p.max_offers_per_order = ENGINE_MAX_LINES;
    /* Buckets cover every slot an open offer can start in, plus a day of margin. */
    int64_t span = (p->market.horizon_ms + OFFER_MAX_WINDOW_MS) / p->market.slot_ms + 2;
    for (e->nslots = 64; e->nslots < span; e->nslots <<= 1)
        ;
    e->participants = calloc(cap->participants, sizeof *e->participants);
    e->offers = calloc(cap->offers, sizeof *e->offers);
    e->orders = calloc(cap->orders, sizeof *e->orders);
    e->fills = calloc(cap->fills, sizeof *e->fills);
    e->payments = calloc(cap->orders, sizeof *e->payments);
    e->slot_head = malloc(e->nslots * sizeof *e->slot_head);
    e->slot_tail = malloc(e->nslots * sizeof *e->slot_tail);
    e->slot_tag = malloc(e->nslots * sizeof *e->slot_tag);
    e->slot_longest = calloc(e->nslots, sizeof *e->slot_longest);
    e->reservations = calloc(cap->orders, sizeof *e->reservations);
    e->candidates = calloc(cap->offers, sizeof *e->candidates);
    if (!e->participants || !e->offers || !e->orders || !e->fills || !e->payments || !e->slot_head ||
        !e->slot_tail || !e->slot_tag || !e->slot_longest || !e->reservations || !e->candidates ||
        id_index_init(&e->participant_ix, cap->participants, participant_key, e) ||
        id_index_init(&e->offer_ix, cap->offers, offer_key, e) ||
        id_index_init(&e->order_ix, cap->orders, order_key, e)) {
        engine_destroy(e);
        return -1;
    }
    for (uint32_t i = 0; i < e->nslots; i++) {
        e->slot_head[i] = e->slot_tail[i] = ID_INDEX_NONE;
        e->slot_tag[i] = -1;
    }
    e->next_close_slot = -1;
    return 0;
}

void engine_destroy(struct engine *e)
{
    free(e->participants);
    free(e->offers);
    free(e->orders);
    free(e->fills);
    free(e->payments);
    free(e->slot_head);
    free(e->slot_tail);
    free(e->slot_tag);
    free(e->slot_longest);
    free(e->reservations);
    free(e->candidates);
    id_index_free(&e->participant_ix);
    id_index_free(&e->offer_ix);
    id_index_free(&e->order_ix);
    memset(e, 0, sizeof *e);
}

struct event *emit(struct event_sink *out, enum event_kind kind)
{
    if (out->count >= out->capacity)
        return NULL;
    struct event *ev = &out->events[out->count++];
    ev->kind = kind;
    return ev;
}

void reject(struct event_sink *out, enum event_kind kind, const char *subject_id,
            const char *actor_id, const struct p2p_violation *why)
{
    struct event *ev = emit(out, kind);
    if (!ev)
        return;
    p2p_copy(ev->u.rejected.subject_id, ENGINE_ID_LEN, subject_id);
    p2p_copy(ev->u.rejected.actor_id, ENGINE_ID_LEN, actor_id);
    ev->u.rejected.reason = *why;
    ev->u.rejected.shortfall_wh = 0;
    ev->u.rejected.nalternatives = 0;
}

void refuse(struct event_sink *out, enum event_kind kind, const char *subject, const char *actor,
            const char *code, const char *field, const char *message)
{
    struct p2p_violation why;
    p2p_violate(&why, code, field, "%s", message);
    reject(out, kind, subject, actor, &why);
}

uint32_t participant_get(struct engine *e, const char *id)
{
    uint32_t i = id_index_find(&e->participant_ix, id);
    if (i != ID_INDEX_NONE)
        return i;
    if (e->nparticipants >= e->cap.participants || !p2p_id_valid(id, ENGINE_ID_LEN - 1))
        return ID_INDEX_NONE;
    i = e->nparticipants++;
    struct participant *p = &e->participants[i];
    memset(p, 0, sizeof *p);
    memcpy(p->id, id, strlen(id) + 1);
    p->trust = e->p.trust_default;
    for (int m = 0; m < ENGINE_MONTHS_TRACKED; m++)
        p->months[m].month = -1;
    id_index_insert(&e->participant_ix, p->id, i);
    return i;
}

uint32_t engine_find_participant(const struct engine *e, const char *id)
{
    return id_index_find(&e->participant_ix, id);
}
uint32_t engine_find_offer(const struct engine *e, const char *id)
{
    return id_index_find(&e->offer_ix, id);
}
uint32_t engine_find_order(const struct engine *e, const char *id)
{
    return id_index_find(&e->order_ix, id);
}

const char *engine_fill_id(const struct engine *e, uint32_t fill, char buf[ENGINE_ID_LEN + 8])
{
    const struct fill_entry *f = &e->fills[fill];
    snprintf(buf, ENGINE_ID_LEN + 8, "%s/%u", e->orders[f->order].id, (unsigned)f->line);
    return buf;
}

int64_t money_cost(int64_t wh, int64_t price_per_kwh) { return (wh * price_per_kwh + 500) / 1000; }
int64_t money_rate(int64_t amount, int32_t bp) { return (amount * bp + 5000) / 10000; }

/* ---- journal ---------------------------------------------------------- */

void journal_begin(struct engine *e, struct event_sink *out, struct journal_builder *j,
                   const char *reason, const char *ref_id)
{
    (void)e;
    j->ev = emit(out, EV_JOURNAL_ENTRY);
    if (!j->ev)
        return;
    j->ev->u.journal.reason = reason;
    p2p_copy(j->ev->u.journal.ref_id, sizeof j->ev->u.journal.ref_id, ref_id);
    j->ev->u.journal.npostings = 0;
}

void journal_post(struct engine *e, struct journal_builder *j, enum account_kind account,
                  uint32_t owner, int64_t amount)
{
    if (amount == 0)
        return;
    switch (account) {
    case ACCOUNT_WALLET: e->participants[owner].wallet += amount; break;
    case ACCOUNT_ESCROW: e->orders[owner].escrow += amount; break;
    case ACCOUNT_PLATFORM: e->platform_balance += amount; break;
    case ACCOUNT_EXTERNAL: e->external_balance += amount; break;
    case ACCOUNT_RECEIVABLE: e->participants[owner].receivable += amount; break;
    }
    if (j->ev && j->ev->u.journal.npostings < ENGINE_MAX_POSTINGS) {
        struct posting *p = &j->ev->u.journal.postings[j->ev->u.journal.npostings++];
        p->account = account;
        p->owner = owner;
        p->amount = amount;
    }
}

void journal_post_buyer(struct engine *e, struct journal_builder *j, uint32_t order,
                        int64_t amount)
{
    struct order_entry *o = &e->orders[order];
    if (o->payer == ID_INDEX_NONE) {
        journal_post(e, j, ACCOUNT_WALLET, o->buyer, amount);
        return;
    }
    journal_post(e, j, ACCOUNT_RECEIVABLE, o->payer, amount);
    o->owed -= amount;
}

/* ---- trust ------------------------------------------------------------ */

static const struct {
    int32_t from;
    const char *name;
    int32_t percent;
} tiers[] = {{9500, "Platinum", 100}, {8500, "Gold", 80},   {7000, "Silver", 60},
             {5000, "Bronze", 40},    {3000, "Starter", 10}, {0, "New", 10}};

const char *trust_tier_name(int32_t trust)
{
    for (size_t i = 0; i < sizeof tiers / sizeof *tiers; i++)
        if (trust >= tiers[i].from)
            return tiers[i].name;
    return "New";
}

int32_t trust_tier_percent(int32_t trust)
{
    for (size_t i = 0; i < sizeof tiers / sizeof *tiers; i++)
        if (trust >= tiers[i].from)
            return tiers[i].percent;
    return 10;
}

int64_t engine_trade_limit_wh(const struct engine *e, uint32_t participant)
{
    const struct participant *p = &e->participants[participant];
    int64_t capacity = p->verified_wh > 0 ? p->verified_wh : p->capacity_wh;
    if (capacity <= 0)
        return e->p.default_limit_wh;
    return capacity * trust_tier_percent(p->trust) / 100;
}

void trust_adjust(struct engine *e, struct event_sink *out, uint32_t participant, int32_t delta,
                  const char *reason, const char *ref_id)
{
    struct participant *p = &e->participants[participant];
    int32_t old = p->trust, now = old + delta;
    now = now < 0 ? 0 : now > 10000 ? 10000 : now;
    p->trust = now;
    struct event *ev = emit(out, EV_TRUST_CHANGED);
    if (!ev)
        return;
    ev->u.trust.participant = participant;
    ev->u.trust.old_score = old;
    ev->u.trust.new_score = now;
    ev->u.trust.reason = reason;
    p2p_copy(ev->u.trust.ref_id, sizeof ev->u.trust.ref_id, ref_id);
}

/* ---- months ------------------------------------------------------------ */

int32_t month_of(int64_t ms)
{
    /* civil-from-days (H. Hinnant) for the year and month of a UTC time */
    int64_t z = ms / 86400000 + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int64_t m = mp < 10 ? mp + 3 : mp - 9;
    int64_t y = yoe + era * 400 + (m <= 2);
    return (int32_t)(y * 12 + m - 1);
}

int64_t commitment_of(const struct participant *p, int32_t month)
{
    for (int i = 0; i < ENGINE_MONTHS_TRACKED; i++)
        if (p->months[i].month == month)
            return p->months[i].committed_wh;
    return 0;
}

int64_t *commitment(struct participant *p, int32_t month)
{
    int oldest = 0;
    for (int i = 0; i < ENGINE_MONTHS_TRACKED; i++) {
        if (p->months[i].month == month)
            return &p->months[i].committed_wh;
        if (p->months[i].month < p->months[oldest].month)
            oldest = i;
    }
    /* Months only move forward: the oldest slot is past delivery and free. */
    p->months[oldest].month = month;
    p->months[oldest].committed_wh = 0;
    return &p->months[oldest].committed_wh;
}

/* ---- dispatch ----------------------------------------------------------- */

void engine_apply(struct engine *e, const struct command *c, struct event_sink *out)
{
    out->nquote_lines = 0;
    int64_t t = c->issued_at_ms > e->now_ms ? c->issued_at_ms : e->now_ms;
    e->now_ms = t;
    advance_time(e, t, out);
    switch (c->kind) {
    case CMD_OFFER_SUBMIT: offer_submit(e, c, out); break;
    case CMD_OFFER_WITHDRAW: offer_withdraw(e, c, out); break;
    case CMD_ORDER_QUOTE:
    case CMD_ORDER_RESERVE:
    case CMD_ORDER_BUY: order_place(e, c, out); break;
    case CMD_ORDER_CONFIRM: order_confirm(e, c, out); break;
    case CMD_ORDER_CANCEL: order_cancel(e, c, out); break;
    case CMD_SALE_CANCEL: sale_cancel(e, c, out); break;
    case CMD_DEPOSIT:
    case CMD_WITHDRAWAL: money_command(e, c, out); break;
    case CMD_PROFILE_UPDATE: profile_update(e, c, out); break;
    case CMD_METER_VERIFIED: meter_verified(e, c, out); break;
    case CMD_DELIVERY_REPORT: delivery_report(e, c, out); break;
    case CMD_ORDER_PAYMENT: order_payment(e, c, out); break;
    case CMD_TICK: break;
    }
}

/* Expires reservations whose TTL has passed, then offers whose slot reached
 * gate closure. Stops early (to resume on the next command) when the sink
 * has less room than one command needs. */
bool advance_time(struct engine *e, int64_t t, struct event_sink *out)
{
    while (e->res_count > 0) {
        uint32_t o = e->reservations[e->res_head];
        if (e->orders[o].status == ORDER_RESERVED && e->orders[o].expires_at_ms > t)
            break;
        if (out->capacity - out->count < ENGINE_SINK_MIN * 2)
            return false;
        e->res_head = (e->res_head + 1) % e->cap.orders;
        e->res_count--;
        if (e->orders[o].status == ORDER_RESERVED)
            order_expire(e, o, out);
    }
    if (e->next_close_slot < 0)
        e->next_close_slot = slot_of(e, t + e->p.market.gate_closure_ms);
    /* A slot closes when its start is less than the gate closure ahead of t. */
    while (e->next_close_slot * e->p.market.slot_ms - e->p.market.gate_closure_ms < t) {
        uint32_t b = (uint32_t)(e->next_close_slot & (e->nslots - 1));
        if (e->slot_tag[b] == e->next_close_slot) {
            while (e->slot_head[b] != ID_INDEX_NONE) {
                if (out->capacity - out->count < ENGINE_SINK_MIN * 2)
                    return false;
                uint32_t i = e->slot_head[b];
                struct offer_entry *o = &e->offers[i];
                e->slot_head[b] = o->next_in_slot;
                int64_t open = engine_offer_open_wh(o);
                if (o->status == OFFER_OPEN) {
                    o->status = OFFER_EXPIRED;
                    o->closed_wh += open;
                    *commitment(&e->participants[o->seller], month_of(o->terms.delivery_start_ms)) -= open;
                    struct event *ev = emit(out, EV_OFFER_EXPIRED);
                    ev->u.offer_closed.offer = i;
                    ev->u.offer_closed.wh = open;
                }
            }
            e->slot_tail[b] = ID_INDEX_NONE;
            e->slot_tag[b] = -1;
            e->slot_longest[b] = 0;
        }
        e->next_close_slot++;
    }
    return true;
}
