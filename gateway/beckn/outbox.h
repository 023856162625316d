/* outbox.h - signed Beckn callbacks stored in PostgreSQL, delivered at least once.
 *
 * Purpose:    decouple "we decided to tell the peer X" (a row written in the
 *             same PostgreSQL transaction as the state change that caused it)
 *             from "the peer has X" (a sender that retries until the peer ACKs).
 * Guarantees: beckn_outbox_enqueue is idempotent per dedupe_key (a second
 *             enqueue with the same key changes nothing), so a re-processed
 *             event never doubles a callback. The sender claims due rows with
 *             a lease (FOR UPDATE SKIP LOCKED, next attempt pushed past the
 *             call's timeout), signs the stored bytes afresh on every attempt,
 *             and marks a row DELIVERED on a 2xx non-NACK answer, retries it
 *             with exponential backoff and jitter on a retryable answer
 *             (client.h) and marks it FAILED on a permanent refusal, after
 *             node->callback_max_attempts attempts, or once it is older than
 *             node->callback_max_age_ms. A crash between sending and marking
 *             re-sends after the lease: at least once, never at most once.
 *             Several senders may run against one table.
 * Threading:  the sender thread owns its own PostgreSQL connection and HTTP
 *             client; enqueue runs on the caller's connection.
 */
#ifndef P2P_BECKN_OUTBOX_H
#define P2P_BECKN_OUTBOX_H

#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>

#include "gateway/beckn/client.h"
#include "gateway/beckn/node.h"

/* One callback to deliver. */
struct beckn_outbox_item {
    const char *dedupe_key;     /* e.g. "<command_id>/on_select"; unique forever */
    const char *url;            /* bap_uri + "/on_<action>" */
    const char *action;         /* on_select, ... */
    const char *transaction_id;
    const char *message_id;
    const char *body;           /* the exact bytes to sign and send */
};

/* Inserts the row (status PENDING, due at now_ms) on db, inside whatever
 * transaction the caller has open. Returns 1 when inserted, 0 when a row with
 * the same dedupe_key exists already, -1 with err on a database error. */
int beckn_outbox_enqueue(PGconn *db, const struct beckn_outbox_item *item, int64_t now_ms,
                         char *err, size_t errlen);

/* Builds the callback URL: base (trailing '/' dropped) + "/" + action, into
 * out[cap]. Returns 0, or -1 if it does not fit. */
int beckn_callback_url(const char *base, const char *action, char *out, size_t cap);

/* Delay before attempt number `attempts + 1` (attempts >= 1 made so far):
 * base × 2^(attempts-1) capped at max, with jitter drawn uniformly from
 * [delay/2, delay]. `random` supplies 32 random bits (for tests). */
int64_t beckn_outbox_backoff_ms(const struct beckn_node *node, int attempts, uint32_t random);

/* One delivery pass: claims up to `max` due rows, posts each and records the
 * outcome. Returns the number of rows attempted, or -1 on a database error
 * (err filled). */
int beckn_outbox_deliver_due(PGconn *db, struct beckn_client *client, const struct beckn_node *node,
                             int max, char *err, size_t errlen);

struct beckn_outbox_sender;

/* Starts a thread that runs delivery passes on its own connection to
 * conninfo (waking every poll_ms, sooner while there is work). Returns NULL
 * (err filled) if the thread cannot start. */
struct beckn_outbox_sender *beckn_outbox_sender_start(const char *conninfo,
                                                      const struct beckn_node *node, int poll_ms,
                                                      char *err, size_t errlen);

/* Stops and joins the thread (a post in flight finishes first). */
void beckn_outbox_sender_stop(struct beckn_outbox_sender *s);

#endif
