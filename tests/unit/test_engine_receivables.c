/* Receivables (issue 4 §5): buyers from another Beckn platform have no wallet
 * with us; their platform (the payer) is billed. Confirmation posts
 * receivable:<payer> -(amount + fee) -> escrow, every buyer-side refund goes
 * back to the receivable, and order.payment.v1 records what the platform paid
 * (external -> receivable), refused when it does not fit the order.
 *
 * One offer throughout unless said otherwise: 10 kWh at 6.51/kWh = 6510,
 * fee 2.5 % = 162.75 -> 163, total 6673. fx_apply() re-adds every balance
 * (wallets, receivables, escrow, platform, external) after each command. */
#include "engine_fixtures.h"

#define PAYER "bap.energy-consumer.com"

static uint32_t pix(const char *id) { return engine_find_participant(&fx.e, id); }

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

static int64_t receivable(const char *payer) { return participant(payer)->receivable; }

static struct command payer_order(enum command_kind k, const char *id, const char *buyer,
                                  int64_t wh, const char *payer)
{
    struct command c = cmd_order(k, id, buyer, wh);
    snprintf(c.u.order.payer_id, sizeof c.u.order.payer_id, "%s", payer);
    return c;
}

/* A confirmed one-line payer order "o1" of bob for the whole offer "a". */
static void payer_buy(void)
{
    list_offer("a", "sam", 10000, 651, W_START, W_END);
    struct command c = payer_order(CMD_ORDER_BUY, "o1", "bob", 10000, PAYER);
    fx_apply(&c);
    ck_assert_ptr_null(fx_any_rejection());
    ck_assert_ptr_nonnull(fx_event(EV_ORDER_CONFIRMED));
}

/* An accepted payment, under a reference of its own (each one is a new payment). */
static void pay_ok(const char *order_id, int64_t amount, int64_t paid_total, int64_t outstanding)
{
    char reference[32];
    snprintf(reference, sizeof reference, "utr-%u", fx.ncommands);
    struct command c = cmd_payment(order_id, PAYER, amount, reference);
    fx_apply(&c);
    const struct event *r = fx_any_rejection();
    ck_assert_msg(r == NULL, "payment refused: %s", r ? r->u.rejected.reason.code : "");
    const struct event *p = fx_event(EV_ORDER_PAID);
    ck_assert_ptr_nonnull(p);
    ck_assert_uint_eq(p->u.order_paid.order, engine_find_order(&fx.e, order_id));
    ck_assert_int_eq(p->u.order_paid.amount, amount);
    ck_assert_int_eq(p->u.order_paid.paid_total, paid_total);
    ck_assert_int_eq(p->u.order_paid.outstanding, outstanding);
    ck_assert_str_eq(p->u.order_paid.reference, reference);
}

/* A refused payment: the code and field, and nothing moved. */
static void pay_refused(const char *order_id, const char *payer, int64_t amount, const char *code,
                        const char *field)
{
    int64_t ext = fx.e.external_balance, received = fx.e.payments_received;
    struct command c = cmd_payment(order_id, payer, amount, "utr-refused");
    fx_apply(&c);
    EXPECT_REJECTED(EV_COMMAND_REJECTED, code);
    ck_assert_str_eq(fx_event(EV_COMMAND_REJECTED)->u.rejected.reason.field, field);
    ck_assert_str_eq(fx_event(EV_COMMAND_REJECTED)->u.rejected.subject_id, order_id);
    ck_assert_int_eq(fx_count(EV_JOURNAL_ENTRY), 0);
    ck_assert_int_eq(fx_count(EV_ORDER_PAID), 0);
    ck_assert_int_eq(fx.e.external_balance, ext);
    ck_assert_int_eq(fx.e.payments_received, received);
}

START_TEST(a_payer_order_bills_the_platform_not_the_wallet)
{
    payer_buy(); /* bob never deposited: a wallet order would be refused */
    ck_assert_int_eq(posted(ACCOUNT_RECEIVABLE, pix(PAYER)), -6673);
    ck_assert_int_eq(posted(ACCOUNT_ESCROW, engine_find_order(&fx.e, "o1")), 6673);
    ck_assert_int_eq(posted(ACCOUNT_WALLET, pix("bob")), 0);
    ck_assert_int_eq(wallet("bob"), 0);
    ck_assert_int_eq(receivable(PAYER), -6673);
    ck_assert_int_eq(wallet(PAYER), 0);
    ck_assert_int_eq(order("o1")->escrow, 6673);
    ck_assert_int_eq(order("o1")->owed, 6673);
    ck_assert_int_eq(order("o1")->paid, 0);
    ck_assert_uint_eq(order("o1")->payer, pix(PAYER));
    ck_assert_str_eq(order("o1")->req.payer_id, PAYER);
    ck_assert_int_eq(fx.e.external_balance, 0); /* no money came in yet */

    /* the same order without a payer is refused for funds */
    list_offer("b", "tim", 10000, 651, W_START, W_END);
    struct command c = cmd_order(CMD_ORDER_BUY, "o2", "bob", 10000);
    fx_apply(&c);
    EXPECT_REJECTED(EV_ORDER_REJECTED, "insufficient_funds");
}
END_TEST

START_TEST(reserve_then_confirm_bills_the_payer_and_a_quote_creates_nothing)
{
    list_offer("a", "sam", 10000, 651, W_START, W_END);
    struct command c = payer_order(CMD_ORDER_QUOTE, "q1", "bob", 10000, PAYER);
    fx_apply(&c);
    ck_assert_ptr_nonnull(fx_event(EV_ORDER_QUOTED));
    ck_assert_str_eq(fx.sink.quote_request.payer_id, PAYER);
    ck_assert_uint_eq(pix(PAYER), ID_INDEX_NONE);
    ck_assert_uint_eq(pix("bob"), ID_INDEX_NONE);

    c = payer_order(CMD_ORDER_RESERVE, "r1", "bob", 10000, PAYER);
    fx_apply(&c);
    ck_assert_ptr_nonnull(fx_event(EV_ORDER_RESERVED));
    ck_assert_int_eq(fx_count(EV_JOURNAL_ENTRY), 0);
    ck_assert_int_eq(receivable(PAYER), 0);
    pay_refused("r1", PAYER, 100, "not_confirmed", "order_id"); /* nothing owed yet */

    c = cmd_target(CMD_ORDER_CONFIRM, "r1", "bob");
    fx_apply(&c);
    ck_assert_ptr_nonnull(fx_event(EV_ORDER_CONFIRMED));
    ck_assert_int_eq(posted(ACCOUNT_RECEIVABLE, pix(PAYER)), -6673);
    ck_assert_int_eq(receivable(PAYER), -6673);
    ck_assert_int_eq(wallet("bob"), 0);
    ck_assert_int_eq(order("r1")->escrow, 6673);
}
END_TEST

START_TEST(payments_move_external_money_to_the_receivable)
{
    payer_buy();
    pay_ok("o1", 4000, 4000, 2673);
    ck_assert_int_eq(fx_count(EV_JOURNAL_ENTRY), 1);
    const struct event *j = fx_event(EV_JOURNAL_ENTRY);
    ck_assert_str_eq(j->u.journal.reason, "receivable_paid");
    ck_assert_str_eq(j->u.journal.ref_id, "o1");
    ck_assert_int_eq(posted(ACCOUNT_EXTERNAL, 0), -4000);
    ck_assert_int_eq(posted(ACCOUNT_RECEIVABLE, pix(PAYER)), 4000);
    ck_assert_int_eq(receivable(PAYER), -2673);
    ck_assert_int_eq(fx.e.external_balance, -4000);

    pay_ok("o1", 2673, 6673, 0);
    ck_assert_int_eq(receivable(PAYER), 0);
    ck_assert_int_eq(order("o1")->paid, 6673);
    ck_assert_int_eq(order("o1")->owed, 0);
    ck_assert_int_eq(fx.e.payments_received, 6673);
    ck_assert_int_eq(fx.e.external_balance, -6673);
    ck_assert_int_eq(order("o1")->escrow, 6673); /* escrow is untouched by payments */
    pay_refused("o1", PAYER, 1, "exceeds_outstanding", "amount"); /* fully paid */
}
END_TEST

START_TEST(payments_that_do_not_fit_the_order_are_refused)
{
    payer_buy();
    pay_refused("nope", PAYER, 100, "not_found", "order_id");
    pay_refused("o1", "bap.other.com", 100, "wrong_payer", "payer_id");
    pay_refused("o1", PAYER, 6674, "exceeds_outstanding", "amount");
    pay_refused("o1", PAYER, 0, "invalid_field", "amount");
    pay_refused("o1", PAYER, -5, "invalid_field", "amount");

    /* an order paid from a wallet has no payer */
    list_offer("b", "tim", 1000, 500, W_START, W_END);
    deposit("carl", 1000);
    buy("w1", "carl", 1000);
    pay_refused("w1", PAYER, 100, "no_payer", "payer_id");

    /* reservations that expired or were cancelled never owed anything */
    list_offer("c", "uma", 2000, 500, W_START, W_END);
    struct command c = payer_order(CMD_ORDER_RESERVE, "r1", "dan", 1000, PAYER);
    fx_apply(&c);
    c = cmd_target(CMD_ORDER_CANCEL, "r1", "dan");
    fx_apply(&c);
    ck_assert_int_eq(order("r1")->status, ORDER_CANCELLED);
    pay_refused("r1", PAYER, 100, "not_confirmed", "order_id");
    c = payer_order(CMD_ORDER_RESERVE, "r2", "dan", 1000, PAYER);
    fx_apply(&c);
    fx.now += fx.e.p.reservation_ttl_ms;
    tick();
    ck_assert_int_eq(order("r2")->status, ORDER_EXPIRED);
    pay_refused("r2", PAYER, 100, "not_confirmed", "order_id");

    /* nothing of the above moved the one real debt */
    ck_assert_int_eq(receivable(PAYER), -6673);
    ck_assert_int_eq(order("o1")->owed, 6673);
}
END_TEST

/* Cancel fee 10 % of 6510 = 651: 325 to the seller, 326 to the platform; the
 * refund 6673 - 651 = 6022 goes to the receivable, not to bob. */
START_TEST(buyer_cancel_refunds_the_platform)
{
    payer_buy();
    struct command c = cmd_target(CMD_ORDER_CANCEL, "o1", "bob");
    fx_apply(&c);
    ck_assert_ptr_nonnull(fx_event(EV_ORDER_CANCELLED));
    ck_assert_int_eq(fx_event(EV_ORDER_CANCELLED)->u.order_cancelled.refund, 6022);
    ck_assert_int_eq(posted(ACCOUNT_RECEIVABLE, pix(PAYER)), 6022);
    ck_assert_int_eq(posted(ACCOUNT_WALLET, pix("bob")), 0);
    ck_assert_int_eq(wallet("bob"), 0);
    ck_assert_int_eq(wallet("sam"), 325);
    ck_assert_int_eq(fx.e.platform_balance, 326);
    ck_assert_int_eq(receivable(PAYER), -651);
    ck_assert_int_eq(order("o1")->owed, 651);
    /* the platform still owes the cancellation fee, and may pay it */
    pay_refused("o1", PAYER, 652, "exceeds_outstanding", "amount");
    pay_ok("o1", 651, 651, 0);
    ck_assert_int_eq(receivable(PAYER), 0);
}
END_TEST

/* Paid in full, then cancelled: the refund leaves a credit of 6022 the
 * platform is owed back (a positive receivable); nothing more can be paid. */
START_TEST(a_refund_after_payment_is_a_credit_for_the_platform)
{
    payer_buy();
    pay_ok("o1", 6673, 6673, 0);
    struct command c = cmd_target(CMD_ORDER_CANCEL, "o1", "bob");
    fx_apply(&c);
    ck_assert_int_eq(receivable(PAYER), 6022);
    ck_assert_int_eq(order("o1")->owed, -6022);
    pay_refused("o1", PAYER, 1, "exceeds_outstanding", "amount");
}
END_TEST

/* 6 of 10 kWh delivered: the seller gets 6000 x 6.51 = 3906, the platform
 * 2.5 % of it = 97.65 -> 98, and the undelivered part (6510 - 3906) +
 * (163 - 98) = 2669 goes back to the receivable: the platform owes 4004. */
START_TEST(delivery_refunds_the_undelivered_part_to_the_platform)
{
    payer_buy();
    fx.now = W_END;
    struct command c = cmd_report("o1/1", 6000, 0);
    fx_apply(&c);
    const struct event *d = fx_event(EV_DELIVERY_SETTLED);
    ck_assert_ptr_nonnull(d);
    ck_assert_int_eq(d->u.delivery.seller_paid, 3906);
    ck_assert_int_eq(d->u.delivery.platform_fee, 98);
    ck_assert_int_eq(d->u.delivery.buyer_refund, 2669);
    ck_assert_int_eq(posted(ACCOUNT_RECEIVABLE, pix(PAYER)), 2669);
    ck_assert_int_eq(posted(ACCOUNT_WALLET, pix("bob")), 0);
    ck_assert_int_eq(wallet("sam"), 3906);
    ck_assert_int_eq(receivable(PAYER), -4004);
    ck_assert_ptr_nonnull(fx_event(EV_ORDER_SETTLED));
    ck_assert_int_eq(order("o1")->status, ORDER_SETTLED);
    /* a settled order can still be paid for */
    pay_refused("o1", PAYER, 4005, "exceeds_outstanding", "amount");
    pay_ok("o1", 4004, 4004, 0);
    ck_assert_int_eq(receivable(PAYER), 0);
    /* Σ wallets + platform = deposits - withdrawals + payments (+ owed: 0) */
    ck_assert_int_eq(wallet("sam") + fx.e.platform_balance, 4004);
}
END_TEST

/* Seller cancels: full refund 6673 plus the penalty 5 % of 6510 = 325.5 -> 326
 * go to the receivable: the platform, which owed 6673, is owed 326 back. */
START_TEST(seller_cancel_refund_and_penalty_go_to_the_platform)
{
    deposit("sam", 1000);
    payer_buy();
    struct command c = cmd_target(CMD_SALE_CANCEL, "o1/1", "sam");
    fx_apply(&c);
    const struct event *fc = fx_event(EV_FILL_CANCELLED);
    ck_assert_ptr_nonnull(fc);
    ck_assert_int_eq(fc->u.fill_cancelled.refund, 6673);
    ck_assert_int_eq(fc->u.fill_cancelled.penalty, 326);
    ck_assert_int_eq(posted(ACCOUNT_RECEIVABLE, pix(PAYER)), 6999);
    ck_assert_int_eq(posted(ACCOUNT_WALLET, pix("sam")), -326);
    ck_assert_int_eq(wallet("bob"), 0);
    ck_assert_int_eq(wallet("sam"), 674);
    ck_assert_int_eq(receivable(PAYER), 326);
    ck_assert_int_eq(order("o1")->owed, -326);
    pay_refused("o1", PAYER, 1, "exceeds_outstanding", "amount");
}
END_TEST

START_TEST(invalid_payer_ids_are_refused)
{
    list_offer("a", "sam", 10000, 651, W_START, W_END);
    struct command c = payer_order(CMD_ORDER_BUY, "o1", "bob", 10000, "-bad payer");
    fx_apply(&c);
    EXPECT_REJECTED(EV_ORDER_REJECTED, "invalid_field");
    ck_assert_str_eq(fx_event(EV_ORDER_REJECTED)->u.rejected.reason.field, "payer_id");
    ck_assert_uint_eq(engine_find_order(&fx.e, "o1"), ID_INDEX_NONE);
}
END_TEST

/* Receivables, owed and paid survive a snapshot; so do the running totals
 * the audit checks (a corrupted total is caught by the invariant check). */
START_TEST(receivables_survive_a_snapshot)
{
    payer_buy();
    pay_ok("o1", 1000, 1000, 5673);
    struct membuf m = {0};
    ck_assert_int_eq(engine_snapshot_save(&fx.e, membuf_write, &m), 0);
    struct engine copy;
    struct engine_capacity cap = fx_capacity();
    ck_assert_int_eq(engine_create(&copy, &fx.e.p, &cap), 0);
    ck_assert_int_eq(engine_snapshot_load(&copy, membuf_read, &m), 0);
    uint32_t p = engine_find_participant(&copy, PAYER), o = engine_find_order(&copy, "o1");
    ck_assert_int_eq(copy.participants[p].receivable, -5673);
    ck_assert_int_eq(copy.orders[o].owed, 5673);
    ck_assert_int_eq(copy.orders[o].paid, 1000);
    ck_assert_uint_eq(copy.orders[o].payer, p);
    ck_assert_int_eq(copy.payments_received, 1000);
    char msg[256];
    ck_assert_int_eq(engine_check_invariants(&copy, msg, sizeof msg), 0);
    copy.participants[p].receivable += 1; /* the books no longer agree */
    ck_assert_int_eq(engine_check_invariants(&copy, msg, sizeof msg), -1);
    ck_assert_ptr_nonnull(strstr(msg, "receivable:" PAYER));
    copy.participants[p].receivable -= 1;
    copy.payments_received += 1;
    ck_assert_int_eq(engine_check_invariants(&copy, msg, sizeof msg), -1);
    engine_destroy(&copy);
    membuf_free(&m);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("engine_receivables");
    TCase *tc = tcase_create("receivables");
    tcase_add_checked_fixture(tc, fx_start, fx_stop);
    tcase_add_test(tc, a_payer_order_bills_the_platform_not_the_wallet);
    tcase_add_test(tc, reserve_then_confirm_bills_the_payer_and_a_quote_creates_nothing);
    tcase_add_test(tc, payments_move_external_money_to_the_receivable);
    tcase_add_test(tc, payments_that_do_not_fit_the_order_are_refused);
    tcase_add_test(tc, buyer_cancel_refunds_the_platform);
    tcase_add_test(tc, a_refund_after_payment_is_a_credit_for_the_platform);
    tcase_add_test(tc, delivery_refunds_the_undelivered_part_to_the_platform);
    tcase_add_test(tc, seller_cancel_refund_and_penalty_go_to_the_platform);
    tcase_add_test(tc, invalid_payer_ids_are_refused);
    tcase_add_test(tc, receivables_survive_a_snapshot);
    suite_add_tcase(s, tc);
    return fx_run(s);
}
