/* The engine process: the single writer of one market. It consumes the
 * command topics, applies each record to the pure core, and produces the
 * resulting events, all inside one Kafka transaction per batch together with
 * the consumed offsets and one sequence record listing the inputs in the
 * order they were applied (exactly once; the order across input topics is
 * itself logged). A batch closes after P2P_ENGINE_BATCH commands or
 * P2P_ENGINE_BATCH_MS milliseconds.
 *
 * Every output carries the input position that caused it and the hash of the
 * previous output (a chain over all outputs, in production order). Event ids
 * are "{topic}/{partition}/{offset}/{n}" of the input: a replay produces the
 * same ids and the same bytes.
 *
 * After a crash the next instance (same P2P_ENGINE_ID = transactional.id)
 * fences the old one, which aborts its open transaction, and rebuilds the core
 * from the newest snapshot plus the sequence log (recovery.c). */
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/p2p_envelope.h"
#include "common/p2p_json.h"
#include "common/p2p_kafka.h"
#include "common/p2p_log.h"
#include "common/p2p_time.h"
#include "engine/engine_env.h"
#include "engine/engine_process.h"
#include "engine/engine_step.h"

static volatile sig_atomic_t running = 1;
static void on_signal(int sig) { (void)sig; running = 0; }

static int64_t last_sequence_offset = -1; /* set by the delivery report of a sequence record */

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    (void)opaque;
    if (m->_private && !m->err)
        last_sequence_offset = m->offset;
}

static int produce(struct engine_process *p, const struct engine_output *o, void *opaque)
{
    struct p2p_envelope env;
    engine_output_envelope(p, o, &env);
    rd_kafka_resp_err_t err;
    /* the sequence log is one ordered partition, whatever the topic has */
    int32_t partition = o->topic == OUT_SEQUENCE ? 0 : RD_KAFKA_PARTITION_UA;
    while ((err = p2p_envelope_produce_to(p->producer, p->out_topics[o->topic], partition, o->key,
                                          &env, o->json, o->len, opaque)) ==
           RD_KAFKA_RESP_ERR__QUEUE_FULL)
        rd_kafka_poll(p->producer, 10);
    if (err)
        p2p_log(P2P_ERROR, "produce_failed", "%s: %s", o->ce_type, rd_kafka_err2str(err));
    return err ? -1 : 0;
}

/* engine_step's output callback in the live loop: into the transaction. */
static int produce_output(void *ctx, const struct engine_output *o)
{
    return produce(ctx, o, NULL);
}

/* The sequence record of a batch: the inputs in the order they were applied. */
static int produce_sequence(struct engine_process *p)
{
    struct engine_output o;
    char id[160];
    char *json = engine_sequence_encode(p, p->batch_seq + 1, p->batch, p->nbatch, &o, id);
    if (!json)
        return -1;
    int rc = produce(p, &o, p /* marks the delivery report */);
    chain_advance(p, json, o.len);
    free(json);
    return rc;
}

static int commit(struct engine_process *p)
{
    rd_kafka_topic_partition_list_t *parts;
    if (produce_sequence(p) || rd_kafka_assignment(p->consumer, &parts))
        return 1;
    rd_kafka_position(p->consumer, parts);
    rd_kafka_topic_partition_list_t *offsets = rd_kafka_topic_partition_list_new(parts->cnt);
    for (int i = 0; i < parts->cnt; i++)
        if (parts->elems[i].offset >= 0)
            rd_kafka_topic_partition_list_add(offsets, parts->elems[i].topic,
                                              parts->elems[i].partition)->offset = parts->elems[i].offset;
    rd_kafka_topic_partition_list_destroy(parts);
    rd_kafka_consumer_group_metadata_t *cgmd = rd_kafka_consumer_group_metadata(p->consumer);
    rd_kafka_error_t *e = rd_kafka_send_offsets_to_transaction(p->producer, offsets, cgmd, -1);
    rd_kafka_consumer_group_metadata_destroy(cgmd);
    rd_kafka_topic_partition_list_destroy(offsets);
    while (!e && (e = rd_kafka_commit_transaction(p->producer, -1)) && rd_kafka_error_is_retriable(e)) {
        rd_kafka_error_destroy(e);
        e = NULL;
    }
    if (!e) {
        rd_kafka_poll(p->producer, 0); /* serve the sequence record's delivery report */
        p->sequence_offset = last_sequence_offset;
        p->batch_seq++;
        return 0;
    }
    p2p_log(P2P_WARN, "transaction_failed", "%s", rd_kafka_error_string(e));
    int abortable = rd_kafka_error_txn_requires_abort(e);
    rd_kafka_error_destroy(e);
    return abortable ? 1 : -1;
}

/* One transaction. Returns -1 on a fatal error; an aborted batch is undone by
 * rebuilding the core from the committed log. */
static int run_batch(struct engine_process *p)
{
    rd_kafka_message_t *m = rd_kafka_consumer_poll(p->consumer, 200);
    if (!m)
        return 0;
    rd_kafka_error_t *e = rd_kafka_begin_transaction(p->producer);
    if (e) {
        p2p_log(P2P_ERROR, "begin_transaction_failed", "%s", rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
        rd_kafka_message_destroy(m);
        return -1;
    }
    int64_t deadline = mono_ms() + p->cfg.engine_batch_ms;
    int failed = 0;
    p->nbatch = 0;
    while (m) {
        int t = m->err ? -1 : input_topic_of(p, rd_kafka_topic_name(m->rkt));
        if (m->err) {
            p2p_log(P2P_WARN, "consume_error", "%s", rd_kafka_message_errstr(m));
        } else if (t >= 0 && !failed) {
            p->batch[p->nbatch++] = (struct input_position){(uint8_t)t, m->partition, m->offset};
            failed = engine_step(p, t, m, produce_output, p) != 0;
            if (failed)
                p2p_log(P2P_ERROR, "step_failed", "encoding or producing the events of %s/%d/%lld failed",
                        rd_kafka_topic_name(m->rkt), (int)m->partition, (long long)m->offset);
        }
        rd_kafka_message_destroy(m);
        int64_t left = deadline - mono_ms();
        if (failed || p->nbatch >= p->batch_cap || left <= 0)
            break;
        m = rd_kafka_consumer_poll(p->consumer, (int)left);
    }
    int rc = failed ? 1 : commit(p);
    if (rc < 0)
        return -1;
    if (rc > 0) {
        if ((e = rd_kafka_abort_transaction(p->producer, -1))) {
            p2p_log(P2P_ERROR, "abort_failed", "%s", rd_kafka_error_string(e));
            rd_kafka_error_destroy(e);
            return -1;
        }
        p2p_log(P2P_WARN, "batch_aborted", "rebuilding state from the committed log");
        return engine_recover(p);
    }
    p->since_snapshot += (uint64_t)p->nbatch;
    if ((int64_t)p->since_snapshot >= p->snapshot_every && engine_snapshot_write(p) == 0)
        p->since_snapshot = 0;
    return 0;
}

static int start(struct engine_process *p)
{
    char err[512];
    if (p2p_config_load(&p->cfg, err, sizeof err) ||
        engine_env_load(&p->cfg, &p->params, &p->cap, err, sizeof err)) {
        p2p_log(P2P_ERROR, "bad_config", "%s", err);
        return -1;
    }
    const char *dir = getenv("P2P_ENGINE_SNAPSHOT_DIR");
    const char *every = getenv("P2P_ENGINE_SNAPSHOT_EVERY");
    snprintf(p->snapshot_path, sizeof p->snapshot_path, "%s/%s.snapshot",
             dir && *dir ? dir : "var/engine", p->cfg.engine_id);
    p->snapshot_every = every && atoll(every) > 0 ? atoll(every) : 100000;
    snprintf(p->source, sizeof p->source, "urn:p2p:engine:%s", p->cfg.engine_id);
    for (int i = 0; i < INPUT_TOPIC_COUNT; i++)
        snprintf(p->in_topics[i], sizeof p->in_topics[i], "%s%s", p->cfg.topic_prefix,
                 input_topic_names[i]);
    for (int i = 0; i < OUTPUT_TOPIC_COUNT; i++)
        snprintf(p->out_topics[i], sizeof p->out_topics[i], "%s%s", p->cfg.topic_prefix,
                 output_topic_names[i]);
    p->batch_cap = p->cfg.engine_batch;
    p->batch = calloc((size_t)p->batch_cap, sizeof *p->batch);
    p->events = calloc(ENGINE_SINK_EVENTS, sizeof *p->events);
    if (!p->batch || !p->events)
        return -1;
    p->sink.events = p->events;
    p->sink.capacity = ENGINE_SINK_EVENTS;
    p->producer = p2p_kafka_producer(&p->cfg, p->cfg.engine_id, on_delivery, err, sizeof err);
    if (!p->producer) {
        p2p_log(P2P_ERROR, "kafka_producer", "%s", err);
        return -1;
    }
    const char *topics[INPUT_TOPIC_COUNT + OUTPUT_TOPIC_COUNT];
    for (int i = 0; i < INPUT_TOPIC_COUNT; i++)
        topics[i] = p->in_topics[i];
    for (int i = 0; i < OUTPUT_TOPIC_COUNT; i++)
        topics[INPUT_TOPIC_COUNT + i] = p->out_topics[i];
    if (p2p_kafka_ensure_topics(p->producer, topics, INPUT_TOPIC_COUNT + OUTPUT_TOPIC_COUNT, err,
                                sizeof err)) {
        p2p_log(P2P_ERROR, "kafka_topics", "%s", err);
        return -1;
    }
    rd_kafka_error_t *e = rd_kafka_init_transactions(p->producer, 60000);
    if (e) {
        p2p_log(P2P_ERROR, "init_transactions", "%s", rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
        return -1;
    }
    p->consumer = p2p_kafka_consumer(&p->cfg, p->cfg.engine_id, false, err, sizeof err);
    if (!p->consumer) {
        p2p_log(P2P_ERROR, "kafka_consumer", "%s", err);
        return -1;
    }
    return engine_recover(p);
}

int main(void)
{
    static struct engine_process p;
    p2p_log_init("engine");
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    if (sodium_init() < 0)
        return 1;
    int rc = start(&p) ? 1 : 0;
    if (rc == 0)
        p2p_log(P2P_INFO, "engine_started", "engine %s ready: %u offers, %u orders in state",
                p.cfg.engine_id, p.core.noffers, p.core.norders);
    int64_t last_report = mono_ms();
    while (rc == 0 && running) {
        if (run_batch(&p) < 0)
            rc = 1;
        if (mono_ms() - last_report >= 10000) {
            last_report = mono_ms();
            p2p_log_fields(P2P_INFO, "engine_stats",
                           json_pack("{s:I, s:I, s:I, s:I, s:I}", "commands", (json_int_t)p.commands,
                                     "outputs", (json_int_t)p.outputs, "offers",
                                     (json_int_t)p.core.noffers, "orders", (json_int_t)p.core.norders,
                                     "participants", (json_int_t)p.core.nparticipants));
        }
    }
    if (rc == 0 && p.since_snapshot > 0)
        engine_snapshot_write(&p);
    if (p.consumer) {
        rd_kafka_consumer_close(p.consumer);
        rd_kafka_destroy(p.consumer);
    }
    if (p.producer)
        rd_kafka_destroy(p.producer);
    engine_destroy(&p.core);
    free(p.batch);
    free(p.events);
    p2p_log(P2P_INFO, "engine_stopped", "processed %llu commands, %llu outputs",
            (unsigned long long)p.commands, (unsigned long long)p.outputs);
    return rc;
}
