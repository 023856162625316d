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

/* $1 event, $2 slot_ms */
static const char *FILL =
    "with e as (select $1::jsonb as v),"
    " l as (select status, last_event_id from order_lines, e where fill_id = v->>'fill_id'),"
    " ins as (insert into fills (fill_id, order_id, offer_id, seller_id, buyer_id, quantity_wh,"
    "   price_per_kwh, amount, fee, delivery_start_ms, delivery_end_ms, status, filled_at_ms, last_event_id)"
    "  select v->>'fill_id', v->>'order_id', v->>'offer_id', v->>'seller_id', v->>'buyer_id',"
    "   (v->>'quantity_wh')::bigint, (v->>'price_per_kwh')::bigint, (v->>'amount')::bigint,"
    "   (v->>'fee')::bigint, (v->>'delivery_start_ms')::bigint, (v->>'delivery_end_ms')::bigint,"
    "   coalesce((select case status when 'RELEASED' then 'CANCELLED_BY_BUYER'"
    "     when 'CANCELLED_BY_SELLER' then 'CANCELLED_BY_SELLER' when 'DELIVERED' then 'SETTLED' end"
    "     from l), 'SOLD'),"
    "   (v->>'occurred_at_ms')::bigint,"
    "   coalesce((select last_event_id from l"
    "     where status in ('RELEASED', 'CANCELLED_BY_SELLER', 'DELIVERED')), v->>'event_id')"
    "  from e)"
    " insert into market_slots as m (market, slot_start_ms, source_type, sold_wh, trades, amount,"
    "   price_min, price_max)"
    " select o.market, s.slot_start_ms, o.source_type, s.wh, 1, s.amount,"
    "   (v->>'price_per_kwh')::bigint, (v->>'price_per_kwh')::bigint"
    " from e join offers o on o.offer_id = v->>'offer_id',"
    "  p2p_spread((v->>'delivery_start_ms')::bigint, (v->>'delivery_end_ms')::bigint,"
    "   (v->>'quantity_wh')::bigint, (v->>'amount')::bigint, $2::bigint) s"
    " on conflict (market, slot_start_ms, source_type) do update set"
    "  sold_wh = m.sold_wh + excluded.sold_wh, trades = m.trades + excluded.trades,"
    "  amount = m.amount + excluded.amount, price_min = least(m.price_min, excluded.price_min),"
    "  price_max = greatest(m.price_max, excluded.price_max)";

int fills_projection_prepare(PGconn *db)
{
    return projection_prepare(db, "fill", FILL);
}

void fills_projection_apply(struct projection_context *c, const struct projected_event *e)
{
    if (strcmp(e->type, "fill.v1") != 0)
        return;
    char slot[24];
    snprintf(slot, sizeof slot, "%lld", (long long)c->slot_ms);
    const char *v[1] = {slot};
    projection_send(c, "fill", e, 1, v);
}
