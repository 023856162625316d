/* bap_send.c - one signed request of our BAP and the wait for its callback
 * (bap_send.h). */
#include "gateway/beckn/bap_send.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/p2p_log.h"
#include "common/p2p_time.h"
#include "gateway/http.h"
#include "gateway/pg_pool.h"

int bap_post(const struct beckn_bap *bap, const char *base, const char *path, const char *body,
             struct beckn_post_result *res)
{
    memset(res, 0, sizeof *res);
    char url[600];
    if (beckn_url_join(base, path, url, sizeof url)) {
        snprintf(res->transport_error, sizeof res->transport_error, "the peer URL is too long");
        return -1;
    }
    struct beckn_client *client = beckn_client_new();
    if (!client) {
        snprintf(res->transport_error, sizeof res->transport_error, "out of memory");
        return -1;
    }
    const struct beckn_node *node = bap->node;
    int rc = beckn_client_post(client, &node->key, url, body, strlen(body), p2p_now_ms() / 1000,
                               node->signature_ttl_s, node->http_timeout_ms, res);
    beckn_client_free(client);
    if (rc == 0 && beckn_post_delivered(res))
        return 0;
    if (rc == 0 && !res->error_message[0])
        snprintf(res->error_message, sizeof res->error_message, "HTTP %d without an ACK",
                 res->http_status);
    return -1;
}

static int record(const char *sql, int n, const char *const *params)
{
    PGconn *db = pg_pool_get(BECKN_BAP_PG_WAIT_MS);
    if (!db)
        return -1;
    PGresult *r = beckn_bap_exec(db, "bap request row", sql, n, params);
    pg_pool_put(db);
    PQclear(r);
    return r ? 0 : -1;
}

int bap_send_request(const struct beckn_bap *bap, const char *order_id, const char *bpp_uri,
                     const char *action, const char *message_id, const char *body,
                     struct beckn_post_result *res)
{
    char now[24];
    snprintf(now, sizeof now, "%lld", (long long)p2p_now_ms());
    const char *ins[] = {message_id, order_id, action, now};
    if (record("insert into network_order_requests (message_id, order_id, action, sent_at_ms, "
               "ack) values ($1, $2, $3, $4::bigint, 'PENDING')", 4, ins))
        return -2;
    int rc = bap_post(bap, bpp_uri, action, body, res);
    char error[400] = "";
    if (rc)
        snprintf(error, sizeof error, "%s%s%s", res->error_code,
                 res->error_code[0] ? ": " : "",
                 res->transport_error[0] ? res->transport_error : res->error_message);
    const char *upd[] = {message_id, rc == 0 ? "ACK" : res->http_status ? "NACK" : "ERROR",
                         rc ? error : NULL};
    if (record("update network_order_requests set ack = $2, error = $3 where message_id = $1", 3,
               upd))
        return -2;
    if (rc)
        p2p_log(P2P_INFO, "bap_request_refused", "%s of order %s: %s", action, order_id, error);
    return rc;
}

bool bap_wait(const struct beckn_bap *bap, const char *sql, const char *key)
{
    int64_t deadline = p2p_now_ms() + bap->settings.wait_ms;
    const char *params[] = {key};
    for (;;) {
        PGconn *db = pg_pool_get(BECKN_BAP_PG_WAIT_MS);
        bool done = false;
        if (db) {
            PGresult *r = beckn_bap_exec(db, "bap wait", sql, 1, params);
            done = r && PQntuples(r) == 1 && PQgetvalue(r, 0, 0)[0] == 't';
            PQclear(r);
            pg_pool_put(db);
        }
        if (done)
            return true;
        if (p2p_now_ms() >= deadline)
            return false;
        struct timespec pause = {0, 50 * 1000 * 1000};
        nanosleep(&pause, NULL);
    }
}

int bap_reply_post_failure(struct mg_connection *c, const struct beckn_post_result *res)
{
    if (res->http_status)
        return http_reply_error(c, 502, "peer_refused", NULL, "the other platform refused: %s%s%s",
                                res->error_code, res->error_code[0] ? " " : "",
                                res->error_message);
    return http_reply_error(c, 504, "peer_unreachable", NULL,
                            "the other platform could not be reached: %s",
                            res->transport_error);
}
