/* catalog.c - our catalog from the offers read model, and catalog filtering
 * (catalog.h). */
#include "gateway/beckn/catalog.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/p2p_time.h"
#include "gateway/beckn/units.h"

static const char *const offers_sql =
    "select offer_id, seller_id, source_type, remaining_wh, price_per_kwh, currency, "
    "min_order_wh, delivery_start_ms, delivery_end_ms, meter_id, valid_until_ms, listed_at_ms "
    "from offers where market = $1 and status = 'LISTED' and remaining_wh > 0 "
    "and delivery_start_ms - $2::bigint > $3::bigint "
    "order by seller_id, delivery_start_ms, offer_id";

enum { C_OFFER, C_SELLER, C_SOURCE, C_REMAINING, C_PRICE, C_CURRENCY, C_MIN, C_START, C_END,
       C_METER, C_VALID_UNTIL, C_LISTED };

static json_t *time_string(int64_t ms)
{
    char buf[P2P_TIME_BUF];
    p2p_time_format(ms, false, buf);
    return json_string(buf);
}

static json_t *period(int64_t start_ms, int64_t end_ms)
{
    return json_pack("{s:s, s:o, s:o}", "@type", "beckn:TimePeriod", "schema:startTime",
                     time_string(start_ms), "schema:endTime", time_string(end_ms));
}

static json_t *descriptor(const char *name)
{
    return json_pack("{s:s, s:s}", "@type", "beckn:Descriptor", "schema:name", name);
}

static int64_t col_int(PGresult *r, int row, int col)
{
    return strtoll(PQgetvalue(r, row, col), NULL, 10);
}

/* "der://meter/…" as the profile requires; our meter ids are stored bare. */
static void meter_uri(const char *meter, char *out, size_t cap)
{
    if (strncmp(meter, "der://", 6) == 0)
        snprintf(out, cap, "%s", meter);
    else
        snprintf(out, cap, "der://meter/%s", meter);
}

static json_t *item_json(PGresult *r, int row, const struct beckn_catalog_source *src)
{
    const char *offer_id = PQgetvalue(r, row, C_OFFER);
    const char *seller = PQgetvalue(r, row, C_SELLER);
    char id[160], meter[160], name[200];
    snprintf(id, sizeof id, "%s%s", BECKN_ITEM_PREFIX, offer_id);
    meter_uri(PQgetvalue(r, row, C_METER), meter, sizeof meter);
    int64_t remaining = col_int(r, row, C_REMAINING);
    snprintf(name, sizeof name, "%s energy - %lld.%03lld kWh", PQgetvalue(r, row, C_SOURCE),
             (long long)(remaining / 1000), (long long)(remaining % 1000));
    json_t *networks = json_array();
    if (networks && src->network_id && src->network_id[0])
        json_array_append_new(networks, json_string(src->network_id));
    return json_pack(
        "{s:s, s:s, s:o, s:b, s:s, s:o, s:{s:s, s:o}, "
        "s:{s:s, s:s, s:s, s:s, s:s, s:o, s:[o]}}",
        "@context", BECKN_CORE_CONTEXT, "@type", "beckn:Item", "beckn:networkId", networks,
        "beckn:isActive", 1, "beckn:id", id, "beckn:descriptor", descriptor(name),
        "beckn:provider", "beckn:id", seller, "beckn:descriptor", descriptor(seller),
        "beckn:itemAttributes", "@context", BECKN_PACK_CONTEXT("EnergyResource/v0.2"), "@type",
        "EnergyResource", "sourceType", PQgetvalue(r, row, C_SOURCE), "deliveryMode",
        "GRID_INJECTION", "meterId", meter, "availableQuantity", beckn_decimal(remaining, 3),
        "productionWindow", period(col_int(r, row, C_START), col_int(r, row, C_END)));
}

static json_t *offer_json(PGresult *r, int row, const struct beckn_catalog_source *src)
{
    const char *offer_id = PQgetvalue(r, row, C_OFFER);
    const char *currency = PQgetvalue(r, row, C_CURRENCY);
    char item[160], meter[160], name[200];
    snprintf(item, sizeof item, "%s%s", BECKN_ITEM_PREFIX, offer_id);
    meter_uri(PQgetvalue(r, row, C_METER), meter, sizeof meter);
    snprintf(name, sizeof name, "%s energy offer", PQgetvalue(r, row, C_SOURCE));
    int64_t start = col_int(r, row, C_START), end = col_int(r, row, C_END);
    int64_t closes = start - src->gate_closure_ms;
    if (!PQgetisnull(r, row, C_VALID_UNTIL) && col_int(r, row, C_VALID_UNTIL) < closes)
        closes = col_int(r, row, C_VALID_UNTIL);
    int64_t remaining = col_int(r, row, C_REMAINING);
    int64_t minimum = col_int(r, row, C_MIN);
    if (minimum > remaining)
        minimum = remaining;
    return json_pack(
        "{s:s, s:s, s:s, s:o, s:s, s:[s], s:{s:s, s:s, s:s, s:s, s:s, s:o, s:o, "
        "s:{s:o, s:s, s:s}, s:{s:o, s:s, s:s}, s:o, s:o}}",
        "@context", BECKN_CORE_CONTEXT, "@type", "beckn:Offer", "beckn:id", offer_id,
        "beckn:descriptor", descriptor(name), "beckn:provider", PQgetvalue(r, row, C_SELLER),
        "beckn:items", item, "beckn:offerAttributes", "@context",
        BECKN_PACK_CONTEXT("EnergyTradeOffer/v0.2"), "@type", "EnergyTradeOffer", "pricingModel",
        "PER_KWH", "settlementType", "DAILY", "sourceMeterId", meter, "minimumQuantity",
        beckn_decimal(minimum, 3), "maximumQuantity", beckn_decimal(remaining, 3), "beckn:price",
        "value", beckn_decimal(col_int(r, row, C_PRICE), beckn_currency_exponent(currency)),
        "currency", currency, "unitText", "kWh", "beckn:maxQuantity", "unitQuantity",
        beckn_decimal(remaining, 3), "unitText", "kWh", "unitCode", "KWH", "validityWindow",
        period(col_int(r, row, C_LISTED), closes), "beckn:timeWindow", period(start, end));
}

json_t *beckn_catalog_build(PGconn *db, const struct beckn_catalog_source *src, int64_t now_ms,
                            char *err, size_t errlen)
{
    char gate[24], now[24];
    snprintf(gate, sizeof gate, "%lld", (long long)src->gate_closure_ms);
    snprintf(now, sizeof now, "%lld", (long long)now_ms);
    const char *params[] = {src->market, gate, now};
    PGresult *r = PQexecParams(db, offers_sql, 3, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        snprintf(err, errlen, "reading offers: %s", PQresultErrorMessage(r));
        PQclear(r);
        return NULL;
    }
    char id[BECKN_CATALOG_MAX_ID];
    snprintf(id, sizeof id, "%s%s", BECKN_CATALOG_PREFIX, src->bpp_id);
    int rows = PQntuples(r);
    json_t *items = json_array(), *offers = json_array();
    json_t *catalog = json_pack("{s:s, s:s, s:s, s:o, s:s, s:s, s:b, s:o, s:o}", "@context",
                                BECKN_CORE_CONTEXT, "@type", "beckn:Catalog", "beckn:id", id,
                                "beckn:descriptor", descriptor("P2P energy offers"),
                                "beckn:bppId", src->bpp_id, "beckn:bppUri", src->bpp_uri,
                                "beckn:isActive", rows > 0, "beckn:items", items,
                                "beckn:offers", offers);
    int failed = !catalog;
    for (int i = 0; i < rows && !failed; i++)
        failed = json_array_append_new(items, item_json(r, i, src)) ||
                 json_array_append_new(offers, offer_json(r, i, src));
    PQclear(r);
    if (failed) {
        json_decref(catalog);
        snprintf(err, errlen, "out of memory building the catalog");
        return NULL;
    }
    return catalog;
}

/* ---------------------------------------------------------------- filtering */

static bool offer_names_item(const json_t *offer, const char *item_id)
{
    const json_t *ids = json_object_get(offer, "beckn:items");
    size_t i;
    const json_t *id;
    json_array_foreach(ids, i, id)
        if (json_is_string(id) && strcmp(json_string_value(id), item_id) == 0)
            return true;
    return false;
}

/* Evaluates the filter on the item carrying "beckn:offers": [offer] (or []). */
static bool pair_matches(const json_t *item, const json_t *offer,
                         const struct jsonpath_filter *filter)
{
    if (!filter)
        return true;
    json_t *view = json_copy((json_t *)item); /* shallow: values shared, not modified */
    json_t *list = json_array();
    bool ok = view && list && (!offer || json_array_append((json_t *)list, (json_t *)offer) == 0) &&
              json_object_set(view, "beckn:offers", list) == 0;
    bool m = ok && jsonpath_match(filter, view);
    json_decref(list);
    json_decref(view);
    return m;
}

json_t *beckn_catalog_filter(const json_t *catalog, const struct jsonpath_filter *filter)
{
    const json_t *items = json_object_get(catalog, "beckn:items");
    if (!json_is_object(catalog) || !json_is_array(items))
        return NULL;
    const json_t *offers = json_object_get(catalog, "beckn:offers");
    json_t *kept_items = json_array();
    json_t *kept_offers = json_array();
    size_t n_offers = json_array_size(offers);
    bool *chosen = calloc(n_offers ? n_offers : 1, sizeof *chosen); /* by offer index */
    if (!chosen || !kept_items || !kept_offers) {
        free(chosen);
        json_decref(kept_items);
        json_decref(kept_offers);
        return NULL;
    }
    size_t i, j;
    const json_t *item, *offer;
    json_array_foreach(items, i, item) {
        const json_t *idv = json_object_get(item, "beckn:id");
        const char *item_id = json_is_string(idv) ? json_string_value(idv) : "";
        bool any_offer = false, matched = false;
        json_array_foreach(offers, j, offer) {
            if (!offer_names_item(offer, item_id))
                continue;
            any_offer = true;
            if (pair_matches(item, offer, filter)) {
                matched = true;
                chosen[j] = true;
            }
        }
        if (!any_offer)
            matched = pair_matches(item, NULL, filter);
        if (matched)
            json_array_append(kept_items, (json_t *)item);
    }
    json_array_foreach(offers, j, offer)
        if (chosen[j])
            json_array_append(kept_offers, (json_t *)offer);
    free(chosen);
    json_t *out = NULL;
    if (json_array_size(kept_items) > 0) {
        out = json_copy((json_t *)catalog);
        if (out && (json_object_set(out, "beckn:items", kept_items) ||
                    (offers && json_object_set(out, "beckn:offers", kept_offers)))) {
            json_decref(out);
            out = NULL;
        }
    }
    json_decref(kept_items);
    json_decref(kept_offers);
    return out;
}
