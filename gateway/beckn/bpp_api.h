/* bpp_api.h - our BPP's Beckn endpoints: /beckn/{select, init, confirm,
 * status, cancel, update, track, rating, support}.
 *
 * Each request runs the inbound pipeline (inbound.h), is validated (payload
 * shape and energy packs, beckn_order.h / packs.h), recorded in
 * beckn_commands (command id -> transaction, message, bap) and appended to
 * Kafka as an engine command (select -> order.quote, init -> order.reserve,
 * confirm -> order.confirm, cancel -> order.cancel), then ACKed. The engine's
 * decision reaches the BAP as a signed on_<action> callback sent by
 * p2p-beckn-worker. status is answered from the stored Beckn state (an
 * on_status queued in the outbox, no engine command); support with our
 * support contacts when configured; track (40005), rating (40001) and
 * updates other than a payment (50002) are NACKed. docs/beckn.md lists it. */
#ifndef P2P_BECKN_BPP_API_H
#define P2P_BECKN_BPP_API_H

#include <civetweb.h>

#include "common/p2p_config.h"
#include "gateway/beckn/node.h"

/* Registers the endpoints (and a 404 NACK for any other /beckn/ path) on
 * ctx. cfg and node must outlive the server. */
void bpp_api_register(struct mg_context *ctx, const struct p2p_config *cfg,
                      const struct beckn_node *node);

#endif
