/* catalog.h - our offers as a Beckn RC catalog, and filtering catalogs.
 *
 * Purpose:    (1) build the beckn:Catalog we answer on_discover with and
 *             publish to a CDS, from the `offers` read model (status LISTED,
 *             remaining_wh > 0, delivery window not yet past gate closure):
 *             one Provider per seller, per offer one Item (EnergyResource:
 *             sourceType, deliveryMode GRID_INJECTION, meterId
 *             der://meter/…, availableQuantity kWh, productionWindow) and one
 *             Offer (EnergyTradeOffer: PER_KWH, settlementType, beckn:price
 *             per kWh, minimumQuantity, beckn:maxQuantity, beckn:timeWindow =
 *             delivery window, validityWindow until gate closure);
 *             (2) apply a discover filter to any catalog, ours or published.
 * Wire ids:   Offer beckn:id = our offer id; Item beckn:id =
 *             BECKN_ITEM_PREFIX + offer id; Provider beckn:id = seller id;
 *             catalog beckn:id = BECKN_CATALOG_PREFIX + our subscriber id.
 * Guarantees: prices and quantities are exact decimals of the integers in
 *             the read model (units.h); times are UTC "Z"; the build reads
 *             one consistent snapshot (one SELECT). Filtering never modifies
 *             its input.
 * Threading:  pure apart from the caller's PostgreSQL connection. */
#ifndef P2P_BECKN_CATALOG_H
#define P2P_BECKN_CATALOG_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>

#include "gateway/beckn/jsonpath.h"
#include "gateway/beckn/signature.h"

#define BECKN_ITEM_PREFIX "item-"
#define BECKN_CATALOG_PREFIX "catalog-"
#define BECKN_CATALOG_MAX_ID (BECKN_ID_MAX + 16)
#define BECKN_CORE_CONTEXT \
    "https://raw.githubusercontent.com/beckn/protocol-specifications-new/refs/heads/main/schema/core/v2/context.jsonld"
#define BECKN_PACK_CONTEXT(pack) \
    "https://raw.githubusercontent.com/beckn/protocol-specifications-new/refs/heads/p2p-trading/schema/" pack "/context.jsonld"

struct beckn_catalog_source {
    const char *market;        /* offers.market */
    const char *bpp_id;        /* our subscriber id */
    const char *bpp_uri;       /* our Beckn base URI */
    const char *network_id;    /* beckn:networkId of every item; NULL/"" = none */
    int64_t gate_closure_ms;   /* orders close this long before delivery starts */
};

/* Builds our catalog at now_ms. Returns a new reference (a catalog with no
 * items when nothing is for sale: "beckn:isActive" false), or NULL with err. */
json_t *beckn_catalog_build(PGconn *db, const struct beckn_catalog_source *src, int64_t now_ms,
                            char *err, size_t errlen);

/* The part of `catalog` the filter selects: each (item, offer) pair is
 * evaluated on a copy of the item carrying "beckn:offers": [that offer]
 * (an item without offers: "beckn:offers": []); the result keeps the items
 * with a matching pair and the offers of matching pairs. Returns a new
 * catalog (same other keys), or NULL when nothing matches or the catalog is
 * not an object with a beckn:items array. filter NULL selects everything. */
json_t *beckn_catalog_filter(const json_t *catalog, const struct jsonpath_filter *filter);

#endif
