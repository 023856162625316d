/* order_state.h - the per-order Beckn state p2p-beckn-worker keeps.
 *
 * Purpose:    remember, for every engine order created through a Beckn init,
 *             whom it belongs to (bap_id, bap_uri, transaction), the Beckn
 *             order as we last sent it, its status and payment status, and
 *             per line the delivery progress (tables beckn_orders and
 *             beckn_order_lines, migration 003). on_status, repeated
 *             init/confirm answers and the unsolicited on_update pushes are
 *             built from it (callbacks.h reads it for on_status).
 * Guarantees: every function is one or two statements on the caller's
 *             connection, inside the caller's transaction; creating is
 *             idempotent (ON CONFLICT DO NOTHING), so re-processing an event
 *             changes nothing. Statuses are Beckn enum values: orders
 *             RESERVED, CONFIRMED, CANCELLED, EXPIRED, COMPLETED,
 *             PARTIALLYFULFILLED; payments AUTHORIZED, COMPLETED, REFUNDED,
 *             CANCELLED; lines PENDING, COMPLETED, FAILED.
 *             Errors return -1 (or NULL with *failed) with err filled.
 */
#ifndef P2P_BECKN_ORDER_STATE_H
#define P2P_BECKN_ORDER_STATE_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gateway/beckn/callbacks.h"

/* Who an order belongs to. */
struct beckn_order_owner {
    const char *order_id;
    const char *buyer_id;
    const struct beckn_reply_to *to; /* bap_id, bap_uri, transaction_id, domain */
};

/* Creates the order (RESERVED, payment AUTHORIZED) and its lines from an
 * order.reserved decision, with `order` as the Beckn order sent. */
int beckn_state_create(PGconn *db, const struct beckn_order_owner *owner, const json_t *reserved,
                       const json_t *order, int64_t now_ms, char *err, size_t errlen);

/* The Beckn order as last sent, or NULL: not a Beckn order (*failed false)
 * or an error (*failed true, err filled). */
json_t *beckn_state_order(PGconn *db, const char *order_id, bool *failed, char *err,
                          size_t errlen);

/* Replaces the stored order; status / payment_status NULL keep theirs. */
int beckn_state_save(PGconn *db, const char *order_id, const json_t *order, const char *status,
                     const char *payment_status, int64_t now_ms, char *err, size_t errlen);

/* The stored status into out ("" when the order is not a Beckn order). */
int beckn_state_status(PGconn *db, const char *order_id, char *out, size_t cap, char *err,
                       size_t errlen);

/* Whom to tell about order_id: *found false when it is not a Beckn order. */
int beckn_state_owner(PGconn *db, const char *order_id, struct beckn_reply_to *to, bool *found,
                      char *err, size_t errlen);

/* The order was cancelled: the refund recorded, open lines FAILED. */
int beckn_state_refund(PGconn *db, const char *order_id, int64_t refund, char *err, size_t errlen);

/* A line's delivery: status, delivered and curtailed Wh (no-op for fills of
 * other orders). */
int beckn_state_line(PGconn *db, const char *fill_id, const char *status, int64_t delivered_wh,
                     int64_t curtailed_wh, int64_t now_ms, char *err, size_t errlen);

/* Every line settled: COMPLETED if all delivered in full, else
 * PARTIALLYFULFILLED. */
int beckn_state_settled(PGconn *db, const char *order_id, char *err, size_t errlen);

/* A reservation expired: EXPIRED, payment CANCELLED (only if RESERVED). */
int beckn_state_expired(PGconn *db, const char *order_id, char *err, size_t errlen);

#endif
