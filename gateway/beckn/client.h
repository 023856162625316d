/* client.h - outbound signed Beckn POSTs (callbacks, and requests of our BAP).
 *
 * Purpose:    send one body to a peer's Beckn endpoint, signed with our key
 *             over the exact bytes sent, and read the synchronous answer.
 * Guarantees: the bytes signed are the bytes sent (no re-serialisation);
 *             every call is bounded by timeout_ms (connect and total); the
 *             answer body is read up to BECKN_CLIENT_BODY_MAX (more is a
 *             transport error); redirects are not followed; only http and
 *             https. The answer is parsed leniently: every ACK/NACK shape of
 *             beckn.md §1.2 (message.ack.status, ack_status, message.status,
 *             status; error at the top level or inside message; code or
 *             errorCode). A body that is not JSON leaves ack UNKNOWN.
 * Threading:  a struct beckn_client belongs to one thread at a time (it keeps
 *             its connection alive between calls); make one per thread.
 * Secrets:    nothing here logs; the key is only read.
 */
#ifndef P2P_BECKN_CLIENT_H
#define P2P_BECKN_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gateway/beckn/signature.h"

#define BECKN_CLIENT_BODY_MAX (64 * 1024)

enum beckn_ack { BECKN_ACK_UNKNOWN = 0, BECKN_ACK_ACK, BECKN_ACK_NACK };

struct beckn_post_result {
    int http_status;           /* 0 when no HTTP answer arrived */
    enum beckn_ack ack;
    char error_code[64];       /* from the NACK's error, "" if none */
    char error_message[256];
    char transport_error[256]; /* why no answer arrived, "" otherwise */
};

struct beckn_client;

/* Returns a client or NULL (out of memory / libcurl failure). */
struct beckn_client *beckn_client_new(void);
void beckn_client_free(struct beckn_client *c);

/* Signs body[0..len) with k (created = now_s, expires = now_s + ttl_s) and
 * POSTs it to url with Content-Type application/json. Returns 0 when an HTTP
 * answer arrived (see out->http_status and out->ack), or -1 with
 * out->transport_error (connect failure, timeout, oversized answer, bad URL,
 * signing failure). */
int beckn_client_post(struct beckn_client *c, const struct beckn_key *k, const char *url,
                      const char *body, size_t len, int64_t now_s, int64_t ttl_s,
                      int timeout_ms, struct beckn_post_result *out);

/* Lenient reading of a synchronous answer body (exposed for tests). */
void beckn_parse_ack(const char *body, size_t len, struct beckn_post_result *out);

/* True if the answer means the peer has the message: HTTP 2xx and not a
 * NACK. */
bool beckn_post_delivered(const struct beckn_post_result *r);

/* True if sending again may succeed: no answer, 408, 425, 429, 5xx, or 401
 * (a peer that has not yet learnt our key, or clock skew). */
bool beckn_post_retryable(const struct beckn_post_result *r);

#endif
