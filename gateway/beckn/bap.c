/* bap.c - route registration and shared helpers of the discovery/BAP
 * endpoints (bap.h). */
#include "gateway/beckn/bap.h"

#include <stdio.h>
#include <string.h>

#include "common/p2p_log.h"

static const char *const callback_routes[] = {
    "/beckn/on_select", "/beckn/on_init",   "/beckn/on_confirm",
    "/beckn/on_status", "/beckn/on_cancel", "/beckn/on_update",
};

int beckn_bap_register(struct mg_context *ctx, struct beckn_bap *bap, char *err, size_t errlen)
{
    if (bap->node->configured &&
        beckn_bap_settings_load(&bap->settings, bap->node, err, errlen))
        return -1;
    mg_set_request_handler(ctx, "/beckn/discover", cds_discover, bap);
    mg_set_request_handler(ctx, "/beckn/catalog/publish", cds_catalog_publish, bap);
    mg_set_request_handler(ctx, "/beckn/catalog/on_publish", cds_catalog_on_publish, bap);
    mg_set_request_handler(ctx, "/beckn/on_discover", bap_on_discover, bap);
    for (size_t i = 0; i < sizeof callback_routes / sizeof *callback_routes; i++)
        mg_set_request_handler(ctx, callback_routes[i], bap_on_callback, bap);
    mg_set_request_handler(ctx, "/api/network/discover", bap_api_discover, bap);
    mg_set_request_handler(ctx, "/api/network/orders", bap_api_orders, bap);
    return 0;
}

void beckn_bap_catalog_source(const struct beckn_bap *bap, struct beckn_catalog_source *src)
{
    src->market = bap->cfg->market;
    src->bpp_id = bap->node->key.subscriber_id;
    src->bpp_uri = bap->node->subscriber_uri;
    src->network_id = bap->settings.network_id;
    src->gate_closure_ms = bap->cfg->rules.gate_closure_ms;
}

PGresult *beckn_bap_exec(PGconn *db, const char *what, const char *sql, int n,
                         const char *const *params)
{
    PGresult *r = PQexecParams(db, sql, n, NULL, params, NULL, NULL, 0);
    ExecStatusType st = PQresultStatus(r);
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
        return r;
    p2p_log(P2P_WARN, "beckn_bap_db", "%s: %s", what, PQresultErrorMessage(r));
    PQclear(r);
    return NULL;
}
