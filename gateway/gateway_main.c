/* The gateway process: civetweb HTTP server for the client APIs, operations
 * endpoints and the static web UI. It never changes domain state itself: it
 * validates, authenticates, appends commands to Kafka (answering only after
 * the broker's acknowledgement) and serves reads from PostgreSQL. */
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/p2p_config.h"
#include "common/p2p_log.h"
#include "gateway/account_api.h"
#include "gateway/beckn/bap.h"
#include "gateway/beckn/bpp_api.h"
#include "gateway/beckn/node.h"
#include "gateway/command_bus.h"
#include "gateway/command_flow.h"
#include "gateway/decisions.h"
#include "gateway/discover_api.h"
#include "gateway/http.h"
#include "gateway/market_api.h"
#include "gateway/market_params.h"
#include "gateway/metrics.h"
#include "gateway/offers_api.h"
#include "gateway/operator_api.h"
#include "gateway/orders_api.h"
#include "gateway/pg_pool.h"
#include "gateway/profile_api.h"
#include "gateway/rebuild_status_api.h"
#include "gateway/seller_api.h"
#include "gateway/seller_read_api.h"
#include "gateway/ticker.h"
#include "projections/migrate.h"


static volatile sig_atomic_t running = 1;
static void on_signal(int sig) { (void)sig; running = 0; }

static int healthz(struct mg_connection *c, void *cbdata)
{
    (void)cbdata;
    int kafka = command_bus_healthy(1000);
    PGconn *db = pg_pool_get(1000);
    int pg = 0;
    if (db) {
        PGresult *r = PQexec(db, "select 1");
        pg = PQresultStatus(r) == PGRES_TUPLES_OK;
        PQclear(r);
        pg_pool_put(db);
    }
    return http_reply_json(c, kafka && pg ? 200 : 503,
                           json_pack("{s:s, s:s, s:s}", "status", kafka && pg ? "ok" : "degraded",
                                     "kafka", kafka ? "up" : "down", "postgres", pg ? "up" : "down"));
}

static int metrics(struct mg_connection *c, void *cbdata)
{
    (void)cbdata;
    char buf[4096];
    size_t n = metrics_render(buf, sizeof buf);
    return http_reply_text(c, 200, "text/plain; version=0.0.4", buf, n);
}

static int not_found(struct mg_connection *c, void *cbdata)
{
    (void)cbdata;
    return http_reply_error(c, 404, "not_found", NULL, "no such endpoint");
}

static int log_message(const struct mg_connection *c, const char *message)
{
    (void)c;
    p2p_log(P2P_WARN, "http_server", "%s", message);
    return 1;
}

static void quiet_notice(void *arg, const char *message)
{
    (void)arg;
    p2p_log(P2P_DEBUG, "postgres_notice", "%s", message);
}

/* The command endpoints need their tables (migration 005) before the first
 * request, whether or not a projector has started yet. */
static int migrate(const struct p2p_config *cfg)
{
    char err[512];
    PGconn *db = pg_pool_get(10000);
    if (db) /* "already exists, skipping" notices would reach stderr as plain text */
        PQsetNoticeProcessor(db, quiet_notice, NULL);
    int rc = db ? p2p_migrate(db, cfg->migrations_dir, err, sizeof err) : -1;
    if (rc < 0)
        p2p_log(P2P_ERROR, "migrate", "%s", db ? err : "PostgreSQL is unavailable");
    if (db)
        pg_pool_put(db);
    return rc < 0 ? -1 : 0;
}

int main(void)
{
    static struct p2p_config cfg;
    static struct beckn_node beckn;
    static struct beckn_bap bap;
    char err[512];
    p2p_log_init("gateway");
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    signal(SIGPIPE, SIG_IGN);
    if (sodium_init() < 0) {
        p2p_log(P2P_ERROR, "sodium_init", "libsodium failed to initialise");
        return 1;
    }
    if (p2p_config_load(&cfg, err, sizeof err)) {
        p2p_log(P2P_ERROR, "bad_config", "%s", err);
        return 1;
    }
    if (market_params_load(&cfg, err, sizeof err)) {
        p2p_log(P2P_ERROR, "bad_config", "%s", err);
        return 1;
    }
    if (beckn_node_load(&beckn, err, sizeof err)) {
        p2p_log(P2P_ERROR, "bad_beckn_config", "%s", err);
        return 1;
    }
    if (command_bus_start(&cfg, err, sizeof err)) {
        p2p_log(P2P_ERROR, "kafka", "%s", err);
        return 1;
    }
    int64_t pool_size; /* every command records itself in PostgreSQL before it is appended */
    if (p2p_env_int("P2P_PG_POOL_SIZE", 16, 1, 256, &pool_size, err, sizeof err)) {
        p2p_log(P2P_ERROR, "bad_config", "%s", err);
        return 1;
    }
    if (pg_pool_start(cfg.pg_conninfo, (int)pool_size)) {
        p2p_log(P2P_ERROR, "postgres", "cannot set up the connection pool");
        return 1;
    }
    if (migrate(&cfg))
        return 1;
    if (decisions_start(&cfg, err, sizeof err) ||
        command_flow_start(&cfg, err, sizeof err)) {
        p2p_log(P2P_ERROR, "start", "%s", err);
        return 1;
    }
    char ports[96], threads[16];
    int64_t nthreads; /* each request waiting for a decision holds a thread */
    if (p2p_env_int("P2P_HTTP_THREADS", 32, 1, 1024, &nthreads, err, sizeof err)) {
        p2p_log(P2P_ERROR, "bad_config", "%s", err);
        return 1;
    }
    snprintf(threads, sizeof threads, "%lld", (long long)nthreads);
    snprintf(ports, sizeof ports, "%s:%d", cfg.http_host, cfg.http_port);
    const char *options[] = {"listening_ports", ports, "num_threads", threads,
                             "document_root", cfg.web_root, "enable_keep_alive", "yes",
                             "tcp_nodelay", "1", "request_timeout_ms", "10000",
                             "enable_directory_listing", "no", NULL};
    struct mg_callbacks callbacks;
    memset(&callbacks, 0, sizeof callbacks);
    callbacks.log_message = log_message;
    mg_init_library(0);
    struct mg_context *ctx = mg_start(&callbacks, NULL, options);
    if (!ctx) {
        p2p_log(P2P_ERROR, "http_start", "cannot listen on %s", ports);
        return 1;
    }
    mg_set_request_handler(ctx, "/healthz$", healthz, NULL);
    mg_set_request_handler(ctx, "/metrics$", metrics, NULL);
    mg_set_request_handler(ctx, "/api/select", orders_api_command, &cfg);
    mg_set_request_handler(ctx, "/api/init", orders_api_command, &cfg);
    mg_set_request_handler(ctx, "/api/confirm", orders_api_command, &cfg);
    mg_set_request_handler(ctx, "/api/buy", orders_api_command, &cfg);
    mg_set_request_handler(ctx, "/api/cancel", orders_api_command, &cfg);
    mg_set_request_handler(ctx, "/api/orders", orders_api_read, &cfg);
    mg_set_request_handler(ctx, "/api/commands", commands_api, &cfg);
    mg_set_request_handler(ctx, "/api/operator/deposits", operator_api_deposits, &cfg);
    mg_set_request_handler(ctx, "/seller/offers", offers_api_seller, &cfg);
    mg_set_request_handler(ctx, "/api/offers", offers_api_public, &cfg);
    mg_set_request_handler(ctx, "/api/profile", profile_api, &cfg);
    mg_set_request_handler(ctx, "/api/discover", discover_api, &cfg);
    mg_set_request_handler(ctx, "/api/wallet", account_api_wallet, &cfg);
    mg_set_request_handler(ctx, "/api/trust", account_api_trust, &cfg);
    mg_set_request_handler(ctx, "/api/market", market_api, &cfg);
    mg_set_request_handler(ctx, "/seller/profile", seller_read_profile, &cfg);
    mg_set_request_handler(ctx, "/seller/orders", seller_api_orders, &cfg);
    mg_set_request_handler(ctx, "/api/operator/rebuild", rebuild_status_api, &cfg);
    bap.cfg = &cfg;
    bap.node = &beckn;
    if (beckn_bap_register(ctx, &bap, err, sizeof err)) {
        p2p_log(P2P_ERROR, "bad_beckn_config", "%s", err);
        return 1;
    }
    bpp_api_register(ctx, &cfg, &beckn);
    mg_set_request_handler(ctx, "/api", not_found, NULL);
    mg_set_request_handler(ctx, "/seller", not_found, NULL);
    if (ticker_start(&cfg)) {
        p2p_log(P2P_ERROR, "ticker", "cannot start the market clock");
        return 1;
    }
    p2p_log(P2P_INFO, "gateway_started", "listening on http://%s", ports);
    while (running)
        sleep(1);
    ticker_stop();
    mg_stop(ctx);
    decisions_stop();
    mg_exit_library();
    command_bus_stop();
    pg_pool_stop();
    beckn_node_close(&beckn);
    p2p_log(P2P_INFO, "gateway_stopped", "bye");
    return 0;
}
