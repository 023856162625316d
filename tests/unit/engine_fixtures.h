/* Shared fixture for the engine-core unit tests (test_engine_*.c).
 *
 * One engine per test (fx_start / fx_stop), commands built by small
 * constructors and applied through fx_apply(), which also re-checks the books
 * after every command *independently* of the engine's own invariant checker:
 * money is conserved and never negative, no offer is oversold, trust stays in
 * range, every journal entry balances. Expected numbers in the tests come from
 * product.md, worked out by hand, never from the engine's helpers. */
#ifndef P2P_TEST_ENGINE_FIXTURES_H
#define P2P_TEST_ENGINE_FIXTURES_H

#include <check.h>

#include "check_run.h"
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "engine/core/engine.h"

#define MINUTE 60000LL
#define HOUR (60 * MINUTE)
#define DAY (24 * HOUR)
#define NOW 1764000000000LL        /* 2025-11-24T16:00:00Z: hour-aligned, November 2025 */
#define DEC_1 1764547200000LL      /* 2025-12-01T00:00:00Z = NOW + 152 h */
#define W_START (NOW + 6 * HOUR)   /* the default delivery window [22:00, 23:00) */
#define W_END (NOW + 7 * HOUR)
#define FX_MAX_EVENTS 512

struct fixture {
    struct engine e;
    bool created;
    struct event events[FX_MAX_EVENTS];
    struct event_sink sink;
    int64_t now;
    unsigned ncommands;
};

static struct fixture fx;

static inline struct engine_capacity fx_capacity(void)
{
    return (struct engine_capacity){.participants = 64, .offers = 256, .orders = 256, .fills = 1024};
}

static inline void fx_start_with(const struct engine_params *p)
{
    memset(&fx, 0, sizeof fx);
    struct engine_capacity cap = fx_capacity();
    ck_assert_int_eq(engine_create(&fx.e, p, &cap), 0);
    fx.created = true;
    fx.sink.events = fx.events;
    fx.sink.capacity = FX_MAX_EVENTS;
    fx.now = NOW;
}

static inline void fx_start(void)
{
    struct engine_params p;
    engine_params_default(&p);
    fx_start_with(&p);
}

static inline void fx_stop(void)
{
    if (fx.created)
        engine_destroy(&fx.e);
    fx.created = false;
}

/* The books, re-added from the engine's tables without trusting its checker. */
static inline void fx_check_books(const struct engine *e, const struct event_sink *s)
{
    char msg[256] = "";
    ck_assert_msg(engine_check_invariants(e, msg, sizeof msg) == 0, "engine invariant: %s", msg);

    int64_t sum = e->platform_balance + e->external_balance;
    ck_assert_msg(e->platform_balance >= 0, "platform balance %lld", (long long)e->platform_balance);
    ck_assert_msg(e->external_balance <= 0, "external balance %lld (withdrew more than deposited)",
                  (long long)e->external_balance);
    for (uint32_t i = 0; i < e->nparticipants; i++) {
        const struct participant *p = &e->participants[i];
        ck_assert_msg(p->wallet >= 0, "wallet of %s is %lld", p->id, (long long)p->wallet);
        ck_assert_msg(p->trust >= 0 && p->trust <= 10000, "trust of %s is %d", p->id, p->trust);
        sum += p->wallet + p->receivable; /* receivable:<payer>, either sign */
    }
    for (uint32_t i = 0; i < e->norders; i++) {
        ck_assert_msg(e->orders[i].escrow >= 0, "escrow of %s is %lld", e->orders[i].id,
                      (long long)e->orders[i].escrow);
        sum += e->orders[i].escrow;
    }
    ck_assert_msg(sum == 0, "money not conserved: wallets + receivables + escrow + platform + external = %lld",
                  (long long)sum);
    for (uint32_t i = 0; i < e->noffers; i++) {
        const struct offer_entry *o = &e->offers[i];
        ck_assert(o->sold_wh >= 0 && o->reserved_wh >= 0 && o->closed_wh >= 0);
        ck_assert_msg(o->sold_wh + o->reserved_wh + o->closed_wh <= o->terms.quantity_wh,
                      "offer %s oversold: sold %lld reserved %lld closed %lld of %lld",
                      o->terms.offer_id, (long long)o->sold_wh, (long long)o->reserved_wh,
                      (long long)o->closed_wh, (long long)o->terms.quantity_wh);
    }
    for (int32_t i = 0; i < s->count; i++) {
        const struct event *ev = &s->events[i];
        if (ev->kind != EV_JOURNAL_ENTRY)
            continue;
        ck_assert_int_ge(ev->u.journal.npostings, 2);
        ck_assert_int_le(ev->u.journal.npostings, ENGINE_MAX_POSTINGS);
        int64_t t = 0;
        for (int32_t k = 0; k < ev->u.journal.npostings; k++)
            t += ev->u.journal.postings[k].amount;
        ck_assert_msg(t == 0, "journal entry %s does not balance (%lld)",
                      ev->u.journal.reason ? ev->u.journal.reason : "?", (long long)t);
    }
}

/* Applies c as issued at `at` (the engine makes time monotonic itself). */
static inline struct event_sink *fx_apply_at(struct command *c, int64_t at)
{
    snprintf(c->command_id, sizeof c->command_id, "cmd-%u", ++fx.ncommands);
    c->issued_at_ms = at;
    fx.sink.count = 0;
    fx.sink.nquote_lines = 0;
    engine_apply(&fx.e, c, &fx.sink);
    ck_assert_int_ge(fx.sink.count, 0);
    ck_assert_int_le(fx.sink.count, fx.sink.capacity);
    fx_check_books(&fx.e, &fx.sink);
    return &fx.sink;
}

static inline struct event_sink *fx_apply(struct command *c) { return fx_apply_at(c, fx.now); }

/* ---- events of the last command ---------------------------------------- */

static inline const struct event *fx_event(enum event_kind k)
{
    for (int32_t i = 0; i < fx.sink.count; i++)
        if (fx.events[i].kind == k)
            return &fx.events[i];
    return NULL;
}

static inline const struct event *fx_event_nth(enum event_kind k, int n)
{
    for (int32_t i = 0; i < fx.sink.count; i++)
        if (fx.events[i].kind == k && n-- == 0)
            return &fx.events[i];
    return NULL;
}

static inline int fx_count(enum event_kind k)
{
    int n = 0;
    for (int32_t i = 0; i < fx.sink.count; i++)
        n += fx.events[i].kind == k;
    return n;
}

/* Asserts the last command was refused with an event of `kind` and `code`. */
#define EXPECT_REJECTED(kind_, code_)                                                        \
    do {                                                                                     \
        const struct event *rej_ = fx_event(kind_);                                          \
        ck_assert_msg(rej_ != NULL, "expected " #kind_ " with code %s", (code_));            \
        ck_assert_str_eq(rej_->u.rejected.reason.code, (code_));                             \
    } while (0)

/* A refusal of an order command may be reported either as an order rejection
 * or a command rejection; the code is what matters. */
static inline const struct event *fx_any_rejection(void)
{
    const struct event *r = fx_event(EV_ORDER_REJECTED);
    if (!r)
        r = fx_event(EV_COMMAND_REJECTED);
    if (!r)
        r = fx_event(EV_OFFER_REJECTED);
    return r;
}

#define EXPECT_REFUSED(code_)                                                                \
    do {                                                                                     \
        const struct event *rej_ = fx_any_rejection();                                       \
        ck_assert_msg(rej_ != NULL, "expected a rejection with code %s", (code_));           \
        ck_assert_str_eq(rej_->u.rejected.reason.code, (code_));                             \
    } while (0)

/* ---- commands ------------------------------------------------------------ */

static inline struct command cmd_blank(enum command_kind k)
{
    struct command c;
    memset(&c, 0, sizeof c);
    c.kind = k;
    return c;
}

static inline struct command cmd_offer(const char *id, const char *seller, int64_t wh,
                                       int64_t price, int64_t start, int64_t end)
{
    struct command c = cmd_blank(CMD_OFFER_SUBMIT);
    struct offer_terms *t = &c.u.offer;
    snprintf(t->offer_id, sizeof t->offer_id, "%s", id);
    snprintf(t->seller_id, sizeof t->seller_id, "%s", seller);
    snprintf(t->meter_id, sizeof t->meter_id, "MTR-%s", seller);
    snprintf(t->currency, sizeof t->currency, "INR");
    t->source = SOURCE_SOLAR;
    t->quantity_wh = wh;
    t->price_per_kwh = price;
    t->min_order_wh = wh < 1000 ? wh : 1000; /* product.md §3: default 1 kWh */
    t->delivery_start_ms = start;
    t->delivery_end_ms = end;
    return c;
}

static inline struct command cmd_order(enum command_kind k, const char *id, const char *buyer,
                                       int64_t wh)
{
    struct command c = cmd_blank(k);
    struct order_request *r = &c.u.order;
    snprintf(r->order_id, sizeof r->order_id, "%s", id);
    snprintf(r->buyer_id, sizeof r->buyer_id, "%s", buyer);
    r->quantity_wh = wh;
    r->window_start_ms = W_START;
    r->window_end_ms = W_END;
    return c;
}

static inline struct command cmd_target(enum command_kind k, const char *id, const char *actor)
{
    struct command c = cmd_blank(k);
    snprintf(c.u.target.id, sizeof c.u.target.id, "%s", id);
    snprintf(c.u.target.actor_id, sizeof c.u.target.actor_id, "%s", actor);
    return c;
}

static inline struct command cmd_money(enum command_kind k, const char *who, int64_t amount)
{
    struct command c = cmd_blank(k);
    snprintf(c.u.money.participant_id, sizeof c.u.money.participant_id, "%s", who);
    snprintf(c.u.money.reference, sizeof c.u.money.reference, "ref-%u", fx.ncommands);
    c.u.money.amount = amount;
    return c;
}

/* order.payment.v1 of a payer platform with its reference (the payment's identity). */
static inline struct command cmd_payment(const char *order_id, const char *payer, int64_t amount,
                                         const char *reference)
{
    struct command c = cmd_blank(CMD_ORDER_PAYMENT);
    snprintf(c.u.payment.order_id, sizeof c.u.payment.order_id, "%s", order_id);
    snprintf(c.u.payment.payer_id, sizeof c.u.payment.payer_id, "%s", payer);
    snprintf(c.u.payment.reference, sizeof c.u.payment.reference, "%s", reference);
    c.u.payment.amount = amount;
    return c;
}

static inline struct command cmd_profile(const char *who, int64_t capacity_wh)
{
    struct command c = cmd_blank(CMD_PROFILE_UPDATE);
    snprintf(c.u.profile.participant_id, sizeof c.u.profile.participant_id, "%s", who);
    c.u.profile.capacity_wh_per_month = capacity_wh;
    return c;
}

static inline struct command cmd_meter(const char *who, int64_t monthly_wh, enum meter_quality q)
{
    struct command c = cmd_blank(CMD_METER_VERIFIED);
    snprintf(c.u.meter.participant_id, sizeof c.u.meter.participant_id, "%s", who);
    c.u.meter.monthly_wh = monthly_wh;
    c.u.meter.quality = q;
    return c;
}

static inline struct command cmd_report(const char *fill_id, int64_t delivered, int64_t curtailed)
{
    struct command c = cmd_blank(CMD_DELIVERY_REPORT);
    snprintf(c.u.delivery.fill_id, sizeof c.u.delivery.fill_id, "%s", fill_id);
    c.u.delivery.delivered_wh = delivered;
    c.u.delivery.curtailed_wh = curtailed;
    return c;
}

/* ---- one-line steps that must succeed ------------------------------------ */

static inline uint32_t list_offer(const char *id, const char *seller, int64_t wh, int64_t price,
                                  int64_t start, int64_t end)
{
    struct command c = cmd_offer(id, seller, wh, price, start, end);
    fx_apply(&c);
    const struct event *r = fx_event(EV_OFFER_REJECTED);
    ck_assert_msg(r == NULL, "offer %s rejected: %s (%s)", id, r ? r->u.rejected.reason.code : "",
                  r ? r->u.rejected.reason.message : "");
    const struct event *ev = fx_event(EV_OFFER_LISTED);
    ck_assert_msg(ev != NULL, "offer %s not listed", id);
    uint32_t ix = engine_find_offer(&fx.e, id);
    ck_assert_uint_ne(ix, ID_INDEX_NONE);
    ck_assert_uint_eq(ev->u.offer.offer, ix);
    return ix;
}

static inline void deposit(const char *who, int64_t amount)
{
    struct command c = cmd_money(CMD_DEPOSIT, who, amount);
    fx_apply(&c);
    ck_assert_msg(fx_event(EV_COMMAND_REJECTED) == NULL, "deposit for %s refused", who);
}

static inline void set_capacity(const char *who, int64_t capacity_wh)
{
    struct command c = cmd_profile(who, capacity_wh);
    fx_apply(&c);
    ck_assert_msg(fx_event(EV_COMMAND_REJECTED) == NULL, "profile update for %s refused", who);
}

/* BUY over the default window; asserts it was confirmed. */
static inline void buy(const char *order_id, const char *buyer, int64_t wh)
{
    struct command c = cmd_order(CMD_ORDER_BUY, order_id, buyer, wh);
    fx_apply(&c);
    const struct event *r = fx_any_rejection();
    ck_assert_msg(r == NULL, "buy %s refused: %s (%s)", order_id, r ? r->u.rejected.reason.code : "",
                  r ? r->u.rejected.reason.message : "");
    ck_assert_msg(fx_event(EV_ORDER_CONFIRMED) != NULL, "buy %s not confirmed", order_id);
}

static inline void reserve(const char *order_id, const char *buyer, int64_t wh)
{
    struct command c = cmd_order(CMD_ORDER_RESERVE, order_id, buyer, wh);
    fx_apply(&c);
    const struct event *r = fx_any_rejection();
    ck_assert_msg(r == NULL, "reserve %s refused: %s (%s)", order_id,
                  r ? r->u.rejected.reason.code : "", r ? r->u.rejected.reason.message : "");
    ck_assert_msg(fx_event(EV_ORDER_RESERVED) != NULL, "reserve %s not reserved", order_id);
}

static inline void tick(void)
{
    struct command c = cmd_blank(CMD_TICK);
    fx_apply(&c);
}

/* ---- state ------------------------------------------------------------------ */

static inline const struct participant *participant(const char *id)
{
    uint32_t i = engine_find_participant(&fx.e, id);
    ck_assert_msg(i != ID_INDEX_NONE, "no participant %s", id);
    return &fx.e.participants[i];
}

static inline int64_t wallet(const char *id) { return participant(id)->wallet; }
static inline int32_t trust(const char *id) { return participant(id)->trust; }

static inline const struct offer_entry *offer(const char *id)
{
    uint32_t i = engine_find_offer(&fx.e, id);
    ck_assert_msg(i != ID_INDEX_NONE, "no offer %s", id);
    return &fx.e.offers[i];
}

static inline int64_t open_wh(const char *id) { return engine_offer_open_wh(offer(id)); }

static inline const struct order_entry *order(const char *id)
{
    uint32_t i = engine_find_order(&fx.e, id);
    ck_assert_msg(i != ID_INDEX_NONE, "no order %s", id);
    return &fx.e.orders[i];
}

static inline const struct fill_entry *fill_of(const char *order_id, int line)
{
    const struct order_entry *o = order(order_id);
    ck_assert_int_ge(line, 1);
    ck_assert_int_le(line, o->nfills);
    const struct fill_entry *f = &fx.e.fills[o->first_fill + (uint32_t)line - 1];
    ck_assert_uint_eq(f->line, (unsigned)line);
    return f;
}

static inline const char *offer_id_at(uint32_t ix)
{
    ck_assert_uint_lt(ix, fx.e.noffers);
    return fx.e.offers[ix].terms.offer_id;
}

/* "<order id>/<line>" in a rotating buffer (two may be live at once). */
static inline const char *fill_id(const char *order_id, int line)
{
    static char buf[4][ENGINE_ID_LEN + 8];
    static int next;
    char *b = buf[next++ & 3];
    snprintf(b, ENGINE_ID_LEN + 8, "%s/%d", order_id, line);
    return b;
}

/* ---- snapshots in memory ------------------------------------------------------ */

struct membuf {
    unsigned char *data;
    size_t len, cap, pos;
};

static inline int membuf_write(void *ctx, const void *buf, size_t len)
{
    struct membuf *m = ctx;
    if (m->len + len > m->cap) {
        size_t cap = m->cap ? m->cap : 4096;
        while (cap < m->len + len)
            cap *= 2;
        unsigned char *d = realloc(m->data, cap);
        if (!d)
            return -1;
        m->data = d;
        m->cap = cap;
    }
    memcpy(m->data + m->len, buf, len);
    m->len += len;
    return 0;
}

static inline int membuf_read(void *ctx, void *buf, size_t len)
{
    struct membuf *m = ctx;
    if (m->pos + len > m->len)
        return -1;
    memcpy(buf, m->data + m->pos, len);
    m->pos += len;
    return 0;
}

static inline void membuf_free(struct membuf *m)
{
    free(m->data);
    memset(m, 0, sizeof *m);
}

/* ---- running a suite --------------------------------------------------------- */

static inline int fx_run(Suite *s)
{
    return check_run(s);
}

#endif
