/* Beckn context reading and the synchronous receiver checks
 * (gateway/beckn/message.c), with the DEG wave-1 example context of
 * beckn.md §7.0 as the accepted case. */
#include <check.h>
#include <string.h>

#include "check_run.h"
#include "common/p2p_time.h"
#include "gateway/beckn/message.h"

static const char *const deg_context =
    "{\"context\":{\"version\":\"2.0.0\",\"action\":\"select\",\"timestamp\":\"2024-10-04T10:15:00Z\","
    "\"message_id\":\"msg-select-001\",\"transaction_id\":\"txn-energy-001\","
    "\"bap_id\":\"bap.energy-consumer.com\",\"bap_uri\":\"https://bap.energy-consumer.com\","
    "\"bpp_id\":\"bpp.energy-provider.com\",\"bpp_uri\":\"https://bpp.energy-provider.com\","
    "\"ttl\":\"PT30S\",\"domain\":\"beckn.one:deg:p2p-trading-interdiscom:2.0.0\"},"
    "\"message\":{}}";

static int64_t at(const char *t)
{
    int64_t ms;
    ck_assert_int_eq(p2p_time_parse(t, &ms), 0);
    return ms;
}

/* Reads deg_context with one context key replaced (value NULL removes it). */
static int check_with(const char *key, json_t *value, const char *endpoint, int64_t now,
                      struct beckn_nack *n)
{
    json_t *root = json_loads(deg_context, 0, NULL);
    json_t *ctx = json_object_get(root, "context");
    if (key && value)
        json_object_set_new(ctx, key, value);
    else if (key)
        json_object_del(ctx, key);
    struct beckn_context c;
    int rc = beckn_context_read(root, &c, n);
    if (rc == 0)
        rc = beckn_context_check(&c, endpoint, "bpp.energy-provider.com", BECKN_AS_BPP, now, 5000, n);
    json_decref(root);
    return rc;
}

START_TEST(the_deg_example_is_accepted)
{
    struct beckn_nack n;
    json_t *root = json_loads(deg_context, 0, NULL);
    struct beckn_context c;
    ck_assert_int_eq(beckn_context_read(root, &c, &n), 0);
    ck_assert_str_eq(c.message_id, "msg-select-001");
    ck_assert_int_eq(c.ttl_ms, 30000);
    ck_assert_int_eq(beckn_context_check(&c, "select", "bpp.energy-provider.com", BECKN_AS_BPP,
                                         at("2024-10-04T10:15:10Z"), 5000, &n),
                     0);
    /* the same message as a callback to the BAP is checked against bap_id */
    ck_assert_int_eq(beckn_context_check(&c, "select", "bap.energy-consumer.com", BECKN_AS_BAP,
                                         at("2024-10-04T10:15:10Z"), 5000, &n),
                     0);
    json_decref(root);
}
END_TEST

START_TEST(each_rule_has_its_code_and_path)
{
    struct beckn_nack n;
    int64_t now = at("2024-10-04T10:15:10Z");
    struct {
        const char *key;
        json_t *value;
        const char *endpoint;
        int64_t now;
        const char *code, *paths;
    } cases[] = {
        {"domain", json_string("beckn.one:deg:ev-charging:2.0.0"), "select", now, "50005", "context.domain"},
        {"version", json_string("1.1.0"), "select", now, "50006", "context.version"},
        {NULL, NULL, "init", now, "30000", "context.action"},
        {"bpp_id", json_string("someone.else"), "select", now, "30000", "context.bpp_id"},
        {NULL, NULL, "select", at("2024-10-04T10:15:31Z"), "30000", "context.ttl"},
        {"timestamp", json_string("2024-10-04T10:16:00Z"), "select", now, "30000", "context.timestamp"},
        {"timestamp", json_string("2024-10-04 10:15:00"), "select", now, "30000", "context.timestamp"},
        {"ttl", json_string("30 seconds"), "select", now, "30000", "context.ttl"},
        {"ttl", json_string("P1M"), "select", now, "30000", "context.ttl"},
        {"message_id", NULL, "select", now, "30000", "context.message_id"},
        {"message_id", json_integer(7), "select", now, "30000", "context.message_id"},
        {"bap_uri", json_string("ftp://bap"), "select", now, "30000", "context.bap_uri"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        memset(&n, 0, sizeof n);
        ck_assert_msg(check_with(cases[i].key, cases[i].value, cases[i].endpoint, cases[i].now, &n) == -1,
                      "case %zu accepted", i);
        ck_assert_msg(strcmp(n.code, cases[i].code) == 0 && strcmp(n.paths, cases[i].paths) == 0,
                      "case %zu: got %s %s (%s)", i, n.code, n.paths, n.message);
        ck_assert_int_eq(n.http_status, 400);
    }
    json_t *no_context = json_loads("{\"message\":{}}", 0, NULL);
    struct beckn_context c;
    ck_assert_int_eq(beckn_context_read(no_context, &c, &n), -1);
    ck_assert_str_eq(n.paths, "context");
    json_decref(no_context);
}
END_TEST

START_TEST(durations)
{
    int64_t ms;
    ck_assert_int_eq(beckn_duration_ms("PT30S", &ms), 0);
    ck_assert_int_eq(ms, 30000);
    ck_assert_int_eq(beckn_duration_ms("P1DT1H30M0.5S", &ms), 0);
    ck_assert_int_eq(ms, 86400000 + 5400000 + 500);
    ck_assert_int_eq(beckn_duration_ms("PT1M", &ms), 0);
    ck_assert_int_eq(ms, 60000);
    const char *bad[] = {"", "P", "PT", "30S", "PT-5S", "P1M", "P1Y", "PT1.5M", "PTS", "PT1H1H2", "P2000D"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        ck_assert_msg(beckn_duration_ms(bad[i], &ms) == -1, "accepted %s", bad[i]);
}
END_TEST

/* Twelve-digit components times a day's ms exceed int64: they must be
 * refused as too long, not overflow (UB) and wrap to a short ttl. */
START_TEST(huge_durations_are_refused_without_overflow)
{
    int64_t ms;
    const char *huge[] = {"P999999999999D", "PT999999999999H", "PT999999999999M",
                          "PT999999999999S", "P366DT999999999999H", "P106751991167D",
                          "P366DT24H"};
    for (size_t i = 0; i < sizeof huge / sizeof *huge; i++)
        ck_assert_msg(beckn_duration_ms(huge[i], &ms) == -1, "accepted %s", huge[i]);
    ck_assert_int_eq(beckn_duration_ms("P366D", &ms), 0);
    ck_assert_int_eq(ms, 366LL * 86400000);
    ck_assert_int_eq(beckn_duration_ms("PT8784H", &ms), 0);
    ck_assert_int_eq(ms, 366LL * 86400000);
}
END_TEST

START_TEST(ack_and_nack_bodies_have_the_onix_shape)
{
    char *ack = beckn_ack_body();
    ck_assert_str_eq(ack, "{\"message\":{\"ack\":{\"status\":\"ACK\"}}}");
    free(ack);
    struct beckn_nack n = {400, "50005", "context.domain", "domain x is not supported"};
    char *body = beckn_nack_body(&n);
    ck_assert_str_eq(body, "{\"message\":{\"ack\":{\"status\":\"NACK\"},\"error\":{\"code\":\"50005\","
                           "\"paths\":\"context.domain\",\"message\":\"domain x is not supported\"}}}");
    free(body);
    /* a message cut inside a UTF-8 character still gives a valid body */
    struct beckn_nack cut = {400, "30000", "context.bpp_id", "\xc3"};
    body = beckn_nack_body(&cut);
    ck_assert_ptr_nonnull(body);
    json_t *parsed = json_loads(body, 0, NULL);
    ck_assert_ptr_nonnull(parsed);
    json_decref(parsed);
    free(body);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("beckn_message");
    TCase *tc = tcase_create("context");
    tcase_add_test(tc, the_deg_example_is_accepted);
    tcase_add_test(tc, each_rule_has_its_code_and_path);
    tcase_add_test(tc, durations);
    tcase_add_test(tc, huge_durations_are_refused_without_overflow);
    tcase_add_test(tc, ack_and_nack_bodies_have_the_onix_shape);
    suite_add_tcase(s, tc);
    return check_run(s);
}
