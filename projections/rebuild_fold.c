/* Reading the log into the fold, and the projector's bookkeeping of the
 * result (projections/rebuild_fold.h). */
#include "projections/rebuild_fold.h"

#include <stdio.h>
#include <string.h>

#include "common/p2p_log.h"

static int topic_of(const struct projector *p, const char *topic)
{
    for (int t = 0; t < PROJECTOR_TOPICS; t++)
        if (strcmp(p->topics[t], topic) == 0)
            return t;
    return -1;
}

static bool reached(const struct projector *p, const int64_t next[PROJECTOR_TOPICS][PROJECTOR_MAX_PARTITIONS],
                    const int64_t high[PROJECTOR_TOPICS][PROJECTOR_MAX_PARTITIONS])
{
    for (int t = 0; t < PROJECTOR_TOPICS; t++)
        for (int i = 0; i < p->npartitions[t]; i++) {
            int64_t at = next[t][i] > p->eof_offset[t][i] ? next[t][i] : p->eof_offset[t][i];
            if (high[t][i] > 0 && at < high[t][i])
                return false;
        }
    return true;
}

int rebuild_fold_log(struct projector *p, struct fold *f,
                     const int64_t high[PROJECTOR_TOPICS][PROJECTOR_MAX_PARTITIONS],
                     const struct rebuild_fold_progress *progress)
{
    static int64_t next[PROJECTOR_TOPICS][PROJECTOR_MAX_PARTITIONS];
    memcpy(next, p->next_offset, sizeof next);
    uint64_t count = 0;
    while (*p->running && !reached(p, next, high)) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(p->consumer, 200);
        if (!m)
            continue;
        int t = topic_of(p, rd_kafka_topic_name(m->rkt));
        bool in_range = t >= 0 && m->partition >= 0 && m->partition < PROJECTOR_MAX_PARTITIONS;
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            if (in_range)
                p->eof_offset[t][m->partition] = m->offset;
        } else if (m->err) {
            p2p_log(P2P_WARN, "consume_error", "%s", rd_kafka_message_errstr(m));
        } else if (in_range && m->offset >= next[t][m->partition]) {
            struct projector_record rec;
            if (projector_decode(m, &rec) == 0) {
                int rc = fold_event(f, &rec.event);
                if (rec.type >= 0)
                    p->type_count[rec.type]++;
                projector_record_free(&rec);
                if (rc) {
                    p2p_log(P2P_ERROR, "out_of_memory", "folding %s/%d offset %lld", p->topics[t],
                            (int)m->partition, (long long)m->offset);
                    rd_kafka_message_destroy(m);
                    return -1;
                }
            }
            next[t][m->partition] = m->offset + 1;
            count++;
            if (progress)
                progress->fn(progress->arg, count);
        }
        rd_kafka_message_destroy(m);
    }
    if (!*p->running)
        return -1;
    memcpy(p->next_offset, next, sizeof next);
    p->applied += count;
    return 0;
}

int rebuild_fold_write_progress(const struct projector *p, PGconn *db, const char *schema, char *err,
                                size_t errlen)
{
    struct copy_buf offsets = {0}, stats = {0};
    for (int t = 0; t < PROJECTOR_TOPICS; t++)
        for (int i = 0; i < p->npartitions[t]; i++)
            if (p->next_offset[t][i] >= 0) {
                copy_text(&offsets, p->cfg.projector_id);
                copy_text(&offsets, p->topics[t]);
                copy_int(&offsets, i);
                copy_int(&offsets, p->next_offset[t][i]);
                copy_end_row(&offsets);
            }
    if (p->applied > 0) {
        copy_text(&stats, p->cfg.projector_id);
        copy_int(&stats, (int64_t)p->applied);
        copy_end_row(&stats);
    }
    int rc = fold_copy(db, schema, "projector_offsets", "(projector, topic, partition, next_offset)", &offsets,
                       err, errlen) ||
                     fold_copy(db, schema, "projector_stats", "(projector, events_applied)", &stats, err, errlen)
                 ? -1
                 : 0;
    copy_free(&offsets);
    copy_free(&stats);
    return rc;
}
