/* The discover filter subset (gateway/beckn/jsonpath.c): the DEG discover
 * expression of beckn.md §7.2 over DEG-shaped items, each operator, the
 * array-contains and existential semantics, RFC 3339 ordering, and the
 * parse errors a CDS answers with 400. */
#include <check.h>
#include <string.h>

#include "check_run.h"
#include "gateway/beckn/jsonpath.h"

static const char *const deg_expression =
    "$[?('p2p-interdiscom-trading-pilot-network' == @.beckn:networkId && "
    "@.beckn:itemAttributes.sourceType == 'SOLAR' && "
    "@.beckn:itemAttributes.deliveryMode == 'GRID_INJECTION' && "
    "@.beckn:itemAttributes.availableQuantity >= 10.0 )]";

/* A DEG item (§7.1) with the given source, quantity and network, and one
 * offer with the given price, as the CDS evaluates it. */
static json_t *item(const char *source, double kwh, const char *network, double price)
{
    json_t *it = json_pack(
        "{s:s, s:s, s:[s], s:b, s:{s:s, s:s, s:s, s:f, s:[{s:s, s:s}]}, "
        "s:[{s:s, s:{s:{s:f, s:s}, s:{s:s, s:s}}}]}",
        "@type", "beckn:Item", "beckn:id", "energy-resource-solar-001", "beckn:networkId", network,
        "beckn:isActive", 1, "beckn:itemAttributes", "sourceType", source, "deliveryMode",
        "GRID_INJECTION", "meterId", "der://meter/100200300", "availableQuantity", kwh,
        "productionWindow", "schema:startTime", "2026-01-09T10:00:00Z", "schema:endTime",
        "2026-01-09T18:00:00Z", "beckn:offers", "beckn:id", "offer-morning-001",
        "beckn:offerAttributes", "beckn:price", "value", price, "currency", "USD",
        "beckn:timeWindow", "schema:startTime", "2026-01-09T06:00:00Z", "schema:endTime",
        "2026-01-09T12:00:00Z");
    ck_assert_ptr_nonnull(it);
    return it;
}

static struct jsonpath_filter *parse_ok(const char *text)
{
    struct jsonpath_filter *f;
    char err[256] = "";
    int rc = jsonpath_parse(text, strlen(text), &f, err, sizeof err);
    ck_assert_msg(rc == 0, "%s: %s", text, err);
    return f;
}

static bool matches(const char *text, const json_t *node)
{
    struct jsonpath_filter *f = parse_ok(text);
    bool m = jsonpath_match(f, node);
    jsonpath_free(f);
    return m;
}

START_TEST(the_deg_discover_expression)
{
    const char *net = "p2p-interdiscom-trading-pilot-network";
    json_t *good = item("SOLAR", 30.5, net, 0.15);
    json_t *exactly_ten = item("SOLAR", 10.0, net, 0.15);
    json_t *too_little = item("SOLAR", 9.999, net, 0.15);
    json_t *wind = item("RENEWABLE", 30.5, net, 0.15);
    json_t *other_net = item("SOLAR", 30.5, "p2p-trading-pilot-network", 0.15);
    struct jsonpath_filter *f = parse_ok(deg_expression);
    ck_assert(jsonpath_match(f, good));
    ck_assert(jsonpath_match(f, exactly_ten));
    ck_assert(!jsonpath_match(f, too_little));
    ck_assert(!jsonpath_match(f, wind));
    ck_assert(!jsonpath_match(f, other_net));
    jsonpath_free(f);
    json_decref(good);
    json_decref(exactly_ten);
    json_decref(too_little);
    json_decref(wind);
    json_decref(other_net);
}
END_TEST

START_TEST(operators_and_operand_order)
{
    json_t *it = item("SOLAR", 20.0, "net-a", 0.15);
    ck_assert(matches("$[?(@.beckn:itemAttributes.availableQuantity > 19.5)]", it));
    ck_assert(!matches("$[?(@.beckn:itemAttributes.availableQuantity > 20)]", it));
    ck_assert(matches("$[?(@.beckn:itemAttributes.availableQuantity <= 20)]", it));
    ck_assert(!matches("$[?(@.beckn:itemAttributes.availableQuantity < 20)]", it));
    ck_assert(matches("$[?(20 == @.beckn:itemAttributes.availableQuantity)]", it));
    ck_assert(matches("$[?(21 > @.beckn:itemAttributes.availableQuantity)]", it));
    ck_assert(matches("$[?(@.beckn:itemAttributes.sourceType != 'WIND')]", it));
    ck_assert(!matches("$[?(@.beckn:itemAttributes.sourceType != 'SOLAR')]", it));
    ck_assert(matches("$[?(\"SOLAR\" == @.beckn:itemAttributes.sourceType)]", it));
    ck_assert(matches("$[?(@['beckn:itemAttributes']['sourceType'] == 'SOLAR')]", it));
    ck_assert(matches("$[?(@['@type'] == 'beckn:Item')]", it));
    ck_assert(matches("$[?(@.beckn:isActive == true)]", it));
    ck_assert(matches("$[?(@.beckn:isActive)]", it));
    ck_assert(!matches("$[?(@.beckn:nothing)]", it));
    ck_assert(!matches("$[?(!@.beckn:isActive)]", it));
    /* a string never equals a number; unordered types are never < or > */
    ck_assert(!matches("$[?(@.beckn:itemAttributes.sourceType == 5)]", it));
    ck_assert(!matches("$[?(@.beckn:itemAttributes.sourceType >= 'A')]", it));
    /* a missing path makes every comparison false, != included */
    ck_assert(!matches("$[?(@.beckn:missing != 'x')]", it));
    ck_assert(!matches("$[?(@.beckn:missing == null)]", it));
    json_decref(it);
}
END_TEST

START_TEST(boolean_structure)
{
    json_t *it = item("SOLAR", 20.0, "net-a", 0.15);
    ck_assert(matches("$[?(@.beckn:itemAttributes.sourceType == 'WIND' || "
                      "@.beckn:itemAttributes.sourceType == 'SOLAR')]", it));
    ck_assert(!matches("$[?(@.beckn:itemAttributes.sourceType == 'WIND' || "
                       "@.beckn:itemAttributes.sourceType == 'GRID')]", it));
    /* && binds tighter than || */
    ck_assert(matches("$[?('net-a' == @.beckn:networkId || 1 == 2 && 1 == 1)]", it));
    ck_assert(!matches("$[?(('net-a' == @.beckn:networkId || 1 == 2) && 1 == 3)]", it));
    ck_assert(matches("$[?(!(1 == 2) && !('x' == @.beckn:networkId))]", it));
    json_decref(it);
}
END_TEST

START_TEST(arrays_mean_contains_and_some)
{
    json_t *it = item("SOLAR", 20.0, "net-a", 0.15);
    json_array_append_new(json_object_get(it, "beckn:networkId"), json_string("net-b"));
    ck_assert(matches("$[?('net-b' == @.beckn:networkId)]", it));
    ck_assert(matches("$[?(@.beckn:networkId == 'net-a')]", it));
    ck_assert(!matches("$[?('net-c' == @.beckn:networkId)]", it));
    ck_assert(!matches("$[?('net-a' != @.beckn:networkId)]", it));
    ck_assert(matches("$[?('net-c' != @.beckn:networkId)]", it));
    /* through the offers array: some offer is cheap enough */
    ck_assert(matches("$[?(@.beckn:offers.beckn:offerAttributes.beckn:price.value <= 0.15)]", it));
    ck_assert(!matches("$[?(@.beckn:offers.beckn:offerAttributes.beckn:price.value < 0.15)]", it));
    ck_assert(matches("$[?(@.beckn:offers[*].beckn:id == 'offer-morning-001')]", it));
    ck_assert(matches("$[?(@.beckn:itemAttributes[*] == 'SOLAR')]", it));
    json_decref(it);
}
END_TEST

START_TEST(time_windows_compare_as_instants)
{
    json_t *it = item("SOLAR", 20.0, "net-a", 0.15);
    const char *pw = "@.beckn:itemAttributes.productionWindow";
    char expr[256];
    snprintf(expr, sizeof expr, "$[?(%s.schema:startTime <= '2026-01-09T10:00:00Z' && "
             "%s.schema:endTime >= '2026-01-09T17:00:00Z')]", pw, pw);
    ck_assert(matches(expr, it));
    snprintf(expr, sizeof expr, "$[?(%s.schema:startTime < '2026-01-09T10:00:00Z')]", pw);
    ck_assert(!matches(expr, it));
    /* the same instant written with an offset and fractions */
    snprintf(expr, sizeof expr, "$[?(%s.schema:startTime == '2026-01-09T15:30:00.000+05:30')]", pw);
    ck_assert(matches(expr, it)); /* == on strings that are both times compares instants */
    snprintf(expr, sizeof expr, "$[?(%s.schema:startTime >= '2026-01-09T15:30:00+05:30' && "
             "%s.schema:startTime <= '2026-01-09T15:30:00.000+05:30')]", pw, pw);
    ck_assert(matches(expr, it));
    snprintf(expr, sizeof expr, "$[?(%s.schema:endTime > '2026-01-09T13:00:00-05:00')]", pw);
    ck_assert(!matches(expr, it)); /* that is 18:00:00Z itself */
    snprintf(expr, sizeof expr, "$[?(%s.schema:endTime > '2026-01-09T12:59:59.5-05:00')]", pw);
    ck_assert(matches(expr, it));
    /* not a time: unordered */
    snprintf(expr, sizeof expr, "$[?(%s.schema:endTime > '2026-01-09')]", pw);
    ck_assert(!matches(expr, it));
    json_decref(it);
}
END_TEST

static void parse_fails(const char *text, const char *fragment)
{
    struct jsonpath_filter *f = NULL;
    char err[256] = "";
    ck_assert_msg(jsonpath_parse(text, strlen(text), &f, err, sizeof err) == -1, "accepted %s",
                  text);
    ck_assert_ptr_null(f);
    ck_assert_msg(strstr(err, fragment) != NULL, "%s: error '%s' lacks '%s'", text, err,
                  fragment);
    ck_assert_msg(strstr(err, "offset") != NULL, "error '%s' has no offset", err);
}

START_TEST(bad_filters_are_refused_with_a_reason)
{
    parse_fails("$[?(@.a == 'x')", "expected ']'");
    parse_fails("$[?(@.a = 'x')]", "expected ')'");
    parse_fails("[?(@.a == 'x')]", "expected '$'");
    parse_fails("$[?(@.a == 'x)]", "unterminated string");
    parse_fails("$[?(@.a == 1.2.3)]", "expected ')'");
    parse_fails("$[?(@.a == 1e)]", "exponent");
    parse_fails("$[?(@.a == )]", "expected a path");
    parse_fails("$[?(@.a == 'x' &&)]", "expected a path");
    parse_fails("$[?('x')]", "comparison operator");
    parse_fails("$[?(@. == 'x')]", "key after '.'");
    parse_fails("$[?(@[x] == 'x')]", "quoted key");
    parse_fails("$[?(@.a == 'x')] trailing", "unexpected text");
    parse_fails("$[?(@.a == 'x\\q')]", "unknown escape");
    char deep[256] = "$[?(";
    for (int i = 0; i < 40; i++)
        strcat(deep, "(");
    strcat(deep, "@.a");
    for (int i = 0; i < 40; i++)
        strcat(deep, ")");
    strcat(deep, ")]");
    parse_fails(deep, "nesting");
    char longpath[512] = "$[?(@";
    for (int i = 0; i < 20; i++)
        strcat(longpath, ".k");
    strcat(longpath, ")]");
    parse_fails(longpath, "path longer");

    struct jsonpath_filter *f = NULL;
    char err[128];
    ck_assert_int_eq(jsonpath_parse("", 0, &f, err, sizeof err), -1);
    ck_assert_ptr_null(f);
    /* length is honoured: the bytes after len are not read */
    const char *text = "$[?(@.a == 1)]garbage";
    ck_assert_int_eq(jsonpath_parse(text, 14, &f, err, sizeof err), 0);
    jsonpath_free(f);
}
END_TEST

START_TEST(term_limit)
{
    static char big[JSONPATH_MAX_TEXT + 64];
    strcpy(big, "$[?(1 == 1");
    while (strlen(big) < JSONPATH_MAX_TEXT - 20)
        strcat(big, " && 1 == 1");
    strcat(big, ")]");
    struct jsonpath_filter *f = NULL;
    char err[256];
    ck_assert_int_eq(jsonpath_parse(big, strlen(big), &f, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "more than") != NULL, "%s", err);
    memset(big, ' ', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    ck_assert_int_eq(jsonpath_parse(big, strlen(big), &f, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "longer than") != NULL, "%s", err);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("beckn_jsonpath");
    TCase *tc = tcase_create("jsonpath");
    tcase_add_test(tc, the_deg_discover_expression);
    tcase_add_test(tc, operators_and_operand_order);
    tcase_add_test(tc, boolean_structure);
    tcase_add_test(tc, arrays_mean_contains_and_some);
    tcase_add_test(tc, time_windows_compare_as_instants);
    tcase_add_test(tc, bad_filters_are_refused_with_a_reason);
    tcase_add_test(tc, term_limit);
    suite_add_tcase(s, tc);
    return check_run(s);
}
