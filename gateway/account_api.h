/* The signed-in participant's money and trust (docs/api.md), read from the
 * projector's read models, never anyone else's:
 *   GET /api/wallet  balance of wallet:<user>, money held in escrow for their
 *                    open orders, and their journal postings, newest first,
 *                    paginated (limit, offset);
 *   GET /api/trust   score, tier, progress to the next tier, trade limit in %
 *                    and Wh, and the trust history, newest first, paginated. */
#ifndef P2P_GATEWAY_ACCOUNT_API_H
#define P2P_GATEWAY_ACCOUNT_API_H

#include <civetweb.h>

/* civetweb handlers; cbdata is the const struct p2p_config *. */
int account_api_wallet(struct mg_connection *c, void *cbdata);
int account_api_trust(struct mg_connection *c, void *cbdata);

#endif
