/* Beckn messages as they arrive (wave-1 / RC line, beckn.md §1 and §5.3):
 * reading the snake_case `context`, the synchronous checks a receiver makes
 * before it ACKs (action = endpoint, supported domain and version, addressed
 * to us, not past its ttl, plausible timestamp), and the ACK/NACK bodies in
 * the beckn-onix v1.3 shape every wave-1 peer sees:
 *   {"message":{"ack":{"status":"ACK"}}}
 *   {"message":{"ack":{"status":"NACK"},"error":{"code","paths","message"}}}
 * NACK codes are the Beckn numeric codes (beckn.md §5.1) as strings; the HTTP
 * status carries the category (400 bad request, 401 auth, 404, 500).
 * Pure functions of their inputs: the caller passes "now". */
#ifndef P2P_BECKN_MESSAGE_H
#define P2P_BECKN_MESSAGE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#define BECKN_VERSION "2.0.0"
#define BECKN_DOMAIN_INTERDISCOM "beckn.one:deg:p2p-trading-interdiscom:2.0.0"
#define BECKN_DOMAIN_INTRADISCOM "beckn.one:deg:p2p-trading:2.0.0"

struct beckn_context {
    char domain[96];
    char version[16];
    char action[40];
    char bap_id[256];
    char bap_uri[512];
    char bpp_id[256];
    char bpp_uri[512];
    char transaction_id[128];
    char message_id[128];
    char timestamp[48];
    int64_t timestamp_ms;
    bool has_ttl;
    int64_t ttl_ms;
};

struct beckn_nack {
    int http_status;
    char code[16];     /* Beckn numeric code, e.g. "30000", "50005" */
    char paths[128];   /* the offending JSON path(s), ';'-joined */
    char message[256];
};

/* Which side of the exchange we are for this message. */
enum beckn_role { BECKN_AS_BPP, BECKN_AS_BAP };

/* ISO 8601 duration subset used for ttl: P[nD][T[nH][nM][n[.f]S]]. Returns 0. */
int beckn_duration_ms(const char *text, int64_t *ms);

bool beckn_domain_supported(const char *domain);

/* Reads root.context. Returns 0, or -1 with a 400 NACK naming the path. */
int beckn_context_read(const json_t *root, struct beckn_context *ctx, struct beckn_nack *nack);

/* The synchronous checks of beckn.md §5.3 for a message that arrived on the
 * endpoint named `endpoint_action`, addressed to `our_id` (bpp_id when we are
 * the BPP, bap_id for callbacks to our BAP), at time now_ms, allowing
 * skew_ms of clock difference on the timestamp. Returns 0 or -1 with *nack. */
int beckn_context_check(const struct beckn_context *ctx, const char *endpoint_action,
                        const char *our_id, enum beckn_role role, int64_t now_ms, int64_t skew_ms,
                        struct beckn_nack *nack);

/* Bodies to send; malloc'd, the caller frees; NULL when out of memory. */
char *beckn_ack_body(void);
char *beckn_nack_body(const struct beckn_nack *nack);

#endif
