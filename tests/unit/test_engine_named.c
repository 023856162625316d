/* Orders that name their offers (a Beckn select lists the offers and
 * quantities the buyer chose): exact lines, all or nothing, with the same
 * eligibility rules as matching, then the usual reserve/confirm/money flow. */
#include <check.h>

#include "engine_fixtures.h"

static struct command named(enum command_kind k, const char *order_id, const char *buyer, int n,
                            const char *const *offers, const int64_t *wh)
{
    struct command c = cmd_blank(k);
    snprintf(c.u.order.order_id, sizeof c.u.order.order_id, "%s", order_id);
    snprintf(c.u.order.buyer_id, sizeof c.u.order.buyer_id, "%s", buyer);
    c.nlines = n;
    for (int k2 = 0; k2 < n; k2++) {
        snprintf(c.lines[k2].offer_id, sizeof c.lines[k2].offer_id, "%s", offers[k2]);
        c.lines[k2].quantity_wh = wh[k2];
    }
    return c;
}

static void two_offers(void)
{
    set_capacity("s1", 500000);
    set_capacity("s2", 500000);
    list_offer("cheap", "s1", 5000, 500, W_START, W_END);
    list_offer("later", "s2", 4000, 700, W_START + HOUR, W_END + HOUR);
    deposit("b1", 100000);
}

START_TEST(buys_exactly_the_named_lines)
{
    two_offers();
    const char *offers[] = {"later", "cheap"};
    const int64_t wh[] = {1500, 2500};
    struct command c = named(CMD_ORDER_BUY, "n1", "b1", 2, offers, wh);
    fx_apply(&c);
    ck_assert_int_eq(fx_count(EV_FILL), 2);
    /* lines in the buyer's order, not ranked: the dearer offer first */
    ck_assert_str_eq(offer_id_at(fill_of("n1", 1)->offer), "later");
    ck_assert_int_eq(fill_of("n1", 1)->quantity_wh, 1500);
    ck_assert_int_eq(fill_of("n1", 2)->quantity_wh, 2500);
    /* 1.5 kWh x 7.00 + 2.5 kWh x 5.00 = 1050 + 1250; fee 26.25 + 31.25 -> 26 + 31 */
    const struct event *ev = fx_event(EV_ORDER_CONFIRMED);
    ck_assert_ptr_nonnull(ev);
    ck_assert_int_eq(ev->u.order.amount, 2300);
    ck_assert_int_eq(ev->u.order.fee, 57);
    ck_assert_int_eq(wallet("b1"), 100000 - 2357);
    ck_assert_int_eq(open_wh("cheap"), 2500);
    ck_assert_int_eq(open_wh("later"), 2500);
    /* quantity and window follow from the lines */
    ck_assert_int_eq(order("n1")->req.quantity_wh, 4000);
    ck_assert_int_eq(order("n1")->req.window_start_ms, W_START);
    ck_assert_int_eq(order("n1")->req.window_end_ms, W_END + HOUR);
}
END_TEST

START_TEST(any_bad_line_refuses_the_whole_order)
{
    two_offers();
    const char *unknown[] = {"cheap", "nope"};
    const char *twice[] = {"cheap", "cheap"};
    const char *one[] = {"cheap"};
    const int64_t ok2[] = {1000, 1000}, tiny[] = {10}, huge[] = {5001};
    struct command c = named(CMD_ORDER_BUY, "n1", "b1", 2, unknown, ok2);
    fx_apply(&c);
    EXPECT_REJECTED(EV_ORDER_REJECTED, "not_found");
    c = named(CMD_ORDER_BUY, "n2", "b1", 2, twice, ok2);
    fx_apply(&c);
    EXPECT_REJECTED(EV_ORDER_REJECTED, "invalid_field");
    c = named(CMD_ORDER_BUY, "n3", "b1", 1, one, tiny); /* below the 1 kWh minimum */
    fx_apply(&c);
    EXPECT_REJECTED(EV_ORDER_REJECTED, "invalid_field");
    c = named(CMD_ORDER_BUY, "n4", "b1", 1, one, huge);
    fx_apply(&c);
    EXPECT_REJECTED(EV_ORDER_REJECTED, "insufficient_supply");
    c = named(CMD_ORDER_BUY, "n5", "s1", 1, one, ok2); /* the seller's own offer */
    fx_apply(&c);
    EXPECT_REJECTED(EV_ORDER_REJECTED, "invalid_field");
    /* nothing held, nothing charged, nobody created */
    ck_assert_int_eq(open_wh("cheap"), 5000);
    ck_assert_int_eq(wallet("b1"), 100000);
    ck_assert_uint_eq(fx.e.norders, 0);
}
END_TEST

START_TEST(named_offers_past_gate_closure_cannot_be_bought)
{
    two_offers();
    const char *one[] = {"cheap"};
    const int64_t wh[] = {1000};
    struct command c = named(CMD_ORDER_RESERVE, "n1", "b1", 1, one, wh);
    fx_apply_at(&c, W_START - 3 * HOUR); /* inside the 4 h gate closure */
    /* the offer's slot closed, so its remainder expired: it is not for sale */
    EXPECT_REJECTED(EV_ORDER_REJECTED, "not_found");
    ck_assert_int_eq(offer("cheap")->status, OFFER_EXPIRED);
    ck_assert_uint_eq(fx.e.norders, 0);
}
END_TEST

START_TEST(quote_holds_nothing_and_reserve_then_confirm_works)
{
    two_offers();
    const char *one[] = {"cheap"};
    const int64_t wh[] = {2000};
    struct command q = named(CMD_ORDER_QUOTE, "n1", "b1", 1, one, wh);
    fx_apply(&q);
    ck_assert_ptr_nonnull(fx_event(EV_ORDER_QUOTED));
    ck_assert_int_eq(fx.sink.nquote_lines, 1);
    ck_assert_int_eq(fx.sink.quote_lines[0].amount, 1000);
    ck_assert_int_eq(open_wh("cheap"), 5000);
    struct command r = named(CMD_ORDER_RESERVE, "n1", "b1", 1, one, wh);
    fx_apply(&r);
    ck_assert_ptr_nonnull(fx_event(EV_ORDER_RESERVED));
    ck_assert_int_eq(open_wh("cheap"), 3000);
    struct command c = cmd_target(CMD_ORDER_CONFIRM, "n1", "b1");
    fx_apply(&c);
    ck_assert_ptr_nonnull(fx_event(EV_ORDER_CONFIRMED));
    ck_assert_int_eq(wallet("b1"), 100000 - 1000 - 25);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("engine_named");
    TCase *tc = tcase_create("named");
    tcase_add_checked_fixture(tc, fx_start, fx_stop);
    tcase_add_test(tc, buys_exactly_the_named_lines);
    tcase_add_test(tc, any_bad_line_refuses_the_whole_order);
    tcase_add_test(tc, named_offers_past_gate_closure_cannot_be_bought);
    tcase_add_test(tc, quote_holds_nothing_and_reserve_then_confirm_works);
    suite_add_tcase(s, tc);
    return fx_run(s);
}
