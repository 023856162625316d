/* RFC 3339 UTC parsing and formatting (common/p2p_time.c). */
#include <check.h>

#include "check_run.h"
#include <stdlib.h>

#include "common/p2p_time.h"

START_TEST(parses_utc_times)
{
    int64_t ms;
    ck_assert_int_eq(p2p_time_parse("1970-01-01T00:00:00Z", &ms), 0);
    ck_assert_int_eq(ms, 0);
    ck_assert_int_eq(p2p_time_parse("2026-11-25T10:00:00Z", &ms), 0);
    ck_assert_int_eq(ms, 1795600800000LL);
    ck_assert_int_eq(p2p_time_parse("2024-02-29T23:59:59.1239Z", &ms), 0);
    ck_assert_int_eq(ms, 1709251199123LL);
}
END_TEST

START_TEST(rejects_non_utc_and_impossible_dates)
{
    int64_t ms;
    const char *bad[] = {"2026-11-25T10:00:00", "2026-11-25T10:00:00+05:30", "2026-11-25 10:00:00Z",
                         "2026-02-29T00:00:00Z", "2026-13-01T00:00:00Z", "2026-11-31T00:00:00Z",
                         "2026-11-25T24:00:00Z", "2026-11-25T10:00:00.Z", "2026-11-25T10:00:00Zx",
                         "", "x", "1969-12-31T23:59:59Z"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        ck_assert_msg(p2p_time_parse(bad[i], &ms) == -1, "accepted %s", bad[i]);
}
END_TEST

START_TEST(formats_round_trip)
{
    char buf[P2P_TIME_BUF];
    int64_t ms;
    p2p_time_format(1795600800000LL, false, buf);
    ck_assert_str_eq(buf, "2026-11-25T10:00:00Z");
    p2p_time_format(1709251199123LL, true, buf);
    ck_assert_str_eq(buf, "2024-02-29T23:59:59.123Z");
    for (int64_t t = 0; t < 4102444800000LL; t += 86399999LL * 37) {
        p2p_time_format(t, true, buf);
        ck_assert_int_eq(p2p_time_parse(buf, &ms), 0);
        ck_assert_int_eq(ms, t);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("time");
    TCase *tc = tcase_create("rfc3339");
    tcase_add_test(tc, parses_utc_times);
    tcase_add_test(tc, rejects_non_utc_and_impossible_dates);
    tcase_add_test(tc, formats_round_trip);
    suite_add_tcase(s, tc);
    return check_run(s);
}
