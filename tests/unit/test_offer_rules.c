/* The offer listing rules of product.md §3 (engine/core/offer.c) and the
 * engine core's decisions (engine/core/engine.c). */
#include <check.h>

#include "check_run.h"
#include <stdlib.h>
#include <string.h>

#include "engine/core/engine.h"

#define HOUR 3600000LL
#define NOW 1764000000000LL /* 2025-11-24T16:00:00Z, on an hour boundary */

static const struct market_rules rules = {
    .slot_ms = HOUR, .gate_closure_ms = 4 * HOUR, .horizon_ms = 7 * 24 * HOUR, .currency = "INR"};

static struct offer_terms valid(void)
{
    struct offer_terms t;
    memset(&t, 0, sizeof t);
    strcpy(t.offer_id, "o1");
    strcpy(t.seller_id, "alice");
    strcpy(t.meter_id, "MTR-1");
    strcpy(t.currency, "INR");
    t.source = SOURCE_SOLAR;
    t.quantity_wh = 5000;
    t.price_per_kwh = 650;
    t.min_order_wh = 1000;
    t.delivery_start_ms = NOW + 6 * HOUR;
    t.delivery_end_ms = NOW + 7 * HOUR;
    return t;
}

static void expect(const struct offer_terms *t, const char *code, const char *field)
{
    struct p2p_violation v;
    memset(&v, 0, sizeof v);
    ck_assert_int_eq(offer_terms_check(&rules, t, NOW, &v), -1);
    ck_assert_str_eq(v.code, code);
    ck_assert_str_eq(v.field, field);
    ck_assert(strlen(v.message) > 0);
}

START_TEST(accepts_a_valid_offer)
{
    struct offer_terms t = valid();
    struct p2p_violation v;
    ck_assert_int_eq(offer_terms_check(&rules, &t, NOW, &v), 0);
    /* exactly at gate closure and exactly at the horizon are still allowed */
    t.delivery_start_ms = NOW + 4 * HOUR;
    t.delivery_end_ms = NOW + 5 * HOUR;
    ck_assert_int_eq(offer_terms_check(&rules, &t, NOW, &v), 0);
    t.delivery_start_ms = NOW + 7 * 24 * HOUR;
    t.delivery_end_ms = t.delivery_start_ms + HOUR;
    ck_assert_int_eq(offer_terms_check(&rules, &t, NOW, &v), 0);
}
END_TEST

START_TEST(rejects_bad_quantities_and_prices)
{
    struct offer_terms t = valid();
    t.quantity_wh = 0;
    expect(&t, "invalid_field", "quantity_wh");
    t.quantity_wh = -5;
    expect(&t, "invalid_field", "quantity_wh");
    t.quantity_wh = OFFER_MAX_WH + 1;
    expect(&t, "invalid_field", "quantity_wh");
    t = valid();
    t.price_per_kwh = 0;
    expect(&t, "invalid_field", "price_per_kwh");
    t.price_per_kwh = OFFER_MAX_PRICE_PER_KWH + 1;
    expect(&t, "invalid_field", "price_per_kwh");
    t = valid();
    t.min_order_wh = t.quantity_wh + 1;
    expect(&t, "invalid_field", "min_order_wh");
    t = valid();
    strcpy(t.currency, "USD");
    expect(&t, "invalid_field", "currency");
}
END_TEST

START_TEST(rejects_bad_windows)
{
    struct offer_terms t = valid();
    t.delivery_start_ms += 30 * 60000;
    t.delivery_end_ms += HOUR;
    expect(&t, "window_not_aligned", "delivery_start");
    t = valid();
    t.delivery_end_ms -= 60000;
    expect(&t, "window_not_aligned", "delivery_end");
    t = valid();
    t.delivery_end_ms = t.delivery_start_ms;
    expect(&t, "window_inverted", "delivery_end");
    t = valid();
    t.delivery_start_ms = NOW + 3 * HOUR; /* inside gate closure */
    t.delivery_end_ms = NOW + 4 * HOUR;
    expect(&t, "gate_closed", "delivery_start");
    t.delivery_start_ms = NOW - 2 * HOUR; /* in the past */
    expect(&t, "gate_closed", "delivery_start");
    t = valid();
    t.delivery_start_ms = NOW + 7 * 24 * HOUR + HOUR;
    t.delivery_end_ms = t.delivery_start_ms + HOUR;
    expect(&t, "beyond_horizon", "delivery_start");
    t = valid();
    t.delivery_end_ms = t.delivery_start_ms + 25 * HOUR;
    expect(&t, "invalid_field", "delivery_end");
    t = valid();
    t.delivery_start_ms = -HOUR;
    expect(&t, "invalid_field", "delivery_start");
    t = valid();
    t.has_valid_until = true;
    t.valid_until_ms = NOW - 1;
    expect(&t, "invalid_field", "valid_until");
}
END_TEST

START_TEST(default_minimum_order_is_one_kwh_or_the_whole_offer)
{
    ck_assert_int_eq(offer_default_min_order_wh(5000), 1000);
    ck_assert_int_eq(offer_default_min_order_wh(400), 400);
}
END_TEST

START_TEST(engine_judges_at_the_command_time)
{
    struct engine e;
    struct engine_params params;
    struct event events[64];
    struct event_sink sink = {.events = events, .capacity = 64};
    struct command c = {.kind = CMD_OFFER_SUBMIT, .issued_at_ms = NOW};
    engine_params_default(&params);
    params.market = rules;
    ck_assert_int_eq(engine_create(&e, &params, &(struct engine_capacity){16, 16, 16, 64}), 0);
    c.u.offer = valid();
    engine_apply(&e, &c, &sink);
    ck_assert_int_eq(sink.count, 1);
    ck_assert_int_eq(events[0].kind, EV_OFFER_LISTED);
    /* the same offer (new id), issued three hours later, is past gate closure */
    strcpy(c.u.offer.offer_id, "o2");
    c.issued_at_ms = NOW + 3 * HOUR;
    sink.count = 0;
    engine_apply(&e, &c, &sink);
    ck_assert_int_eq(events[sink.count - 1].kind, EV_OFFER_REJECTED);
    ck_assert_str_eq(events[sink.count - 1].u.rejected.reason.code, "gate_closed");
    ck_assert_uint_eq(e.noffers, 1);
    engine_destroy(&e);
}
END_TEST

START_TEST(source_types_are_the_beckn_enum)
{
    enum source_type s;
    ck_assert_int_eq(source_type_parse("RENEWABLE", &s), 0);
    ck_assert_str_eq(source_type_name(s), "RENEWABLE");
    ck_assert_int_eq(source_type_parse("solar", &s), -1);
    ck_assert_int_eq(source_type_parse("WIND", &s), -1);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("offer_rules");
    TCase *tc = tcase_create("rules");
    tcase_add_test(tc, accepts_a_valid_offer);
    tcase_add_test(tc, rejects_bad_quantities_and_prices);
    tcase_add_test(tc, rejects_bad_windows);
    tcase_add_test(tc, default_minimum_order_is_one_kwh_or_the_whole_offer);
    tcase_add_test(tc, engine_judges_at_the_command_time);
    tcase_add_test(tc, source_types_are_the_beckn_enum);
    suite_add_tcase(s, tc);
    return check_run(s);
}
