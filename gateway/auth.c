#include "gateway/auth.h"

#include <string.h>

#include "gateway/http.h"

/* User ids are opaque, printable ASCII without spaces, 1..128 bytes. */
static int valid_user_id(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n >= USER_ID_BUF)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] <= ' ' || s[i] > '~')
            return 0;
    return 1;
}

int auth_require_user(struct mg_connection *c, const struct p2p_config *cfg,
                      char out[USER_ID_BUF])
{
    const char *dev = cfg->dev_auth ? mg_get_header(c, "X-Dev-User") : NULL;
    if (!dev)
        return http_reply_error(c, 401, "unauthenticated", NULL, "sign in first");
    if (!valid_user_id(dev))
        return http_reply_error(c, 401, "unauthenticated", "X-Dev-User",
                                "X-Dev-User must be 1 to 128 printable characters without spaces");
    memcpy(out, dev, strlen(dev) + 1);
    return 0;
}
