/* Trust (product.md §7, §8): tiers and trade limits, delivery outcomes, the
 * one-time meter bonus, clamping, cancellation penalties, and that a delivery
 * is accounted exactly once. Trust is in 1/10000: 0.05 = 500. */
#include "engine_fixtures.h"

static uint32_t pix(const char *id) { return engine_find_participant(&fx.e, id); }

static int64_t limit_of(const char *id) { return engine_trade_limit_wh(&fx.e, pix(id)); }

/* The last command moved `who` from old_score to new_score, in one event. */
static void trust_moved(const char *who, int32_t old_score, int32_t new_score)
{
    const struct event *t = NULL;
    for (int32_t i = 0; i < fx.sink.count; i++)
        if (fx.events[i].kind == EV_TRUST_CHANGED && fx.events[i].u.trust.participant == pix(who)) {
            ck_assert_msg(t == NULL, "two trust events for %s", who);
            t = &fx.events[i];
        }
    ck_assert_msg(t != NULL, "no trust event for %s", who);
    ck_assert_int_eq(t->u.trust.old_score, old_score);
    ck_assert_int_eq(t->u.trust.new_score, new_score);
    ck_assert_ptr_nonnull(t->u.trust.reason);
    ck_assert(strlen(t->u.trust.reason) > 0);
    ck_assert_int_eq(trust(who), new_score);
}

static void trust_unmoved(const char *who, int32_t score)
{
    for (int32_t i = 0; i < fx.sink.count; i++)
        if (fx.events[i].kind == EV_TRUST_CHANGED)
            ck_assert_msg(fx.events[i].u.trust.participant != pix(who) ||
                              fx.events[i].u.trust.old_score == fx.events[i].u.trust.new_score,
                          "trust of %s moved %d -> %d", who, fx.events[i].u.trust.old_score,
                          fx.events[i].u.trust.new_score);
    ck_assert_int_eq(trust(who), score);
}

static void report(const char *fill, int64_t delivered, int64_t curtailed)
{
    struct command c = cmd_report(fill, delivered, curtailed);
    fx_apply(&c);
    const struct event *r = fx_any_rejection();
    ck_assert_msg(r == NULL, "report %s refused: %s (%s)", fill, r ? r->u.rejected.reason.code : "",
                  r ? r->u.rejected.reason.message : "");
    ck_assert_ptr_nonnull(fx_event(EV_DELIVERY_SETTLED));
}

START_TEST(tiers_follow_the_table)
{
    static const struct {
        int32_t trust;
        int32_t percent;
        const char *tier;
    } rows[] = {
        {0, 10, "New"},        {2999, 10, "New"},     {3000, 10, "Starter"},
        {4999, 10, "Starter"}, {5000, 40, "Bronze"},  {6999, 40, "Bronze"},
        {7000, 60, "Silver"},  {8499, 60, "Silver"},  {8500, 80, "Gold"},
        {9499, 80, "Gold"},    {9500, 100, "Platinum"}, {10000, 100, "Platinum"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        ck_assert_msg(trust_tier_percent(rows[i].trust) == rows[i].percent, "trust %d: %d %%, want %d",
                      rows[i].trust, trust_tier_percent(rows[i].trust), rows[i].percent);
        ck_assert_msg(strcasecmp(trust_tier_name(rows[i].trust), rows[i].tier) == 0,
                      "trust %d: tier %s, want %s", rows[i].trust, trust_tier_name(rows[i].trust),
                      rows[i].tier);
    }
}
END_TEST

START_TEST(trade_limit_follows_tier_and_verified_production)
{
    set_capacity("alice", 500000);
    ck_assert_int_eq(limit_of("alice"), 50000); /* 10 % of 500 kWh */
    /* verified production wins over the declared capacity; LOW quality: no bonus */
    struct command c = cmd_meter("alice", 200000, METER_LOW);
    fx_apply(&c);
    trust_unmoved("alice", 3000);
    ck_assert_int_eq(participant("alice")->verified_wh, 200000);
    ck_assert_int_eq(limit_of("alice"), 20000);
    c = cmd_meter("alice", 200000, METER_HIGH);
    fx_apply(&c);
    trust_moved("alice", 3000, 4000);
    ck_assert_int_eq(limit_of("alice"), 20000); /* 0.40 is still Starter: 10 % */

    /* two full deliveries: 0.50, Bronze, 40 % of 200 kWh */
    list_offer("a1", "alice", 1000, 600, W_START, W_END);
    list_offer("a2", "alice", 1000, 600, W_START, W_END);
    deposit("bob", 10000);
    buy("o1", "bob", 2000);
    fx.now = W_END;
    report("o1/1", 1000, 0);
    trust_moved("alice", 4000, 4500);
    report("o1/2", 1000, 0);
    trust_moved("alice", 4500, 5000);
    ck_assert_str_eq(trust_tier_name(trust("alice")), trust_tier_name(5000));
    ck_assert_int_eq(limit_of("alice"), 80000);
    /* and the new limit applies to the next offer: 2 kWh sold this month + 78 kWh fit */
    c = cmd_offer("a3", "alice", 78001, 600, W_END + 4 * HOUR, W_END + 5 * HOUR);
    fx_apply(&c);
    EXPECT_REJECTED(EV_OFFER_REJECTED, "trade_limit_exceeded");
    list_offer("a4", "alice", 78000, 600, W_END + 4 * HOUR, W_END + 5 * HOUR);
}
END_TEST

/* Four sellers, 5 kWh each, one order; each line has a different outcome. */
START_TEST(delivery_outcomes_move_the_sellers_trust)
{
    list_offer("f", "full", 5000, 600, W_START, W_END);
    list_offer("p", "part", 5000, 600, W_START, W_END);
    list_offer("z", "zero", 5000, 600, W_START, W_END);
    list_offer("c", "curt", 5000, 600, W_START, W_END);
    deposit("bob", 100000);
    buy("o1", "bob", 20000);
    ck_assert_str_eq(offer_id_at(fill_of("o1", 1)->offer), "f");
    ck_assert_str_eq(offer_id_at(fill_of("o1", 2)->offer), "p");
    ck_assert_str_eq(offer_id_at(fill_of("o1", 3)->offer), "z");
    ck_assert_str_eq(offer_id_at(fill_of("o1", 4)->offer), "c");
    fx.now = W_END;

    report("o1/1", 5000, 0);
    trust_moved("full", 3000, 3500); /* +0.05 */
    trust_unmoved("bob", 3000);

    report("o1/2", 4000, 0);
    trust_moved("part", 3000, 2800); /* −0.10 × (1 − 4/5) = −0.02 */
    const struct event *d = fx_event(EV_DELIVERY_SETTLED);
    ck_assert_int_eq(d->u.delivery.seller_paid, 2400);
    ck_assert_int_eq(d->u.delivery.platform_fee, 60);
    ck_assert_int_eq(d->u.delivery.buyer_refund, 615);

    report("o1/3", 0, 0);
    trust_moved("zero", 3000, 2000); /* −0.10 */

    report("o1/4", 0, 5000); /* fully curtailed: no penalty */
    trust_unmoved("curt", 3000);
    ck_assert_int_eq(fx_count(EV_TRUST_CHANGED), 0);
    ck_assert_ptr_nonnull(fx_event(EV_ORDER_SETTLED));
}
END_TEST

START_TEST(partial_delivery_penalty_is_proportional_and_rounded)
{
    list_offer("a", "s1", 3000, 600, W_START, W_END);
    list_offer("b", "s2", 5000, 600, W_START, W_END);
    list_offer("c", "s3", 5000, 600, W_START, W_END);
    list_offer("d", "s4", 5000, 600, W_START, W_END);
    deposit("bob", 100000);
    buy("o1", "bob", 18000);
    fx.now = W_END;

    report("o1/1", 1000, 0);
    trust_moved("s1", 3000, 2333); /* 0.10 × 2/3 = 0.0667 */

    report("o1/2", 4000, 1000); /* 1 kWh curtailed: 4 of 4 expected is a full delivery */
    trust_moved("s2", 3000, 3500);
    ck_assert_int_eq(fx_event(EV_DELIVERY_SETTLED)->u.delivery.seller_paid, 2400);
    ck_assert_int_eq(fx_event(EV_DELIVERY_SETTLED)->u.delivery.curtailed_wh, 1000);

    report("o1/3", 6000, 0); /* more than sold is capped at what was sold */
    trust_moved("s3", 3000, 3500);
    ck_assert_int_eq(fx_event(EV_DELIVERY_SETTLED)->u.delivery.seller_paid, 3000);
    ck_assert_int_eq(fx_event(EV_DELIVERY_SETTLED)->u.delivery.buyer_refund, 0);

    report("o1/4", 2000, 2000); /* 2 of 3 expected: 0.10 × 1/3 = 0.0333 */
    trust_moved("s4", 3000, 2667);
    ck_assert_int_eq(fx_event(EV_DELIVERY_SETTLED)->u.delivery.seller_paid, 1200);
}
END_TEST

START_TEST(delivery_is_reported_only_after_the_window)
{
    /* the fill ends at min(offer end, order end) */
    list_offer("long", "sam", 5000, 600, W_START, W_START + 2 * HOUR);
    list_offer("short", "tim", 5000, 600, W_START, W_START + HOUR);
    deposit("bob", 100000);
    buy("o1", "bob", 5000); /* [6 h, 7 h) from "long": ends at 7 h */
    ck_assert_str_eq(offer_id_at(fill_of("o1", 1)->offer), "long");
    struct command c = cmd_order(CMD_ORDER_BUY, "o2", "bob", 5000);
    c.u.order.window_end_ms = W_START + 2 * HOUR; /* [6 h, 8 h) from "short": ends at 7 h */
    fx_apply(&c);
    ck_assert_ptr_nonnull(fx_event(EV_ORDER_CONFIRMED));
    ck_assert_str_eq(offer_id_at(fill_of("o2", 1)->offer), "short");

    fx.now = W_END - 1;
    c = cmd_report("o1/1", 5000, 0);
    fx_apply(&c);
    ck_assert_ptr_nonnull(fx_event(EV_COMMAND_REJECTED));
    ck_assert_ptr_null(fx_event(EV_DELIVERY_SETTLED));
    trust_unmoved("sam", 3000);
    ck_assert_int_eq(wallet("sam"), 0);

    fx.now = W_END;
    report("o1/1", 5000, 0);
    trust_moved("sam", 3000, 3500);
    report("o2/1", 5000, 0);
    trust_moved("tim", 3000, 3500);
}
END_TEST

START_TEST(a_second_report_changes_nothing)
{
    list_offer("a", "sam", 5000, 600, W_START, W_END);
    deposit("bob", 100000);
    buy("o1", "bob", 5000);
    fx.now = W_END;
    report("o1/1", 4000, 0);
    trust_moved("sam", 3000, 2800);

    static struct participant parts[64];
    static struct order_entry orders[8];
    static struct fill_entry fills[8];
    static struct offer_entry offers[8];
    uint32_t np = fx.e.nparticipants;
    memcpy(parts, fx.e.participants, np * sizeof parts[0]);
    memcpy(orders, fx.e.orders, fx.e.norders * sizeof orders[0]);
    memcpy(fills, fx.e.fills, fx.e.nfills * sizeof fills[0]);
    memcpy(offers, fx.e.offers, fx.e.noffers * sizeof offers[0]);
    int64_t plat = fx.e.platform_balance;

    for (int i = 0; i < 3; i++) {
        /* the same report, a "full" one, and a failed one: all refused */
        static const int64_t delivered[] = {4000, 5000, 0};
        struct command c = cmd_report("o1/1", delivered[i], 0);
        fx_apply(&c);
        EXPECT_REJECTED(EV_COMMAND_REJECTED, "duplicate_report");
        ck_assert_int_eq(fx_count(EV_TRUST_CHANGED), 0);
        ck_assert_int_eq(fx_count(EV_JOURNAL_ENTRY), 0);
        ck_assert_int_eq(fx_count(EV_DELIVERY_SETTLED), 0);
        ck_assert_int_eq(fx_count(EV_ORDER_SETTLED), 0);
        ck_assert_uint_eq(fx.e.nparticipants, np);
        ck_assert(memcmp(parts, fx.e.participants, np * sizeof parts[0]) == 0);
        ck_assert(memcmp(orders, fx.e.orders, fx.e.norders * sizeof orders[0]) == 0);
        ck_assert(memcmp(fills, fx.e.fills, fx.e.nfills * sizeof fills[0]) == 0);
        ck_assert(memcmp(offers, fx.e.offers, fx.e.noffers * sizeof offers[0]) == 0);
        ck_assert_int_eq(fx.e.platform_balance, plat);
    }
    ck_assert_int_eq(trust("sam"), 2800);
}
END_TEST

START_TEST(meter_bonus_is_given_once)
{
    struct command c = cmd_meter("a", 100000, METER_HIGH);
    fx_apply(&c);
    trust_moved("a", 3000, 4000); /* +0.10 × 1.0 */
    fx_apply(&c);
    trust_unmoved("a", 4000);

    c = cmd_meter("b", 100000, METER_MEDIUM);
    fx_apply(&c);
    trust_moved("b", 3000, 3600); /* +0.10 × 0.6 */
    c = cmd_meter("b", 100000, METER_HIGH);
    fx_apply(&c);
    trust_unmoved("b", 3600);

    /* a LOW upload earns nothing and does not use up the bonus */
    c = cmd_meter("c", 100000, METER_LOW);
    fx_apply(&c);
    trust_unmoved("c", 3000);
    c = cmd_meter("c", 123000, METER_MEDIUM);
    fx_apply(&c);
    trust_moved("c", 3000, 3600);
    ck_assert_int_eq(participant("c")->verified_wh, 123000);
    c = cmd_meter("c", 100000, METER_HIGH);
    fx_apply(&c);
    trust_unmoved("c", 3600);
    ck_assert_int_eq(participant("c")->verified_wh, 100000); /* the figure still updates */
}
END_TEST

START_TEST(trust_is_clamped_to_zero_and_one)
{
    char id[16];
    struct command c = cmd_meter("x", 10000000, METER_HIGH); /* 0.40; limit 1 MWh */
    fx_apply(&c);
    for (int i = 1; i <= 13; i++) {
        snprintf(id, sizeof id, "x%02d", i);
        list_offer(id, "x", 1000, 600, W_START, W_END);
    }
    deposit("bob", 1000000);
    buy("ox", "bob", 13000);
    ck_assert_int_eq(order("ox")->nfills, 13);
    for (int i = 1; i <= 4; i++) {
        snprintf(id, sizeof id, "y%02d", i);
        list_offer(id, "y", 1000, 600, W_START, W_END);
    }
    buy("oy", "bob", 4000);
    ck_assert_int_eq(order("oy")->nfills, 4);

    fx.now = W_END;
    for (int i = 1; i <= 12; i++)
        report(fill_id("ox", i), 1000, 0);
    ck_assert_int_eq(trust("x"), 10000); /* 0.40 + 12 × 0.05 = 1.00 */
    report(fill_id("ox", 13), 1000, 0);
    ck_assert_int_eq(trust("x"), 10000);
    if (fx_event(EV_TRUST_CHANGED))
        ck_assert_int_eq(fx_event(EV_TRUST_CHANGED)->u.trust.new_score, 10000);

    report(fill_id("oy", 1), 0, 0);
    trust_moved("y", 3000, 2000);
    report(fill_id("oy", 2), 0, 0);
    trust_moved("y", 2000, 1000);
    report(fill_id("oy", 3), 0, 0);
    trust_moved("y", 1000, 0);
    report(fill_id("oy", 4), 0, 0);
    ck_assert_int_eq(trust("y"), 0);
    if (fx_event(EV_TRUST_CHANGED))
        ck_assert_int_eq(fx_event(EV_TRUST_CHANGED)->u.trust.new_score, 0);
}
END_TEST

START_TEST(cancellations_cost_trust_inside_the_window)
{
    list_offer("a", "sam", 10000, 600, W_START, W_END);
    deposit("bob", 100000);
    deposit("sam", 100000);

    /* reserved, not confirmed: free */
    reserve("r1", "bob", 1000);
    struct command c = cmd_target(CMD_ORDER_CANCEL, "r1", "bob");
    fx_apply(&c);
    ck_assert_ptr_nonnull(fx_event(EV_ORDER_CANCELLED));
    trust_unmoved("bob", 3000);

    /* confirmed, the buyer cancels: −0.05 for the buyer only */
    buy("o1", "bob", 1000);
    c = cmd_target(CMD_ORDER_CANCEL, "o1", "bob");
    fx_apply(&c);
    ck_assert_ptr_nonnull(fx_event(EV_ORDER_CANCELLED));
    trust_moved("bob", 3000, 2500);
    trust_unmoved("sam", 3000);

    /* the seller cancels a sale: −0.05 for the seller only */
    buy("o2", "bob", 1000);
    c = cmd_target(CMD_SALE_CANCEL, "o2/1", "sam");
    fx_apply(&c);
    ck_assert_ptr_nonnull(fx_event(EV_FILL_CANCELLED));
    trust_moved("sam", 3000, 2500);
    trust_unmoved("bob", 2500);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("engine_trust");
    TCase *tc = tcase_create("trust");
    tcase_add_checked_fixture(tc, fx_start, fx_stop);
    tcase_add_test(tc, tiers_follow_the_table);
    tcase_add_test(tc, trade_limit_follows_tier_and_verified_production);
    tcase_add_test(tc, delivery_outcomes_move_the_sellers_trust);
    tcase_add_test(tc, partial_delivery_penalty_is_proportional_and_rounded);
    tcase_add_test(tc, delivery_is_reported_only_after_the_window);
    tcase_add_test(tc, a_second_report_changes_nothing);
    tcase_add_test(tc, meter_bonus_is_given_once);
    tcase_add_test(tc, trust_is_clamped_to_zero_and_one);
    tcase_add_test(tc, cancellations_cost_trust_inside_the_window);
    suite_add_tcase(s, tc);
    return fx_run(s);
}
