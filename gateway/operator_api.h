/* Operator endpoints that issue commands (docs/api.md), behind the operator
 * token (gateway/auth.h): POST /api/operator/deposits puts money into a
 * participant's wallet (wallet.deposit.v1) and answers with the engine's
 * decision (gateway/command_flow.h). */
#ifndef P2P_OPERATOR_API_H
#define P2P_OPERATOR_API_H

#include <civetweb.h>

/* civetweb handler; cbdata is the const struct p2p_config *. */
int operator_api_deposits(struct mg_connection *c, void *cbdata);

#endif
