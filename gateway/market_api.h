/* GET /api/market (docs/api.md): price and volume per delivery slot and
 * source type from the read model `market_slots`, for a range of delivery
 * times (`from`, `to`; default from the start of today, UTC, to the end of
 * the trade horizon), optionally one `source_type`. Aggregates of the whole
 * market only: no participant's data. */
#ifndef P2P_GATEWAY_MARKET_API_H
#define P2P_GATEWAY_MARKET_API_H

#include <civetweb.h>

/* civetweb handler for /api/market; cbdata is the const struct p2p_config *. */
int market_api(struct mg_connection *c, void *cbdata);

#endif
