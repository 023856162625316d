/* packs.c - DEG energy pack validation (packs.h). */
#include "gateway/beckn/packs.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/p2p_time.h"

/* A JSON path being built while walking the order, e.g.
 * "message.order.beckn:orderItems[1].beckn:quantity". */
struct path {
    char text[256];
    size_t len;
};

static size_t push(struct path *p, const char *fmt, ...)
{
    size_t mark = p->len;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(p->text + p->len, sizeof p->text - p->len, fmt, ap);
    va_end(ap);
    if (n > 0)
        p->len = p->len + (size_t)n < sizeof p->text ? p->len + (size_t)n : sizeof p->text - 1;
    return mark;
}

static void pop(struct path *p, size_t mark)
{
    p->len = mark;
    p->text[mark] = '\0';
}

__attribute__((format(printf, 5, 6)))
static int fail(struct beckn_nack *n, const struct path *p, const char *key, const char *code,
                const char *fmt, ...)
{
    va_list ap;
    n->http_status = 400;
    snprintf(n->code, sizeof n->code, "%s", code);
    snprintf(n->paths, sizeof n->paths, "%s%s%s", p->text, key ? "." : "", key ? key : "");
    va_start(ap, fmt);
    vsnprintf(n->message, sizeof n->message, fmt, ap);
    va_end(ap);
    return -1;
}

bool beckn_utc_time(const char *text)
{
    int64_t ms;
    size_t len = strlen(text);
    return len >= 20 && text[10] == 'T' && text[len - 1] == 'Z' && p2p_time_parse(text, &ms) == 0;
}

static bool one_of(const char *s, const char *const *values)
{
    for (; *values; values++)
        if (strcmp(s, *values) == 0)
            return true;
    return false;
}

static const char *const ORDER_STATUS[] = {
    "CREATED", "PENDING", "CONFIRMED", "INPROGRESS", "PARTIALLYFULFILLED", "COMPLETED",
    "CANCELLED", "REJECTED", "FAILED", "RETURNED", "REFUNDED", "ONHOLD", NULL};
static const char *const PAYMENT_STATUS[] = {
    "INITIATED", "PENDING", "AUTHORIZED", "CAPTURED", "COMPLETED", "FAILED", "CANCELLED",
    "REFUNDED", "PARTIALLY_REFUNDED", "CHARGEBACK", "DISPUTED", "EXPIRED", "REVERSED", "VOIDED",
    "SETTLED", "ON_HOLD", "ADJUSTED", NULL};
static const char *const PRICING_MODEL[] = {"PER_KWH", "TIME_OF_DAY", "SUBSCRIPTION", "FIXED", NULL};
static const char *const SETTLEMENT_TYPE[] = {"REAL_TIME", "HOURLY", "DAILY", "WEEKLY", "MONTHLY",
                                              NULL};
static const char *const DELIVERY_MODE[] = {"EV_CHARGING", "BATTERY_SWAP", "V2G", "GRID_INJECTION",
                                            NULL};
static const char *const DELIVERY_STATUS[] = {"PENDING", "IN_PROGRESS", "COMPLETED", "FAILED", NULL};
static const char *const CURTAILMENT_REASON[] = {"GRID_OUTAGE", "EMERGENCY", "CONGESTION",
                                                 "MAINTENANCE", "OTHER", NULL};
static const char *const ENERGY_UNIT[] = {"kWh", "MWh", "Wh", NULL};

static int only_keys(const json_t *o, const char *const *allowed, const char *pack,
                     const struct path *p, struct beckn_nack *n)
{
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)o, key, v) {
        if (!one_of(key, allowed))
            return fail(n, p, key, "30000", "%s does not allow the key '%s'", pack, key);
    }
    return 0;
}

static int string_in(const json_t *o, const char *key, const char *const *values, bool required,
                     const struct path *p, struct beckn_nack *n)
{
    const json_t *v = json_object_get(o, key);
    if (!v)
        return required ? fail(n, p, key, "30000", "%s is required", key) : 0;
    if (!json_is_string(v))
        return fail(n, p, key, "30000", "%s must be a string", key);
    if (values && !one_of(json_string_value(v), values))
        return fail(n, p, key, "30000", "%s '%s' is not one of the allowed values", key,
                    json_string_value(v));
    return 0;
}

static int number(const json_t *o, const char *key, bool required, const struct path *p,
                  struct beckn_nack *n)
{
    const json_t *v = json_object_get(o, key);
    if (!v)
        return required ? fail(n, p, key, "30000", "%s is required", key) : 0;
    if (!json_is_number(v) || json_number_value(v) < 0)
        return fail(n, p, key, "30000", "%s must be a number >= 0", key);
    return 0;
}

/* "@context" (http(s) URI) and "@type" (= type when given). */
static int bag(const json_t *o, const char *type, const struct path *p, struct beckn_nack *n)
{
    if (!json_is_object(o))
        return fail(n, p, NULL, "30000", "an attribute bag must be an object");
    const json_t *ctx = json_object_get(o, "@context");
    const json_t *t = json_object_get(o, "@type");
    if (!json_is_string(ctx) || (strncmp(json_string_value(ctx), "https://", 8) &&
                                 strncmp(json_string_value(ctx), "http://", 7)))
        return fail(n, p, "@context", "30000", "@context must be the pack's context URI");
    if (!json_is_string(t))
        return fail(n, p, "@type", "30000", "@type is required");
    if (type && strcmp(json_string_value(t), type) != 0)
        return fail(n, p, "@type", "40007", "@type '%s' is not supported here (expected %s)",
                    json_string_value(t), type);
    return 0;
}

static int time_period(const json_t *o, const char *key, bool utc_required, const struct path *p,
                       struct beckn_nack *n)
{
    const json_t *tp = json_object_get(o, key);
    if (!tp)
        return 0;
    if (!json_is_object(tp))
        return fail(n, p, key, "30000", "%s must be a TimePeriod object", key);
    static const char *const keys[] = {"schema:startTime", "schema:endTime", "schema:startDate",
                                       "schema:endDate", NULL};
    for (int i = 0; keys[i]; i++) {
        const json_t *t = json_object_get(tp, keys[i]);
        if (!t)
            continue;
        if (!json_is_string(t) || (utc_required && !beckn_utc_time(json_string_value(t))))
            return fail(n, p, key, "30000", "%s.%s must be a UTC date-time ending in Z", key,
                        keys[i]);
    }
    return 0;
}

static int energy_customer(const json_t *o, struct path *p, struct beckn_nack *n)
{
    static const char *const keys[] = {"@context", "@type", "meterId", "sanctionedLoad",
                                       "utilityCustomerId", "utilityId", NULL};
    return bag(o, "EnergyCustomer", p, n) || only_keys(o, keys, "EnergyCustomer", p, n) ||
           string_in(o, "meterId", NULL, true, p, n) || number(o, "sanctionedLoad", false, p, n) ||
           string_in(o, "utilityCustomerId", NULL, false, p, n) ||
           string_in(o, "utilityId", NULL, false, p, n);
}

static int meter_reading(const json_t *r, struct path *p, struct beckn_nack *n)
{
    static const char *const keys[] = {"beckn:timeWindow", "consumedEnergy", "producedEnergy",
                                       "allocatedEnergy", "unit", NULL};
    if (!json_is_object(r))
        return fail(n, p, NULL, "30000", "a meter reading must be an object");
    if (!json_object_get(r, "beckn:timeWindow"))
        return fail(n, p, "beckn:timeWindow", "30000", "beckn:timeWindow is required");
    return only_keys(r, keys, "a meter reading", p, n) ||
           time_period(r, "beckn:timeWindow", true, p, n) ||
           number(r, "allocatedEnergy", true, p, n) || number(r, "consumedEnergy", false, p, n) ||
           number(r, "producedEnergy", false, p, n) ||
           string_in(r, "unit", ENERGY_UNIT, true, p, n);
}

static int energy_delivery(const json_t *o, struct path *p, struct beckn_nack *n)
{
    static const char *const keys[] = {
        "@context",          "@type",          "deliveryStatus",    "deliveryMode",
        "deliveredQuantity", "meterReadings",  "curtailedQuantity", "curtailmentReason",
        "lastUpdated",       NULL};
    if (bag(o, "EnergyTradeDelivery", p, n) || only_keys(o, keys, "EnergyTradeDelivery", p, n) ||
        string_in(o, "deliveryStatus", DELIVERY_STATUS, false, p, n) ||
        string_in(o, "deliveryMode", DELIVERY_MODE, false, p, n) ||
        number(o, "deliveredQuantity", false, p, n) || number(o, "curtailedQuantity", false, p, n) ||
        string_in(o, "curtailmentReason", CURTAILMENT_REASON, false, p, n) ||
        string_in(o, "lastUpdated", NULL, false, p, n))
        return -1;
    const json_t *last = json_object_get(o, "lastUpdated");
    if (last && !beckn_utc_time(json_string_value(last)))
        return fail(n, p, "lastUpdated", "30000", "lastUpdated must be a UTC date-time ending in Z");
    const json_t *readings = json_object_get(o, "meterReadings");
    if (readings && !json_is_array(readings))
        return fail(n, p, "meterReadings", "30000", "meterReadings must be an array");
    size_t i;
    const json_t *r;
    json_array_foreach(readings, i, r) {
        size_t mark = push(p, ".meterReadings[%zu]", i);
        if (meter_reading(r, p, n))
            return -1;
        pop(p, mark);
    }
    return 0;
}

static int energy_order_item(const json_t *o, struct path *p, struct beckn_nack *n)
{
    static const char *const keys[] = {"@context", "@type", "providerAttributes",
                                       "fulfillmentAttributes", NULL};
    if (bag(o, "EnergyOrderItem", p, n) || only_keys(o, keys, "EnergyOrderItem", p, n))
        return -1;
    const json_t *customer = json_object_get(o, "providerAttributes");
    if (!customer)
        return fail(n, p, "providerAttributes", "30000", "providerAttributes is required");
    size_t mark = push(p, ".providerAttributes");
    if (energy_customer(customer, p, n))
        return -1;
    pop(p, mark);
    const json_t *delivery = json_object_get(o, "fulfillmentAttributes");
    if (delivery) {
        mark = push(p, ".fulfillmentAttributes");
        if (energy_delivery(delivery, p, n))
            return -1;
        pop(p, mark);
    }
    return 0;
}

static int energy_trade_offer(const json_t *o, struct path *p, struct beckn_nack *n)
{
    static const char *const keys[] = {
        "@context",        "@type",           "pricingModel",   "settlementType",
        "sourceMeterId",   "wheelingCharges", "minimumQuantity", "maximumQuantity",
        "validityWindow",  "timeOfDayRates",  "beckn:price",     "beckn:maxQuantity",
        "beckn:timeWindow", NULL};
    return bag(o, "EnergyTradeOffer", p, n) || only_keys(o, keys, "EnergyTradeOffer", p, n) ||
           string_in(o, "pricingModel", PRICING_MODEL, true, p, n) ||
           string_in(o, "settlementType", SETTLEMENT_TYPE, false, p, n) ||
           number(o, "minimumQuantity", false, p, n) || number(o, "maximumQuantity", false, p, n) ||
           time_period(o, "validityWindow", true, p, n) ||
           time_period(o, "beckn:timeWindow", true, p, n);
}

static int order_attributes(const json_t *o, struct path *p, struct beckn_nack *n)
{
    if (bag(o, NULL, p, n))
        return -1;
    const char *type = json_string_value(json_object_get(o, "@type"));
    bool inter = strcmp(type, "EnergyTradeOrderInterUtility") == 0;
    if (!inter && strcmp(type, "EnergyTradeOrder") != 0)
        return fail(n, p, "@type", "40007",
                    "@type '%s' is not supported here (EnergyTradeOrder or "
                    "EnergyTradeOrderInterUtility)", type);
    return string_in(o, "bap_id", NULL, true, p, n) || string_in(o, "bpp_id", NULL, true, p, n) ||
           number(o, "total_quantity", false, p, n) ||
           (inter && (string_in(o, "utilityIdBuyer", NULL, true, p, n) ||
                      string_in(o, "utilityIdSeller", NULL, true, p, n)));
}

static int payment_settlement(const json_t *o, struct path *p, struct beckn_nack *n)
{
    static const char *const keys[] = {"@context", "@type", "settlementAccounts", "description",
                                       NULL};
    static const char *const account_keys[] = {"beneficiaryId", "accountHolderName",
                                               "accountNumber", "ifscCode", "bankName", "vpa",
                                               "paymentURL", NULL};
    if (bag(o, "PaymentSettlement", p, n) || only_keys(o, keys, "PaymentSettlement", p, n))
        return -1;
    const json_t *accounts = json_object_get(o, "settlementAccounts");
    if (accounts && !json_is_array(accounts))
        return fail(n, p, "settlementAccounts", "30000", "settlementAccounts must be an array");
    size_t i;
    const json_t *a;
    json_array_foreach(accounts, i, a) {
        size_t mark = push(p, ".settlementAccounts[%zu]", i);
        if (!json_is_object(a))
            return fail(n, p, NULL, "30000", "a settlement account must be an object");
        if (only_keys(a, account_keys, "a settlement account", p, n))
            return -1;
        pop(p, mark);
    }
    return 0;
}

static int order_item(const json_t *item, struct path *p, struct beckn_nack *n)
{
    if (!json_is_object(item))
        return fail(n, p, NULL, "30000", "an order item must be an object");
    const json_t *attrs = json_object_get(item, "beckn:orderItemAttributes");
    if (attrs) {
        size_t mark = push(p, ".beckn:orderItemAttributes");
        if (energy_order_item(attrs, p, n))
            return -1;
        pop(p, mark);
    }
    const json_t *offer = json_object_get(item, "beckn:acceptedOffer");
    const json_t *offer_attrs = json_is_object(offer) ? json_object_get(offer, "beckn:offerAttributes")
                                                      : NULL;
    if (offer_attrs) {
        size_t mark = push(p, ".beckn:acceptedOffer.beckn:offerAttributes");
        if (energy_trade_offer(offer_attrs, p, n))
            return -1;
        pop(p, mark);
    }
    return 0;
}

int beckn_check_order_packs(const json_t *order, struct beckn_nack *n)
{
    struct path p = {.len = 0};
    push(&p, "message.order");
    if (string_in(order, "beckn:orderStatus", ORDER_STATUS, false, &p, n))
        return -1;
    const json_t *attrs = json_object_get(order, "beckn:orderAttributes");
    if (attrs) {
        size_t mark = push(&p, ".beckn:orderAttributes");
        if (order_attributes(attrs, &p, n))
            return -1;
        pop(&p, mark);
    }
    const json_t *items = json_object_get(order, "beckn:orderItems");
    size_t i;
    const json_t *item;
    json_array_foreach(items, i, item) {
        size_t mark = push(&p, ".beckn:orderItems[%zu]", i);
        if (order_item(item, &p, n))
            return -1;
        pop(&p, mark);
    }
    const json_t *payment = json_object_get(order, "beckn:payment");
    if (payment) {
        size_t mark = push(&p, ".beckn:payment");
        if (!json_is_object(payment))
            return fail(n, &p, NULL, "30000", "beckn:payment must be an object");
        if (string_in(payment, "beckn:paymentStatus", PAYMENT_STATUS, true, &p, n))
            return -1;
        const json_t *pa = json_object_get(payment, "beckn:paymentAttributes");
        if (pa) {
            push(&p, ".beckn:paymentAttributes");
            if (payment_settlement(pa, &p, n))
                return -1;
        }
        pop(&p, mark);
    }
    return 0;
}
