/* The engine process: the single writer of one market. It consumes commands,
 * applies them to the pure core and produces the resulting events, and it does
 * the three in one Kafka transaction per batch together with the consumed
 * offsets (exactly once). Many commands share a transaction: a batch closes
 * after P2P_ENGINE_BATCH commands or P2P_ENGINE_BATCH_MS milliseconds.
 *
 * Guarantees: an output exists iff its input's offset is committed with it;
 * after a crash the next instance (same P2P_ENGINE_ID = transactional.id)
 * fences the old one, aborts its open transaction and resumes at the last
 * committed offset. Event ids are "{topic}/{partition}/{offset}/{n}" of the
 * input, so a re-run after an abort produces the same ids and bytes. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/p2p_config.h"
#include "common/p2p_envelope.h"
#include "common/p2p_kafka.h"
#include "common/p2p_log.h"
#include "engine/core/engine.h"
#include "engine/offer_codec.h"

static volatile sig_atomic_t running = 1;
static void on_signal(int sig) { (void)sig; running = 0; }

struct engine_process {
    struct p2p_config cfg;
    struct engine core;
    rd_kafka_t *producer;
    rd_kafka_t *consumer;
    char source[96];
    uint64_t commands;
    uint64_t events;
};

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Produces one event inside the open transaction, waiting out a full queue. */
static int emit(struct engine_process *p, const struct event_origin *o, const char *type,
                char *json)
{
    if (!json) {
        p2p_log(P2P_ERROR, "encode_failed", "out of memory encoding %s", type);
        return -1;
    }
    struct p2p_envelope env;
    memset(&env, 0, sizeof env);
    snprintf(env.id, sizeof env.id, "%s", o->event_id);
    snprintf(env.source, sizeof env.source, "%s", p->source);
    snprintf(env.type, sizeof env.type, "%s", type);
    snprintf(env.correlation_id, sizeof env.correlation_id, "%s", o->command_id);
    p2p_envelope_set_time(&env, o->occurred_at_ms);
    rd_kafka_resp_err_t err;
    while ((err = p2p_envelope_produce(p->producer, p->cfg.topic_offer_events, o->market, &env,
                                       json, strlen(json), NULL)) == RD_KAFKA_RESP_ERR__QUEUE_FULL)
        rd_kafka_poll(p->producer, 10);
    free(json);
    if (err) {
        p2p_log(P2P_ERROR, "produce_failed", "%s: %s", type, rd_kafka_err2str(err));
        return -1;
    }
    p->events++;
    return 0;
}

/* Applies one input record. Returns -1 when the transaction must be aborted. */
static int apply_record(struct engine_process *p, const rd_kafka_message_t *m)
{
    struct p2p_envelope env;
    const char *topic = rd_kafka_topic_name(m->rkt);
    p->commands++;
    if (p2p_envelope_read(m, &env) || strcmp(env.type, CE_OFFER_SUBMIT) != 0) {
        p2p_log(P2P_WARN, "unknown_command", "skipping %s/%d/%lld: type '%s' is not handled",
                topic, (int)m->partition, (long long)m->offset, env.type);
        return 0;
    }
    struct offer_command cmd;
    struct engine_decision d;
    struct p2p_violation why;
    struct event_origin o;
    memset(&o, 0, sizeof o);
    snprintf(o.event_id, sizeof o.event_id, "%s/%d/%lld/0", topic, (int)m->partition,
             (long long)m->offset);
    snprintf(o.topic, sizeof o.topic, "%s", topic);
    o.partition = m->partition;
    o.offset = m->offset;
    if (offer_command_decode(m->payload, m->len, &cmd, &why) == 0) {
        engine_submit_offer(&p->core, &cmd.terms, cmd.issued_at_ms, &d);
        o.occurred_at_ms = cmd.issued_at_ms;
    } else {
        engine_reject_malformed(&p->core, &why, &d);
        /* The command's own time if it was readable; else the log's timestamp
         * (recorded in the log, so a replay sees the same value). */
        rd_kafka_timestamp_type_t tstype;
        int64_t ts = rd_kafka_message_timestamp(m, &tstype);
        o.occurred_at_ms = cmd.issued_at_ms > 0 && cmd.issued_at_ms <= P2P_TIME_MAX_MS
                               ? cmd.issued_at_ms
                               : (ts > 0 ? ts : 0);
    }
    snprintf(o.command_id, sizeof o.command_id, "%s", cmd.command_id[0] ? cmd.command_id : env.id);
    snprintf(o.market, sizeof o.market, "%s", cmd.market[0] ? cmd.market : p->cfg.market);
    if (d.kind == DECISION_OFFER_LISTED)
        return emit(p, &o, CE_OFFER_LISTED, offer_listed_encode(&o, &cmd.terms));
    p2p_log_fields(P2P_INFO, "offer_rejected",
                   json_pack("{s:s, s:s, s:s}", "offer_id", cmd.terms.offer_id, "code",
                             d.reason.code, "field", d.reason.field));
    return emit(p, &o, CE_OFFER_REJECTED,
                offer_rejected_encode(&o, cmd.terms.offer_id, cmd.terms.seller_id, &d.reason));
}

/* After an aborted transaction: move the consumer back to the committed offsets. */
static int rewind_to_committed(struct engine_process *p)
{
    rd_kafka_topic_partition_list_t *parts;
    if (rd_kafka_assignment(p->consumer, &parts))
        return -1;
    rd_kafka_resp_err_t err = rd_kafka_committed(p->consumer, parts, 30000);
    for (int i = 0; !err && i < parts->cnt; i++)
        if (parts->elems[i].offset < 0)
            parts->elems[i].offset = RD_KAFKA_OFFSET_BEGINNING;
    rd_kafka_error_t *e = err ? NULL : rd_kafka_seek_partitions(p->consumer, parts, 30000);
    rd_kafka_topic_partition_list_destroy(parts);
    if (err || e) {
        p2p_log(P2P_ERROR, "rewind_failed", "%s", e ? rd_kafka_error_string(e) : rd_kafka_err2str(err));
        if (e)
            rd_kafka_error_destroy(e);
        return -1;
    }
    return 0;
}

/* Sends the consumed positions and commits. 0 = committed, 1 = aborted and
 * rewound (the batch will be re-read), -1 = fatal. */
static int commit_batch(struct engine_process *p)
{
    rd_kafka_topic_partition_list_t *parts;
    if (rd_kafka_assignment(p->consumer, &parts))
        return -1;
    rd_kafka_position(p->consumer, parts);
    rd_kafka_topic_partition_list_t *offsets = rd_kafka_topic_partition_list_new(parts->cnt);
    for (int i = 0; i < parts->cnt; i++)
        if (parts->elems[i].offset >= 0)
            rd_kafka_topic_partition_list_add(offsets, parts->elems[i].topic,
                                              parts->elems[i].partition)->offset =
                parts->elems[i].offset;
    rd_kafka_topic_partition_list_destroy(parts);
    rd_kafka_consumer_group_metadata_t *cgmd = rd_kafka_consumer_group_metadata(p->consumer);
    rd_kafka_error_t *e = rd_kafka_send_offsets_to_transaction(p->producer, offsets, cgmd, -1);
    rd_kafka_consumer_group_metadata_destroy(cgmd);
    rd_kafka_topic_partition_list_destroy(offsets);
    while (!e) {
        e = rd_kafka_commit_transaction(p->producer, -1);
        if (!e)
            return 0;
        if (rd_kafka_error_is_retriable(e)) {
            rd_kafka_error_destroy(e);
            e = NULL;
        } else {
            break;
        }
    }
    p2p_log(P2P_WARN, "transaction_failed", "%s", rd_kafka_error_string(e));
    int abortable = rd_kafka_error_txn_requires_abort(e);
    rd_kafka_error_destroy(e);
    if (!abortable)
        return -1;
    if ((e = rd_kafka_abort_transaction(p->producer, -1))) {
        p2p_log(P2P_ERROR, "abort_failed", "%s", rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
        return -1;
    }
    return rewind_to_committed(p) ? -1 : 1;
}

/* One transaction: waits for a first record, then takes more until the batch
 * is full or its time is up. Returns -1 on a fatal error. */
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
    int n = 0, failed = 0;
    while (m) {
        if (m->err)
            p2p_log(P2P_WARN, "consume_error", "%s", rd_kafka_message_errstr(m));
        else if (!failed && apply_record(p, m))
            failed = 1;
        rd_kafka_message_destroy(m);
        int64_t left = deadline - mono_ms();
        if (failed || ++n >= p->cfg.engine_batch || left <= 0)
            break;
        m = rd_kafka_consumer_poll(p->consumer, (int)left);
    }
    if (failed) {
        if ((e = rd_kafka_abort_transaction(p->producer, -1))) {
            p2p_log(P2P_ERROR, "abort_failed", "%s", rd_kafka_error_string(e));
            rd_kafka_error_destroy(e);
            return -1;
        }
        return rewind_to_committed(p);
    }
    return commit_batch(p) < 0 ? -1 : 0;
}

static int start(struct engine_process *p)
{
    char err[512];
    if (p2p_config_load(&p->cfg, err, sizeof err)) {
        p2p_log(P2P_ERROR, "bad_config", "%s", err);
        return -1;
    }
    engine_init(&p->core, &p->cfg.rules);
    snprintf(p->source, sizeof p->source, "urn:p2p:engine:%s", p->cfg.engine_id);
    p->producer = p2p_kafka_producer(&p->cfg, p->cfg.engine_id, NULL, err, sizeof err);
    if (!p->producer) {
        p2p_log(P2P_ERROR, "kafka_producer", "%s", err);
        return -1;
    }
    const char *topics[] = {p->cfg.topic_offers, p->cfg.topic_offer_events};
    if (p2p_kafka_ensure_topics(p->producer, topics, 2, err, sizeof err)) {
        p2p_log(P2P_ERROR, "kafka_topics", "%s", err);
        return -1;
    }
    rd_kafka_error_t *e = rd_kafka_init_transactions(p->producer, 60000);
    if (e) {
        p2p_log(P2P_ERROR, "init_transactions", "%s", rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
        return -1;
    }
    p->consumer = p2p_kafka_consumer(&p->cfg, p->cfg.engine_id, err, sizeof err);
    if (!p->consumer || p2p_kafka_assign_all(p->consumer, p->cfg.topic_offers, err, sizeof err)) {
        p2p_log(P2P_ERROR, "kafka_consumer", "%s", err);
        return -1;
    }
    p2p_log(P2P_INFO, "engine_started", "engine %s consuming %s, producing %s", p->cfg.engine_id,
            p->cfg.topic_offers, p->cfg.topic_offer_events);
    return 0;
}

int main(void)
{
    static struct engine_process p;
    p2p_log_init("engine");
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    int rc = start(&p) ? 1 : 0;
    int64_t last_report = mono_ms();
    while (rc == 0 && running) {
        if (run_batch(&p) < 0)
            rc = 1;
        if (mono_ms() - last_report >= 10000) {
            last_report = mono_ms();
            p2p_log_fields(P2P_INFO, "engine_stats",
                           json_pack("{s:I, s:I, s:I, s:I}", "commands", (json_int_t)p.commands,
                                     "events", (json_int_t)p.events, "offers_listed",
                                     (json_int_t)p.core.offers_listed, "offers_rejected",
                                     (json_int_t)p.core.offers_rejected));
        }
    }
    if (p.consumer) {
        rd_kafka_consumer_close(p.consumer);
        rd_kafka_destroy(p.consumer);
    }
    if (p.producer)
        rd_kafka_destroy(p.producer);
    p2p_log(P2P_INFO, "engine_stopped", "processed %llu commands, %llu events",
            (unsigned long long)p.commands, (unsigned long long)p.events);
    return rc;
}
