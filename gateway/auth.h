/* Who is calling. Until sign-in exists (issue: sessions), the only identity
 * is the development header X-Dev-User, honoured only when P2P_DEV_AUTH=1. */
#ifndef P2P_GATEWAY_AUTH_H
#define P2P_GATEWAY_AUTH_H

#include <civetweb.h>
#include <stddef.h>

#include "common/p2p_config.h"

#define USER_ID_BUF 65

/* Copies the acting user's id into out and returns 0; otherwise answers 401
 * and returns the status. */
int auth_require_user(struct mg_connection *c, const struct p2p_config *cfg,
                      char out[USER_ID_BUF]);

#endif
