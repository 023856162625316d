/* bap_api.h - what the parts of the buyers' network API share: finding an
 * offer our buyer discovered (bap_api_discover.c) to order it
 * (bap_api_orders.c), and the order views (bap_order_views.c). */
#ifndef P2P_BECKN_BAP_API_H
#define P2P_BECKN_BAP_API_H

#include <civetweb.h>
#include <jansson.h>
#include <libpq-fe.h>

/* A discovered offer, as the buyer saw it in an on_discover answer. */
struct bap_found_offer {
    json_t *offer;           /* the beckn:Offer (new reference) */
    char item_id[256];
    char bpp_uri[512];
    char seller[256];        /* beckn:provider */
    char currency[8];
    int64_t price_per_kwh;   /* minor units */
    int64_t min_wh, max_wh;  /* max -1: unknown */
};

/* Looks offer_id (and item_id if not empty) of bpp_id up in the on_discover
 * answers of user's recent discoveries (newest first). Returns 1 found
 * (release f->offer), 0 not found, -1 database error. */
int bap_find_offer(PGconn *db, const char *user, const char *bpp_id, const char *offer_id,
                   const char *item_id, struct bap_found_offer *f);

/* Answers `status` with the owner's order (404 if absent or not theirs,
 * 503 if it cannot be read) (bap_order_views.c). With a claim_id (an
 * Idempotency-Key's, else NULL) the answer is kept for the key's retries. */
int bap_reply_order(struct mg_connection *c, int status, const char *order_id, const char *user,
                    const char *claim_id);

/* Answers 200 {"orders": [...]} with the user's latest 100 network orders. */
int bap_list_orders(struct mg_connection *c, const char *user);

#endif
