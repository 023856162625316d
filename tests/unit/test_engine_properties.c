/* Property tests of the engine core: long seeded random command streams from
 * the benchmark's workload (bench/workload.c), with the books re-checked
 * after every command, the final state checked against time, and
 * determinism and snapshot round trips checked byte for byte.
 *
 * A failure names the seed and the command number: the stream is
 * reproducible from those alone (workload_config_default(&cfg, seed, 0,
 * <commands>) fed back through workload_observe). */
#include <check.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/workload.h"
#include "engine/core/engine.h"

/* Commands per seed with every command checked; P2P_PROP_COMMANDS overrides
 * (a long local run: P2P_PROP_COMMANDS=200000). The checks are O(tables) per
 * command, so the run is quadratic in this number. */
#define PROP_COMMANDS_DEFAULT 30000
static uint64_t prop_commands = PROP_COMMANDS_DEFAULT;
#define DEEP_EVERY 250 /* whole-table checks that are O(orders) */
#define SINK_CAP 4096

static struct event sink_events[SINK_CAP];

struct run {
    struct engine e;
    struct workload *w;
    struct event_sink sink;
    uint64_t hash;
    uint64_t seed;
    uint64_t ncommands;
    /* money that came in or went out, added up from the events alone */
    int64_t deposits, withdrawals, payments, paid_events;
    uint64_t npaid, npayment_refusals, nduplicates_refused;
    /* (order, reference) of every accepted payment, hashed: an open-addressing
     * set, 0 = empty; a pair seen twice is money applied twice */
    uint64_t *paid_keys;
    uint64_t paid_mask;
};

static uint64_t payment_key(uint32_t order, const char *reference)
{
    uint64_t h = 14695981039346656037ULL ^ order;
    for (const char *p = reference; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    return h ? h : 1;
}

/* False when the pair was already in the set. */
static bool payment_remember(struct run *r, uint32_t order, const char *reference)
{
    uint64_t k = payment_key(order, reference);
    for (uint64_t i = k & r->paid_mask;; i = (i + 1) & r->paid_mask) {
        if (r->paid_keys[i] == k)
            return false;
        if (r->paid_keys[i] == 0) {
            r->paid_keys[i] = k;
            return true;
        }
    }
}

/* Adds up, from this command's events only, the money crossing the
 * platform's boundary; checked against the engine's balances later. */
static void tally(struct run *r, const struct command *c)
{
    for (int32_t k = 0; k < r->sink.count; k++) {
        const struct event *ev = &r->sink.events[k];
        if (ev->kind == EV_ORDER_PAID) {
            r->paid_events += ev->u.order_paid.amount;
            r->npaid++;
            if (!payment_remember(r, ev->u.order_paid.order, ev->u.order_paid.reference))
                ck_abort_msg("seed %llu: payment %s of order %s applied twice",
                             (unsigned long long)r->seed, ev->u.order_paid.reference,
                             r->e.orders[ev->u.order_paid.order].id);
        }
        if (ev->kind == EV_COMMAND_REJECTED && c->kind == CMD_ORDER_PAYMENT)
            r->npayment_refusals++;
        if (ev->kind == EV_COMMAND_REJECTED &&
            strcmp(ev->u.rejected.reason.code, "duplicate_payment") == 0)
            r->nduplicates_refused++;
        if (ev->kind != EV_JOURNAL_ENTRY)
            continue;
        for (int32_t p = 0; p < ev->u.journal.npostings; p++) {
            const struct posting *po = &ev->u.journal.postings[p];
            if (po->account != ACCOUNT_EXTERNAL)
                continue;
            if (strcmp(ev->u.journal.reason, "deposit") == 0)
                r->deposits -= po->amount;
            else if (strcmp(ev->u.journal.reason, "withdrawal") == 0)
                r->withdrawals += po->amount;
            else if (strcmp(ev->u.journal.reason, "receivable_paid") == 0)
                r->payments -= po->amount;
            else
                ck_abort_msg("external posted by a %s entry", ev->u.journal.reason);
        }
    }
}

static void run_start(struct run *r, uint64_t seed, uint64_t commands)
{
    memset(r, 0, sizeof *r);
    struct workload_config cfg;
    workload_config_default(&cfg, seed, 0, commands);
    struct engine_capacity cap;
    workload_capacity(&cfg, commands, &cap);
    struct engine_params p;
    engine_params_default(&p);
    ck_assert_int_eq(engine_create(&r->e, &p, &cap), 0);
    r->w = workload_create(&cfg);
    ck_assert_ptr_nonnull(r->w);
    r->sink.events = sink_events;
    r->sink.capacity = SINK_CAP;
    r->hash = WORKLOAD_HASH_INIT;
    r->seed = seed;
    uint64_t slots = 64;
    while (slots < 2 * commands)
        slots <<= 1;
    r->paid_keys = calloc(slots, sizeof *r->paid_keys);
    ck_assert_ptr_nonnull(r->paid_keys);
    r->paid_mask = slots - 1;
}

static void run_stop(struct run *r)
{
    workload_destroy(r->w);
    engine_destroy(&r->e);
    free(r->paid_keys);
}

static void apply(struct run *r, const struct command *c)
{
    r->sink.count = 0;
    r->sink.nquote_lines = 0;
    engine_apply(&r->e, c, &r->sink);
    r->hash = workload_hash_events(r->hash, &r->e, &r->sink);
    tally(r, c);
    r->ncommands++;
}

/* Generates, applies and feeds back one command; *out gets it when asked. */
static void step(struct run *r, struct command *out)
{
    struct command c;
    workload_next(r->w, &r->e, &c);
    apply(r, &c);
    workload_observe(r->w, &r->e, &r->sink);
    if (out)
        *out = c;
}

/* ---- checks ------------------------------------------------------------------ */

/* ck_assert_msg records its location on every call (a write to check's
 * message file), which dominates loops over whole tables: test first. */
#define CHECK(cond, ...)                  \
    do {                                  \
        if (!(cond))                      \
            ck_abort_msg(__VA_ARGS__);    \
    } while (0)

#define WHERE "seed %llu, command %llu: "
#define AT(r) (unsigned long long)(r)->seed, (unsigned long long)(r)->ncommands

/* After every command: the engine's own invariants, plus independent checks
 * of this command's events and of trust. */
static void check_command(const struct run *r, const struct command *c)
{
    const struct engine *e = &r->e;
    char msg[256] = "";
    CHECK(engine_check_invariants(e, msg, sizeof msg) == 0,
                  WHERE "invariant broken after command kind %d (%s): %s", AT(r), c->kind,
                  c->command_id, msg);
    CHECK(r->sink.count < r->sink.capacity, WHERE "the sink filled up", AT(r));
    CHECK(e->external_balance == -(r->deposits - r->withdrawals + r->payments),
          WHERE "external %lld, but the events add up to deposits %lld - withdrawals %lld + "
                "payments %lld", AT(r), (long long)e->external_balance, (long long)r->deposits,
          (long long)r->withdrawals, (long long)r->payments);
    CHECK(r->paid_events == r->payments,
          WHERE "order.paid events total %lld, receivable_paid entries %lld", AT(r),
          (long long)r->paid_events, (long long)r->payments);
    for (uint32_t i = 0; i < e->nparticipants; i++)
        CHECK(e->participants[i].trust >= 0 && e->participants[i].trust <= 10000,
                      WHERE "trust of %s is %d", AT(r), e->participants[i].id, e->participants[i].trust);
    for (int32_t k = 0; k < r->sink.count; k++) {
        const struct event *ev = &r->sink.events[k];
        if (ev->kind == EV_JOURNAL_ENTRY) {
            int64_t sum = 0;
            for (int32_t p = 0; p < ev->u.journal.npostings; p++)
                sum += ev->u.journal.postings[p].amount;
            CHECK(sum == 0 && ev->u.journal.npostings >= 2,
                          WHERE "journal entry %s/%s does not balance (%lld)", AT(r),
                          ev->u.journal.reason, ev->u.journal.ref_id, (long long)sum);
        }
        if (ev->kind == EV_FILL)
            CHECK(e->fills[ev->u.fill.fill].quantity_wh > 0, WHERE "empty fill", AT(r));
        if (ev->kind == EV_TRUST_CHANGED)
            CHECK(ev->u.trust.new_score >= 0 && ev->u.trust.new_score <= 10000,
                          WHERE "trust event out of range", AT(r));
    }
}

static bool fill_holds(uint8_t s) { return s == FILL_RESERVED || s == FILL_SOLD || s == FILL_SETTLED; }

/* Whole tables, checked independently of engine_check_invariants. */
static void check_tables(const struct run *r)
{
    const struct engine *e = &r->e;
    /* money: every account, added up, is zero; nothing negative */
    int64_t sum = e->platform_balance + e->external_balance;
    CHECK(e->platform_balance >= 0 && e->external_balance <= 0, WHERE "platform/external sign", AT(r));
    int64_t receivables = 0, owed = 0;
    for (uint32_t i = 0; i < e->nparticipants; i++) {
        CHECK(e->participants[i].wallet >= 0, WHERE "wallet of %s negative", AT(r), e->participants[i].id);
        /* only the workload's paying platforms ("bap<k>.example") have receivables */
        CHECK(e->participants[i].receivable == 0 || strncmp(e->participants[i].id, "bap", 3) == 0,
              WHERE "%s is no payer but has a receivable", AT(r), e->participants[i].id);
        sum += e->participants[i].wallet + e->participants[i].receivable;
        receivables += e->participants[i].receivable;
    }
    for (uint32_t i = 0; i < e->norders; i++) {
        CHECK(e->orders[i].escrow >= 0, WHERE "escrow of %s negative", AT(r), e->orders[i].id);
        sum += e->orders[i].escrow;
        owed += e->orders[i].owed;
    }
    CHECK(sum == 0, WHERE "money not conserved: %lld", AT(r), (long long)sum);
    CHECK(receivables == -owed, WHERE "receivables %lld, orders owe %lld", AT(r),
          (long long)receivables, (long long)owed);

    /* energy: per offer, the lines that hold energy never exceed the offer */
    int64_t *held = calloc(e->noffers + 1, sizeof *held);
    ck_assert_ptr_nonnull(held);
    for (uint32_t f = 0; f < e->nfills; f++)
        if (fill_holds(e->fills[f].status))
            held[e->fills[f].offer] += e->fills[f].quantity_wh;
    for (uint32_t i = 0; i < e->noffers; i++) {
        const struct offer_entry *o = &e->offers[i];
        CHECK(held[i] <= o->terms.quantity_wh,
                      WHERE "offer %s: lines hold %lld Wh of %lld", AT(r), o->terms.offer_id,
                      (long long)held[i], (long long)o->terms.quantity_wh);
        CHECK(o->sold_wh >= 0 && o->reserved_wh >= 0 && o->closed_wh >= 0 &&
                          o->sold_wh + o->reserved_wh + o->closed_wh <= o->terms.quantity_wh,
                      WHERE "offer %s oversold: sold %lld reserved %lld closed %lld of %lld", AT(r),
                      o->terms.offer_id, (long long)o->sold_wh, (long long)o->reserved_wh,
                      (long long)o->closed_wh, (long long)o->terms.quantity_wh);
        if (o->status != OFFER_OPEN)
            CHECK(engine_offer_open_wh(o) == 0, WHERE "closed offer %s still open", AT(r),
                          o->terms.offer_id);
    }
    free(held);

    /* orders: each in a state its lines and the time agree with */
    for (uint32_t i = 0; i < e->norders; i++) {
        const struct order_entry *o = &e->orders[i];
        int n[FILL_SETTLED + 1] = {0};
        for (uint32_t f = o->first_fill; f < o->first_fill + o->nfills; f++) {
            CHECK(e->fills[f].order == i, WHERE "fill %u belongs to another order", AT(r), f);
            n[e->fills[f].status]++;
        }
        switch (o->status) {
        case ORDER_RESERVED:
            CHECK(o->expires_at_ms > e->now_ms,
                          WHERE "order %s still reserved %lld ms past its expiry", AT(r), o->id,
                          (long long)(e->now_ms - o->expires_at_ms));
            CHECK(n[FILL_RESERVED] == o->nfills, WHERE "reserved order %s has lines in other states", AT(r), o->id);
            break;
        case ORDER_CONFIRMED:
            CHECK(n[FILL_RESERVED] == 0 && n[FILL_RELEASED] == 0 && n[FILL_SOLD] > 0 &&
                              n[FILL_SOLD] == o->open_lines,
                          WHERE "confirmed order %s: %d sold lines, open_lines %u", AT(r), o->id,
                          n[FILL_SOLD], o->open_lines);
            break;
        case ORDER_SETTLED:
            CHECK(n[FILL_RESERVED] == 0 && n[FILL_SOLD] == 0 && n[FILL_RELEASED] == 0 && o->open_lines == 0,
                          WHERE "settled order %s has open lines", AT(r), o->id);
            CHECK(o->escrow == 0, WHERE "settled order %s keeps escrow %lld", AT(r), o->id, (long long)o->escrow);
            break;
        case ORDER_CANCELLED:
        case ORDER_EXPIRED:
            CHECK(n[FILL_RESERVED] == 0 && n[FILL_SOLD] == 0 && n[FILL_SETTLED] == 0,
                          WHERE "order %s is %s but holds lines", AT(r), o->id,
                          o->status == ORDER_EXPIRED ? "expired" : "cancelled");
            CHECK(o->escrow == 0, WHERE "closed order %s keeps escrow", AT(r), o->id);
            break;
        default:
            ck_abort_msg(WHERE "order %s in unknown state %d", AT(r), o->id, o->status);
        }
    }
}

/* year*12 + month-1 of a UTC time (civil-from-days), written independently. */
static int32_t month_key(int64_t ms)
{
    int64_t z = ms / 86400000 + 719468, era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097, yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
    int64_t m = mp < 10 ? mp + 3 : mp - 9;
    return (int32_t)((yoe + era * 400 + (m <= 2)) * 12 + m - 1);
}

static struct command tick_at(int64_t t, const char *id)
{
    struct command c;
    memset(&c, 0, sizeof c);
    c.kind = CMD_TICK;
    c.issued_at_ms = t;
    snprintf(c.command_id, sizeof c.command_id, "%s", id);
    return c;
}

/* ---- long random streams ----------------------------------------------------------- */

static void property_run(uint64_t seed)
{
    struct run r;
    run_start(&r, seed, prop_commands);
    struct command c;
    for (uint64_t i = 0; i < prop_commands; i++) {
        step(&r, &c);
        check_command(&r, &c);
        if (i % DEEP_EVERY == DEEP_EVERY - 1)
            check_tables(&r);
    }
    check_tables(&r);

    /* Coverage: the stream really exercised the whole life cycle. */
    const uint64_t *kinds = workload_kind_counts(r.w);
    for (int k = 0; k < CMD_KIND_COUNT; k++)
        CHECK(kinds[k] > 0, "seed %llu: no command of kind %d was generated", (unsigned long long)seed, k);
    uint32_t status_n[ORDER_SETTLED + 1] = {0};
    for (uint32_t i = 0; i < r.e.norders; i++)
        status_n[r.e.orders[i].status]++;
    for (int s = ORDER_CONFIRMED; s <= ORDER_SETTLED; s++)
        CHECK(status_n[s] > 0, "seed %llu: no order ended in state %d", (unsigned long long)seed, s);
    CHECK(r.npaid > 0 && r.npayment_refusals > 0,
          "seed %llu: %llu payments accepted, %llu refused: the stream must have both",
          (unsigned long long)seed, (unsigned long long)r.npaid,
          (unsigned long long)r.npayment_refusals);
    CHECK(r.nduplicates_refused > 0, "seed %llu: no resent payment was generated",
          (unsigned long long)seed);

    /* Time passes beyond every reservation: each is confirmed, cancelled or expired. */
    int64_t t = r.e.now_ms + r.e.p.reservation_ttl_ms + 60000;
    c = tick_at(t, "tick-after-ttl");
    apply(&r, &c);
    check_command(&r, &c);
    check_tables(&r);
    for (uint32_t i = 0; i < r.e.norders; i++)
        CHECK(r.e.orders[i].status != ORDER_RESERVED,
                      "seed %llu: order %s still reserved after its TTL and a tick",
                      (unsigned long long)seed, r.e.orders[i].id);

    /* ...and beyond the horizon: every slot closed, every offer closed, and
     * each offer's energy fully accounted for as sold or closed. */
    t += r.e.p.market.horizon_ms + 2 * 86400000LL;
    for (int k = 0; k < 4; k++) { /* expiry may resume over several commands */
        char id[32];
        snprintf(id, sizeof id, "tick-horizon-%d", k);
        c = tick_at(t + k, id);
        apply(&r, &c);
        check_command(&r, &c);
    }
    check_tables(&r);
    for (uint32_t i = 0; i < r.e.noffers; i++) {
        const struct offer_entry *o = &r.e.offers[i];
        CHECK(o->status != OFFER_OPEN, "seed %llu: offer %s open after its slot closed",
                      (unsigned long long)seed, o->terms.offer_id);
        CHECK(o->reserved_wh == 0 && o->sold_wh + o->closed_wh == o->terms.quantity_wh,
                      "seed %llu: offer %s: sold %lld + closed %lld != %lld (reserved %lld)",
                      (unsigned long long)seed, o->terms.offer_id, (long long)o->sold_wh,
                      (long long)o->closed_wh, (long long)o->terms.quantity_wh, (long long)o->reserved_wh);
    }
    /* Sellers' monthly commitments = what they still have sold in that month. */
    for (uint32_t p = 0; p < r.e.nparticipants; p++) {
        const struct participant *pp = &r.e.participants[p];
        for (int m = 0; m < ENGINE_MONTHS_TRACKED; m++) {
            if (pp->months[m].month < 0)
                continue;
            int64_t sold = 0;
            for (uint32_t i = 0; i < r.e.noffers; i++)
                if (r.e.offers[i].seller == p && month_key(r.e.offers[i].terms.delivery_start_ms) == pp->months[m].month)
                    sold += r.e.offers[i].sold_wh;
            CHECK(pp->months[m].committed_wh == sold,
                          "seed %llu: %s commits %lld Wh in month %d but has %lld Wh sold",
                          (unsigned long long)seed, pp->id, (long long)pp->months[m].committed_wh,
                          pp->months[m].month, (long long)sold);
        }
    }

    /* The DISCOM reports every outstanding line: every order ends final and
     * escrow is empty; what was deposited is in wallets and the platform. */
    for (uint32_t f = 0; f < r.e.nfills; f++) {
        if (r.e.fills[f].status != FILL_SOLD)
            continue;
        memset(&c, 0, sizeof c);
        c.kind = CMD_DELIVERY_REPORT;
        c.issued_at_ms = t + 10;
        snprintf(c.command_id, sizeof c.command_id, "final-report-%u", f);
        char id[ENGINE_ID_LEN + 8];
        snprintf(c.u.delivery.fill_id, sizeof c.u.delivery.fill_id, "%s", engine_fill_id(&r.e, f, id));
        c.u.delivery.delivered_wh = r.e.fills[f].quantity_wh;
        apply(&r, &c);
        check_command(&r, &c);
        CHECK(r.e.fills[f].status == FILL_SETTLED, "seed %llu: report of %s did not settle it",
                      (unsigned long long)seed, c.u.delivery.fill_id);
    }
    check_tables(&r);
    int64_t wallets = r.e.platform_balance;
    for (uint32_t i = 0; i < r.e.norders; i++) {
        const struct order_entry *o = &r.e.orders[i];
        CHECK(o->status == ORDER_SETTLED || o->status == ORDER_CANCELLED || o->status == ORDER_EXPIRED,
                      "seed %llu: order %s not final (%d)", (unsigned long long)seed, o->id, o->status);
        CHECK(o->escrow == 0, "seed %llu: order %s keeps escrow", (unsigned long long)seed, o->id);
    }
    int64_t platforms_owe = 0;
    for (uint32_t i = 0; i < r.e.nparticipants; i++) {
        wallets += r.e.participants[i].wallet;
        platforms_owe -= r.e.participants[i].receivable;
    }
    /* what is on the platform came in from outside, or is still owed by the
     * platforms paying for their buyers */
    CHECK(wallets == r.deposits - r.withdrawals + r.payments + platforms_owe,
          "seed %llu: wallets+platform %lld != deposits %lld - withdrawals %lld + payments %lld + "
          "owed by platforms %lld", (unsigned long long)seed, (long long)wallets,
          (long long)r.deposits, (long long)r.withdrawals, (long long)r.payments,
          (long long)platforms_owe);
    run_stop(&r);
}

START_TEST(test_random_streams_keep_the_books)
{
    static const uint64_t seeds[] = {1, 20251124, 0xdecafbadULL};
    property_run(seeds[_i]);
}
END_TEST

/* ---- refusals ------------------------------------------------------------------------- */

/* Known engine issue: a refused order or quote from a buyer id the market has
 * not seen still creates that participant (participant_get() runs before
 * matching and the funds check in order_place), and so does an offer refused
 * for the trade limit. The row is pristine (no money, default trust), so
 * while this is 1 the digest ignores pristine rows; set it to 0 once the
 * engine creates participants only for accepted commands. */
#define TOLERATE_PARTICIPANT_ON_REFUSAL 0

static bool pristine(const struct engine *e, const struct participant *p)
{
    for (int m = 0; m < ENGINE_MONTHS_TRACKED; m++)
        if (p->months[m].committed_wh != 0)
            return false;
    return p->wallet == 0 && p->trust == e->p.trust_default && p->capacity_wh == 0 &&
           p->verified_wh == 0 && !p->meter_bonus_given;
}

static uint64_t mix(uint64_t h, uint64_t v) { return (h ^ v) * 0x100000001b3ULL + (v >> 29); }

/* Everything a command could change, folded into one number. */
static uint64_t state_digest(const struct engine *e)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    h = mix(h, (uint64_t)e->now_ms);
    h = mix(h, (uint64_t)e->next_close_slot);
    uint32_t nparticipants = 0;
    for (uint32_t i = 0; i < e->nparticipants; i++)
        nparticipants += !(TOLERATE_PARTICIPANT_ON_REFUSAL && pristine(e, &e->participants[i]));
    h = mix(h, nparticipants);
    h = mix(h, e->noffers);
    h = mix(h, e->norders);
    h = mix(h, e->nfills);
    h = mix(h, e->res_count);
    h = mix(h, e->res_head);
    h = mix(h, e->offer_seq);
    h = mix(h, (uint64_t)e->platform_balance);
    h = mix(h, (uint64_t)e->external_balance);
    for (uint32_t i = 0; i < e->nparticipants; i++) {
        const struct participant *p = &e->participants[i];
        if (TOLERATE_PARTICIPANT_ON_REFUSAL && pristine(e, p))
            continue;
        h = mix(h, (uint64_t)p->wallet);
        h = mix(h, (uint64_t)p->trust);
        h = mix(h, (uint64_t)p->capacity_wh);
        h = mix(h, (uint64_t)p->verified_wh);
        h = mix(h, p->meter_bonus_given);
        /* a month slot with nothing committed is bookkeeping, not state: the
         * trade-limit check of a refused offer may claim one */
        uint64_t months = 0;
        for (int m = 0; m < ENGINE_MONTHS_TRACKED; m++)
            if (p->months[m].committed_wh != 0)
                months += mix((uint64_t)p->months[m].month, (uint64_t)p->months[m].committed_wh);
        h = mix(h, months);
    }
    for (uint32_t i = 0; i < e->noffers; i++) {
        const struct offer_entry *o = &e->offers[i];
        h = mix(h, (uint64_t)o->sold_wh + ((uint64_t)o->reserved_wh << 20) + ((uint64_t)o->closed_wh << 40) + o->status);
    }
    for (uint32_t i = 0; i < e->norders; i++)
        h = mix(h, (uint64_t)e->orders[i].escrow + ((uint64_t)e->orders[i].status << 56) + e->orders[i].open_lines);
    for (uint32_t i = 0; i < e->nfills; i++)
        h = mix(h, e->fills[i].status);
    return h;
}

static bool only_rejections(const struct event_sink *s)
{
    for (int32_t k = 0; k < s->count; k++)
        if (s->events[k].kind != EV_OFFER_REJECTED && s->events[k].kind != EV_ORDER_REJECTED &&
            s->events[k].kind != EV_COMMAND_REJECTED)
            return false;
    return s->count > 0;
}

/* A refused command changes nothing (quality.md, "Bad input"). Time is moved
 * to each command's timestamp by a tick first, so what the command itself
 * changes is all that is left to see. */
START_TEST(test_refused_commands_change_nothing)
{
    struct run r;
    run_start(&r, 5, prop_commands);
    uint64_t refused = 0;
    for (uint64_t i = 0; i < prop_commands; i++) {
        struct command c, t;
        workload_next(r.w, &r.e, &c);
        t = tick_at(c.issued_at_ms, "pre-tick");
        apply(&r, &t);
        uint64_t before = state_digest(&r.e);
        apply(&r, &c);
        workload_observe(r.w, &r.e, &r.sink);
        if (!only_rejections(&r.sink))
            continue;
        refused++;
        CHECK(state_digest(&r.e) == before,
              "seed 5, command %llu (%s, kind %d) was refused (%s: %s) but changed the state",
              (unsigned long long)i, c.command_id, c.kind, r.sink.events[0].u.rejected.reason.code,
              r.sink.events[0].u.rejected.reason.message);
    }
    CHECK(refused > 100, "only %llu refusals in the stream", (unsigned long long)refused);
    run_stop(&r);
}
END_TEST

/* ---- determinism -------------------------------------------------------------------- */

static uint64_t stream_hash(uint64_t seed, uint64_t commands)
{
    struct run r;
    run_start(&r, seed, commands);
    for (uint64_t i = 0; i < commands; i++)
        step(&r, NULL);
    uint64_t h = r.hash;
    run_stop(&r);
    return h;
}

START_TEST(test_same_seed_same_output)
{
    uint64_t a = stream_hash(7, 20000), b = stream_hash(7, 20000), c = stream_hash(8, 20000);
    CHECK(a == b, "seed 7 twice: %016llx vs %016llx", (unsigned long long)a, (unsigned long long)b);
    CHECK(a != c, "seeds 7 and 8 gave the same output %016llx", (unsigned long long)a);
}
END_TEST

/* ---- snapshots ------------------------------------------------------------------------ */

struct buf {
    unsigned char *p;
    size_t n, cap, pos;
};

static int buf_write(void *ctx, const void *data, size_t len)
{
    struct buf *b = ctx;
    if (b->n + len > b->cap) {
        size_t cap = b->cap ? b->cap : 1 << 16;
        while (cap < b->n + len)
            cap *= 2;
        unsigned char *p = realloc(b->p, cap);
        if (!p)
            return -1;
        b->p = p;
        b->cap = cap;
    }
    if (len)
        memcpy(b->p + b->n, data, len);
    b->n += len;
    return 0;
}

static int buf_read(void *ctx, void *data, size_t len)
{
    struct buf *b = ctx;
    if (b->pos + len > b->n)
        return -1;
    if (len)
        memcpy(data, b->p + b->pos, len);
    b->pos += len;
    return 0;
}

static void snapshot(const struct engine *e, struct buf *b)
{
    memset(b, 0, sizeof *b);
    ck_assert_int_eq(engine_snapshot_save(e, buf_write, b), 0);
}

static void assert_same_bytes(const struct buf *a, const struct buf *b, const char *what)
{
    CHECK(a->n == b->n, "%s: snapshot sizes differ (%zu vs %zu)", what, a->n, b->n);
    size_t i = 0;
    while (i < a->n && a->p[i] == b->p[i])
        i++;
    CHECK(i == a->n, "%s: snapshots differ first at byte %zu of %zu", what, i, a->n);
}

static void snapshot_round_trip(uint64_t seed, uint64_t before, uint64_t after)
{
    struct run r;
    run_start(&r, seed, before + after);
    for (uint64_t i = 0; i < before; i++)
        step(&r, NULL);
    struct buf snap;
    snapshot(&r.e, &snap);

    struct command *cmds = calloc(after, sizeof *cmds);
    ck_assert_ptr_nonnull(cmds);
    r.hash = WORKLOAD_HASH_INIT;
    for (uint64_t i = 0; i < after; i++)
        step(&r, &cmds[i]);
    uint64_t h1 = r.hash;
    struct buf end1;
    snapshot(&r.e, &end1);

    /* a fresh engine with the same capacities, loaded from the bytes */
    struct engine e2;
    ck_assert_int_eq(engine_create(&e2, &r.e.p, &r.e.cap), 0);
    ck_assert_int_eq(engine_snapshot_load(&e2, buf_read, &snap), 0);
    CHECK(snap.pos == snap.n, "load read %zu of %zu snapshot bytes", snap.pos, snap.n);
    struct buf again;
    snapshot(&e2, &again);
    assert_same_bytes(&snap, &again, "save(load(snapshot))");
    char msg[256];
    CHECK(engine_check_invariants(&e2, msg, sizeof msg) == 0, "loaded engine: %s", msg);

    struct event_sink sink2 = {.events = sink_events, .capacity = SINK_CAP};
    uint64_t h2 = WORKLOAD_HASH_INIT;
    for (uint64_t i = 0; i < after; i++) {
        sink2.count = 0;
        sink2.nquote_lines = 0;
        engine_apply(&e2, &cmds[i], &sink2);
        h2 = workload_hash_events(h2, &e2, &sink2);
    }
    CHECK(h1 == h2, "seed %llu: events after the snapshot differ (%016llx vs %016llx)",
                  (unsigned long long)seed, (unsigned long long)h1, (unsigned long long)h2);
    struct buf end2;
    snapshot(&e2, &end2);
    assert_same_bytes(&end1, &end2, "final state");

    free(snap.p);
    free(again.p);
    free(end1.p);
    free(end2.p);
    free(cmds);
    engine_destroy(&e2);
    run_stop(&r);
}

START_TEST(test_snapshot_then_replay_is_identical)
{
    snapshot_round_trip(11, 10000, 10000);
    snapshot_round_trip(12, 3000, 15000); /* early: few offers, reservations in flight */
}
END_TEST

Suite *properties_suite(void)
{
    Suite *s = suite_create("engine_properties");
    TCase *tc = tcase_create("streams");
    tcase_set_timeout(tc, 600);
    tcase_add_loop_test(tc, test_random_streams_keep_the_books, 0, 3);
    tcase_add_test(tc, test_refused_commands_change_nothing);
    tcase_add_test(tc, test_same_seed_same_output);
    tcase_add_test(tc, test_snapshot_then_replay_is_identical);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    const char *env = getenv("P2P_PROP_COMMANDS");
    if (env && strtoull(env, NULL, 10) > 0)
        prop_commands = strtoull(env, NULL, 10);
    SRunner *sr = srunner_create(properties_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
