/* bap_api_discover.c - POST /api/network/discover for our buyers: a signed
 * discover to the configured CDS (BECKN_CDS_URL, default our own /beckn),
 * then a bounded wait for its on_discover (bap_callbacks.c records it), and
 * the offers found, flattened, with the catalogs as received. Also the
 * offer lookup the order endpoints use (bap_api.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/p2p_id.h"
#include "common/p2p_json.h"
#include "common/p2p_time.h"
#include "gateway/auth.h"
#include "gateway/beckn/bap.h"
#include "gateway/beckn/bap_api.h"
#include "gateway/beckn/bap_order.h"
#include "gateway/beckn/bap_send.h"
#include "gateway/beckn/jsonpath.h"
#include "gateway/beckn/units.h"
#include "gateway/http.h"
#include "gateway/pg_pool.h"

#define RECENT_ANSWERS 20

static const char *string_of(const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);
    return json_is_string(v) ? json_string_value(v) : "";
}

static const json_t *find_by_id(const json_t *list, const char *id)
{
    size_t i;
    const json_t *e;
    json_array_foreach(list, i, e)
        if (strcmp(string_of(e, "beckn:id"), id) == 0)
            return e;
    return NULL;
}

static const char *offer_item(const json_t *offer)
{
    const json_t *first = json_array_get(json_object_get(offer, "beckn:items"), 0);
    return json_is_string(first) ? json_string_value(first) : "";
}

/* Searches one answer's catalogs. Returns 1 found. */
static int search_catalogs(const json_t *catalogs, const char *bpp_id, const char *offer_id,
                           const char *item_id, struct bap_found_offer *f)
{
    size_t i;
    const json_t *cat;
    json_array_foreach(catalogs, i, cat) {
        if (strcmp(string_of(cat, "beckn:bppId"), bpp_id) != 0)
            continue;
        const json_t *offer = find_by_id(json_object_get(cat, "beckn:offers"), offer_id);
        const char *item = item_id[0] ? item_id : offer_item(offer);
        const json_t *it = find_by_id(json_object_get(cat, "beckn:items"), item);
        if (!offer || !it || bap_offer_price(offer, &f->price_per_kwh, f->currency))
            continue;
        snprintf(f->item_id, sizeof f->item_id, "%s", item);
        snprintf(f->bpp_uri, sizeof f->bpp_uri, "%s", string_of(cat, "beckn:bppUri"));
        const json_t *provider = json_object_get(offer, "beckn:provider");
        snprintf(f->seller, sizeof f->seller, "%s",
                 json_is_string(provider) ? json_string_value(provider)
                                          : string_of(json_object_get(it, "beckn:provider"),
                                                      "beckn:id"));
        bap_offer_bounds(offer, &f->min_wh, &f->max_wh);
        f->offer = json_incref((json_t *)offer);
        return 1;
    }
    return 0;
}

int bap_find_offer(PGconn *db, const char *user, const char *bpp_id, const char *offer_id,
                   const char *item_id, struct bap_found_offer *f)
{
    memset(f, 0, sizeof *f);
    char limit[8];
    snprintf(limit, sizeof limit, "%d", RECENT_ANSWERS);
    const char *params[] = {user, limit};
    PGresult *r = beckn_bap_exec(db, "bap find offer",
                                 "select a.catalogs from beckn_discovery_answers a join "
                                 "beckn_discoveries d using (transaction_id) where d.user_id = $1 "
                                 "order by a.received_at_ms desc limit $2::int", 2, params);
    if (!r)
        return -1;
    int found = 0;
    for (int i = 0; i < PQntuples(r) && !found; i++) {
        json_t *catalogs = json_loads(PQgetvalue(r, i, 0), 0, NULL);
        found = search_catalogs(catalogs, bpp_id, offer_id, item_id, f);
        json_decref(catalogs);
    }
    PQclear(r);
    return found;
}

/* ---------------------------------------------------------------- discover */

static json_t *flat_offer(const json_t *cat, const json_t *offer)
{
    const json_t *it = find_by_id(json_object_get(cat, "beckn:items"), offer_item(offer));
    const json_t *attrs = json_object_get(it, "beckn:itemAttributes");
    const json_t *window =
        json_object_get(json_object_get(offer, "beckn:offerAttributes"), "beckn:timeWindow");
    int64_t price = 0, min_wh, max_wh;
    char currency[8] = "";
    if (bap_offer_price(offer, &price, currency))
        return NULL;
    bap_offer_bounds(offer, &min_wh, &max_wh);
    const json_t *provider = json_object_get(offer, "beckn:provider");
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:s, s:I, s:o, s:s, s:s}", "bpp_id",
                     string_of(cat, "beckn:bppId"), "bpp_uri", string_of(cat, "beckn:bppUri"),
                     "seller", json_is_string(provider) ? json_string_value(provider) : "",
                     "item_id", offer_item(offer), "offer_id", string_of(offer, "beckn:id"),
                     "source_type", string_of(attrs, "sourceType"), "price_per_kwh",
                     (json_int_t)price, "currency", currency, "min_quantity_wh",
                     (json_int_t)min_wh, "max_quantity_wh",
                     max_wh >= 0 ? json_integer(max_wh) : json_null(), "delivery_start",
                     string_of(window, "schema:startTime"), "delivery_end",
                     string_of(window, "schema:endTime"));
}

static json_t *answers_view(PGconn *db, const char *transaction_id)
{
    const char *params[] = {transaction_id};
    PGresult *r = beckn_bap_exec(db, "bap answers",
                                 "select catalogs from beckn_discovery_answers where "
                                 "transaction_id = $1 order by received_at_ms", 1, params);
    if (!r)
        return NULL;
    json_t *catalogs = json_array(), *offers = json_array();
    for (int i = 0; i < PQntuples(r); i++) {
        json_t *got = json_loads(PQgetvalue(r, i, 0), 0, NULL);
        size_t k, j;
        json_t *cat, *offer;
        json_array_foreach(got, k, cat) {
            json_array_append(catalogs, cat);
            json_array_foreach(json_object_get(cat, "beckn:offers"), j, offer) {
                json_t *flat = flat_offer(cat, offer);
                if (flat)
                    json_array_append_new(offers, flat);
            }
        }
        json_decref(got);
    }
    int answers = PQntuples(r);
    PQclear(r);
    return json_pack("{s:s, s:b, s:o, s:o}", "transaction_id", transaction_id, "answered",
                     answers > 0, "offers", offers, "catalogs", catalogs);
}

/* Reads the optional "expression" of the request; 400 answered on error. */
static int read_request(struct mg_connection *c, const struct beckn_bap *bap, char **expression)
{
    char *raw;
    size_t len;
    *expression = NULL;
    int status = http_read_body(c, bap->cfg->max_body_bytes, &raw, &len);
    if (status)
        return status;
    if (len == 0) {
        free(raw);
        return 0;
    }
    struct p2p_violation v;
    json_t *body = p2p_json_parse_object(raw, len, &v);
    free(raw);
    if (!body)
        return http_reply_violation(c, 400, &v);
    const char *key;
    json_t *val;
    json_object_foreach(body, key, val)
        if (strcmp(key, "expression") != 0) { /* answer before the key is freed */
            int st = http_reply_error(c, 400, "unknown_field", key,
                                      "%s is not a field of a discover", key);
            json_decref(body);
            return st;
        }
    const json_t *e = json_object_get(body, "expression");
    if (e && !json_is_null(e)) {
        struct jsonpath_filter *f = NULL;
        char err[200];
        if (!json_is_string(e)) {
            json_decref(body);
            return http_reply_error(c, 400, "wrong_type", "expression",
                                    "expression must be a JSONPath string");
        }
        if (jsonpath_parse(json_string_value(e), json_string_length(e), &f, err, sizeof err)) {
            json_decref(body);
            return http_reply_error(c, 400, "invalid_field", "expression", "expression: %s", err);
        }
        jsonpath_free(f);
        *expression = strdup(json_string_value(e));
        if (!*expression) {
            json_decref(body);
            return http_reply_error(c, 503, "unavailable", NULL, "out of memory, retry later");
        }
    }
    json_decref(body);
    return 0;
}

int bap_api_discover(struct mg_connection *c, void *cbdata)
{
    const struct beckn_bap *bap = cbdata;
    if (strcmp(mg_get_request_info(c)->request_method, "POST") != 0)
        return http_reply_error(c, 405, "method_not_allowed", NULL, "use POST");
    char user[USER_ID_BUF];
    int status = auth_require_user(c, bap->cfg, user);
    if (status)
        return status;
    if (!bap->node->configured)
        return http_reply_error(c, 503, "unavailable", NULL, "Beckn is not configured here");
    char *expression;
    if ((status = read_request(c, bap, &expression)))
        return status;
    char txn[P2P_UUID_BUF], msg[P2P_UUID_BUF], now[24];
    p2p_uuid(txn);
    int64_t now_ms = p2p_now_ms();
    snprintf(now, sizeof now, "%lld", (long long)now_ms);
    const struct beckn_node *node = bap->node;
    json_t *message = expression ? json_pack("{s:{s:s, s:s}}", "filters", "type", "jsonpath",
                                             "expression", expression)
                                 : json_object();
    char *body = beckn_body(beckn_context_new(&bap->settings, "discover", node->key.subscriber_id,
                                              node->subscriber_uri, NULL, NULL, txn, now_ms, msg),
                            message);
    const char *params[] = {txn, msg, user, bap->settings.cds_url, expression, now};
    PGconn *db = body ? pg_pool_get(BECKN_BAP_PG_WAIT_MS) : NULL;
    PGresult *r = db ? beckn_bap_exec(db, "bap discovery",
                                      "insert into beckn_discoveries (transaction_id, message_id, "
                                      "user_id, cds_url, expression, sent_at_ms) values ($1, $2, "
                                      "$3, $4, $5, $6::bigint)", 6, params)
                     : NULL;
    if (db)
        pg_pool_put(db);
    free(expression);
    if (!r) {
        free(body);
        return http_reply_error(c, 503, "unavailable", NULL, "nothing was sent, retry later");
    }
    PQclear(r);
    struct beckn_post_result res;
    int rc = bap_post(bap, bap->settings.cds_url, "discover", body, &res);
    free(body);
    if (rc)
        return bap_reply_post_failure(c, &res);
    bap_wait(bap, "select exists (select 1 from beckn_discovery_answers where transaction_id = $1)",
             txn);
    db = pg_pool_get(BECKN_BAP_PG_WAIT_MS);
    json_t *view = db ? answers_view(db, txn) : NULL;
    if (db)
        pg_pool_put(db);
    if (!view)
        return http_reply_error(c, 503, "unavailable", NULL, "the answers could not be read");
    return http_reply_json(c, 200, view);
}
