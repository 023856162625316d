/* The Beckn <-> engine mapping and arithmetic (gateway/beckn/beckn_order.c,
 * callbacks.c, packs.c), the lenient ACK reading of the outbound client
 * (client.c) and the outbox's backoff (outbox.c): kWh to Wh exactly, money
 * and energy exact on the wire over a wide range, derived ids, reading a
 * DEG select order, pricing an order from an engine quote (UNIT + FEE =
 * total, total_quantity = sum of lines), every ACK shape of beckn.md §1.2. */
#include <check.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_run.h"
#include "common/p2p_json.h"
#include "gateway/beckn/beckn_order.h"
#include "gateway/beckn/callbacks.h"
#include "gateway/beckn/client.h"
#include "gateway/beckn/outbox.h"

static int64_t wh_of(const char *json_number)
{
    json_t *v = json_loads(json_number, JSON_DECODE_ANY, NULL);
    int64_t wh = -1;
    if (beckn_wh_from_kwh(v, &wh))
        wh = -1;
    json_decref(v);
    return wh;
}

START_TEST(kwh_to_wh_is_exact)
{
    ck_assert_int_eq(wh_of("15.0"), 15000);
    ck_assert_int_eq(wh_of("15"), 15000);
    ck_assert_int_eq(wh_of("0.001"), 1);
    ck_assert_int_eq(wh_of("2.345"), 2345);
    ck_assert_int_eq(wh_of("30.5"), 30500);
    ck_assert_int_eq(wh_of("10000"), 10000000);
    ck_assert_int_eq(wh_of("1.0005"), -1);   /* 4 decimals */
    ck_assert_int_eq(wh_of("0"), -1);
    ck_assert_int_eq(wh_of("-1.5"), -1);
    ck_assert_int_eq(wh_of("10000.001"), -1);
    ck_assert_int_eq(wh_of("\"15\""), -1);
    ck_assert_int_eq(wh_of("0.0004"), -1);
    /* every Wh value from 1 Wh to 100 kWh survives kWh on the wire and back */
    for (int64_t wh = 1; wh <= 100000; wh += 7) {
        char *text = beckn_dump(json_pack("[o]", beckn_kwh_json(wh)));
        json_t *back = json_loads(text, 0, NULL);
        int64_t again = 0;
        ck_assert_int_eq(beckn_wh_from_kwh(json_array_get(back, 0), &again), 0);
        ck_assert_int_eq(again, wh);
        json_decref(back);
        free(text);
    }
}
END_TEST

/* Our BPP's amounts are in the market currency's own decimals, as our
 * catalog's prices are (catalog.c): 1500 yen are 1500, not 15.00. */
START_TEST(money_follows_the_currency_decimals)
{
    static const struct {
        int64_t minor;
        const char *currency, *text;
    } cases[] = {{1500, "JPY", "[1500.0]"}, {1234, "INR", "[12.34]"}, {1234, "KWD", "[1.234]"},
                 {5, "USD", "[0.05]"}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *text = beckn_dump(json_pack("[o]", beckn_money_json(cases[i].minor,
                                                                  cases[i].currency)));
        ck_assert_msg(strcmp(text, cases[i].text) == 0, "%lld %s dumped as %s",
                      (long long)cases[i].minor, cases[i].currency, text);
        free(text);
    }
}
END_TEST

START_TEST(money_is_exact_decimal)
{
    /* the dumped number is exactly minor / 100 written in decimal */
    static const int64_t samples[] = {0, 1, 5, 10, 99, 100, 405, 1234, 97650, 123456789,
                                      99999999999, 100000000001};
    for (size_t i = 0; i < sizeof samples / sizeof samples[0]; i++) {
        char *text = beckn_dump(json_pack("[o]", beckn_money_json(samples[i], "INR")));
        char expect[48], got[48];
        snprintf(expect, sizeof expect, "%" PRId64 ".%02" PRId64, samples[i] / 100,
                 samples[i] % 100);
        /* normalise: jansson writes 4.05 as "4.05", 4.5 as "4.5", 4 as "4.0" */
        snprintf(got, sizeof got, "%.*s", (int)strlen(text) - 2, text + 1);
        double g = strtod(got, NULL), e = strtod(expect, NULL);
        ck_assert_msg(g == e, "%" PRId64 " paise dumped as %s", samples[i], text);
        ck_assert_msg(strlen(got) <= strlen(expect), "%s is longer than %s", got, expect);
        free(text);
    }
    for (int64_t m = 0; m < 2000000; m += 13) {
        char *text = beckn_dump(json_pack("[o]", beckn_money_json(m, "INR")));
        const char *dot = strchr(text, '.');
        ck_assert_msg(dot && strlen(dot) <= 4, "%" PRId64 " dumped as %s", m, text);
        long long whole = atoll(text + 1);
        int cents = dot[1] - '0';
        cents = cents * 10 + (dot[2] >= '0' && dot[2] <= '9' ? dot[2] - '0' : 0);
        ck_assert_int_eq(whole * 100 + cents, m);
        free(text);
    }
}
END_TEST

START_TEST(derived_ids_are_stable_engine_ids)
{
    char a[BECKN_ORDER_ID_BUF], b[BECKN_ORDER_ID_BUF], c[BECKN_ORDER_ID_BUF];
    beckn_derive_order_id("bap.energy-consumer.com", "txn-energy-001", a);
    beckn_derive_order_id("bap.energy-consumer.com", "txn-energy-001", b);
    beckn_derive_order_id("bap.other.com", "txn-energy-001", c);
    ck_assert_str_eq(a, b);
    ck_assert_str_ne(a, c);
    ck_assert(strlen(a) <= 56 && p2p_id_valid(a, 56));
    ck_assert(strncmp(a, "bk-", 3) == 0);
    char buyer[BECKN_BUYER_ID_BUF], buyer2[BECKN_BUYER_ID_BUF];
    beckn_derive_buyer_id("bap.energy-consumer.com", "buyer-001", buyer);
    beckn_derive_buyer_id("bap.energy-consumer.com", "buyer-002", buyer2);
    ck_assert_str_ne(buyer, buyer2);
    ck_assert(strlen(buyer) <= 64 && p2p_id_valid(buyer, 64));
}
END_TEST

#define CORE "https://raw.githubusercontent.com/beckn/protocol-specifications-new/refs/heads/main/schema/core/v2/context.jsonld"
#define PACK(x) "https://raw.githubusercontent.com/beckn/protocol-specifications-new/refs/heads/p2p-trading/schema/" x "/context.jsonld"

/* The DEG select order of beckn.md §7.3 with our offer ids o-1 and o-2. */
static json_t *deg_order(double q1, double q2, double total)
{
    json_t *item_attrs = json_pack(
        "{s:s, s:s, s:{s:s, s:s, s:s, s:s, s:s}}", "@context", PACK("EnergyOrderItem/v0.1"),
        "@type", "EnergyOrderItem", "providerAttributes", "@context", PACK("EnergyCustomer/v0.1"),
        "@type", "EnergyCustomer", "meterId", "der://meter/98765456", "utilityCustomerId",
        "UTIL-CUST-123456", "utilityId", "TPDDL-DL");
    json_t *o = json_pack(
        "{s:s, s:s, s:s, s:s, s:{s:s, s:s, s:s}, s:{s:s, s:s, s:s, s:s, s:f, s:s, s:s}, s:["
        "{s:s, s:O, s:{s:f, s:s}, s:{s:s, s:s, s:s, s:{s:s, s:s, s:s}}},"
        "{s:s, s:O, s:{s:f, s:s}, s:{s:s, s:s, s:s, s:{s:s, s:s, s:s}}}]}",
        "@context", CORE, "@type", "beckn:Order", "beckn:orderStatus", "CREATED", "beckn:seller",
        "provider-solar-farm-001", "beckn:buyer", "beckn:id", "buyer-001", "@context", CORE,
        "@type", "beckn:Buyer", "beckn:orderAttributes", "@context", PACK("EnergyTradeOrder/v0.2"),
        "@type", "EnergyTradeOrderInterUtility", "bap_id", "bap.energy-consumer.com", "bpp_id",
        "bpp.energy-provider.com", "total_quantity", total, "utilityIdBuyer", "BESCOM-KA",
        "utilityIdSeller", "TPDDL-DL", "beckn:orderItems", "beckn:orderedItem",
        "energy-resource-solar-001", "beckn:orderItemAttributes", item_attrs, "beckn:quantity",
        "unitQuantity", q1, "unitText", "kWh", "beckn:acceptedOffer", "beckn:id", "o-1",
        "@context", CORE, "@type", "beckn:Offer", "beckn:offerAttributes", "@context",
        PACK("EnergyTradeOffer/v0.2"), "@type", "EnergyTradeOffer", "pricingModel", "PER_KWH",
        "beckn:orderedItem", "energy-resource-solar-001", "beckn:orderItemAttributes", item_attrs,
        "beckn:quantity", "unitQuantity", q2, "unitText", "kWh", "beckn:acceptedOffer",
        "beckn:id", "o-2", "@context", CORE, "@type", "beckn:Offer", "beckn:offerAttributes",
        "@context", PACK("EnergyTradeOffer/v0.2"), "@type", "EnergyTradeOffer", "pricingModel",
        "PER_KWH");
    json_decref(item_attrs);
    ck_assert_ptr_nonnull(o);
    return o;
}

START_TEST(reads_a_deg_order)
{
    json_t *o = deg_order(15.0, 10.0, 25.0);
    struct beckn_order_request r;
    struct beckn_nack n;
    ck_assert_msg(beckn_order_read(o, &r, &n) == 0, "%s: %s", n.paths, n.message);
    ck_assert_int_eq(r.nlines, 2);
    ck_assert_str_eq(r.lines[0].offer_id, "o-1");
    ck_assert_int_eq(r.lines[0].quantity_wh, 15000);
    ck_assert_int_eq(r.lines[1].quantity_wh, 10000);
    ck_assert_str_eq(r.buyer_ref, "buyer-001");
    json_decref(o);

    /* each line within the engine's 10 000 kWh, together above it: the
     * total is the sum, not itself a line */
    o = deg_order(6000.0, 5000.5, 11000.5);
    ck_assert_msg(beckn_order_read(o, &r, &n) == 0, "%s: %s", n.paths, n.message);
    ck_assert_int_eq(r.lines[1].quantity_wh, 5000500);
    json_decref(o);

    o = deg_order(15.0, 10.0, 24.0); /* total_quantity != sum */
    ck_assert_int_eq(beckn_order_read(o, &r, &n), -1);
    ck_assert_str_eq(n.paths, "message.order.beckn:orderAttributes.total_quantity");
    json_decref(o);

    o = deg_order(15.0, 10.0, 25.0); /* the same offer twice */
    json_object_set_new(json_object_get(json_array_get(json_object_get(o, "beckn:orderItems"), 1),
                                        "beckn:acceptedOffer"),
                        "beckn:id", json_string("o-1"));
    ck_assert_int_eq(beckn_order_read(o, &r, &n), -1);
    json_decref(o);

    o = deg_order(15.0, 10.0, 25.0); /* EnergyCustomer forbids unknown keys */
    json_t *customer = json_object_get(
        json_object_get(json_array_get(json_object_get(o, "beckn:orderItems"), 0),
                        "beckn:orderItemAttributes"),
        "providerAttributes");
    json_object_set_new(customer, "nickname", json_string("x"));
    ck_assert_int_eq(beckn_order_read(o, &r, &n), -1);
    ck_assert_str_eq(n.code, "30000");
    ck_assert(strstr(n.paths, "providerAttributes.nickname") != NULL);
    json_decref(o);
}
END_TEST

START_TEST(prices_an_order_from_a_quote)
{
    /* 1.5 kWh at 651 paise: 976.5 -> 977; 2 kWh at 700: 1400; fees 24 + 35 */
    json_t *o = deg_order(1.5, 2.0, 3.5);
    json_t *quote = json_pack(
        "{s:I, s:I, s:I, s:I, s:[{s:s, s:I, s:I}, {s:s, s:I, s:I}]}", "amount", (json_int_t)2377,
        "fee", (json_int_t)59, "total", (json_int_t)2436, "filled_wh", (json_int_t)3500, "lines",
        "offer_id", "o-1", "quantity_wh", (json_int_t)1500, "price_per_kwh", (json_int_t)651,
        "offer_id", "o-2", "quantity_wh", (json_int_t)2000, "price_per_kwh", (json_int_t)700);
    ck_assert_int_eq(beckn_price_order(o, quote, "INR"), 0);
    char *text = beckn_dump(o);
    ck_assert_msg(strstr(text, "\"beckn:price\":{\"currency\":\"INR\",\"value\":6.51,") != NULL,
                  "%s", text);
    ck_assert_msg(strstr(text, "\"beckn:orderValue\":{\"currency\":\"INR\",\"value\":24.36,"
                               "\"components\":[{\"type\":\"UNIT\",\"value\":23.77,") != NULL,
                  "%s", text);
    ck_assert_msg(strstr(text, "{\"type\":\"FEE\",\"value\":0.59,") != NULL, "%s", text);
    ck_assert_msg(strstr(text, "\"total_quantity\":3.5") != NULL, "%s", text);
    free(text);

    json_t *other = deg_order(1.5, 2.0, 3.5); /* a line the quote does not have */
    json_object_set_new(json_array_get(json_object_get(quote, "lines"), 1), "offer_id",
                        json_string("o-9"));
    ck_assert_int_eq(beckn_price_order(other, quote, "INR"), -1);
    json_decref(other);
    json_decref(quote);
}
END_TEST

static enum beckn_ack ack_of(const char *body, char *code)
{
    struct beckn_post_result r;
    memset(&r, 0, sizeof r);
    beckn_parse_ack(body, strlen(body), &r);
    if (code)
        strcpy(code, r.error_code);
    return r.ack;
}

START_TEST(reads_every_ack_shape)
{
    char code[64];
    ck_assert_int_eq(ack_of("{\"message\":{\"ack\":{\"status\":\"ACK\"}}}", NULL), BECKN_ACK_ACK);
    ck_assert_int_eq(ack_of("{\"message\":{\"ack\":{\"status\":\"NACK\"},\"error\":{\"code\":"
                            "\"Bad Request\",\"paths\":\"a\",\"message\":\"m\"}}}", code),
                     BECKN_ACK_NACK);
    ck_assert_str_eq(code, "Bad Request");
    ck_assert_int_eq(ack_of("{\"message\":{\"ack\":{\"status\":\"NACK\"}},\"error\":{\"code\":"
                            "\"30000\",\"message\":\"m\"}}", code), BECKN_ACK_NACK);
    ck_assert_str_eq(code, "30000");
    ck_assert_int_eq(ack_of("{\"transaction_id\":\"t\",\"timestamp\":\"x\",\"ack_status\":\"ACK\"}",
                            NULL), BECKN_ACK_ACK);
    ck_assert_int_eq(ack_of("{\"ack_status\":\"ACK\",\"timestamp\":\"2025-10-14T07:31:05Z\"}", NULL),
                     BECKN_ACK_ACK);
    ck_assert_int_eq(ack_of("{\"status\":\"NACK\",\"signature\":{},\"error\":{\"errorCode\":"
                            "\"AUT_X\",\"errorMessage\":\"m\"}}", code), BECKN_ACK_NACK);
    ck_assert_str_eq(code, "AUT_X");
    ck_assert_int_eq(ack_of("{\"message\":{\"status\":\"ACK\",\"messageId\":\"u\"}}", NULL),
                     BECKN_ACK_ACK);
    ck_assert_int_eq(ack_of("not json", NULL), BECKN_ACK_UNKNOWN);
    ck_assert_int_eq(ack_of("", NULL), BECKN_ACK_UNKNOWN);

    struct beckn_post_result r = {.http_status = 200, .ack = BECKN_ACK_UNKNOWN};
    ck_assert(beckn_post_delivered(&r));
    r.ack = BECKN_ACK_NACK;
    ck_assert(!beckn_post_delivered(&r));
    ck_assert(!beckn_post_retryable(&r));
    r.http_status = 503;
    ck_assert(beckn_post_retryable(&r));
    r.http_status = 0;
    ck_assert(beckn_post_retryable(&r));
    r.http_status = 400;
    ck_assert(!beckn_post_retryable(&r));
}
END_TEST

START_TEST(backoff_doubles_with_jitter_and_a_cap)
{
    struct beckn_node node;
    memset(&node, 0, sizeof node);
    node.callback_backoff_ms = 500;
    node.callback_backoff_max_ms = 60000;
    for (uint32_t rnd = 0; rnd < 5000; rnd += 37) {
        int64_t d1 = beckn_outbox_backoff_ms(&node, 1, rnd * 2654435761u);
        int64_t d3 = beckn_outbox_backoff_ms(&node, 3, rnd * 2654435761u);
        int64_t d30 = beckn_outbox_backoff_ms(&node, 30, rnd * 2654435761u);
        ck_assert(d1 >= 250 && d1 <= 500);
        ck_assert(d3 >= 1000 && d3 <= 2000);
        ck_assert(d30 >= 30000 && d30 <= 60000);
    }
    char url[64];
    ck_assert_int_eq(beckn_callback_url("http://x/beckn/", "on_select", url, sizeof url), 0);
    ck_assert_str_eq(url, "http://x/beckn/on_select");
    ck_assert_int_eq(beckn_callback_url("http://x/beckn", "on_select", url, 10), -1);
}
END_TEST

START_TEST(rejections_map_to_beckn_codes)
{
    ck_assert_str_eq(beckn_error_code_for("insufficient_supply"), "40002");
    ck_assert_str_eq(beckn_error_code_for("insufficient_funds"), "40004");
    ck_assert_str_eq(beckn_error_code_for("cancel_window_closed"), "50001");
    ck_assert_str_eq(beckn_error_code_for("something_new"), "40000");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("beckn_order");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, kwh_to_wh_is_exact);
    tcase_add_test(tc, money_is_exact_decimal);
    tcase_add_test(tc, money_follows_the_currency_decimals);
    tcase_add_test(tc, derived_ids_are_stable_engine_ids);
    tcase_add_test(tc, reads_a_deg_order);
    tcase_add_test(tc, prices_an_order_from_a_quote);
    tcase_add_test(tc, reads_every_ack_shape);
    tcase_add_test(tc, backoff_doubles_with_jitter_and_a_cap);
    tcase_add_test(tc, rejections_map_to_beckn_codes);
    suite_add_tcase(s, tc);
    return check_run(s);
}
