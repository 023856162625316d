#include "gateway/ticker.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/p2p_id.h"
#include "common/p2p_log.h"
#include "common/p2p_time.h"
#include "gateway/command_bus.h"

static pthread_t thread;
static atomic_int ticking;
static const struct p2p_config *config;
static char topic[160];
static long interval_ms;

static void *tick_loop(void *arg)
{
    (void)arg;
    while (atomic_load(&ticking)) {
        struct timespec pause = {interval_ms / 1000, (interval_ms % 1000) * 1000000L};
        nanosleep(&pause, NULL);
        struct p2p_envelope env;
        char json[256];
        int64_t now = p2p_now_ms();
        memset(&env, 0, sizeof env);
        p2p_uuid(env.id);
        snprintf(env.source, sizeof env.source, "urn:p2p:gateway:clock");
        snprintf(env.type, sizeof env.type, "energy.p2p.clock.tick.v1");
        snprintf(env.correlation_id, sizeof env.correlation_id, "%s", env.id);
        p2p_envelope_set_time(&env, now);
        snprintf(json, sizeof json, "{\"command_id\":\"%s\",\"issued_at_ms\":%lld,\"market\":\"%s\"}",
                 env.id, (long long)now, config->market);
        if (command_bus_send(topic, config->market, &env, json))
            p2p_log(P2P_DEBUG, "tick_dropped", "the tick could not be queued");
    }
    return NULL;
}

int ticker_start(const struct p2p_config *cfg)
{
    const char *v = getenv("P2P_TICK_MS");
    interval_ms = v && *v ? atol(v) : 1000;
    if (interval_ms <= 0)
        return 0;
    config = cfg;
    snprintf(topic, sizeof topic, "%sticks", cfg->topic_prefix);
    atomic_store(&ticking, 1);
    return pthread_create(&thread, NULL, tick_loop, NULL) ? -1 : 0;
}

void ticker_stop(void)
{
    if (!atomic_load(&ticking))
        return;
    atomic_store(&ticking, 0);
    pthread_join(thread, NULL);
}
