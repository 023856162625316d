/* Process configuration, read once from environment variables with defaults
 * (docs/configuration.md lists them). A malformed value is an error at start,
 * never a silent fallback. The struct is filled once and then only read. */
#ifndef P2P_CONFIG_H
#define P2P_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/core/market_rules.h"

struct p2p_config {
    const char *kafka_brokers;
    const char *pg_conninfo;
    const char *topic_prefix;
    const char *market;
    const char *currency;
    const char *http_host;
    const char *engine_id;
    const char *projector_id;
    const char *migrations_dir;
    const char *web_root;
    int http_port;
    bool dev_auth;
    int64_t max_body_bytes;
    int kafka_timeout_ms;
    int engine_batch;
    int engine_batch_ms;
    struct market_rules rules;
    char topic_offers[128];
    char topic_offer_events[128];
    char topic_participants[128];
};

/* Reads integer variable `name` into *out (fallback when unset or empty).
 * Returns 0, or -1 with err naming the variable when it is not an integer in
 * [min, max]. */
int p2p_env_int(const char *name, int64_t fallback, int64_t min, int64_t max, int64_t *out,
                char *err, size_t errlen);

/* Loads the configuration. Returns 0, or -1 with a message naming the
 * variable in err. */
int p2p_config_load(struct p2p_config *cfg, char *err, size_t errlen);

#endif
