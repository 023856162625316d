/* beckn_order.c - Beckn order <-> engine mapping (beckn_order.h). */
#include "gateway/beckn/beckn_order.h"

#include <math.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/p2p_json.h"
#include "gateway/beckn/packs.h"
#include "gateway/beckn/units.h"

#define MAX_WH 10000000 /* 10 000 kWh: the engine's largest quantity */

/* Exact kWh (more than 0, at most max_wh / 1000, at most 3 decimals) to Wh. */
static int wh_from_kwh(const json_t *kwh, int64_t max_wh, int64_t *wh)
{
    if (json_is_integer(kwh)) {
        json_int_t v = json_integer_value(kwh);
        if (v <= 0 || v > max_wh / 1000)
            return -1;
        *wh = (int64_t)v * 1000;
        return 0;
    }
    if (!json_is_real(kwh))
        return -1;
    double x = json_real_value(kwh) * 1000.0;
    if (!(x >= 0.5 && x <= (double)max_wh + 0.5))
        return -1;
    double r = nearbyint(x);
    if (fabs(x - r) > 1e-6 * (r > 1 ? r : 1)) /* more than 3 decimals */
        return -1;
    *wh = (int64_t)r;
    return *wh > 0 ? 0 : -1;
}

int beckn_wh_from_kwh(const json_t *kwh, int64_t *wh)
{
    return wh_from_kwh(kwh, MAX_WH, wh);
}

json_t *beckn_kwh_json(int64_t wh)
{
    return json_real((double)wh / 1000.0);
}

json_t *beckn_money_json(int64_t minor, const char *currency)
{
    return beckn_decimal(minor, beckn_currency_exponent(currency));
}

static void derive(const char *prefix, const char *a, const char *b, char *out, size_t cap)
{
    unsigned char h[16];
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, sizeof h);
    crypto_generichash_update(&st, (const unsigned char *)a, strlen(a));
    crypto_generichash_update(&st, (const unsigned char *)"\n", 1);
    crypto_generichash_update(&st, (const unsigned char *)b, strlen(b));
    crypto_generichash_final(&st, h, sizeof h);
    size_t n = (size_t)snprintf(out, cap, "%s", prefix);
    sodium_bin2hex(out + n, cap - n, h, sizeof h);
}

void beckn_derive_order_id(const char *bap_id, const char *txn, char out[BECKN_ORDER_ID_BUF])
{
    derive("bk-", bap_id, txn, out, BECKN_ORDER_ID_BUF);
}

void beckn_derive_buyer_id(const char *bap_id, const char *buyer, char out[BECKN_BUYER_ID_BUF])
{
    derive("bkb-", bap_id, buyer, out, BECKN_BUYER_ID_BUF);
}

__attribute__((format(printf, 3, 4)))
static int bad(struct beckn_nack *n, const char *paths, const char *fmt, ...)
{
    va_list ap;
    n->http_status = 400;
    snprintf(n->code, sizeof n->code, "30000");
    snprintf(n->paths, sizeof n->paths, "%s", paths);
    va_start(ap, fmt);
    vsnprintf(n->message, sizeof n->message, fmt, ap);
    va_end(ap);
    return -1;
}

static int read_line(const json_t *item, size_t i, struct beckn_line *line, struct beckn_nack *n)
{
    char path[96];
    snprintf(path, sizeof path, "message.order.beckn:orderItems[%zu]", i);
    if (!json_is_object(item))
        return bad(n, path, "an order item must be an object");
    if (!json_is_string(json_object_get(item, "beckn:orderedItem")))
        return bad(n, path, "beckn:orderedItem (the item id) is required");
    const json_t *offer = json_object_get(item, "beckn:acceptedOffer");
    const json_t *id = json_is_object(offer) ? json_object_get(offer, "beckn:id") : offer;
    if (!json_is_string(id) || !p2p_id_valid(json_string_value(id), 64)) {
        snprintf(path + strlen(path), sizeof path - strlen(path), ".beckn:acceptedOffer");
        return bad(n, path, "beckn:acceptedOffer must name one of our offers by beckn:id");
    }
    snprintf(line->offer_id, sizeof line->offer_id, "%s", json_string_value(id));
    const json_t *q = json_object_get(item, "beckn:quantity");
    snprintf(path + strlen(path), sizeof path - strlen(path), ".beckn:quantity");
    if (!json_is_object(q))
        return bad(n, path, "beckn:quantity is required");
    const json_t *unit = json_object_get(q, "unitText");
    if (unit && (!json_is_string(unit) || strcmp(json_string_value(unit), "kWh") != 0))
        return bad(n, path, "unitText must be kWh");
    if (beckn_wh_from_kwh(json_object_get(q, "unitQuantity"), &line->quantity_wh))
        return bad(n, path,
                   "unitQuantity must be a number of kWh above 0, at most 10000, with at most 3 "
                   "decimals");
    return 0;
}

int beckn_order_read(const json_t *order, struct beckn_order_request *r, struct beckn_nack *n)
{
    memset(r, 0, sizeof *r);
    if (!json_is_object(order))
        return bad(n, "message.order", "message.order is required");
    const json_t *type = json_object_get(order, "@type");
    if (!json_is_string(type) || strcmp(json_string_value(type), "beckn:Order") != 0)
        return bad(n, "message.order.@type", "@type must be beckn:Order");
    const json_t *buyer = json_object_get(order, "beckn:buyer");
    const json_t *buyer_id = json_object_get(buyer, "beckn:id");
    if (!json_is_string(buyer_id) || json_string_length(buyer_id) == 0 ||
        json_string_length(buyer_id) >= sizeof r->buyer_ref)
        return bad(n, "message.order.beckn:buyer.beckn:id", "beckn:buyer.beckn:id is required");
    snprintf(r->buyer_ref, sizeof r->buyer_ref, "%s", json_string_value(buyer_id));
    const json_t *items = json_object_get(order, "beckn:orderItems");
    if (!json_is_array(items) || json_array_size(items) == 0 ||
        json_array_size(items) > BECKN_ORDER_MAX_LINES)
        return bad(n, "message.order.beckn:orderItems", "beckn:orderItems must list 1 to %d items",
                   BECKN_ORDER_MAX_LINES);
    size_t i;
    const json_t *item;
    int64_t total_wh = 0;
    json_array_foreach(items, i, item) {
        if (read_line(item, i, &r->lines[i], n))
            return -1;
        for (size_t j = 0; j < i; j++)
            if (strcmp(r->lines[j].offer_id, r->lines[i].offer_id) == 0)
                return bad(n, "message.order.beckn:orderItems",
                           "offer %s is named twice; order each offer once", r->lines[i].offer_id);
        total_wh += r->lines[i].quantity_wh;
    }
    r->nlines = (int)json_array_size(items);
    const json_t *total = json_object_get(json_object_get(order, "beckn:orderAttributes"),
                                          "total_quantity");
    int64_t total_given;
    /* the sum of up to BECKN_ORDER_MAX_LINES lines, each at most MAX_WH */
    if (total && (wh_from_kwh(total, (int64_t)BECKN_ORDER_MAX_LINES * MAX_WH, &total_given) ||
                  total_given != total_wh))
        return bad(n, "message.order.beckn:orderAttributes.total_quantity",
                   "total_quantity must be the sum of the items' quantities (%lld.%03lld kWh)",
                   (long long)(total_wh / 1000), (long long)(total_wh % 1000));
    return beckn_check_order_packs(order, n);
}

char *beckn_dump(json_t *doc)
{
    char *s = doc ? json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15))
                  : NULL;
    json_decref(doc);
    return s;
}
