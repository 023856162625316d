#include "gateway/auth.h"

#include <string.h>

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
