/* libFuzzer target: untrusted Beckn request bodies through the BPP's order
 * reader (gateway/beckn/beckn_order.c) and the DEG pack checks (packs.c), the
 * way /beckn/select and /beckn/init read message.order: either the order is
 * accepted with 1..16 lines of distinct valid offer ids and positive whole Wh
 * that survive kWh on the wire exactly, or the refusal is a 400 NACK with a
 * numeric code, a path under message.order and a body that is JSON.
 * Built and run by tests/fuzz/run.sh. */
#include <jansson.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/p2p_json.h"
#include "gateway/beckn/beckn_order.h"
#include "gateway/beckn/message.h"

static void check(int cond, const char *what)
{
    if (!cond) {
        fprintf(stderr, "fuzz_beckn_order: invariant broken: %s\n", what);
        abort();
    }
}

static void accepted(const struct beckn_order_request *r)
{
    check(r->nlines >= 1 && r->nlines <= BECKN_ORDER_MAX_LINES, "line count");
    check(r->buyer_ref[0] != '\0', "buyer");
    for (int i = 0; i < r->nlines; i++) {
        check(p2p_id_valid(r->lines[i].offer_id, 64), "offer id");
        check(r->lines[i].quantity_wh > 0 && r->lines[i].quantity_wh <= 10000000, "quantity");
        for (int j = 0; j < i; j++)
            check(strcmp(r->lines[i].offer_id, r->lines[j].offer_id) != 0, "distinct offers");
        char *text = beckn_dump(json_pack("[o]", beckn_kwh_json(r->lines[i].quantity_wh)));
        json_t *back = text ? json_loads(text, 0, NULL) : NULL;
        int64_t wh = 0;
        check(back && beckn_wh_from_kwh(json_array_get(back, 0), &wh) == 0 &&
                  wh == r->lines[i].quantity_wh,
              "kWh round trip");
        json_decref(back);
        free(text);
    }
    char order_id[BECKN_ORDER_ID_BUF], buyer_id[BECKN_BUYER_ID_BUF];
    beckn_derive_order_id("bap.fuzz", r->buyer_ref, order_id);
    beckn_derive_buyer_id("bap.fuzz", r->buyer_ref, buyer_id);
    check(p2p_id_valid(order_id, 56) && p2p_id_valid(buyer_id, 64), "derived ids");
}

static void refused(const struct beckn_nack *n)
{
    check(n->http_status == 400, "status 400");
    check(strcmp(n->code, "30000") == 0 || strcmp(n->code, "40007") == 0, "code");
    check(strncmp(n->paths, "message.order", 13) == 0, "path under message.order");
    check(n->message[0] != '\0', "message");
    char *body = beckn_nack_body(n);
    if (body) {
        json_t *parsed = json_loads(body, 0, NULL);
        check(parsed != NULL, "NACK body is JSON");
        json_decref(parsed);
        free(body);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    if (!ready) {
        check(sodium_init() >= 0, "sodium");
        ready = 1;
    }
    struct p2p_violation v;
    json_t *root = p2p_json_parse_object((const char *)data, size, &v);
    if (!root)
        return 0;
    const json_t *order = json_object_get(json_object_get(root, "message"), "order");
    if (!order)
        order = root;
    struct beckn_order_request r;
    struct beckn_nack n;
    memset(&n, 0, sizeof n);
    if (beckn_order_read(order, &r, &n) == 0)
        accepted(&r);
    else
        refused(&n);
    json_decref(root);
    return 0;
}
