/* Fold of the orders read model (the fast path of orders_projection.c):
 * `orders`, `order_lines`, `order_status_history` and `delivery_reports`;
 * the lines' final states also decide the fills' (fold_fills.c).
 *
 * Order events come through one topic in the engine's order, so each event
 * applies the same transition to the order and its lines as the live
 * statements do (reserved lines add to their offer's taken energy, released
 * ones subtract). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "projections/fold.h"

struct fold_line {
    struct fold_line *next_in_order;
    const char *row;            /* encoded immutable columns */
    const char *fill_id, *offer_id;
    int64_t quantity_wh;
    const char *status, *last_event_id;
    struct nint delivered_wh, curtailed_wh, seller_paid, buyer_refund;
};

struct fold_order {
    const char *row;            /* encoded immutable columns */
    struct fold_line *lines;
    const char *payer_id, *status, *last_event_id;
    int64_t filled_wh, amount, fee, total, refund, cancel_fee, paid_total, delivered_wh, updated_at_ms;
    struct nint expires_at_ms, confirmed_at_ms;
};

static const char *member(const json_t *v, const char *key)
{
    return json_string_value(json_object_get(v, key));
}

/* One order_status_history row; detail holds the named members of the event
 * (JSON null when absent), as jsonb_build_object makes it. */
static int history(struct fold *f, const struct projected_event *e, const char *status,
                   const char *const *detail_keys)
{
    json_t *detail = json_object();
    for (int i = 0; detail && detail_keys[i]; i++) {
        json_t *v = json_object_get(e->value, detail_keys[i]);
        if (json_object_set(detail, detail_keys[i], v ? v : json_null())) {
            json_decref(detail);
            detail = NULL;
        }
    }
    char *text = detail ? json_dumps(detail, JSON_COMPACT | JSON_REAL_PRECISION(17)) : NULL;
    json_decref(detail);
    if (!text)
        return -1;
    struct copy_buf *b = &f->history_rows;
    copy_member(b, e->value, "event_id");
    copy_member(b, e->value, "order_id");
    copy_text(b, status);
    copy_member(b, e->value, "occurred_at_ms");
    copy_text(b, text);
    copy_end_row(b);
    free(text);
    return b->oom ? -1 : 0;
}

static const char *event_id_of(struct fold *f, const struct projected_event *e)
{
    return fold_member_str(f, e->value, "event_id");
}

static int add_line(struct fold *f, struct fold_order *o, const json_t *v, const json_t *x, const char *event_id)
{
    struct fold_line *l = fold_arena_alloc(&f->arena, sizeof *l);
    if (!l)
        return -1;
    struct copy_buf b = {0};
    copy_member(&b, v, "order_id");
    copy_member(&b, x, "line");
    copy_member(&b, x, "fill_id");
    copy_member(&b, x, "offer_id");
    copy_member(&b, x, "seller_id");
    copy_member(&b, x, "quantity_wh");
    copy_member(&b, x, "price_per_kwh");
    copy_member(&b, x, "amount");
    copy_member(&b, x, "fee");
    copy_member(&b, x, "score_ppm");
    copy_member(&b, x, "delivery_start_ms");
    copy_member(&b, x, "delivery_end_ms");
    l->row = b.oom ? NULL : fold_str(f, b.data);
    copy_free(&b);
    l->fill_id = fold_member_str(f, x, "fill_id");
    l->offer_id = fold_member_str(f, x, "offer_id");
    l->quantity_wh = json_member_int(x, "quantity_wh");
    l->status = "RESERVED";
    l->last_event_id = event_id;
    if (!l->row || !l->fill_id || fold_map_get(&f->lines, l->fill_id))
        return l->row && l->fill_id ? 0 : -1; /* a fill id twice: the first line keeps it */
    if (fold_map_put(&f->lines, l->fill_id, l))
        return -1;
    l->next_in_order = o->lines;
    o->lines = l;
    struct fold_offer *offer = fold_offer_ref(f, l->offer_id);
    if (!offer)
        return -1;
    offer->taken_wh += l->quantity_wh;
    offer->has_energy = true;
    return 0;
}

static int reserved(struct fold *f, const struct projected_event *e)
{
    const json_t *v = e->value;
    const char *id = member(v, "order_id");
    if (!id || fold_map_get(&f->orders, id))
        return 0; /* the live insert would refuse it */
    struct fold_order *o = fold_arena_alloc(&f->arena, sizeof *o);
    const char *key = fold_str(f, id);
    if (!o || !key || fold_map_put(&f->orders, key, o))
        return -1;
    struct copy_buf b = {0};
    copy_member(&b, v, "order_id");
    copy_member(&b, v, "market");
    copy_member(&b, v, "buyer_id");
    copy_member(&b, v, "quantity_wh");
    copy_member(&b, v, "window_start_ms");
    copy_member(&b, v, "window_end_ms");
    copy_member(&b, v, "occurred_at_ms");
    copy_member(&b, v, "command_id");
    o->row = b.oom ? NULL : fold_str(f, b.data);
    copy_free(&b);
    o->payer_id = fold_member_str(f, v, "payer_id");
    o->status = "RESERVED";
    o->filled_wh = json_member_int(v, "filled_wh");
    o->amount = json_member_int(v, "amount");
    o->fee = json_member_int(v, "fee");
    o->total = json_member_int(v, "total");
    o->expires_at_ms = json_member_nint(v, "expires_at_ms");
    o->updated_at_ms = json_member_int(v, "occurred_at_ms");
    o->last_event_id = event_id_of(f, e);
    if (!o->row)
        return -1;
    const json_t *lines = json_object_get(v, "lines"), *x;
    size_t i;
    json_array_foreach(lines, i, x) if (add_line(f, o, v, x, o->last_event_id)) return -1;
    static const char *const detail[] = {"expires_at_ms", "filled_wh", "total", NULL};
    return history(f, e, "RESERVED", detail);
}

/* The payer of the event when it names one, else the order's. */
static void set_payer(struct fold *f, struct fold_order *o, const json_t *v)
{
    if (member(v, "payer_id"))
        o->payer_id = fold_member_str(f, v, "payer_id");
}

static int confirmed(struct fold *f, const struct projected_event *e)
{
    const json_t *v = e->value;
    struct fold_order *o = fold_map_get(&f->orders, member(v, "order_id"));
    const char *event_id = event_id_of(f, e);
    if (o) {
        o->status = "CONFIRMED";
        set_payer(f, o, v);
        o->filled_wh = json_member_int(v, "filled_wh");
        o->amount = json_member_int(v, "amount");
        o->fee = json_member_int(v, "fee");
        o->total = json_member_int(v, "total");
        o->expires_at_ms = (struct nint){0, false};
        o->confirmed_at_ms = json_member_nint(v, "occurred_at_ms");
        o->updated_at_ms = json_member_int(v, "occurred_at_ms");
        o->last_event_id = event_id;
        for (struct fold_line *l = o->lines; l; l = l->next_in_order)
            if (strcmp(l->status, "RESERVED") == 0) {
                l->status = "SOLD";
                l->last_event_id = event_id;
            }
    }
    static const char *const detail[] = {"total", NULL};
    return history(f, e, "CONFIRMED", detail);
}

/* order.cancelled / order.expired: open lines are released, their energy
 * goes back to the offers. */
static int released(struct fold *f, const struct projected_event *e, const char *status)
{
    const json_t *v = e->value;
    struct fold_order *o = fold_map_get(&f->orders, member(v, "order_id"));
    const char *event_id = event_id_of(f, e);
    if (o) {
        for (struct fold_line *l = o->lines; l; l = l->next_in_order)
            if (strcmp(l->status, "RESERVED") == 0 || strcmp(l->status, "SOLD") == 0) {
                l->status = "RELEASED";
                l->last_event_id = event_id;
                struct fold_offer *offer = fold_offer_ref(f, l->offer_id);
                if (!offer)
                    return -1;
                offer->taken_wh -= l->quantity_wh;
                offer->has_energy = true;
            }
        o->status = status;
        o->expires_at_ms = (struct nint){0, false};
        o->refund += json_member_int(v, "refund");
        o->cancel_fee += json_member_int(v, "cancel_fee");
        o->updated_at_ms = json_member_int(v, "occurred_at_ms");
        o->last_event_id = event_id;
    }
    static const char *const detail[] = {"released_wh", "refund", "cancel_fee", NULL};
    return history(f, e, status, detail);
}

static int settled(struct fold *f, const struct projected_event *e)
{
    struct fold_order *o = fold_map_get(&f->orders, member(e->value, "order_id"));
    if (o) {
        o->status = "SETTLED";
        o->updated_at_ms = json_member_int(e->value, "occurred_at_ms");
        o->last_event_id = event_id_of(f, e);
    }
    static const char *const detail[] = {NULL};
    return history(f, e, "SETTLED", detail);
}

static int fill_cancelled(struct fold *f, const struct projected_event *e)
{
    const json_t *v = e->value;
    const char *event_id = event_id_of(f, e);
    struct fold_line *l = fold_map_get(&f->lines, member(v, "fill_id"));
    if (l) {
        l->status = "CANCELLED_BY_SELLER";
        l->buyer_refund = json_member_nint(v, "refund");
        l->last_event_id = event_id;
    }
    struct fold_order *o = fold_map_get(&f->orders, member(v, "order_id"));
    if (o) {
        o->refund += json_member_int(v, "refund");
        o->updated_at_ms = json_member_int(v, "occurred_at_ms");
        o->last_event_id = event_id;
    }
    return 0;
}

static int delivery_settled(struct fold *f, const struct projected_event *e)
{
    const json_t *v = e->value;
    const char *event_id = event_id_of(f, e);
    struct fold_line *l = fold_map_get(&f->lines, member(v, "fill_id"));
    if (l) {
        l->status = "DELIVERED";
        l->delivered_wh = json_member_nint(v, "delivered_wh");
        l->curtailed_wh = json_member_nint(v, "curtailed_wh");
        l->seller_paid = json_member_nint(v, "seller_paid");
        l->buyer_refund = json_member_nint(v, "buyer_refund");
        l->last_event_id = event_id;
    }
    struct copy_buf *b = &f->delivery_rows;
    static const char *const cols[] = {"fill_id",      "event_id",     "order_id",    "seller_id",
                                       "buyer_id",     "quantity_wh",  "delivered_wh", "curtailed_wh",
                                       "seller_paid",  "buyer_refund", "platform_fee", "occurred_at_ms"};
    for (size_t i = 0; i < sizeof cols / sizeof *cols; i++)
        copy_member(b, v, cols[i]);
    copy_end_row(b);
    struct fold_order *o = fold_map_get(&f->orders, member(v, "order_id"));
    if (o) {
        o->delivered_wh += json_member_int(v, "delivered_wh");
        o->refund += json_member_int(v, "buyer_refund");
        o->updated_at_ms = json_member_int(v, "occurred_at_ms");
        o->last_event_id = event_id;
    }
    return b->oom ? -1 : 0;
}

static int paid(struct fold *f, const struct projected_event *e)
{
    struct fold_order *o = fold_map_get(&f->orders, member(e->value, "order_id"));
    if (o) {
        set_payer(f, o, e->value);
        o->paid_total = json_member_int(e->value, "paid_total");
        o->updated_at_ms = json_member_int(e->value, "occurred_at_ms");
        o->last_event_id = event_id_of(f, e);
    }
    return 0;
}

int fold_orders_event(struct fold *f, const struct projected_event *e)
{
    const char *t = e->type;
    if (strcmp(t, "order.reserved.v1") == 0)
        return reserved(f, e);
    if (strcmp(t, "order.confirmed.v1") == 0)
        return confirmed(f, e);
    if (strcmp(t, "order.cancelled.v1") == 0)
        return released(f, e, "CANCELLED");
    if (strcmp(t, "order.expired.v1") == 0)
        return released(f, e, "EXPIRED");
    if (strcmp(t, "order.settled.v1") == 0)
        return settled(f, e);
    if (strcmp(t, "fill.cancelled.v1") == 0)
        return fill_cancelled(f, e);
    if (strcmp(t, "delivery.settled.v1") == 0)
        return delivery_settled(f, e);
    if (strcmp(t, "order.paid.v1") == 0)
        return paid(f, e);
    return 0;
}

/* ---- writing ---- */

struct order_bufs {
    struct copy_buf orders, lines;
};

static int order_encode(void *value, void *arg)
{
    struct fold_order *o = value;
    struct order_bufs *b = arg;
    struct copy_buf *ob = &b->orders, *lb = &b->lines;
    copy_fragment(ob, o->row);
    copy_text(ob, o->payer_id);
    copy_text(ob, o->status);
    copy_int(ob, o->filled_wh);
    copy_int(ob, o->amount);
    copy_int(ob, o->fee);
    copy_int(ob, o->total);
    copy_nint(ob, o->expires_at_ms);
    copy_nint(ob, o->confirmed_at_ms);
    copy_int(ob, o->refund);
    copy_int(ob, o->cancel_fee);
    copy_int(ob, o->paid_total);
    copy_int(ob, o->delivered_wh);
    copy_int(ob, o->updated_at_ms);
    copy_text(ob, o->last_event_id);
    copy_end_row(ob);
    for (struct fold_line *l = o->lines; l; l = l->next_in_order) {
        copy_fragment(lb, l->row);
        copy_text(lb, l->status);
        copy_nint(lb, l->delivered_wh);
        copy_nint(lb, l->curtailed_wh);
        copy_nint(lb, l->seller_paid);
        copy_nint(lb, l->buyer_refund);
        copy_text(lb, l->last_event_id);
        copy_end_row(lb);
    }
    return ob->oom || lb->oom ? -1 : 0;
}

bool fold_line_state(const struct fold *f, const char *fill_id, const char **status, const char **last_event_id)
{
    const struct fold_line *l = fold_map_get(&f->lines, fill_id);
    if (!l)
        return false;
    *status = l->status;
    *last_event_id = l->last_event_id;
    return true;
}

int fold_orders_write(struct fold *f, PGconn *db, const char *schema, char *err, size_t errlen)
{
    struct order_bufs b = {{0}, {0}};
    fold_map_each(&f->orders, order_encode, &b);
    int rc = fold_copy(db, schema, "orders",
                       "(order_id, market, buyer_id, quantity_wh, window_start_ms, window_end_ms,"
                       " created_at_ms, command_id, payer_id, status, filled_wh, amount, fee, total,"
                       " expires_at_ms, confirmed_at_ms, refund, cancel_fee, paid_total, delivered_wh,"
                       " updated_at_ms, last_event_id)",
                       &b.orders, err, errlen) ||
                     fold_copy(db, schema, "order_lines",
                               "(order_id, line, fill_id, offer_id, seller_id, quantity_wh, price_per_kwh,"
                               " amount, fee, score_ppm, delivery_start_ms, delivery_end_ms, status,"
                               " delivered_wh, curtailed_wh, seller_paid, buyer_refund, last_event_id)",
                               &b.lines, err, errlen) ||
                     fold_copy(db, schema, "order_status_history", "(event_id, order_id, status, at_ms, detail)",
                               &f->history_rows, err, errlen) ||
                     fold_copy(db, schema, "delivery_reports",
                               "(fill_id, event_id, order_id, seller_id, buyer_id, quantity_wh, delivered_wh,"
                               " curtailed_wh, seller_paid, buyer_refund, platform_fee, at_ms)",
                               &f->delivery_rows, err, errlen) ||
                     fold_fills_write(f, db, schema, err, errlen)
                 ? -1
                 : 0;
    copy_free(&b.orders);
    copy_free(&b.lines);
    return rc;
}
