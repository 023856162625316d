/* libFuzzer target: untrusted JSON bodies through common/p2p_json.c, read the
 * way a Beckn receiver reads them: parse as an object (depth-limited), then
 * take the string fields of `context` and a few nested ones, and run the Beckn
 * context reader and receiver checks (gateway/beckn/message.c) on it: every
 * refusal must be a NACK naming a path, and every NACK body must be JSON.
 * Built and run by tests/fuzz/run.sh. */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/p2p_json.h"
#include "gateway/beckn/message.h"

static void check(int cond, const char *what)
{
    if (!cond) {
        fprintf(stderr, "fuzz_beckn_json: invariant broken: %s\n", what);
        abort();
    }
}

static const char *const context_fields[] = {
    "domain", "action", "version", "core_version", "bap_id", "bap_uri", "bpp_id", "bpp_uri",
    "transaction_id", "message_id", "timestamp", "ttl", "country", "city", "key",
};

static void read_context(const json_t *ctx)
{
    char buf[256];
    bool present;
    struct p2p_violation v;
    for (size_t i = 0; i < sizeof context_fields / sizeof *context_fields; i++) {
        memset(&v, 0, sizeof v);
        int rc = p2p_json_opt_str(ctx, context_fields[i], buf, sizeof buf, &present, &v);
        if (rc == 0 && present)
            check(strlen(buf) > 0 && strlen(buf) < sizeof buf, "string field length");
        if (rc != 0)
            check(v.code[0] != '\0' && v.field[0] != '\0', "violation filled");
    }
    if (p2p_json_id(ctx, "message_id", buf, sizeof buf, &v) == 0)
        check(p2p_id_valid(buf, sizeof buf - 1), "id valid");
    json_t *loc = json_object_get(ctx, "location");
    json_t *city = json_object_get(loc, "city");
    if (json_is_object(city))
        (void)p2p_json_opt_str(city, "code", buf, sizeof buf, &present, &v);
    int64_t n;
    (void)p2p_json_opt_int(ctx, "ttl_seconds", &n, &present, &v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct p2p_violation v;
    memset(&v, 0, sizeof v);
    json_t *root = p2p_json_parse_object((const char *)data, size, &v);
    if (!root) {
        check(strcmp(v.field, "body") == 0, "parse failure names the body");
        return 0;
    }
    check(json_is_object(root), "root is an object");
    json_t *ctx = json_object_get(root, "context");
    if (json_is_object(ctx))
        read_context(ctx);
    struct beckn_context bc;
    struct beckn_nack nk;
    memset(&nk, 0, sizeof nk);
    int rc = beckn_context_read(root, &bc, &nk);
    if (rc == 0)
        rc = beckn_context_check(&bc, "select", "bpp.example.com", BECKN_AS_BPP, 1728036910000LL,
                                 5000, &nk);
    if (rc != 0) {
        check(nk.paths[0] != '\0' && nk.code[0] != '\0' && nk.http_status == 400, "nack filled");
        char *body = beckn_nack_body(&nk);
        json_t *parsed = body ? json_loads(body, 0, NULL) : NULL;
        check(parsed != NULL, "nack body is JSON");
        json_decref(parsed);
        free(body);
    }
    /* Serialising what was accepted must work and re-parse to an equal value. */
    char *text = json_dumps(root, JSON_COMPACT);
    if (text) {
        json_t *again = p2p_json_parse_object(text, strlen(text), &v);
        check(again != NULL && json_equal(root, again), "dump re-parses to an equal value");
        json_decref(again);
        free(text);
    }
    json_decref(root);
    return 0;
}
