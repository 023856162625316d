/* Who is calling. Until sign-in exists (issue: sessions), the only user
 * identity is the development header X-Dev-User, honoured only when
 * P2P_DEV_AUTH=1. Operators authenticate with `Authorization: Bearer <token>`
 * against P2P_OPERATOR_TOKEN, compared in constant time; the token is never
 * logged nor echoed. */
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

/* Returns 0 when the request carries the operator token. Otherwise answers
 * 403 (operator endpoints disabled: P2P_OPERATOR_TOKEN unset or empty) or 401
 * (token missing or wrong) and returns the status. Requires sodium_init(). */
int auth_require_operator(struct mg_connection *c);

#endif
