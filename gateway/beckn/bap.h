/* bap.h - the discovery and BAP endpoints of the gateway, registered together.
 *
 * Purpose:    one place that owns what those handlers share (process
 *             configuration, our Beckn node, the discovery/BAP settings) and
 *             registers their routes:
 *               CDS role (cds.c):        POST /beckn/discover,
 *                                        POST /beckn/catalog/publish,
 *                                        POST /beckn/catalog/on_publish
 *               BAP callbacks (bap_callbacks.c): POST /beckn/on_discover,
 *                                        /beckn/on_{select,init,confirm,status,cancel,update}
 *               buyers' API (bap_api.c): /api/network/discover,
 *                                        /api/network/orders[/{id}[/{action}]]
 * Threading:  filled before the HTTP server starts; read-only afterwards. */
#ifndef P2P_BECKN_BAP_H
#define P2P_BECKN_BAP_H

#include <civetweb.h>
#include <libpq-fe.h>

#include "common/p2p_config.h"
#include "gateway/beckn/catalog.h"
#include "gateway/beckn/node.h"
#include "gateway/beckn/outgoing.h"

/* Catalogs and callbacks are larger than API bodies. */
#define BECKN_BAP_BODY_MAX (1024 * 1024)
#define BECKN_BAP_PG_WAIT_MS 2000

struct beckn_bap {
    const struct p2p_config *cfg;
    const struct beckn_node *node;
    struct beckn_bap_settings settings;
};

/* Loads the settings (the node must be loaded) and registers every route
 * above on ctx. Returns 0 or -1 with err. */
int beckn_bap_register(struct mg_context *ctx, struct beckn_bap *bap, char *err, size_t errlen);

/* Our catalog source (catalog.h) from the configuration and node. */
void beckn_bap_catalog_source(const struct beckn_bap *bap, struct beckn_catalog_source *src);

/* Runs sql with params on db; returns the result if its status is
 * PGRES_COMMAND_OK or PGRES_TUPLES_OK, else clears it, logs and returns NULL. */
PGresult *beckn_bap_exec(PGconn *db, const char *what, const char *sql, int n,
                         const char *const *params);

/* Handlers (cds.c, bap_callbacks.c, bap_api.c); cbdata is the struct beckn_bap. */
int cds_discover(struct mg_connection *c, void *cbdata);
int cds_catalog_publish(struct mg_connection *c, void *cbdata);
int cds_catalog_on_publish(struct mg_connection *c, void *cbdata);
int bap_on_discover(struct mg_connection *c, void *cbdata);
int bap_on_callback(struct mg_connection *c, void *cbdata);
int bap_api_discover(struct mg_connection *c, void *cbdata);
int bap_api_orders(struct mg_connection *c, void *cbdata);

#endif
