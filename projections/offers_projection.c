/* The offers read model: `offers`, `offer_rejections`, `offer_energy` and the
 * listed side of `market_slots`, from offer.listed/rejected/withdrawn/expired
 * (topic offer-events). The offer events of a batch are applied by one
 * statement at its end.
 *
 * remaining_wh is quantity_wh minus offer_energy.taken_wh, the sum of what
 * order lines hold and what was closed; order events add to that sum too
 * (orders_projection.c), possibly before the offer's listing is projected, so
 * a listing starts from whatever was taken already. An offer's status is that
 * of its latest withdrawal or expiry (events of this one topic, in order).
 * Sold energy of fills projected before their offer is added to market_slots
 * here (the fills module adds it when the offer came first): each fill counts
 * once. */
#include <stdio.h>
#include <string.h>

#include "projections/projection.h"

/* $1: [{t: L(isted) | R(ejected) | W(ithdrawn) | X (expired), p: partition,
 * o: offset, v: event}, ...] in topic order; $2 the topic; $3 slot_ms. */
static const char *OFFER_EVENTS =
    "with e as (select x->>'t' as t, (x->>'p')::int as part, (x->>'o')::bigint as off, x->'v' as v, ord"
    "  from jsonb_array_elements($1::jsonb) with ordinality as a(x, ord)),"
    " rej as (insert into offer_rejections (event_id, offer_id, command_id, seller_id, code, field,"
    "   message, rejected_at_ms, event_offset)"
    "  select v->>'event_id', v->>'offer_id', v->>'command_id', v->>'seller_id', v->'reason'->>'code',"
    "   v->'reason'->>'field', v->'reason'->>'message', (v->>'occurred_at_ms')::bigint, off"
    "  from e where t = 'R' on conflict (event_id) do nothing),"
    " closed as (select v->>'offer_id' as offer_id, sum((v->>'wh')::bigint) as wh,"
    "   (array_agg(case t when 'W' then 'WITHDRAWN' else 'EXPIRED' end order by ord desc))[1] as status"
    "  from e where t in ('W', 'X') group by 1),"
    " taken as (insert into offer_energy (offer_id, taken_wh) select offer_id, wh from closed"
    "  on conflict (offer_id) do update set taken_wh = offer_energy.taken_wh + excluded.taken_wh"
    "  returning offer_id, taken_wh),"
    " listed as (select v->'offer' as o, v, part, off from e where t = 'L'),"
    " ins as (insert into offers (offer_id, market, seller_id, source_type, quantity_wh, remaining_wh,"
    "   price_per_kwh, currency, min_order_wh, delivery_start_ms, delivery_end_ms, meter_id,"
    "   valid_until_ms, status, listed_at_ms, command_id, event_topic, event_partition, event_offset)"
    "  select o->>'offer_id', v->>'market', o->>'seller_id', o->>'source_type', (o->>'quantity_wh')::bigint,"
    "   greatest(0, (o->>'quantity_wh')::bigint - coalesce(tk.taken_wh, oe.taken_wh, 0)),"
    "   (o->>'price_per_kwh')::bigint, o->>'currency', (o->>'min_order_wh')::bigint,"
    "   (o->>'delivery_start_ms')::bigint, (o->>'delivery_end_ms')::bigint, o->>'meter_id',"
    "   (o->>'valid_until_ms')::bigint, coalesce(c.status, 'LISTED'), (v->>'occurred_at_ms')::bigint,"
    "   v->>'command_id', $2, part, off"
    "  from listed l left join taken tk on tk.offer_id = l.o->>'offer_id'"
    "   left join offer_energy oe on oe.offer_id = l.o->>'offer_id'"
    "   left join closed c on c.offer_id = l.o->>'offer_id'"
    "  on conflict (offer_id) do nothing),"
    " upd as (update offers o set remaining_wh = greatest(0, o.quantity_wh - tk.taken_wh), status = c.status"
    "  from taken tk join closed c on c.offer_id = tk.offer_id where o.offer_id = tk.offer_id)"
    " insert into market_slots as m (market, slot_start_ms, source_type, listed_wh, sold_wh, trades,"
    "   amount, price_min, price_max)"
    " select market, slot_start_ms, source_type, sum(listed), sum(sold), sum(trades), sum(amount),"
    "   min(price), max(price) from ("
    "  select l.v->>'market' as market, s.slot_start_ms, l.o->>'source_type' as source_type, s.wh as listed,"
    "    0::bigint as sold, 0 as trades, 0::bigint as amount, null::bigint as price"
    "   from listed l, p2p_spread((l.o->>'delivery_start_ms')::bigint, (l.o->>'delivery_end_ms')::bigint,"
    "    (l.o->>'quantity_wh')::bigint, 0, $3::bigint) s"
    "  union all"
    "  select l.v->>'market', s.slot_start_ms, l.o->>'source_type', 0, s.wh, 1, s.amount, x.price_per_kwh"
    "   from listed l join fills x on x.offer_id = l.o->>'offer_id',"
    "    p2p_spread(x.delivery_start_ms, x.delivery_end_ms, x.quantity_wh, x.amount, $3::bigint) s"
    " ) parts group by market, slot_start_ms, source_type"
    " on conflict (market, slot_start_ms, source_type) do update set"
    "  listed_wh = m.listed_wh + excluded.listed_wh, sold_wh = m.sold_wh + excluded.sold_wh,"
    "  trades = m.trades + excluded.trades, amount = m.amount + excluded.amount,"
    "  price_min = least(m.price_min, excluded.price_min),"
    "  price_max = greatest(m.price_max, excluded.price_max)";

int offers_projection_prepare(PGconn *db)
{
    return projection_prepare(db, "offer_events", OFFER_EVENTS);
}

/* The topic name of the batch's offer events (one topic). */
static char offer_topic[160];

void offers_projection_apply(struct projection_context *c, const struct projected_event *e)
{
    const char *tag = strcmp(e->type, "offer.listed.v1") == 0      ? "L"
                      : strcmp(e->type, "offer.rejected.v1") == 0  ? "R"
                      : strcmp(e->type, "offer.withdrawn.v1") == 0 ? "W"
                      : strcmp(e->type, "offer.expired.v1") == 0   ? "X"
                                                                   : NULL;
    if (!tag)
        return;
    snprintf(offer_topic, sizeof offer_topic, "%s", e->topic);
    projection_array_add_tagged(c, ARRAY_OFFERS, tag, e);
}

void offers_projection_flush(struct projection_context *c)
{
    char slot[24];
    snprintf(slot, sizeof slot, "%lld", (long long)c->slot_ms);
    const char *extra[2] = {offer_topic, slot};
    projection_array_send_with(c, ARRAY_OFFERS, "offer_events", 2, extra);
}
