/* The buyer's order endpoints (docs/api.md): POST /api/select (a priced quote,
 * nothing held), /api/init (reserve for the reservation TTL), /api/confirm,
 * /api/buy (reserve and confirm in one step) and /api/cancel turn requests
 * into order commands and answer with the engine's decision (gateway/
 * command_flow.h); GET /api/orders and GET /api/orders/{id} read the signed-in
 * buyer's own orders from the read model. Another user's order is 404. */
#ifndef P2P_ORDERS_API_H
#define P2P_ORDERS_API_H

#include <civetweb.h>

/* civetweb handlers; cbdata is the const struct p2p_config *. */
int orders_api_command(struct mg_connection *c, void *cbdata); /* POST /api/{select,init,confirm,buy,cancel} */
int orders_api_read(struct mg_connection *c, void *cbdata);    /* GET /api/orders[/{id}] */
int commands_api(struct mg_connection *c, void *cbdata);       /* GET /api/commands/{id} */

#endif
