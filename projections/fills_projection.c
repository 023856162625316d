/* The fills read model: `fills` (one row per sold line, fill.v1 on topic
 * fills) and the sold side of `market_slots`.
 *
 * A fill's later fate (buyer or seller cancellation, delivery) is decided by
 * events of topic order-events, which may be projected before the fill.v1
 * itself: the fill then starts from its line's state in order_lines, and
 * orders_projection.c moves it when the fill came first. Sold energy counts in
 * market_slots once the offer (for its market and source type) is known: here
 * when the offer is already projected, else when it is (offers_projection.c). */
#include <stdio.h>
#include <string.h>

#include "projections/projection.h"

/* $1: the batch's fill.v1 events; $2 slot_ms. */
static const char *FILLS =
    "with e as (select v from jsonb_array_elements($1::jsonb) as a(v)),"
    " ins as (insert into fills (fill_id, order_id, offer_id, seller_id, buyer_id, quantity_wh,"
    "   price_per_kwh, amount, fee, delivery_start_ms, delivery_end_ms, status, filled_at_ms, last_event_id)"
    "  select v->>'fill_id', v->>'order_id', v->>'offer_id', v->>'seller_id', v->>'buyer_id',"
    "   (v->>'quantity_wh')::bigint, (v->>'price_per_kwh')::bigint, (v->>'amount')::bigint,"
    "   (v->>'fee')::bigint, (v->>'delivery_start_ms')::bigint, (v->>'delivery_end_ms')::bigint,"
    "   coalesce(case l.status when 'RELEASED' then 'CANCELLED_BY_BUYER'"
    "     when 'CANCELLED_BY_SELLER' then 'CANCELLED_BY_SELLER' when 'DELIVERED' then 'SETTLED' end, 'SOLD'),"
    "   (v->>'occurred_at_ms')::bigint,"
    "   case when l.status in ('RELEASED', 'CANCELLED_BY_SELLER', 'DELIVERED') then l.last_event_id"
    "    else v->>'event_id' end"
    "  from e left join order_lines l on l.fill_id = v->>'fill_id')"
    " insert into market_slots as m (market, slot_start_ms, source_type, sold_wh, trades, amount,"
    "   price_min, price_max)"
    " select o.market, s.slot_start_ms, o.source_type, sum(s.wh), count(*), sum(s.amount),"
    "   min((v->>'price_per_kwh')::bigint), max((v->>'price_per_kwh')::bigint)"
    " from e join offers o on o.offer_id = v->>'offer_id',"
    "  p2p_spread((v->>'delivery_start_ms')::bigint, (v->>'delivery_end_ms')::bigint,"
    "   (v->>'quantity_wh')::bigint, (v->>'amount')::bigint, $2::bigint) s"
    " group by o.market, s.slot_start_ms, o.source_type"
    " on conflict (market, slot_start_ms, source_type) do update set"
    "  sold_wh = m.sold_wh + excluded.sold_wh, trades = m.trades + excluded.trades,"
    "  amount = m.amount + excluded.amount, price_min = least(m.price_min, excluded.price_min),"
    "  price_max = greatest(m.price_max, excluded.price_max)";

int fills_projection_prepare(PGconn *db)
{
    return projection_prepare(db, "fills", FILLS);
}

void fills_projection_apply(struct projection_context *c, const struct projected_event *e)
{
    if (strcmp(e->type, "fill.v1") == 0)
        projection_array_add(c, ARRAY_FILLS, e->json);
}

void fills_projection_flush(struct projection_context *c)
{
    char slot[24];
    snprintf(slot, sizeof slot, "%lld", (long long)c->slot_ms);
    const char *extra[1] = {slot};
    projection_array_send_with(c, ARRAY_FILLS, "fills", 1, extra);
}
