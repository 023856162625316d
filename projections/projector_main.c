/* The offers projector: consumes engine events (read_committed) and maintains
 * the PostgreSQL read model. Each batch of up to 500 events is applied in one
 * database transaction that also stores the next offset to consume per
 * partition and bumps projector_stats.events_applied; on start the consumer
 * is positioned from those stored offsets, not Kafka's. So a crash at any
 * instant neither skips an event nor applies one twice.
 *
 * If PostgreSQL fails mid-batch the transaction is rolled back, the consumer
 * rewinds to the stored offsets and the batch is retried after a pause. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/p2p_config.h"
#include "common/p2p_envelope.h"
#include "common/p2p_kafka.h"
#include "common/p2p_log.h"
#include "engine/offer_codec.h"
#include "projections/migrate.h"
#include "projections/offers_projection.h"

#define MAX_PARTITIONS 256
#define BATCH_MAX 500
#define BATCH_MS 20

static volatile sig_atomic_t running = 1;
static void on_signal(int sig) { (void)sig; running = 0; }

struct projector {
    struct p2p_config cfg;
    PGconn *db;
    rd_kafka_t *consumer;
    int npartitions;
    int64_t next_offset[MAX_PARTITIONS]; /* committed in PostgreSQL; -1 = from the beginning */
    uint64_t applied;
};

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

static int connect_db(struct projector *p)
{
    char err[512];
    while (running) {
        p->db = PQconnectdb(p->cfg.pg_conninfo);
        if (PQstatus(p->db) == CONNECTION_OK) {
            PQsetNoticeProcessor(p->db, log_notice, NULL);
            int applied = p2p_migrate(p->db, p->cfg.migrations_dir, err, sizeof err);
            if (applied < 0) {
                p2p_log(P2P_ERROR, "migration_failed", "%s", err);
                return -1;
            }
            if (applied > 0)
                p2p_log(P2P_INFO, "migrated", "applied %d migration(s)", applied);
            return offers_projection_prepare(p->db);
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
    const char *params[2] = {p->cfg.projector_id, p->cfg.topic_offer_events};
    for (int i = 0; i < MAX_PARTITIONS; i++)
        p->next_offset[i] = -1;
    PGresult *r = PQexecParams(p->db,
                               "select partition, next_offset from projector_offsets"
                               " where projector = $1 and topic = $2",
                               2, NULL, params, NULL, NULL, 0);
    int ok = PQresultStatus(r) == PGRES_TUPLES_OK;
    for (int i = 0; ok && i < PQntuples(r); i++) {
        int part = atoi(PQgetvalue(r, i, 0));
        if (part >= 0 && part < MAX_PARTITIONS)
            p->next_offset[part] = atoll(PQgetvalue(r, i, 1));
    }
    if (!ok)
        p2p_log(P2P_ERROR, "load_offsets_failed", "%s", PQerrorMessage(p->db));
    PQclear(r);
    return ok ? 0 : -1;
}

/* Positions the consumer at the offsets committed in PostgreSQL. */
static int assign_from_offsets(struct projector *p)
{
    int n = p2p_kafka_partitions(p->consumer, p->cfg.topic_offer_events, 15000);
    if (n < 0)
        n = 0;
    if (n > MAX_PARTITIONS)
        n = MAX_PARTITIONS;
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(n ? n : 1);
    for (int i = 0; i < n; i++)
        rd_kafka_topic_partition_list_add(parts, p->cfg.topic_offer_events, i)->offset =
            p->next_offset[i] >= 0 ? p->next_offset[i] : RD_KAFKA_OFFSET_BEGINNING;
    p->npartitions = n;
    rd_kafka_resp_err_t e = n ? rd_kafka_assign(p->consumer, parts) : RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC;
    rd_kafka_topic_partition_list_destroy(parts);
    if (e)
        p2p_log(P2P_ERROR, "assign_failed", "%s", rd_kafka_err2str(e));
    return e ? -1 : 0;
}

static int store_progress(struct projector *p, const int64_t *next, uint64_t count)
{
    char cnt[24], part[16], off[24];
    snprintf(cnt, sizeof cnt, "%llu", (unsigned long long)count);
    const char *sv[2] = {p->cfg.projector_id, cnt};
    PGresult *r = PQexecParams(p->db,
                               "insert into projector_stats (projector, events_applied) values ($1, $2)"
                               " on conflict (projector) do update"
                               " set events_applied = projector_stats.events_applied + excluded.events_applied",
                               2, NULL, sv, NULL, NULL, 0);
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    for (int i = 0; ok && i < p->npartitions; i++) {
        if (next[i] == p->next_offset[i])
            continue;
        snprintf(part, sizeof part, "%d", i);
        snprintf(off, sizeof off, "%lld", (long long)next[i]);
        const char *ov[4] = {p->cfg.projector_id, p->cfg.topic_offer_events, part, off};
        r = PQexecParams(p->db,
                         "insert into projector_offsets (projector, topic, partition, next_offset)"
                         " values ($1, $2, $3, $4) on conflict (projector, topic, partition)"
                         " do update set next_offset = excluded.next_offset",
                         4, NULL, ov, NULL, NULL, 0);
        ok = PQresultStatus(r) == PGRES_COMMAND_OK;
        PQclear(r);
    }
    if (!ok)
        p2p_log(P2P_ERROR, "store_progress_failed", "%s", PQerrorMessage(p->db));
    return ok ? 0 : -1;
}

static int apply_message(struct projector *p, const rd_kafka_message_t *m)
{
    struct p2p_envelope env;
    struct offer_event ev;
    struct p2p_violation why;
    memset(&why, 0, sizeof why);
    p2p_violate(&why, "unknown_type", "ce_type", "the record lacks CloudEvents headers");
    if (p2p_envelope_read(m, &env) ||
        offer_event_decode(env.type, m->payload, m->len, &ev, &why)) {
        p2p_log(P2P_WARN, "event_skipped", "offset %lld (%s): %s", (long long)m->offset, env.type,
                why.message);
        return 0;
    }
    struct record_position at = {rd_kafka_topic_name(m->rkt), m->partition, m->offset};
    return offers_projection_apply(p->db, &ev, &at);
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
        sql(p->db, "rollback");
    }
    if (load_offsets(p) == 0)
        assign_from_offsets(p);
    sleep(1);
}

static void run_batch(struct projector *p)
{
    rd_kafka_message_t *batch[BATCH_MAX];
    int n = 0;
    int64_t deadline = mono_ms() + BATCH_MS;
    batch[n] = rd_kafka_consumer_poll(p->consumer, 200);
    if (!batch[n])
        return;
    for (n = 1; n < BATCH_MAX; n++) {
        int64_t left = deadline - mono_ms();
        if (left <= 0 || !(batch[n] = rd_kafka_consumer_poll(p->consumer, (int)left)))
            break;
    }
    int64_t next[MAX_PARTITIONS];
    memcpy(next, p->next_offset, sizeof next);
    uint64_t count = 0;
    int failed = sql(p->db, "begin");
    for (int i = 0; i < n; i++) {
        rd_kafka_message_t *m = batch[i];
        if (m->err) {
            p2p_log(P2P_WARN, "consume_error", "%s", rd_kafka_message_errstr(m));
        } else if (!failed && m->partition < MAX_PARTITIONS) {
            failed = apply_message(p, m);
            next[m->partition] = m->offset + 1;
            count++;
        }
        rd_kafka_message_destroy(m);
    }
    if (!failed && count)
        failed = store_progress(p, next, count);
    if (!failed)
        failed = sql(p->db, "commit");
    if (failed) {
        recover(p);
        return;
    }
    memcpy(p->next_offset, next, sizeof next);
    p->applied += count;
}

int main(void)
{
    static struct projector p;
    char err[512];
    p2p_log_init("projector");
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    if (p2p_config_load(&p.cfg, err, sizeof err)) {
        p2p_log(P2P_ERROR, "bad_config", "%s", err);
        return 1;
    }
    char group[160];
    snprintf(group, sizeof group, "p2p-projector-%s", p.cfg.projector_id);
    p.consumer = p2p_kafka_consumer(&p.cfg, group, false, err, sizeof err);
    const char *topics[] = {p.cfg.topic_offer_events};
    if (!p.consumer || p2p_kafka_ensure_topics(p.consumer, topics, 1, err, sizeof err)) {
        p2p_log(P2P_ERROR, "kafka", "%s", err);
        return 1;
    }
    if (connect_db(&p) || load_offsets(&p) || assign_from_offsets(&p))
        return 1;
    p2p_log(P2P_INFO, "projector_started", "projecting %s into PostgreSQL",
            p.cfg.topic_offer_events);
    while (running && p.db)
        run_batch(&p);
    rd_kafka_consumer_close(p.consumer);
    rd_kafka_destroy(p.consumer);
    PQfinish(p.db);
    p2p_log(P2P_INFO, "projector_stopped", "applied %llu events", (unsigned long long)p.applied);
    return 0;
}
