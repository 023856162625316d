/* p2p-audit: re-executes a market's engine over its recorded inputs and
 * proves (or disproves) that what is stored in the output topics is exactly
 * what the engine's rules produce.
 *
 * The engine-sequence log is the whole truth about the order of inputs: each
 * record lists the [topic index, partition, offset] of the inputs of one
 * transaction, in the order they were applied. The audit starts from an empty
 * engine and a zero hash chain, reads the sequence log from its first record
 * (so engine restarts and snapshots do not matter), fetches every named input
 * record, applies it with the engine's own step (engine_step.c: the same
 * decoder, core and encoder, not a copy) and compares every output it
 * computes, byte for byte, with the next record stored in that output topic:
 * value, key and every header (ce_*, content-type). After each batch it
 * checks the stored sequence record's prev_hash against the recomputed chain
 * and compares the re-encoded sequence record itself.
 *
 * It stops at the end of the sequence log (as it stands when reached), after
 * --max-batches N batches, or at the first divergence, which it names (topic,
 * partition, offset, the input that caused it, expected and stored bytes).
 * Progress (events/s) goes to stderr; the verdict and one final JSON line to
 * stdout. Exit 0 identical, 1 divergence, 2 could not audit (configuration,
 * Kafka, a missing topic).
 *
 * --input-prefix P reads the input records from topics "P<name>" instead of
 * the engine's own (e.g. a copy of the inputs): the sequence log's positions
 * must hold there, and event origins still name the engine's topics.
 * The engine's rules come from the same environment variables as the engine
 * (docs/configuration.md); a log written under other rules diverges. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/p2p_kafka.h"
#include "common/p2p_log.h"
#include "engine/engine_env.h"
#include "engine/engine_step.h"

#define MAX_PARTS ENGINE_MAX_PARTITIONS
#define MISSING_WAIT_MS 10000 /* how long an output named by a committed batch may lag */

struct part_reader {
    rd_kafka_queue_t *q;
    rd_kafka_message_t *peek; /* read ahead while binding the topic */
    int64_t next_offset;      /* after the last record handed out */
};

struct out_topic {
    int nparts;
    int bound; /* the partition this market's records are in; -1 = not seen yet */
    struct part_reader parts[MAX_PARTS];
};

struct divergence {
    bool found;
    char topic[160];
    int32_t partition;
    int64_t offset;
    char what[320];
    char *expected, *got; /* malloc'd */
};

struct audit {
    struct engine_process p;
    char engine_id[128];
    char input_prefix[96];
    char fetch_topics[INPUT_TOPIC_COUNT][160];
    int64_t max_batches;
    rd_kafka_t *rk;
    rd_kafka_queue_t *seq_q;
    rd_kafka_queue_t *in_q[INPUT_TOPIC_COUNT][MAX_PARTS];
    struct out_topic out[OUTPUT_TOPIC_COUNT];
    uint64_t events, batches, inputs;
    double started, last_progress;
    struct divergence div;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int64_t now_ms(void) { return (int64_t)(now_s() * 1000); }

static char *dup_bytes(const void *b, size_t n)
{
    char *s = malloc(n + 1);
    if (s) {
        if (n)
            memcpy(s, b, n);
        s[n] = '\0';
    }
    return s;
}

static void diverge(struct audit *a, const char *topic, int32_t partition, int64_t offset,
                    const char *expected, size_t elen, const char *got, size_t glen,
                    const char *fmt, const char *detail)
{
    if (a->div.found)
        return;
    a->div.found = true;
    snprintf(a->div.topic, sizeof a->div.topic, "%s", topic);
    a->div.partition = partition;
    a->div.offset = offset;
    snprintf(a->div.what, sizeof a->div.what, fmt, detail ? detail : "");
    a->div.expected = expected ? dup_bytes(expected, elen) : NULL;
    a->div.got = got ? dup_bytes(got, glen) : NULL;
}

static bool key_is(const rd_kafka_message_t *m, const char *key)
{
    return m->key && m->key_len == strlen(key) && memcmp(m->key, key, m->key_len) == 0;
}

/* The next stored record of this market in a partition, waiting up to
 * wait_ms past its end. NULL at the end. */
static rd_kafka_message_t *next_stored(struct audit *a, struct part_reader *r, int wait_ms)
{
    if (r->peek) {
        rd_kafka_message_t *m = r->peek;
        r->peek = NULL;
        return m;
    }
    int64_t deadline = now_ms() + wait_ms;
    for (;;) {
        rd_kafka_message_t *m = rd_kafka_consume_queue(r->q, 200);
        if (m && !m->err) {
            r->next_offset = m->offset + 1;
            if (key_is(m, a->p.cfg.market))
                return m;
            rd_kafka_message_destroy(m); /* another market's record */
            continue;
        }
        if (m && m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
            p2p_log(P2P_WARN, "consume_error", "%s", rd_kafka_message_errstr(m));
        if (m)
            rd_kafka_message_destroy(m);
        if (now_ms() >= deadline)
            return NULL;
    }
}

/* Compares header lists; on a difference describes it in `why`. */
static bool same_headers(const rd_kafka_message_t *m, const struct p2p_envelope *env,
                         char *why, size_t n)
{
    const char *want[][2] = {{"ce_specversion", "1.0"},      {"ce_id", env->id},
                             {"ce_source", env->source},     {"ce_type", env->type},
                             {"ce_time", env->time},         {"content-type", "application/json"},
                             {"ce_correlationid", env->correlation_id}};
    size_t nwant = sizeof want / sizeof *want, i = 0;
    rd_kafka_headers_t *h = NULL;
    if (rd_kafka_message_headers(m, &h) != RD_KAFKA_RESP_ERR_NO_ERROR)
        h = NULL;
    const char *name;
    const void *val;
    size_t len;
    for (; h && rd_kafka_header_get_all(h, i, &name, &val, &len) == RD_KAFKA_RESP_ERR_NO_ERROR; i++) {
        if (i >= nwant) {
            snprintf(why, n, "an extra header %s", name);
            return false;
        }
        if (strcmp(name, want[i][0]) != 0 || !val || len != strlen(want[i][1]) ||
            memcmp(val, want[i][1], len) != 0) {
            snprintf(why, n, "header %d: expected %s=%s, stored %s=%.*s", (int)i, want[i][0],
                     want[i][1], name, val ? (int)len : 6, val ? (const char *)val : "(null)");
            return false;
        }
    }
    if (i != nwant) {
        snprintf(why, n, "header %s is missing", want[i][0]);
        return false;
    }
    return true;
}

/* One computed output against one stored record. */
static int compare_record(struct audit *a, const struct engine_output *o,
                          const rd_kafka_message_t *m, const char *topic)
{
    struct p2p_envelope env;
    char why[300] = "";
    engine_output_envelope(&a->p, o, &env);
    if (!key_is(m, o->key))
        snprintf(why, sizeof why, "the key is not the market %s", o->key);
    else if (m->len != o->len || memcmp(m->payload, o->json, o->len) != 0)
        snprintf(why, sizeof why, "the value differs");
    else
        same_headers(m, &env, why, sizeof why);
    if (!why[0])
        return 0;
    diverge(a, topic, m->partition, m->offset, o->json, o->len, m->payload, m->len,
            "%s", why);
    return -1;
}

/* engine_step's callback: the next stored record of the output's topic must
 * be exactly this output. */
static int compare_output(void *ctx, const struct engine_output *o)
{
    struct audit *a = ctx;
    struct out_topic *t = &a->out[o->topic];
    const char *topic = a->p.out_topics[o->topic];
    if (t->bound < 0) {
        /* every record of a market is keyed by it, so one partition holds
         * them all: the one whose first record of this market is this one */
        for (int k = 0; k < t->nparts && t->bound < 0; k++) {
            struct part_reader *r = &t->parts[k];
            r->peek = next_stored(a, r, 2000);
            const void *id;
            size_t n;
            rd_kafka_headers_t *h;
            if (r->peek && rd_kafka_message_headers(r->peek, &h) == RD_KAFKA_RESP_ERR_NO_ERROR &&
                rd_kafka_header_get_last(h, "ce_id", &id, &n) == RD_KAFKA_RESP_ERR_NO_ERROR &&
                n == strlen(o->event_id) && memcmp(id, o->event_id, n) == 0)
                t->bound = k;
        }
        if (t->bound < 0) {
            const rd_kafka_message_t *first = NULL;
            for (int k = 0; k < t->nparts && !first; k++)
                first = t->parts[k].peek;
            diverge(a, topic, first ? first->partition : 0, first ? first->offset : 0, o->json,
                    o->len, first ? first->payload : NULL, first ? first->len : 0,
                    "%s", first ? "the first stored record of this market is another event"
                                : "the topic holds no record of this market");
            return -1;
        }
    }
    struct part_reader *r = &t->parts[t->bound];
    rd_kafka_message_t *m = next_stored(a, r, MISSING_WAIT_MS);
    if (!m) {
        diverge(a, topic, t->bound, r->next_offset, o->json, o->len, NULL, 0,
                "%s", "the stored log ends here: this output is missing");
        return -1;
    }
    int rc = compare_record(a, o, m, topic);
    rd_kafka_message_destroy(m);
    if (rc == 0)
        a->events++;
    return rc;
}

static void progress(struct audit *a, bool force)
{
    double t = now_s();
    if (!force && t - a->last_progress < 1.0)
        return;
    a->last_progress = t;
    double secs = t - a->started;
    fprintf(stderr, "audit: batch %llu, %llu inputs, %llu events verified, %.0f events/s\n",
            (unsigned long long)a->batches, (unsigned long long)a->inputs,
            (unsigned long long)a->events, secs > 0 ? a->events / secs : 0.0);
}

/* Where a position of the sequence log names: the input topic index, or -1. */
static int input_of(const struct audit *a, json_t *topics, json_t *pos)
{
    const char *name = json_string_value(json_array_get(topics, (size_t)json_integer_value(json_array_get(pos, 0))));
    return name ? input_topic_of(&a->p, name) : -1;
}

/* Re-executes one batch. Returns 0, 1 on a divergence, 2 on an error. */
static int audit_batch(struct audit *a, const rd_kafka_message_t *seq)
{
    json_error_t jerr;
    json_t *root = json_loadb(seq->payload, seq->len, 0, &jerr);
    json_t *topics = json_object_get(root, "topics"), *inputs = json_object_get(root, "inputs");
    const char *prev = json_string_value(json_object_get(root, "prev_hash"));
    const char *engine_id = json_string_value(json_object_get(root, "engine_id"));
    const char *seq_topic = a->p.out_topics[OUT_SEQUENCE];
    int rc = 0;
    if (!json_is_array(topics) || !json_is_array(inputs) || !prev || !engine_id) {
        diverge(a, seq_topic, seq->partition, seq->offset, NULL, 0, seq->payload, seq->len,
                "%s", "the sequence record is not one the engine writes");
        json_decref(root);
        return 1;
    }
    if (!a->engine_id[0]) { /* the engine's identity, from its first record */
        snprintf(a->engine_id, sizeof a->engine_id, "%s", engine_id);
        a->p.cfg.engine_id = a->engine_id;
        snprintf(a->p.source, sizeof a->p.source, "urn:p2p:engine:%s", a->engine_id);
    }
    size_t n = json_array_size(inputs), i;
    struct input_position *positions = calloc(n + 1, sizeof *positions);
    if (!positions) {
        json_decref(root);
        return 2;
    }
    json_t *pos;
    json_array_foreach(inputs, i, pos) {
        int t = input_of(a, topics, pos);
        int32_t part = (int32_t)json_integer_value(json_array_get(pos, 1));
        int64_t off = json_integer_value(json_array_get(pos, 2));
        if (t < 0 || part < 0 || part >= a->p.partitions[t]) {
            fprintf(stderr, "audit: the sequence record at offset %lld names input %s partition %d, "
                            "which is not an input of this engine (P2P_TOPIC_PREFIX?)\n",
                    (long long)seq->offset,
                    json_string_value(json_array_get(topics, (size_t)json_integer_value(json_array_get(pos, 0)))) ?: "?",
                    (int)part);
            rc = 2;
            break;
        }
        rd_kafka_message_t *m = engine_fetch_input(a->in_q[t][part], off);
        if (!m) {
            char where[200];
            snprintf(where, sizeof where, "%s", a->fetch_topics[t]);
            diverge(a, where, part, off, NULL, 0, NULL, 0, "%s",
                    "the input record named by the sequence log is not in the input topic");
            rc = 1;
            break;
        }
        positions[i] = (struct input_position){(uint8_t)t, part, off};
        int step = engine_step(&a->p, t, m, compare_output, a);
        rd_kafka_message_destroy(m);
        a->inputs++;
        if (step) {
            rc = a->div.found ? 1 : 2;
            break;
        }
        progress(a, false);
    }
    if (!rc && strcmp(prev, a->p.chain_hex) != 0) {
        diverge(a, seq_topic, seq->partition, seq->offset, a->p.chain_hex, strlen(a->p.chain_hex),
                prev, strlen(prev), "%s",
                "hash chain: the sequence record's prev_hash is not the chain over the outputs");
        rc = 1;
    }
    if (!rc) {
        struct engine_output o;
        char id[160];
        char *json = engine_sequence_encode(&a->p, a->batches + 1, positions, (int)n, &o, id);
        if (!json)
            rc = 2;
        else if (compare_record(a, &o, seq, seq_topic))
            rc = 1;
        free(json);
    }
    if (!rc) {
        chain_advance(&a->p, seq->payload, seq->len);
        a->batches++;
        a->events++;
    }
    free(positions);
    json_decref(root);
    return rc;
}

static rd_kafka_queue_t *partition_queue(rd_kafka_t *rk, const char *topic, int32_t part)
{
    rd_kafka_queue_t *q = rd_kafka_queue_get_partition(rk, topic, part);
    if (q)
        rd_kafka_queue_forward(q, NULL);
    return q;
}

/* Consumer assigned to the sequence log, every input partition (from the
 * input prefix) and every output partition, all from the beginning. */
static int open_log(struct audit *a)
{
    char err[512], group[192];
    snprintf(group, sizeof group, "audit-%s-%lld", a->p.cfg.market, (long long)now_ms());
    a->rk = p2p_kafka_consumer(&a->p.cfg, group, true, err, sizeof err);
    if (!a->rk) {
        fprintf(stderr, "audit: kafka consumer: %s\n", err);
        return -1;
    }
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(64);
    int rc = 0;
    for (int t = 0; t < INPUT_TOPIC_COUNT && !rc; t++) {
        int n = p2p_kafka_partitions(a->rk, a->fetch_topics[t], 15000);
        a->p.partitions[t] = n > MAX_PARTS ? MAX_PARTS : n;
        if (n < 1) {
            fprintf(stderr, "audit: input topic %s does not exist\n", a->fetch_topics[t]);
            rc = -1;
        }
        for (int k = 0; k < a->p.partitions[t]; k++)
            rd_kafka_topic_partition_list_add(parts, a->fetch_topics[t], k)->offset =
                RD_KAFKA_OFFSET_BEGINNING;
    }
    for (int t = 0; t < OUTPUT_TOPIC_COUNT && !rc; t++) {
        int n = t == OUT_SEQUENCE ? 1 : p2p_kafka_partitions(a->rk, a->p.out_topics[t], 15000);
        a->out[t].nparts = n > MAX_PARTS ? MAX_PARTS : n;
        a->out[t].bound = -1;
        if (n < 1) {
            fprintf(stderr, "audit: output topic %s does not exist\n", a->p.out_topics[t]);
            rc = -1;
        }
        for (int k = 0; k < a->out[t].nparts; k++)
            rd_kafka_topic_partition_list_add(parts, a->p.out_topics[t], k)->offset =
                RD_KAFKA_OFFSET_BEGINNING;
    }
    if (!rc && rd_kafka_assign(a->rk, parts)) {
        fprintf(stderr, "audit: cannot assign the topics\n");
        rc = -1;
    }
    rd_kafka_topic_partition_list_destroy(parts);
    if (rc)
        return -1;
    a->seq_q = partition_queue(a->rk, a->p.out_topics[OUT_SEQUENCE], 0);
    for (int t = 0; t < INPUT_TOPIC_COUNT; t++)
        for (int k = 0; k < a->p.partitions[t]; k++)
            a->in_q[t][k] = partition_queue(a->rk, a->fetch_topics[t], k);
    for (int t = 0; t < OUTPUT_TOPIC_COUNT; t++)
        if (t != OUT_SEQUENCE)
            for (int k = 0; k < a->out[t].nparts; k++)
                a->out[t].parts[k].q = partition_queue(a->rk, a->p.out_topics[t], k);
    return 0;
}

static void close_log(struct audit *a)
{
    for (int t = 0; t < OUTPUT_TOPIC_COUNT; t++)
        for (int k = 0; k < a->out[t].nparts; k++) {
            if (a->out[t].parts[k].peek)
                rd_kafka_message_destroy(a->out[t].parts[k].peek);
            if (a->out[t].parts[k].q)
                rd_kafka_queue_destroy(a->out[t].parts[k].q);
        }
    for (int t = 0; t < INPUT_TOPIC_COUNT; t++)
        for (int k = 0; k < a->p.partitions[t]; k++)
            if (a->in_q[t][k])
                rd_kafka_queue_destroy(a->in_q[t][k]);
    if (a->seq_q)
        rd_kafka_queue_destroy(a->seq_q);
    if (a->rk) {
        rd_kafka_consumer_close(a->rk);
        rd_kafka_destroy(a->rk);
    }
}

/* Walks the sequence log. Returns 0 identical, 1 divergence, 2 error. */
static int audit_log(struct audit *a)
{
    for (;;) {
        if (a->max_batches > 0 && (int64_t)a->batches >= a->max_batches)
            return 0;
        rd_kafka_message_t *m = rd_kafka_consume_queue(a->seq_q, 30000);
        if (!m) {
            fprintf(stderr, "audit: the sequence log did not answer within 30 s\n");
            return 2;
        }
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            rd_kafka_message_destroy(m);
            return 0;
        }
        int rc = m->err ? 2 : key_is(m, a->p.cfg.market) ? audit_batch(a, m) : 0;
        if (m->err)
            fprintf(stderr, "audit: reading the sequence log: %s\n", rd_kafka_message_errstr(m));
        rd_kafka_message_destroy(m);
        if (rc)
            return rc;
    }
}

static void usage(FILE *f)
{
    fprintf(f, "usage: p2p-audit [--input-prefix PREFIX] [--max-batches N]\n"
               "  Re-executes the engine of P2P_MARKET over the inputs its sequence log\n"
               "  (P2P_TOPIC_PREFIX engine-sequence) names and compares every output\n"
               "  byte for byte with the stored one. Exit 0 identical, 1 divergence,\n"
               "  2 could not audit. The last stdout line is one JSON object.\n"
               "  --input-prefix PREFIX  read the input records from PREFIX<topic>\n"
               "  --max-batches N        stop after N batches (default: the whole log)\n");
}

static int parse_args(struct audit *a, int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--input-prefix") == 0 && i + 1 < argc &&
            strlen(argv[i + 1]) < sizeof a->input_prefix) {
            snprintf(a->input_prefix, sizeof a->input_prefix, "%s", argv[++i]);
        } else if (strcmp(argv[i], "--max-batches") == 0 && i + 1 < argc) {
            char *end;
            a->max_batches = strtoll(argv[++i], &end, 10);
            if (*end || a->max_batches < 1) {
                fprintf(stderr, "audit: --max-batches needs a positive number\n");
                return -1;
            }
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            exit(0);
        } else {
            usage(stderr);
            return -1;
        }
    }
    return 0;
}

static int setup(struct audit *a)
{
    char err[512];
    struct engine_process *p = &a->p;
    if (p2p_config_load(&p->cfg, err, sizeof err) ||
        engine_env_load(&p->cfg, &p->params, &p->cap, err, sizeof err)) {
        fprintf(stderr, "audit: configuration: %s\n", err);
        return -1;
    }
    const char *in_prefix = a->input_prefix[0] ? a->input_prefix : p->cfg.topic_prefix;
    for (int i = 0; i < INPUT_TOPIC_COUNT; i++) {
        snprintf(p->in_topics[i], sizeof p->in_topics[i], "%s%s", p->cfg.topic_prefix,
                 input_topic_names[i]);
        snprintf(a->fetch_topics[i], sizeof a->fetch_topics[i], "%s%s", in_prefix,
                 input_topic_names[i]);
    }
    for (int i = 0; i < OUTPUT_TOPIC_COUNT; i++)
        snprintf(p->out_topics[i], sizeof p->out_topics[i], "%s%s", p->cfg.topic_prefix,
                 output_topic_names[i]);
    p->events = calloc(ENGINE_SINK_EVENTS, sizeof *p->events);
    if (!p->events || engine_create(&p->core, &p->params, &p->cap)) {
        fprintf(stderr, "audit: not enough memory for the configured capacities\n");
        return -1;
    }
    p->sink.events = p->events;
    p->sink.capacity = ENGINE_SINK_EVENTS;
    engine_chain_reset(p);
    return open_log(a);
}

static void print_json_string(const char *s)
{
    json_t *j = json_string(s ? s : "");
    char *out = j ? json_dumps(j, JSON_ENCODE_ANY) : NULL;
    fputs(out ? out : "null", stdout);
    free(out);
    json_decref(j);
}

static void report(struct audit *a, int rc)
{
    double secs = now_s() - a->started;
    if (rc == 0)
        printf("%llu events verified, identical (%llu batches, %llu inputs)\n",
               (unsigned long long)a->events, (unsigned long long)a->batches,
               (unsigned long long)a->inputs);
    else if (rc == 1)
        printf("first divergence: topic %s partition %d offset %lld: %s\n  expected: %s\n  got:      %s\n",
               a->div.topic, (int)a->div.partition, (long long)a->div.offset, a->div.what,
               a->div.expected ? a->div.expected : "(nothing)", a->div.got ? a->div.got : "(nothing)");
    else
        printf("audit failed: could not read the log (see stderr)\n");
    json_t *j = json_pack("{s:I, s:I, s:I, s:b, s:f, s:I}", "events", (json_int_t)a->events,
                          "batches", (json_int_t)a->batches, "inputs", (json_int_t)a->inputs,
                          "identical", rc == 0, "seconds", secs, "events_per_sec",
                          (json_int_t)(secs > 0 ? a->events / secs : 0));
    if (j && rc == 1) {
        json_object_set_new(j, "divergence",
                            json_pack("{s:s, s:i, s:I, s:s}", "topic", a->div.topic, "partition",
                                      (int)a->div.partition, "offset", (json_int_t)a->div.offset,
                                      "what", a->div.what));
    }
    if (j && rc == 2)
        json_object_set_new(j, "error", json_true());
    char *line = j ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    if (line)
        printf("%s\n", line);
    else
        print_json_string("out of memory"), printf("\n");
    free(line);
    json_decref(j);
}

int main(int argc, char **argv)
{
    static struct audit a;
    p2p_log_init("audit");
    if (sodium_init() < 0 || parse_args(&a, argc, argv))
        return 2;
    a.started = a.last_progress = now_s();
    int rc = setup(&a) ? 2 : audit_log(&a);
    progress(&a, true);
    report(&a, rc);
    fflush(stdout);
    close_log(&a);
    if (a.p.core.participants)
        engine_destroy(&a.p.core);
    free(a.p.events);
    free(a.div.expected);
    free(a.div.got);
    return rc;
}
