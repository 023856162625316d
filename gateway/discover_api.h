/* POST /api/discover (docs/api.md): the offers a buy request of the signed-in
 * user could take, ranked by the engine's own score (engine/core/score.c) with
 * the breakdown per offer, and what a buy would allocate now (the engine's
 * greedy rule over the best MAX_OFFERS_PER_ORDER). Eligibility is product.md
 * §4 over the read models: listed offers overlapping the window, seller trust
 * (participants, TRUST_DEFAULT_SCORE when unknown) at least
 * MIN_TRUST_THRESHOLD, price and source as asked, open energy at least the
 * offer's minimum, not the buyer's own, before gate closure. Reads only:
 * nothing is reserved and nothing goes to Kafka. */
#ifndef P2P_GATEWAY_DISCOVER_API_H
#define P2P_GATEWAY_DISCOVER_API_H

#include <civetweb.h>

/* civetweb handler for /api/discover; cbdata is the const struct p2p_config *. */
int discover_api(struct mg_connection *c, void *cbdata);

#endif
