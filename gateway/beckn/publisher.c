/* publisher.c - our catalog to an external CDS, republished on change
 * (publisher.h). */
#include "gateway/beckn/publisher.h"

#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/p2p_id.h"
#include "common/p2p_log.h"
#include "common/p2p_time.h"
#include "gateway/beckn/catalog.h"
#include "gateway/beckn/client.h"
#include "gateway/beckn/outgoing.h"
#include "gateway/beckn/units.h"

#define DIGEST_HEX (2 * crypto_generichash_BYTES + 1)

struct beckn_publisher {
    const struct p2p_config *cfg;
    const struct beckn_node *node;
    struct beckn_bap_settings settings;
    pthread_t thread;
    atomic_bool stop;
    char published[DIGEST_HEX]; /* digest the CDS last ACKed, "" = none yet */
};

static void digest_hex(const char *text, char out[DIGEST_HEX])
{
    unsigned char d[crypto_generichash_BYTES];
    crypto_generichash(d, sizeof d, (const unsigned char *)text, strlen(text), NULL, 0);
    sodium_bin2hex(out, DIGEST_HEX, d, sizeof d);
}

static int exec_ok(PGconn *db, const char *sql, int n, const char *const *params)
{
    PGresult *r = PQexecParams(db, sql, n, NULL, params, NULL, NULL, 0);
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok)
        p2p_log(P2P_WARN, "beckn_publish_db", "%s", PQresultErrorMessage(r));
    PQclear(r);
    return ok ? 0 : -1;
}

/* One pass: build, compare, publish if changed. */
static void publish_once(struct beckn_publisher *p, PGconn *db, struct beckn_client *client)
{
    struct beckn_catalog_source src = {.market = p->cfg->market,
                                       .bpp_id = p->node->key.subscriber_id,
                                       .bpp_uri = p->node->subscriber_uri,
                                       .network_id = p->settings.network_id,
                                       .gate_closure_ms = p->cfg->rules.gate_closure_ms};
    char err[256];
    int64_t now = p2p_now_ms();
    json_t *catalog = beckn_catalog_build(db, &src, now, err, sizeof err);
    if (!catalog) {
        p2p_log(P2P_WARN, "beckn_publish_build_failed", "%s", err);
        return;
    }
    bool active = json_is_true(json_object_get(catalog, "beckn:isActive"));
    int items = (int)json_array_size(json_object_get(catalog, "beckn:items"));
    json_t *catalogs = json_pack("{s:[o]}", "catalogs", catalog);
    char *text = catalogs ? beckn_dumps(catalogs) : NULL;
    char digest[DIGEST_HEX];
    if (!text) {
        json_decref(catalogs);
        return;
    }
    digest_hex(text, digest);
    free(text);
    if (strcmp(digest, p->published) == 0) {
        json_decref(catalogs);
        return;
    }
    const struct beckn_node *node = p->node;
    char txn[P2P_UUID_BUF], msg[P2P_UUID_BUF], url[600];
    p2p_uuid(txn);
    char *body = beckn_body(beckn_context_new(&p->settings, "catalog_publish",
                                              node->key.subscriber_id, node->subscriber_uri,
                                              node->key.subscriber_id, node->subscriber_uri, txn,
                                              now, msg),
                            catalogs);
    if (!body || beckn_url_join(p->settings.cds_url, "catalog/publish", url, sizeof url)) {
        free(body);
        return;
    }
    char sent[24], count[16];
    snprintf(sent, sizeof sent, "%lld", (long long)now);
    snprintf(count, sizeof count, "%d", items);
    const char *ins[] = {msg, txn, p->settings.cds_url, digest, count, active ? "true" : "false",
                         sent};
    if (exec_ok(db, "insert into beckn_catalog_publishes (message_id, transaction_id, cds_url, "
                    "catalog_digest, item_count, is_active, sent_at_ms, ack) values ($1, $2, $3, "
                    "$4, $5::int, $6::boolean, $7::bigint, 'PENDING')", 7, ins)) {
        free(body);
        return;
    }
    struct beckn_post_result res;
    int rc = beckn_client_post(client, &node->key, url, body, strlen(body), now / 1000,
                               node->signature_ttl_s, node->http_timeout_ms, &res);
    free(body);
    bool acked = rc == 0 && beckn_post_delivered(&res);
    char status[16];
    snprintf(status, sizeof status, "%d", res.http_status);
    const char *upd[] = {msg, acked ? "ACK" : res.http_status ? "NACK" : "ERROR",
                         res.http_status ? status : NULL};
    exec_ok(db, "update beckn_catalog_publishes set ack = $2, http_status = $3::int "
                "where message_id = $1", 3, upd);
    if (acked) {
        memcpy(p->published, digest, sizeof digest);
        p2p_log(P2P_INFO, "beckn_catalog_published", "%d item(s)%s to %s", items,
                active ? "" : " (revoked)", p->settings.cds_url);
    } else {
        p2p_log(P2P_WARN, "beckn_catalog_publish_failed", "%s: %s%s", p->settings.cds_url,
                res.transport_error, res.error_message);
    }
}

static void pause_ms(const struct beckn_publisher *p, int64_t ms)
{
    for (int64_t slept = 0; slept < ms && !atomic_load(&p->stop); slept += 100) {
        struct timespec t = {0, 100 * 1000 * 1000};
        nanosleep(&t, NULL);
    }
}

static void *run(void *arg)
{
    struct beckn_publisher *p = arg;
    struct beckn_client *client = beckn_client_new();
    PGconn *db = NULL;
    while (client && !atomic_load(&p->stop)) {
        if (!db || PQstatus(db) != CONNECTION_OK) {
            if (db)
                PQfinish(db);
            db = PQconnectdb(p->cfg->pg_conninfo);
        }
        if (PQstatus(db) == CONNECTION_OK)
            publish_once(p, db, client);
        else
            p2p_log(P2P_WARN, "beckn_publish_db", "%s", PQerrorMessage(db));
        pause_ms(p, p->settings.publish_poll_ms);
    }
    if (db)
        PQfinish(db);
    beckn_client_free(client);
    return NULL;
}

int beckn_publisher_start(const struct p2p_config *cfg, const struct beckn_node *node,
                          struct beckn_publisher **out, char *err, size_t errlen)
{
    *out = NULL;
    struct beckn_publisher *p = calloc(1, sizeof *p);
    if (!p) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (beckn_bap_settings_load(&p->settings, node, err, errlen)) {
        free(p);
        return -1;
    }
    if (!p->settings.external_cds) {
        free(p);
        return 0;
    }
    p->cfg = cfg;
    p->node = node;
    atomic_init(&p->stop, false);
    if (pthread_create(&p->thread, NULL, run, p)) {
        snprintf(err, errlen, "cannot start the catalog publisher thread");
        free(p);
        return -1;
    }
    *out = p;
    return 0;
}

void beckn_publisher_stop(struct beckn_publisher *p)
{
    if (!p)
        return;
    atomic_store(&p->stop, true);
    pthread_join(p->thread, NULL);
    free(p);
}
