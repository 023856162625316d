/* Fold of the fills read model (the fast path of fills_projection.c): one
 * `fills` row per fill.v1, whose status and last event are derived at the
 * end from its order line (fold_orders.c): RELEASED -> CANCELLED_BY_BUYER,
 * CANCELLED_BY_SELLER, DELIVERED -> SETTLED with the line's last event, else
 * SOLD with the fill's own event. That is what the live statements leave
 * whichever of fill.v1 and the line's events came first: every event that
 * puts a line into one of those states moves the fill the same way, and no
 * event takes a line out of them except into another of them. The sold side
 * of market_slots is counted by fold_offers.c from fold.fill_list. */
#include <string.h>

#include "projections/fold.h"

static const char *member(const json_t *v, const char *key)
{
    return json_string_value(json_object_get(v, key));
}

int fold_fills_event(struct fold *f, const struct projected_event *e)
{
    if (strcmp(e->type, "fill.v1") != 0)
        return 0;
    const json_t *v = e->value;
    const char *id = member(v, "fill_id");
    if (!id || fold_map_get(&f->fills, id))
        return 0; /* the live insert would refuse it */
    struct fold_fill *x = fold_arena_alloc(&f->arena, sizeof *x);
    if (!x || !(x->fill_id = fold_str(f, id)) || fold_map_put(&f->fills, x->fill_id, x))
        return -1;
    struct copy_buf b = {0};
    static const char *const cols[] = {"fill_id",  "order_id",    "offer_id",      "seller_id",
                                       "buyer_id", "quantity_wh", "price_per_kwh", "amount",
                                       "fee",      "delivery_start_ms", "delivery_end_ms", "occurred_at_ms"};
    for (size_t i = 0; i < sizeof cols / sizeof *cols; i++)
        copy_member(&b, v, cols[i]);
    x->row = b.oom ? NULL : fold_str(f, b.data);
    copy_free(&b);
    x->event_id = fold_member_str(f, v, "event_id");
    x->offer_id = fold_member_str(f, v, "offer_id");
    x->quantity_wh = json_member_int(v, "quantity_wh");
    x->amount = json_member_int(v, "amount");
    x->price_per_kwh = json_member_int(v, "price_per_kwh");
    x->start_ms = json_member_int(v, "delivery_start_ms");
    x->end_ms = json_member_int(v, "delivery_end_ms");
    x->next = f->fill_list;
    f->fill_list = x;
    return x->row ? 0 : -1;
}

static const char *fill_status(const char *line_status)
{
    if (strcmp(line_status, "RELEASED") == 0)
        return "CANCELLED_BY_BUYER";
    if (strcmp(line_status, "CANCELLED_BY_SELLER") == 0)
        return "CANCELLED_BY_SELLER";
    if (strcmp(line_status, "DELIVERED") == 0)
        return "SETTLED";
    return NULL;
}

int fold_fills_write(struct fold *f, PGconn *db, const char *schema, char *err, size_t errlen)
{
    struct copy_buf b = {0};
    for (struct fold_fill *x = f->fill_list; x; x = x->next) {
        const char *line_status = NULL, *line_event_id = NULL;
        const char *status = fold_line_state(f, x->fill_id, &line_status, &line_event_id)
                                 ? fill_status(line_status)
                                 : NULL;
        copy_fragment(&b, x->row);
        copy_text(&b, status ? status : "SOLD");
        copy_text(&b, status ? line_event_id : x->event_id);
        copy_end_row(&b);
    }
    int rc = fold_copy(db, schema, "fills",
                       "(fill_id, order_id, offer_id, seller_id, buyer_id, quantity_wh, price_per_kwh, amount,"
                       " fee, delivery_start_ms, delivery_end_ms, filled_at_ms, status, last_event_id)",
                       &b, err, errlen);
    copy_free(&b);
    return rc;
}

