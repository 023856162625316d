/* node.h - this platform's Beckn identity and settings, read once at start.
 *
 * Purpose:    everything the Beckn endpoints (gateway) and the callback
 *             sender (p2p-beckn-worker) need to act as one network
 *             participant: our subscriber id, key id and Ed25519 signing key,
 *             our subscriber URI, the registry of peers' keys, the clock skew
 *             we tolerate, and how callbacks are retried.
 * Guarantees: beckn_node_load either leaves the node unconfigured (no
 *             BECKN_SUBSCRIBER_ID: the Beckn endpoints answer 503 NACK), or
 *             fully configured with a valid signing key and an open registry,
 *             or fails with a message naming the variable (a malformed value
 *             is an error at start, never a silent fallback). The private key
 *             is read from the environment only and is never logged.
 * Threading:  load and close before/after the threads that use it; in between
 *             the struct is only read (the registry is thread-safe).
 * Variables:  BECKN_SUBSCRIBER_ID, BECKN_KEY_ID, BECKN_SIGNING_PRIVATE_KEY
 *             (base64 seed or 64-byte key), BECKN_SUBSCRIBER_URI (http(s) URL
 *             of our /beckn endpoints), BECKN_REGISTRY_FILE / _URL / _NAME /
 *             _CACHE_SECONDS (registry.h), BECKN_CLOCK_SKEW_SECONDS (5),
 *             BECKN_SIGNATURE_TTL_SECONDS (300), BECKN_HTTP_TIMEOUT_MS (5000),
 *             BECKN_CALLBACK_MAX_ATTEMPTS (10), BECKN_CALLBACK_BACKOFF_MS (500),
 *             BECKN_CALLBACK_BACKOFF_MAX_MS (60000), BECKN_CALLBACK_MAX_AGE_SECONDS
 *             (3600), BECKN_REPLAY_RETENTION_SECONDS (3600), BECKN_SETTLEMENT_*
 *             (our settlement account for on_init), BECKN_SUPPORT_EMAIL/PHONE.
 */
#ifndef P2P_BECKN_NODE_H
#define P2P_BECKN_NODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gateway/beckn/registry.h"
#include "gateway/beckn/signature.h"

/* Our settlement account, sent in on_init (PaymentSettlement pack). Empty
 * strings are left out of the wire. */
struct beckn_settlement_account {
    char holder_name[128];
    char account_number[64];
    char ifsc_code[32];
    char bank_name[128];
    char vpa[128];
};

struct beckn_node {
    bool configured;              /* false: Beckn endpoints answer 503 */
    struct beckn_key key;         /* subscriber_id, key_id, signing key */
    char subscriber_uri[512];     /* our bpp_uri / bap_uri, no trailing '/' */
    struct beckn_registry *registry;
    int64_t skew_s;               /* tolerated clock difference (signatures, timestamps) */
    int64_t signature_ttl_s;      /* expires - created of what we sign */
    int http_timeout_ms;          /* per outbound call, connect and total */
    int callback_max_attempts;    /* then the outbox row is FAILED */
    int64_t callback_backoff_ms;  /* first retry delay; doubles each attempt */
    int64_t callback_backoff_max_ms;
    int64_t callback_max_age_ms;  /* a callback older than this is FAILED */
    int64_t replay_retention_ms;  /* minimum time a message_id is remembered */
    struct beckn_settlement_account settlement;
    char support_email[128];
    char support_phone[64];
};

/* Loads the node from the environment. Returns 0 (configured or not: see
 * n->configured), or -1 with a message naming the variable in err. */
int beckn_node_load(struct beckn_node *n, char *err, size_t errlen);

/* Closes the registry and wipes the key. Safe on an unconfigured node. */
void beckn_node_close(struct beckn_node *n);

#endif
