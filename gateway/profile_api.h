/* The participant's own profile (docs/api.md): GET /api/profile shows
 * capacity, trust, tier and trade limit; PUT /api/profile declares the
 * monthly production capacity that, with the trust tier, sets the seller's
 * trade limit (product.md §3). The change is a participant.profile.v1
 * command; the engine decides and publishes participant.updated.v1. */
#ifndef P2P_PROFILE_API_H
#define P2P_PROFILE_API_H

#include <civetweb.h>

/* civetweb handler for /api/profile; cbdata is the const struct p2p_config *. */
int profile_api(struct mg_connection *c, void *cbdata);

#endif
