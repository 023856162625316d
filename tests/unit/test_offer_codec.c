/* The offer command/event wire format (engine/offer_codec.c): round trips,
 * and malformed commands reported with the field at fault. */
#include <check.h>

#include "check_run.h"
#include <stdlib.h>
#include <string.h>

#include "engine/offer_codec.h"

static struct offer_command sample(void)
{
    struct offer_command c;
    memset(&c, 0, sizeof c);
    strcpy(c.command_id, "cmd-1");
    strcpy(c.market, "default");
    c.issued_at_ms = 1764000000000LL;
    strcpy(c.terms.offer_id, "offer-1");
    strcpy(c.terms.seller_id, "alice");
    strcpy(c.terms.meter_id, "MTR-1");
    strcpy(c.terms.currency, "INR");
    c.terms.source = SOURCE_BATTERY;
    c.terms.quantity_wh = 2500;
    c.terms.price_per_kwh = 700;
    c.terms.min_order_wh = 1000;
    c.terms.delivery_start_ms = 1764021600000LL;
    c.terms.delivery_end_ms = 1764025200000LL;
    return c;
}

START_TEST(command_round_trips)
{
    struct offer_command in = sample(), out;
    struct p2p_violation v;
    char *json = offer_command_encode(&in);
    ck_assert_ptr_nonnull(json);
    ck_assert_int_eq(offer_command_decode(json, strlen(json), &out, &v), 0);
    ck_assert_mem_eq(&in.terms, &out.terms, sizeof in.terms);
    ck_assert_str_eq(out.command_id, "cmd-1");
    ck_assert_int_eq(out.issued_at_ms, in.issued_at_ms);
    free(json);
}
END_TEST

START_TEST(malformed_commands_name_the_field)
{
    struct offer_command out;
    struct p2p_violation v;
    const char *not_json = "{\"command_id\": ";
    ck_assert_int_eq(offer_command_decode(not_json, strlen(not_json), &out, &v), -1);
    ck_assert_str_eq(v.code, "malformed_command");
    const char *missing = "{\"command_id\":\"c\",\"offer_id\":\"o\",\"seller_id\":\"s\",\"issued_at_ms\":1,\"market\":\"m\"}";
    ck_assert_int_eq(offer_command_decode(missing, strlen(missing), &out, &v), -1);
    ck_assert_str_eq(v.code, "missing_field");
    ck_assert_str_eq(v.field, "source_type");
    ck_assert_str_eq(out.terms.offer_id, "o"); /* ids kept for the rejection event */
    const char *wrong = "{\"command_id\":\"c\",\"issued_at_ms\":\"soon\"}";
    ck_assert_int_eq(offer_command_decode(wrong, strlen(wrong), &out, &v), -1);
    ck_assert_str_eq(v.code, "wrong_type");
    ck_assert_str_eq(v.field, "issued_at_ms");
}
END_TEST

START_TEST(events_round_trip)
{
    struct offer_command c = sample();
    struct event_origin o;
    struct offer_event ev;
    struct p2p_violation v, reason;
    memset(&o, 0, sizeof o);
    strcpy(o.event_id, "p2p.offers/0/42/0");
    strcpy(o.command_id, "cmd-1");
    strcpy(o.market, "default");
    strcpy(o.topic, "p2p.offers");
    o.offset = 42;
    o.occurred_at_ms = c.issued_at_ms;
    char *json = offer_listed_encode(&o, &c.terms);
    ck_assert_int_eq(offer_event_decode(CE_OFFER_LISTED, json, strlen(json), &ev, &v), 0);
    ck_assert_int_eq(ev.kind, OFFER_EVENT_LISTED);
    ck_assert_mem_eq(&ev.terms, &c.terms, sizeof c.terms);
    ck_assert_int_eq(ev.remaining_wh, 2500);
    ck_assert_int_eq(ev.origin.offset, 42);
    free(json);
    p2p_violate(&reason, "gate_closed", "delivery_start", "too late");
    json = offer_rejected_encode(&o, "offer-1", "alice", &reason);
    ck_assert_int_eq(offer_event_decode(CE_OFFER_REJECTED, json, strlen(json), &ev, &v), 0);
    ck_assert_int_eq(ev.kind, OFFER_EVENT_REJECTED);
    ck_assert_str_eq(ev.reason.code, "gate_closed");
    ck_assert_str_eq(ev.terms.offer_id, "offer-1");
    free(json);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("offer_codec");
    TCase *tc = tcase_create("codec");
    tcase_add_test(tc, command_round_trips);
    tcase_add_test(tc, malformed_commands_name_the_field);
    tcase_add_test(tc, events_round_trip);
    suite_add_tcase(s, tc);
    return check_run(s);
}
