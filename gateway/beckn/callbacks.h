/* callbacks.h - building the signed on_* callback bodies our BPP sends.
 *
 * Purpose:    one place that knows the wire shape of our answers: the
 *             callback context (same transaction_id and message_id as the
 *             request, action on_<action>, our bpp_id/bpp_uri), the priced
 *             order (line beckn:price per kWh, beckn:orderValue with UNIT and
 *             FEE components, orderAttributes.total_quantity = Σ lines), and
 *             the on_status order built from the per-order Beckn state in
 *             PostgreSQL (beckn_orders, beckn_order_lines).
 * Guarantees: money and energy come from the engine's integers (beckn_order.h);
 *             a body is built once and stored in the outbox, so every retry
 *             sends the same bytes. Pure apart from the status reader's
 *             queries.
 */
#ifndef P2P_BECKN_CALLBACKS_H
#define P2P_BECKN_CALLBACKS_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stdint.h>

#include "gateway/beckn/node.h"

/* Whom a callback answers: the request's correlation fields. */
struct beckn_reply_to {
    char transaction_id[128];
    char message_id[128];
    char bap_id[256];
    char bap_uri[512];
    char domain[96];
};

/* The full callback body {context, message[, error]} for on_action. Steals
 * message and error (error may be NULL). NULL when out of memory. */
char *beckn_callback_body(const struct beckn_node *node, const struct beckn_reply_to *to,
                          const char *on_action, int64_t now_ms, json_t *message, json_t *error);

/* {"code","message","paths"} of an asynchronous error. */
json_t *beckn_error_json(const char *code, const char *message, const char *paths);

/* The engine's rejection code (order.rejected / command.rejected reason.code)
 * as a Beckn error code (beckn.md §5.1). */
const char *beckn_error_code_for(const char *engine_code);

/* Prices `order` (a copy of the request's message.order, modified in place)
 * from an engine decision `decision` (order.quoted/reserved/confirmed JSON
 * with lines[] of offer_id, quantity_wh, price_per_kwh, amount, fee and
 * totals amount, fee, total, filled_wh): each item whose accepted offer is a
 * decided line gets beckn:quantity and beckn:price; beckn:orderValue gets the
 * total with UNIT and FEE components; orderAttributes.total_quantity the
 * decided energy. Returns 0, or -1 when an item names no decided line. */
int beckn_price_order(json_t *order, const json_t *decision, const char *currency);

/* The beckn:payment object of on_init/on_confirm: status, the order's total,
 * the BAP's settlement accounts from the request plus ours. Steals nothing;
 * request_payment may be NULL. */
json_t *beckn_payment_json(const struct beckn_node *node, const json_t *request_payment,
                           const char *status, int64_t amount, const char *currency);

/* The on_status message.order of order_id from beckn_orders/_lines, or NULL
 * with err ("not found" when the order does not exist or belongs to another
 * bap_id). */
json_t *beckn_status_order(PGconn *db, const char *order_id, const char *bap_id,
                           const char *currency, char *err, size_t errlen);

#endif
