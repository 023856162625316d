/* The signed-in seller's own views (docs/api.md), from the read models:
 *   GET /seller/profile  trust, tier, trade limit (Wh and % of capacity) and
 *                        this month's commitment against it the way the
 *                        engine counts it (open in offers + reserved + sold,
 *                        by month of delivery), and offer counts;
 *   GET /seller/orders   the lines sold from their offers (order_lines with the
 *                        order's buyer), with status and delivery results,
 *                        newest delivery first, paginated. */
#ifndef P2P_GATEWAY_SELLER_READ_API_H
#define P2P_GATEWAY_SELLER_READ_API_H

#include <civetweb.h>

/* civetweb handlers; cbdata is the const struct p2p_config *. */
int seller_read_profile(struct mg_connection *c, void *cbdata);
int seller_read_orders(struct mg_connection *c, void *cbdata);

#endif
