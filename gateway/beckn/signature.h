/* signature.h - Beckn HTTP message signatures (BECKN-006 / Beckn v2 LTS).
 *
 * Purpose:    sign an outgoing Beckn request body and verify an incoming one.
 *             The wire format is the `Authorization` (or
 *             `X-Gateway-Authorization`) header
 *               Signature keyId="{sub}|{key_id}|ed25519",algorithm="ed25519",
 *               created="{unix}",expires="{unix}",
 *               headers="(created) (expires) digest",signature="{b64}"
 *             and the signed bytes are the signing string
 *               "(created): {c}\n(expires): {e}\ndigest: BLAKE-512={b64 digest}"
 *             where the digest is BLAKE2b-512 over the EXACT raw body bytes
 *             (standard base64 with padding). See docs: beckn.md §4.
 * Guarantees: beckn_auth_parse never reads past the terminating NUL of the
 *             header and never writes past the fixed fields of struct
 *             beckn_auth (fuzzed: tests/fuzz/fuzz_signature_header.c);
 *             everything it accepts is fully validated (keyId has three
 *             non-empty parts, algorithm is ed25519 in both places, times are
 *             non-negative integers with expires >= created, the signature
 *             decodes to exactly 64 bytes). beckn_verify accepts only if the
 *             time window holds and Ed25519 verifies over the body given.
 * Not here:   registry lookup (registry.h), replay protection, and the
 *             binding of the signer to context.bap_id/bpp_id beyond the
 *             string comparison in beckn_auth_check_signer.
 * Threading:  all functions are pure apart from libsodium, which must have
 *             been initialised (sodium_init) before the first call; every
 *             entry point here calls it, and it is idempotent and thread-safe.
 * Secrets:    secret keys live only in struct beckn_key; wipe it with
 *             beckn_key_wipe. Nothing here logs.
 */
#ifndef P2P_BECKN_SIGNATURE_H
#define P2P_BECKN_SIGNATURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BECKN_ID_MAX 256          /* buffer size for subscriber_id and key_id */
#define BECKN_DIGEST_B64_LEN 89   /* 88 base64 characters + NUL */
#define BECKN_HEADER_MAX 1024     /* enough for any header beckn_sign produces */
#define BECKN_HEADERS_VALUE "(created) (expires) digest"

/* A signing identity (or, with has_sk false, only a public key). */
struct beckn_key {
    char subscriber_id[BECKN_ID_MAX]; /* FQDN registered with the registry */
    char key_id[BECKN_ID_MAX];        /* registry record id of this key */
    unsigned char pk[32];             /* Ed25519 public key */
    unsigned char sk[64];             /* libsodium secret key: seed || pk */
    bool has_sk;
};

/* Loads a private key given as base64 of either the 32-byte seed (beckn-onix)
 * or the 64-byte libsodium secret key (seed || pk; the pk half must match the
 * key derived from the seed). Fills pk, sk and has_sk; leaves the ids alone.
 * Returns 0, or -1 (k's key fields untouched) on bad base64, wrong length or
 * a mismatching public half. */
int beckn_key_from_private_b64(const char *b64, struct beckn_key *k);

/* Sets subscriber_id and key_id. Each must be 1..255 bytes without '|', '"',
 * control characters or backslash (they are written into a quoted header
 * field split on '|'). Returns 0 or -1 (k untouched). */
int beckn_key_set_id(struct beckn_key *k, const char *subscriber_id, const char *key_id);

/* True if s can be a keyId subscriber_id or key_id (the rule above). */
bool beckn_id_valid(const char *s);

/* Zeroes the whole key, the secret half included. */
void beckn_key_wipe(struct beckn_key *k);

/* Decodes base64 (standard alphabet, padded) of exactly 32 bytes into pk.
 * Returns 0 or -1. */
int beckn_public_key_from_b64(const char *b64, unsigned char pk[32]);

/* out = base64(BLAKE2b-512(body[0..len))), NUL-terminated. */
void beckn_digest_b64(const void *body, size_t len, char out[BECKN_DIGEST_B64_LEN]);

/* Writes the signing string for (created, expires, body) into out[cap].
 * Returns its length, or -1 if it does not fit. */
int beckn_signing_string(int64_t created, int64_t expires, const void *body, size_t len,
                         char *out, size_t cap);

/* Builds the full header value (starting with "Signature keyId=") signing
 * body with k, into header_out[cap]. Requires k->has_sk, valid ids and
 * 0 <= created <= expires. Returns the header length, or -1 (header_out is
 * then an empty string if cap > 0). BECKN_HEADER_MAX is always enough. */
int beckn_sign(const struct beckn_key *k, const void *body, size_t len, int64_t created,
               int64_t expires, char *header_out, size_t cap);

/* A parsed, syntactically valid signature header. */
struct beckn_auth {
    char subscriber_id[BECKN_ID_MAX]; /* keyId part 1 */
    char key_id[BECKN_ID_MAX];        /* keyId part 2 */
    char algorithm[32];               /* always "ed25519" after a successful parse */
    int64_t created;                  /* unix seconds */
    int64_t expires;                  /* unix seconds, >= created */
    char headers[128];                /* always BECKN_HEADERS_VALUE */
    unsigned char signature[64];      /* raw Ed25519 signature */
};

/* Parses a header value: an optional leading "Signature" scheme word, then
 * comma-separated name=value parameters in any order, with optional spaces
 * or tabs around names, '=' and commas; values may be quoted (no escapes) or
 * bare. Unknown parameters are ignored; duplicates are refused. On failure
 * returns -1 and, if why is not NULL, sets *why to a static description
 * (never containing input bytes); a is then unspecified. Returns 0 on success. */
int beckn_auth_parse(const char *header, struct beckn_auth *a, const char **why);

/* Why a request failed authentication. */
enum beckn_auth_error {
    BECKN_AUTH_OK = 0,
    BECKN_AUTH_MISSING,              /* no Authorization header */
    BECKN_AUTH_MALFORMED,            /* header does not parse */
    BECKN_AUTH_EXPIRED,              /* expires < now */
    BECKN_AUTH_NOT_YET_VALID,        /* created > now + skew */
    BECKN_AUTH_KEY_NOT_FOUND,        /* registry has no such subscriber/key */
    BECKN_AUTH_BAD_SIGNATURE,        /* Ed25519 verification failed */
    BECKN_AUTH_WRONG_SIGNER,         /* signer is not the context's bap/bpp id */
    BECKN_AUTH_REGISTRY_UNAVAILABLE, /* registry could not be asked (timeout, 5xx) */
};

/* Stable NFH-008 code string: AUT_SIGNATURE_MISSING, AUT_SIGNATURE_INVALID,
 * AUT_KEY_NOT_FOUND, AUT_UNAUTHORIZED_ACTION, NET_DOWNSTREAM_UNAVAILABLE;
 * "OK" for BECKN_AUTH_OK. Never NULL. */
const char *beckn_auth_code(enum beckn_auth_error e);

/* One-line human message for e (safe to send to the peer). Never NULL. */
const char *beckn_auth_message(enum beckn_auth_error e);

/* HTTP status for e: 200 for OK, 503 for REGISTRY_UNAVAILABLE, else 401. */
int beckn_auth_http_status(enum beckn_auth_error e);

/* Time window only: BECKN_AUTH_NOT_YET_VALID if created > now + skew_s,
 * BECKN_AUTH_EXPIRED if expires < now, BECKN_AUTH_MALFORMED if skew_s < 0,
 * else BECKN_AUTH_OK. Cheap; call it before a registry lookup. */
enum beckn_auth_error beckn_auth_check_time(const struct beckn_auth *a, int64_t now,
                                            int64_t skew_s);

/* Verifies a parsed header against the signer's public key and the exact
 * body bytes at time now (unix seconds). created may be up to skew_s seconds
 * in the future (clock skew between peers); expires has zero tolerance
 * (expires < now is expired). Returns BECKN_AUTH_OK, BECKN_AUTH_EXPIRED,
 * BECKN_AUTH_NOT_YET_VALID, BECKN_AUTH_BAD_SIGNATURE, or BECKN_AUTH_MALFORMED
 * for an inconsistent struct (negative skew, algorithm not ed25519). */
enum beckn_auth_error beckn_verify(const struct beckn_auth *a, const unsigned char pk[32],
                                   const void *body, size_t len, int64_t now, int64_t skew_s);

/* Identity binding: BECKN_AUTH_OK if the signer's subscriber id equals
 * expected (context.bap_id when a BPP receives, context.bpp_id when a BAP
 * receives), else BECKN_AUTH_WRONG_SIGNER (also for a NULL expected). */
enum beckn_auth_error beckn_auth_check_signer(const struct beckn_auth *a, const char *expected);

#endif
