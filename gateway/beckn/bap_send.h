/* bap_send.h - sending one request of our BAP and waiting for its callback.
 *
 * Purpose:    the synchronous half of the buyers' network API: sign and POST
 *             a Beckn request (client.h) to the peer, record it, and wait
 *             (bounded) until the callback endpoints record the answer.
 * Guarantees: a network-order request row (network_order_requests) is
 *             written BEFORE the POST (so a callback that overtakes the
 *             synchronous answer finds it) and updated with the outcome:
 *             ACK, NACK (with the peer's error) or ERROR (no answer). The
 *             POST is bounded by the node's HTTP timeout, the wait by
 *             settings.wait_ms. Nothing here holds a database connection
 *             while it waits on the network.
 * Threading:  any civetweb thread (a client per call). */
#ifndef P2P_BECKN_BAP_SEND_H
#define P2P_BECKN_BAP_SEND_H

#include <jansson.h>
#include <stdbool.h>

#include "gateway/beckn/bap.h"
#include "gateway/beckn/client.h"

/* Posts body to base + "/" + path signed with our key. Returns 0 when the
 * peer ACKed; -1 otherwise, with *res (NACK or transport error). */
int bap_post(const struct beckn_bap *bap, const char *base, const char *path, const char *body,
             struct beckn_post_result *res);

/* Records request message_id (action) of order_id as PENDING, posts body to
 * bpp_uri/action, and records ACK/NACK/ERROR. Returns 0 if ACKed, -1 if the
 * peer refused or could not be reached (*res says which), -2 on a database
 * error. */
int bap_send_request(const struct beckn_bap *bap, const char *order_id, const char *bpp_uri,
                     const char *action, const char *message_id, const char *body,
                     struct beckn_post_result *res);

/* Polls every 50 ms (up to settings.wait_ms) until `sql` with the single
 * parameter `key` returns a row whose first column is 't'. Returns true if
 * it did. */
bool bap_wait(const struct beckn_bap *bap, const char *sql, const char *key);

/* The JSON error body of a failed post: 502 peer_refused (NACK, with its
 * code and message) or 504 peer_unreachable. Returns the status answered. */
int bap_reply_post_failure(struct mg_connection *c, const struct beckn_post_result *res);

#endif
