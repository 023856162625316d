/* A snapshot is only loaded under the rules it was taken with: replaying
 * the log after it under other fees or weights would decide differently
 * (engine_snapshot_load answers -2, and the engine refuses to start). */
#include <check.h>

#include "engine_fixtures.h"

START_TEST(other_rules_refuse_the_snapshot)
{
    set_capacity("s1", 500000);
    list_offer("o1", "s1", 5000, 600, W_START, W_END);
    struct membuf buf = {0};
    ck_assert_int_eq(engine_snapshot_save(&fx.e, membuf_write, &buf), 0);

    struct engine_params same = fx.e.p, other = fx.e.p;
    other.platform_fee_bp = 300;
    struct engine a, b;
    struct engine_capacity cap = fx_capacity();
    ck_assert_int_eq(engine_create(&a, &same, &cap), 0);
    ck_assert_int_eq(engine_create(&b, &other, &cap), 0);
    buf.pos = 0;
    ck_assert_int_eq(engine_snapshot_load(&a, membuf_read, &buf), 0);
    ck_assert_uint_eq(a.noffers, 1);
    buf.pos = 0;
    ck_assert_int_eq(engine_snapshot_load(&b, membuf_read, &buf), -2);
    ck_assert_uint_eq(b.noffers, 0);
    engine_destroy(&a);
    engine_destroy(&b);
    membuf_free(&buf);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("engine_snapshot_rules");
    TCase *tc = tcase_create("rules");
    tcase_add_checked_fixture(tc, fx_start, fx_stop);
    tcase_add_test(tc, other_rules_refuse_the_snapshot);
    suite_add_tcase(s, tc);
    return fx_run(s);
}
