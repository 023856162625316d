/* Beckn HTTP signatures (gateway/beckn/signature.c): the published vectors of
 * beckn.md §4.3, verification failures, and header parsing edge cases. */
#include <check.h>

#include "check_run.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "beckn_vectors.h"
#include "gateway/beckn/signature.h"

static const char sk64_a[] =
    "lP3sHA+9gileOkXYJXh4Jg8tK0gEEMbf9yCPnFpbldhrAY+NErqL9WD+Vav7TE5tyVXGXBle9ONZi2W7o144eQ==";
static const char digest_a[] =
    "b6lf6lRgOweajukcvcLsagQ2T60+85kRh/Rd2bdS+TG/5ALebOEgDJfyCrre/1+BMu5nA94o4DT3pTFXuUg7sw==";
#define CREATED_A 1641287875
#define EXPIRES_A 1641291475

/* Vector B (BECKN-006 gateway key, recomputed). */
static const char sk64_b[] =
    "hJ5sCmbe7s9Wateq6QAdBGloVSkLuLHWOXcRkzrMcVLthFldV4gnT9Vrnq9iDNPVSKuDqaercVjQwFlj0Ml+3Q==";
static const char sig_b[] =
    "kUgvyU+bdXXkNuYKygbv0gkjArHKyF9Eg4pdCyxb+J1bMyQ6n4G1RVSM97qqKmgw04mgOkbhyz5chnD3PP1lDQ==";

/* Vector C: a wave-1 DEG body WITH a trailing newline, key A, computed
 * independently with Python hashlib.blake2b + cryptography's Ed25519. */
static const char body_c[] =
    "{\"context\":{\"version\":\"2.0.0\",\"action\":\"select\",\"timestamp\":"
    "\"2024-10-04T10:15:00Z\",\"message_id\":\"msg-select-001\",\"transaction_id\":"
    "\"txn-energy-001\",\"bap_id\":\"bap.energy-consumer.com\",\"bap_uri\":"
    "\"https://bap.energy-consumer.com\",\"bpp_id\":\"bpp.energy-provider.com\",\"bpp_uri\":"
    "\"https://bpp.energy-provider.com\",\"ttl\":\"PT30S\",\"domain\":"
    "\"beckn.one:deg:p2p-trading-interdiscom:2.0.0\"},\"message\":{\"order\":{"
    "\"beckn:orderStatus\":\"CREATED\",\"beckn:orderItems\":[{\"beckn:quantity\":{"
    "\"unitQuantity\":5.0,\"unitText\":\"kWh\"}}]}}}\n";
static const char digest_c[] =
    "4Ht3UXIIynjtcEao8Z/bUX1R3eMaWCPsCjDGoBm2zol3bHQY+FkQ5ncFbZRoU9wBSGqquRDngaZabDrXrqJg/A==";
static const char sig_c[] =
    "dt72wSZJ57FhRE3oTs9V00SIKHO2KoszhHf+zW0CecGvi6ztSq/YoKieYX3P98boNz703npO2Xr6jzoNN3UIDQ==";

static const char sig_a_b64[] =
    "cjbhP0PFyrlSCNszJM1F/YmHDVAWsZqJUPzojnE/7TJU3fJ/rmIlgaUHEr5E0/2PIyf0tpSnWtT6cyNNlpmoAQ==";

static void key_a(struct beckn_key *k)
{
    memset(k, 0, sizeof *k);
    ck_assert_int_eq(beckn_key_from_private_b64(sk64_a, k), 0);
    ck_assert_int_eq(
        beckn_key_set_id(k, "example-bap.com", "ae3ea24b-cfec-495e-81f8-044aaef164ac"), 0);
}

/* Vector A's seed alone (first 32 bytes of sk64_a), as beckn-onix stores it. */
static const char seed_a[] = "lP3sHA+9gileOkXYJXh4Jg8tK0gEEMbf9yCPnFpbldg=";

START_TEST(digest_sanity_values)
{
    char d[BECKN_DIGEST_B64_LEN];
    const char *fox = "The quick brown fox jumps over the lazy dog";
    beckn_digest_b64(fox, strlen(fox), d);
    ck_assert_str_eq(d, "qK3Uvd39k+SHfSdG5igXsRY2Sh+nvBSNlQkLxzM7NnP4JAHPeqLkyx7NkCluPxTLVBP47Xe+cwRbE5FM3NapGA==");
    beckn_digest_b64(body_a, strlen(body_a), d);
    ck_assert_str_eq(d, digest_a);
    beckn_digest_b64(body_c, strlen(body_c), d);
    ck_assert_str_eq(d, digest_c);
}
END_TEST

START_TEST(vector_a_with_64_byte_key)
{
    struct beckn_key k;
    char hdr[BECKN_HEADER_MAX];
    unsigned char pk[32];
    key_a(&k);
    ck_assert_int_eq(beckn_public_key_from_b64(pk_a, pk), 0);
    ck_assert_mem_eq(k.pk, pk, 32);
    int n = beckn_sign(&k, body_a, strlen(body_a), CREATED_A, EXPIRES_A, hdr, sizeof hdr);
    ck_assert_int_eq(n, (int)strlen(header_a));
    ck_assert_str_eq(hdr, header_a);
    beckn_key_wipe(&k);
    ck_assert(!k.has_sk);
}
END_TEST

START_TEST(vector_a_with_32_byte_seed)
{
    struct beckn_key k, k64;
    char hdr[BECKN_HEADER_MAX];
    memset(&k, 0, sizeof k);
    ck_assert_int_eq(beckn_key_from_private_b64(seed_a, &k), 0);
    key_a(&k64);
    ck_assert_mem_eq(k.sk, k64.sk, 64);
    ck_assert_int_eq(
        beckn_key_set_id(&k, "example-bap.com", "ae3ea24b-cfec-495e-81f8-044aaef164ac"), 0);
    ck_assert_int_gt(beckn_sign(&k, body_a, strlen(body_a), CREATED_A, EXPIRES_A, hdr, sizeof hdr), 0);
    ck_assert_str_eq(hdr, header_a);
}
END_TEST

START_TEST(vector_b_and_c_signatures)
{
    struct beckn_key k;
    char hdr[BECKN_HEADER_MAX], want[128];
    unsigned char pk[32];
    memset(&k, 0, sizeof k);
    ck_assert_int_eq(beckn_key_from_private_b64(sk64_b, &k), 0);
    ck_assert_int_eq(beckn_public_key_from_b64(pk_b, pk), 0);
    ck_assert_mem_eq(k.pk, pk, 32);
    ck_assert_int_eq(beckn_key_set_id(&k, "example-bg.com", "bg-key-1"), 0);
    ck_assert_int_gt(beckn_sign(&k, body_a, strlen(body_a), 1641287885, 1641291485, hdr, sizeof hdr), 0);
    snprintf(want, sizeof want, "signature=\"%s\"", sig_b);
    ck_assert_ptr_nonnull(strstr(hdr, want));
    ck_assert_str_eq(hdr + strlen(hdr) - strlen(want), want);

    key_a(&k);
    ck_assert_int_gt(beckn_sign(&k, body_c, strlen(body_c), 1728036900, 1728037200, hdr, sizeof hdr), 0);
    snprintf(want, sizeof want, "signature=\"%s\"", sig_c);
    ck_assert_str_eq(hdr + strlen(hdr) - strlen(want), want);
}
END_TEST

START_TEST(signing_string_is_exact)
{
    char ss[256];
    int n = beckn_signing_string(CREATED_A, EXPIRES_A, body_a, strlen(body_a), ss, sizeof ss);
    const char *want = "(created): 1641287875\n(expires): 1641291475\ndigest: BLAKE-512="
                       "b6lf6lRgOweajukcvcLsagQ2T60+85kRh/Rd2bdS+TG/5ALebOEgDJfyCrre/1+BMu5nA94o4DT3pTFXuUg7sw==";
    ck_assert_str_eq(ss, want);
    ck_assert_int_eq(n, (int)strlen(want));
    ck_assert_int_eq(beckn_signing_string(1, 2, "", 0, ss, 20), -1);
}
END_TEST

START_TEST(rejects_bad_private_keys)
{
    struct beckn_key k;
    memset(&k, 0, sizeof k);
    /* 64-byte key = seed A || public key B: the halves do not belong together. */
    ck_assert_int_eq(beckn_key_from_private_b64(
                         "lP3sHA+9gileOkXYJXh4Jg8tK0gEEMbf9yCPnFpbldjthFldV4gnT9Vrnq9iDNPVSKuDqaercVjQwFlj0Ml+3Q==",
                         &k), -1);
    ck_assert(!k.has_sk);
    /* 48 bytes: neither a seed nor a libsodium key. */
    ck_assert_int_eq(beckn_key_from_private_b64(
                         "lP3sHA+9gileOkXYJXh4Jg8tK0gEEMbf9yCPnFpbldhrAY+NErqL9WD+Vav7TE5t", &k), -1);
    ck_assert_int_eq(beckn_key_from_private_b64("", &k), -1);
    ck_assert_int_eq(beckn_key_from_private_b64("not base64!", &k), -1);
    ck_assert_int_eq(beckn_key_from_private_b64("lP3sHA+9gileOkXYJXh4Jg8tK0gEEMbf9yCPnFpbldg", &k), -1);
    ck_assert_int_eq(beckn_key_from_private_b64(" lP3sHA+9gileOkXYJXh4Jg8tK0gEEMbf9yCPnFpbld=", &k), -1);
    ck_assert_int_eq(beckn_key_from_private_b64(NULL, &k), -1);
    ck_assert(!k.has_sk);
    unsigned char pk[32];
    ck_assert_int_eq(beckn_public_key_from_b64(seed_a, pk), 0);
    ck_assert_int_eq(beckn_public_key_from_b64(sk64_a, pk), -1);
    ck_assert_int_eq(beckn_public_key_from_b64("awGPjRK6i/Vg/lWr+0xObclVxlwZXvTjWYtlu6NeOHl=", pk), -1);
}
END_TEST

START_TEST(sign_refuses_bad_input)
{
    struct beckn_key k;
    char hdr[BECKN_HEADER_MAX];
    key_a(&k);
    ck_assert_int_eq(beckn_sign(&k, "x", 1, 10, 9, hdr, sizeof hdr), -1);
    ck_assert_int_eq(beckn_sign(&k, "x", 1, -1, 9, hdr, sizeof hdr), -1);
    ck_assert_int_eq(beckn_sign(&k, body_a, strlen(body_a), CREATED_A, EXPIRES_A, hdr, 100), -1);
    ck_assert_str_eq(hdr, "");
    ck_assert_int_eq(beckn_key_set_id(&k, "a|b", "k"), -1);
    ck_assert_int_eq(beckn_key_set_id(&k, "a", "k\"x"), -1);
    ck_assert_int_eq(beckn_key_set_id(&k, "", "k"), -1);
    k.has_sk = false;
    ck_assert_int_eq(beckn_sign(&k, "x", 1, 1, 2, hdr, sizeof hdr), -1);
}
END_TEST

/* ---- verification ---- */

START_TEST(verifies_vector_a_and_only_the_exact_body)
{
    struct beckn_auth a;
    const char *why = "unset";
    unsigned char pk[32];
    ck_assert_int_eq(beckn_public_key_from_b64(pk_a, pk), 0);
    ck_assert_int_eq(beckn_auth_parse(header_a, &a, &why), 0);
    ck_assert_ptr_null(why);
    ck_assert_str_eq(a.subscriber_id, "example-bap.com");
    ck_assert_str_eq(a.key_id, "ae3ea24b-cfec-495e-81f8-044aaef164ac");
    ck_assert_str_eq(a.algorithm, "ed25519");
    ck_assert_str_eq(a.headers, "(created) (expires) digest");
    ck_assert_int_eq(a.created, CREATED_A);
    ck_assert_int_eq(a.expires, EXPIRES_A);

    size_t len = strlen(body_a);
    ck_assert_int_eq(beckn_verify(&a, pk, body_a, len, CREATED_A + 10, 5), BECKN_AUTH_OK);
    ck_assert_int_eq(beckn_verify(&a, pk, body_a, len, EXPIRES_A, 0), BECKN_AUTH_OK);

    char *copy = malloc(len + 1);
    ck_assert_ptr_nonnull(copy);
    for (size_t i = 0; i < len; i += 37) {
        memcpy(copy, body_a, len + 1);
        copy[i] ^= 0x01;
        ck_assert_int_eq(beckn_verify(&a, pk, copy, len, CREATED_A + 10, 5),
                         BECKN_AUTH_BAD_SIGNATURE);
    }
    /* One byte fewer, or a trailing newline more. */
    ck_assert_int_eq(beckn_verify(&a, pk, body_a, len - 1, CREATED_A, 5), BECKN_AUTH_BAD_SIGNATURE);
    memcpy(copy, body_a, len);
    char *longer = realloc(copy, len + 2);
    ck_assert_ptr_nonnull(longer);
    longer[len] = '\n';
    ck_assert_int_eq(beckn_verify(&a, pk, longer, len + 1, CREATED_A, 5), BECKN_AUTH_BAD_SIGNATURE);
    free(longer);
}
END_TEST

START_TEST(verify_time_window)
{
    struct beckn_auth a;
    unsigned char pk[32];
    size_t len = strlen(body_a);
    ck_assert_int_eq(beckn_public_key_from_b64(pk_a, pk), 0);
    ck_assert_int_eq(beckn_auth_parse(header_a, &a, NULL), 0);
    /* created may be up to skew seconds ahead of our clock, not more. */
    ck_assert_int_eq(beckn_verify(&a, pk, body_a, len, CREATED_A - 5, 5), BECKN_AUTH_OK);
    ck_assert_int_eq(beckn_verify(&a, pk, body_a, len, CREATED_A - 6, 5), BECKN_AUTH_NOT_YET_VALID);
    ck_assert_int_eq(beckn_verify(&a, pk, body_a, len, CREATED_A - 1, 0), BECKN_AUTH_NOT_YET_VALID);
    /* expires has no tolerance, whatever the skew. */
    ck_assert_int_eq(beckn_verify(&a, pk, body_a, len, EXPIRES_A + 1, 5), BECKN_AUTH_EXPIRED);
    ck_assert_int_eq(beckn_verify(&a, pk, body_a, len, EXPIRES_A + 1, 1000), BECKN_AUTH_EXPIRED);
    ck_assert_int_eq(beckn_verify(&a, pk, body_a, len, CREATED_A, -1), BECKN_AUTH_MALFORMED);
}
END_TEST

START_TEST(verify_fails_with_another_key)
{
    struct beckn_auth a;
    unsigned char pk[32];
    ck_assert_int_eq(beckn_public_key_from_b64(pk_b, pk), 0);
    ck_assert_int_eq(beckn_auth_parse(header_a, &a, NULL), 0);
    ck_assert_int_eq(beckn_verify(&a, pk, body_a, strlen(body_a), CREATED_A, 5),
                     BECKN_AUTH_BAD_SIGNATURE);
    /* And a signature with one flipped bit under the right key. */
    ck_assert_int_eq(beckn_public_key_from_b64(pk_a, pk), 0);
    a.signature[10] ^= 0x20;
    ck_assert_int_eq(beckn_verify(&a, pk, body_a, strlen(body_a), CREATED_A, 5),
                     BECKN_AUTH_BAD_SIGNATURE);
}
END_TEST

START_TEST(sign_then_verify_round_trip)
{
    struct beckn_key k;
    struct beckn_auth a;
    char hdr[BECKN_HEADER_MAX];
    key_a(&k);
    ck_assert_int_eq(beckn_key_set_id(&k, "bpp.energy-provider.com",
                                      "76EU8aUqHouww7gawT6EibH4bseMCumyDv3sgyXSKENGk8NDcdVwmQ"), 0);
    ck_assert_int_gt(beckn_sign(&k, body_c, strlen(body_c), 1000, 1300, hdr, sizeof hdr), 0);
    ck_assert_int_eq(beckn_auth_parse(hdr, &a, NULL), 0);
    ck_assert_int_eq(beckn_verify(&a, k.pk, body_c, strlen(body_c), 1100, 5), BECKN_AUTH_OK);
    ck_assert_int_eq(beckn_auth_check_signer(&a, "bpp.energy-provider.com"), BECKN_AUTH_OK);
    ck_assert_int_eq(beckn_auth_check_signer(&a, "bap.energy-consumer.com"),
                     BECKN_AUTH_WRONG_SIGNER);
    ck_assert_int_eq(beckn_auth_check_signer(&a, NULL), BECKN_AUTH_WRONG_SIGNER);
    /* Empty body is legal and has its own digest. */
    ck_assert_int_gt(beckn_sign(&k, "", 0, 1000, 1000, hdr, sizeof hdr), 0);
    ck_assert_int_eq(beckn_auth_parse(hdr, &a, NULL), 0);
    ck_assert_int_eq(beckn_verify(&a, k.pk, "", 0, 1000, 0), BECKN_AUTH_OK);
}
END_TEST

/* ---- parsing ---- */

static int parse(const char *h)
{
    struct beckn_auth a;
    const char *why = NULL;
    int rc = beckn_auth_parse(h, &a, &why);
    ck_assert_msg(rc == 0 ? why == NULL : why != NULL, "why not set consistently for %s", h);
    return rc;
}

START_TEST(parse_tolerates_spaces_order_and_bare_values)
{
    struct beckn_auth a;
    unsigned char pk[32];
    ck_assert_int_eq(beckn_public_key_from_b64(pk_a, pk), 0);
    const char *ok[] = {
        /* BECKN-006 BG style: spaces after commas */
        "Signature keyId=\"example-bap.com|ae3ea24b-cfec-495e-81f8-044aaef164ac|ed25519\", "
        "algorithm=\"ed25519\", created=\"1641287875\", expires=\"1641291475\", "
        "headers=\"(created) (expires) digest\", signature=\"", /* + sig */
        /* any order, tabs, spaces around '=', bare numbers, unknown param, no scheme */
        "signature = \"SIG\" ,\tcreated=1641287875 , expires=1641291475,extra=\"whatever, really\","
        " headers=\"(created) (expires) digest\",algorithm=ed25519,"
        "keyId=\"example-bap.com|ae3ea24b-cfec-495e-81f8-044aaef164ac|ed25519\"",
        /* lower-case scheme with leading space and trailing space */
        "  signature keyId=\"example-bap.com|ae3ea24b-cfec-495e-81f8-044aaef164ac|ed25519\","
        "algorithm=\"ed25519\",created=\"1641287875\",expires=\"1641291475\","
        "headers=\"(created) (expires) digest\",signature=\"SIG\"  ",
    };
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
        char h[1024];
        const char *mark = strstr(ok[i], "SIG");
        if (mark)
            snprintf(h, sizeof h, "%.*s%s%s", (int)(mark - ok[i]), ok[i], sig_a_b64, mark + 3);
        else
            snprintf(h, sizeof h, "%s%s\"", ok[i], sig_a_b64);
        const char *why = NULL;
        ck_assert_msg(beckn_auth_parse(h, &a, &why) == 0, "rejected [%s]: %s", h, why);
        ck_assert_int_eq(beckn_verify(&a, pk, body_a, strlen(body_a), CREATED_A, 5), BECKN_AUTH_OK);
    }
}
END_TEST

/* header_a with the first occurrence of from replaced by to. */
static void variant(char *out, size_t cap, const char *from, const char *to)
{
    const char *at = strstr(header_a, from);
    ck_assert_ptr_nonnull(at);
    snprintf(out, cap, "%.*s%s%s", (int)(at - header_a), header_a, to, at + strlen(from));
}

START_TEST(parse_rejects_malformed_headers)
{
    static const struct { const char *from, *to; } bad[] = {
        /* missing fields */
        {"keyId=\"example-bap.com|ae3ea24b-cfec-495e-81f8-044aaef164ac|ed25519\",", ""},
        {"algorithm=\"ed25519\",", ""},
        {"created=\"1641287875\",", ""},
        {"expires=\"1641291475\",", ""},
        {"headers=\"(created) (expires) digest\",", ""},
        {",signature=\"cjbh", ",sig=\"cjbh"},
        /* algorithm mismatch and unsupported algorithms */
        {"algorithm=\"ed25519\"", "algorithm=\"rsa-sha256\""},
        {"|ed25519\"", "|rsa-sha256\""},
        {"|ed25519\"", "|ED25519\""},
        {"algorithm=\"ed25519\"", "algorithm=\"\""},
        /* keyId with 2 or 4 parts, or empty parts */
        {"example-bap.com|", ""},
        {"example-bap.com|", "example-bap.com|x|"},
        {"example-bap.com|", "|"},
        {"|ae3ea24b-cfec-495e-81f8-044aaef164ac|", "||"},
        /* non-numeric or out-of-range times, expires before created */
        {"created=\"1641287875\"", "created=\"16412x7875\""},
        {"created=\"1641287875\"", "created=\"-1641287875\""},
        {"created=\"1641287875\"", "created=\"\""},
        {"created=\"1641287875\"", "created=\"1641287875.5\""},
        {"created=\"1641287875\"", "created=\"9999999999999999999999\""},
        {"expires=\"1641291475\"", "expires=\"1641287874\""},
        /* wrong headers list */
        {"(created) (expires) digest", "(created) digest"},
        {"(created) (expires) digest", "(request-target) (created) (expires) digest"},
        /* bad base64 signature: alphabet, length, padding, 63 bytes */
        {"cjbhP0PF", "cjbh*0PF"},
        {"NlpmoAQ==", "NlpmoAQ="},
        {"NlpmoAQ==", "NlpmoAQ"},
        {"cjbhP0PF", "cjbhP0P"},
        {"NlpmoAQ==", "NlpmoA=Q="},
        {"NlpmoAQ==", "NlpmoAR=="}, /* non-zero padding bits */
        {"signature=\"cjbhP0PFyrlSCNszJM1F/YmHDVAWsZqJUPzojnE/7TJU3fJ/rmIlgaUHEr5E0/2PIyf0tpSnWtT6cyNNlpmoAQ==\"",
         "signature=\"cjbhP0PFyrlSCNszJM1F/YmHDVAWsZqJUPzojnE/7TJU3fJ/rmIlgaUHEr5E0/2PIyf0tpSnWtT6cyNNlpmo\""},
        /* syntax: duplicates, unterminated quote, junk between params, trailing comma */
        {"algorithm=\"ed25519\"", "algorithm=\"ed25519\",algorithm=\"ed25519\""},
        {"created=\"1641287875\"", "created=\"1641287875"},
        {"created=\"1641287875\",", "created=\"1641287875\" x,"},
        {"expires=", "=expires="},
        {"algorithm=\"ed25519\"", "algorithm=ed25519\"x\""},
    };
    char h[2048];
    ck_assert_int_eq(parse(header_a), 0);
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        variant(h, sizeof h, bad[i].from, bad[i].to);
        ck_assert_msg(parse(h) == -1, "accepted #%zu [%s]", i, h);
    }
    snprintf(h, sizeof h, "%s,", header_a);
    ck_assert_int_eq(parse(h), -1);
    snprintf(h, sizeof h, "%s, ", header_a);
    ck_assert_int_eq(parse(h), -1);
    ck_assert_int_eq(parse(""), -1);
    ck_assert_int_eq(parse("Signature"), -1);
    ck_assert_int_eq(parse("Signature "), -1);
    ck_assert_int_eq(parse("Bearer abc"), -1);
    ck_assert_int_eq(parse("\"\"\"\""), -1);
    ck_assert_int_eq(parse(NULL), -1);
}
END_TEST

START_TEST(parse_rejects_overlong_values)
{
    char big[600], h[2048];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    char sub256[257];
    memset(sub256, 's', 256);
    sub256[256] = '\0';
    /* 255 bytes is the longest id accepted, 256 is refused. */
    char to[400];
    snprintf(to, sizeof to, "%.255s|", sub256);
    variant(h, sizeof h, "example-bap.com|", to);
    ck_assert_int_eq(parse(h), 0);
    snprintf(to, sizeof to, "%s|", sub256);
    variant(h, sizeof h, "example-bap.com|", to);
    ck_assert_int_eq(parse(h), -1);
    snprintf(to, sizeof to, "|%s|", sub256);
    variant(h, sizeof h, "|ae3ea24b-cfec-495e-81f8-044aaef164ac|", to);
    ck_assert_int_eq(parse(h), -1);
    /* overlong algorithm, headers, signature, times */
    snprintf(to, sizeof to, "algorithm=\"%.300s\"", big);
    variant(h, sizeof h, "algorithm=\"ed25519\"", to);
    ck_assert_int_eq(parse(h), -1);
    snprintf(to, sizeof to, "headers=\"%.300s\"", big);
    variant(h, sizeof h, "headers=\"(created) (expires) digest\"", to);
    ck_assert_int_eq(parse(h), -1);
    char from[128];
    snprintf(from, sizeof from, "signature=\"%s\"", sig_a_b64);
    snprintf(to, sizeof to, "signature=\"%.298s==\"", big);
    variant(h, sizeof h, from, to);
    ck_assert_int_eq(parse(h), -1);
    variant(h, sizeof h, "1641287875", "0000000000000000001641287875");
    ck_assert_int_eq(parse(h), -1);
    /* a huge header of unknown params still ends, with the right answer */
    size_t n = 1 << 20;
    char *huge = malloc(n + sizeof header_a + 1);
    ck_assert_ptr_nonnull(huge);
    size_t off = 0;
    while (off + 8 < n) {
        memcpy(huge + off, "x=\"yy\", ", 8);
        off += 8;
    }
    memcpy(huge + off, header_a + strlen("Signature "), sizeof header_a - strlen("Signature "));
    ck_assert_int_eq(parse(huge), 0);
    free(huge);
}
END_TEST

START_TEST(error_codes_and_statuses)
{
    ck_assert_str_eq(beckn_auth_code(BECKN_AUTH_MISSING), "AUT_SIGNATURE_MISSING");
    ck_assert_str_eq(beckn_auth_code(BECKN_AUTH_MALFORMED), "AUT_SIGNATURE_INVALID");
    ck_assert_str_eq(beckn_auth_code(BECKN_AUTH_EXPIRED), "AUT_SIGNATURE_INVALID");
    ck_assert_str_eq(beckn_auth_code(BECKN_AUTH_NOT_YET_VALID), "AUT_SIGNATURE_INVALID");
    ck_assert_str_eq(beckn_auth_code(BECKN_AUTH_BAD_SIGNATURE), "AUT_SIGNATURE_INVALID");
    ck_assert_str_eq(beckn_auth_code(BECKN_AUTH_KEY_NOT_FOUND), "AUT_KEY_NOT_FOUND");
    ck_assert_str_eq(beckn_auth_code(BECKN_AUTH_WRONG_SIGNER), "AUT_UNAUTHORIZED_ACTION");
    ck_assert_str_eq(beckn_auth_code(BECKN_AUTH_REGISTRY_UNAVAILABLE), "NET_DOWNSTREAM_UNAVAILABLE");
    ck_assert_int_eq(beckn_auth_http_status(BECKN_AUTH_OK), 200);
    ck_assert_int_eq(beckn_auth_http_status(BECKN_AUTH_BAD_SIGNATURE), 401);
    ck_assert_int_eq(beckn_auth_http_status(BECKN_AUTH_REGISTRY_UNAVAILABLE), 503);
    ck_assert_ptr_nonnull(beckn_auth_message((enum beckn_auth_error)99));
    ck_assert_str_eq(beckn_auth_code((enum beckn_auth_error)99), "AUT_SIGNATURE_INVALID");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("beckn_signature");
    TCase *tc = tcase_create("vectors");
    tcase_add_test(tc, digest_sanity_values);
    tcase_add_test(tc, vector_a_with_64_byte_key);
    tcase_add_test(tc, vector_a_with_32_byte_seed);
    tcase_add_test(tc, vector_b_and_c_signatures);
    tcase_add_test(tc, signing_string_is_exact);
    tcase_add_test(tc, rejects_bad_private_keys);
    tcase_add_test(tc, sign_refuses_bad_input);
    suite_add_tcase(s, tc);
    tc = tcase_create("verify");
    tcase_add_test(tc, verifies_vector_a_and_only_the_exact_body);
    tcase_add_test(tc, verify_time_window);
    tcase_add_test(tc, verify_fails_with_another_key);
    tcase_add_test(tc, sign_then_verify_round_trip);
    suite_add_tcase(s, tc);
    tc = tcase_create("parse");
    tcase_add_test(tc, parse_tolerates_spaces_order_and_bare_values);
    tcase_add_test(tc, parse_rejects_malformed_headers);
    tcase_add_test(tc, parse_rejects_overlong_values);
    tcase_add_test(tc, error_codes_and_statuses);
    suite_add_tcase(s, tc);
    return check_run(s);
}
