/* The offers read model: `offers`, `offer_rejections`, `offer_energy` and the
 * listed side of `market_slots`, from offer.listed/rejected/withdrawn/expired
 * (topic offer-events).
 *
 * remaining_wh is quantity_wh minus offer_energy.taken_wh, the sum of what
 * order lines hold and what was closed; order events add to that sum too
 * (orders_projection.c), possibly before the offer's listing is projected, so
 * the listing starts from whatever was taken already. Sold energy of fills
 * projected before their offer is added to market_slots here (the fills module
 * adds it when the offer came first): each fill counts once. */
#include <stdio.h>
#include <string.h>

#include "projections/projection.h"

/* $1 event, $2 topic, $3 partition, $4 offset, $5 slot_ms */
static const char *LIST_OFFER =
    "with f as (select $1::jsonb->'offer' as o, $1::jsonb->>'market' as market),"
    " ins as (insert into offers (offer_id, market, seller_id, source_type, quantity_wh, remaining_wh,"
    "   price_per_kwh, currency, min_order_wh, delivery_start_ms, delivery_end_ms, meter_id,"
    "   valid_until_ms, status, listed_at_ms, command_id, event_topic, event_partition, event_offset)"
    "  select o->>'offer_id', market, o->>'seller_id', o->>'source_type', (o->>'quantity_wh')::bigint,"
    "   greatest(0, (o->>'quantity_wh')::bigint - coalesce((select taken_wh from offer_energy"
    "     where offer_id = o->>'offer_id'), 0)),"
    "   (o->>'price_per_kwh')::bigint, o->>'currency', (o->>'min_order_wh')::bigint,"
    "   (o->>'delivery_start_ms')::bigint, (o->>'delivery_end_ms')::bigint, o->>'meter_id',"
    "   (o->>'valid_until_ms')::bigint, 'LISTED', ($1::jsonb->>'occurred_at_ms')::bigint,"
    "   $1::jsonb->>'command_id', $2, $3::int, $4::bigint from f"
    "  on conflict (offer_id) do nothing)"
    " insert into market_slots as m (market, slot_start_ms, source_type, listed_wh, sold_wh, trades,"
    "   amount, price_min, price_max)"
    " select market, slot_start_ms, source_type, sum(listed), sum(sold), sum(trades), sum(amount),"
    "   min(price), max(price) from ("
    "  select f.market, s.slot_start_ms, f.o->>'source_type' as source_type, s.wh as listed,"
    "    0::bigint as sold, 0 as trades, 0::bigint as amount, null::bigint as price"
    "   from f, p2p_spread((f.o->>'delivery_start_ms')::bigint, (f.o->>'delivery_end_ms')::bigint,"
    "    (f.o->>'quantity_wh')::bigint, 0, $5::bigint) s"
    "  union all"
    "  select f.market, s.slot_start_ms, f.o->>'source_type', 0, s.wh, 1, s.amount, x.price_per_kwh"
    "   from f join fills x on x.offer_id = f.o->>'offer_id',"
    "    p2p_spread(x.delivery_start_ms, x.delivery_end_ms, x.quantity_wh, x.amount, $5::bigint) s"
    " ) parts group by market, slot_start_ms, source_type"
    " on conflict (market, slot_start_ms, source_type) do update set"
    "  listed_wh = m.listed_wh + excluded.listed_wh, sold_wh = m.sold_wh + excluded.sold_wh,"
    "  trades = m.trades + excluded.trades, amount = m.amount + excluded.amount,"
    "  price_min = least(m.price_min, excluded.price_min),"
    "  price_max = greatest(m.price_max, excluded.price_max)";

/* $1 event, $2 status (WITHDRAWN, EXPIRED) */
static const char *CLOSE_OFFER =
    "with t as (insert into offer_energy (offer_id, taken_wh)"
    "  values ($1::jsonb->>'offer_id', ($1::jsonb->>'wh')::bigint)"
    "  on conflict (offer_id) do update set taken_wh = offer_energy.taken_wh + excluded.taken_wh"
    "  returning offer_id, taken_wh)"
    " update offers o set remaining_wh = greatest(0, o.quantity_wh - t.taken_wh), status = $2"
    " from t where o.offer_id = t.offer_id";

/* $1 event, $2 offset */
static const char *REJECT_OFFER =
    "insert into offer_rejections (event_id, offer_id, command_id, seller_id, code, field,"
    " message, rejected_at_ms, event_offset)"
    " select v->>'event_id', v->>'offer_id', v->>'command_id', v->>'seller_id', v->'reason'->>'code',"
    "  v->'reason'->>'field', v->'reason'->>'message', (v->>'occurred_at_ms')::bigint, $2::bigint"
    " from (select $1::jsonb as v) e on conflict (event_id) do nothing";

int offers_projection_prepare(PGconn *db)
{
    return projection_prepare(db, "offer_listed", LIST_OFFER) ||
           projection_prepare(db, "offer_closed", CLOSE_OFFER) ||
           projection_prepare(db, "offer_rejected", REJECT_OFFER);
}

void offers_projection_apply(struct projection_context *c, const struct projected_event *e)
{
    char partition[16], offset[24], slot[24];
    snprintf(partition, sizeof partition, "%d", (int)e->partition);
    snprintf(offset, sizeof offset, "%lld", (long long)e->offset);
    snprintf(slot, sizeof slot, "%lld", (long long)c->slot_ms);
    if (strcmp(e->type, "offer.listed.v1") == 0) {
        const char *v[4] = {e->topic, partition, offset, slot};
        const char *values[5] = {e->json, v[0], v[1], v[2], v[3]};
        pipeline_send(c->pl, "offer_listed", 5, values, -1, "offer_listed");
    } else if (strcmp(e->type, "offer.withdrawn.v1") == 0) {
        const char *v[1] = {"WITHDRAWN"};
        projection_send(c, "offer_closed", e, 1, v);
    } else if (strcmp(e->type, "offer.expired.v1") == 0) {
        const char *v[1] = {"EXPIRED"};
        projection_send(c, "offer_closed", e, 1, v);
    } else if (strcmp(e->type, "offer.rejected.v1") == 0) {
        const char *v[1] = {offset};
        projection_send(c, "offer_rejected", e, 1, v);
    }
}
