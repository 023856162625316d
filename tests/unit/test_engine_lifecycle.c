/* The order lifecycle (product.md §4, §6, §12): a quote holds nothing, a
 * reservation lives 600 s and then returns its energy, late confirms and
 * cancels are refused without changing anything, and a snapshot restores a
 * state that goes on to produce exactly the same events. */
#include "engine_fixtures.h"

#define TTL (600 * 1000LL)

/* ---- a copy of everything that matters, to prove "nothing changed" ------- */

struct state_copy {
    uint32_t np, no, nr, nf;
    struct participant parts[64];
    struct offer_entry offers[256];
    struct order_entry orders[256];
    struct fill_entry fills[1024];
    int64_t platform, external;
};

static struct state_copy before;

static void copy_state(struct state_copy *s, const struct engine *e)
{
    s->np = e->nparticipants;
    s->no = e->noffers;
    s->nr = e->norders;
    s->nf = e->nfills;
    memcpy(s->parts, e->participants, s->np * sizeof s->parts[0]);
    memcpy(s->offers, e->offers, s->no * sizeof s->offers[0]);
    memcpy(s->orders, e->orders, s->nr * sizeof s->orders[0]);
    memcpy(s->fills, e->fills, s->nf * sizeof s->fills[0]);
    s->platform = e->platform_balance;
    s->external = e->external_balance;
}

static void assert_unchanged(const struct state_copy *s, const struct engine *e)
{
    ck_assert_uint_eq(e->nparticipants, s->np);
    ck_assert_uint_eq(e->noffers, s->no);
    ck_assert_uint_eq(e->norders, s->nr);
    ck_assert_uint_eq(e->nfills, s->nf);
    ck_assert_msg(memcmp(s->parts, e->participants, s->np * sizeof s->parts[0]) == 0,
                  "participants changed");
    ck_assert_msg(memcmp(s->offers, e->offers, s->no * sizeof s->offers[0]) == 0, "offers changed");
    ck_assert_msg(memcmp(s->orders, e->orders, s->nr * sizeof s->orders[0]) == 0, "orders changed");
    ck_assert_msg(memcmp(s->fills, e->fills, s->nf * sizeof s->fills[0]) == 0, "fills changed");
    ck_assert_int_eq(e->platform_balance, s->platform);
    ck_assert_int_eq(e->external_balance, s->external);
}

START_TEST(a_quote_holds_nothing)
{
    list_offer("a", "sam", 5000, 650, W_START, W_END);
    struct command c = cmd_order(CMD_ORDER_QUOTE, "q1", "bob", 3000);
    fx_apply(&c);
    const struct event *q = fx_event(EV_ORDER_QUOTED);
    ck_assert_ptr_nonnull(q);
    ck_assert_int_eq(q->u.order.filled_wh, 3000);
    ck_assert_int_eq(q->u.order.amount, 1950);
    ck_assert_int_eq(q->u.order.fee, 49); /* 48.75 */
    ck_assert_int_eq(fx.sink.nquote_lines, 1);
    ck_assert_int_eq(fx.sink.quote_lines[0].quantity_wh, 3000);
    ck_assert_int_eq(fx.sink.quote_lines[0].amount, 1950);
    ck_assert_int_eq(fx.sink.quote_lines[0].fee, 49);
    ck_assert_int_eq(fx_count(EV_FILL), 0);
    ck_assert_int_eq(fx_count(EV_JOURNAL_ENTRY), 0);
    ck_assert_uint_eq(engine_find_order(&fx.e, "q1"), ID_INDEX_NONE);
    ck_assert_uint_eq(fx.e.norders, 0);
    ck_assert_uint_eq(fx.e.nfills, 0);
    ck_assert_int_eq(open_wh("a"), 5000);
    ck_assert_int_eq(offer("a")->reserved_wh, 0);
    /* the same quote again gives the same answer; then someone else takes it all */
    fx_apply(&c);
    ck_assert_int_eq(fx_event(EV_ORDER_QUOTED)->u.order.filled_wh, 3000);
    reserve("r1", "cat", 5000);
    fx_apply(&c);
    EXPECT_REJECTED(EV_ORDER_REJECTED, "insufficient_supply");
    ck_assert_int_eq(fx_event(EV_ORDER_REJECTED)->u.rejected.shortfall_wh, 3000);
}
END_TEST

START_TEST(a_reservation_expires_after_its_ttl_and_returns_the_energy)
{
    list_offer("a", "sam", 5000, 650, W_START, W_END);
    reserve("r1", "bob", 3000);
    const struct event *r = fx_event(EV_ORDER_RESERVED);
    ck_assert_uint_eq(r->u.order.order, engine_find_order(&fx.e, "r1"));
    ck_assert_int_eq(r->u.order.filled_wh, 3000);
    ck_assert_int_eq(order("r1")->status, ORDER_RESERVED);
    ck_assert_int_eq(order("r1")->reserved_at_ms, NOW);
    ck_assert_int_eq(order("r1")->expires_at_ms, NOW + TTL);
    ck_assert_int_eq(fill_of("r1", 1)->status, FILL_RESERVED);
    ck_assert_int_eq(offer("a")->reserved_wh, 3000);
    ck_assert_int_eq(open_wh("a"), 2000);

    fx.now = NOW + TTL - 1;
    tick();
    ck_assert_int_eq(fx_count(EV_ORDER_EXPIRED), 0);
    ck_assert_int_eq(order("r1")->status, ORDER_RESERVED);
    ck_assert_int_eq(open_wh("a"), 2000);

    fx.now = NOW + TTL;
    tick();
    ck_assert_int_eq(fx_count(EV_ORDER_EXPIRED), 1);
    const struct event *x = fx_event(EV_ORDER_EXPIRED);
    ck_assert_uint_eq(x->u.order_cancelled.order, engine_find_order(&fx.e, "r1"));
    ck_assert_int_eq(x->u.order_cancelled.released_wh, 3000);
    ck_assert_int_eq(x->u.order_cancelled.refund, 0);
    ck_assert_int_eq(x->u.order_cancelled.cancel_fee, 0);
    ck_assert_int_eq(order("r1")->status, ORDER_EXPIRED);
    ck_assert_int_eq(fill_of("r1", 1)->status, FILL_RELEASED);
    ck_assert_int_eq(offer("a")->reserved_wh, 0);
    ck_assert_int_eq(open_wh("a"), 5000);
    ck_assert_int_eq(fx_count(EV_TRUST_CHANGED), 0);

    fx.now += HOUR;
    tick();
    ck_assert_int_eq(fx_count(EV_ORDER_EXPIRED), 0);
    /* the energy is really buyable again */
    reserve("r2", "cat", 5000);
}
END_TEST

START_TEST(any_later_command_expires_due_reservations_in_order)
{
    list_offer("a", "sam", 5000, 650, W_START, W_END);
    reserve("r1", "bob", 1000);
    fx.now = NOW + MINUTE;
    reserve("r2", "cat", 1000);
    fx.now = NOW + 2 * MINUTE;
    reserve("r3", "dan", 1000);
    /* a deposit at NOW + 11 min: r1 and r2 are due, r3 is not */
    fx.now = NOW + TTL + MINUTE;
    deposit("eve", 100);
    ck_assert_int_eq(fx_count(EV_ORDER_EXPIRED), 2);
    ck_assert_uint_eq(fx_event_nth(EV_ORDER_EXPIRED, 0)->u.order_cancelled.order,
                      engine_find_order(&fx.e, "r1"));
    ck_assert_uint_eq(fx_event_nth(EV_ORDER_EXPIRED, 1)->u.order_cancelled.order,
                      engine_find_order(&fx.e, "r2"));
    ck_assert_int_eq(order("r3")->status, ORDER_RESERVED);
    ck_assert_int_eq(open_wh("a"), 4000);
}
END_TEST

START_TEST(confirm_after_expiry_is_refused)
{
    list_offer("a", "sam", 5000, 650, W_START, W_END);
    deposit("bob", 100000);
    reserve("r1", "bob", 3000);
    fx.now = NOW + TTL;
    struct command c = cmd_target(CMD_ORDER_CONFIRM, "r1", "bob");
    fx_apply(&c);
    ck_assert_ptr_nonnull(fx_any_rejection());
    ck_assert_ptr_null(fx_event(EV_ORDER_CONFIRMED));
    ck_assert_int_eq(fx_count(EV_FILL), 0);
    ck_assert_int_eq(fx_count(EV_JOURNAL_ENTRY), 0);
    ck_assert_int_eq(wallet("bob"), 100000);
    ck_assert_int_eq(order("r1")->status, ORDER_EXPIRED);
    ck_assert_int_eq(order("r1")->escrow, 0);
    ck_assert_int_eq(open_wh("a"), 5000);

    /* one millisecond before the end of its TTL a reservation still confirms */
    reserve("r2", "bob", 3000);
    fx.now = NOW + 2 * TTL - 1;
    c = cmd_target(CMD_ORDER_CONFIRM, "r2", "bob");
    fx_apply(&c);
    ck_assert_ptr_nonnull(fx_event(EV_ORDER_CONFIRMED));
    /* and a confirmed order never expires */
    fx.now = NOW + 3 * TTL;
    tick();
    ck_assert_int_eq(fx_count(EV_ORDER_EXPIRED), 0);
    ck_assert_int_eq(order("r2")->status, ORDER_CONFIRMED);
    ck_assert_int_eq(offer("a")->sold_wh, 3000);
}
END_TEST

START_TEST(only_the_buyer_confirms_or_cancels)
{
    list_offer("a", "sam", 5000, 650, W_START, W_END);
    deposit("bob", 100000);
    deposit("eve", 100000);
    reserve("r1", "bob", 3000);
    copy_state(&before, &fx.e);
    struct command c = cmd_target(CMD_ORDER_CONFIRM, "r1", "eve");
    fx_apply(&c);
    ck_assert_ptr_nonnull(fx_any_rejection());
    ck_assert_ptr_null(fx_event(EV_ORDER_CONFIRMED));
    c = cmd_target(CMD_ORDER_CANCEL, "r1", "eve");
    fx_apply(&c);
    ck_assert_ptr_nonnull(fx_any_rejection());
    ck_assert_ptr_null(fx_event(EV_ORDER_CANCELLED));
    c = cmd_target(CMD_ORDER_CONFIRM, "nope", "bob");
    fx_apply(&c);
    ck_assert_ptr_nonnull(fx_any_rejection());
    assert_unchanged(&before, &fx.e);
}
END_TEST

START_TEST(cancel_outside_the_window_is_refused_and_changes_nothing)
{
    list_offer("a", "sam", 5000, 650, W_START, W_END);
    deposit("bob", 100000);
    deposit("sam", 100000);
    buy("o1", "bob", 2000);
    ck_assert_int_eq(order("o1")->confirmed_at_ms, NOW);

    fx.now = NOW + 30 * MINUTE + 1;
    tick();
    copy_state(&before, &fx.e);
    struct command c = cmd_target(CMD_ORDER_CANCEL, "o1", "bob");
    fx_apply(&c);
    EXPECT_REJECTED(EV_COMMAND_REJECTED, "cancel_window_closed");
    ck_assert_ptr_null(fx_event(EV_ORDER_CANCELLED));
    ck_assert_int_eq(fx_count(EV_TRUST_CHANGED), 0);
    ck_assert_int_eq(fx_count(EV_JOURNAL_ENTRY), 0);
    assert_unchanged(&before, &fx.e);

    c = cmd_target(CMD_SALE_CANCEL, "o1/1", "sam");
    fx_apply(&c);
    EXPECT_REJECTED(EV_COMMAND_REJECTED, "cancel_window_closed");
    ck_assert_ptr_null(fx_event(EV_FILL_CANCELLED));
    assert_unchanged(&before, &fx.e);

    /* a later order has its own window */
    buy("o2", "bob", 2000);
    fx.now += 29 * MINUTE;
    c = cmd_target(CMD_ORDER_CANCEL, "o2", "bob");
    fx_apply(&c);
    ck_assert_ptr_nonnull(fx_event(EV_ORDER_CANCELLED));
}
END_TEST

START_TEST(no_cancel_once_delivery_has_started)
{
    struct engine_params p;
    engine_params_default(&p);
    p.cancel_window_ms = DAY; /* so that only the delivery start can close it */
    fx_stop();
    fx_start_with(&p);
    list_offer("a", "sam", 5000, 650, W_START, W_END);
    deposit("bob", 100000);
    deposit("sam", 100000);
    buy("o1", "bob", 2000);
    fx.now = W_START;
    tick(); /* the gate closure of the offer's slot is not what is under test */
    copy_state(&before, &fx.e);
    struct command c = cmd_target(CMD_ORDER_CANCEL, "o1", "bob");
    fx_apply(&c);
    EXPECT_REJECTED(EV_COMMAND_REJECTED, "delivery_started");
    assert_unchanged(&before, &fx.e);
    c = cmd_target(CMD_SALE_CANCEL, "o1/1", "sam");
    fx_apply(&c);
    EXPECT_REJECTED(EV_COMMAND_REJECTED, "delivery_started");
    assert_unchanged(&before, &fx.e);
}
END_TEST

START_TEST(energy_cancelled_after_gate_closure_is_not_relisted)
{
    struct engine_params p;
    engine_params_default(&p);
    p.cancel_window_ms = DAY;
    fx_stop();
    fx_start_with(&p);
    list_offer("a", "sam", 5000, 650, W_START, W_END);
    deposit("bob", 100000);
    buy("o1", "bob", 5000);
    fx.now = W_START - 3 * HOUR; /* gate closed, delivery not started */
    struct command c = cmd_target(CMD_ORDER_CANCEL, "o1", "bob");
    fx_apply(&c);
    const struct event *x = fx_event(EV_ORDER_CANCELLED);
    ck_assert_ptr_nonnull(x);
    ck_assert_int_eq(x->u.order_cancelled.cancel_fee, 325); /* 10 % of 32.50 */
    ck_assert_int_eq(open_wh("a"), 0);
    ck_assert_int_eq(offer("a")->sold_wh, 0);
    ck_assert_int_eq(offer("a")->closed_wh, 5000);
}
END_TEST

/* ---- snapshots ---------------------------------------------------------------- */

static bool same_rejection(const struct event *a, const struct event *b)
{
    const __typeof__(a->u.rejected) *x = &a->u.rejected, *y = &b->u.rejected;
    if (strcmp(x->subject_id, y->subject_id) || strcmp(x->actor_id, y->actor_id) ||
        strcmp(x->reason.code, y->reason.code) || strcmp(x->reason.field, y->reason.field) ||
        strcmp(x->reason.message, y->reason.message) || x->shortfall_wh != y->shortfall_wh ||
        x->nalternatives != y->nalternatives)
        return false;
    for (int32_t i = 0; i < x->nalternatives && i < ENGINE_MAX_ALTERNATIVES; i++)
        if (x->alternatives[i].start_ms != y->alternatives[i].start_ms ||
            x->alternatives[i].end_ms != y->alternatives[i].end_ms ||
            x->alternatives[i].available_wh != y->alternatives[i].available_wh)
            return false;
    return true;
}

static bool same_str(const char *a, const char *b)
{
    return (a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0);
}

/* Field-by-field: what an encoder would put on the wire. */
static bool same_event(const struct event *a, const struct event *b)
{
    if (a->kind != b->kind)
        return false;
    switch (a->kind) {
    case EV_OFFER_LISTED:
        return a->u.offer.offer == b->u.offer.offer;
    case EV_OFFER_WITHDRAWN:
    case EV_OFFER_EXPIRED:
        return a->u.offer_closed.offer == b->u.offer_closed.offer &&
               a->u.offer_closed.wh == b->u.offer_closed.wh;
    case EV_OFFER_REJECTED:
    case EV_ORDER_REJECTED:
    case EV_COMMAND_REJECTED:
        return same_rejection(a, b);
    case EV_ORDER_QUOTED:
    case EV_ORDER_RESERVED:
    case EV_ORDER_CONFIRMED:
    case EV_ORDER_SETTLED:
        return (a->kind == EV_ORDER_QUOTED || a->u.order.order == b->u.order.order) &&
               a->u.order.nlines == b->u.order.nlines && a->u.order.filled_wh == b->u.order.filled_wh &&
               a->u.order.amount == b->u.order.amount && a->u.order.fee == b->u.order.fee;
    case EV_ORDER_CANCELLED:
    case EV_ORDER_EXPIRED:
        return a->u.order_cancelled.order == b->u.order_cancelled.order &&
               a->u.order_cancelled.released_wh == b->u.order_cancelled.released_wh &&
               a->u.order_cancelled.refund == b->u.order_cancelled.refund &&
               a->u.order_cancelled.cancel_fee == b->u.order_cancelled.cancel_fee;
    case EV_FILL:
        return a->u.fill.fill == b->u.fill.fill;
    case EV_FILL_CANCELLED:
        return a->u.fill_cancelled.fill == b->u.fill_cancelled.fill &&
               a->u.fill_cancelled.refund == b->u.fill_cancelled.refund &&
               a->u.fill_cancelled.penalty == b->u.fill_cancelled.penalty;
    case EV_DELIVERY_SETTLED:
        return memcmp(&a->u.delivery, &b->u.delivery, sizeof a->u.delivery) == 0;
    case EV_TRUST_CHANGED:
        return a->u.trust.participant == b->u.trust.participant &&
               a->u.trust.old_score == b->u.trust.old_score &&
               a->u.trust.new_score == b->u.trust.new_score &&
               same_str(a->u.trust.reason, b->u.trust.reason) &&
               strcmp(a->u.trust.ref_id, b->u.trust.ref_id) == 0;
    case EV_JOURNAL_ENTRY:
        if (!same_str(a->u.journal.reason, b->u.journal.reason) ||
            strcmp(a->u.journal.ref_id, b->u.journal.ref_id) ||
            a->u.journal.npostings != b->u.journal.npostings)
            return false;
        for (int32_t i = 0; i < a->u.journal.npostings && i < ENGINE_MAX_POSTINGS; i++) {
            const struct posting *x = &a->u.journal.postings[i], *y = &b->u.journal.postings[i];
            if (x->account != y->account || x->amount != y->amount ||
                ((x->account == ACCOUNT_WALLET || x->account == ACCOUNT_ESCROW ||
                  x->account == ACCOUNT_RECEIVABLE) && x->owner != y->owner))
                return false;
        }
        return true;
    case EV_PARTICIPANT_UPDATED:
        return a->u.participant.participant == b->u.participant.participant;
    case EV_ORDER_PAID:
        return a->u.order_paid.order == b->u.order_paid.order &&
               a->u.order_paid.amount == b->u.order_paid.amount &&
               a->u.order_paid.paid_total == b->u.order_paid.paid_total &&
               a->u.order_paid.outstanding == b->u.order_paid.outstanding &&
               strcmp(a->u.order_paid.reference, b->u.order_paid.reference) == 0;
    }
    return false;
}

static const char *const kind_names[] = {
    "OFFER_LISTED",  "OFFER_REJECTED",  "OFFER_WITHDRAWN",    "OFFER_EXPIRED",   "ORDER_QUOTED",
    "ORDER_RESERVED", "ORDER_CONFIRMED", "ORDER_REJECTED",    "ORDER_CANCELLED", "ORDER_EXPIRED",
    "ORDER_SETTLED", "FILL",            "FILL_CANCELLED",     "DELIVERY_SETTLED", "TRUST_CHANGED",
    "JOURNAL_ENTRY", "PARTICIPANT_UPDATED", "COMMAND_REJECTED",
};

static const char *kind_name(enum event_kind k)
{
    return (unsigned)k < sizeof kind_names / sizeof kind_names[0] ? kind_names[k] : "?";
}

static struct engine twin;
static struct event twin_events[FX_MAX_EVENTS];
static struct event_sink twin_sink;

/* Applies c to the fixture's engine and to the twin; both must say the same. */
static void apply_both(struct command *c, int64_t at, int step)
{
    fx_apply_at(c, at);
    twin_sink.count = 0;
    twin_sink.nquote_lines = 0;
    engine_apply(&twin, c, &twin_sink);
    fx_check_books(&twin, &twin_sink);
    ck_assert_msg(twin_sink.count == fx.sink.count, "step %d: %d events after load, %d before",
                  step, twin_sink.count, fx.sink.count);
    for (int32_t i = 0; i < fx.sink.count; i++)
        ck_assert_msg(same_event(&fx.events[i], &twin_events[i]),
                      "step %d: event %d differs (%s vs %s)", step, i, kind_name(fx.events[i].kind),
                      kind_name(twin_events[i].kind));
    ck_assert_int_eq(twin_sink.nquote_lines, fx.sink.nquote_lines);
    for (int32_t i = 0; i < fx.sink.nquote_lines; i++) {
        const struct quote_line *x = &fx.sink.quote_lines[i], *y = &twin_sink.quote_lines[i];
        ck_assert(x->offer == y->offer && x->quantity_wh == y->quantity_wh &&
                  x->amount == y->amount && x->fee == y->fee && x->score_ppm == y->score_ppm);
    }
}

START_TEST(a_loaded_snapshot_produces_identical_events)
{
    /* a state with a bit of everything */
    struct command c = cmd_meter("tom", 100000, METER_HIGH);
    fx_apply(&c);
    set_capacity("sam", 500000);
    list_offer("s1", "sam", 20000, 600, W_START, W_END);
    list_offer("t1", "tom", 8000, 650, W_START, W_END);
    list_offer("s2", "sam", 5000, 550, W_START + HOUR, W_END + HOUR);
    deposit("bob", 100000);
    deposit("cat", 2000);
    deposit("sam", 2000);
    buy("o1", "bob", 9000);
    fx.now = NOW + 5 * MINUTE;
    reserve("r1", "cat", 4000);
    reserve("r2", "bob", 2000);

    struct membuf m = {0};
    ck_assert_int_eq(engine_snapshot_save(&fx.e, membuf_write, &m), 0);
    ck_assert_uint_gt(m.len, 0);

    struct engine_params p;
    engine_params_default(&p);
    struct engine_capacity cap = fx_capacity();
    ck_assert_int_eq(engine_create(&twin, &p, &cap), 0);
    ck_assert_int_eq(engine_snapshot_load(&twin, membuf_read, &m), 0);
    twin_sink.events = twin_events;
    twin_sink.capacity = FX_MAX_EVENTS;
    char msg[256] = "";
    ck_assert_msg(engine_check_invariants(&twin, msg, sizeof msg) == 0, "after load: %s", msg);
    ck_assert_int_eq(twin.now_ms, fx.e.now_ms);
    ck_assert_uint_eq(engine_find_order(&twin, "r1"), engine_find_order(&fx.e, "r1"));
    ck_assert_uint_eq(engine_find_offer(&twin, "t1"), engine_find_offer(&fx.e, "t1"));
    ck_assert_uint_eq(engine_find_participant(&twin, "cat"),
                      engine_find_participant(&fx.e, "cat"));

    int step = 0;
    int64_t t = NOW + 6 * MINUTE;
    c = cmd_offer("s1", "sam", 1000, 600, W_START, W_END); /* duplicate id */
    apply_both(&c, t, ++step);
    ck_assert_ptr_nonnull(fx_event(EV_OFFER_REJECTED));
    /* a new offer tying with t1 must rank after it: listing order survives the load */
    c = cmd_offer("t2", "tom", 1000, 650, W_START, W_END);
    apply_both(&c, t, ++step);
    c = cmd_offer("s3", "sam", 1000, 500, W_START, W_END);
    apply_both(&c, t, ++step);
    c = cmd_order(CMD_ORDER_QUOTE, "q1", "dan", 6000);
    apply_both(&c, t, ++step);
    ck_assert_ptr_nonnull(fx_event(EV_ORDER_QUOTED));
    c = cmd_order(CMD_ORDER_QUOTE, "q2", "dan", 100000);
    c.u.order.allow_partial = true;
    apply_both(&c, t, ++step);
    ck_assert_int_ge(fx.sink.nquote_lines, 2);
    ck_assert_str_eq(offer_id_at(fx.sink.quote_lines[fx.sink.nquote_lines - 2].offer), "t1");
    ck_assert_str_eq(offer_id_at(fx.sink.quote_lines[fx.sink.nquote_lines - 1].offer), "t2");
    c = cmd_target(CMD_ORDER_CONFIRM, "r1", "cat"); /* not enough money */
    apply_both(&c, t, ++step);
    c = cmd_target(CMD_ORDER_CONFIRM, "r2", "bob");
    apply_both(&c, t, ++step);
    ck_assert_ptr_nonnull(fx_event(EV_ORDER_CONFIRMED));
    c = cmd_order(CMD_ORDER_RESERVE, "r3", "dan", 3000);
    apply_both(&c, NOW + 8 * MINUTE, ++step);
    c = cmd_blank(CMD_TICK); /* r1 expires, r3 does not */
    apply_both(&c, NOW + 15 * MINUTE, ++step);
    ck_assert_int_eq(fx_count(EV_ORDER_EXPIRED), 1);
    c = cmd_target(CMD_ORDER_CANCEL, "o1", "bob");
    apply_both(&c, NOW + 16 * MINUTE, ++step);
    ck_assert_ptr_nonnull(fx_event(EV_ORDER_CANCELLED));
    c = cmd_target(CMD_SALE_CANCEL, "r2/1", "sam");
    apply_both(&c, NOW + 17 * MINUTE, ++step);
    c = cmd_target(CMD_OFFER_WITHDRAW, "t1", "tom");
    apply_both(&c, NOW + 18 * MINUTE, ++step);
    c = cmd_order(CMD_ORDER_BUY, "o4", "bob", 2000);
    apply_both(&c, NOW + 19 * MINUTE, ++step);
    ck_assert_ptr_nonnull(fx_event(EV_ORDER_CONFIRMED));
    c = cmd_blank(CMD_TICK); /* r3 expires, then the gate closes for W */
    apply_both(&c, NOW + 2 * HOUR + MINUTE, ++step);
    ck_assert_int_ge(fx_count(EV_OFFER_EXPIRED), 1);
    c = cmd_report("o4/1", 1500, 0);
    apply_both(&c, W_END, ++step);
    ck_assert_ptr_nonnull(fx_event(EV_DELIVERY_SETTLED));
    c = cmd_report("o4/1", 1500, 0);
    apply_both(&c, W_END, ++step);
    c = cmd_money(CMD_WITHDRAWAL, "sam", 100);
    apply_both(&c, W_END, ++step);
    c = cmd_money(CMD_DEPOSIT, "zoe", 100);
    apply_both(&c, W_END, ++step);

    /* and the two engines end in the same state */
    ck_assert_int_eq(twin.now_ms, fx.e.now_ms);
    ck_assert_uint_eq(twin.nparticipants, fx.e.nparticipants);
    ck_assert_uint_eq(twin.noffers, fx.e.noffers);
    ck_assert_uint_eq(twin.norders, fx.e.norders);
    ck_assert_uint_eq(twin.nfills, fx.e.nfills);
    for (uint32_t i = 0; i < twin.nparticipants; i++) {
        ck_assert_str_eq(twin.participants[i].id, fx.e.participants[i].id);
        ck_assert_int_eq(twin.participants[i].wallet, fx.e.participants[i].wallet);
        ck_assert_int_eq(twin.participants[i].trust, fx.e.participants[i].trust);
    }
    for (uint32_t i = 0; i < twin.noffers; i++) {
        ck_assert_int_eq(twin.offers[i].sold_wh, fx.e.offers[i].sold_wh);
        ck_assert_int_eq(twin.offers[i].reserved_wh, fx.e.offers[i].reserved_wh);
        ck_assert_int_eq(twin.offers[i].closed_wh, fx.e.offers[i].closed_wh);
        ck_assert_int_eq(twin.offers[i].status, fx.e.offers[i].status);
    }
    for (uint32_t i = 0; i < twin.norders; i++) {
        ck_assert_int_eq(twin.orders[i].status, fx.e.orders[i].status);
        ck_assert_int_eq(twin.orders[i].escrow, fx.e.orders[i].escrow);
    }
    ck_assert_int_eq(twin.platform_balance, fx.e.platform_balance);
    ck_assert_int_eq(twin.external_balance, fx.e.external_balance);
    engine_destroy(&twin);
    membuf_free(&m);
}
END_TEST

START_TEST(a_truncated_snapshot_is_refused)
{
    list_offer("s1", "sam", 5000, 600, W_START, W_END);
    deposit("bob", 100000);
    buy("o1", "bob", 2000);
    struct membuf m = {0};
    ck_assert_int_eq(engine_snapshot_save(&fx.e, membuf_write, &m), 0);
    struct engine_params p;
    engine_params_default(&p);
    struct engine_capacity cap = fx_capacity();
    size_t cuts[] = {0, 1, m.len / 2, m.len - 1};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        struct membuf part = {.data = m.data, .len = cuts[i], .cap = m.cap, .pos = 0};
        ck_assert_int_eq(engine_create(&twin, &p, &cap), 0);
        ck_assert_msg(engine_snapshot_load(&twin, membuf_read, &part) == -1,
                      "a snapshot cut at %zu of %zu bytes loaded", cuts[i], m.len);
        engine_destroy(&twin);
    }
    membuf_free(&m);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("engine_lifecycle");
    TCase *tc = tcase_create("lifecycle");
    tcase_add_checked_fixture(tc, fx_start, fx_stop);
    tcase_add_test(tc, a_quote_holds_nothing);
    tcase_add_test(tc, a_reservation_expires_after_its_ttl_and_returns_the_energy);
    tcase_add_test(tc, any_later_command_expires_due_reservations_in_order);
    tcase_add_test(tc, confirm_after_expiry_is_refused);
    tcase_add_test(tc, only_the_buyer_confirms_or_cancels);
    tcase_add_test(tc, cancel_outside_the_window_is_refused_and_changes_nothing);
    tcase_add_test(tc, no_cancel_once_delivery_has_started);
    tcase_add_test(tc, energy_cancelled_after_gate_closure_is_not_relisted);
    tcase_add_test(tc, a_loaded_snapshot_produces_identical_events);
    tcase_add_test(tc, a_truncated_snapshot_is_refused);
    suite_add_tcase(s, tc);
    return fx_run(s);
}
