/* GET /api/operator/rebuild (docs/api.md): the latest read-model rebuild runs
 * (table public.rebuild_runs, written by `./p2p rebuild`), newest first, with
 * their progress. Operator only (Authorization: Bearer $P2P_OPERATOR_TOKEN). */
#ifndef P2P_GATEWAY_REBUILD_STATUS_API_H
#define P2P_GATEWAY_REBUILD_STATUS_API_H

#include <civetweb.h>

/* civetweb handler for /api/operator/rebuild; cbdata is the const struct p2p_config *. */
int rebuild_status_api(struct mg_connection *c, void *cbdata);

#endif
