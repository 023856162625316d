/* A payment by a payer platform is applied once: its reference (the Beckn
 * txnRef) is its identity. The same payment resent (a BAP retrying after a
 * lost ACK, with a new message_id) is refused with duplicate_payment and
 * moves no money; the reference with another amount is reference_reused; a
 * payment without a reference is refused. References survive a snapshot and
 * the invariant check holds them to what the order was paid.
 *
 * One offer: 10 kWh at 6.51/kWh = 6510 + fee 163 = 6673 owed for "o1". */
#include "engine_fixtures.h"

#define PAYER "bap.energy-consumer.com"

/* A confirmed one-line payer order "o1" of bob for the whole offer "a". */
static void payer_buy(void)
{
    list_offer("a", "sam", 10000, 651, W_START, W_END);
    struct command c = cmd_order(CMD_ORDER_BUY, "o1", "bob", 10000);
    snprintf(c.u.order.payer_id, sizeof c.u.order.payer_id, "%s", PAYER);
    fx_apply(&c);
    ck_assert_ptr_null(fx_any_rejection());
}

static const struct order_entry *o1(void) { return order("o1"); }

static void pay(int64_t amount, const char *reference)
{
    struct command c = cmd_payment("o1", PAYER, amount, reference);
    fx_apply(&c);
}

static void expect_paid(int64_t amount, int64_t paid_total)
{
    const struct event *r = fx_any_rejection();
    ck_assert_msg(r == NULL, "payment refused: %s", r ? r->u.rejected.reason.code : "");
    ck_assert_int_eq(fx_count(EV_ORDER_PAID), 1);
    ck_assert_int_eq(fx_event(EV_ORDER_PAID)->u.order_paid.amount, amount);
    ck_assert_int_eq(fx_event(EV_ORDER_PAID)->u.order_paid.paid_total, paid_total);
}

/* The last command was refused with code on field reference, and nothing
 * moved: no journal entry, no order.paid, the same balances. */
struct books {
    int64_t external, receivable, paid, owed, received;
};
static struct books books_now(void)
{
    return (struct books){fx.e.external_balance, participant(PAYER)->receivable, o1()->paid,
                          o1()->owed, fx.e.payments_received};
}
static void expect_refused(const char *code, const struct books *before)
{
    EXPECT_REJECTED(EV_COMMAND_REJECTED, code);
    ck_assert_str_eq(fx_event(EV_COMMAND_REJECTED)->u.rejected.reason.field, "reference");
    ck_assert_int_eq(fx_count(EV_JOURNAL_ENTRY), 0);
    ck_assert_int_eq(fx_count(EV_ORDER_PAID), 0);
    struct books now = books_now();
    ck_assert_int_eq(now.external, before->external);
    ck_assert_int_eq(now.receivable, before->receivable);
    ck_assert_int_eq(now.paid, before->paid);
    ck_assert_int_eq(now.owed, before->owed);
    ck_assert_int_eq(now.received, before->received);
}

START_TEST(a_resent_payment_is_not_applied_again)
{
    payer_buy();
    pay(4000, "utr-A1");
    expect_paid(4000, 4000);
    struct books b = books_now();
    ck_assert_int_eq(b.owed, 2673);

    pay(4000, "utr-A1"); /* the BAP retries: same payment, new command */
    expect_refused("duplicate_payment", &b);
    ck_assert_ptr_nonnull(strstr(fx_event(EV_COMMAND_REJECTED)->u.rejected.reason.message,
                                 "paid so far 4000, still owed 2673"));
    pay(1000, "utr-A1"); /* the reference again, another amount */
    expect_refused("reference_reused", &b);

    pay(2673, "utr-A2"); /* a new payment still applies */
    expect_paid(2673, 6673);
    ck_assert_int_eq(o1()->owed, 0);
    b = books_now();
    /* a resent full payment is a duplicate, not "more than is owed" */
    pay(2673, "utr-A2");
    expect_refused("duplicate_payment", &b);
    pay(4000, "utr-A1");
    expect_refused("duplicate_payment", &b);
    ck_assert_int_eq(o1()->npayments, 2);
}
END_TEST

/* References are per order: the same one on another order is another payment. */
START_TEST(a_reference_belongs_to_its_order)
{
    payer_buy();
    list_offer("b", "tim", 10000, 651, W_START, W_END);
    struct command c = cmd_order(CMD_ORDER_BUY, "o2", "bob", 10000);
    snprintf(c.u.order.payer_id, sizeof c.u.order.payer_id, "%s", PAYER);
    fx_apply(&c);
    ck_assert_ptr_null(fx_any_rejection());
    pay(100, "utr-same");
    expect_paid(100, 100);
    c = cmd_payment("o2", PAYER, 100, "utr-same");
    fx_apply(&c);
    expect_paid(100, 100);
}
END_TEST

/* A refused payment records nothing: corrected, the same reference applies. */
START_TEST(a_refused_payment_can_be_sent_again_corrected)
{
    payer_buy();
    pay(6674, "utr-B");
    EXPECT_REJECTED(EV_COMMAND_REJECTED, "exceeds_outstanding");
    pay(6673, "utr-B");
    expect_paid(6673, 6673);
}
END_TEST

START_TEST(a_payment_needs_a_valid_reference)
{
    payer_buy();
    struct books b = books_now();
    pay(100, "");
    expect_refused("missing_field", &b);
    pay(100, "utr 1"); /* a space */
    expect_refused("invalid_field", &b);
    pay(100, "-utr");
    expect_refused("invalid_field", &b);
    char longest[ENGINE_ID_LEN];
    memset(longest, 'r', ENGINE_ID_LEN - 1);
    longest[ENGINE_ID_LEN - 1] = '\0';
    pay(100, longest); /* 64 characters: the most there is room for */
    expect_paid(100, 100);
}
END_TEST

/* At most ENGINE_PAYMENTS_PER_ORDER payments per order: then "capacity". */
START_TEST(an_order_takes_a_bounded_number_of_payments)
{
    payer_buy();
    char ref[32];
    for (int k = 1; k <= ENGINE_PAYMENTS_PER_ORDER; k++) {
        snprintf(ref, sizeof ref, "utr-%d", k);
        pay(1, ref);
        expect_paid(1, k);
    }
    struct books b = books_now();
    pay(1, "utr-one-more");
    expect_refused("capacity", &b);
    pay(1, "utr-1"); /* the oldest is still known */
    expect_refused("duplicate_payment", &b);
}
END_TEST

/* The payments table has as many rows as the order table: when it is full a
 * new payment is refused ("capacity") and a resend is still recognised. */
START_TEST(a_full_payments_table_refuses_new_payments)
{
    struct engine_params params = fx.e.p;
    engine_destroy(&fx.e);
    struct engine_capacity cap = fx_capacity();
    cap.orders = 16;
    ck_assert_int_eq(engine_create(&fx.e, &params, &cap), 0);
    payer_buy();
    char ref[32];
    for (int k = 1; k <= 15; k++) { /* 15 rows for o1, the 16th for o2 */
        snprintf(ref, sizeof ref, "utr-%d", k);
        pay(1, ref);
        expect_paid(1, k);
    }
    list_offer("b", "tim", 10000, 651, W_START, W_END);
    struct command c = cmd_order(CMD_ORDER_BUY, "o2", "bob", 10000);
    snprintf(c.u.order.payer_id, sizeof c.u.order.payer_id, "%s", PAYER);
    fx_apply(&c);
    ck_assert_ptr_null(fx_any_rejection());
    c = cmd_payment("o2", PAYER, 1, "utr-o2");
    fx_apply(&c);
    expect_paid(1, 1);
    ck_assert_uint_eq(fx.e.npayments, 16);
    c = cmd_payment("o2", PAYER, 1, "utr-o2b");
    fx_apply(&c);
    EXPECT_REJECTED(EV_COMMAND_REJECTED, "capacity");
    ck_assert_str_eq(fx_event(EV_COMMAND_REJECTED)->u.rejected.reason.message,
                     "no room to record another payment");
    ck_assert_int_eq(fx_count(EV_JOURNAL_ENTRY), 0);
    c = cmd_payment("o2", PAYER, 1, "utr-o2");
    fx_apply(&c);
    EXPECT_REJECTED(EV_COMMAND_REJECTED, "duplicate_payment");
}
END_TEST

START_TEST(references_survive_a_snapshot)
{
    payer_buy();
    pay(1000, "utr-S1");
    pay(2000, "utr-S2");
    struct membuf m = {0};
    ck_assert_int_eq(engine_snapshot_save(&fx.e, membuf_write, &m), 0);
    struct engine_params params = fx.e.p;
    engine_destroy(&fx.e); /* the same fixture, restored from the bytes */
    struct engine_capacity cap = fx_capacity();
    ck_assert_int_eq(engine_create(&fx.e, &params, &cap), 0);
    ck_assert_int_eq(engine_snapshot_load(&fx.e, membuf_read, &m), 0);
    membuf_free(&m);
    ck_assert_uint_eq(fx.e.npayments, 2);
    struct books b = books_now();
    ck_assert_int_eq(b.paid, 3000);
    pay(1000, "utr-S1");
    expect_refused("duplicate_payment", &b);
    pay(2000, "utr-S2");
    expect_refused("duplicate_payment", &b);
    pay(3000, "utr-S3");
    expect_paid(3000, 6000);
}
END_TEST

/* The invariant check holds the recorded payments to what the order was paid. */
START_TEST(recorded_payments_must_add_up_to_what_was_paid)
{
    payer_buy();
    pay(1000, "utr-C1");
    pay(500, "utr-C2");
    char msg[256];
    ck_assert_int_eq(engine_check_invariants(&fx.e, msg, sizeof msg), 0);
    fx.e.payments[0].amount += 1;
    ck_assert_int_eq(engine_check_invariants(&fx.e, msg, sizeof msg), -1);
    ck_assert_ptr_nonnull(strstr(msg, "recorded payments"));
    fx.e.payments[0].amount -= 1;
    fx.e.payments[1].order = 7; /* a row of another order in o1's chain */
    ck_assert_int_eq(engine_check_invariants(&fx.e, msg, sizeof msg), -1);
    fx.e.payments[1].order = engine_find_order(&fx.e, "o1");
    ck_assert_int_eq(engine_check_invariants(&fx.e, msg, sizeof msg), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("engine_payment_refs");
    TCase *tc = tcase_create("payment_refs");
    tcase_add_checked_fixture(tc, fx_start, fx_stop);
    tcase_add_test(tc, a_resent_payment_is_not_applied_again);
    tcase_add_test(tc, a_reference_belongs_to_its_order);
    tcase_add_test(tc, a_refused_payment_can_be_sent_again_corrected);
    tcase_add_test(tc, a_payment_needs_a_valid_reference);
    tcase_add_test(tc, an_order_takes_a_bounded_number_of_payments);
    tcase_add_test(tc, a_full_payments_table_refuses_new_payments);
    tcase_add_test(tc, references_survive_a_snapshot);
    tcase_add_test(tc, recorded_payments_must_add_up_to_what_was_paid);
    suite_add_tcase(s, tc);
    return fx_run(s);
}
