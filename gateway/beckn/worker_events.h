/* worker_events.h - what p2p-beckn-worker does with one engine event.
 *
 * Purpose:    turn the engine's decision on a command the gateway appended
 *             for a Beckn request (found by the event's correlation id in
 *             beckn_commands) into the signed on_* callback the BAP waits
 *             for, and keep the per-order Beckn state on_status is built
 *             from (beckn_orders, beckn_order_lines).
 * Mapping:    order.quoted -> on_select (priced); order.reserved -> on_init
 *             (payment AUTHORIZED, our settlement account, reservation
 *             expiry) and the order's Beckn state; order.confirmed ->
 *             on_confirm (beckn:id = order id); order.cancelled -> on_cancel
 *             (CANCELLED, refund); order.paid -> on_update (payment);
 *             order.rejected / command.rejected -> on_<action> with error
 *             {code, message, paths} (but a repeated init/confirm of a
 *             transaction that got that far gets the stored order again);
 *             order.expired, fill.cancelled -> state only;
 *             delivery.settled, order.settled -> state and an unsolicited
 *             on_update with the order's delivery progress (new message_id).
 * Guarantees: everything runs on the caller's connection inside the
 *             caller's transaction (the worker commits it with the Kafka
 *             offset), and outbox rows are keyed by command id and action, so
 *             an event handled twice changes nothing the second time.
 */
#ifndef P2P_BECKN_WORKER_EVENTS_H
#define P2P_BECKN_WORKER_EVENTS_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stddef.h>

#include "gateway/beckn/node.h"

/* Handles one event (ce_type without the energy.p2p. prefix, its JSON value,
 * its correlation id). Returns 0 (also for events that concern no Beckn
 * order), or -1 with err on a database error (the caller rolls back and
 * retries). */
int beckn_worker_handle(PGconn *db, const struct beckn_node *node, const char *currency,
                        const char *type, const json_t *event, const char *correlation_id,
                        char *err, size_t errlen);

#endif
