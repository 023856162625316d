/* The orders read model: `orders`, `order_lines`, `order_status_history` and
 * `delivery_reports`, from the order events of topic order-events (reserved,
 * confirmed, cancelled, expired, settled, fill.cancelled, delivery.settled,
 * and order.paid when the engine emits it). They arrive in the engine's order
 * (one partition per market), so each statement applies a plain transition.
 *
 * Effects on other read models that the events of this topic decide:
 *  - energy: reserved lines add to offer_energy.taken_wh, released lines
 *    (expiry, buyer cancellation) subtract, and the offer's remaining_wh is
 *    recomputed (a sum: the offer may be listed later in projection order).
 *    The reservations of a batch are added up per offer and applied by one
 *    statement at its end (orders_projection_flush): a popular offer is
 *    otherwise one row updated by every order, and PostgreSQL walks all the
 *    versions a transaction made of a row on each update (quadratic in the
 *    batch). Sums commute, and remaining_wh is recomputed from the final sum,
 *    so the read model ends the batch exactly as with per-event updates;
 *  - fills: a buyer cancellation, seller cancellation or delivery moves the
 *    fill row when it exists (fills_projection.c takes the line's state when
 *    the fill arrives later).
 *
 * Reservations and confirmations, two events per order, are applied as runs:
 * the order.reserved events are collected into one array and the
 * order.confirmed events into another, and both are applied by one set-based
 * statement each (reserved first) before any other statement of this module
 * and at the batch's end, before the fills (which read order_lines). A
 * confirmation only follows its own order's reservation and touches only that
 * order's rows, and a reservation only inserts rows of a new order, so
 * applying the run's reservations before its confirmations ends in the same
 * state as applying the events one by one; the history's order comes from
 * at_ms and event_id, not from insertion. Two statements per batch instead of
 * two per order: at 1,000 orders/s the per-event statements were most of the
 * projector's PostgreSQL time. */
#include <string.h>

#include "projections/projection.h"

/* Recomputes remaining_wh of the offers in CTE t(offer_id, taken_wh). */
#define UPDATE_OFFERS_FROM_T                                                                       \
    " update offers o set remaining_wh = greatest(0, o.quantity_wh - t.taken_wh)"                  \
    " from t where o.offer_id = t.offer_id"

#define ADD_TAKEN(from)                                                                            \
    " t as (insert into offer_energy (offer_id, taken_wh) " from                                   \
    "  on conflict (offer_id) do update set taken_wh = offer_energy.taken_wh + excluded.taken_wh" \
    "  returning offer_id, taken_wh)"

#define HISTORY(status, detail)                                                                    \
    " h as (insert into order_status_history (event_id, order_id, status, at_ms, detail)"          \
    "  select v->>'event_id', v->>'order_id', " status ", (v->>'occurred_at_ms')::bigint, " detail \
    "  from e)"

/* $1: [order.reserved event, ...] */
static const char *RESERVED =
    "with e as (select v from jsonb_array_elements($1::jsonb) as a(v)),"
    " o as (insert into orders (order_id, market, buyer_id, payer_id, status, quantity_wh,"
    "   window_start_ms, window_end_ms, filled_wh, amount, fee, total, expires_at_ms, created_at_ms,"
    "   updated_at_ms, command_id, last_event_id)"
    "  select v->>'order_id', v->>'market', v->>'buyer_id', v->>'payer_id', 'RESERVED',"
    "   (v->>'quantity_wh')::bigint, (v->>'window_start_ms')::bigint, (v->>'window_end_ms')::bigint,"
    "   (v->>'filled_wh')::bigint, (v->>'amount')::bigint, (v->>'fee')::bigint, (v->>'total')::bigint,"
    "   (v->>'expires_at_ms')::bigint, (v->>'occurred_at_ms')::bigint, (v->>'occurred_at_ms')::bigint,"
    "   v->>'command_id', v->>'event_id' from e),"
    " l as (insert into order_lines (order_id, line, fill_id, offer_id, seller_id, quantity_wh,"
    "   price_per_kwh, amount, fee, score_ppm, delivery_start_ms, delivery_end_ms, status, last_event_id)"
    "  select v->>'order_id', (x->>'line')::int, x->>'fill_id', x->>'offer_id', x->>'seller_id',"
    "   (x->>'quantity_wh')::bigint, (x->>'price_per_kwh')::bigint, (x->>'amount')::bigint,"
    "   (x->>'fee')::bigint, (x->>'score_ppm')::int, (x->>'delivery_start_ms')::bigint,"
    "   (x->>'delivery_end_ms')::bigint, 'RESERVED', v->>'event_id'"
    "  from e, jsonb_array_elements(v->'lines') x)"
    " insert into order_status_history (event_id, order_id, status, at_ms, detail)"
    " select v->>'event_id', v->>'order_id', 'RESERVED', (v->>'occurred_at_ms')::bigint,"
    "  jsonb_build_object('expires_at_ms', v->'expires_at_ms', 'filled_wh', v->'filled_wh',"
    "   'total', v->'total') from e";

/* $1: [order.reserved event, ...] of a batch: their lines' energy, summed per
 * offer, is taken from the offers. */
static const char *RESERVED_ENERGY =
    "with" ADD_TAKEN("select x->>'offer_id', sum((x->>'quantity_wh')::bigint)"
                     "  from jsonb_array_elements($1::jsonb) v, jsonb_array_elements(v->'lines') x"
                     "  group by 1")
    UPDATE_OFFERS_FROM_T;

/* $1: [order.confirmed event, ...], of orders reserved before */
static const char *CONFIRMED =
    "with e as (select v from jsonb_array_elements($1::jsonb) as a(v)),"
    " o as (update orders set status = 'CONFIRMED', payer_id = coalesce(e.v->>'payer_id', payer_id),"
    "   filled_wh = (v->>'filled_wh')::bigint, amount = (v->>'amount')::bigint, fee = (v->>'fee')::bigint,"
    "   total = (v->>'total')::bigint, expires_at_ms = null,"
    "   confirmed_at_ms = (v->>'occurred_at_ms')::bigint, updated_at_ms = (v->>'occurred_at_ms')::bigint,"
    "   last_event_id = v->>'event_id' from e where order_id = v->>'order_id'),"
    HISTORY("'CONFIRMED'", "jsonb_build_object('total', v->'total')")
    /* = any(array(...)): an index condition whatever the statistics were
     * when the generic plan was made (a join condition alone let it scan
     * every line, the table being empty at the projector's start) */
    " update order_lines set status = 'SOLD', last_event_id = v->>'event_id'"
    " from e where order_id = any(array(select v->>'order_id' from e))"
    " and order_id = v->>'order_id' and status = 'RESERVED'";

/* order.cancelled / order.expired: $2 = CANCELLED | EXPIRED. Open lines
 * (reserved or sold) are released; their energy goes back to the offers. */
static const char *RELEASED =
    "with e as (select $1::jsonb as v),"
    " rel as (update order_lines set status = 'RELEASED', last_event_id = v->>'event_id'"
    "   from e where order_id = v->>'order_id' and status in ('RESERVED', 'SOLD')"
    "   returning offer_id, quantity_wh, fill_id),"
    " f as (update fills set status = 'CANCELLED_BY_BUYER', last_event_id = v->>'event_id'"
    "   from e where fill_id in (select fill_id from rel)),"
    " o as (update orders set status = $2::text, expires_at_ms = null,"
    "   refund = refund + (v->>'refund')::bigint, cancel_fee = cancel_fee + (v->>'cancel_fee')::bigint,"
    "   updated_at_ms = (v->>'occurred_at_ms')::bigint, last_event_id = v->>'event_id'"
    "   from e where order_id = v->>'order_id'),"
    HISTORY("$2::text", "jsonb_build_object('released_wh', v->'released_wh', 'refund', v->'refund',"
                  " 'cancel_fee', v->'cancel_fee')") ","
    ADD_TAKEN("select offer_id, -sum(quantity_wh) from rel group by offer_id")
    UPDATE_OFFERS_FROM_T;

static const char *SETTLED =
    "with e as (select $1::jsonb as v),"
    HISTORY("'SETTLED'", "'{}'::jsonb")
    " update orders set status = 'SETTLED', updated_at_ms = (v->>'occurred_at_ms')::bigint,"
    "  last_event_id = v->>'event_id' from e where order_id = v->>'order_id'";

/* The seller cancelled a sold line: its energy is closed (neither open nor
 * taken changes: sold becomes closed), the buyer is refunded. */
static const char *FILL_CANCELLED =
    "with e as (select $1::jsonb as v),"
    " l as (update order_lines set status = 'CANCELLED_BY_SELLER', buyer_refund = (v->>'refund')::bigint,"
    "   last_event_id = v->>'event_id' from e where fill_id = v->>'fill_id'),"
    " f as (update fills set status = 'CANCELLED_BY_SELLER', last_event_id = v->>'event_id'"
    "   from e where fill_id = v->>'fill_id')"
    " update orders set refund = refund + (v->>'refund')::bigint,"
    "  updated_at_ms = (v->>'occurred_at_ms')::bigint, last_event_id = v->>'event_id'"
    " from e where order_id = v->>'order_id'";

static const char *DELIVERY_SETTLED =
    "with e as (select $1::jsonb as v),"
    " l as (update order_lines set status = 'DELIVERED', delivered_wh = (v->>'delivered_wh')::bigint,"
    "   curtailed_wh = (v->>'curtailed_wh')::bigint, seller_paid = (v->>'seller_paid')::bigint,"
    "   buyer_refund = (v->>'buyer_refund')::bigint, last_event_id = v->>'event_id'"
    "   from e where fill_id = v->>'fill_id'),"
    " f as (update fills set status = 'SETTLED', last_event_id = v->>'event_id'"
    "   from e where fill_id = v->>'fill_id'),"
    " r as (insert into delivery_reports (fill_id, event_id, order_id, seller_id, buyer_id, quantity_wh,"
    "   delivered_wh, curtailed_wh, seller_paid, buyer_refund, platform_fee, at_ms)"
    "  select v->>'fill_id', v->>'event_id', v->>'order_id', v->>'seller_id', v->>'buyer_id',"
    "   (v->>'quantity_wh')::bigint, (v->>'delivered_wh')::bigint, (v->>'curtailed_wh')::bigint,"
    "   (v->>'seller_paid')::bigint, (v->>'buyer_refund')::bigint, (v->>'platform_fee')::bigint,"
    "   (v->>'occurred_at_ms')::bigint from e)"
    " update orders set delivered_wh = delivered_wh + (v->>'delivered_wh')::bigint,"
    "  refund = refund + (v->>'buyer_refund')::bigint,"
    "  updated_at_ms = (v->>'occurred_at_ms')::bigint, last_event_id = v->>'event_id'"
    " from e where order_id = v->>'order_id'";

/* order.paid (the platform paying for the buyer paid): what it paid so far. */
static const char *PAID =
    "update orders set payer_id = coalesce(v->>'payer_id', payer_id),"
    " paid_total = (v->>'paid_total')::bigint,"
    " updated_at_ms = (v->>'occurred_at_ms')::bigint, last_event_id = v->>'event_id'"
    " from (select $1::jsonb as v) e where order_id = v->>'order_id'";

int orders_projection_prepare(PGconn *db)
{
    return projection_prepare(db, "orders_reserved", RESERVED) ||
           projection_prepare(db, "orders_confirmed", CONFIRMED) ||
           projection_prepare(db, "order_released", RELEASED) ||
           projection_prepare(db, "order_settled", SETTLED) ||
           projection_prepare(db, "fill_cancelled", FILL_CANCELLED) ||
           projection_prepare(db, "delivery_settled", DELIVERY_SETTLED) ||
           projection_prepare(db, "order_paid", PAID) ||
           projection_prepare(db, "order_reserved_energy", RESERVED_ENERGY);
}

/* Applies the run of reservations, then of confirmations, collected so far. */
static void send_runs(struct projection_context *c)
{
    projection_array_send(c, ARRAY_RESERVED, "orders_reserved");
    projection_array_send(c, ARRAY_CONFIRMED, "orders_confirmed");
}

void orders_projection_apply(struct projection_context *c, const struct projected_event *e)
{
    static const char *const cancelled[1] = {"CANCELLED"}, *const expired[1] = {"EXPIRED"};
    const char *t = e->type;
    if (strcmp(t, "order.reserved.v1") == 0) {
        projection_array_add(c, ARRAY_RESERVED, e->json);
        projection_array_add(c, ARRAY_ENERGY, e->json);
        return;
    }
    if (strcmp(t, "order.confirmed.v1") == 0) {
        projection_array_add(c, ARRAY_CONFIRMED, e->json);
        return;
    }
    if (strcmp(t, "order.cancelled.v1") == 0 || strcmp(t, "order.expired.v1") == 0 ||
        strcmp(t, "order.settled.v1") == 0 || strcmp(t, "fill.cancelled.v1") == 0 ||
        strcmp(t, "delivery.settled.v1") == 0 || strcmp(t, "order.paid.v1") == 0)
        send_runs(c); /* the statement below sees the run applied */
    if (strcmp(t, "order.cancelled.v1") == 0)
        projection_send(c, "order_released", e, 1, cancelled);
    else if (strcmp(t, "order.expired.v1") == 0)
        projection_send(c, "order_released", e, 1, expired);
    else if (strcmp(t, "order.settled.v1") == 0)
        projection_send(c, "order_settled", e, 0, NULL);
    else if (strcmp(t, "fill.cancelled.v1") == 0)
        projection_send(c, "fill_cancelled", e, 0, NULL);
    else if (strcmp(t, "delivery.settled.v1") == 0)
        projection_send(c, "delivery_settled", e, 0, NULL);
    else if (strcmp(t, "order.paid.v1") == 0)
        projection_send(c, "order_paid", e, 0, NULL);
}

void orders_projection_flush(struct projection_context *c)
{
    send_runs(c);
    projection_array_send(c, ARRAY_ENERGY, "order_reserved_energy");
}
