/* What our BAP checks in the orders a BPP sends back (bap_order.c), with the
 * DEG numbers of beckn.md §3.3 / §7.4 (4.05 = 15 x 0.15 + 10 x 0.18), and
 * catalog filtering per (item, offer) pair (catalog.c). */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "check_run.h"
#include "gateway/beckn/bap_order.h"
#include "gateway/beckn/catalog.h"
#include "gateway/beckn/units.h"

static json_t *line(const char *offer, double kwh, double price)
{
    return json_pack("{s:s, s:{s:f, s:s}, s:{s:s, s:{s:{s:f, s:s, s:s}}}}", "beckn:orderedItem",
                     "energy-resource-solar-001", "beckn:quantity", "unitQuantity", kwh,
                     "unitText", "kWh", "beckn:acceptedOffer", "beckn:id", offer,
                     "beckn:offerAttributes", "beckn:price", "value", price, "currency", "USD",
                     "unitText", "kWh");
}

static json_t *deg_order(double total_kwh)
{
    return json_pack("{s:s, s:{s:f}, s:[o, o]}", "beckn:orderStatus", "CREATED",
                     "beckn:orderAttributes", "total_quantity", total_kwh, "beckn:orderItems",
                     line("offer-morning-001", 15.0, 0.15),
                     line("offer-afternoon-001", 10.0, 0.18));
}

static void set_payment(json_t *order, double value)
{
    json_object_set_new(order, "beckn:payment",
                        json_pack("{s:{s:s, s:f}, s:s}", "beckn:amount", "currency", "USD", "value",
                                  value, "beckn:paymentStatus", "AUTHORIZED"));
}

START_TEST(the_deg_order_adds_up)
{
    json_t *o = deg_order(25.0);
    set_payment(o, 4.05);
    struct bap_order got;
    struct beckn_nack n;
    ck_assert_int_eq(bap_order_read(o, "USD", &got, &n), 0);
    ck_assert_int_eq(got.nlines, 2);
    ck_assert_int_eq(got.lines[0].quantity_wh, 15000);
    ck_assert_int_eq(got.lines[1].price_per_kwh, 18);
    ck_assert_int_eq(got.lines_quantity_wh, 25000);
    ck_assert_int_eq(got.total_quantity_wh, 25000);
    ck_assert_int_eq(got.lines_amount, 405);
    ck_assert(got.has_amount);
    ck_assert_int_eq(got.amount, 405);
    ck_assert_str_eq(got.payment_status, "AUTHORIZED");
    ck_assert_str_eq(got.lines[1].offer_id, "offer-afternoon-001");
    json_decref(o);
}
END_TEST

START_TEST(wrong_totals_name_their_path)
{
    struct bap_order got;
    struct beckn_nack n;
    json_t *o = deg_order(24.999);
    ck_assert_int_eq(bap_order_read(o, "USD", &got, &n), -1);
    ck_assert_str_eq(n.paths, "message.order.beckn:orderAttributes.total_quantity");
    ck_assert_int_eq(n.http_status, 400);
    json_decref(o);

    o = deg_order(25.0);
    set_payment(o, 4.06);
    ck_assert_int_eq(bap_order_read(o, "USD", &got, &n), -1);
    ck_assert_str_eq(n.paths, "message.order.beckn:payment.beckn:amount.value");
    json_decref(o);

    o = deg_order(25.0);
    set_payment(o, 4.05);
    ck_assert_int_eq(bap_order_read(o, "INR", &got, &n), -1); /* prices in USD */
    json_decref(o);

    o = deg_order(25.0);
    json_object_set_new(json_object_get(json_array_get(json_object_get(o, "beckn:orderItems"), 0),
                                        "beckn:quantity"),
                        "unitText", json_string("MWh"));
    ck_assert_int_eq(bap_order_read(o, "USD", &got, &n), -1);
    ck_assert_str_eq(n.paths, "message.order.beckn:orderItems[0].beckn:quantity");
    json_decref(o);
}
END_TEST

/* A BPP's numbers up to 2^53 (what beckn_units reads) must be refused, not
 * multiplied into an int64 overflow (quantity x price, amount x 1000). */
START_TEST(huge_numbers_from_a_bpp_are_refused_without_overflow)
{
    struct bap_order got;
    struct beckn_nack n;
    json_t *o = json_pack("{s:s, s:[o]}", "beckn:orderStatus", "CREATED", "beckn:orderItems",
                          line("offer-morning-001", 9e12, 0.15)); /* 9e15 Wh */
    ck_assert_int_eq(bap_order_read(o, "USD", &got, &n), -1);
    ck_assert_str_eq(n.paths, "message.order.beckn:orderItems[0].beckn:quantity");
    json_decref(o);

    o = json_pack("{s:s, s:[o]}", "beckn:orderStatus", "CREATED", "beckn:orderItems",
                  line("offer-morning-001", 10000.0, 9e13)); /* 9e15 minor units per kWh */
    ck_assert_int_eq(bap_order_read(o, "USD", &got, &n), -1);
    ck_assert_str_eq(n.paths, "message.order.beckn:orderItems[0].beckn:acceptedOffer");
    json_decref(o);

    o = deg_order(25.0);
    set_payment(o, 9e13); /* 9e15 minor units: x 1000 overflowed */
    ck_assert_int_eq(bap_order_read(o, "USD", &got, &n), -1);
    ck_assert_str_eq(n.paths, "message.order.beckn:payment.beckn:amount");
    json_decref(o);

    /* the largest accepted line still adds up exactly */
    o = json_pack("{s:s, s:[o]}", "beckn:orderStatus", "CREATED", "beckn:orderItems",
                  line("offer-morning-001", 10000.0, 10000000.0));
    ck_assert_int_eq(bap_order_read(o, "USD", &got, &n), 0);
    ck_assert_int_eq(got.lines_amount, 10000000000000LL);
    json_decref(o);

    int64_t price;
    char currency[8];
    json_t *offer = json_pack("{s:{s:{s:f, s:s}}}", "beckn:offerAttributes", "beckn:price",
                              "value", 9e13, "currency", "USD");
    ck_assert_int_ne(bap_offer_price(offer, &price, currency), 0);
    json_decref(offer);
}
END_TEST

START_TEST(order_value_with_a_fee)
{
    struct bap_order got;
    struct beckn_nack n;
    json_t *o = deg_order(25.0);
    json_object_set_new(o, "beckn:orderValue",
                        json_pack("{s:s, s:f, s:[{s:s, s:f, s:s}, {s:s, s:f, s:s}]}", "currency",
                                  "USD", "value", 4.15, "components", "type", "UNIT", "value", 4.05,
                                  "currency", "USD", "type", "FEE", "value", 0.10, "currency",
                                  "USD"));
    set_payment(o, 4.15);
    ck_assert_int_eq(bap_order_read(o, "USD", &got, &n), 0);
    ck_assert_int_eq(got.amount, 415);
    /* the payment must be the order value, fee included */
    set_payment(o, 4.05);
    ck_assert_int_eq(bap_order_read(o, "USD", &got, &n), -1);
    ck_assert_str_eq(n.paths, "message.order.beckn:payment.beckn:amount.value");
    /* the UNIT part must be quantity x price */
    json_object_set_new(o, "beckn:orderValue",
                        json_pack("{s:s, s:f, s:[{s:s, s:f, s:s}, {s:s, s:f, s:s}]}", "currency",
                                  "USD", "value", 4.15, "components", "type", "UNIT", "value", 4.00,
                                  "currency", "USD", "type", "FEE", "value", 0.15, "currency",
                                  "USD"));
    set_payment(o, 4.15);
    ck_assert_int_eq(bap_order_read(o, "USD", &got, &n), -1);
    ck_assert_str_eq(n.paths, "message.order.beckn:orderValue.components");
    /* settled after a curtailment: less than the order value is fine, more is not */
    json_object_set_new(o, "beckn:orderValue",
                        json_pack("{s:s, s:f}", "currency", "USD", "value", 4.05));
    set_payment(o, 1.5);
    json_object_set_new(json_object_get(o, "beckn:payment"), "beckn:paymentStatus",
                        json_string("COMPLETED"));
    ck_assert_int_eq(bap_order_read(o, "USD", &got, &n), 0);
    ck_assert_int_eq(got.amount, 150);
    set_payment(o, 4.06);
    json_object_set_new(json_object_get(o, "beckn:payment"), "beckn:paymentStatus",
                        json_string("COMPLETED"));
    ck_assert_int_eq(bap_order_read(o, "USD", &got, &n), -1);
    json_decref(o);
}
END_TEST

/* A payment amount is exact in the currency's own decimals, positive and
 * below 10^12 major units; a huge integer is refused, not multiplied into
 * an int64 overflow. */
START_TEST(payment_amounts_are_exact_in_the_currency_decimals)
{
    struct {
        json_t *value;
        int exponent;
        int rc;
        int64_t units;
    } cases[] = {
        {json_integer(1000), 0, 0, 1000},       /* JPY: 1000 yen, not 100000 */
        {json_integer(1000), 2, 0, 100000},     /* INR */
        {json_real(12.34), 2, 0, 1234},
        {json_real(1.234), 3, 0, 1234},         /* KWD: three decimals */
        {json_real(0.15), 2, 0, 15},
        {json_real(12.345), 2, -1, 0},          /* finer than a minor unit */
        {json_real(12.5), 0, -1, 0},
        {json_integer(0), 2, -1, 0},
        {json_integer(-5), 2, -1, 0},
        {json_real(-1.5), 2, -1, 0},
        {json_integer(999999999999LL), 2, 0, 99999999999900LL},
        {json_integer(1000000000000LL), 2, -1, 0},
        {json_integer(100000000000000000LL), 2, -1, 0},   /* x100 overflowed int64 */
        {json_integer(9223372036854775807LL), 3, -1, 0},
        {json_real(1e300), 2, -1, 0},
        {json_string("12.34"), 2, -1, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        int64_t units = -7;
        int rc = beckn_units_exact(cases[i].value, cases[i].exponent, &units);
        ck_assert_msg(rc == cases[i].rc, "case %zu: rc %d", i, rc);
        if (rc == 0)
            ck_assert_msg(units == cases[i].units, "case %zu: %lld units", i, (long long)units);
        json_decref(cases[i].value);
    }
}
END_TEST

START_TEST(rounding_is_half_a_minor_unit_per_line)
{
    /* 1.333 kWh x 0.07 = 0.09331 -> 0.09 (half-up per line) */
    ck_assert_int_eq(bap_line_amount(1333, 7), 9);
    ck_assert_int_eq(bap_line_amount(1500, 1), 2); /* 1.5 -> 2 */
    json_t *v = json_real(0.15);
    int64_t units;
    ck_assert_int_eq(beckn_units(v, 2, &units), 0);
    ck_assert_int_eq(units, 15);
    json_decref(v);
    v = json_real(-1);
    ck_assert_int_eq(beckn_units(v, 2, &units), -1);
    json_decref(v);
    json_t *d = beckn_decimal(651, 2);
    char *s = beckn_dumps(d);
    ck_assert_str_eq(s, "6.51");
    free(s);
    json_decref(d);
    ck_assert_int_eq(beckn_currency_exponent("JPY"), 0);
    ck_assert_int_eq(beckn_currency_exponent("KWD"), 3);
    ck_assert_int_eq(beckn_currency_exponent("INR"), 2);
}
END_TEST

START_TEST(filtering_keeps_matching_pairs)
{
    json_t *cat = json_pack(
        "{s:s, s:[{s:s, s:{s:s}}, {s:s, s:{s:s}}], s:[{s:s, s:[s], s:{s:{s:f}}}, "
        "{s:s, s:[s], s:{s:{s:f}}}, {s:s, s:[s], s:{s:{s:f}}}]}",
        "beckn:id", "c1", "beckn:items", "beckn:id", "i1", "beckn:itemAttributes", "sourceType",
        "SOLAR", "beckn:id", "i2", "beckn:itemAttributes", "sourceType", "BATTERY",
        "beckn:offers", "beckn:id", "o1", "beckn:items", "i1", "beckn:offerAttributes",
        "beckn:price", "value", 0.10, "beckn:id", "o2", "beckn:items", "i1",
        "beckn:offerAttributes", "beckn:price", "value", 0.30, "beckn:id", "o3", "beckn:items",
        "i2", "beckn:offerAttributes", "beckn:price", "value", 0.05);
    const char *expr = "$[?(@.beckn:offers.beckn:offerAttributes.beckn:price.value < 0.2 && "
                       "@.beckn:itemAttributes.sourceType == 'SOLAR')]";
    struct jsonpath_filter *f;
    char err[128];
    ck_assert_int_eq(jsonpath_parse(expr, strlen(expr), &f, err, sizeof err), 0);
    json_t *got = beckn_catalog_filter(cat, f);
    ck_assert_ptr_nonnull(got);
    ck_assert_int_eq(json_array_size(json_object_get(got, "beckn:items")), 1);
    ck_assert_int_eq(json_array_size(json_object_get(got, "beckn:offers")), 1);
    ck_assert_str_eq(json_string_value(json_object_get(
                         json_array_get(json_object_get(got, "beckn:offers"), 0), "beckn:id")),
                     "o1");
    ck_assert_str_eq(json_string_value(json_object_get(got, "beckn:id")), "c1");
    /* the input is untouched */
    ck_assert_int_eq(json_array_size(json_object_get(cat, "beckn:offers")), 3);
    ck_assert_ptr_null(json_object_get(json_array_get(json_object_get(cat, "beckn:items"), 0),
                                       "beckn:offers"));
    json_decref(got);
    jsonpath_free(f);
    const char *none = "$[?(@.beckn:itemAttributes.sourceType == 'WIND')]";
    ck_assert_int_eq(jsonpath_parse(none, strlen(none), &f, err, sizeof err), 0);
    ck_assert_ptr_null(beckn_catalog_filter(cat, f));
    jsonpath_free(f);
    got = beckn_catalog_filter(cat, NULL);
    ck_assert_int_eq(json_array_size(json_object_get(got, "beckn:offers")), 3);
    json_decref(got);
    json_decref(cat);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("beckn_bap_order");
    TCase *tc = tcase_create("bap_order");
    tcase_add_test(tc, the_deg_order_adds_up);
    tcase_add_test(tc, wrong_totals_name_their_path);
    tcase_add_test(tc, order_value_with_a_fee);
    tcase_add_test(tc, huge_numbers_from_a_bpp_are_refused_without_overflow);
    tcase_add_test(tc, rounding_is_half_a_minor_unit_per_line);
    tcase_add_test(tc, payment_amounts_are_exact_in_the_currency_decimals);
    tcase_add_test(tc, filtering_keeps_matching_pairs);
    suite_add_tcase(s, tc);
    return check_run(s);
}
