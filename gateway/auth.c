#include "gateway/auth.h"

#include <pthread.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/p2p_json.h"
#include "gateway/http.h"

int auth_require_user(struct mg_connection *c, const struct p2p_config *cfg,
                      char out[USER_ID_BUF])
{
    const char *dev = cfg->dev_auth ? mg_get_header(c, "X-Dev-User") : NULL;
    if (!dev)
        return http_reply_error(c, 401, "unauthenticated", NULL, "sign in first");
    if (!p2p_id_valid(dev, USER_ID_BUF - 1))
        return http_reply_error(c, 401, "unauthenticated", "X-Dev-User",
                                "X-Dev-User must be 1 to 64 letters, digits or . _ : @ -");
    memcpy(out, dev, strlen(dev) + 1);
    return 0;
}

/* The operator token, hashed once: requests are compared by hash so that the
 * comparison takes the same time whatever the length or content presented. */
static unsigned char operator_token_hash[crypto_generichash_BYTES];
static bool operator_token_set;
static pthread_once_t operator_token_once = PTHREAD_ONCE_INIT;

static void operator_token_load(void)
{
    const char *token = getenv("P2P_OPERATOR_TOKEN");
    if (!token || !*token)
        return;
    crypto_generichash(operator_token_hash, sizeof operator_token_hash,
                       (const unsigned char *)token, strlen(token), NULL, 0);
    operator_token_set = true;
}

int auth_require_operator(struct mg_connection *c)
{
    pthread_once(&operator_token_once, operator_token_load);
    if (!operator_token_set)
        return http_reply_error(c, 403, "forbidden", NULL, "operator endpoints are disabled");
    const char *header = mg_get_header(c, "Authorization");
    static const char scheme[] = "Bearer ";
    /* The scheme is case-insensitive (RFC 9110). */
    if (!header || strncasecmp(header, scheme, sizeof scheme - 1) != 0)
        return http_reply_error(c, 401, "unauthenticated", "Authorization",
                                "operator endpoints need Authorization: Bearer <operator token>");
    const char *presented = header + sizeof scheme - 1;
    unsigned char presented_hash[crypto_generichash_BYTES];
    crypto_generichash(presented_hash, sizeof presented_hash, (const unsigned char *)presented,
                       strlen(presented), NULL, 0);
    if (sodium_memcmp(presented_hash, operator_token_hash, sizeof presented_hash) != 0)
        return http_reply_error(c, 401, "unauthenticated", "Authorization",
                                "the operator token is not valid");
    return 0;
}
