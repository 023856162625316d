#include "gateway/decisions.h"

#include <errno.h>
#include <jansson.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/p2p_envelope.h"
#include "common/p2p_kafka.h"
#include "common/p2p_log.h"

#define BUCKETS 1024
#define TOPIC_COUNT 5
#define POLL_MS 100
#define WATERMARK_TIMEOUT_MS 10000

/* Every waiting request, hashed by command id. One lock guards the table and
 * every waiter's done/type/value; each waiter sleeps on its own condvar. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct decision *table[BUCKETS];
static rd_kafka_t *consumer;
static pthread_t consumer_thread;
static atomic_int consuming;
static int wait_ms = 3000;

static const char *const watched[TOPIC_COUNT] = {"order-events", "offer-events",
                                                 "participant-events", "journal", "orders"};

static unsigned bucket_of(const char *id)
{
    unsigned h = 2166136261u; /* FNV-1a */
    for (const unsigned char *p = (const unsigned char *)id; *p; p++)
        h = (h ^ *p) * 16777619u;
    return h % BUCKETS;
}

static bool is_outcome(const struct decision *d, const char *type)
{
    for (const char *const *o = d->outcomes; *o; o++)
        if (strcmp(*o, type) == 0)
            return true;
    return false;
}

/* The optional field check, for answers such as a journal entry that other
 * events of the same command (expiries it caused) could also carry. */
static bool field_matches(const struct decision *d, const char *type, const char *value,
                          size_t len)
{
    if (!d->match_field || strcmp(type, "command.rejected.v1") == 0)
        return true;
    json_t *doc = json_loadb(value, len, 0, NULL);
    const char *got = doc ? json_string_value(json_object_get(doc, d->match_field)) : NULL;
    bool ok = got && strcmp(got, d->match_value) == 0;
    json_decref(doc);
    return ok;
}

static void deliver(const struct p2p_envelope *env, const char *value, size_t len)
{
    if (strncmp(env->type, P2P_CE_TYPE_PREFIX, strlen(P2P_CE_TYPE_PREFIX)) != 0)
        return;
    const char *type = env->type + strlen(P2P_CE_TYPE_PREFIX);
    pthread_mutex_lock(&lock);
    for (struct decision *d = table[bucket_of(env->correlation_id)]; d; d = d->next) {
        if (d->done || strcmp(d->command_id, env->correlation_id) != 0 || !is_outcome(d, type) ||
            !field_matches(d, type, value, len))
            continue;
        char *copy = malloc(len + 1);
        if (!copy) {
            p2p_log(P2P_WARN, "decision_dropped", "out of memory for the answer to %s",
                    d->command_id);
            break;
        }
        memcpy(copy, value, len);
        copy[len] = '\0';
        d->value = copy;
        snprintf(d->type, sizeof d->type, "%s", type);
        d->done = true;
        pthread_cond_signal(&d->cv);
        break;
    }
    pthread_mutex_unlock(&lock);
}

static void *consume_loop(void *arg)
{
    (void)arg;
    while (atomic_load(&consuming)) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(consumer, POLL_MS);
        if (!m)
            continue;
        struct p2p_envelope env;
        if (m->err) {
            if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
                p2p_log(P2P_WARN, "decisions_consume", "%s", rd_kafka_message_errstr(m));
        } else if (m->payload && p2p_envelope_read(m, &env) == 0 && env.correlation_id[0]) {
            deliver(&env, m->payload, m->len);
        }
        rd_kafka_message_destroy(m);
    }
    return NULL;
}

/* Assigns every partition of every watched topic at its current high
 * watermark: only answers to commands appended from now on are needed. */
static int assign_at_end(const char *const *topics, int n, char *err, size_t errlen)
{
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(8);
    int rc = 0;
    for (int t = 0; t < n && !rc; t++) {
        int np = p2p_kafka_partitions(consumer, topics[t], 15000);
        if (np < 1) {
            snprintf(err, errlen, "topic %s has no partitions", topics[t]);
            rc = -1;
        }
        for (int p = 0; p < np && !rc; p++) {
            int64_t lo, hi;
            rd_kafka_resp_err_t e;
            /* Right after a topic is created its leader may not be elected yet. */
            for (int waited = 0;; waited += 200) {
                e = rd_kafka_query_watermark_offsets(consumer, topics[t], p, &lo, &hi,
                                                     WATERMARK_TIMEOUT_MS);
                if (!e || waited >= WATERMARK_TIMEOUT_MS)
                    break;
                usleep(200 * 1000);
            }
            if (e) {
                snprintf(err, errlen, "watermarks of %s/%d: %s", topics[t], p, rd_kafka_err2str(e));
                rc = -1;
            } else {
                rd_kafka_topic_partition_list_add(parts, topics[t], p)->offset = hi;
            }
        }
    }
    if (!rc) {
        rd_kafka_resp_err_t e = rd_kafka_assign(consumer, parts);
        if (e) {
            snprintf(err, errlen, "assign: %s", rd_kafka_err2str(e));
            rc = -1;
        }
    }
    rd_kafka_topic_partition_list_destroy(parts);
    return rc;
}

/* A read_committed consumer driven by assign(), like p2p_kafka_consumer's,
 * but with a short fetch wait: a request thread is waiting on every answer,
 * and the broker otherwise holds a fetch up to 500 ms when a transaction's
 * records become readable only at its commit marker. */
static rd_kafka_t *decision_consumer(const struct p2p_config *cfg, char *err, size_t errlen)
{
    static const char *const settings[][2] = {
        {"group.id", "gateway-decisions"}, {"isolation.level", "read_committed"},
        {"enable.auto.commit", "false"},   {"enable.auto.offset.store", "false"},
        {"enable.partition.eof", "false"}, {"fetch.wait.max.ms", "10"},
        {"fetch.error.backoff.ms", "50"}};
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (rd_kafka_conf_set(conf, "bootstrap.servers", cfg->kafka_brokers, err, errlen)) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    for (size_t i = 0; i < sizeof settings / sizeof settings[0]; i++)
        if (rd_kafka_conf_set(conf, settings[i][0], settings[i][1], err, errlen)) {
            rd_kafka_conf_destroy(conf);
            return NULL;
        }
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, errlen);
    if (!rk) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    rd_kafka_poll_set_consumer(rk);
    return rk;
}

int decisions_start(const struct p2p_config *cfg, char *err, size_t errlen)
{
    int64_t ms;
    if (p2p_env_int("P2P_DECISION_WAIT_MS", 3000, 0, 60000, &ms, err, errlen))
        return -1;
    wait_ms = (int)ms;
    char names[TOPIC_COUNT][160];
    const char *topics[TOPIC_COUNT];
    for (int i = 0; i < TOPIC_COUNT; i++) {
        snprintf(names[i], sizeof names[i], "%s%s", cfg->topic_prefix, watched[i]);
        topics[i] = names[i];
    }
    if (!(consumer = decision_consumer(cfg, err, errlen)))
        return -1;
    /* "orders" is a command topic the gateway appends to: created here too,
     * but not consumed (it holds no answers). */
    if (p2p_kafka_ensure_topics(consumer, topics, TOPIC_COUNT, err, errlen) ||
        assign_at_end(topics, TOPIC_COUNT - 1, err, errlen))
        goto fail;
    atomic_store(&consuming, 1);
    if (pthread_create(&consumer_thread, NULL, consume_loop, NULL)) {
        snprintf(err, errlen, "cannot start the decision consumer thread");
        goto fail;
    }
    return 0;
fail:
    rd_kafka_destroy(consumer);
    consumer = NULL;
    return -1;
}

void decisions_stop(void)
{
    if (!consumer)
        return;
    atomic_store(&consuming, 0);
    pthread_join(consumer_thread, NULL);
    rd_kafka_consumer_close(consumer);
    rd_kafka_destroy(consumer);
    consumer = NULL;
}

int decisions_wait_ms(void) { return wait_ms; }

void decisions_expect(struct decision *d, const char *command_id, const char *const *outcomes,
                      const char *match_field, const char *match_value)
{
    memset(d, 0, sizeof *d);
    snprintf(d->command_id, sizeof d->command_id, "%s", command_id);
    d->outcomes = outcomes;
    d->match_field = match_field;
    d->match_value = match_value;
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&d->cv, &attr);
    pthread_condattr_destroy(&attr);
    unsigned b = bucket_of(d->command_id);
    pthread_mutex_lock(&lock);
    d->next = table[b];
    table[b] = d;
    pthread_mutex_unlock(&lock);
}

/* Removes d from the table; the caller holds the lock. */
static void unlink_locked(struct decision *d)
{
    for (struct decision **p = &table[bucket_of(d->command_id)]; *p; p = &(*p)->next)
        if (*p == d) {
            *p = d->next;
            break;
        }
}

bool decisions_await(struct decision *d, int timeout_ms)
{
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += timeout_ms / 1000;
    until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&lock);
    while (!d->done) {
        int rc = pthread_cond_timedwait(&d->cv, &lock, &until);
        if (rc == ETIMEDOUT)
            break;
    }
    bool done = d->done;
    unlink_locked(d);
    pthread_mutex_unlock(&lock);
    pthread_cond_destroy(&d->cv);
    return done;
}

void decisions_forget(struct decision *d)
{
    pthread_mutex_lock(&lock);
    unlink_locked(d);
    pthread_mutex_unlock(&lock);
    pthread_cond_destroy(&d->cv);
}

void decision_release(struct decision *d)
{
    free(d->value);
    d->value = NULL;
}
