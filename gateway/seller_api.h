/* The seller's command endpoints besides listing (docs/api.md):
 * DELETE /seller/offers/{id} withdraws an offer's unsold remainder
 * (offer.withdraw.v1) and POST /seller/orders/{fill_id}/cancel cancels one
 * sold line (sale.cancel.v1); both answer with the engine's decision
 * (gateway/command_flow.h). The engine refuses what is not the seller's. */
#ifndef P2P_SELLER_API_H
#define P2P_SELLER_API_H

#include <civetweb.h>

#include "common/p2p_config.h"

/* DELETE /seller/offers/{offer_id} (offers_api dispatches it here). */
int seller_api_withdraw(struct mg_connection *c, const struct p2p_config *cfg,
                        const char *offer_id);

/* civetweb handler of /seller/orders: POST /seller/orders/{fill_id}/cancel
 * here, everything else to seller_read_orders (gateway/seller_read_api.h).
 * cbdata is the config. */
int seller_api_orders(struct mg_connection *c, void *cbdata);

#endif
