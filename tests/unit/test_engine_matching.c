/* Matching (product.md §4): eligibility, the score (price 40 %, trust 35 %,
 * time fit 25 %), deterministic ties, at most 15 offers per order, partial
 * fills and shortfalls, and that no Wh is ever sold twice.
 *
 * Scores are in millionths: (40·price_score + 35·trust·100 + 25·time_fit) / 100,
 * price_score = 1e6 when all candidate prices are equal, else
 * 300000 + 700000·(max − price)/(max − min); time_fit = min(1e6, overlap·1e6/|W|). */
#include "engine_fixtures.h"

static void quote_ok(struct command *c)
{
    fx_apply(c);
    const struct event *r = fx_any_rejection();
    ck_assert_msg(r == NULL, "quote %s refused: %s (%s)", c->u.order.order_id,
                  r ? r->u.rejected.reason.code : "", r ? r->u.rejected.reason.message : "");
    ck_assert_msg(fx_event(EV_ORDER_QUOTED) != NULL, "quote %s: no quote", c->u.order.order_id);
}

static void quote_wh(const char *id, const char *buyer, int64_t wh)
{
    struct command c = cmd_order(CMD_ORDER_QUOTE, id, buyer, wh);
    quote_ok(&c);
}

/* Asserts quote line i: which offer, how much, which score. */
static void line_is(int i, const char *offer_id, int64_t wh, int32_t score)
{
    ck_assert_int_gt(fx.sink.nquote_lines, i);
    const struct quote_line *l = &fx.sink.quote_lines[i];
    ck_assert_msg(strcmp(offer_id_at(l->offer), offer_id) == 0, "line %d is offer %s, want %s", i,
                  offer_id_at(l->offer), offer_id);
    ck_assert_int_eq(l->quantity_wh, wh);
    if (score >= 0)
        ck_assert_int_eq(l->score_ppm, score);
}

static void expect_shortfall(int64_t wh)
{
    EXPECT_REJECTED(EV_ORDER_REJECTED, "insufficient_supply");
    ck_assert_int_eq(fx_event(EV_ORDER_REJECTED)->u.rejected.shortfall_wh, wh);
    ck_assert_ptr_null(fx_event(EV_ORDER_QUOTED));
    ck_assert_ptr_null(fx_event(EV_ORDER_RESERVED));
    ck_assert_ptr_null(fx_event(EV_ORDER_CONFIRMED));
}

START_TEST(ranking_uses_the_sellers_current_trust)
{
    list_offer("lo", "sam", 5000, 650, W_START, W_END); /* listed first */
    list_offer("hi", "tom", 5000, 650, W_START, W_END);
    /* equal trust, equal price, equal fit: the earlier listing wins the tie */
    quote_wh("q1", "bob", 1000);
    ck_assert_int_eq(fx.sink.nquote_lines, 1);
    line_is(0, "lo", 1000, 755000); /* (40e6 + 35·300000 + 25e6) / 100 */

    /* tom's meter bonus lifts him to 0.40: now he ranks first */
    struct command c = cmd_meter("tom", 100000, METER_HIGH);
    fx_apply(&c);
    ck_assert_int_eq(trust("tom"), 4000);
    quote_wh("q2", "bob", 1000);
    ck_assert_int_eq(fx.sink.nquote_lines, 1);
    line_is(0, "hi", 1000, 790000); /* (40e6 + 35·400000 + 25e6) / 100 */

    quote_wh("q3", "bob", 6000);
    ck_assert_int_eq(fx.sink.nquote_lines, 2);
    line_is(0, "hi", 5000, 790000);
    line_is(1, "lo", 1000, 755000);
    const struct event *q = fx_event(EV_ORDER_QUOTED);
    ck_assert_int_eq(q->u.order.nlines, 2);
    ck_assert_int_eq(q->u.order.filled_wh, 6000);
    ck_assert_int_eq(q->u.order.amount, 3250 + 650);
    ck_assert_int_eq(q->u.order.fee, 81 + 16); /* 81.25 -> 81, 16.25 -> 16 */
    ck_assert_int_eq(fx.sink.quote_lines[0].amount, 3250);
    ck_assert_int_eq(fx.sink.quote_lines[0].fee, 81);
    ck_assert_int_eq(fx.sink.quote_lines[1].amount, 650);
    ck_assert_int_eq(fx.sink.quote_lines[1].fee, 16);
}
END_TEST

START_TEST(price_score_is_normalised_over_the_candidates)
{
    list_offer("p800", "s1", 5000, 800, W_START, W_END);
    list_offer("p600", "s2", 5000, 600, W_START, W_END);
    list_offer("p500", "s3", 5000, 500, W_START, W_END);
    quote_wh("q1", "bob", 15000);
    ck_assert_int_eq(fx.sink.nquote_lines, 3);
    line_is(0, "p500", 5000, 755000); /* price_score 1e6 */
    line_is(1, "p600", 5000, 661666); /* 300000 + 700000·200/300 = 766666 */
    line_is(2, "p800", 5000, 475000); /* 300000 */
    const struct event *q = fx_event(EV_ORDER_QUOTED);
    ck_assert_int_eq(q->u.order.amount, 2500 + 3000 + 4000);
    ck_assert_int_eq(q->u.order.fee, 63 + 75 + 100); /* 62.5 rounds half-up to 63 */

    /* with a maximum price of 600 the candidates are 500 and 600 only */
    struct command c = cmd_order(CMD_ORDER_QUOTE, "q2", "bob", 10000);
    c.u.order.max_price_per_kwh = 600;
    quote_ok(&c);
    ck_assert_int_eq(fx.sink.nquote_lines, 2);
    line_is(0, "p500", 5000, 755000);
    line_is(1, "p600", 5000, 475000);

    c = cmd_order(CMD_ORDER_QUOTE, "q3", "bob", 1000);
    c.u.order.max_price_per_kwh = 499;
    fx_apply(&c);
    expect_shortfall(1000);

    /* a single candidate has price_score 1 */
    c = cmd_order(CMD_ORDER_QUOTE, "q4", "bob", 1000);
    c.u.order.max_price_per_kwh = 500;
    quote_ok(&c);
    line_is(0, "p500", 1000, 755000);
}
END_TEST

START_TEST(time_fit_prefers_offers_covering_the_window)
{
    const int64_t w_end2 = W_START + 2 * HOUR; /* W = [6 h, 8 h) */
    list_offer("short", "s1", 5000, 650, W_START, W_START + HOUR);    /* covers half */
    list_offer("full", "s2", 5000, 650, W_START, w_end2);            /* covers all */
    list_offer("wide", "s3", 5000, 650, W_START - HOUR, w_end2 + HOUR); /* more than all */
    list_offer("after", "s4", 5000, 650, w_end2, w_end2 + HOUR);     /* touches, no overlap */
    struct command c = cmd_order(CMD_ORDER_QUOTE, "q1", "bob", 15000);
    c.u.order.window_end_ms = w_end2;
    quote_ok(&c);
    ck_assert_int_eq(fx.sink.nquote_lines, 3);
    line_is(0, "full", 5000, 755000);
    line_is(1, "wide", 5000, 755000); /* time_fit capped at 1 */
    line_is(2, "short", 5000, 630000); /* (40e6 + 10.5e6 + 25·500000) / 100 */

    /* [8 h, 9 h) does not overlap [6 h, 8 h): 15 kWh is all there is */
    c = cmd_order(CMD_ORDER_QUOTE, "q2", "bob", 15001);
    c.u.order.window_end_ms = w_end2;
    fx_apply(&c);
    expect_shortfall(1);
}
END_TEST

START_TEST(ties_break_by_listing_order_not_by_id_or_slot)
{
    /* listed first, but its id sorts last and its slot is the later one */
    list_offer("z-late", "zed", 1000, 650, W_START + HOUR, W_START + 2 * HOUR);
    list_offer("a-early", "amy", 1000, 650, W_START, W_START + HOUR);
    list_offer("b-early", "bea", 1000, 650, W_START, W_START + HOUR);
    struct command c = cmd_order(CMD_ORDER_QUOTE, "q1", "bob", 3000);
    c.u.order.window_end_ms = W_START + 2 * HOUR;
    quote_ok(&c);
    ck_assert_int_eq(fx.sink.nquote_lines, 3);
    line_is(0, "z-late", 1000, 630000);
    line_is(1, "a-early", 1000, 630000);
    line_is(2, "b-early", 1000, 630000);
    /* the same order on a reservation: the lines become fills 1..3 in that order */
    c.kind = CMD_ORDER_RESERVE;
    fx_apply(&c);
    ck_assert_ptr_nonnull(fx_event(EV_ORDER_RESERVED));
    ck_assert_str_eq(offer_id_at(fill_of("q1", 1)->offer), "z-late");
    ck_assert_str_eq(offer_id_at(fill_of("q1", 2)->offer), "a-early");
    ck_assert_str_eq(offer_id_at(fill_of("q1", 3)->offer), "b-early");
    ck_assert_int_eq(fill_of("q1", 1)->score_ppm, 630000);
}
END_TEST

START_TEST(at_most_fifteen_offers_per_order)
{
    char id[16], seller[16];
    list_offer("o00", "s00", 1000, 700, W_START, W_END); /* the dearest, listed first */
    for (int i = 1; i < 16; i++) {
        snprintf(id, sizeof id, "o%02d", i);
        snprintf(seller, sizeof seller, "s%02d", i);
        list_offer(id, seller, 1000, 600, W_START, W_END);
    }
    /* 16 kWh exist, but only the 15 best offers may serve one order */
    struct command c = cmd_order(CMD_ORDER_QUOTE, "q1", "bob", 16000);
    fx_apply(&c);
    expect_shortfall(1000);

    c.u.order.allow_partial = true;
    quote_ok(&c);
    const struct event *q = fx_event(EV_ORDER_QUOTED);
    ck_assert_int_eq(q->u.order.filled_wh, 15000);
    ck_assert_int_eq(q->u.order.nlines, 15);
    ck_assert_int_eq(fx.sink.nquote_lines, 15);
    for (int i = 0; i < 15; i++) {
        snprintf(id, sizeof id, "o%02d", i + 1);
        line_is(i, id, 1000, 755000);
    }

    /* a 15 kWh order is met exactly, and the 700-priced offer is still left over */
    c = cmd_order(CMD_ORDER_RESERVE, "r1", "bob", 15000);
    fx_apply(&c);
    ck_assert_int_eq(fx_event(EV_ORDER_RESERVED)->u.order.nlines, 15);
    ck_assert_int_eq(order("r1")->nfills, 15);
    ck_assert_int_eq(open_wh("o00"), 1000);
}
END_TEST

START_TEST(partial_fill_only_when_allowed)
{
    list_offer("small", "sam", 3000, 650, W_START, W_END);
    struct command c = cmd_order(CMD_ORDER_QUOTE, "q1", "bob", 5000);
    fx_apply(&c);
    expect_shortfall(2000);

    c = cmd_order(CMD_ORDER_RESERVE, "r1", "bob", 5000);
    fx_apply(&c);
    expect_shortfall(2000);
    ck_assert_int_eq(open_wh("small"), 3000);
    ck_assert_int_eq(offer("small")->reserved_wh, 0);

    c = cmd_order(CMD_ORDER_RESERVE, "r2", "bob", 5000);
    c.u.order.allow_partial = true;
    fx_apply(&c);
    const struct event *r = fx_event(EV_ORDER_RESERVED);
    ck_assert_ptr_nonnull(r);
    ck_assert_int_eq(r->u.order.filled_wh, 3000);
    ck_assert_int_eq(r->u.order.nlines, 1);
    ck_assert_int_eq(offer("small")->reserved_wh, 3000);
    ck_assert_int_eq(open_wh("small"), 0);

    /* partial allowed, but nothing at all to fill: still a rejection */
    deposit("cat", 100000);
    c = cmd_order(CMD_ORDER_BUY, "b1", "cat", 1);
    c.u.order.allow_partial = true;
    fx_apply(&c);
    expect_shortfall(1);
    ck_assert_int_eq(wallet("cat"), 100000);
}
END_TEST

START_TEST(a_seller_never_buys_from_itself)
{
    list_offer("a1", "alice", 5000, 600, W_START, W_END);
    struct command c = cmd_order(CMD_ORDER_QUOTE, "q1", "alice", 1000);
    fx_apply(&c);
    expect_shortfall(1000);
    list_offer("b1", "bob", 5000, 700, W_START, W_END);
    c = cmd_order(CMD_ORDER_QUOTE, "q2", "alice", 6000);
    c.u.order.allow_partial = true;
    quote_ok(&c);
    ck_assert_int_eq(fx.sink.nquote_lines, 1);
    line_is(0, "b1", 5000, -1);
    ck_assert_int_eq(fx_event(EV_ORDER_QUOTED)->u.order.filled_wh, 5000);
}
END_TEST

/* carol buys 1 kWh from dave and cancels it: −0.05 trust each time */
static void cancel_once(const char *order_id)
{
    buy(order_id, "carol", 1000);
    struct command c = cmd_target(CMD_ORDER_CANCEL, order_id, "carol");
    fx_apply(&c);
    ck_assert_ptr_nonnull(fx_event(EV_ORDER_CANCELLED));
}

START_TEST(sellers_below_minimum_trust_are_not_matched)
{
    struct command c = cmd_offer("d-batt", "dave", 10000, 100, W_START, W_END);
    c.u.offer.source = SOURCE_BATTERY;
    fx_apply(&c);
    ck_assert_ptr_nonnull(fx_event(EV_OFFER_LISTED));
    deposit("carol", 100000);
    cancel_once("c1");
    cancel_once("c2");
    ck_assert_int_eq(trust("carol"), 2000);
    list_offer("c-solar", "carol", 5000, 650, W_START, W_END);

    /* exactly at the threshold 0.20: eligible, score (40e6 + 35·200000 + 25e6)/100 */
    c = cmd_order(CMD_ORDER_QUOTE, "q1", "erin", 1000);
    c.u.order.has_source = true;
    c.u.order.source = SOURCE_SOLAR;
    quote_ok(&c);
    ck_assert_int_eq(fx.sink.nquote_lines, 1);
    line_is(0, "c-solar", 1000, 720000);

    cancel_once("c3");
    ck_assert_int_eq(trust("carol"), 1500);
    c = cmd_order(CMD_ORDER_QUOTE, "q2", "erin", 1000);
    c.u.order.has_source = true;
    c.u.order.source = SOURCE_SOLAR;
    fx_apply(&c);
    expect_shortfall(1000);

    /* the source filter picks the battery offer */
    c.u.order.source = SOURCE_BATTERY;
    snprintf(c.u.order.order_id, sizeof c.u.order.order_id, "q3");
    quote_ok(&c);
    line_is(0, "d-batt", 1000, -1);
    /* without a filter, carol's offer is still not a candidate */
    c = cmd_order(CMD_ORDER_QUOTE, "q4", "erin", 15000);
    c.u.order.allow_partial = true;
    quote_ok(&c);
    ck_assert_int_eq(fx.sink.nquote_lines, 1);
    line_is(0, "d-batt", 10000, -1);
}
END_TEST

START_TEST(an_offers_minimum_order_is_respected)
{
    struct command c = cmd_offer("m", "sam", 5000, 650, W_START, W_END);
    c.u.offer.min_order_wh = 2000;
    fx_apply(&c);
    ck_assert_ptr_nonnull(fx_event(EV_OFFER_LISTED));
    c = cmd_order(CMD_ORDER_QUOTE, "q1", "bob", 1000);
    fx_apply(&c);
    expect_shortfall(1000);
    /* the refusal says why: the energy is there, but not in so small a piece */
    const struct event *r = fx_event(EV_ORDER_REJECTED);
    ck_assert_str_eq(r->u.rejected.reason.message,
                     "the offers in this window sell at least 2000 Wh per order; ask for that much"
                     " or another window");
    quote_wh("q2", "bob", 2000);
    line_is(0, "m", 2000, -1);
    quote_wh("q3", "bob", 5000);
    line_is(0, "m", 5000, -1);
}
END_TEST

/* product.md §4: an offer is eligible only while its remaining quantity is at
 * least its minimum order. */
START_TEST(a_remainder_below_the_minimum_order_is_not_eligible)
{
    struct command c = cmd_offer("m", "sam", 2500, 650, W_START, W_END);
    c.u.offer.min_order_wh = 2000;
    fx_apply(&c);
    ck_assert_ptr_nonnull(fx_event(EV_OFFER_LISTED));
    reserve("r1", "bob", 2000);
    ck_assert_int_eq(open_wh("m"), 500);
    c = cmd_order(CMD_ORDER_QUOTE, "q1", "cat", 500);
    fx_apply(&c);
    expect_shortfall(500);
}
END_TEST

START_TEST(a_rejection_names_alternative_windows)
{
    list_offer("later", "sam", 5000, 650, W_START + 2 * HOUR, W_END + 2 * HOUR);
    list_offer("little", "tim", 1000, 650, W_START + 5 * HOUR, W_END + 5 * HOUR);
    struct command c = cmd_order(CMD_ORDER_QUOTE, "q1", "bob", 3000);
    fx_apply(&c);
    expect_shortfall(3000);
    const struct event *r = fx_event(EV_ORDER_REJECTED);
    ck_assert_int_ge(r->u.rejected.nalternatives, 1);
    ck_assert_int_le(r->u.rejected.nalternatives, ENGINE_MAX_ALTERNATIVES);
    /* the best alternative is the window with the most energy, of the same length */
    ck_assert_int_eq(r->u.rejected.alternatives[0].start_ms, W_START + 2 * HOUR);
    ck_assert_int_eq(r->u.rejected.alternatives[0].end_ms, W_END + 2 * HOUR);
    ck_assert_int_eq(r->u.rejected.alternatives[0].available_wh, 5000);
    for (int i = 0; i < r->u.rejected.nalternatives; i++) {
        const struct alternative_window *w = &r->u.rejected.alternatives[i];
        ck_assert_int_eq(w->end_ms - w->start_ms, HOUR);
        ck_assert_int_ne(w->start_ms, W_START);
        ck_assert_int_ge(w->start_ms - NOW, 4 * HOUR);
        ck_assert_int_gt(w->available_wh, 0);
    }
}
END_TEST

START_TEST(order_windows_follow_the_offer_rules)
{
    list_offer("o1", "sam", 5000, 650, W_START, W_END);
    deposit("bob", 100000);
    struct command c;
#define BAD_ORDER(stmt, want)                                                                \
    do {                                                                                     \
        c = cmd_order(CMD_ORDER_BUY, "bad", "bob", 1000);                                    \
        stmt;                                                                                \
        fx_apply(&c);                                                                        \
        EXPECT_REFUSED(want);                                                                \
        ck_assert_ptr_null(fx_event(EV_ORDER_CONFIRMED));                                    \
        ck_assert_int_eq(open_wh("o1"), 5000);                                               \
        ck_assert_int_eq(wallet("bob"), 100000);                                             \
    } while (0)
    BAD_ORDER(c.u.order.window_start_ms += 30 * MINUTE, "window_not_aligned");
    BAD_ORDER(c.u.order.window_end_ms += 30 * MINUTE, "window_not_aligned");
    BAD_ORDER(c.u.order.window_end_ms = W_START, "window_inverted");
    BAD_ORDER(c.u.order.window_end_ms = W_START + 25 * HOUR, "invalid_field");
    BAD_ORDER((c.u.order.window_start_ms = NOW + 3 * HOUR, c.u.order.window_end_ms = W_END),
              "gate_closed");
    BAD_ORDER((c.u.order.window_start_ms = NOW + 8 * DAY, c.u.order.window_end_ms = NOW + 8 * DAY + HOUR),
              "beyond_horizon");
#undef BAD_ORDER
    /* an order id longer than 56 characters could not name its fills */
    c = cmd_order(CMD_ORDER_BUY, "", "bob", 1000);
    memset(c.u.order.order_id, 'x', 57);
    c.u.order.order_id[57] = '\0';
    fx_apply(&c);
    ck_assert_ptr_nonnull(fx_any_rejection());
    ck_assert_ptr_null(fx_event(EV_ORDER_CONFIRMED));
    ck_assert_int_eq(open_wh("o1"), 5000);
    /* 56 is fine, and the fill id is "<order id>/1" */
    memset(c.u.order.order_id, 'y', 56);
    c.u.order.order_id[56] = '\0';
    fx_apply(&c);
    ck_assert_ptr_nonnull(fx_event(EV_ORDER_CONFIRMED));
    char buf[ENGINE_ID_LEN + 8], want[ENGINE_ID_LEN + 8];
    snprintf(want, sizeof want, "%s/1", c.u.order.order_id);
    ck_assert_str_eq(engine_fill_id(&fx.e, fx_event(EV_FILL)->u.fill.fill, buf), want);
}
END_TEST

START_TEST(two_buyers_never_get_the_same_wh)
{
    list_offer("o1", "sam", 5000, 650, W_START, W_END);
    reserve("r1", "b1", 3000);
    struct command c = cmd_order(CMD_ORDER_QUOTE, "q2", "b2", 3000);
    fx_apply(&c);
    expect_shortfall(1000);
    reserve("r2", "b2", 2000);
    deposit("b3", 100000);
    c = cmd_order(CMD_ORDER_BUY, "r3", "b3", 1);
    fx_apply(&c);
    expect_shortfall(1);
    deposit("b1", 100000);
    deposit("b2", 100000);
    c = cmd_target(CMD_ORDER_CONFIRM, "r1", "b1");
    fx_apply(&c);
    ck_assert_ptr_nonnull(fx_event(EV_ORDER_CONFIRMED));
    c = cmd_target(CMD_ORDER_CONFIRM, "r2", "b2");
    fx_apply(&c);
    ck_assert_ptr_nonnull(fx_event(EV_ORDER_CONFIRMED));
    ck_assert_int_eq(offer("o1")->sold_wh, 5000);
    ck_assert_int_eq(fill_of("r1", 1)->quantity_wh + fill_of("r2", 1)->quantity_wh, 5000);
}
END_TEST

/* Every fill's energy, per offer and state, agrees with the offer's counters. */
static void check_fills_against_offers(void)
{
    static int64_t reserved[256], sold[256];
    memset(reserved, 0, sizeof reserved);
    memset(sold, 0, sizeof sold);
    for (uint32_t i = 0; i < fx.e.nfills; i++) {
        const struct fill_entry *f = &fx.e.fills[i];
        ck_assert_uint_lt(f->offer, fx.e.noffers);
        if (f->status == FILL_RESERVED)
            reserved[f->offer] += f->quantity_wh;
        else if (f->status == FILL_SOLD)
            sold[f->offer] += f->quantity_wh;
    }
    for (uint32_t o = 0; o < fx.e.noffers; o++) {
        const struct offer_entry *of = &fx.e.offers[o];
        ck_assert_int_eq(reserved[o], of->reserved_wh);
        ck_assert_int_eq(sold[o], of->sold_wh);
        ck_assert_int_le(reserved[o] + sold[o] + of->closed_wh, of->terms.quantity_wh);
    }
}

START_TEST(many_buyers_never_oversell)
{
    uint64_t rng = 42;
#define RAND(n) ((rng = rng * 6364136223846793005ULL + 1442695040888963407ULL), (int64_t)((rng >> 33) % (n)))
    char id[32], who[32];
    int64_t listed = 0;
    for (int i = 0; i < 8; i++) {
        snprintf(id, sizeof id, "o%d", i);
        snprintf(who, sizeof who, "seller%d", i);
        int64_t wh = 500 + RAND(9500);
        list_offer(id, who, wh, 400 + RAND(400), W_START, W_END);
        listed += wh;
    }
    int64_t held = 0; /* reserved or confirmed, as the events report it */
    for (int i = 0; i < 60; i++) {
        snprintf(id, sizeof id, "ord%d", i);
        snprintf(who, sizeof who, "buyer%d", (int)RAND(6));
        if (engine_find_participant(&fx.e, who) == ID_INDEX_NONE)
            deposit(who, 10000000);
        int kind = (int)RAND(4);
        struct command c = cmd_order(kind == 0 ? CMD_ORDER_BUY : CMD_ORDER_RESERVE, id, who,
                                     1 + RAND(8000));
        c.u.order.allow_partial = RAND(2) == 0;
        fx_apply(&c);
        const struct event *ok = fx_event(kind == 0 ? EV_ORDER_CONFIRMED : EV_ORDER_RESERVED);
        if (ok) {
            held += ok->u.order.filled_wh;
            if (kind == 3) { /* let go of some reservations again */
                struct command x = cmd_target(CMD_ORDER_CANCEL, id, who);
                fx_apply(&x);
                ck_assert_ptr_nonnull(fx_event(EV_ORDER_CANCELLED));
                held -= fx_event(EV_ORDER_CANCELLED)->u.order_cancelled.released_wh;
            } else if (kind == 2) {
                struct command x = cmd_target(CMD_ORDER_CONFIRM, id, who);
                fx_apply(&x);
                ck_assert_ptr_nonnull(fx_event(EV_ORDER_CONFIRMED));
            }
        } else {
            EXPECT_REJECTED(EV_ORDER_REJECTED, "insufficient_supply");
        }
        check_fills_against_offers();
        int64_t taken = 0, open = 0;
        for (uint32_t o = 0; o < fx.e.noffers; o++) {
            taken += fx.e.offers[o].sold_wh + fx.e.offers[o].reserved_wh;
            open += engine_offer_open_wh(&fx.e.offers[o]);
        }
        ck_assert_int_eq(taken, held);
        ck_assert_int_eq(taken + open, listed);
    }
#undef RAND
}
END_TEST

int main(void)
{
    Suite *s = suite_create("engine_matching");
    TCase *tc = tcase_create("matching");
    tcase_add_checked_fixture(tc, fx_start, fx_stop);
    tcase_add_test(tc, ranking_uses_the_sellers_current_trust);
    tcase_add_test(tc, price_score_is_normalised_over_the_candidates);
    tcase_add_test(tc, time_fit_prefers_offers_covering_the_window);
    tcase_add_test(tc, ties_break_by_listing_order_not_by_id_or_slot);
    tcase_add_test(tc, at_most_fifteen_offers_per_order);
    tcase_add_test(tc, partial_fill_only_when_allowed);
    tcase_add_test(tc, a_seller_never_buys_from_itself);
    tcase_add_test(tc, sellers_below_minimum_trust_are_not_matched);
    tcase_add_test(tc, an_offers_minimum_order_is_respected);
    tcase_add_test(tc, a_remainder_below_the_minimum_order_is_not_eligible);
    tcase_add_test(tc, a_rejection_names_alternative_windows);
    tcase_add_test(tc, order_windows_follow_the_offer_rules);
    tcase_add_test(tc, two_buyers_never_get_the_same_wh);
    tcase_add_test(tc, many_buyers_never_oversell);
    suite_add_tcase(s, tc);
    return fx_run(s);
}
