/* node.c - loading our Beckn identity from the environment (node.h). */
#include "gateway/beckn/node.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/p2p_config.h"

static const char *env(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

static int copy_env(const char *name, char *out, size_t cap, char *err, size_t errlen)
{
    const char *v = env(name);
    out[0] = '\0';
    if (!v)
        return 0;
    if (strlen(v) >= cap) {
        snprintf(err, errlen, "%s is longer than %zu characters", name, cap - 1);
        return -1;
    }
    for (const char *p = v; *p; p++)
        if ((unsigned char)*p < 0x20) {
            snprintf(err, errlen, "%s contains a control character", name);
            return -1;
        }
    memcpy(out, v, strlen(v) + 1);
    return 0;
}

static int load_numbers(struct beckn_node *n, char *err, size_t errlen)
{
    int64_t skew, ttl, timeout, attempts, backoff, backoff_max, age, retention;
    if (p2p_env_int("BECKN_CLOCK_SKEW_SECONDS", 5, 0, 300, &skew, err, errlen) ||
        p2p_env_int("BECKN_SIGNATURE_TTL_SECONDS", 300, 5, 3600, &ttl, err, errlen) ||
        p2p_env_int("BECKN_HTTP_TIMEOUT_MS", 5000, 100, 60000, &timeout, err, errlen) ||
        p2p_env_int("BECKN_CALLBACK_MAX_ATTEMPTS", 10, 1, 1000, &attempts, err, errlen) ||
        p2p_env_int("BECKN_CALLBACK_BACKOFF_MS", 500, 10, 3600000, &backoff, err, errlen) ||
        p2p_env_int("BECKN_CALLBACK_BACKOFF_MAX_MS", 60000, 10, 86400000, &backoff_max, err,
                    errlen) ||
        p2p_env_int("BECKN_CALLBACK_MAX_AGE_SECONDS", 3600, 1, 7 * 86400, &age, err, errlen) ||
        p2p_env_int("BECKN_REPLAY_RETENTION_SECONDS", 3600, 60, 30 * 86400, &retention, err,
                    errlen))
        return -1;
    if (backoff_max < backoff) {
        snprintf(err, errlen, "BECKN_CALLBACK_BACKOFF_MAX_MS is below BECKN_CALLBACK_BACKOFF_MS");
        return -1;
    }
    n->skew_s = skew;
    n->signature_ttl_s = ttl;
    n->http_timeout_ms = (int)timeout;
    n->callback_max_attempts = (int)attempts;
    n->callback_backoff_ms = backoff;
    n->callback_backoff_max_ms = backoff_max;
    n->callback_max_age_ms = age * 1000;
    n->replay_retention_ms = retention * 1000;
    return 0;
}

static int load_identity(struct beckn_node *n, const char *subscriber, char *err, size_t errlen)
{
    const char *key_id = env("BECKN_KEY_ID");
    const char *private_key = env("BECKN_SIGNING_PRIVATE_KEY");
    const char *uri = env("BECKN_SUBSCRIBER_URI");
    if (!key_id || !private_key || !uri) {
        snprintf(err, errlen,
                 "BECKN_SUBSCRIBER_ID is set, so BECKN_KEY_ID, BECKN_SIGNING_PRIVATE_KEY and "
                 "BECKN_SUBSCRIBER_URI are required too");
        return -1;
    }
    if (beckn_key_set_id(&n->key, subscriber, key_id)) {
        snprintf(err, errlen,
                 "BECKN_SUBSCRIBER_ID and BECKN_KEY_ID must be 1..255 characters without '|', "
                 "'\"', '\\' or control characters");
        return -1;
    }
    if (beckn_key_from_private_b64(private_key, &n->key)) {
        snprintf(err, errlen,
                 "BECKN_SIGNING_PRIVATE_KEY must be base64 of a 32-byte Ed25519 seed or a 64-byte "
                 "libsodium secret key");
        return -1;
    }
    if ((strncmp(uri, "http://", 7) && strncmp(uri, "https://", 8)) ||
        strlen(uri) >= sizeof n->subscriber_uri) {
        snprintf(err, errlen,
                 "BECKN_SUBSCRIBER_URI must be an http(s) URL of at most %zu characters",
                 sizeof n->subscriber_uri - 1);
        return -1;
    }
    snprintf(n->subscriber_uri, sizeof n->subscriber_uri, "%s", uri);
    size_t len = strlen(n->subscriber_uri);
    while (len > 0 && n->subscriber_uri[len - 1] == '/')
        n->subscriber_uri[--len] = '\0';
    return 0;
}

int beckn_node_load(struct beckn_node *n, char *err, size_t errlen)
{
    memset(n, 0, sizeof *n);
    if (load_numbers(n, err, errlen))
        return -1;
    const char *subscriber = env("BECKN_SUBSCRIBER_ID");
    if (!subscriber)
        return 0; /* Beckn is off: the endpoints say so with a 503 NACK */
    if (load_identity(n, subscriber, err, errlen) ||
        copy_env("BECKN_SETTLEMENT_ACCOUNT_NAME", n->settlement.holder_name,
                 sizeof n->settlement.holder_name, err, errlen) ||
        copy_env("BECKN_SETTLEMENT_ACCOUNT_NUMBER", n->settlement.account_number,
                 sizeof n->settlement.account_number, err, errlen) ||
        copy_env("BECKN_SETTLEMENT_IFSC", n->settlement.ifsc_code, sizeof n->settlement.ifsc_code,
                 err, errlen) ||
        copy_env("BECKN_SETTLEMENT_BANK", n->settlement.bank_name, sizeof n->settlement.bank_name,
                 err, errlen) ||
        copy_env("BECKN_SETTLEMENT_VPA", n->settlement.vpa, sizeof n->settlement.vpa, err,
                 errlen) ||
        copy_env("BECKN_SUPPORT_EMAIL", n->support_email, sizeof n->support_email, err, errlen) ||
        copy_env("BECKN_SUPPORT_PHONE", n->support_phone, sizeof n->support_phone, err, errlen)) {
        beckn_key_wipe(&n->key);
        return -1;
    }
    struct beckn_registry_config rc;
    if (beckn_registry_config_from_env(&rc, err, errlen) ||
        beckn_registry_open(&n->registry, &rc, err, errlen)) {
        beckn_key_wipe(&n->key);
        return -1;
    }
    n->configured = true;
    return 0;
}

void beckn_node_close(struct beckn_node *n)
{
    if (n->registry)
        beckn_registry_close(n->registry);
    n->registry = NULL;
    beckn_key_wipe(&n->key);
    n->configured = false;
}
