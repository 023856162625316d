/* The offer endpoints (docs/api.md): POST /seller/offers turns a request into
 * an offer.submit.v1 command after validating it with the engine's own rules;
 * GET /api/offers, GET /api/offers/{id} and GET /seller/offers read the
 * projected `offers` read model from PostgreSQL. */
#ifndef P2P_OFFERS_API_H
#define P2P_OFFERS_API_H

#include <civetweb.h>

#include "common/p2p_config.h"

/* civetweb request handlers; cbdata is the const struct p2p_config *. */
int offers_api_seller(struct mg_connection *c, void *cbdata); /* /seller/offers */
int offers_api_public(struct mg_connection *c, void *cbdata); /* /api/offers[/{id}] */

#endif
