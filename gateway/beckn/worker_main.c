/* p2p-beckn-worker: the BPP's asynchronous half.
 *
 * Reads the engine's order-events (read_committed, from the offsets stored in
 * PostgreSQL), turns decisions on Beckn requests into on_* callbacks queued in
 * the outbox and keeps the Beckn order state (worker_events.h). Each batch of
 * records (up to BATCH_MAX, what one poll round returns) is handled in one
 * PostgreSQL transaction together with the offsets after it, so a decision is
 * turned into callbacks exactly once even across crashes. A
 * second thread delivers the outbox (outbox.h: signed, retried with backoff,
 * at least once). Also purges expired replay-store rows. */
#include <librdkafka/rdkafka.h>
#include <signal.h>
#include <stdbool.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/p2p_config.h"
#include "common/p2p_envelope.h"
#include "common/p2p_kafka.h"
#include "common/p2p_log.h"
#include "common/p2p_time.h"
#include "gateway/beckn/node.h"
#include "gateway/beckn/publisher.h"
#include "gateway/beckn/outbox.h"
#include "gateway/beckn/replay.h"
#include "gateway/beckn/worker_events.h"
#include "projections/migrate.h"

#define CONSUMER_NAME "beckn-worker"
#define PURGE_EVERY_MS 60000
#define BATCH_MAX 256 /* records handled in one PostgreSQL transaction */

static volatile sig_atomic_t running = 1;
static void on_signal(int sig) { (void)sig; running = 0; }

static int exec_ok(PGconn *db, const char *q)
{
    PGresult *r = PQexec(db, q);
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok)
        p2p_log(P2P_WARN, "beckn_worker_sql", "%s: %s", q, PQerrorMessage(db));
    PQclear(r);
    return ok ? 0 : -1;
}

/* Assigns every partition of topic at the offsets stored in PostgreSQL. */
static int assign_from_db(rd_kafka_t *rk, PGconn *db, const char *topic, char *err, size_t errlen)
{
    int n = p2p_kafka_partitions(rk, topic, 60000);
    if (n < 1) {
        snprintf(err, errlen, "topic %s does not exist (start the engine first)", topic);
        return -1;
    }
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(n);
    for (int p = 0; p < n; p++)
        rd_kafka_topic_partition_list_add(list, topic, p)->offset = RD_KAFKA_OFFSET_BEGINNING;
    const char *params[2] = {CONSUMER_NAME, topic};
    PGresult *r = PQexecParams(db,
                               "select partition, next_offset from beckn_worker_offsets"
                               " where consumer = $1 and topic = $2",
                               2, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        snprintf(err, errlen, "reading offsets: %s", PQerrorMessage(db));
        PQclear(r);
        rd_kafka_topic_partition_list_destroy(list);
        return -1;
    }
    for (int i = 0; i < PQntuples(r); i++) {
        int p = atoi(PQgetvalue(r, i, 0));
        if (p >= 0 && p < n)
            list->elems[p].offset = atoll(PQgetvalue(r, i, 1));
    }
    PQclear(r);
    rd_kafka_resp_err_t e = rd_kafka_assign(rk, list);
    rd_kafka_topic_partition_list_destroy(list);
    if (e) {
        snprintf(err, errlen, "assign: %s", rd_kafka_err2str(e));
        return -1;
    }
    return 0;
}

static int store_offset(PGconn *db, const char *topic, int32_t partition, int64_t next)
{
    char p[12], o[24];
    snprintf(p, sizeof p, "%d", partition);
    snprintf(o, sizeof o, "%lld", (long long)next);
    const char *params[4] = {CONSUMER_NAME, topic, p, o};
    PGresult *r = PQexecParams(db,
                               "insert into beckn_worker_offsets (consumer, topic, partition,"
                               " next_offset) values ($1, $2, $3::int, $4::bigint)"
                               " on conflict (consumer, topic, partition) do update"
                               " set next_offset = excluded.next_offset",
                               4, NULL, params, NULL, NULL, 0);
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    return ok ? 0 : -1;
}

/* Handles one record on db (inside the caller's transaction). */
static int handle_record(PGconn *db, const struct beckn_node *node, const struct p2p_config *cfg,
                         const rd_kafka_message_t *m, char *err, size_t errlen)
{
    struct p2p_envelope env;
    if (p2p_envelope_read(m, &env) != 0 ||
        strncmp(env.type, P2P_CE_TYPE_PREFIX, strlen(P2P_CE_TYPE_PREFIX)) != 0)
        return 0; /* not one of ours: nothing to do */
    json_t *value = json_loadb(m->payload, m->len, 0, NULL);
    int rc = json_is_object(value)
                 ? beckn_worker_handle(db, node, cfg->currency,
                                       env.type + strlen(P2P_CE_TYPE_PREFIX), value,
                                       env.correlation_id, err, errlen)
                 : 0;
    json_decref(value);
    return rc;
}

/* Handles a batch of records and stores the offset after the last record of
 * each partition, all in one transaction (one commit per batch, not per
 * record). Returns 0, or -1 after a rollback (the caller retries the batch). */
static int handle_batch(PGconn *db, const struct beckn_node *node, const struct p2p_config *cfg,
                        rd_kafka_message_t *const *batch, int n)
{
    char err[512] = "";
    int rc = exec_ok(db, "begin");
    for (int i = 0; !rc && i < n; i++)
        rc = handle_record(db, node, cfg, batch[i], err, sizeof err);
    for (int i = 0; !rc && i < n; i++) {
        bool last_of_partition = true;
        for (int j = i + 1; j < n && last_of_partition; j++)
            last_of_partition = batch[j]->partition != batch[i]->partition;
        if (last_of_partition)
            rc = store_offset(db, rd_kafka_topic_name(batch[i]->rkt), batch[i]->partition,
                              batch[i]->offset + 1);
    }
    if (!rc)
        rc = exec_ok(db, "commit");
    if (rc) {
        p2p_log(P2P_WARN, "beckn_worker_batch_failed", "%d records from offset %lld: %s", n,
                (long long)batch[0]->offset, err[0] ? err : PQerrorMessage(db));
        PQclear(PQexec(db, "rollback"));
    }
    return rc;
}

static void log_notice(void *arg, const char *message)
{
    (void)arg;
    p2p_log(P2P_DEBUG, "postgres_notice", "%s", message);
}

static PGconn *connect_db(const struct p2p_config *cfg)
{
    for (int attempt = 0; running; attempt++) {
        PGconn *db = PQconnectdb(cfg->pg_conninfo);
        if (PQstatus(db) == CONNECTION_OK) {
            PQsetNoticeProcessor(db, log_notice, NULL);
            return db;
        }
        if (attempt % 10 == 0)
            p2p_log(P2P_WARN, "postgres", "cannot connect: %s", PQerrorMessage(db));
        PQfinish(db);
        sleep(1);
    }
    return NULL;
}

static int run(const struct p2p_config *cfg, const struct beckn_node *node)
{
    char err[512], topic[160];
    snprintf(topic, sizeof topic, "%sorder-events", cfg->topic_prefix);
    PGconn *db = connect_db(cfg);
    if (!db)
        return 0;
    if (p2p_migrate(db, cfg->migrations_dir, err, sizeof err) < 0) {
        p2p_log(P2P_ERROR, "migrate", "%s", err);
        PQfinish(db);
        return 1;
    }
    rd_kafka_t *rk = p2p_kafka_consumer(cfg, CONSUMER_NAME, false, err, sizeof err);
    if (!rk || assign_from_db(rk, db, topic, err, sizeof err)) {
        p2p_log(P2P_ERROR, "kafka", "%s", err);
        if (rk)
            rd_kafka_destroy(rk);
        PQfinish(db);
        return 1;
    }
    struct beckn_outbox_sender *sender =
        beckn_outbox_sender_start(cfg->pg_conninfo, node, 100, err, sizeof err);
    if (!sender) {
        p2p_log(P2P_ERROR, "beckn_outbox", "%s", err);
        rd_kafka_destroy(rk);
        PQfinish(db);
        return 1;
    }
    struct beckn_publisher *publisher; /* our catalog to BECKN_CDS_URL, if set (beckn-bap) */
    if (beckn_publisher_start(cfg, node, &publisher, err, sizeof err)) {
        p2p_log(P2P_ERROR, "beckn_publisher", "%s", err);
        beckn_outbox_sender_stop(sender);
        rd_kafka_destroy(rk);
        PQfinish(db);
        return 1;
    }
    p2p_log(P2P_INFO, "beckn_worker_started", "reading %s as %s", topic, node->key.subscriber_id);
    int64_t next_purge = 0;
    rd_kafka_message_t *batch[BATCH_MAX];
    while (running) {
        int n = 0;
        for (int timeout = 200; n < BATCH_MAX; timeout = 0) {
            rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, timeout);
            if (!m)
                break;
            if (!m->err) {
                batch[n++] = m;
                continue;
            }
            if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
                p2p_log(P2P_WARN, "kafka_consume", "%s", rd_kafka_message_errstr(m));
            rd_kafka_message_destroy(m);
        }
        while (n > 0 && running && handle_batch(db, node, cfg, batch, n)) {
            if (PQstatus(db) != CONNECTION_OK)
                PQreset(db);
            sleep(1);
        }
        for (int i = 0; i < n; i++)
            rd_kafka_message_destroy(batch[i]);
        if (p2p_now_ms() >= next_purge) {
            long purged = beckn_replay_purge(db, p2p_now_ms());
            if (purged > 0)
                p2p_log(P2P_INFO, "beckn_replay_purged", "%ld expired message ids", purged);
            next_purge = p2p_now_ms() + PURGE_EVERY_MS;
        }
    }
    beckn_publisher_stop(publisher);
    beckn_outbox_sender_stop(sender);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    PQfinish(db);
    return 0;
}

int main(void)
{
    static struct p2p_config cfg;
    static struct beckn_node node;
    char err[512];
    p2p_log_init("beckn-worker");
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    signal(SIGPIPE, SIG_IGN);
    if (sodium_init() < 0 || p2p_config_load(&cfg, err, sizeof err)) {
        p2p_log(P2P_ERROR, "bad_config", "%s", err);
        return 1;
    }
    if (beckn_node_load(&node, err, sizeof err)) {
        p2p_log(P2P_ERROR, "bad_beckn_config", "%s", err);
        return 1;
    }
    int rc = 0;
    if (!node.configured) {
        p2p_log(P2P_INFO, "beckn_not_configured",
                "BECKN_SUBSCRIBER_ID is not set: no Beckn callbacks to send; idle");
        while (running)
            sleep(1);
    } else {
        rc = run(&cfg, &node);
    }
    beckn_node_close(&node);
    p2p_log(P2P_INFO, "beckn_worker_stopped", "bye");
    return rc;
}
