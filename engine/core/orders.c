/* Orders (product.md §4–§6): the Beckn steps quote (select), reserve (init)
 * and confirm, the one-step buy, reservation expiry, and cancellation by the
 * buyer (whole order) or the seller (one line). Money moves only through the
 * journal: wallet -> escrow at confirm, escrow -> wallets/platform on cancel.
 * An order with a payer (a Beckn platform paying for its buyer) is charged to
 * receivable:<payer> instead of the buyer's wallet, and every buyer-side
 * refund goes back there (journal_post_buyer). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/p2p_json.h"
#include "engine/core/internal.h"

static int payer_check(const struct order_request *r, struct p2p_violation *v)
{
    if (r->payer_id[0] && !p2p_id_valid(r->payer_id, ENGINE_ID_LEN - 1))
        return p2p_violate(v, "invalid_field", "payer_id", "payer_id is not a valid id");
    return 0;
}

static int id_check(const struct order_request *r, struct p2p_violation *v)
{
    if (!p2p_id_valid(r->order_id, ORDER_ID_MAX))
        return p2p_violate(v, "invalid_field", "order_id",
                           "order_id must be 1 to %d letters, digits or . _ : @ -", ORDER_ID_MAX);
    if (!p2p_id_valid(r->buyer_id, ENGINE_ID_LEN - 1))
        return p2p_violate(v, "invalid_field", "buyer_id", "buyer_id is not a valid id");
    return payer_check(r, v);
}

static int request_check(const struct engine *e, const struct order_request *r,
                         struct p2p_violation *v)
{
    if (!p2p_id_valid(r->order_id, ORDER_ID_MAX))
        return p2p_violate(v, "invalid_field", "order_id",
                           "order_id must be 1 to %d letters, digits or . _ : @ -", ORDER_ID_MAX);
    if (!p2p_id_valid(r->buyer_id, ENGINE_ID_LEN - 1))
        return p2p_violate(v, "invalid_field", "buyer_id", "buyer_id is not a valid id");
    if (payer_check(r, v))
        return -1;
    if (r->quantity_wh < 1 || r->quantity_wh > OFFER_MAX_WH)
        return p2p_violate(v, "invalid_field", "quantity_wh",
                           "quantity_wh must be between 1 and %d Wh", OFFER_MAX_WH);
    if (r->max_price_per_kwh < 0 || r->max_price_per_kwh > OFFER_MAX_PRICE_PER_KWH)
        return p2p_violate(v, "invalid_field", "max_price_per_kwh",
                           "max_price_per_kwh must be between 0 (no limit) and %d",
                           OFFER_MAX_PRICE_PER_KWH);
    return delivery_window_check(&e->p.market, r->window_start_ms, r->window_end_ms, e->now_ms,
                                 "window_start", "window_end", v);
}

static void fill_totals(const struct engine *e, const struct order_entry *o, int64_t *wh,
                        int64_t *amount, int64_t *fee)
{
    *wh = *amount = *fee = 0;
    for (uint32_t f = o->first_fill; f < o->first_fill + o->nfills; f++) {
        *wh += e->fills[f].quantity_wh;
        *amount += e->fills[f].amount;
        *fee += e->fills[f].fee;
    }
}

static void emit_order(struct engine *e, struct event_sink *out, enum event_kind kind, uint32_t i)
{
    struct event *ev = emit(out, kind);
    if (!ev)
        return;
    ev->u.order.order = i;
    ev->u.order.nlines = e->orders[i].nfills;
    fill_totals(e, &e->orders[i], &ev->u.order.filled_wh, &ev->u.order.amount, &ev->u.order.fee);
}

/* Moves a reserved order's energy back to its offers. */
static int64_t release_lines(struct engine *e, struct event_sink *out, struct order_entry *o)
{
    int64_t released = 0;
    for (uint32_t f = o->first_fill; f < o->first_fill + o->nfills; f++) {
        struct fill_entry *fl = &e->fills[f];
        if (fl->status != FILL_RESERVED)
            continue;
        fl->status = FILL_RELEASED;
        book_release(e, out, fl->offer, fl->quantity_wh, false);
        released += fl->quantity_wh;
    }
    return released;
}

/* Reservation -> sale. Returns false (nothing changed) when funds are short. */
static bool confirm_now(struct engine *e, uint32_t i, struct event_sink *out)
{
    struct order_entry *o = &e->orders[i];
    int64_t wh, amount, fee;
    fill_totals(e, o, &wh, &amount, &fee);
    if (o->payer == ID_INDEX_NONE && e->participants[o->buyer].wallet < amount + fee)
        return false; /* a payer's platform is billed: no funds check */
    for (uint32_t f = o->first_fill; f < o->first_fill + o->nfills; f++) {
        struct fill_entry *fl = &e->fills[f];
        struct offer_entry *of = &e->offers[fl->offer];
        fl->status = FILL_SOLD;
        of->reserved_wh -= fl->quantity_wh;
        of->sold_wh += fl->quantity_wh;
        emit(out, EV_FILL)->u.fill.fill = f;
    }
    struct journal_builder j;
    journal_begin(e, out, &j, "order_confirmed", o->id);
    journal_post_buyer(e, &j, i, -(amount + fee));
    journal_post(e, &j, ACCOUNT_ESCROW, i, amount + fee);
    o->status = ORDER_CONFIRMED;
    o->confirmed_at_ms = e->now_ms;
    o->open_lines = o->nfills;
    emit_order(e, out, EV_ORDER_CONFIRMED, i);
    return true;
}

static void reject_funds(struct engine *e, struct event_sink *out, const struct order_entry *o,
                         int64_t total)
{
    struct p2p_violation why;
    p2p_violate(&why, "insufficient_funds", "wallet",
                "the order costs %lld incl. fee; the available balance is %lld", (long long)total,
                (long long)e->participants[o->buyer].wallet);
    reject(out, EV_ORDER_REJECTED, o->id, e->participants[o->buyer].id, &why);
}

/* A named order's quantity and window follow from its offers. */
static void named_request(const struct engine *e, const struct command *c, struct order_request *r)
{
    r->quantity_wh = 0;
    r->window_start_ms = INT64_MAX;
    r->window_end_ms = 0;
    for (int k = 0; k < c->nlines; k++) {
        uint32_t i = id_index_find(&e->offer_ix, c->lines[k].offer_id);
        r->quantity_wh += c->lines[k].quantity_wh;
        if (i == ID_INDEX_NONE)
            continue;
        const struct offer_terms *t = &e->offers[i].terms;
        if (t->delivery_start_ms < r->window_start_ms)
            r->window_start_ms = t->delivery_start_ms;
        if (t->delivery_end_ms > r->window_end_ms)
            r->window_end_ms = t->delivery_end_ms;
    }
    r->allow_partial = false;
    r->max_price_per_kwh = 0;
    r->has_source = false;
}

void order_place(struct engine *e, const struct command *c, struct event_sink *out)
{
    struct order_request req = c->u.order;
    const struct order_request *r = &req;
    bool named = c->nlines > 0;
    struct p2p_violation why;
    memset(&why, 0, sizeof why);
    if (named)
        named_request(e, c, &req);
    /* A refused or quoted order changes nothing: a new buyer is only created
     * once an order is placed. */
    uint32_t buyer = engine_find_participant(e, r->buyer_id);
    bool has_payer = r->payer_id[0] != '\0';
    uint32_t new_participants =
        (buyer == ID_INDEX_NONE) + (has_payer && strcmp(r->payer_id, r->buyer_id) != 0 &&
                                    engine_find_participant(e, r->payer_id) == ID_INDEX_NONE);
    if ((named ? id_check(r, &why) : request_check(e, r, &why)) == 0) {
        if (c->kind != CMD_ORDER_QUOTE && id_index_find(&e->order_ix, r->order_id) != ID_INDEX_NONE)
            p2p_violate(&why, "duplicate_id", "order_id", "order %s exists already", r->order_id);
        else if (c->kind != CMD_ORDER_QUOTE &&
                 (e->norders >= e->cap.orders || e->nfills + ENGINE_MAX_LINES > e->cap.fills ||
                  e->nparticipants + new_participants > e->cap.participants))
            p2p_violate(&why, "capacity", "order_id", "the market cannot take more orders now");
    }
    if (why.code[0]) {
        reject(out, EV_ORDER_REJECTED, r->order_id, r->buyer_id, &why);
        return;
    }
    struct allocation_line lines[ENGINE_MAX_LINES];
    int64_t filled = r->quantity_wh, min_order_skipped = 0;
    int n;
    if (named && (n = match_named(e, c, buyer, e->now_ms, lines, &why)) < 0) {
        reject(out, EV_ORDER_REJECTED, r->order_id, r->buyer_id, &why);
        return;
    }
    if (!named)
        n = match_allocate(e, r, buyer, e->now_ms, lines, &filled, &min_order_skipped);
    if (filled < r->quantity_wh && !(r->allow_partial && filled > 0)) {
        struct event *ev = emit(out, EV_ORDER_REJECTED);
        p2p_copy(ev->u.rejected.subject_id, ENGINE_ID_LEN, r->order_id);
        p2p_copy(ev->u.rejected.actor_id, ENGINE_ID_LEN, r->buyer_id);
        if (filled == 0 && min_order_skipped > 0)
            p2p_violate(&ev->u.rejected.reason, "insufficient_supply", "quantity_wh",
                        "the offers in this window sell at least %lld Wh per order; ask for that much"
                        " or another window", (long long)min_order_skipped);
        else
            p2p_violate(&ev->u.rejected.reason, "insufficient_supply", "quantity_wh",
                        "only %lld of %lld Wh are available in this window%s", (long long)filled,
                        (long long)r->quantity_wh, filled ? " (allow a partial fill to take them)" : "");
        ev->u.rejected.shortfall_wh = r->quantity_wh - filled;
        ev->u.rejected.nalternatives = match_alternatives(e, r, buyer, e->now_ms, ev->u.rejected.alternatives);
        return;
    }
    int64_t amount = 0, fee = 0, line_amount[ENGINE_MAX_LINES];
    for (int k = 0; k < n; k++) {
        line_amount[k] = money_cost(lines[k].quantity_wh, e->offers[lines[k].offer].terms.price_per_kwh);
        amount += line_amount[k];
        fee += money_rate(line_amount[k], e->p.platform_fee_bp);
    }
    if (c->kind == CMD_ORDER_QUOTE) {
        out->quote_request = *r;
        out->nquote_lines = n;
        for (int k = 0; k < n; k++) {
            struct quote_line *q = &out->quote_lines[k];
            q->offer = lines[k].offer;
            q->quantity_wh = lines[k].quantity_wh;
            q->amount = line_amount[k];
            q->fee = money_rate(q->amount, e->p.platform_fee_bp);
            q->score_ppm = lines[k].score_ppm;
        }
        struct event *ev = emit(out, EV_ORDER_QUOTED);
        ev->u.order.order = ID_INDEX_NONE;
        ev->u.order.nlines = n;
        ev->u.order.filled_wh = filled;
        ev->u.order.amount = amount;
        ev->u.order.fee = fee;
        return;
    }
    int64_t wallet = buyer != ID_INDEX_NONE ? e->participants[buyer].wallet : 0;
    if (c->kind == CMD_ORDER_BUY && !has_payer && wallet < amount + fee) {
        /* one-step buy: nothing is held when it cannot be paid */
        struct p2p_violation funds;
        p2p_violate(&funds, "insufficient_funds", "wallet",
                    "the order costs %lld incl. fee; the available balance is %lld",
                    (long long)(amount + fee), (long long)wallet);
        reject(out, EV_ORDER_REJECTED, r->order_id, r->buyer_id, &funds);
        return;
    }
    buyer = participant_get(e, r->buyer_id);
    uint32_t i = e->norders++;
    struct order_entry *o = &e->orders[i];
    memset(o, 0, sizeof *o);
    memcpy(o->id, r->order_id, strlen(r->order_id) + 1);
    o->buyer = buyer;
    o->payer = has_payer ? participant_get(e, r->payer_id) : ID_INDEX_NONE;
    o->req = *r;
    o->status = ORDER_RESERVED;
    o->reserved_at_ms = e->now_ms;
    o->expires_at_ms = e->now_ms + e->p.reservation_ttl_ms;
    o->first_fill = e->nfills;
    o->nfills = (uint16_t)n;
    for (int k = 0; k < n; k++) {
        struct fill_entry *f = &e->fills[e->nfills++];
        struct offer_entry *of = &e->offers[lines[k].offer];
        f->order = i;
        f->offer = lines[k].offer;
        f->seller = of->seller;
        f->buyer = buyer;
        f->line = (uint16_t)(k + 1);
        f->status = FILL_RESERVED;
        f->score_ppm = lines[k].score_ppm;
        f->quantity_wh = lines[k].quantity_wh;
        f->price_per_kwh = of->terms.price_per_kwh;
        f->amount = line_amount[k];
        f->fee = money_rate(f->amount, e->p.platform_fee_bp);
        of->reserved_wh += f->quantity_wh;
    }
    id_index_insert(&e->order_ix, o->id, i);
    e->reservations[(e->res_head + e->res_count) % e->cap.orders] = i;
    e->res_count++;
    emit_order(e, out, EV_ORDER_RESERVED, i);
    if (c->kind == CMD_ORDER_BUY)
        confirm_now(e, i, out);
}

/* The order named by a command, if it is the actor's. */
static uint32_t own_order(struct engine *e, const struct command *c)
{
    uint32_t i = id_index_find(&e->order_ix, c->u.target.id);
    if (i == ID_INDEX_NONE || strcmp(e->participants[e->orders[i].buyer].id, c->u.target.actor_id) != 0)
        return ID_INDEX_NONE;
    return i;
}

void order_confirm(struct engine *e, const struct command *c, struct event_sink *out)
{
    const char *id = c->u.target.id, *actor = c->u.target.actor_id;
    uint32_t i = own_order(e, c);
    if (i == ID_INDEX_NONE) {
        refuse(out, EV_ORDER_REJECTED, id, actor, "not_found", "order_id", "you have no such order");
        return;
    }
    struct order_entry *o = &e->orders[i];
    if (o->status != ORDER_RESERVED) {
        refuse(out, EV_ORDER_REJECTED, id, actor,
               o->status == ORDER_EXPIRED ? "reservation_expired" : "not_reserved", "order_id",
               o->status == ORDER_EXPIRED ? "the reservation expired; place the order again"
                                          : "only a reserved order can be confirmed");
        return;
    }
    for (uint32_t f = o->first_fill; f < o->first_fill + o->nfills; f++)
        if (e->offers[e->fills[f].offer].terms.delivery_start_ms - e->now_ms <
            e->p.market.gate_closure_ms) {
            order_expire(e, i, out);
            refuse(out, EV_ORDER_REJECTED, id, actor, "gate_closed", "order_id",
                   "a line of this order passed gate closure; the reservation was released");
            return;
        }
    if (!confirm_now(e, i, out)) {
        int64_t wh, amount, fee;
        fill_totals(e, o, &wh, &amount, &fee);
        reject_funds(e, out, o, amount + fee);
    }
}

void order_expire(struct engine *e, uint32_t i, struct event_sink *out)
{
    struct order_entry *o = &e->orders[i];
    o->status = ORDER_EXPIRED;
    int64_t released = release_lines(e, out, o);
    struct event *ev = emit(out, EV_ORDER_EXPIRED);
    if (ev) {
        ev->u.order_cancelled.order = i;
        ev->u.order_cancelled.released_wh = released;
        ev->u.order_cancelled.refund = 0;
        ev->u.order_cancelled.cancel_fee = 0;
    }
}

/* Cancellation window of a confirmed order (product.md §6). */
static const char *window_closed(const struct engine *e, const struct order_entry *o)
{
    if (e->now_ms >= o->req.window_start_ms)
        return "delivery_started";
    if (e->now_ms - o->confirmed_at_ms > e->p.cancel_window_ms)
        return "cancel_window_closed";
    return NULL;
}

static void refuse_window(const struct engine *e, struct event_sink *out, const char *subject,
                          const char *actor, const char *code)
{
    char msg[160];
    if (strcmp(code, "delivery_started") == 0)
        snprintf(msg, sizeof msg, "the delivery window has started; it can no longer be cancelled");
    else
        snprintf(msg, sizeof msg, "cancellation is possible within %lld minutes of confirming",
                 (long long)(e->p.cancel_window_ms / 60000));
    refuse(out, EV_COMMAND_REJECTED, subject, actor, code, "order_id", msg);
}

void settle_if_done(struct engine *e, struct event_sink *out, uint32_t i)
{
    struct order_entry *o = &e->orders[i];
    if (o->open_lines > 0)
        return;
    o->status = ORDER_SETTLED;
    emit_order(e, out, EV_ORDER_SETTLED, i);
}

void order_cancel(struct engine *e, const struct command *c, struct event_sink *out)
{
    const char *id = c->u.target.id, *actor = c->u.target.actor_id;
    uint32_t i = own_order(e, c);
    if (i == ID_INDEX_NONE) {
        refuse(out, EV_COMMAND_REJECTED, id, actor, "not_found", "order_id", "you have no such order");
        return;
    }
    struct order_entry *o = &e->orders[i];
    int64_t released = 0, refund = 0, kept = 0;
    if (o->status == ORDER_RESERVED) {
        released = release_lines(e, out, o);
    } else if (o->status == ORDER_CONFIRMED) {
        const char *closed = window_closed(e, o);
        if (closed) {
            refuse_window(e, out, id, actor, closed);
            return;
        }
        for (uint32_t f = o->first_fill; f < o->first_fill + o->nfills; f++) {
            struct fill_entry *fl = &e->fills[f];
            if (fl->status != FILL_SOLD)
                continue;
            int64_t cancel_fee = money_rate(fl->amount, e->p.cancel_fee_bp);
            int64_t seller_share = cancel_fee / 2;
            char ref[ENGINE_ID_LEN + 8];
            struct journal_builder j;
            journal_begin(e, out, &j, "order_cancelled", engine_fill_id(e, f, ref));
            journal_post(e, &j, ACCOUNT_ESCROW, i, -(fl->amount + fl->fee));
            journal_post_buyer(e, &j, i, fl->amount + fl->fee - cancel_fee);
            journal_post(e, &j, ACCOUNT_WALLET, fl->seller, seller_share);
            journal_post(e, &j, ACCOUNT_PLATFORM, 0, cancel_fee - seller_share);
            fl->status = FILL_CANCELLED;
            book_release(e, out, fl->offer, fl->quantity_wh, true);
            released += fl->quantity_wh;
            refund += fl->amount + fl->fee - cancel_fee;
            kept += cancel_fee;
        }
        o->open_lines = 0;
        trust_adjust(e, out, o->buyer, -e->p.trust_cancel_penalty, "order_cancelled", o->id);
    } else {
        refuse(out, EV_COMMAND_REJECTED, id, actor, "not_cancellable", "order_id",
               "this order is no longer open");
        return;
    }
    o->status = ORDER_CANCELLED;
    struct event *ev = emit(out, EV_ORDER_CANCELLED);
    ev->u.order_cancelled.order = i;
    ev->u.order_cancelled.released_wh = released;
    ev->u.order_cancelled.refund = refund;
    ev->u.order_cancelled.cancel_fee = kept;
}

/* Parses "<order id>/<line>" into a fill index. */
uint32_t fill_find(const struct engine *e, const char *fill_id)
{
    const char *slash = strrchr(fill_id, '/');
    char order_id[ENGINE_ID_LEN];
    size_t n = slash ? (size_t)(slash - fill_id) : 0;
    if (!slash || n == 0 || n >= sizeof order_id)
        return ID_INDEX_NONE;
    memcpy(order_id, fill_id, n);
    order_id[n] = '\0';
    char *end;
    long line = strtol(slash + 1, &end, 10);
    uint32_t i = id_index_find(&e->order_ix, order_id);
    if (i == ID_INDEX_NONE || *end || line < 1 || line > e->orders[i].nfills)
        return ID_INDEX_NONE;
    return e->orders[i].first_fill + (uint32_t)line - 1;
}

void sale_cancel(struct engine *e, const struct command *c, struct event_sink *out)
{
    const char *id = c->u.target.id, *actor = c->u.target.actor_id;
    uint32_t f = fill_find(e, id);
    if (f == ID_INDEX_NONE || strcmp(e->participants[e->fills[f].seller].id, actor) != 0) {
        refuse(out, EV_COMMAND_REJECTED, id, actor, "not_found", "fill_id", "you sold no such line");
        return;
    }
    struct fill_entry *fl = &e->fills[f];
    struct order_entry *o = &e->orders[fl->order];
    if (fl->status != FILL_SOLD) {
        refuse(out, EV_COMMAND_REJECTED, id, actor, "not_cancellable", "fill_id",
               "only a confirmed, undelivered sale can be cancelled");
        return;
    }
    const char *closed = window_closed(e, o);
    if (closed) {
        refuse_window(e, out, id, actor, closed);
        return;
    }
    int64_t penalty = money_rate(fl->amount, e->p.seller_cancel_penalty_bp);
    if (e->participants[fl->seller].wallet < penalty) {
        refuse(out, EV_COMMAND_REJECTED, id, actor, "insufficient_funds", "wallet",
               "the cancellation penalty exceeds your available balance");
        return;
    }
    struct journal_builder j;
    journal_begin(e, out, &j, "sale_cancelled", id);
    journal_post(e, &j, ACCOUNT_ESCROW, fl->order, -(fl->amount + fl->fee));
    journal_post_buyer(e, &j, fl->order, fl->amount + fl->fee + penalty);
    journal_post(e, &j, ACCOUNT_WALLET, fl->seller, -penalty);
    fl->status = FILL_CANCELLED;
    struct offer_entry *of = &e->offers[fl->offer];
    of->sold_wh -= fl->quantity_wh;
    of->closed_wh += fl->quantity_wh; /* the seller took it back: not re-listed */
    *commitment(&e->participants[fl->seller], month_of(of->terms.delivery_start_ms)) -= fl->quantity_wh;
    o->open_lines--;
    trust_adjust(e, out, fl->seller, -e->p.trust_cancel_penalty, "sale_cancelled", id);
    struct event *ev = emit(out, EV_FILL_CANCELLED);
    ev->u.fill_cancelled.fill = f;
    ev->u.fill_cancelled.refund = fl->amount + fl->fee; /* the penalty comes on top */
    ev->u.fill_cancelled.penalty = penalty;
    settle_if_done(e, out, fl->order);
}
