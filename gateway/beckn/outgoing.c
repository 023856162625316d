/* outgoing.c - settings and contexts of what we originate (outgoing.h). */
#include "gateway/beckn/outgoing.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/p2p_config.h"
#include "common/p2p_id.h"
#include "common/p2p_time.h"
#include "gateway/beckn/units.h"

static int env_copy(const char *name, const char *fallback, char *out, size_t cap, char *err,
                    size_t errlen)
{
    const char *v = getenv(name);
    if (!v || !v[0])
        v = fallback;
    if (strlen(v) >= cap) {
        snprintf(err, errlen, "%s is longer than %zu characters", name, cap - 1);
        return -1;
    }
    memcpy(out, v, strlen(v) + 1);
    return 0;
}

int beckn_bap_settings_load(struct beckn_bap_settings *s, const struct beckn_node *node,
                            char *err, size_t errlen)
{
    memset(s, 0, sizeof *s);
    int64_t wait, poll;
    const char *cds = getenv("BECKN_CDS_URL");
    s->external_cds = cds && cds[0];
    if (env_copy("BECKN_NETWORK_ID", "p2p-interdiscom-trading-pilot-network", s->network_id,
                 sizeof s->network_id, err, errlen) ||
        env_copy("BECKN_DOMAIN", BECKN_DOMAIN_INTERDISCOM, s->domain, sizeof s->domain, err,
                 errlen) ||
        env_copy("BECKN_CDS_URL", node->subscriber_uri, s->cds_url, sizeof s->cds_url, err,
                 errlen) ||
        env_copy("BECKN_CDS_SUBSCRIBER_ID", "", s->cds_subscriber_id, sizeof s->cds_subscriber_id,
                 err, errlen) ||
        env_copy("BECKN_TTL", "PT30S", s->ttl, sizeof s->ttl, err, errlen) ||
        p2p_env_int("BECKN_BAP_WAIT_MS", 5000, 100, 60000, &wait, err, errlen) ||
        p2p_env_int("BECKN_PUBLISH_POLL_MS", 3000, 100, 3600000, &poll, err, errlen))
        return -1;
    if (!beckn_domain_supported(s->domain)) {
        snprintf(err, errlen, "BECKN_DOMAIN=%s is not a supported domain", s->domain);
        return -1;
    }
    int64_t ttl_ms;
    if (beckn_duration_ms(s->ttl, &ttl_ms)) {
        snprintf(err, errlen, "BECKN_TTL=%s is not an ISO 8601 duration such as PT30S", s->ttl);
        return -1;
    }
    if (s->external_cds && strncmp(s->cds_url, "http://", 7) != 0 &&
        strncmp(s->cds_url, "https://", 8) != 0) {
        snprintf(err, errlen, "BECKN_CDS_URL must be an http(s) URL");
        return -1;
    }
    s->wait_ms = wait;
    s->publish_poll_ms = poll;
    return 0;
}

json_t *beckn_context_new(const struct beckn_bap_settings *s, const char *action,
                          const char *bap_id, const char *bap_uri, const char *bpp_id,
                          const char *bpp_uri, const char *transaction_id, int64_t now_ms,
                          char *message_id_out)
{
    char message_id[P2P_UUID_BUF], ts[P2P_TIME_BUF];
    p2p_uuid(message_id);
    p2p_time_format(now_ms, false, ts);
    if (message_id_out)
        memcpy(message_id_out, message_id, sizeof message_id);
    json_t *ctx = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "domain", s->domain, "version",
                            BECKN_VERSION, "action", action, "bap_id", bap_id, "bap_uri",
                            bap_uri, "transaction_id", transaction_id, "message_id", message_id);
    if (!ctx)
        return NULL;
    int failed = 0;
    if (bpp_id && bpp_id[0])
        failed |= json_object_set_new(ctx, "bpp_id", json_string(bpp_id));
    if (bpp_uri && bpp_uri[0])
        failed |= json_object_set_new(ctx, "bpp_uri", json_string(bpp_uri));
    failed |= json_object_set_new(ctx, "timestamp", json_string(ts));
    failed |= json_object_set_new(ctx, "ttl", json_string(s->ttl));
    if (failed) {
        json_decref(ctx);
        return NULL;
    }
    return ctx;
}

json_t *beckn_context_reply(const struct beckn_bap_settings *s, const struct beckn_context *req,
                            const char *action, int64_t now_ms)
{
    json_t *ctx = beckn_context_new(s, action, req->bap_id, req->bap_uri, req->bpp_id,
                                    req->bpp_uri, req->transaction_id, now_ms, NULL);
    if (ctx && json_object_set_new(ctx, "domain", json_string(req->domain))) {
        json_decref(ctx);
        return NULL;
    }
    return ctx;
}

char *beckn_body(json_t *ctx, json_t *message)
{
    if (!ctx || !message) {
        json_decref(ctx);
        json_decref(message);
        return NULL;
    }
    json_t *doc = json_pack("{s:o, s:o}", "context", ctx, "message", message);
    char *body = doc ? beckn_dumps(doc) : NULL;
    json_decref(doc);
    return body;
}

int beckn_url_join(const char *base, const char *path, char *out, size_t cap)
{
    size_t n = strlen(base);
    while (n > 0 && base[n - 1] == '/')
        n--;
    while (*path == '/')
        path++;
    int w = snprintf(out, cap, "%.*s/%s", (int)n, base, path);
    return w < 0 || (size_t)w >= cap ? -1 : 0;
}
