/* cds.c - the Catalog Discovery Service role (beckn.md §3.4 steps 1-2, §7.1,
 * §7.2): discover answered with on_discover (our catalog and the catalogs
 * other BPPs published to us, filtered by the request's JSONPath), catalog
 * publish stored/replaced/revoked and answered with on_catalog_publish, and
 * the answer of an external CDS to our own publish. Callbacks go through the
 * outbox (delivered by p2p-beckn-worker), written before we ACK. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/p2p_log.h"
#include "common/p2p_time.h"
#include "gateway/beckn/bap.h"
#include "gateway/beckn/inbound.h"
#include "gateway/beckn/jsonpath.h"
#include "gateway/beckn/outbox.h"
#include "gateway/beckn/units.h"
#include "gateway/pg_pool.h"

#define MAX_CATALOGS_PER_PUBLISH 64

/* Reads message.filters: absent → *out NULL; else a parsed filter or a NACK. */
static int read_filter(struct mg_connection *c, const struct beckn_bap *bap, const json_t *root,
                       struct jsonpath_filter **out)
{
    *out = NULL;
    const json_t *filters = json_object_get(json_object_get(root, "message"), "filters");
    if (!filters || json_is_null(filters))
        return 0;
    if (!json_is_object(filters))
        return beckn_reply_nackf(c, bap->node, 400, "30000", "message.filters",
                                 "message.filters must be an object {type, expression}");
    const json_t *type = json_object_get(filters, "type");
    if (type && !(json_is_string(type) && strcmp(json_string_value(type), "jsonpath") == 0))
        return beckn_reply_nackf(c, bap->node, 400, "30000", "message.filters.type",
                                 "message.filters.type must be \"jsonpath\"");
    const json_t *expr = json_object_get(filters, "expression");
    if (!json_is_string(expr))
        return beckn_reply_nackf(c, bap->node, 400, "30000", "message.filters.expression",
                                 "message.filters.expression must be a JSONPath string");
    char err[200];
    if (jsonpath_parse(json_string_value(expr), json_string_length(expr), out, err, sizeof err))
        return beckn_reply_nackf(c, bap->node, 400, "30000", "message.filters.expression",
                                 "message.filters.expression: %s", err);
    return 0;
}

static int append_filtered(json_t *catalogs, const json_t *catalog,
                           const struct jsonpath_filter *filter)
{
    const json_t *active = json_object_get(catalog, "beckn:isActive");
    if (json_is_false(active))
        return 0;
    json_t *part = beckn_catalog_filter(catalog, filter);
    return part ? json_array_append_new(catalogs, part) : 0;
}

/* Our catalog and the active published ones (except our own, already in),
 * filtered. Returns a new array or NULL (logged). */
static json_t *matching_catalogs(PGconn *db, const struct beckn_bap *bap,
                                 const struct jsonpath_filter *filter, int64_t now)
{
    struct beckn_catalog_source src;
    beckn_bap_catalog_source(bap, &src);
    char err[256];
    json_t *ours = beckn_catalog_build(db, &src, now, err, sizeof err);
    if (!ours) {
        p2p_log(P2P_WARN, "cds_catalog_build_failed", "%s", err);
        return NULL;
    }
    json_t *catalogs = json_array();
    int failed = !catalogs || append_filtered(catalogs, ours, filter);
    json_decref(ours);
    const char *params[] = {bap->node->key.subscriber_id};
    PGresult *r = failed ? NULL
                         : beckn_bap_exec(db, "cds published catalogs",
                                          "select catalog from beckn_cds_catalogs where is_active "
                                          "and bpp_id <> $1 order by bpp_id, catalog_id",
                                          1, params);
    failed = failed || !r;
    for (int i = 0; !failed && i < PQntuples(r); i++) {
        json_t *cat = json_loads(PQgetvalue(r, i, 0), 0, NULL);
        failed = !cat || append_filtered(catalogs, cat, filter);
        json_decref(cat);
    }
    PQclear(r);
    if (failed) {
        json_decref(catalogs);
        return NULL;
    }
    return catalogs;
}

/* Writes the callback to the outbox. Returns 0 or -1 (logged). */
static int enqueue(PGconn *db, const char *dedupe, const char *base, const char *path,
                   const char *action, const struct beckn_context *req, char *body)
{
    char url[600], err[256];
    if (!body || beckn_url_join(base, path, url, sizeof url)) {
        free(body);
        p2p_log(P2P_WARN, "cds_callback_not_built", "%s for %s", action, req->transaction_id);
        return -1;
    }
    struct beckn_outbox_item item = {.dedupe_key = dedupe, .url = url, .action = action,
                                     .transaction_id = req->transaction_id,
                                     .message_id = req->message_id, .body = body};
    int rc = beckn_outbox_enqueue(db, &item, p2p_now_ms(), err, sizeof err);
    free(body);
    if (rc < 0)
        p2p_log(P2P_WARN, "cds_outbox_failed", "%s", err);
    return rc < 0 ? -1 : 0;
}

int cds_discover(struct mg_connection *c, void *cbdata)
{
    const struct beckn_bap *bap = cbdata;
    struct beckn_inbound in;
    int status = beckn_inbound_receive(c, bap->node, "discover", BECKN_IN_CDS_DISCOVER,
                                       BECKN_BAP_BODY_MAX, &in);
    if (status)
        return status;
    struct jsonpath_filter *filter = NULL;
    if ((status = read_filter(c, bap, in.root, &filter))) {
        beckn_inbound_release(&in);
        return status;
    }
    PGconn *db = pg_pool_get(BECKN_BAP_PG_WAIT_MS);
    json_t *catalogs = db ? matching_catalogs(db, bap, filter, in.received_ms) : NULL;
    jsonpath_free(filter);
    int rc = -1;
    if (catalogs) {
        char dedupe[400];
        snprintf(dedupe, sizeof dedupe, "cds/on_discover/%s/%s", in.auth.subscriber_id,
                 in.ctx.message_id);
        char *body = beckn_body(beckn_context_reply(&bap->settings, &in.ctx, "on_discover",
                                                    p2p_now_ms()),
                                json_pack("{s:o}", "catalogs", catalogs));
        rc = enqueue(db, dedupe, in.ctx.bap_uri, "on_discover", "on_discover", &in.ctx, body);
    }
    if (db)
        pg_pool_put(db);
    if (rc)
        status = beckn_reply_nackf(c, bap->node, 503, "50000", "",
                                   "the catalog could not be read, retry later");
    else
        status = beckn_reply_ack(c);
    beckn_inbound_release(&in);
    return status;
}

/* ---------------------------------------------------------------- publish */

struct publish_check {
    json_t *result;   /* {catalog_id, status, item_count, warnings|error} */
    json_t *stored;   /* the catalog to store (new reference), NULL if rejected */
    bool active;
};

static json_t *rejection(const char *id, const char *path, const char *message)
{
    return json_pack("{s:s, s:s, s:i, s:{s:s, s:s, s:s}}", "catalog_id", id, "status", "REJECTED",
                     "item_count", 0, "error", "code", "30000", "paths", path, "message",
                     message);
}

/* Keeps the entries of `list` (items or offers) that have a string beckn:id
 * and, for items, an itemAttributes object / for offers, an items array. */
static json_t *valid_entries(const json_t *list, const char *needed, json_t *warnings, int index,
                             const char *what)
{
    json_t *kept = json_array();
    size_t i;
    const json_t *e;
    json_array_foreach(list, i, e) {
        if (json_is_object(e) && json_is_string(json_object_get(e, "beckn:id")) &&
            (json_is_object(json_object_get(e, needed)) ||
             json_is_array(json_object_get(e, needed)))) {
            json_array_append(kept, (json_t *)e);
            continue;
        }
        char msg[200];
        snprintf(msg, sizeof msg, "message.catalogs[%d].%s[%zu] has no beckn:id or no %s; left out",
                 index, what, i, needed);
        json_array_append_new(warnings, json_pack("{s:s, s:s}", "code", "30000", "message", msg));
    }
    return kept;
}

static void check_catalog(const json_t *cat, int index, const struct beckn_inbound *in,
                          struct publish_check *out)
{
    memset(out, 0, sizeof *out);
    char path[96];
    const json_t *idv = json_object_get(cat, "beckn:id");
    const char *id = json_is_string(idv) ? json_string_value(idv) : "";
    if (!json_is_object(cat) || !json_is_string(idv) || json_string_length(idv) == 0 ||
        json_string_length(idv) > 255) {
        snprintf(path, sizeof path, "message.catalogs[%d].beckn:id", index);
        out->result = rejection(id, path, "a catalog needs a beckn:id of 1 to 255 characters");
        return;
    }
    const json_t *bpp = json_object_get(cat, "beckn:bppId");
    if (bpp && !(json_is_string(bpp) && strcmp(json_string_value(bpp), in->auth.subscriber_id) == 0)) {
        snprintf(path, sizeof path, "message.catalogs[%d].beckn:bppId", index);
        out->result = rejection(id, path, "beckn:bppId must be the publisher (the signer)");
        return;
    }
    out->active = !json_is_false(json_object_get(cat, "beckn:isActive"));
    const json_t *items = json_object_get(cat, "beckn:items");
    if (out->active && !json_is_array(items)) {
        snprintf(path, sizeof path, "message.catalogs[%d].beckn:items", index);
        out->result = rejection(id, path, "an active catalog needs a beckn:items array");
        return;
    }
    json_t *warnings = json_array();
    json_t *stored = json_copy((json_t *)cat);
    json_t *kept_items = valid_entries(items, "beckn:itemAttributes", warnings, index, "beckn:items");
    const json_t *offers = json_object_get(cat, "beckn:offers");
    json_t *kept_offers = valid_entries(offers, "beckn:items", warnings, index, "beckn:offers");
    size_t n_items = json_array_size(kept_items);
    bool dropped = json_array_size(warnings) > 0;
    if (!stored || json_object_set_new(stored, "beckn:items", kept_items) ||
        json_object_set_new(stored, "beckn:offers", kept_offers) ||
        json_object_set_new(stored, "beckn:bppId", json_string(in->ctx.bpp_id)) ||
        /* buyers will send orders there: only the signer's own context URI */
        json_object_set_new(stored, "beckn:bppUri", json_string(in->ctx.bpp_uri))) {
        json_decref(stored);
        json_decref(warnings);
        out->result = rejection(id, "message.catalogs", "out of memory");
        return;
    }
    if (out->active && n_items == 0) {
        snprintf(path, sizeof path, "message.catalogs[%d].beckn:items", index);
        json_decref(stored);
        json_decref(warnings);
        out->result = rejection(id, path, "no usable item in the catalog");
        return;
    }
    out->stored = stored;
    out->result = json_pack("{s:s, s:s, s:i}", "catalog_id", id, "status",
                            dropped ? "PARTIAL" : "ACCEPTED", "item_count",
                            out->active ? (int)n_items : 0);
    if (out->result && json_array_size(warnings))
        json_object_set(out->result, "warnings", warnings);
    json_decref(warnings);
}

static int store_catalog(PGconn *db, const struct beckn_inbound *in, const char *id,
                         const struct publish_check *pc)
{
    char *text = beckn_dumps(pc->stored);
    char now[24];
    snprintf(now, sizeof now, "%lld", (long long)in->received_ms);
    const char *params[] = {in->auth.subscriber_id, id, in->ctx.bpp_uri,
                            pc->active ? "true" : "false", text, in->ctx.message_id, now};
    PGresult *r = text ? beckn_bap_exec(
        db, "cds store catalog",
        "insert into beckn_cds_catalogs (bpp_id, catalog_id, bpp_uri, is_active, catalog, "
        "message_id, updated_at_ms) values ($1, $2, $3, $4::boolean, $5, $6, $7::bigint) "
        "on conflict (bpp_id, catalog_id) do update set bpp_uri = excluded.bpp_uri, "
        "is_active = excluded.is_active, catalog = excluded.catalog, "
        "message_id = excluded.message_id, updated_at_ms = excluded.updated_at_ms",
        7, params) : NULL;
    free(text);
    PQclear(r);
    return r ? 0 : -1;
}

/* Checks and stores every catalog in one transaction; results into *results. */
static int publish_catalogs(PGconn *db, const struct beckn_inbound *in, const json_t *catalogs,
                            json_t *results)
{
    PGresult *r = beckn_bap_exec(db, "cds begin", "begin", 0, NULL);
    int failed = !r;
    PQclear(r);
    size_t i;
    const json_t *cat;
    json_array_foreach(catalogs, i, cat) {
        if (failed)
            break;
        struct publish_check pc;
        check_catalog(cat, (int)i, in, &pc);
        if (pc.stored)
            failed = store_catalog(db, in, json_string_value(json_object_get(cat, "beckn:id")), &pc);
        if (failed || !pc.result)
            json_decref(pc.result);
        else
            failed = json_array_append_new(results, pc.result);
        failed = failed || !pc.result;
        json_decref(pc.stored);
    }
    r = beckn_bap_exec(db, failed ? "cds rollback" : "cds commit", failed ? "rollback" : "commit",
                       0, NULL);
    failed = failed || !r;
    PQclear(r);
    return failed ? -1 : 0;
}

int cds_catalog_publish(struct mg_connection *c, void *cbdata)
{
    const struct beckn_bap *bap = cbdata;
    struct beckn_inbound in;
    int status = beckn_inbound_receive(c, bap->node, "catalog_publish", BECKN_IN_CDS_PUBLISH,
                                       BECKN_BAP_BODY_MAX, &in);
    if (status)
        return status;
    const json_t *catalogs = json_object_get(json_object_get(in.root, "message"), "catalogs");
    if (!json_is_array(catalogs) || json_array_size(catalogs) == 0 ||
        json_array_size(catalogs) > MAX_CATALOGS_PER_PUBLISH)
        status = beckn_reply_nackf(c, bap->node, 400, "30000", "message.catalogs",
                                   "message.catalogs must be an array of 1 to %d catalogs",
                                   MAX_CATALOGS_PER_PUBLISH);
    else if (!in.ctx.bpp_uri[0])
        status = beckn_reply_nackf(c, bap->node, 400, "30000", "context.bpp_uri",
                                   "context.bpp_uri is required: on_catalog_publish goes there");
    if (status) {
        beckn_inbound_release(&in);
        return status;
    }
    PGconn *db = pg_pool_get(BECKN_BAP_PG_WAIT_MS);
    json_t *results = json_array();
    int rc = db && results ? publish_catalogs(db, &in, catalogs, results) : -1;
    if (rc == 0) {
        char dedupe[400];
        snprintf(dedupe, sizeof dedupe, "cds/on_catalog_publish/%s/%s", in.auth.subscriber_id,
                 in.ctx.message_id);
        char *body = beckn_body(beckn_context_reply(&bap->settings, &in.ctx, "on_catalog_publish",
                                                    p2p_now_ms()),
                                json_pack("{s:O}", "results", results));
        rc = enqueue(db, dedupe, in.ctx.bpp_uri, "catalog/on_publish", "on_catalog_publish",
                     &in.ctx, body);
    }
    json_decref(results);
    if (db)
        pg_pool_put(db);
    if (rc)
        status = beckn_reply_nackf(c, bap->node, 503, "50000", "",
                                   "the catalogs could not be stored, retry later");
    else
        status = beckn_reply_ack(c);
    if (rc == 0)
        p2p_log(P2P_INFO, "cds_catalog_published", "%zu catalog(s) from %s",
                json_array_size(catalogs), in.auth.subscriber_id);
    beckn_inbound_release(&in);
    return status;
}

int cds_catalog_on_publish(struct mg_connection *c, void *cbdata)
{
    const struct beckn_bap *bap = cbdata;
    struct beckn_inbound in;
    int status = beckn_inbound_receive(c, bap->node, "on_catalog_publish",
                                       BECKN_IN_CDS_ON_PUBLISH, BECKN_BAP_BODY_MAX, &in);
    if (status)
        return status;
    const char *cds = bap->settings.cds_subscriber_id;
    const json_t *results = json_object_get(json_object_get(in.root, "message"), "results");
    if (cds[0] && strcmp(cds, in.auth.subscriber_id) != 0)
        status = beckn_reply_nackf(c, bap->node, 401, "60000", "Authorization",
                                   "AUT_UNAUTHORIZED_ACTION: only %s answers our publishes", cds);
    else if (!json_is_array(results))
        status = beckn_reply_nackf(c, bap->node, 400, "30000", "message.results",
                                   "message.results must be an array");
    if (status) {
        beckn_inbound_release(&in);
        return status;
    }
    char *text = beckn_dumps(results);
    char now[24];
    snprintf(now, sizeof now, "%lld", (long long)in.received_ms);
    const char *params[] = {in.ctx.transaction_id, now, text};
    PGconn *db = pg_pool_get(BECKN_BAP_PG_WAIT_MS);
    PGresult *r = db && text ? beckn_bap_exec(db, "cds on_publish",
                                              "update beckn_catalog_publishes set "
                                              "answered_at_ms = $2::bigint, results = $3 "
                                              "where transaction_id = $1",
                                              3, params)
                             : NULL;
    if (db)
        pg_pool_put(db);
    free(text);
    if (!r)
        status = beckn_reply_nackf(c, bap->node, 503, "50000", "", "PostgreSQL is unavailable");
    else if (strcmp(PQcmdTuples(r), "0") == 0)
        status = beckn_reply_nackf(c, bap->node, 400, "30008", "context.transaction_id",
                                   "no catalog_publish of ours has transaction_id %s",
                                   in.ctx.transaction_id);
    else
        status = beckn_reply_ack(c);
    PQclear(r);
    beckn_inbound_release(&in);
    return status;
}
