/* registry.h - where Beckn peers' signing keys come from.
 *
 * Purpose:    answer "what is the Ed25519 public key of (subscriber_id,
 *             key_id)?" for signature verification, and "what is this
 *             subscriber's URL?" for callbacks. Two sources, asked in order:
 *             1. a local participants file (JSON array of {subscriber_id,
 *                key_id, signing_public_key, type, url}) loaded once at open;
 *             2. optionally a DeDi-style registry over HTTP:
 *                GET {url}/lookup/{subscriber_id}/{name}/{key_id}
 *                answering {"data":{"details":{"signing_public_key":…,
 *                "url":…,"type":…,"subscriber_id":…}}} (beckn.md §4.4).
 * Guarantees: remote answers are cached per (subscriber_id, key_id): found
 *             for positive_ttl_s, definitively not found (HTTP 404, or a
 *             record without a usable key, or one naming another subscriber)
 *             for negative_ttl_s. Failures to ask (connect errors, timeouts,
 *             other statuses, oversized or unparseable bodies) are not cached
 *             and are reported as BECKN_REG_UNAVAILABLE, never as not found.
 *             Every HTTP call is bounded by timeout_ms (connect and total),
 *             bodies by BECKN_REGISTRY_BODY_MAX, the cache by
 *             BECKN_REGISTRY_CACHE_MAX entries; path segments are
 *             URL-escaped; redirects are not followed; only http/https.
 * Threading:  beckn_registry_lookup* may be called from any number of threads
 *             (one mutex guards the cache; it is not held during HTTP).
 *             open and close are not thread-safe: call open before starting
 *             threads (it initialises libcurl) and close after joining them.
 * Ownership:  the registry is created by beckn_registry_open and freed by
 *             beckn_registry_close; lookups copy into caller-owned structs.
 * Logging:    remote answers other than found are logged with subscriber id,
 *             key id and reason (beckn_registry_key_not_found at info,
 *             beckn_registry_lookup_failed at warn); no key material.
 */
#ifndef P2P_BECKN_REGISTRY_H
#define P2P_BECKN_REGISTRY_H

#include <stddef.h>

#include "gateway/beckn/signature.h"

#define BECKN_REGISTRY_BODY_MAX (64 * 1024)
#define BECKN_REGISTRY_CACHE_MAX 4096
#define BECKN_REGISTRY_DEFAULT_NAME "subscribers.beckn.one"

/* One network participant's key record. */
struct beckn_peer {
    char subscriber_id[BECKN_ID_MAX];
    char key_id[BECKN_ID_MAX];
    unsigned char pk[32]; /* Ed25519 signing public key */
    char type[16];        /* BAP, BPP, CDS or BG (remote records may leave it empty) */
    char url[512];        /* subscriber URL, may be empty */
};

struct beckn_registry_config {
    const char *file;     /* participants file, or NULL/"" for none */
    const char *url;      /* remote registry base URL, or NULL/"" for none */
    const char *name;     /* remote registry name; NULL/"" = BECKN_REGISTRY_DEFAULT_NAME */
    int positive_ttl_s;   /* cache lifetime of found records; <= 0 means 300 */
    int negative_ttl_s;   /* cache lifetime of not-found answers; <= 0 means 30 */
    int timeout_ms;       /* per HTTP call, connect and total; <= 0 means 2000 */
};

/* Fills cfg from the environment: BECKN_REGISTRY_FILE, BECKN_REGISTRY_URL,
 * BECKN_REGISTRY_NAME, BECKN_REGISTRY_CACHE_SECONDS (positive TTL). The
 * strings point into the environment (valid while it is unchanged). Returns
 * 0, or -1 with a message naming the variable in err for a malformed number. */
int beckn_registry_config_from_env(struct beckn_registry_config *cfg, char *err, size_t errlen);

struct beckn_registry;

/* Opens a registry: loads and validates the participants file (each entry:
 * subscriber_id and key_id of 1..255 bytes without '|', '"', '\' or control
 * characters; signing_public_key base64 of 32 bytes; type one of
 * BAP|BPP|CDS|BG; url optional string; no duplicate (subscriber_id, key_id)).
 * At least one of file and url must be given; url must start with http://
 * or https://. Returns 0 and *out (free with beckn_registry_close), or -1
 * with a message in err naming the file, entry index and field. */
int beckn_registry_open(struct beckn_registry **out, const struct beckn_registry_config *cfg,
                        char *err, size_t errlen);

void beckn_registry_close(struct beckn_registry *r);

enum beckn_registry_result {
    BECKN_REG_OK = 0,
    BECKN_REG_NOT_FOUND = 1,
    BECKN_REG_UNAVAILABLE = -1,
};

/* Looks up the key (subscriber_id, key_id): local file, then cache, then the
 * remote registry. Fills *out only on BECKN_REG_OK. Ids that could not have
 * come from a valid keyId (empty, too long, '|' …) are BECKN_REG_NOT_FOUND
 * without any network call. */
enum beckn_registry_result beckn_registry_lookup(struct beckn_registry *r,
                                                 const char *subscriber_id, const char *key_id,
                                                 struct beckn_peer *out);

/* Finds any record of subscriber_id (to learn its URL and type): the first
 * matching entry of the participants file, else a live cached remote record.
 * Never asks the network (the remote lookup needs a key id). */
enum beckn_registry_result beckn_registry_lookup_subscriber(struct beckn_registry *r,
                                                            const char *subscriber_id,
                                                            struct beckn_peer *out);

/* The receiver algorithm of beckn.md §4.5 steps 1-6: parse the header, look
 * up the signer's key, verify time window and signature over the exact body
 * at now (unix seconds) with skew_s tolerance on created. header NULL or
 * empty is BECKN_AUTH_MISSING. On success fills *auth (the caller then
 * checks the signer against context with beckn_auth_check_signer) and, if
 * peer is not NULL, *peer. why (optional) gets a static parse detail. */
enum beckn_auth_error beckn_authenticate(struct beckn_registry *r, const char *header,
                                         const void *body, size_t len, int64_t now,
                                         int64_t skew_s, struct beckn_auth *auth,
                                         struct beckn_peer *peer, const char **why);

#endif
