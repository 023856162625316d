/* The wire side of receivables (contract 1.1): payer_id on order commands,
 * order.payment.v1 decoding, and the exact JSON of order.paid.v1, of a
 * receivable posting and of payer_id (string or null) on order events. The
 * commands are decoded by the product's codec and applied to a real core;
 * the events are encoded by the product's encoder. */
#include "engine_fixtures.h"

#include "engine/command_codec.h"
#include "engine/event_codec.h"

static struct command decoded(const char *type, const char *json, const char *want_error)
{
    struct command c;
    struct p2p_violation v;
    char market[65];
    memset(&v, 0, sizeof v);
    int rc = command_decode(type, json, strlen(json), &c, market, &v);
    if (want_error) {
        ck_assert_int_eq(rc, -1);
        ck_assert_str_eq(v.field, want_error);
    } else {
        ck_assert_msg(rc == 0, "decode failed: %s %s %s", v.code, v.field, v.message);
        ck_assert_str_eq(market, "m1");
    }
    return c;
}

/* The JSON of event k of the last command. */
static char *encoded(int k, enum command_kind cause, const char **ce_type)
{
    struct event_origin o;
    memset(&o, 0, sizeof o);
    snprintf(o.event_id, sizeof o.event_id, "p.orders/0/7/%d", k);
    snprintf(o.command_id, sizeof o.command_id, "c1");
    snprintf(o.market, sizeof o.market, "m1");
    snprintf(o.topic, sizeof o.topic, "p.orders");
    o.offset = 7;
    struct encoded_event enc;
    ck_assert_int_eq(event_encode(&fx.e, &fx.sink, &fx.events[k], cause, &o,
                                  "0000000000000000000000000000000000000000000000000000000000000000",
                                  &enc),
                     0);
    *ce_type = enc.ce_type;
    return enc.json;
}

/* The encoding of the first event of kind k of the last command. */
static char *encoded_kind(enum event_kind kind, enum command_kind cause, const char **ce_type)
{
    for (int32_t i = 0; i < fx.sink.count; i++)
        if (fx.events[i].kind == kind)
            return encoded(i, cause, ce_type);
    ck_abort_msg("no event of kind %d", kind);
    return NULL;
}

static void expect_contains(char *json, const char *part)
{
    ck_assert_msg(strstr(json, part) != NULL, "%s\nlacks\n%s", json, part);
}

START_TEST(payer_id_is_read_from_order_commands)
{
    struct command c = decoded("energy.p2p.order.buy.v1",
                               "{\"command_id\":\"c1\",\"issued_at_ms\":1764000000000,\"market\":\"m1\","
                               "\"order_id\":\"o1\",\"buyer_id\":\"bob\",\"payer_id\":\"bap.energy-consumer.com\","
                               "\"quantity_wh\":1000,\"window_start_ms\":1,\"window_end_ms\":2}",
                               NULL);
    ck_assert_int_eq(c.kind, CMD_ORDER_BUY);
    ck_assert_str_eq(c.u.order.payer_id, "bap.energy-consumer.com");
    c = decoded("energy.p2p.order.reserve.v1",
                "{\"command_id\":\"c1\",\"issued_at_ms\":1,\"market\":\"m1\",\"order_id\":\"o1\","
                "\"buyer_id\":\"bob\",\"payer_id\":null,\"lines\":[{\"offer_id\":\"a\",\"quantity_wh\":5}]}",
                NULL);
    ck_assert_str_eq(c.u.order.payer_id, "");
    ck_assert_int_eq(c.nlines, 1);
    c = decoded("energy.p2p.order.quote.v1",
                "{\"command_id\":\"c1\",\"issued_at_ms\":1,\"market\":\"m1\",\"order_id\":\"o1\","
                "\"buyer_id\":\"bob\",\"quantity_wh\":1000,\"window_start_ms\":1,\"window_end_ms\":2}",
                NULL);
    ck_assert_str_eq(c.u.order.payer_id, "");
    decoded("energy.p2p.order.buy.v1",
            "{\"command_id\":\"c1\",\"issued_at_ms\":1,\"market\":\"m1\",\"order_id\":\"o1\","
            "\"buyer_id\":\"bob\",\"payer_id\":\"not an id\",\"quantity_wh\":1000,"
            "\"window_start_ms\":1,\"window_end_ms\":2}",
            "payer_id");
    decoded("energy.p2p.order.buy.v1",
            "{\"command_id\":\"c1\",\"issued_at_ms\":1,\"market\":\"m1\",\"order_id\":\"o1\","
            "\"buyer_id\":\"bob\",\"payer_id\":7,\"quantity_wh\":1000,"
            "\"window_start_ms\":1,\"window_end_ms\":2}",
            "payer_id");
}
END_TEST

START_TEST(order_payment_is_decoded)
{
    struct command c = decoded("energy.p2p.order.payment.v1",
                               "{\"command_id\":\"c1\",\"issued_at_ms\":5,\"market\":\"m1\",\"order_id\":\"o1\","
                               "\"payer_id\":\"bap.x\",\"amount\":6673,\"reference\":\"utr-9\"}",
                               NULL);
    ck_assert_int_eq(c.kind, CMD_ORDER_PAYMENT);
    ck_assert_str_eq(c.u.payment.order_id, "o1");
    ck_assert_str_eq(c.u.payment.payer_id, "bap.x");
    ck_assert_int_eq(c.u.payment.amount, 6673);
    ck_assert_str_eq(c.u.payment.reference, "utr-9");
    c = decoded("energy.p2p.order.payment.v1",
                "{\"command_id\":\"c1\",\"issued_at_ms\":5,\"market\":\"m1\",\"order_id\":\"o1\","
                "\"payer_id\":\"bap.x\",\"amount\":1}",
                NULL);
    ck_assert_str_eq(c.u.payment.reference, "");
    decoded("energy.p2p.order.payment.v1",
            "{\"command_id\":\"c1\",\"issued_at_ms\":5,\"market\":\"m1\",\"order_id\":\"o1\",\"amount\":1}",
            "payer_id");
    decoded("energy.p2p.order.payment.v1",
            "{\"command_id\":\"c1\",\"issued_at_ms\":5,\"market\":\"m1\",\"order_id\":\"o1\","
            "\"payer_id\":\"bap.x\",\"amount\":\"12\"}",
            "amount");
}
END_TEST

START_TEST(payer_orders_and_payments_encode_exactly)
{
    list_offer("a", "sam", 10000, 651, W_START, W_END);
    struct command c = cmd_order(CMD_ORDER_BUY, "o1", "bob", 10000);
    snprintf(c.u.order.payer_id, sizeof c.u.order.payer_id, "bap.x");
    fx_apply(&c);
    const char *type;
    char *j = encoded_kind(EV_JOURNAL_ENTRY, CMD_ORDER_BUY, &type);
    expect_contains(j, "\"reason\":\"order_confirmed\",\"ref_id\":\"o1\",\"currency\":\"INR\","
                       "\"postings\":[{\"account\":\"receivable:bap.x\",\"amount\":-6673},"
                       "{\"account\":\"escrow:o1\",\"amount\":6673}]");
    free(j);
    j = encoded_kind(EV_ORDER_CONFIRMED, CMD_ORDER_BUY, &type);
    expect_contains(j, "\"order_id\":\"o1\",\"buyer_id\":\"bob\",\"payer_id\":\"bap.x\",");
    free(j);
    j = encoded_kind(EV_FILL, CMD_ORDER_BUY, &type);
    expect_contains(j, "\"buyer_id\":\"bob\",\"payer_id\":\"bap.x\",");
    free(j);

    c = cmd_blank(CMD_ORDER_PAYMENT);
    snprintf(c.u.payment.order_id, sizeof c.u.payment.order_id, "o1");
    snprintf(c.u.payment.payer_id, sizeof c.u.payment.payer_id, "bap.x");
    snprintf(c.u.payment.reference, sizeof c.u.payment.reference, "utr-9");
    c.u.payment.amount = 4000;
    fx_apply(&c);
    j = encoded_kind(EV_ORDER_PAID, CMD_ORDER_PAYMENT, &type);
    ck_assert_str_eq(type, "energy.p2p.order.paid.v1");
    expect_contains(j, "\"order_id\":\"o1\",\"buyer_id\":\"bob\",\"payer_id\":\"bap.x\",\"amount\":4000,"
                       "\"paid_total\":4000,\"outstanding\":2673,\"reference\":\"utr-9\",\"prev_hash\":");
    free(j);
    j = encoded_kind(EV_JOURNAL_ENTRY, CMD_ORDER_PAYMENT, &type);
    expect_contains(j, "\"reason\":\"receivable_paid\",\"ref_id\":\"o1\",\"currency\":\"INR\","
                       "\"postings\":[{\"account\":\"external\",\"amount\":-4000},"
                       "{\"account\":\"receivable:bap.x\",\"amount\":4000}]");
    free(j);

    fx_apply(&c); /* resent: the same reference and amount */
    j = encoded_kind(EV_COMMAND_REJECTED, CMD_ORDER_PAYMENT, &type);
    expect_contains(j, "\"subject_id\":\"o1\",\"actor_id\":\"bap.x\",\"reason\":{\"code\":\"duplicate_payment\","
                       "\"field\":\"reference\",\"message\":\"this payment was already applied to the "
                       "order; paid so far 4000, still owed 2673\"}");
    free(j);

    snprintf(c.u.payment.reference, sizeof c.u.payment.reference, "utr-10");
    c.u.payment.amount = 5000; /* more than the 2673 still owed */
    fx_apply(&c);
    j = encoded_kind(EV_COMMAND_REJECTED, CMD_ORDER_PAYMENT, &type);
    ck_assert_str_eq(type, "energy.p2p.command.rejected.v1");
    expect_contains(j, "\"subject_id\":\"o1\",\"actor_id\":\"bap.x\",\"reason\":{\"code\":\"exceeds_outstanding\","
                       "\"field\":\"amount\"");
    free(j);

    /* a wallet order says payer_id null */
    list_offer("b", "tim", 1000, 500, W_START, W_END);
    deposit("carl", 1000);
    buy("w1", "carl", 1000);
    j = encoded_kind(EV_ORDER_CONFIRMED, CMD_ORDER_BUY, &type);
    expect_contains(j, "\"buyer_id\":\"carl\",\"payer_id\":null,");
    free(j);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("engine_payer_codec");
    TCase *tc = tcase_create("codec");
    tcase_add_checked_fixture(tc, fx_start, fx_stop);
    tcase_add_test(tc, payer_id_is_read_from_order_commands);
    tcase_add_test(tc, order_payment_is_decoded);
    tcase_add_test(tc, payer_orders_and_payments_encode_exactly);
    suite_add_tcase(s, tc);
    return fx_run(s);
}
