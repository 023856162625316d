/* Money (product.md §2, §5, §6, §8): half-up rounding once per fill, the
 * funds check, escrow, delivery payouts, cancellation fees and the seller's
 * penalty, deposits and withdrawals. fx_apply() re-adds every balance after
 * each command: Σ wallets + Σ escrow + platform + external == 0, none negative. */
#include "engine_fixtures.h"

static int64_t platform(void) { return fx.e.platform_balance; }
static int64_t external(void) { return fx.e.external_balance; }

/* Sum of the postings of the last command's journal entries on one account. */
static int64_t posted(enum account_kind a, uint32_t owner)
{
    int64_t t = 0;
    for (int32_t i = 0; i < fx.sink.count; i++) {
        const struct event *ev = &fx.events[i];
        if (ev->kind != EV_JOURNAL_ENTRY)
            continue;
        for (int32_t k = 0; k < ev->u.journal.npostings; k++) {
            const struct posting *p = &ev->u.journal.postings[k];
            if (p->account == a && (a == ACCOUNT_PLATFORM || a == ACCOUNT_EXTERNAL || p->owner == owner))
                t += p->amount;
        }
    }
    return t;
}

static uint32_t pix(const char *id) { return engine_find_participant(&fx.e, id); }
static uint32_t oix(const char *id) { return engine_find_order(&fx.e, id); }

START_TEST(money_arithmetic_rounds_half_up)
{
    ck_assert_int_eq(money_cost(1500, 333), 500); /* 499.5 */
    ck_assert_int_eq(money_cost(1499, 333), 499); /* 499.167 */
    ck_assert_int_eq(money_cost(3000, 333), 999);
    ck_assert_int_eq(money_cost(1, 500), 1);      /* 0.5 */
    ck_assert_int_eq(money_cost(1, 499), 0);      /* 0.499 */
    ck_assert_int_eq(money_cost(10000, 651), 6510);
    ck_assert_int_eq(money_cost(0, 651), 0);
    ck_assert_int_eq(money_rate(2500, 250), 63);  /* 62.5 */
    ck_assert_int_eq(money_rate(2460, 250), 62);  /* 61.5 */
    ck_assert_int_eq(money_rate(500, 250), 13);   /* 12.5 */
    ck_assert_int_eq(money_rate(20, 250), 1);     /* 0.5 */
    ck_assert_int_eq(money_rate(19, 250), 0);     /* 0.475 */
    ck_assert_int_eq(money_rate(6510, 250), 163); /* 162.75 */
    ck_assert_int_eq(money_rate(6510, 1000), 651);
    ck_assert_int_eq(money_rate(6505, 1000), 651); /* 650.5 */
    ck_assert_int_eq(money_rate(6510, 500), 326);  /* 325.5 */
    /* OFFER_MAX_WH at OFFER_MAX_PRICE_PER_KWH does not overflow */
    ck_assert_int_eq(money_cost(OFFER_MAX_WH, OFFER_MAX_PRICE_PER_KWH), 1000000000LL);
}
END_TEST

/* Two lines of 1.5 kWh at 3.33/kWh: each line rounds (499.5 -> 500, fee
 * 12.5 -> 13), so the order costs 1000 + 26, not 999 + 25. */
START_TEST(rounding_is_per_line_and_funds_are_checked_exactly)
{
    list_offer("a", "sam", 1500, 333, W_START, W_END);
    list_offer("b", "tim", 1500, 333, W_START, W_END);
    deposit("bob", 1025);
    struct command c = cmd_order(CMD_ORDER_BUY, "o1", "bob", 3000);
    fx_apply(&c);
    EXPECT_REJECTED(EV_ORDER_REJECTED, "insufficient_funds");
    ck_assert_ptr_null(fx_event(EV_ORDER_CONFIRMED));
    ck_assert_int_eq(fx_count(EV_FILL), 0);
    ck_assert_int_eq(fx_count(EV_JOURNAL_ENTRY), 0);
    ck_assert_int_eq(wallet("bob"), 1025);
    ck_assert_int_eq(open_wh("a"), 1500); /* nothing held */
    ck_assert_int_eq(open_wh("b"), 1500);
    ck_assert_int_eq(offer("a")->reserved_wh + offer("b")->reserved_wh, 0);

    deposit("bob", 1);
    buy("o2", "bob", 3000);
    const struct event *ok = fx_event(EV_ORDER_CONFIRMED);
    ck_assert_uint_eq(ok->u.order.order, oix("o2"));
    ck_assert_int_eq(ok->u.order.nlines, 2);
    ck_assert_int_eq(ok->u.order.filled_wh, 3000);
    ck_assert_int_eq(ok->u.order.amount, 1000);
    ck_assert_int_eq(ok->u.order.fee, 26);
    ck_assert_int_eq(fx_count(EV_FILL), 2);
    char buf[ENGINE_ID_LEN + 8];
    ck_assert_str_eq(engine_fill_id(&fx.e, fx_event_nth(EV_FILL, 0)->u.fill.fill, buf), "o2/1");
    ck_assert_str_eq(engine_fill_id(&fx.e, fx_event_nth(EV_FILL, 1)->u.fill.fill, buf), "o2/2");
    for (int line = 1; line <= 2; line++) {
        ck_assert_int_eq(fill_of("o2", line)->amount, 500);
        ck_assert_int_eq(fill_of("o2", line)->fee, 13);
        ck_assert_int_eq(fill_of("o2", line)->status, FILL_SOLD);
    }
    /* wallet -> escrow, exactly */
    ck_assert_int_eq(posted(ACCOUNT_WALLET, pix("bob")), -1026);
    ck_assert_int_eq(posted(ACCOUNT_ESCROW, oix("o2")), 1026);
    ck_assert_int_eq(wallet("bob"), 0);
    ck_assert_int_eq(order("o2")->escrow, 1026);
    ck_assert_int_eq(order("o2")->status, ORDER_CONFIRMED);
    ck_assert_int_eq(wallet("sam") + wallet("tim") + platform(), 0); /* paid only on delivery */

    /* broke now: the next purchase is refused, the wallet stays at zero */
    list_offer("c", "uma", 1000, 100, W_START, W_END);
    c = cmd_order(CMD_ORDER_BUY, "o3", "bob", 1000);
    fx_apply(&c);
    EXPECT_REJECTED(EV_ORDER_REJECTED, "insufficient_funds");
    ck_assert_int_eq(wallet("bob"), 0);
    ck_assert_int_eq(open_wh("c"), 1000);
}
END_TEST

START_TEST(confirm_needs_amount_plus_fee_and_keeps_the_reservation_otherwise)
{
    list_offer("a", "sam", 10000, 651, W_START, W_END);
    reserve("r1", "bob", 10000);
    struct command c = cmd_target(CMD_ORDER_CONFIRM, "r1", "bob");
    fx_apply(&c);
    EXPECT_REJECTED(EV_ORDER_REJECTED, "insufficient_funds");
    ck_assert_int_eq(order("r1")->status, ORDER_RESERVED);
    ck_assert_int_eq(offer("a")->reserved_wh, 10000);

    deposit("bob", 6672); /* 6510 + 163 = 6673 needed */
    fx_apply(&c);
    EXPECT_REJECTED(EV_ORDER_REJECTED, "insufficient_funds");
    ck_assert_int_eq(wallet("bob"), 6672);
    ck_assert_int_eq(order("r1")->escrow, 0);

    deposit("bob", 1);
    fx_apply(&c);
    ck_assert_ptr_nonnull(fx_event(EV_ORDER_CONFIRMED));
    ck_assert_int_eq(fx_event(EV_ORDER_CONFIRMED)->u.order.amount, 6510);
    ck_assert_int_eq(fx_event(EV_ORDER_CONFIRMED)->u.order.fee, 163);
    ck_assert_int_eq(wallet("bob"), 0);
    ck_assert_int_eq(order("r1")->escrow, 6673);
    ck_assert_int_eq(offer("a")->reserved_wh, 0);
    ck_assert_int_eq(offer("a")->sold_wh, 10000);
}
END_TEST

/* Cancel fee 10 % of 65.10 = 6.51: 3.25 to the seller (half, floor), 3.26 to the
 * platform; the buyer gets back 65.10 + 1.63 − 6.51 = 60.22. */
START_TEST(buyer_cancel_fee_is_split_between_seller_and_platform)
{
    list_offer("a", "sam", 10000, 651, W_START, W_END);
    deposit("bob", 10000);
    buy("o1", "bob", 10000);
    ck_assert_int_eq(wallet("bob"), 10000 - 6673);
    fx.now += 10 * MINUTE;
    struct command c = cmd_target(CMD_ORDER_CANCEL, "o1", "bob");
    fx_apply(&c);
    const struct event *x = fx_event(EV_ORDER_CANCELLED);
    ck_assert_ptr_nonnull(x);
    ck_assert_uint_eq(x->u.order_cancelled.order, oix("o1"));
    ck_assert_int_eq(x->u.order_cancelled.refund, 6022);
    ck_assert_int_eq(x->u.order_cancelled.cancel_fee, 651);
    ck_assert_int_eq(x->u.order_cancelled.released_wh, 10000);
    ck_assert_int_eq(wallet("bob"), 10000 - 651);
    ck_assert_int_eq(wallet("sam"), 325);
    ck_assert_int_eq(platform(), 326);
    ck_assert_int_eq(order("o1")->escrow, 0);
    ck_assert_int_eq(order("o1")->status, ORDER_CANCELLED);
    ck_assert_int_eq(fill_of("o1", 1)->status, FILL_CANCELLED);
    /* the energy is for sale again (still before gate closure) */
    ck_assert_int_eq(open_wh("a"), 10000);
    /* a second cancel changes nothing */
    fx_apply(&c);
    ck_assert_ptr_null(fx_event(EV_ORDER_CANCELLED));
    ck_assert_int_eq(wallet("bob"), 10000 - 651);
    ck_assert_int_eq(platform(), 326);
}
END_TEST

START_TEST(cancel_fees_add_up_over_lines)
{
    list_offer("a", "sam", 1500, 333, W_START, W_END);
    list_offer("b", "tim", 1500, 333, W_START, W_END);
    deposit("bob", 2000);
    buy("o1", "bob", 3000);
    struct command c = cmd_target(CMD_ORDER_CANCEL, "o1", "bob");
    fx_apply(&c);
    const struct event *x = fx_event(EV_ORDER_CANCELLED);
    ck_assert_ptr_nonnull(x);
    /* per line: fee 10 % of 5.00 = 0.50 -> 0.25 each to seller and platform; refund 5.13 − 0.50 */
    ck_assert_int_eq(x->u.order_cancelled.cancel_fee, 100);
    ck_assert_int_eq(x->u.order_cancelled.refund, 926);
    ck_assert_int_eq(wallet("sam"), 25);
    ck_assert_int_eq(wallet("tim"), 25);
    ck_assert_int_eq(platform(), 50);
    ck_assert_int_eq(wallet("bob"), 2000 - 100);
}
END_TEST

START_TEST(cancelling_a_reservation_is_free)
{
    list_offer("a", "sam", 10000, 651, W_START, W_END);
    deposit("bob", 10000);
    reserve("r1", "bob", 4000);
    struct command c = cmd_target(CMD_ORDER_CANCEL, "r1", "bob");
    fx_apply(&c);
    const struct event *x = fx_event(EV_ORDER_CANCELLED);
    ck_assert_ptr_nonnull(x);
    ck_assert_int_eq(x->u.order_cancelled.cancel_fee, 0);
    ck_assert_int_eq(x->u.order_cancelled.refund, 0);
    ck_assert_int_eq(x->u.order_cancelled.released_wh, 4000);
    ck_assert_int_eq(fx_count(EV_TRUST_CHANGED), 0);
    ck_assert_int_eq(wallet("bob"), 10000);
    ck_assert_int_eq(platform(), 0);
    ck_assert_int_eq(trust("bob"), 3000);
    ck_assert_int_eq(open_wh("a"), 10000);
    ck_assert_int_eq(order("r1")->status, ORDER_CANCELLED);
}
END_TEST

/* The seller cancels: the buyer gets 66.73 back and 5 % of 65.10 = 3.255 -> 3.26 on top. */
START_TEST(seller_cancel_refunds_in_full_and_pays_a_penalty)
{
    list_offer("a", "sam", 10000, 651, W_START, W_END);
    deposit("bob", 6673);
    buy("o1", "bob", 10000);
    struct command c = cmd_target(CMD_SALE_CANCEL, "o1/1", "sam");
    fx_apply(&c);
    EXPECT_REJECTED(EV_COMMAND_REJECTED, "insufficient_funds");
    ck_assert_int_eq(wallet("bob"), 0);
    ck_assert_int_eq(order("o1")->escrow, 6673);
    ck_assert_int_eq(fill_of("o1", 1)->status, FILL_SOLD);
    ck_assert_int_eq(trust("sam"), 3000);

    deposit("sam", 325);
    fx_apply(&c);
    EXPECT_REJECTED(EV_COMMAND_REJECTED, "insufficient_funds");
    ck_assert_int_eq(wallet("sam"), 325);

    /* the buyer cannot cancel the seller's sale */
    struct command wrong = cmd_target(CMD_SALE_CANCEL, "o1/1", "bob");
    fx_apply(&wrong);
    ck_assert_ptr_nonnull(fx_event(EV_COMMAND_REJECTED));
    ck_assert_ptr_null(fx_event(EV_FILL_CANCELLED));
    ck_assert_int_eq(fill_of("o1", 1)->status, FILL_SOLD);

    deposit("sam", 1);
    fx_apply(&c);
    const struct event *x = fx_event(EV_FILL_CANCELLED);
    ck_assert_ptr_nonnull(x);
    ck_assert_uint_eq(x->u.fill_cancelled.fill, order("o1")->first_fill);
    ck_assert_int_eq(x->u.fill_cancelled.penalty, 326);
    ck_assert_int_eq(wallet("bob"), 6673 + 326);
    ck_assert_int_eq(wallet("sam"), 0);
    ck_assert_int_eq(platform(), 0);
    ck_assert_int_eq(order("o1")->escrow, 0);
    ck_assert_int_eq(fill_of("o1", 1)->status, FILL_CANCELLED);
    ck_assert_int_eq(trust("sam"), 2500);
    ck_assert_int_eq(trust("bob"), 3000);
    /* the energy is not re-listed */
    ck_assert_int_eq(open_wh("a"), 0);
    /* the event reports the refund (amount + fee) and the penalty separately */
    ck_assert_int_eq(x->u.fill_cancelled.refund, 6673);
}
END_TEST

START_TEST(deposits_and_withdrawals_are_journal_entries)
{
    struct command c = cmd_money(CMD_DEPOSIT, "bob", 0);
    fx_apply(&c);
    ck_assert_ptr_nonnull(fx_event(EV_COMMAND_REJECTED));
    c = cmd_money(CMD_DEPOSIT, "bob", -5);
    fx_apply(&c);
    ck_assert_ptr_nonnull(fx_event(EV_COMMAND_REJECTED));
    ck_assert_int_eq(fx_count(EV_JOURNAL_ENTRY), 0);
    ck_assert_int_eq(external(), 0);

    deposit("bob", 1000);
    ck_assert_int_eq(fx_count(EV_JOURNAL_ENTRY), 1);
    ck_assert_int_eq(posted(ACCOUNT_WALLET, pix("bob")), 1000);
    ck_assert_int_eq(posted(ACCOUNT_EXTERNAL, 0), -1000);
    ck_assert_int_eq(wallet("bob"), 1000);
    ck_assert_int_eq(external(), -1000);

    c = cmd_money(CMD_WITHDRAWAL, "bob", 1001);
    fx_apply(&c);
    EXPECT_REJECTED(EV_COMMAND_REJECTED, "insufficient_funds");
    ck_assert_int_eq(wallet("bob"), 1000);
    c = cmd_money(CMD_WITHDRAWAL, "bob", 0);
    fx_apply(&c);
    ck_assert_ptr_nonnull(fx_event(EV_COMMAND_REJECTED));
    c = cmd_money(CMD_WITHDRAWAL, "nobody", 1);
    fx_apply(&c);
    ck_assert_ptr_nonnull(fx_event(EV_COMMAND_REJECTED));

    c = cmd_money(CMD_WITHDRAWAL, "bob", 400);
    fx_apply(&c);
    ck_assert_ptr_null(fx_event(EV_COMMAND_REJECTED));
    ck_assert_int_eq(posted(ACCOUNT_WALLET, pix("bob")), -400);
    ck_assert_int_eq(posted(ACCOUNT_EXTERNAL, 0), 400);
    ck_assert_int_eq(wallet("bob"), 600);
    ck_assert_int_eq(external(), -600);
    c = cmd_money(CMD_WITHDRAWAL, "bob", 600);
    fx_apply(&c);
    ck_assert_int_eq(wallet("bob"), 0);
    ck_assert_int_eq(external(), 0);
}
END_TEST

/* Line 1 delivered in full, line 2 delivered 1 of 1.5 kWh: the seller gets
 * 3.33 (1 kWh at 3.33), the platform 2.5 % of that (0.08325 -> 0.08), the buyer
 * the rest of 5.13: 1.72. */
START_TEST(delivery_pays_the_seller_and_refunds_the_buyer)
{
    list_offer("a", "sam", 1500, 333, W_START, W_END);
    list_offer("b", "tim", 1500, 333, W_START, W_END);
    deposit("bob", 1026);
    buy("o1", "bob", 3000);
    ck_assert_str_eq(offer_id_at(fill_of("o1", 1)->offer), "a");
    fx.now = W_END;
    struct command c = cmd_report("o1/1", 1500, 0);
    fx_apply(&c);
    const struct event *d = fx_event(EV_DELIVERY_SETTLED);
    ck_assert_ptr_nonnull(d);
    ck_assert_uint_eq(d->u.delivery.fill, order("o1")->first_fill);
    ck_assert_int_eq(d->u.delivery.delivered_wh, 1500);
    ck_assert_int_eq(d->u.delivery.seller_paid, 500);
    ck_assert_int_eq(d->u.delivery.platform_fee, 13);
    ck_assert_int_eq(d->u.delivery.buyer_refund, 0);
    ck_assert_ptr_null(fx_event(EV_ORDER_SETTLED));
    ck_assert_int_eq(wallet("sam"), 500);
    ck_assert_int_eq(platform(), 13);
    ck_assert_int_eq(order("o1")->escrow, 513);

    c = cmd_report("o1/2", 1000, 0);
    fx_apply(&c);
    d = fx_event(EV_DELIVERY_SETTLED);
    ck_assert_ptr_nonnull(d);
    ck_assert_int_eq(d->u.delivery.seller_paid, 333);
    ck_assert_int_eq(d->u.delivery.platform_fee, 8);
    ck_assert_int_eq(d->u.delivery.buyer_refund, 172);
    ck_assert_ptr_nonnull(fx_event(EV_ORDER_SETTLED));
    ck_assert_uint_eq(fx_event(EV_ORDER_SETTLED)->u.order.order, oix("o1"));
    ck_assert_int_eq(wallet("tim"), 333);
    ck_assert_int_eq(wallet("bob"), 172);
    ck_assert_int_eq(platform(), 21);
    ck_assert_int_eq(order("o1")->escrow, 0);
    ck_assert_int_eq(order("o1")->status, ORDER_SETTLED);
    ck_assert_int_eq(fill_of("o1", 2)->status, FILL_SETTLED);
}
END_TEST

START_TEST(curtailed_energy_is_refunded_to_the_buyer)
{
    list_offer("a", "sam", 5000, 600, W_START, W_END);
    deposit("bob", 3075);
    buy("o1", "bob", 5000); /* 30.00 + 0.75 */
    fx.now = W_END;
    struct command c = cmd_report("o1/1", 0, 5000);
    fx_apply(&c);
    const struct event *d = fx_event(EV_DELIVERY_SETTLED);
    ck_assert_ptr_nonnull(d);
    ck_assert_int_eq(d->u.delivery.seller_paid, 0);
    ck_assert_int_eq(d->u.delivery.platform_fee, 0);
    ck_assert_int_eq(d->u.delivery.buyer_refund, 3075);
    ck_assert_int_eq(wallet("bob"), 3075);
    ck_assert_int_eq(wallet("sam"), 0);
    ck_assert_int_eq(platform(), 0);
}
END_TEST

/* product.md §13: "money created from nothing (a failed reservation later paid out)". */
START_TEST(an_expired_or_cancelled_line_is_never_paid_out)
{
    list_offer("a", "sam", 5000, 600, W_START, W_END);
    reserve("r1", "bob", 2000);
    deposit("cat", 10000);
    buy("o2", "cat", 2000);
    struct command c = cmd_target(CMD_ORDER_CANCEL, "o2", "cat");
    fx_apply(&c);
    ck_assert_ptr_nonnull(fx_event(EV_ORDER_CANCELLED));
    int64_t sam = wallet("sam"), cat = wallet("cat"), plat = platform();
    fx.now = W_END; /* r1 expired long ago */
    c = cmd_report("r1/1", 2000, 0);
    fx_apply(&c);
    ck_assert_ptr_nonnull(fx_event(EV_COMMAND_REJECTED));
    ck_assert_ptr_null(fx_event(EV_DELIVERY_SETTLED));
    c = cmd_report("o2/1", 2000, 0);
    fx_apply(&c);
    ck_assert_ptr_nonnull(fx_event(EV_COMMAND_REJECTED));
    ck_assert_ptr_null(fx_event(EV_DELIVERY_SETTLED));
    c = cmd_report("nothing/1", 2000, 0);
    fx_apply(&c);
    ck_assert_ptr_nonnull(fx_event(EV_COMMAND_REJECTED));
    ck_assert_int_eq(wallet("sam"), sam);
    ck_assert_int_eq(wallet("cat"), cat);
    ck_assert_int_eq(wallet("bob"), 0);
    ck_assert_int_eq(platform(), plat);
    ck_assert_int_eq(fx_count(EV_JOURNAL_ENTRY), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("engine_money");
    TCase *tc = tcase_create("money");
    tcase_add_checked_fixture(tc, fx_start, fx_stop);
    tcase_add_test(tc, money_arithmetic_rounds_half_up);
    tcase_add_test(tc, rounding_is_per_line_and_funds_are_checked_exactly);
    tcase_add_test(tc, confirm_needs_amount_plus_fee_and_keeps_the_reservation_otherwise);
    tcase_add_test(tc, buyer_cancel_fee_is_split_between_seller_and_platform);
    tcase_add_test(tc, cancel_fees_add_up_over_lines);
    tcase_add_test(tc, cancelling_a_reservation_is_free);
    tcase_add_test(tc, seller_cancel_refunds_in_full_and_pays_a_penalty);
    tcase_add_test(tc, deposits_and_withdrawals_are_journal_entries);
    tcase_add_test(tc, delivery_pays_the_seller_and_refunds_the_buyer);
    tcase_add_test(tc, curtailed_energy_is_refunded_to_the_buyer);
    tcase_add_test(tc, an_expired_or_cancelled_line_is_never_paid_out);
    suite_add_tcase(s, tc);
    return fx_run(s);
}
