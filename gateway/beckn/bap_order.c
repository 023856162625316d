/* bap_order.c - reading and checking orders a BPP sends back (bap_order.h). */
#include "gateway/beckn/bap_order.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "gateway/beckn/units.h"

__attribute__((format(printf, 3, 4)))
static int refuse(struct beckn_nack *n, const char *path, const char *fmt, ...)
{
    n->http_status = 400;
    snprintf(n->code, sizeof n->code, "30000");
    snprintf(n->paths, sizeof n->paths, "%s", path);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(n->message, sizeof n->message, fmt, ap);
    va_end(ap);
    return -1;
}

static void copy_str(const json_t *v, char *out, size_t cap)
{
    out[0] = '\0';
    if (json_is_string(v) && json_string_length(v) < cap)
        memcpy(out, json_string_value(v), json_string_length(v) + 1);
}

int64_t bap_line_amount(int64_t quantity_wh, int64_t price_per_kwh)
{
    return (quantity_wh * price_per_kwh + 500) / 1000;
}

int bap_offer_price(const json_t *offer, int64_t *price_per_kwh, char currency[8])
{
    const json_t *price =
        json_object_get(json_object_get(offer, "beckn:offerAttributes"), "beckn:price");
    const json_t *value = json_object_get(price, "value");
    const json_t *cur = json_object_get(price, "currency");
    if (!json_is_number(value)) {
        price = json_object_get(offer, "beckn:price");
        value = json_object_get(price, "value");
        if (!value)
            value = json_object_get(price, "schema:price");
        cur = json_object_get(price, "currency");
        if (!cur)
            cur = json_object_get(price, "schema:priceCurrency");
    }
    if (!json_is_string(cur) || json_string_length(cur) != 3)
        return -1;
    copy_str(cur, currency, 8);
    if (beckn_units(value, beckn_currency_exponent(currency), price_per_kwh))
        return -1;
    return *price_per_kwh > BAP_MAX_PRICE_PER_KWH ? -2 : 0;
}

void bap_offer_bounds(const json_t *offer, int64_t *min_wh, int64_t *max_wh)
{
    const json_t *attrs = json_object_get(offer, "beckn:offerAttributes");
    if (beckn_units(json_object_get(attrs, "minimumQuantity"), 3, min_wh))
        *min_wh = 0;
    const json_t *max = json_object_get(json_object_get(attrs, "beckn:maxQuantity"), "unitQuantity");
    if (!max)
        max = json_object_get(attrs, "maximumQuantity");
    if (beckn_units(max, 3, max_wh))
        *max_wh = -1;
}

static int read_line(const json_t *it, int i, const char *currency, struct bap_line *l,
                     struct beckn_nack *n)
{
    char path[128];
    memset(l, 0, sizeof *l);
    if (!json_is_object(it)) {
        snprintf(path, sizeof path, "message.order.beckn:orderItems[%d]", i);
        return refuse(n, path, "an order item must be an object");
    }
    copy_str(json_object_get(it, "beckn:orderedItem"), l->item_id, sizeof l->item_id);
    if (!l->item_id[0]) {
        snprintf(path, sizeof path, "message.order.beckn:orderItems[%d].beckn:orderedItem", i);
        return refuse(n, path, "beckn:orderedItem must name the item");
    }
    const json_t *q = json_object_get(it, "beckn:quantity");
    const json_t *unit = json_object_get(q, "unitText");
    snprintf(path, sizeof path, "message.order.beckn:orderItems[%d].beckn:quantity", i);
    if ((unit && !(json_is_string(unit) && strcmp(json_string_value(unit), "kWh") == 0)) ||
        beckn_units(json_object_get(q, "unitQuantity"), 3, &l->quantity_wh) ||
        l->quantity_wh <= 0 || l->quantity_wh > BAP_MAX_WH)
        return refuse(n, path, "the quantity must be {unitQuantity > 0 and at most %lld, "
                      "unitText \"kWh\"}", BAP_MAX_WH / 1000);
    const json_t *offer = json_object_get(it, "beckn:acceptedOffer");
    copy_str(json_object_get(offer, "beckn:id"), l->offer_id, sizeof l->offer_id);
    char cur[8] = "";
    int priced = bap_offer_price(offer, &l->price_per_kwh, cur);
    if (priced == 0) {
        l->has_price = true;
    } else if (priced == -1) {
        const json_t *price = json_object_get(it, "beckn:price");
        copy_str(json_object_get(price, "currency"), cur, sizeof cur);
        l->has_price = cur[0] && beckn_units(json_object_get(price, "value"),
                                             beckn_currency_exponent(cur), &l->price_per_kwh) == 0;
        if (l->has_price && l->price_per_kwh > BAP_MAX_PRICE_PER_KWH)
            priced = -2;
    }
    if (priced == -2) {
        snprintf(path, sizeof path, "message.order.beckn:orderItems[%d].beckn:acceptedOffer", i);
        return refuse(n, path, "the price is above %lld minor units per kWh",
                      BAP_MAX_PRICE_PER_KWH);
    }
    if (l->has_price && strcmp(cur, currency) != 0) {
        snprintf(path, sizeof path, "message.order.beckn:orderItems[%d].beckn:acceptedOffer", i);
        return refuse(n, path, "the price is in %s, the order in %s", cur, currency);
    }
    return 0;
}

/* A {currency, value} amount in the order's currency, in minor units. */
static int read_money(const json_t *amount, const char *currency, const char *path, int64_t *out,
                      struct beckn_nack *n)
{
    const json_t *cur = json_object_get(amount, "currency");
    if (!json_is_string(cur) || strcmp(json_string_value(cur), currency) != 0)
        return refuse(n, path, "the amount must be in %s", currency);
    if (beckn_units(json_object_get(amount, "value"), beckn_currency_exponent(currency), out) ||
        *out > BAP_MAX_AMOUNT)
        return refuse(n, path, "the amount value must be a number >= 0 and at most %lld minor "
                      "units", BAP_MAX_AMOUNT);
    return 0;
}

/* The exact Σ quantity × price (exact_milli: thousandths of a minor unit)
 * rounded once either way, or the per-line half-up sum (ours). */
static bool matches_lines(int64_t minor, int64_t exact_milli, int64_t per_line)
{
    int64_t diff = minor * 1000 - exact_milli;
    return (diff < 0 ? -diff : diff) <= 500 || minor == per_line;
}

/* The amounts: beckn:orderValue (its UNIT components, if any, are the
 * energy; the value is the total due) and beckn:payment.beckn:amount (the
 * total due). Without orderValue components the total is the energy. */
static int read_amounts(const json_t *order, struct bap_order *o, bool all_priced,
                        struct beckn_nack *n)
{
    int64_t exact = 0; /* thousandths of a minor unit */
    for (int k = 0; k < o->nlines; k++)
        exact += o->lines[k].quantity_wh * o->lines[k].price_per_kwh;
    bool check_lines = o->nlines > 0 && all_priced;
    const json_t *value = json_object_get(order, "beckn:orderValue");
    bool has_value = value != NULL, has_units = false;
    int64_t total = 0, units = 0, parts = 0;
    if (has_value) {
        if (read_money(value, o->currency, "message.order.beckn:orderValue", &total, n))
            return -1;
        size_t i;
        const json_t *c;
        json_array_foreach(json_object_get(value, "components"), i, c) {
            int64_t v;
            if (read_money(c, o->currency, "message.order.beckn:orderValue.components", &v, n))
                return -1;
            parts += v;
            if (parts > BAP_MAX_AMOUNT) /* more than any total: refused before a sum overflows */
                return refuse(n, "message.order.beckn:orderValue.components",
                              "the components add up to more than %lld minor units",
                              BAP_MAX_AMOUNT);
            const json_t *type = json_object_get(c, "type");
            if (json_is_string(type) && strcmp(json_string_value(type), "UNIT") == 0) {
                units += v;
                has_units = true;
            }
        }
        if (json_array_size(json_object_get(value, "components")) && parts != total)
            return refuse(n, "message.order.beckn:orderValue.value",
                          "the orderValue is %lld minor units but its components add up to %lld",
                          (long long)total, (long long)parts);
        int64_t energy = has_units ? units : total;
        if (check_lines && !matches_lines(energy, exact, o->lines_amount))
            return refuse(n, has_units ? "message.order.beckn:orderValue.components"
                                       : "message.order.beckn:orderValue.value",
                          "the energy is priced %lld minor units but quantity x price adds up "
                          "to %lld", (long long)energy, (long long)o->lines_amount);
    }
    const json_t *payment =
        json_object_get(json_object_get(order, "beckn:payment"), "beckn:amount");
    bool refunding = strcmp(o->payment_status, "REFUNDED") == 0 ||
                     strcmp(o->payment_status, "CANCELLED") == 0;
    if (payment && refunding) { /* the amount is what goes back to the buyer */
        if (read_money(payment, o->currency, "message.order.beckn:payment.beckn:amount",
                       &o->refund, n))
            return -1;
        if (has_value && o->refund > total)
            return refuse(n, "message.order.beckn:payment.beckn:amount.value",
                          "the refund of %lld minor units is more than the order's %lld",
                          (long long)o->refund, (long long)total);
        o->has_refund = true;
        payment = NULL;
    }
    /* after delivery the payment is what was delivered: at most the order */
    bool settled = strcmp(o->payment_status, "COMPLETED") == 0 ||
                   strcmp(o->payment_status, "PAID") == 0;
    if (payment && settled && has_value) {
        int64_t paid;
        if (read_money(payment, o->currency, "message.order.beckn:payment.beckn:amount", &paid, n))
            return -1;
        if (paid > total)
            return refuse(n, "message.order.beckn:payment.beckn:amount.value",
                          "the settled payment of %lld minor units is more than the order's %lld",
                          (long long)paid, (long long)total);
        total = paid;
        payment = NULL;
    }
    if (payment) {
        int64_t paid;
        if (read_money(payment, o->currency, "message.order.beckn:payment.beckn:amount", &paid, n))
            return -1;
        if (has_value ? paid != total : check_lines && !matches_lines(paid, exact, o->lines_amount))
            return refuse(n, "message.order.beckn:payment.beckn:amount.value",
                          "the payment amount is %lld minor units but the order adds up to %lld",
                          (long long)paid, (long long)(has_value ? total : o->lines_amount));
        total = paid;
    }
    o->has_amount = has_value || payment;
    o->amount = total;
    return 0;
}

int bap_order_read(const json_t *order, const char *currency, struct bap_order *o,
                   struct beckn_nack *n)
{
    memset(o, 0, sizeof *o);
    if (!json_is_object(order))
        return refuse(n, "message.order", "message.order must be an object");
    snprintf(o->currency, sizeof o->currency, "%s", currency);
    copy_str(json_object_get(order, "beckn:id"), o->order_id, sizeof o->order_id);
    copy_str(json_object_get(order, "beckn:orderStatus"), o->status, sizeof o->status);
    copy_str(json_object_get(json_object_get(order, "beckn:payment"), "beckn:paymentStatus"),
             o->payment_status, sizeof o->payment_status);
    const json_t *items = json_object_get(order, "beckn:orderItems");
    if (items && (!json_is_array(items) || json_array_size(items) > BAP_ORDER_MAX_LINES))
        return refuse(n, "message.order.beckn:orderItems", "beckn:orderItems must be an array of "
                      "at most %d lines", BAP_ORDER_MAX_LINES);
    size_t i;
    const json_t *it;
    bool all_priced = true;
    json_array_foreach(items, i, it) {
        struct bap_line *l = &o->lines[o->nlines];
        if (read_line(it, (int)i, currency, l, n))
            return -1;
        o->nlines++;
        o->lines_quantity_wh += l->quantity_wh;
        all_priced = all_priced && l->has_price;
        if (l->has_price)
            o->lines_amount += bap_line_amount(l->quantity_wh, l->price_per_kwh);
    }
    const json_t *total =
        json_object_get(json_object_get(order, "beckn:orderAttributes"), "total_quantity");
    if (total) {
        if (beckn_units(total, 3, &o->total_quantity_wh))
            return refuse(n, "message.order.beckn:orderAttributes.total_quantity",
                          "total_quantity must be a number of kWh");
        o->has_total_quantity = true;
        if (o->nlines && o->total_quantity_wh != o->lines_quantity_wh)
            return refuse(n, "message.order.beckn:orderAttributes.total_quantity",
                          "total_quantity is %lld Wh but the lines add up to %lld Wh",
                          (long long)o->total_quantity_wh, (long long)o->lines_quantity_wh);
    }
    if (read_amounts(order, o, all_priced, n))
        return -1;
    return 0;
}
