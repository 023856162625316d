/* beckn_order.h - the mapping between Beckn orders and engine commands.
 *
 * Purpose:    read what a BAP asks for in message.order (which of our offers,
 *             how much, for which buyer), derive the engine's ids for a
 *             remote buyer and order, and write engine integers back on the
 *             wire: energy as kWh numbers, money as decimal major units.
 * Guarantees: kWh -> Wh is exact (at most 3 decimals, else refused); Wh ->
 *             kWh and minor units -> major units are computed from integers
 *             and serialised by beckn_dump with 15 significant digits, so
 *             1234 paise is exactly 12.34 on the wire (no float drift; the
 *             unit tests check a wide range). Derived ids are deterministic,
 *             valid engine ids, at most 56 (order) / 64 (buyer) characters.
 *             All functions are pure.
 */
#ifndef P2P_BECKN_ORDER_H
#define P2P_BECKN_ORDER_H

#include <jansson.h>
#include <stdint.h>

#include "gateway/beckn/message.h"

#define BECKN_ORDER_MAX_LINES 16
#define BECKN_ORDER_ID_BUF 57
#define BECKN_BUYER_ID_BUF 65

struct beckn_line {
    char offer_id[65];     /* our engine offer id = beckn:acceptedOffer.beckn:id */
    int64_t quantity_wh;
};

struct beckn_order_request {
    char buyer_ref[256];   /* beckn:buyer.beckn:id as the BAP knows its buyer */
    int nlines;
    struct beckn_line lines[BECKN_ORDER_MAX_LINES];
};

/* Exact kWh (JSON integer or real, > 0, at most 3 decimals, at most
 * 10 000 kWh) to Wh. Returns 0 or -1. */
int beckn_wh_from_kwh(const json_t *kwh, int64_t *wh);

/* New JSON numbers: Wh as kWh, minor units of `currency` as major units
 * (its ISO 4217 decimals: 0 for JPY, 2 for INR, 3 for KWD, ...). */
json_t *beckn_kwh_json(int64_t wh);
json_t *beckn_money_json(int64_t minor, const char *currency);

/* "bk-" + 32 hex of BLAKE2b(bap_id, transaction_id): the engine order id of a
 * Beckn transaction (init and confirm of one transaction name one order). */
void beckn_derive_order_id(const char *bap_id, const char *transaction_id,
                           char out[BECKN_ORDER_ID_BUF]);

/* "bkb-" + 32 hex of BLAKE2b(bap_id, buyer_ref): the engine participant id of
 * a remote buyer. */
void beckn_derive_buyer_id(const char *bap_id, const char *buyer_ref,
                           char out[BECKN_BUYER_ID_BUF]);

/* Reads a select/init/confirm message.order: beckn:buyer.beckn:id, and per
 * beckn:orderItems entry (1..16) the offer (beckn:acceptedOffer.beckn:id, or
 * the acceptedOffer string) and beckn:quantity.unitQuantity (kWh, unitText
 * "kWh" when given); each offer at most once; orderAttributes.total_quantity,
 * when given, must equal the sum of the lines; plus the pack checks of
 * packs.h. Returns 0, or -1 with a 400 NACK naming the path. */
int beckn_order_read(const json_t *order, struct beckn_order_request *r, struct beckn_nack *n);

/* Compact JSON, keys in insertion order, reals with 15 significant digits.
 * Consumes doc. NULL when out of memory. */
char *beckn_dump(json_t *doc);

#endif
