/* libFuzzer target: beckn_auth_parse on arbitrary bytes (gateway/beckn/signature.c).
 *
 * Checks, beyond "no crash, no out-of-bounds access" (ASan/UBSan):
 * - an accepted header yields NUL-terminated fields, algorithm ed25519, the
 *   fixed headers list and expires >= created;
 * - re-serialising an accepted header canonically and parsing it again gives
 *   the identical struct (the parser and the documented format agree);
 * - verifying it against a fixed key and body runs to an answer.
 * Built and run by tests/fuzz/run.sh. */
#include <inttypes.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/beckn/signature.h"

static void check(int cond, const char *what)
{
    if (!cond) {
        fprintf(stderr, "fuzz_signature_header: invariant broken: %s\n", what);
        abort();
    }
}

static void check_accepted(const struct beckn_auth *a)
{
    check(memchr(a->subscriber_id, '\0', sizeof a->subscriber_id) != NULL, "subscriber_id NUL");
    check(memchr(a->key_id, '\0', sizeof a->key_id) != NULL, "key_id NUL");
    check(a->subscriber_id[0] && a->key_id[0], "ids non-empty");
    check(strchr(a->subscriber_id, '|') == NULL && strchr(a->key_id, '|') == NULL, "no '|' in ids");
    check(strcmp(a->algorithm, "ed25519") == 0, "algorithm");
    check(strcmp(a->headers, BECKN_HEADERS_VALUE) == 0, "headers");
    check(a->created >= 0 && a->expires >= a->created, "time order");
}

static void check_round_trip(const struct beckn_auth *a)
{
    char sig[89], hdr[BECKN_HEADER_MAX];
    struct beckn_auth b;
    const char *why = NULL;
    sodium_bin2base64(sig, sizeof sig, a->signature, sizeof a->signature,
                      sodium_base64_VARIANT_ORIGINAL);
    int n = snprintf(hdr, sizeof hdr,
                     "Signature keyId=\"%s|%s|ed25519\",algorithm=\"ed25519\",created=\"%" PRId64
                     "\",expires=\"%" PRId64 "\",headers=\"" BECKN_HEADERS_VALUE
                     "\",signature=\"%s\"",
                     a->subscriber_id, a->key_id, a->created, a->expires, sig);
    check(n > 0 && (size_t)n < sizeof hdr, "canonical header fits");
    check(beckn_auth_parse(hdr, &b, &why) == 0, "canonical header re-parses");
    check(memcmp(a, &b, sizeof b) == 0, "round trip is identical");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const unsigned char pk[32] = {1};
    struct beckn_auth a;
    const char *why = NULL;
    char *h = malloc(size + 1);
    if (!h)
        return 0;
    memcpy(h, data, size);
    h[size] = '\0';
    int rc = beckn_auth_parse(h, &a, &why);
    check(rc == 0 ? why == NULL : why != NULL, "why set exactly on failure");
    if (rc == 0) {
        check_accepted(&a);
        check_round_trip(&a);
        enum beckn_auth_error e = beckn_verify(&a, pk, "{}", 2, a.created, 5);
        check(e != BECKN_AUTH_MALFORMED, "verify of a parsed header is well-formed");
    }
    free(h);
    return 0;
}
