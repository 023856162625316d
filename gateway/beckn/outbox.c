/* outbox.c - the callback outbox and its sender (outbox.h). */
#include "gateway/beckn/outbox.h"

#include <pthread.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/p2p_log.h"
#include "common/p2p_time.h"

int beckn_outbox_enqueue(PGconn *db, const struct beckn_outbox_item *it, int64_t now_ms,
                         char *err, size_t errlen)
{
    char now[24];
    snprintf(now, sizeof now, "%lld", (long long)now_ms);
    const char *params[7] = {it->dedupe_key, it->url,  it->action, it->transaction_id,
                             it->message_id, it->body, now};
    PGresult *r = PQexecParams(
        db,
        "insert into beckn_outbox (dedupe_key, url, action, transaction_id, message_id, body,"
        " created_at_ms, next_attempt_at_ms) values ($1, $2, $3, $4, $5, $6, $7::bigint,"
        " $7::bigint) on conflict (dedupe_key) do nothing",
        7, NULL, params, NULL, NULL, 0);
    int out;
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        snprintf(err, errlen, "outbox insert: %s", PQerrorMessage(db));
        out = -1;
    } else {
        out = atoi(PQcmdTuples(r)) == 1 ? 1 : 0;
    }
    PQclear(r);
    return out;
}

int beckn_callback_url(const char *base, const char *action, char *out, size_t cap)
{
    size_t len = strlen(base);
    while (len > 0 && base[len - 1] == '/')
        len--;
    int n = snprintf(out, cap, "%.*s/%s", (int)len, base, action);
    return n < 0 || (size_t)n >= cap ? -1 : 0;
}

int64_t beckn_outbox_backoff_ms(const struct beckn_node *node, int attempts, uint32_t random)
{
    int64_t delay = node->callback_backoff_ms;
    for (int i = 1; i < attempts && delay < node->callback_backoff_max_ms; i++)
        delay *= 2;
    if (delay > node->callback_backoff_max_ms)
        delay = node->callback_backoff_max_ms;
    int64_t half = delay / 2;
    return half + (int64_t)(random % (uint32_t)(delay - half + 1));
}

static int exec_params(PGconn *db, const char *sql, int n, const char *const *params, char *err,
                       size_t errlen)
{
    PGresult *r = PQexecParams(db, sql, n, NULL, params, NULL, NULL, 0);
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok)
        snprintf(err, errlen, "%s", PQerrorMessage(db));
    PQclear(r);
    return ok ? 0 : -1;
}

/* Records the outcome of one attempt on row `id`. */
static int record_outcome(PGconn *db, const struct beckn_node *node, const char *id,
                          int attempts, int64_t created_ms, const struct beckn_post_result *res,
                          int64_t now, char *err, size_t errlen)
{
    char status[8], when[24], next[24];
    snprintf(status, sizeof status, "%d", res->http_status);
    snprintf(when, sizeof when, "%lld", (long long)now);
    char why[400];
    if (res->transport_error[0])
        snprintf(why, sizeof why, "%s", res->transport_error);
    else
        snprintf(why, sizeof why, "HTTP %d%s%s%s%s", res->http_status,
                 res->ack == BECKN_ACK_NACK ? " NACK" : "", res->error_code[0] ? " " : "",
                 res->error_code, res->error_message[0] ? ": " : "");
    if (res->error_message[0] && !res->transport_error[0])
        strncat(why, res->error_message, sizeof why - strlen(why) - 1);
    const char *http_status = res->http_status ? status : NULL;
    if (beckn_post_delivered(res)) {
        const char *p[3] = {id, when, http_status};
        p2p_log(P2P_INFO, "beckn_callback_delivered", "outbox %s after %d attempt(s)", id, attempts);
        return exec_params(db,
                           "update beckn_outbox set status = 'DELIVERED', delivered_at_ms ="
                           " $2::bigint, last_http_status = $3::int, last_error = null"
                           " where id = $1::bigint",
                           3, p, err, errlen);
    }
    bool give_up = !beckn_post_retryable(res) || attempts >= node->callback_max_attempts ||
                   now - created_ms >= node->callback_max_age_ms;
    if (give_up) {
        const char *p[3] = {id, http_status, why};
        p2p_log(P2P_WARN, "beckn_callback_failed", "outbox %s gave up after %d attempt(s): %s", id,
                attempts, why);
        return exec_params(db,
                           "update beckn_outbox set status = 'FAILED', last_http_status = $2::int,"
                           " last_error = $3 where id = $1::bigint",
                           3, p, err, errlen);
    }
    snprintf(next, sizeof next, "%lld",
             (long long)(now + beckn_outbox_backoff_ms(node, attempts, randombytes_random())));
    const char *p[4] = {id, next, http_status, why};
    p2p_log(P2P_WARN, "beckn_callback_retry", "outbox %s attempt %d: %s", id, attempts, why);
    return exec_params(db,
                       "update beckn_outbox set next_attempt_at_ms = $2::bigint,"
                       " last_http_status = $3::int, last_error = $4 where id = $1::bigint",
                       4, p, err, errlen);
}

int beckn_outbox_deliver_due(PGconn *db, struct beckn_client *client, const struct beckn_node *node,
                             int max, char *err, size_t errlen)
{
    int64_t now = p2p_now_ms();
    char now_text[24], lease[24], limit[16];
    snprintf(now_text, sizeof now_text, "%lld", (long long)now);
    /* The lease outlasts the slowest attempt a pass can make. */
    snprintf(lease, sizeof lease, "%lld",
             (long long)(now + (int64_t)max * node->http_timeout_ms + 5000));
    snprintf(limit, sizeof limit, "%d", max);
    const char *params[3] = {now_text, lease, limit};
    PGresult *r = PQexecParams(
        db,
        "update beckn_outbox set next_attempt_at_ms = $2::bigint, attempts = attempts + 1"
        " where id in (select id from beckn_outbox where status = 'PENDING'"
        " and next_attempt_at_ms <= $1::bigint order by next_attempt_at_ms, id"
        " limit $3::int for update skip locked)"
        " returning id, url, body, attempts, created_at_ms",
        3, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        snprintf(err, errlen, "outbox claim: %s", PQerrorMessage(db));
        PQclear(r);
        return -1;
    }
    int n = PQntuples(r);
    for (int i = 0; i < n; i++) {
        const char *body = PQgetvalue(r, i, 2);
        struct beckn_post_result res;
        int64_t t = p2p_now_ms();
        beckn_client_post(client, &node->key, PQgetvalue(r, i, 1), body,
                          (size_t)PQgetlength(r, i, 2), t / 1000, node->signature_ttl_s,
                          node->http_timeout_ms, &res);
        if (record_outcome(db, node, PQgetvalue(r, i, 0), atoi(PQgetvalue(r, i, 3)),
                           atoll(PQgetvalue(r, i, 4)), &res, p2p_now_ms(), err, errlen)) {
            PQclear(r);
            return -1;
        }
    }
    PQclear(r);
    return n;
}

/* ---- the sender thread ------------------------------------------------- */

struct beckn_outbox_sender {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stopping;
    char *conninfo;
    const struct beckn_node *node;
    int poll_ms;
};

#define SENDER_BATCH 16

static void wait_ms(struct beckn_outbox_sender *s, int ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&s->mu);
    if (!s->stopping)
        pthread_cond_timedwait(&s->cv, &s->mu, &ts);
    pthread_mutex_unlock(&s->mu);
}

static bool stopping(struct beckn_outbox_sender *s)
{
    pthread_mutex_lock(&s->mu);
    bool v = s->stopping;
    pthread_mutex_unlock(&s->mu);
    return v;
}

static void *sender_main(void *arg)
{
    struct beckn_outbox_sender *s = arg;
    struct beckn_client *client = beckn_client_new();
    PGconn *db = NULL;
    char err[512];
    while (client && !stopping(s)) {
        if (!db || PQstatus(db) != CONNECTION_OK) {
            if (db)
                PQfinish(db);
            db = PQconnectdb(s->conninfo);
            if (PQstatus(db) != CONNECTION_OK) {
                p2p_log(P2P_WARN, "beckn_outbox_db", "cannot connect: %s", PQerrorMessage(db));
                wait_ms(s, 1000);
                continue;
            }
        }
        int n = beckn_outbox_deliver_due(db, client, s->node, SENDER_BATCH, err, sizeof err);
        if (n < 0) {
            p2p_log(P2P_WARN, "beckn_outbox_pass_failed", "%s", err);
            wait_ms(s, 1000);
        } else if (n < SENDER_BATCH) {
            wait_ms(s, s->poll_ms);
        }
    }
    if (!client)
        p2p_log(P2P_ERROR, "beckn_outbox_client", "cannot create an HTTP client");
    if (db)
        PQfinish(db);
    beckn_client_free(client);
    return NULL;
}

struct beckn_outbox_sender *beckn_outbox_sender_start(const char *conninfo,
                                                      const struct beckn_node *node, int poll_ms,
                                                      char *err, size_t errlen)
{
    struct beckn_outbox_sender *s = calloc(1, sizeof *s);
    if (!s || !(s->conninfo = strdup(conninfo))) {
        free(s);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->node = node;
    s->poll_ms = poll_ms > 0 ? poll_ms : 200;
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    if (pthread_create(&s->thread, NULL, sender_main, s)) {
        snprintf(err, errlen, "cannot start the outbox sender thread");
        pthread_cond_destroy(&s->cv);
        pthread_mutex_destroy(&s->mu);
        free(s->conninfo);
        free(s);
        return NULL;
    }
    return s;
}

void beckn_outbox_sender_stop(struct beckn_outbox_sender *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->mu);
    s->stopping = true;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
    pthread_join(s->thread, NULL);
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->mu);
    free(s->conninfo);
    free(s);
}
