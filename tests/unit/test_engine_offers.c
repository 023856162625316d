/* Offers in the engine core (product.md §3): listing, every rejection reason,
 * the seller's monthly trade limit, withdrawal and expiry at gate closure. */
#include "engine_fixtures.h"

START_TEST(valid_offer_is_listed_with_all_of_its_energy_open)
{
    uint32_t ix = list_offer("o1", "alice", 5000, 650, W_START, W_END);
    ck_assert_int_eq(fx_count(EV_OFFER_LISTED), 1);
    ck_assert_int_eq(fx_count(EV_OFFER_REJECTED), 0);
    ck_assert_uint_eq(fx.e.noffers, 1);
    const struct offer_entry *o = &fx.e.offers[ix];
    ck_assert_str_eq(o->terms.offer_id, "o1");
    ck_assert_int_eq(o->status, OFFER_OPEN);
    ck_assert_int_eq(engine_offer_open_wh(o), 5000);
    ck_assert_int_eq(o->sold_wh + o->reserved_wh + o->closed_wh, 0);
    /* the seller exists now, with the default trust and an empty wallet */
    ck_assert_int_eq(trust("alice"), 3000);
    ck_assert_int_eq(wallet("alice"), 0);
    ck_assert_uint_eq(o->seller, engine_find_participant(&fx.e, "alice"));
    /* fractional kWh are sellable: 1234 Wh is listed as is */
    list_offer("o2", "alice", 1234, 650, W_START, W_END);
    ck_assert_int_eq(open_wh("o2"), 1234);
}
END_TEST

struct bad_case {
    const char *what;
    const char *code;
    const char *field;
};

static void expect_offer_rejected(struct command *c, const struct bad_case *bc)
{
    uint32_t before = fx.e.noffers;
    fx_apply(c);
    const struct event *r = fx_event(EV_OFFER_REJECTED);
    ck_assert_msg(r != NULL, "%s: not rejected", bc->what);
    ck_assert_msg(fx_event(EV_OFFER_LISTED) == NULL, "%s: listed", bc->what);
    ck_assert_msg(strcmp(r->u.rejected.reason.code, bc->code) == 0, "%s: code %s, want %s",
                  bc->what, r->u.rejected.reason.code, bc->code);
    if (bc->field)
        ck_assert_msg(strcmp(r->u.rejected.reason.field, bc->field) == 0, "%s: field %s, want %s",
                      bc->what, r->u.rejected.reason.field, bc->field);
    ck_assert_msg(strlen(r->u.rejected.reason.message) > 0, "%s: no message", bc->what);
    ck_assert_str_eq(r->u.rejected.subject_id, c->u.offer.offer_id);
    ck_assert_uint_eq(fx.e.noffers, before);
    ck_assert_uint_eq(engine_find_offer(&fx.e, c->u.offer.offer_id), ID_INDEX_NONE);
}

START_TEST(every_invalid_term_is_rejected_with_its_reason)
{
    struct command c;
#define BAD(stmt, what, want, wfield)                                                     \
    do {                                                                                 \
        c = cmd_offer("bad", "alice", 5000, 650, W_START, W_END);                        \
        stmt;                                                                            \
        expect_offer_rejected(&c, &(struct bad_case){what, want, wfield});                \
    } while (0)
    BAD(c.u.offer.quantity_wh = 0, "zero quantity", "invalid_field", "quantity_wh");
    BAD(c.u.offer.quantity_wh = -1, "negative quantity", "invalid_field", "quantity_wh");
    BAD(c.u.offer.quantity_wh = OFFER_MAX_WH + 1, "huge quantity", "invalid_field", "quantity_wh");
    BAD(c.u.offer.price_per_kwh = 0, "zero price", "invalid_field", "price_per_kwh");
    BAD(c.u.offer.price_per_kwh = OFFER_MAX_PRICE_PER_KWH + 1, "huge price", "invalid_field",
        "price_per_kwh");
    BAD(c.u.offer.min_order_wh = 0, "zero min order", "invalid_field", "min_order_wh");
    BAD(c.u.offer.min_order_wh = 5001, "min order above quantity", "invalid_field", "min_order_wh");
    BAD(strcpy(c.u.offer.currency, "USD"), "other currency", "invalid_field", "currency");
    BAD(c.u.offer.delivery_end_ms = W_START, "empty window", "window_inverted", "delivery_end");
    BAD((c.u.offer.delivery_start_ms = W_END, c.u.offer.delivery_end_ms = W_START),
        "inverted window", "window_inverted", "delivery_end");
    BAD(c.u.offer.delivery_start_ms = W_START + 30 * MINUTE, "start off slot",
        "window_not_aligned", "delivery_start");
    BAD(c.u.offer.delivery_end_ms = W_END + 15 * MINUTE, "end off slot", "window_not_aligned",
        "delivery_end");
    BAD(c.u.offer.delivery_end_ms = W_START + 25 * HOUR, "window over 24 h", "invalid_field",
        "delivery_end");
    BAD((c.u.offer.delivery_start_ms = NOW + 3 * HOUR, c.u.offer.delivery_end_ms = NOW + 4 * HOUR),
        "inside gate closure", "gate_closed", "delivery_start");
    BAD((c.u.offer.delivery_start_ms = NOW + 7 * DAY + HOUR,
         c.u.offer.delivery_end_ms = NOW + 7 * DAY + 2 * HOUR),
        "beyond the 7-day horizon", "beyond_horizon", "delivery_start");
    BAD((c.u.offer.has_valid_until = true, c.u.offer.valid_until_ms = NOW - 1),
        "valid_until in the past", "invalid_field", "valid_until");
    BAD((c.u.offer.has_valid_until = true, c.u.offer.valid_until_ms = W_START + 1),
        "valid_until after delivery start", "invalid_field", "valid_until");
#undef BAD
    ck_assert_uint_eq(fx.e.noffers, 0);
    /* the limits themselves are allowed: exactly at gate closure, at the horizon, 24 h long */
    list_offer("edge1", "alice", 1000, 650, NOW + 4 * HOUR, NOW + 5 * HOUR);
    list_offer("edge2", "alice", 1000, 650, NOW + 7 * DAY, NOW + 7 * DAY + HOUR);
    list_offer("edge3", "alice", 1000, 650, W_START, W_START + 24 * HOUR);
}
END_TEST

START_TEST(offer_is_judged_at_monotonic_command_time)
{
    /* time moves to NOW + 1 h with any command ... */
    fx.now = NOW + HOUR;
    deposit("bob", 100);
    /* ... and an offer issued "earlier" is still judged at NOW + 1 h: a start at
     * NOW + 4 h is then only 3 h away, inside gate closure */
    struct command c = cmd_offer("late", "alice", 1000, 650, NOW + 4 * HOUR, NOW + 5 * HOUR);
    fx_apply_at(&c, NOW);
    EXPECT_REJECTED(EV_OFFER_REJECTED, "gate_closed");
    ck_assert_uint_eq(engine_find_offer(&fx.e, "late"), ID_INDEX_NONE);
    ck_assert_int_eq(fx.e.now_ms, NOW + HOUR);
    /* and at NOW + 1 h a start at NOW + 5 h is exactly at gate closure */
    c = cmd_offer("ok", "alice", 1000, 650, NOW + 5 * HOUR, NOW + 6 * HOUR);
    fx_apply_at(&c, NOW);
    ck_assert_ptr_nonnull(fx_event(EV_OFFER_LISTED));
}
END_TEST

START_TEST(duplicate_offer_id_is_rejected_and_the_original_untouched)
{
    list_offer("o1", "alice", 5000, 650, W_START, W_END);
    struct command c = cmd_offer("o1", "alice", 2000, 700, W_START, W_END);
    fx_apply(&c);
    EXPECT_REJECTED(EV_OFFER_REJECTED, "duplicate_id");
    ck_assert_ptr_null(fx_event(EV_OFFER_LISTED));
    /* another seller cannot reuse the id either */
    c = cmd_offer("o1", "bob", 2000, 700, W_START, W_END);
    fx_apply(&c);
    EXPECT_REJECTED(EV_OFFER_REJECTED, "duplicate_id");
    ck_assert_uint_eq(fx.e.noffers, 1);
    ck_assert_int_eq(offer("o1")->terms.quantity_wh, 5000);
    ck_assert_int_eq(offer("o1")->terms.price_per_kwh, 650);
    ck_assert_int_eq(open_wh("o1"), 5000);
}
END_TEST

/* product.md §3 example: trust 0.30 (10 %) x 500 kWh/month = 50 kWh. */
START_TEST(trade_limit_example_fifty_kwh)
{
    set_capacity("alice", 500000);
    ck_assert_int_eq(trust("alice"), 3000);
    ck_assert_int_eq(engine_trade_limit_wh(&fx.e, engine_find_participant(&fx.e, "alice")), 50000);
    list_offer("a1", "alice", 30000, 650, W_START, W_END);
    list_offer("a2", "alice", 20000, 650, NOW + 10 * HOUR, NOW + 11 * HOUR); /* 50 kWh in total */
    struct command c = cmd_offer("a3", "alice", 1, 650, W_START, W_END);
    fx_apply(&c);
    EXPECT_REJECTED(EV_OFFER_REJECTED, "trade_limit_exceeded");
    /* "rejected with the numbers": the message names the 50 kWh limit */
    ck_assert_ptr_nonnull(strstr(fx_event(EV_OFFER_REJECTED)->u.rejected.reason.message, "50"));
    ck_assert_uint_eq(engine_find_offer(&fx.e, "a3"), ID_INDEX_NONE);

    /* one offer of 50 kWh + 1 Wh is refused, of exactly 50 kWh listed */
    set_capacity("bob", 500000);
    c = cmd_offer("b1", "bob", 50001, 650, W_START, W_END);
    fx_apply(&c);
    EXPECT_REJECTED(EV_OFFER_REJECTED, "trade_limit_exceeded");
    list_offer("b2", "bob", 50000, 650, W_START, W_END);
}
END_TEST

START_TEST(trade_limit_counts_sold_energy_but_not_withdrawn_energy)
{
    set_capacity("carol", 500000); /* limit 50 kWh */
    list_offer("c1", "carol", 50000, 650, W_START, W_END);
    deposit("bob", 100000);
    buy("b1", "bob", 10000); /* 10 kWh sold */
    struct command c = cmd_target(CMD_OFFER_WITHDRAW, "c1", "carol");
    fx_apply(&c);
    ck_assert_ptr_nonnull(fx_event(EV_OFFER_WITHDRAWN));
    ck_assert_int_eq(fx_event(EV_OFFER_WITHDRAWN)->u.offer_closed.wh, 40000);
    /* committed now: 10 kWh sold; 40 kWh more fit, 40 kWh + 1 Wh do not */
    c = cmd_offer("c2", "carol", 40001, 650, W_START, W_END);
    fx_apply(&c);
    EXPECT_REJECTED(EV_OFFER_REJECTED, "trade_limit_exceeded");
    list_offer("c3", "carol", 40000, 650, W_START, W_END);
}
END_TEST

START_TEST(trade_limit_is_per_calendar_month_of_delivery)
{
    /* no capacity: 10 kWh per month. NOW is in November 2025. */
    list_offer("nov", "dave", 10000, 650, W_START, W_END);
    list_offer("dec", "dave", 10000, 650, DEC_1, DEC_1 + HOUR);
    struct command c = cmd_offer("nov2", "dave", 1, 650, DEC_1 - HOUR, DEC_1); /* 30 Nov 23:00 */
    fx_apply(&c);
    EXPECT_REJECTED(EV_OFFER_REJECTED, "trade_limit_exceeded");
    c = cmd_offer("dec2", "dave", 1, 650, DEC_1 + 2 * HOUR, DEC_1 + 3 * HOUR);
    fx_apply(&c);
    EXPECT_REJECTED(EV_OFFER_REJECTED, "trade_limit_exceeded");
}
END_TEST

START_TEST(default_limit_is_ten_kwh_without_capacity)
{
    list_offer("e1", "erin", 6000, 650, W_START, W_END);
    ck_assert_int_eq(engine_trade_limit_wh(&fx.e, engine_find_participant(&fx.e, "erin")), 10000);
    struct command c = cmd_offer("e2", "erin", 4001, 650, W_START, W_END);
    fx_apply(&c);
    EXPECT_REJECTED(EV_OFFER_REJECTED, "trade_limit_exceeded");
    list_offer("e3", "erin", 4000, 650, W_START, W_END);
    /* declaring 50 kWh/month makes the limit 10 % of it: 5 kWh, below what is listed */
    set_capacity("erin", 50000);
    ck_assert_int_eq(engine_trade_limit_wh(&fx.e, engine_find_participant(&fx.e, "erin")), 5000);
    c = cmd_offer("e4", "erin", 1, 650, W_START, W_END);
    fx_apply(&c);
    EXPECT_REJECTED(EV_OFFER_REJECTED, "trade_limit_exceeded");
    /* what is listed stays listed */
    ck_assert_int_eq(open_wh("e1"), 6000);
    ck_assert_int_eq(open_wh("e3"), 4000);
}
END_TEST

START_TEST(withdraw_takes_only_the_open_remainder)
{
    uint32_t ix = list_offer("e1", "erin", 5000, 600, W_START, W_END);
    deposit("bob", 100000);
    buy("b1", "bob", 1000);
    reserve("r1", "carol", 1500);
    ck_assert_int_eq(open_wh("e1"), 2500);

    struct command c = cmd_target(CMD_OFFER_WITHDRAW, "e1", "erin");
    fx_apply(&c);
    const struct event *w = fx_event(EV_OFFER_WITHDRAWN);
    ck_assert_ptr_nonnull(w);
    ck_assert_uint_eq(w->u.offer_closed.offer, ix);
    ck_assert_int_eq(w->u.offer_closed.wh, 2500);
    const struct offer_entry *o = offer("e1");
    ck_assert_int_eq(o->sold_wh, 1000);
    ck_assert_int_eq(o->reserved_wh, 1500);
    ck_assert_int_eq(o->closed_wh, 2500);
    ck_assert_int_eq(engine_offer_open_wh(o), 0);
    ck_assert_int_eq(order("b1")->status, ORDER_CONFIRMED);
    ck_assert_int_eq(order("r1")->status, ORDER_RESERVED);

    /* the reservation made before the withdrawal can still be confirmed */
    deposit("carol", 100000);
    c = cmd_target(CMD_ORDER_CONFIRM, "r1", "carol");
    fx_apply(&c);
    ck_assert_ptr_nonnull(fx_event(EV_ORDER_CONFIRMED));
    ck_assert_int_eq(offer("e1")->sold_wh, 2500);
    ck_assert_int_eq(offer("e1")->reserved_wh, 0);

    /* nothing left to buy */
    c = cmd_order(CMD_ORDER_QUOTE, "q1", "dan", 1000);
    fx_apply(&c);
    EXPECT_REJECTED(EV_ORDER_REJECTED, "insufficient_supply");
    ck_assert_int_eq(fx_event(EV_ORDER_REJECTED)->u.rejected.shortfall_wh, 1000);

    /* the withdrawn 2.5 kWh no longer count against erin's 10 kWh: 2.5 kWh sold + 7.5 kWh fit */
    c = cmd_offer("e2", "erin", 7501, 600, W_START, W_END);
    fx_apply(&c);
    EXPECT_REJECTED(EV_OFFER_REJECTED, "trade_limit_exceeded");
    list_offer("e3", "erin", 7500, 600, W_START, W_END);
}
END_TEST

START_TEST(withdrawing_an_untouched_offer_closes_it_entirely)
{
    list_offer("e1", "erin", 5000, 600, W_START, W_END);
    struct command c = cmd_target(CMD_OFFER_WITHDRAW, "e1", "erin");
    fx_apply(&c);
    ck_assert_int_eq(fx_event(EV_OFFER_WITHDRAWN)->u.offer_closed.wh, 5000);
    ck_assert_int_eq(offer("e1")->status, OFFER_WITHDRAWN);
    ck_assert_int_eq(open_wh("e1"), 0);
    c = cmd_order(CMD_ORDER_QUOTE, "q1", "bob", 1000);
    fx_apply(&c);
    EXPECT_REJECTED(EV_ORDER_REJECTED, "insufficient_supply");
}
END_TEST

START_TEST(only_the_seller_can_withdraw)
{
    list_offer("e1", "erin", 5000, 600, W_START, W_END);
    struct command c = cmd_target(CMD_OFFER_WITHDRAW, "e1", "mallory");
    fx_apply(&c);
    EXPECT_REJECTED(EV_COMMAND_REJECTED, "not_found");
    ck_assert_ptr_null(fx_event(EV_OFFER_WITHDRAWN));
    ck_assert_int_eq(open_wh("e1"), 5000);
    ck_assert_int_eq(offer("e1")->status, OFFER_OPEN);
    c = cmd_target(CMD_OFFER_WITHDRAW, "nope", "erin");
    fx_apply(&c);
    EXPECT_REJECTED(EV_COMMAND_REJECTED, "not_found");
}
END_TEST

START_TEST(unsold_remainder_expires_at_gate_closure)
{
    uint32_t ix = list_offer("f1", "fay", 5000, 600, W_START, W_END); /* starts NOW + 6 h */
    list_offer("f2", "fay", 2000, 600, W_START + HOUR, W_END + HOUR); /* a slot later */
    deposit("bob", 100000);
    buy("b1", "bob", 2000);
    ck_assert_int_eq(fill_of("b1", 1)->offer, ix);

    /* at NOW + 2 h the start is exactly 4 h away: still buyable */
    fx.now = NOW + 2 * HOUR;
    tick();
    ck_assert_int_eq(fx_count(EV_OFFER_EXPIRED), 0);
    struct command c = cmd_order(CMD_ORDER_QUOTE, "q1", "bob", 3000);
    fx_apply(&c);
    ck_assert_ptr_nonnull(fx_event(EV_ORDER_QUOTED));

    /* a minute later the gate has closed: the 3 kWh unsold expire, the sold 2 kWh stay */
    fx.now = NOW + 2 * HOUR + MINUTE;
    tick();
    ck_assert_int_eq(fx_count(EV_OFFER_EXPIRED), 1);
    const struct event *x = fx_event(EV_OFFER_EXPIRED);
    ck_assert_uint_eq(x->u.offer_closed.offer, ix);
    ck_assert_int_eq(x->u.offer_closed.wh, 3000);
    ck_assert_int_eq(offer("f1")->status, OFFER_EXPIRED);
    ck_assert_int_eq(offer("f1")->sold_wh, 2000);
    ck_assert_int_eq(offer("f1")->closed_wh, 3000);
    ck_assert_int_eq(open_wh("f1"), 0);
    ck_assert_int_eq(order("b1")->status, ORDER_CONFIRMED);
    /* the later slot is untouched */
    ck_assert_int_eq(offer("f2")->status, OFFER_OPEN);
    ck_assert_int_eq(open_wh("f2"), 2000);

    /* expiry happens once */
    fx.now += MINUTE;
    tick();
    ck_assert_int_eq(fx_count(EV_OFFER_EXPIRED), 0);

    /* the next slot expires an hour later */
    fx.now = NOW + 3 * HOUR + MINUTE;
    tick();
    ck_assert_int_eq(fx_count(EV_OFFER_EXPIRED), 1);
    ck_assert_int_eq(fx_event(EV_OFFER_EXPIRED)->u.offer_closed.wh, 2000);
    ck_assert_int_eq(offer("f2")->status, OFFER_EXPIRED);
}
END_TEST

START_TEST(expired_offer_cannot_be_withdrawn_again)
{
    list_offer("f1", "fay", 5000, 600, W_START, W_END);
    fx.now = NOW + 3 * HOUR;
    tick();
    ck_assert_int_eq(fx_count(EV_OFFER_EXPIRED), 1);
    struct command c = cmd_target(CMD_OFFER_WITHDRAW, "f1", "fay");
    fx_apply(&c);
    ck_assert_int_eq(fx_count(EV_OFFER_WITHDRAWN) == 0 ||
                         fx_event(EV_OFFER_WITHDRAWN)->u.offer_closed.wh == 0,
                     1);
    ck_assert_int_eq(offer("f1")->closed_wh, 5000);
}
END_TEST

START_TEST(reserved_energy_of_a_withdrawn_offer_does_not_come_back)
{
    list_offer("e1", "erin", 5000, 600, W_START, W_END);
    reserve("r1", "bob", 2000);
    deposit("cat", 100000);
    buy("o2", "cat", 1000);
    struct command c = cmd_target(CMD_OFFER_WITHDRAW, "e1", "erin");
    fx_apply(&c);
    ck_assert_int_eq(fx_event(EV_OFFER_WITHDRAWN)->u.offer_closed.wh, 2000);
    /* the reservation lapses: its 2 kWh close with the offer instead of re-opening */
    fx.now = NOW + 10 * MINUTE;
    tick();
    ck_assert_ptr_nonnull(fx_event(EV_ORDER_EXPIRED));
    ck_assert_int_eq(open_wh("e1"), 0);
    ck_assert_int_eq(offer("e1")->reserved_wh, 0);
    ck_assert_int_eq(offer("e1")->closed_wh, 4000);
    /* so does a cancelled sale */
    c = cmd_target(CMD_ORDER_CANCEL, "o2", "cat");
    fx_apply(&c);
    ck_assert_ptr_nonnull(fx_event(EV_ORDER_CANCELLED));
    ck_assert_int_eq(open_wh("e1"), 0);
    ck_assert_int_eq(offer("e1")->sold_wh, 0);
    ck_assert_int_eq(offer("e1")->closed_wh, 5000);
    /* and none of it counts against erin's limit any more */
    list_offer("e2", "erin", 10000, 600, W_START, W_END);
}
END_TEST

START_TEST(an_offer_is_not_sold_after_its_valid_until)
{
    struct command c = cmd_offer("v1", "vic", 5000, 600, W_START, W_END);
    c.u.offer.has_valid_until = true;
    c.u.offer.valid_until_ms = NOW + HOUR;
    fx_apply(&c);
    ck_assert_ptr_nonnull(fx_event(EV_OFFER_LISTED));
    fx.now = NOW + HOUR - 1;
    c = cmd_order(CMD_ORDER_QUOTE, "q1", "bob", 1000);
    fx_apply(&c);
    ck_assert_ptr_nonnull(fx_event(EV_ORDER_QUOTED));
    fx.now = NOW + HOUR + 1;
    fx_apply(&c);
    EXPECT_REJECTED(EV_ORDER_REJECTED, "insufficient_supply");
}
END_TEST

START_TEST(expired_energy_no_longer_counts_against_the_limit)
{
    list_offer("g1", "gus", 6000, 600, W_START, W_END); /* default limit: 10 kWh a month */
    list_offer("g2", "gus", 4000, 600, W_START + HOUR, W_END + HOUR);
    deposit("bob", 100000);
    buy("b1", "bob", 1000);
    fx.now = NOW + 2 * HOUR + MINUTE; /* g1's gate closes: 5 kWh unsold expire */
    tick();
    ck_assert_int_eq(fx_event(EV_OFFER_EXPIRED)->u.offer_closed.wh, 5000);
    /* committed now: 1 kWh sold + 4 kWh open in g2; 5 kWh fit, 5 kWh + 1 Wh do not */
    struct command c = cmd_offer("g3", "gus", 5001, 600, NOW + 8 * HOUR, NOW + 9 * HOUR);
    fx_apply(&c);
    EXPECT_REJECTED(EV_OFFER_REJECTED, "trade_limit_exceeded");
    list_offer("g4", "gus", 5000, 600, NOW + 8 * HOUR, NOW + 9 * HOUR);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("engine_offers");
    TCase *tc = tcase_create("offers");
    tcase_add_checked_fixture(tc, fx_start, fx_stop);
    tcase_add_test(tc, valid_offer_is_listed_with_all_of_its_energy_open);
    tcase_add_test(tc, every_invalid_term_is_rejected_with_its_reason);
    tcase_add_test(tc, offer_is_judged_at_monotonic_command_time);
    tcase_add_test(tc, duplicate_offer_id_is_rejected_and_the_original_untouched);
    tcase_add_test(tc, trade_limit_example_fifty_kwh);
    tcase_add_test(tc, trade_limit_counts_sold_energy_but_not_withdrawn_energy);
    tcase_add_test(tc, trade_limit_is_per_calendar_month_of_delivery);
    tcase_add_test(tc, default_limit_is_ten_kwh_without_capacity);
    tcase_add_test(tc, withdraw_takes_only_the_open_remainder);
    tcase_add_test(tc, withdrawing_an_untouched_offer_closes_it_entirely);
    tcase_add_test(tc, only_the_seller_can_withdraw);
    tcase_add_test(tc, unsold_remainder_expires_at_gate_closure);
    tcase_add_test(tc, expired_offer_cannot_be_withdrawn_again);
    tcase_add_test(tc, expired_energy_no_longer_counts_against_the_limit);
    tcase_add_test(tc, reserved_energy_of_a_withdrawn_offer_does_not_come_back);
    tcase_add_test(tc, an_offer_is_not_sold_after_its_valid_until);
    suite_add_tcase(s, tc);
    return fx_run(s);
}
