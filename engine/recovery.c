/* Rebuilding the engine's state after a start or an aborted transaction.
 *
 * The newest snapshot (core tables, hash chain, and the input offsets and
 * sequence-log offset it reflects) is loaded if there is one; then every
 * sequence record after it is replayed: each lists input positions in the
 * order they were applied, and each named input record is fetched and applied
 * again, re-encoding its events so the hash chain advances exactly as it did.
 * Each sequence record's prev_hash must equal the chain recomputed so far: a
 * mismatch means the log was altered or the engine is not deterministic, and
 * the engine refuses to run.
 *
 * Afterwards the live consumer is assigned exactly where the replay stopped,
 * which is where the last committed transaction left off. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sodium.h>

#include "common/p2p_kafka.h"
#include "common/p2p_log.h"
#include "engine/engine_process.h"
#include "engine/engine_step.h"

#define MAX_PARTITIONS ENGINE_MAX_PARTITIONS
#define SNAPSHOT_FILE_MAGIC "P2PENG01"


static int file_write(void *ctx, const void *buf, size_t len)
{
    return fwrite(buf, 1, len, ctx) == len ? 0 : -1;
}
static int file_read(void *ctx, void *buf, size_t len)
{
    return fread(buf, 1, len, ctx) == len ? 0 : -1;
}

static int32_t partitions_of(rd_kafka_t *rk, const char *topic)
{
    int n = p2p_kafka_partitions(rk, topic, 15000);
    return n > MAX_PARTITIONS ? MAX_PARTITIONS : n;
}

int engine_snapshot_write(struct engine_process *p)
{
    char tmp[600];
    snprintf(tmp, sizeof tmp, "%s.tmp", p->snapshot_path);
    char dir[512];
    snprintf(dir, sizeof dir, "%s", p->snapshot_path);
    char *slash = strrchr(dir, '/');
    if (slash) {
        *slash = '\0';
        mkdir(dir, 0755); /* one level; an existing folder is fine */
    }
    FILE *f = fopen(tmp, "wb");
    int rc = f ? 0 : -1;
    uint32_t n = 0;
    for (int t = 0; t < INPUT_TOPIC_COUNT; t++)
        n += (uint32_t)(p->partitions[t] > 0 ? p->partitions[t] : 0);
    if (!rc && (fwrite(SNAPSHOT_FILE_MAGIC, 1, 8, f) != 8 ||
                file_write(f, &p->batch_seq, sizeof p->batch_seq) ||
                file_write(f, &p->sequence_offset, sizeof p->sequence_offset) ||
                file_write(f, p->chain, sizeof p->chain) || file_write(f, &n, sizeof n)))
        rc = -1;
    /* The positions the core has applied (equal to the committed offsets
     * right after a commit) — not the consumer's position, which is unset
     * for a partition this run has not read from yet. */
    for (int t = 0; !rc && t < INPUT_TOPIC_COUNT; t++)
        for (int k = 0; !rc && k < p->partitions[t]; k++) {
            struct input_position pos = {(uint8_t)t, k, p->next_offset[t][k]};
            rc = file_write(f, &pos, sizeof pos);
        }
    if (!rc)
        rc = engine_snapshot_save(&p->core, file_write, f);
    if (f && (fflush(f) || fsync(fileno(f))))
        rc = -1;
    if (f && fclose(f))
        rc = -1;
    if (!rc && rename(tmp, p->snapshot_path))
        rc = -1;
    if (rc)
        p2p_log(P2P_WARN, "snapshot_failed", "%s: %s", p->snapshot_path, strerror(errno));
    else
        p2p_log(P2P_INFO, "snapshot_written", "%s at batch %llu", p->snapshot_path,
                (unsigned long long)p->batch_seq);
    return rc;
}

/* Loads the snapshot file into p. Returns 1 when loaded, 0 when there is none,
 * -1 when it exists but cannot be used (then the full log is replayed), -2
 * when it was taken under other engine parameters. */
static int snapshot_read(struct engine_process *p)
{
    FILE *f = fopen(p->snapshot_path, "rb");
    if (!f)
        return 0;
    char magic[8];
    uint32_t n;
    int rc = fread(magic, 1, 8, f) == 8 && memcmp(magic, SNAPSHOT_FILE_MAGIC, 8) == 0 &&
                     !file_read(f, &p->batch_seq, sizeof p->batch_seq) &&
                     !file_read(f, &p->sequence_offset, sizeof p->sequence_offset) &&
                     !file_read(f, p->chain, sizeof p->chain) && !file_read(f, &n, sizeof n)
                 ? 1
                 : -1;
    for (uint32_t i = 0; rc == 1 && i < n; i++) {
        struct input_position pos;
        if (file_read(f, &pos, sizeof pos) || pos.topic >= INPUT_TOPIC_COUNT ||
            pos.partition < 0 || pos.partition >= MAX_PARTITIONS)
            rc = -1;
        else
            p->next_offset[pos.topic][pos.partition] = pos.offset;
    }
    if (rc == 1) {
        int loaded = engine_snapshot_load(&p->core, file_read, f);
        rc = loaded == -2 ? -2 : loaded ? -1 : 1;
    }
    fclose(f);
    if (rc == 1)
        sodium_bin2hex(p->chain_hex, sizeof p->chain_hex, p->chain, sizeof p->chain);
    return rc;
}

static int replay_record(struct engine_process *p, const rd_kafka_message_t *seq,
                         rd_kafka_queue_t *queues[INPUT_TOPIC_COUNT][MAX_PARTITIONS])
{
    json_error_t jerr;
    json_t *root = json_loadb(seq->payload, seq->len, 0, &jerr);
    json_t *topics = json_object_get(root, "topics"), *inputs = json_object_get(root, "inputs");
    const char *prev = json_string_value(json_object_get(root, "prev_hash"));
    int rc = 0;
    if (!json_is_array(topics) || !json_is_array(inputs) || !prev) {
        p2p_log(P2P_ERROR, "replay_failed", "sequence record at offset %lld is malformed",
                (long long)seq->offset);
        rc = -1;
    }
    size_t i;
    json_t *pos;
    json_array_foreach(inputs, i, pos) {
        if (rc)
            break;
        const char *name = json_string_value(json_array_get(topics, (size_t)json_integer_value(json_array_get(pos, 0))));
        int t = name ? input_topic_of(p, name) : -1;
        int32_t part = (int32_t)json_integer_value(json_array_get(pos, 1));
        int64_t off = json_integer_value(json_array_get(pos, 2));
        rd_kafka_message_t *m = t >= 0 && part >= 0 && part < p->partitions[t]
                                    ? engine_fetch_input(queues[t][part], off)
                                    : NULL;
        if (!m) {
            p2p_log(P2P_ERROR, "replay_failed", "input %s/%d/%lld named by the sequence is missing",
                    name ? name : "?", (int)part, (long long)off);
            rc = -1;
            break;
        }
        rc = engine_step(p, t, m, NULL, NULL); /* also advances p->next_offset */
        rd_kafka_message_destroy(m);
    }
    if (!rc && strcmp(prev, p->chain_hex) != 0) {
        p2p_log(P2P_ERROR, "chain_diverged",
                "sequence record %lld expects chain %s, replay computed %s: the log was altered "
                "or the engine is not deterministic",
                (long long)seq->offset, prev, p->chain_hex);
        rc = -1;
    }
    if (!rc) {
        chain_advance(p, seq->payload, seq->len);
        p->batch_seq = (uint64_t)json_integer_value(json_object_get(root, "batch"));
        p->sequence_offset = seq->offset;
    }
    json_decref(root);
    return rc;
}

static int replay(struct engine_process *p)
{
    char err[512], group[192];
    snprintf(group, sizeof group, "%s-replay", p->cfg.engine_id);
    rd_kafka_t *rk = p2p_kafka_consumer(&p->cfg, group, true, err, sizeof err);
    if (!rk) {
        p2p_log(P2P_ERROR, "replay_consumer", "%s", err);
        return -1;
    }
    static rd_kafka_queue_t *queues[INPUT_TOPIC_COUNT][MAX_PARTITIONS];
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(16);
    const char *seq_topic = p->out_topics[OUT_SEQUENCE];
    rd_kafka_topic_partition_list_add(parts, seq_topic, 0)->offset =
        p->sequence_offset >= 0 ? p->sequence_offset + 1 : RD_KAFKA_OFFSET_BEGINNING;
    int rc = 0;
    for (int t = 0; t < INPUT_TOPIC_COUNT && !rc; t++) {
        p->partitions[t] = partitions_of(rk, p->in_topics[t]);
        if (p->partitions[t] < 1)
            rc = -1;
        for (int k = 0; k < p->partitions[t]; k++)
            rd_kafka_topic_partition_list_add(parts, p->in_topics[t], k)->offset =
                p->next_offset[t][k] >= 0 ? p->next_offset[t][k] : RD_KAFKA_OFFSET_BEGINNING;
    }
    if (rc || rd_kafka_assign(rk, parts)) {
        p2p_log(P2P_ERROR, "replay_assign", "cannot assign the engine's topics");
        rd_kafka_topic_partition_list_destroy(parts);
        rd_kafka_destroy(rk);
        return -1;
    }
    rd_kafka_queue_t *seq_q = rd_kafka_queue_get_partition(rk, seq_topic, 0);
    rd_kafka_queue_forward(seq_q, NULL);
    for (int t = 0; t < INPUT_TOPIC_COUNT; t++)
        for (int k = 0; k < p->partitions[t]; k++) {
            queues[t][k] = rd_kafka_queue_get_partition(rk, p->in_topics[t], k);
            rd_kafka_queue_forward(queues[t][k], NULL);
        }
    uint64_t replayed = 0;
    for (;;) {
        rd_kafka_message_t *m = rd_kafka_consume_queue(seq_q, 30000);
        if (!m) {
            p2p_log(P2P_ERROR, "replay_failed", "the sequence log did not answer");
            rc = -1;
            break;
        }
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            rd_kafka_message_destroy(m);
            break;
        }
        rc = m->err ? -1 : replay_record(p, m, queues);
        rd_kafka_message_destroy(m);
        if (rc)
            break;
        replayed++;
    }
    for (int t = 0; t < INPUT_TOPIC_COUNT; t++)
        for (int k = 0; k < p->partitions[t]; k++)
            rd_kafka_queue_destroy(queues[t][k]);
    rd_kafka_queue_destroy(seq_q);
    rd_kafka_topic_partition_list_destroy(parts);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    if (!rc)
        p2p_log(P2P_INFO, "replayed", "%llu sequence records replayed up to batch %llu",
                (unsigned long long)replayed, (unsigned long long)p->batch_seq);
    return rc;
}

int engine_recover(struct engine_process *p)
{
    if (p->core.participants)
        engine_destroy(&p->core);
    if (engine_create(&p->core, &p->params, &p->cap)) {
        p2p_log(P2P_ERROR, "engine_create", "not enough memory for the configured capacities");
        return -1;
    }
    engine_chain_reset(p);
    int loaded = snapshot_read(p);
    if (loaded == -2) {
        p2p_log(P2P_ERROR, "rules_changed",
                "%s was taken under other trading rules (fees, TTL, weights, trust, market rules); "
                "the log can only be replayed under the rules it was written with: restore them, "
                "or start a new market (new P2P_ENGINE_ID and topics)",
                p->snapshot_path);
        return -1;
    }
    if (loaded < 0) {
        p2p_log(P2P_WARN, "snapshot_unusable", "%s cannot be used; replaying the whole log",
                p->snapshot_path);
        engine_destroy(&p->core);
        if (engine_create(&p->core, &p->params, &p->cap))
            return -1;
        engine_chain_reset(p);
    } else if (loaded > 0) {
        p2p_log(P2P_INFO, "snapshot_loaded", "%s at batch %llu", p->snapshot_path,
                (unsigned long long)p->batch_seq);
    }
    if (replay(p))
        return -1;
    /* Continue exactly where the replayed, committed log ends. */
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(16);
    for (int t = 0; t < INPUT_TOPIC_COUNT; t++)
        for (int k = 0; k < p->partitions[t]; k++)
            rd_kafka_topic_partition_list_add(parts, p->in_topics[t], k)->offset =
                p->next_offset[t][k] >= 0 ? p->next_offset[t][k] : RD_KAFKA_OFFSET_BEGINNING;
    /* The committed offsets were written in the same transactions as the
     * sequence records, so they must agree; if they do not (a log written by
     * an older engine, a truncated topic), continuing would apply inputs twice. */
    rd_kafka_topic_partition_list_t *committed = rd_kafka_topic_partition_list_copy(parts);
    rd_kafka_resp_err_t e = rd_kafka_committed(p->consumer, committed, 30000);
    for (int i = 0; !e && i < committed->cnt; i++) {
        int64_t c = committed->elems[i].offset, r = parts->elems[i].offset;
        if (c >= 0 && (r < 0 ? c > 0 : c != r)) {
            p2p_log(P2P_ERROR, "log_mismatch",
                    "%s/%d: committed offset %lld but the sequence log ends at %lld; refusing to "
                    "apply inputs twice (was this log written by another engine version?)",
                    committed->elems[i].topic, (int)committed->elems[i].partition, (long long)c,
                    (long long)r);
            e = RD_KAFKA_RESP_ERR__INCONSISTENT;
        }
    }
    rd_kafka_topic_partition_list_destroy(committed);
    if (!e)
        e = rd_kafka_assign(p->consumer, parts);
    rd_kafka_topic_partition_list_destroy(parts);
    if (e) {
        p2p_log(P2P_ERROR, "assign_failed", "%s", rd_kafka_err2str(e));
        return -1;
    }
    p->since_snapshot = 0;
    return 0;
}
