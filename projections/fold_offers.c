/* Fold of the offers read model (the fast path of offers_projection.c):
 * `offers`, `offer_rejections`, `offer_energy` and `market_slots`.
 *
 * An offer's row is its first listing; remaining_wh is quantity_wh minus the
 * final offer_energy.taken_wh (what order lines hold and what was closed; the
 * orders fold adds to it), floored at 0, as the live statements recompute it
 * after every change; the status is that of the latest withdrawal or expiry,
 * else LISTED. market_slots: every listing spreads its energy over its slots,
 * every fill whose offer was listed spreads its sold energy and money over the
 * fill's slots (p2p_spread: equal shares, remainders one unit each to the
 * first slots), one trade per slot share, whatever the order they came in. */
#include <stdio.h>
#include <string.h>

#include "projections/fold.h"

struct slot_row {
    const char *market, *source_type;
    int64_t slot_start_ms, listed_wh, sold_wh, amount;
    int64_t trades;
    struct nint price_min, price_max;
};

static int listed(struct fold *f, const struct projected_event *e)
{
    const json_t *o = json_object_get(e->value, "offer");
    struct fold_offer *offer = fold_offer_ref(f, json_string_value(json_object_get(o, "offer_id")));
    if (!offer)
        return -1;
    if (offer->row) /* on conflict (offer_id) do nothing */
        return 0;
    struct copy_buf b = {0};
    copy_member(&b, o, "offer_id");
    copy_member(&b, e->value, "market");
    copy_member(&b, o, "seller_id");
    copy_member(&b, o, "source_type");
    copy_member(&b, o, "quantity_wh");
    copy_member(&b, o, "price_per_kwh");
    copy_member(&b, o, "currency");
    copy_member(&b, o, "min_order_wh");
    copy_member(&b, o, "delivery_start_ms");
    copy_member(&b, o, "delivery_end_ms");
    copy_member(&b, o, "meter_id");
    copy_member(&b, o, "valid_until_ms");
    copy_member(&b, e->value, "occurred_at_ms");
    copy_member(&b, e->value, "command_id");
    copy_text(&b, e->topic);
    copy_int(&b, e->partition);
    copy_int(&b, e->offset);
    offer->row = b.oom ? NULL : fold_str(f, b.data);
    copy_free(&b);
    offer->market = fold_member_str(f, e->value, "market");
    offer->source_type = fold_member_str(f, o, "source_type");
    offer->quantity_wh = json_member_int(o, "quantity_wh");
    offer->start_ms = json_member_int(o, "delivery_start_ms");
    offer->end_ms = json_member_int(o, "delivery_end_ms");
    return offer->row ? 0 : -1;
}

static int rejected(struct fold *f, const struct projected_event *e)
{
    const char *event_id = json_string_value(json_object_get(e->value, "event_id"));
    if (!event_id)
        event_id = "";
    if (fold_map_get(&f->rejections, event_id)) /* on conflict (event_id) do nothing */
        return 0;
    const char *key = fold_str(f, event_id);
    if (!key || fold_map_put(&f->rejections, key, (void *)key))
        return -1;
    struct copy_buf *b = &f->rejection_rows;
    const json_t *reason = json_object_get(e->value, "reason");
    copy_member(b, e->value, "event_id");
    copy_member(b, e->value, "offer_id");
    copy_member(b, e->value, "command_id");
    copy_member(b, e->value, "seller_id");
    copy_member(b, reason, "code");
    copy_member(b, reason, "field");
    copy_member(b, reason, "message");
    copy_member(b, e->value, "occurred_at_ms");
    copy_int(b, e->offset);
    copy_end_row(b);
    return b->oom ? -1 : 0;
}

static int closed(struct fold *f, const struct projected_event *e, const char *status)
{
    struct fold_offer *offer = fold_offer_ref(f, json_string_value(json_object_get(e->value, "offer_id")));
    if (!offer)
        return -1;
    offer->taken_wh += json_member_int(e->value, "wh");
    offer->has_energy = true;
    offer->closed_status = status;
    return 0;
}

int fold_offers_event(struct fold *f, const struct projected_event *e)
{
    if (strcmp(e->type, "offer.listed.v1") == 0)
        return listed(f, e);
    if (strcmp(e->type, "offer.rejected.v1") == 0)
        return rejected(f, e);
    if (strcmp(e->type, "offer.withdrawn.v1") == 0)
        return closed(f, e, "WITHDRAWN");
    if (strcmp(e->type, "offer.expired.v1") == 0)
        return closed(f, e, "EXPIRED");
    return 0;
}

/* ---- market_slots ---- */

struct slots {
    struct fold *f;
    struct fold_map map;
};

static struct slot_row *slot_of(struct slots *s, const char *market, const char *source_type, int64_t start)
{
    char key[512];
    snprintf(key, sizeof key, "%s\x1f%lld\x1f%s", market ? market : "", (long long)start,
             source_type ? source_type : "");
    struct slot_row *row = fold_map_get(&s->map, key);
    if (row)
        return row;
    row = fold_arena_alloc(&s->f->arena, sizeof *row);
    const char *k = fold_str(s->f, key);
    if (!row || !k || fold_map_put(&s->map, k, row))
        return NULL;
    row->market = market;
    row->source_type = source_type;
    row->slot_start_ms = start;
    return row;
}

/* p2p_spread(start, end, wh, amount, slot_ms) added to the slots of one
 * market and source type: listed energy, or (fill) sold energy, money, one
 * trade per share and the price. */
static int spread(struct slots *s, const char *market, const char *source_type, int64_t start, int64_t end,
                  int64_t wh, int64_t amount, const struct nint *price)
{
    int64_t slot = s->f->slot_ms, k = (end - start) / slot;
    if (k < 1)
        k = 1;
    for (int64_t i = 0; i < k; i++) {
        struct slot_row *row = slot_of(s, market, source_type, start + i * slot);
        if (!row)
            return -1;
        int64_t w = wh / k + (i < wh % k ? 1 : 0), a = amount / k + (i < amount % k ? 1 : 0);
        if (!price) {
            row->listed_wh += w;
            continue;
        }
        row->sold_wh += w;
        row->amount += a;
        row->trades++;
        if (!row->price_min.set || price->v < row->price_min.v)
            row->price_min = *price;
        if (!row->price_max.set || price->v > row->price_max.v)
            row->price_max = *price;
    }
    return 0;
}

static int spread_listing(void *value, void *arg)
{
    struct fold_offer *o = value;
    if (!o->row)
        return 0;
    return spread(arg, o->market, o->source_type, o->start_ms, o->end_ms, o->quantity_wh, 0, NULL);
}

static int slot_row_encode(void *value, void *arg)
{
    struct slot_row *row = value;
    struct copy_buf *b = arg;
    copy_text(b, row->market);
    copy_int(b, row->slot_start_ms);
    copy_text(b, row->source_type);
    copy_int(b, row->listed_wh);
    copy_int(b, row->sold_wh);
    copy_int(b, row->trades);
    copy_int(b, row->amount);
    copy_nint(b, row->price_min);
    copy_nint(b, row->price_max);
    copy_end_row(b);
    return b->oom ? -1 : 0;
}

static int market_slots_write(struct fold *f, PGconn *db, const char *schema, char *err, size_t errlen)
{
    struct slots s = {.f = f};
    struct copy_buf b = {0};
    int rc = fold_map_each(&f->offers, spread_listing, &s);
    for (struct fold_fill *x = f->fill_list; x && rc == 0; x = x->next) {
        struct fold_offer *o = fold_map_get(&f->offers, x->offer_id);
        struct nint price = {x->price_per_kwh, true};
        if (o && o->row)
            rc = spread(&s, o->market, o->source_type, x->start_ms, x->end_ms, x->quantity_wh, x->amount,
                        &price);
    }
    if (rc == 0)
        rc = fold_map_each(&s.map, slot_row_encode, &b);
    if (rc)
        snprintf(err, errlen, "out of memory computing market_slots");
    else
        rc = fold_copy(db, schema, "market_slots",
                       "(market, slot_start_ms, source_type, listed_wh, sold_wh, trades, amount, price_min,"
                       " price_max)",
                       &b, err, errlen);
    copy_free(&b);
    fold_map_free(&s.map);
    return rc;
}

/* ---- offers, offer_energy ---- */

struct offer_bufs {
    struct copy_buf offers, energy;
};

static int offer_encode(void *value, void *arg)
{
    struct fold_offer *o = value;
    struct offer_bufs *b = arg;
    if (o->row) {
        int64_t remaining = o->quantity_wh - o->taken_wh;
        copy_fragment(&b->offers, o->row);
        copy_int(&b->offers, remaining > 0 ? remaining : 0);
        copy_text(&b->offers, o->closed_status ? o->closed_status : "LISTED");
        copy_end_row(&b->offers);
    }
    if (o->has_energy) {
        copy_text(&b->energy, o->offer_id);
        copy_int(&b->energy, o->taken_wh);
        copy_end_row(&b->energy);
    }
    return b->offers.oom || b->energy.oom ? -1 : 0;
}

int fold_offers_write(struct fold *f, PGconn *db, const char *schema, char *err, size_t errlen)
{
    struct offer_bufs b = {{0}, {0}};
    fold_map_each(&f->offers, offer_encode, &b);
    int rc = fold_copy(db, schema, "offers",
                       "(offer_id, market, seller_id, source_type, quantity_wh, price_per_kwh, currency,"
                       " min_order_wh, delivery_start_ms, delivery_end_ms, meter_id, valid_until_ms,"
                       " listed_at_ms, command_id, event_topic, event_partition, event_offset, remaining_wh,"
                       " status)",
                       &b.offers, err, errlen) ||
                     fold_copy(db, schema, "offer_energy", "(offer_id, taken_wh)", &b.energy, err, errlen) ||
                     fold_copy(db, schema, "offer_rejections",
                               "(event_id, offer_id, command_id, seller_id, code, field, message,"
                               " rejected_at_ms, event_offset)",
                               &f->rejection_rows, err, errlen) ||
                     market_slots_write(f, db, schema, err, errlen)
                 ? -1
                 : 0;
    copy_free(&b.offers);
    copy_free(&b.energy);
    return rc;
}
