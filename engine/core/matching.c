/* Matching (product.md §4): which offers may serve a request, how they rank,
 * and the greedy allocation over the best MAX_OFFERS_PER_ORDER of them.
 *
 * Scores are integers in millionths: price_score (1e6 when all candidate
 * prices are equal, else 0.3 + 0.7 (max - price) / (max - min)), the seller's
 * current trust, and time_fit = overlap / window length; weighted by percent
 * (the arithmetic is match_score() in score.c, shared with the gateway).
 * Ties go to the offer listed first. Candidates are found through the slot
 * buckets: an offer overlapping [ws, we) starts after ws minus the longest
 * window ever listed (at most 24 h, in practice a few hours). */
#include <string.h>

#include "engine/core/internal.h"
#include "engine/core/score.h"

/* Collects eligible offers for the window into e->candidates, with their
 * overlap (ms) in score_ppm. Returns the count and the price range. */
static uint32_t scan(struct engine *e, const struct order_request *r, int64_t ws, int64_t we,
                     uint32_t buyer, int64_t now, int64_t *minp, int64_t *maxp)
{
    uint32_t n = 0;
    int64_t first = slot_of(e, ws - e->longest_offer_ms + 1), last = slot_of(e, we - 1);
    if (first < e->next_close_slot)
        first = e->next_close_slot;
    *minp = INT64_MAX;
    *maxp = 0;
    for (int64_t s = first; s <= last; s++) {
        uint32_t b = (uint32_t)(s & (e->nslots - 1));
        /* every offer here starts at s and ends by s + slot_longest: skip the
         * bucket when that is before the window */
        if (e->slot_tag[b] != s || s * e->p.market.slot_ms + e->slot_longest[b] <= ws)
            continue;
        for (uint32_t i = e->slot_head[b]; i != ID_INDEX_NONE; i = e->offers[i].next_in_slot) {
            const struct offer_entry *o = &e->offers[i];
            const struct offer_terms *t = &o->terms;
            int64_t start = t->delivery_start_ms > ws ? t->delivery_start_ms : ws;
            int64_t end = t->delivery_end_ms < we ? t->delivery_end_ms : we;
            if (o->status != OFFER_OPEN || engine_offer_open_wh(o) < t->min_order_wh || end <= start ||
                o->seller == buyer || e->participants[o->seller].trust < e->p.min_trust ||
                (r->max_price_per_kwh > 0 && t->price_per_kwh > r->max_price_per_kwh) ||
                (r->has_source && t->source != r->source) ||
                t->delivery_start_ms - now < e->p.market.gate_closure_ms ||
                (t->has_valid_until && t->valid_until_ms <= now))
                continue;
            e->candidates[n].offer = i;
            e->candidates[n].seq = o->seq;
            e->candidates[n].score_ppm = (int32_t)(end - start);
            n++;
            if (t->price_per_kwh < *minp)
                *minp = t->price_per_kwh;
            if (t->price_per_kwh > *maxp)
                *maxp = t->price_per_kwh;
        }
    }
    return n;
}

static bool ranks_before(const struct match_candidate *a, const struct match_candidate *b)
{
    return a->score_ppm > b->score_ppm || (a->score_ppm == b->score_ppm && a->seq < b->seq);
}

int match_allocate(struct engine *e, const struct order_request *r, uint32_t buyer, int64_t now,
                   struct allocation_line *lines, int64_t *filled_wh, int64_t *min_order_skipped_wh)
{
    int64_t minp, maxp, ws = r->window_start_ms, we = r->window_end_ms, dur = we - ws;
    uint32_t n = scan(e, r, ws, we, buyer, now, &minp, &maxp);
    int k = 0, top = e->p.max_offers_per_order;
    struct match_candidate best[ENGINE_MAX_LINES];
    for (uint32_t c = 0; c < n; c++) {
        struct match_candidate m = e->candidates[c];
        const struct offer_entry *o = &e->offers[m.offer];
        struct score_parts parts;
        m.score_ppm = match_score(&e->p, o->terms.price_per_kwh, minp, maxp,
                                  e->participants[o->seller].trust, m.score_ppm, dur, &parts);
        /* keep the best `top` in order: insertion into a short sorted array */
        if (k == top && !ranks_before(&m, &best[k - 1]))
            continue;
        int pos = k < top ? k++ : top - 1;
        while (pos > 0 && ranks_before(&m, &best[pos - 1])) {
            best[pos] = best[pos - 1];
            pos--;
        }
        best[pos] = m;
    }
    int64_t need = r->quantity_wh;
    int nlines = 0;
    *min_order_skipped_wh = 0;
    for (int c = 0; c < k && need > 0; c++) {
        const struct offer_entry *o = &e->offers[best[c].offer];
        int64_t open = engine_offer_open_wh(o);
        int64_t take = need < open ? need : open;
        /* product.md §4: a line never takes less than the offer's minimum */
        if (take < o->terms.min_order_wh) {
            if (*min_order_skipped_wh == 0 || o->terms.min_order_wh < *min_order_skipped_wh)
                *min_order_skipped_wh = o->terms.min_order_wh;
            continue;
        }
        lines[nlines].offer = best[c].offer;
        lines[nlines].quantity_wh = take;
        lines[nlines].score_ppm = best[c].score_ppm;
        nlines++;
        need -= take;
    }
    *filled_wh = r->quantity_wh - need;
    return nlines;
}

int match_named(struct engine *e, const struct command *c, uint32_t buyer, int64_t now,
                struct allocation_line *lines, struct p2p_violation *why)
{
    if (c->nlines < 1 || c->nlines > e->p.max_offers_per_order)
        return p2p_violate(why, "invalid_field", "lines", "an order names 1 to %d offers",
                           e->p.max_offers_per_order);
    for (int k = 0; k < c->nlines; k++) {
        const struct requested_line *l = &c->lines[k];
        uint32_t i = id_index_find(&e->offer_ix, l->offer_id);
        const struct offer_entry *o = i == ID_INDEX_NONE ? NULL : &e->offers[i];
        for (int j = 0; j < k; j++)
            if (lines[j].offer == i)
                return p2p_violate(why, "invalid_field", "lines",
                                   "offer %s is named twice; use one line with the total", l->offer_id);
        if (!o || o->status != OFFER_OPEN)
            return p2p_violate(why, "not_found", "lines", "offer %s is not open for buying", l->offer_id);
        if (o->seller == buyer)
            return p2p_violate(why, "invalid_field", "lines", "offer %s is your own", l->offer_id);
        if (o->terms.delivery_start_ms - now < e->p.market.gate_closure_ms ||
            (o->terms.has_valid_until && o->terms.valid_until_ms <= now))
            return p2p_violate(why, "gate_closed", "lines", "offer %s can no longer be bought", l->offer_id);
        if (e->participants[o->seller].trust < e->p.min_trust)
            return p2p_violate(why, "not_found", "lines", "offer %s is not open for buying", l->offer_id);
        if (l->quantity_wh < o->terms.min_order_wh || l->quantity_wh > OFFER_MAX_WH)
            return p2p_violate(why, "invalid_field", "lines",
                               "offer %s sells at least %lld Wh per order", l->offer_id,
                               (long long)o->terms.min_order_wh);
        if (l->quantity_wh > engine_offer_open_wh(o))
            return p2p_violate(why, "insufficient_supply", "lines", "offer %s has only %lld Wh left",
                               l->offer_id, (long long)engine_offer_open_wh(o));
        lines[k].offer = i;
        lines[k].quantity_wh = l->quantity_wh;
        lines[k].score_ppm = 0; /* chosen by the buyer, not ranked */
    }
    return c->nlines;
}

#define ALTERNATIVE_SHIFTS 12 /* windows up to 12 slots earlier or later */

static int64_t floor_div(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

int match_alternatives(struct engine *e, const struct order_request *r, uint32_t buyer, int64_t now,
                       struct alternative_window *out)
{
    int64_t dur = r->window_end_ms - r->window_start_ms, slot = e->p.market.slot_ms, minp, maxp;
    int64_t lo = r->window_start_ms - ALTERNATIVE_SHIFTS * slot;
    int64_t hi = r->window_end_ms + ALTERNATIVE_SHIFTS * slot;
    /* One scan collects every offer eligible for this buyer near the window;
     * each shifted window then sums the open energy of those it overlaps. */
    uint32_t n = scan(e, r, lo, hi, buyer, now, &minp, &maxp);
    /* Window k is [ws0 + k*slot, ws0 + k*slot + dur). An offer [a, b) overlaps
     * it for k in (floor((a - ws0 - dur) / slot), ceil((b - ws0) / slot)):
     * add its energy to that range of a difference array, then sum once. */
    int64_t diff[2 * ALTERNATIVE_SHIFTS + 2] = {0};
    int64_t ws0 = r->window_start_ms;
    for (uint32_t c = 0; c < n; c++) {
        const struct offer_entry *o = &e->offers[e->candidates[c].offer];
        int64_t kmin = floor_div(o->terms.delivery_start_ms - ws0 - dur, slot) + 1;
        int64_t kmax = -floor_div(-(o->terms.delivery_end_ms - ws0), slot) - 1;
        if (kmin < -ALTERNATIVE_SHIFTS)
            kmin = -ALTERNATIVE_SHIFTS;
        if (kmax > ALTERNATIVE_SHIFTS)
            kmax = ALTERNATIVE_SHIFTS;
        if (kmin > kmax)
            continue;
        int64_t open = engine_offer_open_wh(o);
        diff[kmin + ALTERNATIVE_SHIFTS] += open;
        diff[kmax + ALTERNATIVE_SHIFTS + 1] -= open;
    }
    int count = 0;
    int64_t avail = 0;
    for (int64_t k = -ALTERNATIVE_SHIFTS; k <= ALTERNATIVE_SHIFTS; k++) {
        avail += diff[k + ALTERNATIVE_SHIFTS];
        int64_t ws = ws0 + k * slot, we = ws + dur;
        if (k == 0 || ws - now < e->p.market.gate_closure_ms || ws - now > e->p.market.horizon_ms)
            continue;
        if (avail == 0)
            continue;
        /* keep the 3 windows with the most energy; earlier first on ties */
        struct alternative_window w = {ws, we, avail};
        int pos = count < ENGINE_MAX_ALTERNATIVES ? count++ : ENGINE_MAX_ALTERNATIVES;
        if (pos == ENGINE_MAX_ALTERNATIVES) {
            if (out[pos - 1].available_wh >= avail)
                continue;
            pos--;
        }
        while (pos > 0 && out[pos - 1].available_wh < avail) {
            out[pos] = out[pos - 1];
            pos--;
        }
        out[pos] = w;
    }
    return count;
}
