#include "common/p2p_config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *env_str(const char *name, const char *fallback)
{
    const char *v = getenv(name);
    return v && *v ? v : fallback;
}

int p2p_env_int(const char *name, int64_t fallback, int64_t min, int64_t max, int64_t *out,
                char *err, size_t errlen)
{
    const char *v = getenv(name);
    if (!v || !*v) {
        *out = fallback;
        return 0;
    }
    char *end;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    if (errno || *end || n < min || n > max) {
        snprintf(err, errlen, "%s=%s is not an integer in [%lld, %lld]", name, v, (long long)min,
                 (long long)max);
        return -1;
    }
    *out = n;
    return 0;
}

int p2p_config_load(struct p2p_config *c, char *err, size_t errlen)
{
    int64_t port, dev, body, kto, batch, batch_ms, slot, gate, horizon;
    memset(c, 0, sizeof *c);
    c->kafka_brokers = env_str("KAFKA_BROKERS", "127.0.0.1:19092");
    c->pg_conninfo = env_str("PG_CONNINFO", "host=127.0.0.1 port=54329 user=postgres dbname=p2p");
    c->topic_prefix = env_str("P2P_TOPIC_PREFIX", "p2p.");
    c->market = env_str("P2P_MARKET", "default");
    c->currency = env_str("P2P_CURRENCY", "INR");
    c->http_host = env_str("P2P_HTTP_HOST", "127.0.0.1");
    c->engine_id = env_str("P2P_ENGINE_ID", "engine-default");
    c->projector_id = env_str("P2P_PROJECTOR_ID", "offers");
    c->migrations_dir = env_str("P2P_MIGRATIONS_DIR", "projections/migrations");
    c->web_root = env_str("P2P_WEB_ROOT", "web");
    if (p2p_env_int("P2P_HTTP_PORT", 4000, 1, 65535, &port, err, errlen) ||
        p2p_env_int("P2P_DEV_AUTH", 0, 0, 1, &dev, err, errlen) ||
        p2p_env_int("P2P_MAX_BODY_BYTES", 65536, 1024, 64 << 20, &body, err, errlen) ||
        p2p_env_int("P2P_KAFKA_TIMEOUT_MS", 5000, 100, 600000, &kto, err, errlen) ||
        p2p_env_int("P2P_ENGINE_BATCH", 500, 1, 100000, &batch, err, errlen) ||
        p2p_env_int("P2P_ENGINE_BATCH_MS", 5, 1, 10000, &batch_ms, err, errlen) ||
        p2p_env_int("SLOT_MINUTES", 60, 1, 1440, &slot, err, errlen) ||
        p2p_env_int("GATE_CLOSURE_MINUTES", 240, 0, 7 * 1440, &gate, err, errlen) ||
        p2p_env_int("TRADE_HORIZON_DAYS", 7, 1, 366, &horizon, err, errlen))
        return -1;
    if (strlen(c->currency) != 3) {
        snprintf(err, errlen, "P2P_CURRENCY=%s is not a 3-letter ISO 4217 code", c->currency);
        return -1;
    }
    c->http_port = (int)port;
    c->dev_auth = dev == 1;
    c->max_body_bytes = body;
    c->kafka_timeout_ms = (int)kto;
    c->engine_batch = (int)batch;
    c->engine_batch_ms = (int)batch_ms;
    c->rules.slot_ms = slot * 60000;
    c->rules.gate_closure_ms = gate * 60000;
    c->rules.horizon_ms = horizon * 86400000;
    snprintf(c->rules.currency, sizeof c->rules.currency, "%s", c->currency);
    if (snprintf(c->topic_offers, sizeof c->topic_offers, "%soffers", c->topic_prefix) >=
            (int)sizeof c->topic_offers ||
        snprintf(c->topic_offer_events, sizeof c->topic_offer_events, "%soffer-events",
                 c->topic_prefix) >= (int)sizeof c->topic_offer_events ||
        snprintf(c->topic_participants, sizeof c->topic_participants, "%sparticipants",
                 c->topic_prefix) >= (int)sizeof c->topic_participants) {
        snprintf(err, errlen, "P2P_TOPIC_PREFIX is too long");
        return -1;
    }
    return 0;
}
