/* The matching score (engine/core/score.c) against product.md §4 worked by
 * hand: price_score, trust and time_fit in ppm, the weighted sum truncated. */
#include <check.h>

#include "check_run.h"
#include "engine/core/score.h"

static struct engine_params params(void)
{
    struct engine_params p;
    engine_params_default(&p); /* weights 40 / 35 / 25 */
    return p;
}

START_TEST(equal_prices_score_one)
{
    struct engine_params p = params();
    struct score_parts s;
    /* all prices 650, trust 0.30, full overlap: 0.4 + 0.105 + 0.25 */
    ck_assert_int_eq(match_score(&p, 650, 650, 650, 3000, 3600000, 3600000, &s), 755000);
    ck_assert_int_eq(s.price_score, 1000000);
    ck_assert_int_eq(s.trust, 300000);
    ck_assert_int_eq(s.time_fit, 1000000);
}
END_TEST

START_TEST(price_range_and_partial_overlap)
{
    struct engine_params p = params();
    struct score_parts s;
    /* price 610 in 500..900: 0.3 + 0.7 * 290 / 400 = 0.8075; trust 0.40;
     * one hour of a two-hour window: 0.5 -> 0.323 + 0.14 + 0.125 */
    ck_assert_int_eq(match_score(&p, 610, 500, 900, 4000, 3600000, 7200000, &s), 588000);
    ck_assert_int_eq(s.price_score, 807500);
    ck_assert_int_eq(s.time_fit, 500000);
    /* the most expensive offer gets 0.3, the cheapest 1 */
    match_score(&p, 900, 500, 900, 0, 1000, 7200000, &s);
    ck_assert_int_eq(s.price_score, 300000);
    ck_assert_int_eq(s.time_fit, 138); /* 1 s of 2 h, truncated */
    match_score(&p, 500, 500, 900, 10000, 7200000, 7200000, &s);
    ck_assert_int_eq(s.score, 1000000);
}
END_TEST

START_TEST(truncates_like_integer_division)
{
    struct engine_params p = params();
    struct score_parts s;
    /* price 501 in 500..503: 0.3 + 0.7 * 2 / 3 = 0.76666..., truncated */
    match_score(&p, 501, 500, 503, 3333, 1000, 3000, &s);
    ck_assert_int_eq(s.price_score, 766666);
    ck_assert_int_eq(s.time_fit, 333333);
    ck_assert_int_eq(s.trust, 333300);
    /* (40 * 766666 + 35 * 333300 + 25 * 333333) / 100 = 506654.65 -> 506654 */
    ck_assert_int_eq(s.score, 506654);
}
END_TEST

START_TEST(weights_come_from_the_parameters)
{
    struct engine_params p = params();
    p.weight_price = 0;
    p.weight_trust = 100;
    p.weight_time = 0;
    struct score_parts s;
    ck_assert_int_eq(match_score(&p, 900, 500, 900, 4321, 1, 3600000, &s), 432100);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("score");
    TCase *t = tcase_create("score");
    tcase_add_test(t, equal_prices_score_one);
    tcase_add_test(t, price_range_and_partial_overlap);
    tcase_add_test(t, truncates_like_integer_division);
    tcase_add_test(t, weights_come_from_the_parameters);
    suite_add_tcase(s, t);
    return check_run(s);
}
