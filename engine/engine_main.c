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

int input_topic_of(const struct engine_process *p, const char *topic)
{
    for (int i = 0; i < INPUT_TOPIC_COUNT; i++)
        if (strcmp(p->in_topics[i], topic) == 0)
            return i;
    return -1;
}

void chain_advance(struct engine_process *p, const char *bytes, size_t len)
{
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, sizeof p->chain);
    crypto_generichash_update(&st, p->chain, sizeof p->chain);
    crypto_generichash_update(&st, (const unsigned char *)bytes, len);
    crypto_generichash_final(&st, p->chain, sizeof p->chain);
    sodium_bin2hex(p->chain_hex, sizeof p->chain_hex, p->chain, sizeof p->chain);
}

static int produce(struct engine_process *p, enum output_topic topic, const char *ce_type,
                   const char *id, const char *correlation, int64_t at_ms, const char *key,
                   const char *json, void *opaque)
{
    struct p2p_envelope env;
    memset(&env, 0, sizeof env);
    snprintf(env.id, sizeof env.id, "%s", id);
    snprintf(env.source, sizeof env.source, "%s", p->source);
    snprintf(env.type, sizeof env.type, "%s", ce_type);
    snprintf(env.correlation_id, sizeof env.correlation_id, "%s", correlation);
    p2p_envelope_set_time(&env, at_ms);
    rd_kafka_resp_err_t err;
    /* the sequence log is one ordered partition, whatever the topic has */
    int32_t partition = topic == OUT_SEQUENCE ? 0 : RD_KAFKA_PARTITION_UA;
    while ((err = p2p_envelope_produce_to(p->producer, p->out_topics[topic], partition, key, &env,
                                          json, strlen(json), opaque)) ==
           RD_KAFKA_RESP_ERR__QUEUE_FULL)
        rd_kafka_poll(p->producer, 10);
    if (err)
        p2p_log(P2P_ERROR, "produce_failed", "%s: %s", ce_type, rd_kafka_err2str(err));
    return err ? -1 : 0;
}

/* A command that could not be read (or is for another market) is answered
 * with a rejection the core never sees: it changes no state. The event goes
 * to the events topic of the family the input topic belongs to. */
/* Bytes from a record we could not read may be anything: keep printable
 * ASCII only, so the rejection always encodes as JSON (a failure to encode
 * would abort the batch and stall the engine on this record forever). */
static void printable(char *s)
{
    for (; *s; s++)
        if (*s < ' ' || *s > '~')
            *s = '?';
}

static void reject_unreadable(struct engine_process *p, int input, const struct command *cmd,
                              const struct p2p_violation *why)
{
    static const enum command_kind family[INPUT_TOPIC_COUNT] = {
        [IN_OFFERS] = CMD_OFFER_WITHDRAW, [IN_ORDERS] = CMD_ORDER_BUY,
        [IN_PARTICIPANTS] = CMD_DEPOSIT, [IN_DELIVERIES] = CMD_DELIVERY_REPORT, [IN_TICKS] = CMD_TICK};
    struct event *ev = &p->sink.events[p->sink.count++];
    memset(ev, 0, sizeof *ev);
    bool offer = input == IN_OFFERS && cmd->kind == CMD_OFFER_SUBMIT &&
                 strcmp(why->code, "unknown_type") != 0;
    ev->kind = offer ? EV_OFFER_REJECTED : EV_COMMAND_REJECTED;
    if (offer) {
        snprintf(ev->u.rejected.subject_id, ENGINE_ID_LEN, "%s", cmd->u.offer.offer_id);
        snprintf(ev->u.rejected.actor_id, ENGINE_ID_LEN, "%s", cmd->u.offer.seller_id);
    }
    ev->u.rejected.reason = *why;
    printable(ev->u.rejected.subject_id);
    printable(ev->u.rejected.actor_id);
    printable(ev->u.rejected.reason.code);
    printable(ev->u.rejected.reason.field);
    printable(ev->u.rejected.reason.message);
    p->unreadable_family = input >= 0 ? family[input] : CMD_TICK;
}

int process_record(struct engine_process *p, const rd_kafka_message_t *m, bool live)
{
    struct p2p_envelope env;
    struct command cmd;
    struct p2p_violation why;
    char market[65];
    const char *topic = rd_kafka_topic_name(m->rkt);
    memset(&cmd, 0, sizeof cmd);
    memset(&why, 0, sizeof why);
    market[0] = '\0';
    p->commands++;
    p->sink.count = 0;
    p->sink.nquote_lines = 0;
    int readable = 0;
    if (p2p_envelope_read(m, &env))
        p2p_violate(&why, "unknown_type", "ce_type",
                    "the record lacks the CloudEvents headers ce_type and ce_id");
    else if (command_decode(env.type, m->payload, m->len, &cmd, market, &why) == 0)
        readable = 1;
    if (readable && strcmp(market, p->cfg.market) != 0) {
        p2p_violate(&why, "wrong_market", "market", "this engine runs market %s, not %s",
                    p->cfg.market, market);
        readable = 0;
    }
    int64_t at;
    if (readable) {
        engine_apply(&p->core, &cmd, &p->sink);
        at = p->core.now_ms;
    } else {
        reject_unreadable(p, input_topic_of(p, topic), &cmd, &why);
        /* the command's own time if readable, else the log's timestamp; never
         * before engine time (which this rejection does not move) */
        rd_kafka_timestamp_type_t tstype;
        int64_t ts = rd_kafka_message_timestamp(m, &tstype);
        at = cmd.issued_at_ms > 0 && cmd.issued_at_ms <= P2P_TIME_MAX_MS ? cmd.issued_at_ms
                                                                         : (ts > 0 ? ts : 0);
        if (at < p->core.now_ms)
            at = p->core.now_ms;
    }
    int input = input_topic_of(p, topic);
    if (input >= 0 && m->partition >= 0 && m->partition < ENGINE_MAX_PARTITIONS)
        p->next_offset[input][m->partition] = m->offset + 1;
    struct event_origin o;
    memset(&o, 0, sizeof o);
    /* An unreadable command's id: its ce_id header if that is an id, else
     * its position in the log ("<topic>:<partition>:<offset>"), which names
     * the cause just as well and is the same on every replay. */
    if (cmd.command_id[0])
        snprintf(o.command_id, sizeof o.command_id, "%s", cmd.command_id);
    else if (p2p_id_valid(env.id, sizeof o.command_id - 1))
        snprintf(o.command_id, sizeof o.command_id, "%s", env.id);
    else
        snprintf(o.command_id, sizeof o.command_id, "%s:%d:%lld", topic, (int)m->partition,
                 (long long)m->offset);
    snprintf(o.market, sizeof o.market, "%s", p->cfg.market); /* never echo an unchecked market */
    snprintf(o.topic, sizeof o.topic, "%s", topic);
    o.partition = m->partition;
    o.offset = m->offset;
    o.occurred_at_ms = at;
    for (int k = 0; k < p->sink.count; k++) {
        struct encoded_event enc;
        snprintf(o.event_id, sizeof o.event_id, "%s/%d/%lld/%d", topic, (int)m->partition,
                 (long long)m->offset, k);
        if (event_encode(&p->core, &p->sink, &p->sink.events[k],
                         readable ? cmd.kind : p->unreadable_family, &o, p->chain_hex, &enc)) {
            p2p_log(P2P_ERROR, "encode_failed", "out of memory encoding an event");
            return -1;
        }
        int rc = live ? produce(p, enc.topic, enc.ce_type, o.event_id, o.command_id, at, o.market,
                                enc.json, NULL)
                      : 0;
        chain_advance(p, enc.json, strlen(enc.json));
        free(enc.json);
        if (rc)
            return -1;
        p->outputs++;
    }
    return 0;
}

/* The sequence record of a batch: the inputs in the order they were applied. */
static int produce_sequence(struct engine_process *p)
{
    json_t *inputs = json_array(), *topics = json_array();
    for (int i = 0; i < INPUT_TOPIC_COUNT; i++)
        json_array_append_new(topics, json_string(p->in_topics[i]));
    for (int i = 0; i < p->nbatch; i++)
        json_array_append_new(inputs, json_pack("[i, i, I]", p->batch[i].topic, p->batch[i].partition,
                                                (json_int_t)p->batch[i].offset));
    char id[160];
    snprintf(id, sizeof id, "%s/%llu", p->cfg.engine_id, (unsigned long long)(p->batch_seq + 1));
    json_t *root = json_pack("{s:s, s:s, s:I, s:I, s:o, s:o, s:s}", "event_id", id, "engine_id",
                             p->cfg.engine_id, "batch", (json_int_t)(p->batch_seq + 1),
                             "engine_time_ms", (json_int_t)p->core.now_ms, "topics", topics,
                             "inputs", inputs, "prev_hash", p->chain_hex);
    char *json = root ? json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(root);
    if (!json)
        return -1;
    int rc = produce(p, OUT_SEQUENCE, "energy.p2p.engine.sequence.v1", id, id, p->core.now_ms,
                     p->cfg.market, json, p /* marks the delivery report */);
    chain_advance(p, json, strlen(json));
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
            failed = process_record(p, m, true) != 0;
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
