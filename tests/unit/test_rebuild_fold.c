/* The rebuild's in-memory pieces without a database: the hash map
 * (projections/fold_map.c), COPY text encoding (projections/copy_writer.c)
 * and the offers fold's energy bookkeeping across topics
 * (projections/fold_offers.c, fold_orders.c). The equality of whole rebuilt
 * tables with the live projection is tested against PostgreSQL by
 * test_rebuild and test_api_read_rebuild. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "check_run.h"
#include "projections/copy_writer.h"
#include "projections/fold.h"

START_TEST(map_keeps_every_key_through_growth)
{
    struct fold_arena arena = {0};
    struct fold_map map = {0};
    bool oom = false;
    for (int i = 0; i < 20000; i++) {
        char key[32];
        snprintf(key, sizeof key, "order-%d", i);
        ck_assert_int_eq(fold_map_put(&map, fold_arena_strdup(&arena, key, &oom), (void *)(intptr_t)(i + 1)), 0);
    }
    ck_assert(!oom);
    ck_assert_uint_eq(map.count, 20000);
    for (int i = 0; i < 20000; i++) {
        char key[32];
        snprintf(key, sizeof key, "order-%d", i);
        ck_assert_int_eq((int)(intptr_t)fold_map_get(&map, key), i + 1);
    }
    ck_assert_ptr_null(fold_map_get(&map, "order-20000"));
    fold_map_free(&map);
    fold_arena_free(&arena);
}
END_TEST

START_TEST(copy_text_escapes_and_renders_members_like_postgres)
{
    struct copy_buf b = {0};
    json_t *v = json_loads("{\"s\":\"a\\tb\\\\c\\nd\",\"n\":-42,\"z\":null,\"t\":true}", 0, NULL);
    ck_assert_ptr_nonnull(v);
    copy_member(&b, v, "s");
    copy_member(&b, v, "n");
    copy_member(&b, v, "z");
    copy_member(&b, v, "missing");
    copy_member(&b, v, "t");
    copy_nint(&b, (struct nint){7, true});
    copy_end_row(&b);
    ck_assert_str_eq(b.data, "a\\tb\\\\c\\nd\t-42\t\\N\t\\N\ttrue\t7\n");
    ck_assert(!b.oom);
    json_decref(v);
    copy_free(&b);
}
END_TEST

static int fold_json(struct fold *f, const char *type, const char *json)
{
    json_t *v = json_loads(json, 0, NULL);
    ck_assert_ptr_nonnull(v);
    struct projected_event e = {.type = type, .json = json, .value = v, .event_id = "x/0/1/0",
                                .command_id = "", .topic = "t", .partition = 0, .offset = 1};
    int rc = fold_event(f, &e);
    json_decref(v);
    return rc;
}

START_TEST(offer_energy_adds_up_whatever_came_first)
{
    struct fold f;
    fold_init(&f, 900000);
    /* the reservation is folded before the listing it takes from */
    ck_assert_int_eq(fold_json(&f, "order.reserved.v1",
                               "{\"order_id\":\"o1\",\"event_id\":\"e1\",\"lines\":[{\"line\":0,\"fill_id\":\"o1/0\","
                               "\"offer_id\":\"of1\",\"quantity_wh\":300}]}"),
                     0);
    ck_assert_int_eq(fold_json(&f, "offer.listed.v1",
                               "{\"market\":\"m\",\"event_id\":\"e0\",\"offer\":{\"offer_id\":\"of1\","
                               "\"quantity_wh\":1000,\"source_type\":\"SOLAR\"}}"),
                     0);
    ck_assert_int_eq(fold_json(&f, "order.expired.v1", "{\"order_id\":\"o1\",\"event_id\":\"e2\",\"refund\":0,"
                                                       "\"cancel_fee\":0}"),
                     0);
    ck_assert_int_eq(fold_json(&f, "offer.withdrawn.v1", "{\"offer_id\":\"of1\",\"wh\":1000}"), 0);
    struct fold_offer *o = fold_map_get(&f.offers, "of1");
    ck_assert_ptr_nonnull(o);
    ck_assert(o->row != NULL && o->has_energy);
    ck_assert_int_eq(o->taken_wh, 1000); /* +300 reserved, -300 released, +1000 closed */
    ck_assert_str_eq(o->closed_status, "WITHDRAWN");
    ck_assert_uint_eq(f.history_rows.rows, 2);
    fold_free(&f);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("rebuild_fold");
    TCase *tc = tcase_create("fold");
    tcase_add_test(tc, map_keeps_every_key_through_growth);
    tcase_add_test(tc, copy_text_escapes_and_renders_members_like_postgres);
    tcase_add_test(tc, offer_energy_adds_up_whatever_came_first);
    suite_add_tcase(s, tc);
    return check_run(s);
}
