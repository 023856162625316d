#include "projections/projector.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/p2p_envelope.h"
#include "common/p2p_kafka.h"
#include "common/p2p_log.h"
#include "projections/migrate.h"
#include "projections/pipeline.h"
#include "projections/projection.h"

static const char *const topic_names[PROJECTOR_TOPICS] = {
    "offer-events", "order-events", "fills", "trust", "journal", "participant-events"};

static const char *const known_types[] = {
    "offer.listed.v1",       "offer.rejected.v1",   "offer.withdrawn.v1", "offer.expired.v1",
    "order.quoted.v1",       "order.reserved.v1",   "order.confirmed.v1", "order.rejected.v1",
    "order.cancelled.v1",    "order.expired.v1",    "order.settled.v1",   "order.paid.v1",
    "fill.v1",               "fill.cancelled.v1",   "delivery.settled.v1", "trust.changed.v1",
    "journal.entry.v1",      "participant.updated.v1", "command.rejected.v1", NULL};

const char *projector_type_name(int i)
{
    return i >= 0 && i < PROJECTOR_KNOWN_TYPES ? known_types[i] : NULL;
}

static int type_index(const char *type)
{
    for (int i = 0; known_types[i]; i++)
        if (strcmp(known_types[i], type) == 0)
            return i;
    return -1;
}

/* The arrays of set-based statements, reused from batch to batch (one
 * projector per process). */
static struct projection_context batch_context;

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int sql(PGconn *db, const char *q)
{
    PGresult *r = PQexec(db, q);
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok)
        p2p_log(P2P_ERROR, "sql_failed", "%s: %s", q, PQerrorMessage(db));
    PQclear(r);
    return ok ? 0 : -1;
}

/* PostgreSQL notices (e.g. "already exists, skipping") into the JSON log. */
static void log_notice(void *arg, const char *message)
{
    (void)arg;
    p2p_log(P2P_DEBUG, "postgres_notice", "%s", message);
}

static int prepare_all(PGconn *db)
{
    return offers_projection_prepare(db) || orders_projection_prepare(db) ||
           fills_projection_prepare(db) || participants_projection_prepare(db) ||
           accounts_projection_prepare(db) || command_results_projection_prepare(db) ||
           projection_prepare(db, "stats",
                              "insert into projector_stats (projector, events_applied) values ($1, $2)"
                              " on conflict (projector) do update"
                              " set events_applied = projector_stats.events_applied + excluded.events_applied") ||
           projection_prepare(db, "offset_first",
                              "insert into projector_offsets (projector, topic, partition, next_offset)"
                              " values ($1, $2, $3, $4) on conflict do nothing") ||
           projection_prepare(db, "offset_next",
                              "update projector_offsets set next_offset = $4 where projector = $1"
                              " and topic = $2 and partition = $3 and next_offset = $5");
}

static int connect_db(struct projector *p)
{
    char err[512];
    while (*p->running) {
        p->db = PQconnectdb(p->cfg.pg_conninfo);
        if (PQstatus(p->db) == CONNECTION_OK) {
            PQsetNoticeProcessor(p->db, log_notice, NULL);
            /* The statements are planned once: their shapes do not depend on
             * the values. Every one looks rows up by key, so a plan made while
             * the tables were small must not scan them as they grow: no
             * sequential scans, hash or merge joins. */
            if (sql(p->db, "set plan_cache_mode = force_generic_plan") ||
                sql(p->db, "set enable_seqscan = off") || sql(p->db, "set enable_hashjoin = off") ||
                sql(p->db, "set enable_mergejoin = off"))
                return -1;
            if (p->schema) {
                /* A scratch copy: losing it in a crash costs only a rerun. */
                char q[160];
                snprintf(q, sizeof q, "set search_path = %s, public", p->schema);
                if (sql(p->db, q) || sql(p->db, "set synchronous_commit = off"))
                    return -1;
            } else {
                int applied = p2p_migrate(p->db, p->cfg.migrations_dir, err, sizeof err);
                if (applied < 0) {
                    p2p_log(P2P_ERROR, "migration_failed", "%s", err);
                    return -1;
                }
                if (applied > 0)
                    p2p_log(P2P_INFO, "migrated", "applied %d migration(s)", applied);
                /* A batch's commit need not wait for its WAL flush: the
                 * offsets it consumed are stored in the same transaction,
                 * so a PostgreSQL crash that loses the last commits loses
                 * their offsets with them, and the projector re-projects
                 * those events from Kafka (where they are durable). The read
                 * models are derived data; nothing is acknowledged on the
                 * strength of this commit. Migrations above committed with
                 * the server's setting. */
                if (sql(p->db, "set synchronous_commit = off"))
                    return -1;
            }
            return prepare_all(p->db);
        }
        p2p_log(P2P_WARN, "postgres_unavailable", "%s; retrying", PQerrorMessage(p->db));
        PQfinish(p->db);
        p->db = NULL;
        sleep(1);
    }
    return -1;
}

static int load_offsets(struct projector *p)
{
    for (int t = 0; t < PROJECTOR_TOPICS; t++)
        for (int i = 0; i < PROJECTOR_MAX_PARTITIONS; i++)
            p->next_offset[t][i] = -1;
    const char *params[1] = {p->cfg.projector_id};
    PGresult *r = PQexecParams(p->db,
                               "select topic, partition, next_offset from projector_offsets"
                               " where projector = $1",
                               1, NULL, params, NULL, NULL, 0);
    int ok = PQresultStatus(r) == PGRES_TUPLES_OK;
    for (int i = 0; ok && i < PQntuples(r); i++) {
        int part = atoi(PQgetvalue(r, i, 1));
        for (int t = 0; t < PROJECTOR_TOPICS; t++)
            if (strcmp(p->topics[t], PQgetvalue(r, i, 0)) == 0 && part >= 0 &&
                part < PROJECTOR_MAX_PARTITIONS)
                p->next_offset[t][part] = atoll(PQgetvalue(r, i, 2));
    }
    if (!ok)
        p2p_log(P2P_ERROR, "load_offsets_failed", "%s", PQerrorMessage(p->db));
    PQclear(r);
    return ok ? 0 : -1;
}

/* Positions the consumer at the offsets committed in PostgreSQL. */
static int assign_from_offsets(struct projector *p)
{
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(16);
    for (int t = 0; t < PROJECTOR_TOPICS; t++) {
        int n = p2p_kafka_partitions(p->consumer, p->topics[t], 15000);
        n = n < 0 ? 0 : n > PROJECTOR_MAX_PARTITIONS ? PROJECTOR_MAX_PARTITIONS : n;
        p->npartitions[t] = n;
        for (int i = 0; i < n; i++) {
            rd_kafka_topic_partition_list_add(parts, p->topics[t], i)->offset =
                p->next_offset[t][i] >= 0 ? p->next_offset[t][i] : RD_KAFKA_OFFSET_BEGINNING;
            p->eof_offset[t][i] = -1;
        }
    }
    rd_kafka_resp_err_t e =
        parts->cnt ? rd_kafka_assign(p->consumer, parts) : RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC;
    rd_kafka_topic_partition_list_destroy(parts);
    if (e)
        p2p_log(P2P_ERROR, "assign_failed", "%s", rd_kafka_err2str(e));
    return e ? -1 : 0;
}

static int open_consumer(struct projector *p)
{
    char err[512], group[160];
    for (int t = 0; t < PROJECTOR_TOPICS; t++)
        snprintf(p->topics[t], sizeof p->topics[t], "%s%s", p->cfg.topic_prefix, topic_names[t]);
    snprintf(group, sizeof group, "p2p-projector-%s", p->cfg.projector_id);
    p->consumer = p2p_kafka_consumer(&p->cfg, group, p->report_eof, err, sizeof err);
    const char *topics[PROJECTOR_TOPICS];
    for (int t = 0; t < PROJECTOR_TOPICS; t++)
        topics[t] = p->topics[t];
    if (!p->consumer || p2p_kafka_ensure_topics(p->consumer, topics, PROJECTOR_TOPICS, err, sizeof err)) {
        p2p_log(P2P_ERROR, "kafka", "%s", err);
        return -1;
    }
    return 0;
}

int projector_start(struct projector *p)
{
    return open_consumer(p) || connect_db(p) || load_offsets(p) || assign_from_offsets(p) ? -1 : 0;
}

int projector_start_reading(struct projector *p)
{
    for (int t = 0; t < PROJECTOR_TOPICS; t++)
        for (int i = 0; i < PROJECTOR_MAX_PARTITIONS; i++)
            p->next_offset[t][i] = -1;
    return open_consumer(p) || assign_from_offsets(p) ? -1 : 0;
}

void projector_stop(struct projector *p)
{
    if (p->consumer) {
        rd_kafka_consumer_close(p->consumer);
        rd_kafka_destroy(p->consumer);
        p->consumer = NULL;
    }
    PQfinish(p->db);
    p->db = NULL;
    projection_context_free(&batch_context);
}

static int topic_index(const struct projector *p, const char *topic)
{
    for (int t = 0; t < PROJECTOR_TOPICS; t++)
        if (strcmp(p->topics[t], topic) == 0)
            return t;
    return -1;
}

int projector_decode(const rd_kafka_message_t *m, struct projector_record *rec)
{
    memset(rec, 0, sizeof *rec);
    if (p2p_envelope_read(m, &rec->env) ||
        strncmp(rec->env.type, P2P_CE_TYPE_PREFIX, strlen(P2P_CE_TYPE_PREFIX))) {
        p2p_log(P2P_WARN, "event_skipped", "%s offset %lld: no CloudEvents headers of ours",
                rd_kafka_topic_name(m->rkt), (long long)m->offset);
        return -1;
    }
    json_error_t jerr;
    json_t *value = m->payload ? json_loadb(m->payload, m->len, 0, &jerr) : NULL;
    char *text = value && json_is_object(value) ? malloc(m->len + 1) : NULL;
    if (!text) {
        p2p_log(P2P_WARN, "event_skipped", "%s offset %lld (%s): the value is not a JSON object",
                rd_kafka_topic_name(m->rkt), (long long)m->offset, rec->env.type);
        json_decref(value);
        return -1;
    }
    memcpy(text, m->payload, m->len);
    text[m->len] = '\0';
    struct projected_event *e = &rec->event;
    *e = (struct projected_event){.type = rec->env.type + strlen(P2P_CE_TYPE_PREFIX),
                                  .json = text,
                                  .value = value,
                                  .topic = rd_kafka_topic_name(m->rkt),
                                  .partition = m->partition,
                                  .offset = m->offset};
    e->event_id = projection_str(value, "event_id");
    if (!e->event_id[0])
        e->event_id = rec->env.id;
    e->command_id = projection_str(value, "command_id");
    const char *slash = strrchr(e->event_id, '/');
    e->event_n = slash ? atoi(slash + 1) : 0;
    rec->type = type_index(e->type);
    return 0;
}

void projector_record_free(struct projector_record *rec)
{
    free((char *)rec->event.json);
    json_decref((json_t *)rec->event.value);
    memset(rec, 0, sizeof *rec);
}

/* Queues the statements of one record. Unreadable records and types no read
 * model uses are logged and skipped (they still count as consumed). Returns
 * the index of its type or -1. */
static int apply_message(struct projection_context *c, const rd_kafka_message_t *m)
{
    struct projector_record rec;
    if (projector_decode(m, &rec))
        return -1;
    const struct projected_event *e = &rec.event;
    offers_projection_apply(c, e);
    orders_projection_apply(c, e);
    fills_projection_apply(c, e);
    participants_projection_apply(c, e);
    accounts_projection_apply(c, e);
    command_results_projection_apply(c, e);
    int type = rec.type;
    projector_record_free(&rec);
    return type;
}

/* Queues the new offsets (guarded: each must still be the one this batch
 * started from) and the applied count. */
static void store_progress(struct projector *p, struct pipeline *pl,
                           int64_t next[PROJECTOR_TOPICS][PROJECTOR_MAX_PARTITIONS], uint64_t count)
{
    char cnt[24], part[16], off[24], old[24];
    snprintf(cnt, sizeof cnt, "%llu", (unsigned long long)count);
    const char *sv[2] = {p->cfg.projector_id, cnt};
    pipeline_send(pl, "stats", 2, sv, 1, "projector_stats");
    for (int t = 0; t < PROJECTOR_TOPICS; t++)
        for (int i = 0; i < p->npartitions[t]; i++) {
            if (next[t][i] == p->next_offset[t][i])
                continue;
            snprintf(part, sizeof part, "%d", i);
            snprintf(off, sizeof off, "%lld", (long long)next[t][i]);
            snprintf(old, sizeof old, "%lld", (long long)p->next_offset[t][i]);
            const char *ov[5] = {p->cfg.projector_id, p->topics[t], part, off, old};
            if (p->next_offset[t][i] < 0)
                pipeline_send(pl, "offset_first", 4, ov, 1, "projector_offsets (first)");
            else
                pipeline_send(pl, "offset_next", 5, ov, 1, "projector_offsets");
        }
}

/* After a failed batch: back to the last stored offsets, on a healthy connection. */
static void recover(struct projector *p)
{
    if (PQstatus(p->db) != CONNECTION_OK) {
        PQfinish(p->db);
        p->db = NULL;
        if (connect_db(p))
            return;
    } else {
        if (PQpipelineStatus(p->db) != PQ_PIPELINE_OFF)
            PQexitPipelineMode(p->db);
        sql(p->db, "rollback");
    }
    if (load_offsets(p) == 0)
        assign_from_offsets(p);
    sleep(1);
}

int projector_run_batch(struct projector *p)
{
    if (!p->db && (connect_db(p) || load_offsets(p) || assign_from_offsets(p)))
        return -1;
    rd_kafka_message_t *m = rd_kafka_consumer_poll(p->consumer, 200);
    if (!m)
        return 0;
    static int64_t next[PROJECTOR_TOPICS][PROJECTOR_MAX_PARTITIONS];
    uint64_t counts[PROJECTOR_KNOWN_TYPES] = {0};
    memcpy(next, p->next_offset, sizeof next);
    struct pipeline pl;
    uint64_t count = 0;
    int64_t deadline = mono_ms() + p->batch_ms;
    struct projection_context *cx = &batch_context;
    cx->pl = &pl;
    cx->slot_ms = p->cfg.rules.slot_ms;
    if (pipeline_begin(&pl, p->db) == 0)
        pipeline_send_sql(&pl, "begin");
    for (int n = 0; m; n++) {
        int t = m->err ? -1 : topic_index(p, rd_kafka_topic_name(m->rkt));
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            t = topic_index(p, rd_kafka_topic_name(m->rkt));
            if (t >= 0 && m->partition < PROJECTOR_MAX_PARTITIONS)
                p->eof_offset[t][m->partition] = m->offset;
        } else if (m->err) {
            p2p_log(P2P_WARN, "consume_error", "%s", rd_kafka_message_errstr(m));
        } else if (t >= 0 && m->partition < PROJECTOR_MAX_PARTITIONS &&
                   m->offset < next[t][m->partition]) {
            /* below what is applied already: a record fetched before a rewind */
        } else if (t >= 0 && m->partition < PROJECTOR_MAX_PARTITIONS) {
            int type = apply_message(cx, m);
            if (type >= 0)
                counts[type]++;
            next[t][m->partition] = m->offset + 1;
            count++;
        }
        rd_kafka_message_destroy(m);
        int64_t left = deadline - mono_ms();
        m = n + 1 < p->batch_max && left > 0 ? rd_kafka_consumer_poll(p->consumer, (int)left) : NULL;
    }
    /* The fence is checked before the commit is even sent: a commit queued
     * behind a failed check would still be executed by the server. */
    projection_flush(cx);
    if (count)
        store_progress(p, &pl, next, count);
    if (count && pipeline_drain(&pl) == 0)
        pipeline_send_sql(&pl, "commit");
    else
        pipeline_send_sql(&pl, "rollback");
    if (pipeline_end(&pl) || pl.failed) {
        recover(p);
        return -1;
    }
    memcpy(p->next_offset, next, sizeof next);
    p->applied += count;
    for (int i = 0; i < PROJECTOR_KNOWN_TYPES; i++)
        p->type_count[i] += counts[i];
    return (int)count;
}

bool projector_reached(const struct projector *p, const int64_t high[PROJECTOR_TOPICS][PROJECTOR_MAX_PARTITIONS])
{
    for (int t = 0; t < PROJECTOR_TOPICS; t++)
        for (int i = 0; i < p->npartitions[t]; i++) {
            int64_t at = p->next_offset[t][i] > p->eof_offset[t][i] ? p->next_offset[t][i] : p->eof_offset[t][i];
            if (high[t][i] > 0 && at < high[t][i])
                return false;
        }
    return true;
}

int projector_high_watermarks(struct projector *p, int64_t high[PROJECTOR_TOPICS][PROJECTOR_MAX_PARTITIONS],
                              int64_t *total_after_stored)
{
    int64_t total = 0;
    for (int t = 0; t < PROJECTOR_TOPICS; t++)
        for (int i = 0; i < PROJECTOR_MAX_PARTITIONS; i++) {
            high[t][i] = 0;
            if (i >= p->npartitions[t])
                continue;
            int64_t lo = 0, hi = 0;
            rd_kafka_resp_err_t e =
                rd_kafka_query_watermark_offsets(p->consumer, p->topics[t], i, &lo, &hi, 10000);
            if (e) {
                p2p_log(P2P_ERROR, "watermarks_failed", "%s/%d: %s", p->topics[t], i, rd_kafka_err2str(e));
                return -1;
            }
            high[t][i] = hi;
            int64_t from = p->next_offset[t][i] > lo ? p->next_offset[t][i] : lo;
            total += hi > from ? hi - from : 0;
        }
    if (total_after_stored)
        *total_after_stored = total;
    return 0;
}
