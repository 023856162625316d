/* bap_order.h - reading and checking the Beckn orders a BPP sends back to
 * our BAP, and the offer facts our select needs (beckn.md §3.3, §7.3-7.9).
 *
 * Purpose:    turn message.order of on_select/on_init/on_confirm/on_status/
 *             on_cancel/on_update into integers (Wh, minor units) and check
 *             the profile's arithmetic: total_quantity = Σ line quantities,
 *             the energy price = Σ quantity × unit price (the UNIT components
 *             of beckn:orderValue, or its value when it has no components),
 *             components add up to orderValue, and the payment amount equals
 *             orderValue (or, without one, the energy price) — unless the
 *             payment is REFUNDED/CANCELLED (then it is the refund) or
 *             COMPLETED/PAID with an orderValue (then it is what delivery
 *             settled): at most orderValue; read
 *             a discovered beckn:Offer's price and quantity bounds.
 * Guarantees: every refusal is a NACK (400, code 30000) naming the JSON path
 *             under message.order; quantities are kWh on the wire and Wh
 *             here (rounded to the Wh), prices minor units per kWh. Amounts:
 *             Σ over lines of quantity_wh × price / 1000 rounded half-up per
 *             line (as the engine does); a peer's amount is accepted if it
 *             is the exact sum rounded once (within half a minor unit) or
 *             that per-line sum.
 * Pure functions of their inputs. */
#ifndef P2P_BECKN_BAP_ORDER_H
#define P2P_BECKN_BAP_ORDER_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "gateway/beckn/message.h"

#define BAP_ORDER_MAX_LINES 64
/* Bounds on a BPP's (or a catalog's) numbers, so that every sum and product
 * here fits in int64: 64 lines x 10^7 Wh x 10^9 minor units per kWh and an
 * amount x 1000 stay below 2^63. */
#define BAP_MAX_WH 10000000LL                /* a line: 10 MWh, the engine's largest */
#define BAP_MAX_PRICE_PER_KWH 1000000000LL   /* minor units per kWh */
#define BAP_MAX_AMOUNT 1000000000000000LL    /* minor units of one amount */

struct bap_line {
    char item_id[256];
    char offer_id[256];
    int64_t quantity_wh;
    int64_t price_per_kwh;   /* minor units */
    bool has_price;
};

struct bap_order {
    char order_id[256];          /* beckn:id, "" if absent */
    char status[32];             /* beckn:orderStatus, "" if absent */
    char payment_status[32];     /* beckn:payment.beckn:paymentStatus, "" if absent */
    char currency[8];            /* of the prices / amount, "" if none */
    int nlines;
    struct bap_line lines[BAP_ORDER_MAX_LINES];
    bool has_total_quantity;
    int64_t total_quantity_wh;   /* orderAttributes.total_quantity */
    bool has_amount;
    int64_t amount;              /* total due: payment amount or orderValue, minor units */
    bool has_refund;
    int64_t refund;              /* payment amount when REFUNDED/CANCELLED: back to the buyer */
    int64_t lines_quantity_wh;   /* Σ line quantities */
    int64_t lines_amount;        /* Σ per-line half-up amounts, minor units */
};

/* Reads and checks message.order (`order`), prices in `currency` (its
 * exponent decides the minor units; a price in another currency is refused).
 * Returns 0, or -1 with *nack. */
int bap_order_read(const json_t *order, const char *currency, struct bap_order *out,
                   struct beckn_nack *nack);

/* The unit price of a beckn:Offer: offerAttributes.beckn:price {value,
 * currency} or the offer's beckn:price {value|schema:price, currency|
 * schema:priceCurrency}. Returns 0 with minor units per kWh and currency
 * (out[8]), -2 for a price above BAP_MAX_PRICE_PER_KWH, or -1. */
int bap_offer_price(const json_t *offer, int64_t *price_per_kwh, char currency[8]);

/* Quantity bounds of a beckn:Offer in Wh: minimumQuantity (0 if absent) and
 * beckn:maxQuantity.unitQuantity (or maximumQuantity; -1 if neither). */
void bap_offer_bounds(const json_t *offer, int64_t *min_wh, int64_t *max_wh);

/* Σ quantity × price / 1000, half-up per line. */
int64_t bap_line_amount(int64_t quantity_wh, int64_t price_per_kwh);

#endif
