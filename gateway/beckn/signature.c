/* signature.c - Beckn HTTP message signatures: key loading, digest, signing,
 * header parsing and verification. The contract is in signature.h.
 *
 * The parser works on a NUL-terminated string with one forward cursor and
 * never looks past the NUL; values are recorded as (pointer, length) slices
 * into the header and copied into the fixed fields of struct beckn_auth only
 * after their length has been checked.
 */
#include "gateway/beckn/signature.h"

#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define SIG_B64_LEN 88 /* base64 of 64 bytes, padded */
#define PK_B64_LEN 44  /* base64 of 32 bytes, padded */
#define SIGNING_STRING_MAX 256
#define INT_DIGITS_MAX 18 /* any 18-digit number fits in int64_t */

static int crypto_ready(void)
{
    return sodium_init() < 0 ? -1 : 0;
}

/* Strict base64 (standard alphabet, padding required, no whitespace) of
 * exactly want bytes. src need not be NUL-terminated. */
static int b64_decode_exact(const char *src, size_t src_len, unsigned char *out, size_t want)
{
    size_t got = 0;
    if (src_len != sodium_base64_ENCODED_LEN(want, sodium_base64_VARIANT_ORIGINAL) - 1)
        return -1;
    if (sodium_base642bin(out, want, src, src_len, NULL, &got, NULL,
                          sodium_base64_VARIANT_ORIGINAL) != 0)
        return -1;
    return got == want ? 0 : -1;
}

/* Bytes that may not appear in an id: they would break the quoted keyId
 * field or its '|' split. */
static bool id_char_ok(unsigned char c)
{
    return c >= 0x20 && c != 0x7f && c != '|' && c != '"' && c != '\\';
}

static bool id_slice_ok(const char *s, size_t n)
{
    if (n == 0 || n >= BECKN_ID_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!id_char_ok((unsigned char)s[i]))
            return false;
    return true;
}

int beckn_key_from_private_b64(const char *b64, struct beckn_key *k)
{
    unsigned char raw[64], pk[32], sk[64];
    size_t n = b64 ? strlen(b64) : 0;
    int rc = -1;

    if (crypto_ready() != 0 || !b64)
        return -1;
    if (n == PK_B64_LEN && b64_decode_exact(b64, n, raw, 32) == 0)
        rc = crypto_sign_ed25519_seed_keypair(pk, sk, raw);
    else if (n == SIG_B64_LEN && b64_decode_exact(b64, n, raw, 64) == 0) {
        rc = crypto_sign_ed25519_seed_keypair(pk, sk, raw);
        /* The public half must belong to the seed, or signatures made with
         * the libsodium key would not verify under the registered key. */
        if (rc == 0 && sodium_memcmp(pk, raw + 32, 32) != 0)
            rc = -1;
    }
    if (rc == 0) {
        memcpy(k->pk, pk, sizeof pk);
        memcpy(k->sk, sk, sizeof sk);
        k->has_sk = true;
    }
    sodium_memzero(raw, sizeof raw);
    sodium_memzero(sk, sizeof sk);
    return rc == 0 ? 0 : -1;
}

bool beckn_id_valid(const char *s)
{
    return s && id_slice_ok(s, strnlen(s, BECKN_ID_MAX));
}

int beckn_key_set_id(struct beckn_key *k, const char *subscriber_id, const char *key_id)
{
    if (!beckn_id_valid(subscriber_id) || !beckn_id_valid(key_id))
        return -1;
    snprintf(k->subscriber_id, sizeof k->subscriber_id, "%s", subscriber_id);
    snprintf(k->key_id, sizeof k->key_id, "%s", key_id);
    return 0;
}

void beckn_key_wipe(struct beckn_key *k)
{
    sodium_memzero(k, sizeof *k);
}

int beckn_public_key_from_b64(const char *b64, unsigned char pk[32])
{
    if (!b64 || crypto_ready() != 0)
        return -1;
    return b64_decode_exact(b64, strlen(b64), pk, 32);
}

void beckn_digest_b64(const void *body, size_t len, char out[BECKN_DIGEST_B64_LEN])
{
    unsigned char h[64];
    /* crypto_generichash fails only for out-of-range sizes, which these are not. */
    (void)crypto_ready();
    crypto_generichash(h, sizeof h, body, len, NULL, 0);
    sodium_bin2base64(out, BECKN_DIGEST_B64_LEN, h, sizeof h, sodium_base64_VARIANT_ORIGINAL);
}

int beckn_signing_string(int64_t created, int64_t expires, const void *body, size_t len,
                         char *out, size_t cap)
{
    char digest[BECKN_DIGEST_B64_LEN];
    beckn_digest_b64(body, len, digest);
    int n = snprintf(out, cap, "(created): %" PRId64 "\n(expires): %" PRId64
                               "\ndigest: BLAKE-512=%s",
                     created, expires, digest);
    return n < 0 || (size_t)n >= cap ? -1 : n;
}

int beckn_sign(const struct beckn_key *k, const void *body, size_t len, int64_t created,
               int64_t expires, char *header_out, size_t cap)
{
    char ss[SIGNING_STRING_MAX], sig_b64[SIG_B64_LEN + 1];
    unsigned char sig[64];

    if (cap > 0)
        header_out[0] = '\0';
    if (crypto_ready() != 0 || !k->has_sk || created < 0 || expires < created ||
        !beckn_id_valid(k->subscriber_id) || !beckn_id_valid(k->key_id))
        return -1;
    int sslen = beckn_signing_string(created, expires, body, len, ss, sizeof ss);
    if (sslen < 0 || crypto_sign_ed25519_detached(sig, NULL, (const unsigned char *)ss,
                                                  (unsigned long long)sslen, k->sk) != 0)
        return -1;
    sodium_bin2base64(sig_b64, sizeof sig_b64, sig, sizeof sig, sodium_base64_VARIANT_ORIGINAL);
    int n = snprintf(header_out, cap,
                     "Signature keyId=\"%s|%s|ed25519\",algorithm=\"ed25519\",created=\"%" PRId64
                     "\",expires=\"%" PRId64 "\",headers=\"" BECKN_HEADERS_VALUE
                     "\",signature=\"%s\"",
                     k->subscriber_id, k->key_id, created, expires, sig_b64);
    if (n < 0 || (size_t)n >= cap) {
        if (cap > 0)
            header_out[0] = '\0';
        return -1;
    }
    return n;
}

/* ---- parsing ---------------------------------------------------------- */

struct slice {
    const char *s;
    size_t n;
    bool seen;
};

enum { P_KEYID, P_ALGORITHM, P_CREATED, P_EXPIRES, P_HEADERS, P_SIGNATURE, P_COUNT };

static const char *const param_names[P_COUNT] = {"keyId",   "algorithm", "created",
                                                 "expires", "headers",   "signature"};

static const char *const missing_why[P_COUNT] = {
    "keyId is missing",   "algorithm is missing", "created is missing",
    "expires is missing", "headers is missing",   "signature is missing"};

static bool is_ws(char c)
{
    return c == ' ' || c == '\t';
}

static const char *skip_ws(const char *p)
{
    while (is_ws(*p))
        p++;
    return p;
}

static bool is_name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '_';
}

static bool slice_eq(struct slice v, const char *lit)
{
    size_t n = strlen(lit);
    return v.n == n && memcmp(v.s, lit, n) == 0;
}

/* Reads one value at *pp (quoted without escapes, or a bare token ending at
 * a comma, space, tab, quote or NUL). Returns 0 and advances *pp past it. */
static int read_value(const char **pp, struct slice *v, const char **why)
{
    const char *p = *pp;
    if (*p == '"') {
        const char *start = ++p;
        while (*p && *p != '"')
            p++;
        if (!*p) {
            *why = "unterminated quoted value";
            return -1;
        }
        v->s = start;
        v->n = (size_t)(p - start);
        *pp = p + 1;
        return 0;
    }
    const char *start = p;
    while (*p && *p != ',' && *p != '"' && !is_ws(*p))
        p++;
    if (p == start) {
        *why = "empty parameter value";
        return -1;
    }
    v->s = start;
    v->n = (size_t)(p - start);
    *pp = p;
    return 0;
}

/* Records value v for parameter name[0..n): known names once each, unknown
 * ones ignored. */
static int record_param(struct slice params[P_COUNT], const char *name, size_t n,
                        struct slice v, const char **why)
{
    for (int i = 0; i < P_COUNT; i++) {
        if (strlen(param_names[i]) != n || memcmp(param_names[i], name, n) != 0)
            continue;
        if (params[i].seen) {
            *why = "duplicate parameter";
            return -1;
        }
        params[i] = v;
        params[i].seen = true;
        return 0;
    }
    return 0;
}

/* Splits the header into name=value parameters. */
static int split_params(const char *header, struct slice params[P_COUNT], const char **why)
{
    const char *p = skip_ws(header);
    /* The scheme word, unless it is a parameter named "signature". */
    if (strncasecmp(p, "Signature", 9) == 0 && is_ws(p[9]) && *skip_ws(p + 9) != '=')
        p = skip_ws(p + 9);
    if (!*p) {
        *why = "no parameters";
        return -1;
    }
    for (;;) {
        const char *name = p;
        while (is_name_char(*p))
            p++;
        size_t name_len = (size_t)(p - name);
        p = skip_ws(p);
        if (name_len == 0 || *p != '=') {
            *why = "expected name=value";
            return -1;
        }
        p = skip_ws(p + 1);
        struct slice v = {0};
        if (read_value(&p, &v, why) != 0 || record_param(params, name, name_len, v, why) != 0)
            return -1;
        p = skip_ws(p);
        if (!*p)
            return 0;
        if (*p != ',') {
            *why = "expected a comma between parameters";
            return -1;
        }
        p = skip_ws(p + 1);
    }
}

/* Copies slice v into out[cap] if it fits with its NUL. */
static bool copy_slice(struct slice v, char *out, size_t cap)
{
    if (v.n >= cap)
        return false;
    memcpy(out, v.s, v.n);
    out[v.n] = '\0';
    return true;
}

static int parse_key_id(struct slice v, struct beckn_auth *a, struct slice *alg,
                        const char **why)
{
    const char *bar1 = memchr(v.s, '|', v.n);
    const char *bar2 = bar1 ? memchr(bar1 + 1, '|', v.n - (size_t)(bar1 + 1 - v.s)) : NULL;
    if (!bar2 || memchr(bar2 + 1, '|', v.n - (size_t)(bar2 + 1 - v.s))) {
        *why = "keyId must be subscriber_id|key_id|algorithm";
        return -1;
    }
    struct slice sub = {v.s, (size_t)(bar1 - v.s), true};
    struct slice key = {bar1 + 1, (size_t)(bar2 - bar1 - 1), true};
    *alg = (struct slice){bar2 + 1, v.n - (size_t)(bar2 + 1 - v.s), true};
    if (!id_slice_ok(sub.s, sub.n) || !id_slice_ok(key.s, key.n)) {
        *why = "keyId subscriber_id or key_id is empty, too long or has invalid characters";
        return -1;
    }
    copy_slice(sub, a->subscriber_id, sizeof a->subscriber_id);
    copy_slice(key, a->key_id, sizeof a->key_id);
    return 0;
}

/* Non-negative decimal integer of 1..18 digits. */
static int parse_time(struct slice v, int64_t *out)
{
    if (v.n == 0 || v.n > INT_DIGITS_MAX)
        return -1;
    int64_t x = 0;
    for (size_t i = 0; i < v.n; i++) {
        if (v.s[i] < '0' || v.s[i] > '9')
            return -1;
        x = x * 10 + (v.s[i] - '0');
    }
    *out = x;
    return 0;
}

static int check_params(struct slice params[P_COUNT], struct beckn_auth *a, const char **why)
{
    struct slice alg;
    for (int i = 0; i < P_COUNT; i++)
        if (!params[i].seen) {
            *why = missing_why[i];
            return -1;
        }
    if (parse_key_id(params[P_KEYID], a, &alg, why) != 0)
        return -1;
    if (!slice_eq(params[P_ALGORITHM], "ed25519")) {
        *why = "algorithm must be ed25519";
        return -1;
    }
    if (!slice_eq(alg, "ed25519")) {
        *why = "keyId algorithm differs from algorithm";
        return -1;
    }
    if (parse_time(params[P_CREATED], &a->created) != 0 ||
        parse_time(params[P_EXPIRES], &a->expires) != 0) {
        *why = "created and expires must be unix seconds";
        return -1;
    }
    if (a->expires < a->created) {
        *why = "expires is before created";
        return -1;
    }
    if (!slice_eq(params[P_HEADERS], BECKN_HEADERS_VALUE)) {
        *why = "headers must be \"" BECKN_HEADERS_VALUE "\"";
        return -1;
    }
    if (b64_decode_exact(params[P_SIGNATURE].s, params[P_SIGNATURE].n, a->signature, 64) != 0) {
        *why = "signature must be base64 of 64 bytes";
        return -1;
    }
    snprintf(a->algorithm, sizeof a->algorithm, "ed25519");
    snprintf(a->headers, sizeof a->headers, "%s", BECKN_HEADERS_VALUE);
    return 0;
}

int beckn_auth_parse(const char *header, struct beckn_auth *a, const char **why)
{
    const char *dummy;
    struct slice params[P_COUNT];
    if (!why)
        why = &dummy;
    memset(params, 0, sizeof params);
    memset(a, 0, sizeof *a);
    if (!header) {
        *why = "no header";
        return -1;
    }
    if (crypto_ready() != 0) {
        *why = "crypto library failed to initialise";
        return -1;
    }
    if (split_params(header, params, why) != 0 || check_params(params, a, why) != 0)
        return -1;
    *why = NULL;
    return 0;
}

/* ---- verification ----------------------------------------------------- */

enum beckn_auth_error beckn_auth_check_time(const struct beckn_auth *a, int64_t now,
                                            int64_t skew_s)
{
    if (skew_s < 0 || a->created < 0 || a->expires < a->created)
        return BECKN_AUTH_MALFORMED;
    /* created - skew cannot overflow: created >= 0 and skew >= 0. */
    if (a->created - skew_s > now)
        return BECKN_AUTH_NOT_YET_VALID;
    if (a->expires < now)
        return BECKN_AUTH_EXPIRED;
    return BECKN_AUTH_OK;
}

enum beckn_auth_error beckn_verify(const struct beckn_auth *a, const unsigned char pk[32],
                                   const void *body, size_t len, int64_t now, int64_t skew_s)
{
    char ss[SIGNING_STRING_MAX];
    if (crypto_ready() != 0 || strcmp(a->algorithm, "ed25519") != 0)
        return BECKN_AUTH_MALFORMED;
    enum beckn_auth_error e = beckn_auth_check_time(a, now, skew_s);
    if (e != BECKN_AUTH_OK)
        return e;
    int n = beckn_signing_string(a->created, a->expires, body, len, ss, sizeof ss);
    if (n < 0)
        return BECKN_AUTH_MALFORMED;
    if (crypto_sign_ed25519_verify_detached(a->signature, (const unsigned char *)ss,
                                            (unsigned long long)n, pk) != 0)
        return BECKN_AUTH_BAD_SIGNATURE;
    return BECKN_AUTH_OK;
}

enum beckn_auth_error beckn_auth_check_signer(const struct beckn_auth *a, const char *expected)
{
    return expected && strcmp(a->subscriber_id, expected) == 0 ? BECKN_AUTH_OK
                                                               : BECKN_AUTH_WRONG_SIGNER;
}

/* ---- error reporting -------------------------------------------------- */

struct auth_error_text {
    const char *code;
    const char *message;
    int status;
};

static const struct auth_error_text auth_errors[] = {
    [BECKN_AUTH_OK] = {"OK", "signature verified", 200},
    [BECKN_AUTH_MISSING] = {"AUT_SIGNATURE_MISSING", "Authorization header is missing", 401},
    [BECKN_AUTH_MALFORMED] = {"AUT_SIGNATURE_INVALID", "Authorization header is malformed", 401},
    [BECKN_AUTH_EXPIRED] = {"AUT_SIGNATURE_INVALID", "signature has expired", 401},
    [BECKN_AUTH_NOT_YET_VALID] = {"AUT_SIGNATURE_INVALID",
                                  "signature created time is in the future", 401},
    [BECKN_AUTH_KEY_NOT_FOUND] = {"AUT_KEY_NOT_FOUND",
                                  "signing key not found for subscriber in the registry", 401},
    [BECKN_AUTH_BAD_SIGNATURE] = {"AUT_SIGNATURE_INVALID",
                                  "signature does not verify over the request body", 401},
    [BECKN_AUTH_WRONG_SIGNER] = {"AUT_UNAUTHORIZED_ACTION",
                                 "signer does not match the sender id in context", 401},
    [BECKN_AUTH_REGISTRY_UNAVAILABLE] = {"NET_DOWNSTREAM_UNAVAILABLE",
                                         "registry lookup failed; retry later", 503},
};

static const struct auth_error_text *auth_error_text(enum beckn_auth_error e)
{
    static const struct auth_error_text unknown = {"AUT_SIGNATURE_INVALID",
                                                   "authentication failed", 401};
    if ((unsigned)e >= sizeof auth_errors / sizeof *auth_errors)
        return &unknown;
    return &auth_errors[e];
}

const char *beckn_auth_code(enum beckn_auth_error e)
{
    return auth_error_text(e)->code;
}

const char *beckn_auth_message(enum beckn_auth_error e)
{
    return auth_error_text(e)->message;
}

int beckn_auth_http_status(enum beckn_auth_error e)
{
    return auth_error_text(e)->status;
}
