#include "gateway/command_bus.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "common/p2p_kafka.h"
#include "common/p2p_log.h"
#include "gateway/metrics.h"

/* One waiting request: the delivery report fills it and signals. Lives on the
 * requester's stack, which outlives the report because the requester waits
 * for it (the producer's message.timeout.ms bounds that wait). */
struct pending {
    pthread_mutex_t lock;
    pthread_cond_t done_cv;
    int done;
    rd_kafka_resp_err_t err;
};

static rd_kafka_t *producer;
static pthread_t poller;
static atomic_int polling;

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    (void)opaque;
    struct pending *p = m->_private;
    if (!p)
        return;
    pthread_mutex_lock(&p->lock);
    p->err = m->err;
    p->done = 1;
    pthread_cond_signal(&p->done_cv);
    pthread_mutex_unlock(&p->lock);
}

static void *poll_loop(void *arg)
{
    (void)arg;
    while (atomic_load(&polling))
        rd_kafka_poll(producer, 100);
    return NULL;
}

int command_bus_start(const struct p2p_config *cfg, char *err, size_t errlen)
{
    producer = p2p_kafka_producer(cfg, NULL, on_delivery, err, errlen);
    if (!producer)
        return -1;
    char ticks[160];
    snprintf(ticks, sizeof ticks, "%sticks", cfg->topic_prefix);
    const char *topics[] = {cfg->topic_offers, cfg->topic_offer_events, cfg->topic_participants, ticks};
    if (p2p_kafka_ensure_topics(producer, topics, 4, err, errlen)) {
        rd_kafka_destroy(producer);
        producer = NULL;
        return -1;
    }
    atomic_store(&polling, 1);
    if (pthread_create(&poller, NULL, poll_loop, NULL)) {
        snprintf(err, errlen, "cannot start the Kafka poll thread");
        rd_kafka_destroy(producer);
        producer = NULL;
        return -1;
    }
    return 0;
}

void command_bus_stop(void)
{
    if (!producer)
        return;
    rd_kafka_flush(producer, 10000);
    atomic_store(&polling, 0);
    pthread_join(poller, NULL);
    rd_kafka_destroy(producer);
    producer = NULL;
}

int command_bus_append(const char *topic, const char *key, const struct p2p_envelope *env,
                       const char *json, char *err, size_t errlen)
{
    struct pending p = {.done = 0, .err = RD_KAFKA_RESP_ERR_NO_ERROR};
    pthread_mutex_init(&p.lock, NULL);
    pthread_cond_init(&p.done_cv, NULL);
    rd_kafka_resp_err_t e = p2p_envelope_produce(producer, topic, key, env, json, strlen(json), &p);
    if (e == RD_KAFKA_RESP_ERR_NO_ERROR) {
        pthread_mutex_lock(&p.lock);
        while (!p.done)
            pthread_cond_wait(&p.done_cv, &p.lock);
        pthread_mutex_unlock(&p.lock);
        e = p.err;
    }
    pthread_cond_destroy(&p.done_cv);
    pthread_mutex_destroy(&p.lock);
    metrics_count_append(e == RD_KAFKA_RESP_ERR_NO_ERROR);
    if (e) {
        snprintf(err, errlen, "Kafka did not accept the command: %s", rd_kafka_err2str(e));
        p2p_log(P2P_WARN, "append_failed", "%s: %s", topic, rd_kafka_err2str(e));
        return -1;
    }
    return 0;
}

int command_bus_submit(const struct p2p_config *cfg, const char *topic, const char *ce_type,
                       const char *command_id, int64_t issued_at_ms, const char *json, char *err,
                       size_t errlen)
{
    struct p2p_envelope env;
    memset(&env, 0, sizeof env);
    snprintf(env.id, sizeof env.id, "%s", command_id);
    snprintf(env.source, sizeof env.source, "urn:p2p:gateway");
    snprintf(env.type, sizeof env.type, "%s", ce_type);
    snprintf(env.correlation_id, sizeof env.correlation_id, "%s", command_id);
    p2p_envelope_set_time(&env, issued_at_ms);
    return command_bus_append(topic, cfg->market, &env, json, err, errlen);
}

int command_bus_send(const char *topic, const char *key, const struct p2p_envelope *env,
                     const char *json)
{
    return p2p_envelope_produce(producer, topic, key, env, json, strlen(json), NULL) ? -1 : 0;
}

int command_bus_healthy(int timeout_ms)
{
    const struct rd_kafka_metadata *md;
    if (rd_kafka_metadata(producer, 0, NULL, &md, timeout_ms))
        return 0;
    int ok = md->broker_cnt > 0;
    rd_kafka_metadata_destroy(md);
    return ok;
}
