#include "gateway/offers_api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/p2p_id.h"
#include "common/p2p_json.h"
#include "common/p2p_time.h"
#include "engine/offer_codec.h"
#include "gateway/auth.h"
#include "gateway/command_flow.h"
#include "gateway/http.h"
#include "gateway/read_db.h"
#include "gateway/seller_api.h"


static const char *const accepted_fields[] = {
    "source_type", "quantity_wh", "price_per_kwh", "delivery_start", "delivery_end",
    "meter_id",    "min_order_wh", "valid_until",  "currency",       NULL};

static int read_time(const json_t *body, const char *name, bool required, int64_t *out,
                     bool *present, struct p2p_violation *v)
{
    char text[40];
    bool have;
    if (p2p_json_opt_str(body, name, text, sizeof text, &have, v))
        return -1;
    if (present)
        *present = have;
    if (!have)
        return required ? p2p_violate(v, "missing_field", name, "%s is required", name) : 0;
    if (p2p_time_parse(text, out))
        return p2p_violate(v, "invalid_field", name,
                           "%s must be an RFC 3339 UTC time such as 2026-11-25T10:00:00Z", name);
    return 0;
}

/* Reads the request body into offer terms; shape errors only (rules come after). */
static int read_offer_request(const json_t *body, const struct p2p_config *cfg,
                              struct offer_terms *t, struct p2p_violation *v)
{
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)body, key, val) {
        int known = 0;
        for (int i = 0; accepted_fields[i] && !known; i++)
            known = strcmp(key, accepted_fields[i]) == 0;
        if (!known)
            return p2p_violate(v, "unknown_field", key, "%s is not a field of an offer", key);
    }
    char source[16] = "";
    bool has_min, has_currency;
    /* An over-long source_type is reported like any other unknown one, below. */
    if (p2p_json_str(body, "source_type", source, sizeof source, v) &&
        strcmp(v->code, "invalid_field") != 0)
        return -1;
    if (source_type_parse(source, &t->source))
        return p2p_violate(v, "invalid_field", "source_type",
                           "source_type must be SOLAR, BATTERY, GRID, HYBRID or RENEWABLE");
    if (p2p_json_int(body, "quantity_wh", &t->quantity_wh, v) ||
        p2p_json_int(body, "price_per_kwh", &t->price_per_kwh, v) ||
        read_time(body, "delivery_start", true, &t->delivery_start_ms, NULL, v) ||
        read_time(body, "delivery_end", true, &t->delivery_end_ms, NULL, v) ||
        p2p_json_str(body, "meter_id", t->meter_id, sizeof t->meter_id, v) ||
        p2p_json_opt_int(body, "min_order_wh", &t->min_order_wh, &has_min, v) ||
        read_time(body, "valid_until", false, &t->valid_until_ms, &t->has_valid_until, v) ||
        p2p_json_opt_str(body, "currency", t->currency, sizeof t->currency, &has_currency, v))
        return -1;
    if (!has_min)
        t->min_order_wh = offer_default_min_order_wh(t->quantity_wh);
    if (!has_currency)
        snprintf(t->currency, sizeof t->currency, "%s", cfg->currency);
    return 0;
}

static json_t *offer_decided(const struct p2p_config *cfg, const char *type, json_t *ev,
                             int *status);

static int create_offer(struct mg_connection *c, const struct p2p_config *cfg)
{
    static const char *const outcomes[] = {"offer.listed.v1", "offer.rejected.v1", NULL};
    char user[USER_ID_BUF];
    json_t *body = NULL;
    int status = auth_require_user(c, cfg, user);
    if (status || (status = command_flow_read_body(c, cfg, &body)))
        return status;
    struct offer_command cmd;
    memset(&cmd, 0, sizeof cmd);
    struct command_spec s;
    command_spec_init(&s);
    struct p2p_violation v;
    if (read_offer_request(body, cfg, &cmd.terms, &v) ||
        offer_terms_check(&cfg->rules, &cmd.terms, s.issued_at_ms, &v)) {
        json_decref(body);
        return http_reply_violation(c, 400, &v);
    }
    snprintf(cmd.command_id, sizeof cmd.command_id, "%s", s.command_id);
    p2p_uuid(cmd.terms.offer_id);
    snprintf(cmd.terms.seller_id, sizeof cmd.terms.seller_id, "%s", user);
    snprintf(cmd.market, sizeof cmd.market, "%s", cfg->market);
    cmd.issued_at_ms = s.issued_at_ms;
    char *json = offer_command_encode(&cmd);
    if (!json) {
        json_decref(body);
        return http_reply_error(c, 503, "unavailable", NULL, "out of memory, retry later");
    }
    s.endpoint = "POST /seller/offers";
    s.issuer = user;
    s.body = body;
    s.topic_suffix = "offers";
    s.ce_type = CE_OFFER_SUBMIT;
    s.command_json = json;
    s.outcomes = outcomes;
    s.accepted = offer_decided;
    s.subject_name = "offer_id";
    s.subject_id = cmd.terms.offer_id;
    status = command_flow_run(c, cfg, &s);
    free(json);
    json_decref(body);
    return status;
}

#define OFFER_COLUMNS                                                                         \
    "offer_id, seller_id, market, status, source_type, quantity_wh, remaining_wh,"           \
    " price_per_kwh, currency, min_order_wh, delivery_start_ms, delivery_end_ms, meter_id,"  \
    " valid_until_ms, listed_at_ms"

static json_t *time_or_null(PGresult *r, int row, int col, bool with_ms)
{
    if (PQgetisnull(r, row, col))
        return json_null();
    char buf[P2P_TIME_BUF];
    p2p_time_format(atoll(PQgetvalue(r, row, col)), with_ms, buf);
    return json_string(buf);
}

static json_t *offer_row(PGresult *r, int i)
{
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:s, s:I}", "offer_id",
                          PQgetvalue(r, i, 0), "seller_id", PQgetvalue(r, i, 1), "market",
                          PQgetvalue(r, i, 2), "status", PQgetvalue(r, i, 3), "source_type",
                          PQgetvalue(r, i, 4), "quantity_wh", (json_int_t)atoll(PQgetvalue(r, i, 5)),
                          "remaining_wh", (json_int_t)atoll(PQgetvalue(r, i, 6)), "price_per_kwh",
                          (json_int_t)atoll(PQgetvalue(r, i, 7)), "currency", PQgetvalue(r, i, 8),
                          "min_order_wh", (json_int_t)atoll(PQgetvalue(r, i, 9)));
    if (!o)
        return NULL;
    json_object_set_new(o, "delivery_start", time_or_null(r, i, 10, false));
    json_object_set_new(o, "delivery_end", time_or_null(r, i, 11, false));
    json_object_set_new(o, "meter_id", json_string(PQgetvalue(r, i, 12)));
    json_object_set_new(o, "valid_until", time_or_null(r, i, 13, false));
    json_object_set_new(o, "listed_at", time_or_null(r, i, 14, true));
    return o;
}


static int reply_offer_list(struct mg_connection *c, PGresult *r)
{
    json_t *list = json_array();
    for (int i = 0; list && i < PQntuples(r); i++)
        json_array_append_new(list, offer_row(r, i));
    PQclear(r);
    return http_reply_json(c, 200, list ? json_pack("{s:o}", "offers", list) : NULL);
}

static int list_open_offers(struct mg_connection *c, const struct p2p_config *cfg)
{
    char seller[USER_ID_BUF], limit_text[16], after[24];
    int seller_len = http_query(c, "seller_id", seller, sizeof seller);
    int has_seller = seller_len > 0;
    int limit_len = http_query(c, "limit", limit_text, sizeof limit_text);
    if (seller_len == -2)
        return http_reply_error(c, 400, "invalid_field", "seller_id",
                                "seller_id has at most %d characters", USER_ID_BUF - 1);
    long limit = 100;
    if (limit_len == -2 || limit_len >= 0) {
        char *end;
        limit = limit_len == -2 ? -1 : strtol(limit_text, &end, 10);
        if (limit_len == -2 || *end || limit < 1 || limit > 500)
            return http_reply_error(c, 400, "invalid_field", "limit",
                                    "limit must be an integer from 1 to 500");
    }
    snprintf(limit_text, sizeof limit_text, "%ld", limit);
    /* Offers past gate closure can no longer be bought: they are not shown. */
    snprintf(after, sizeof after, "%lld", (long long)(p2p_now_ms() + cfg->rules.gate_closure_ms));
    const char *params[3] = {has_seller ? seller : NULL, limit_text, after};
    PGresult *r = read_db_query(c,
                                "select " OFFER_COLUMNS " from offers where status = 'LISTED'"
                                " and delivery_start_ms >= $3::bigint"
                                " and ($1::text is null or seller_id = $1)"
                                " order by delivery_start_ms, event_offset limit $2::int",
                                3, params);
    return r ? reply_offer_list(c, r) : 503;
}

static int get_offer(struct mg_connection *c, const char *id)
{
    const char *params[1] = {id};
    PGresult *r =
        read_db_query(c, "select " OFFER_COLUMNS " from offers where offer_id = $1", 1, params);
    if (!r)
        return 503;
    if (PQntuples(r) == 1) {
        json_t *o = offer_row(r, 0);
        PQclear(r);
        return http_reply_json(c, 200, o);
    }
    PQclear(r);
    r = read_db_query(c,
                      "select code, field, message from offer_rejections where offer_id = $1"
                      " order by event_offset desc limit 1",
                      1, params);
    if (!r)
        return 503;
    if (PQntuples(r) == 0) {
        PQclear(r);
        return http_reply_error(c, 404, "not_found", "offer_id",
                                "no decided offer %s (if you just submitted it, poll again)", id);
    }
    json_t *doc = json_pack("{s:s, s:s, s:{s:s, s:s, s:s}}", "offer_id", id, "status", "REJECTED",
                            "reason", "code", PQgetvalue(r, 0, 0), "field", PQgetvalue(r, 0, 1),
                            "message", PQgetvalue(r, 0, 2));
    PQclear(r);
    return http_reply_json(c, 200, doc);
}

/* 201 with the listed offer, shaped like GET /api/offers/{id}. */
static json_t *offer_decided(const struct p2p_config *cfg, const char *type, json_t *ev,
                             int *status)
{
    (void)cfg;
    (void)type;
    json_t *o = json_object_get(ev, "offer");
    *status = 201;
    json_t *doc = json_pack("{s:O, s:O, s:O, s:s, s:O, s:O, s:O, s:O, s:O, s:O}", "offer_id",
                            json_object_get(o, "offer_id"), "seller_id",
                            json_object_get(o, "seller_id"), "market", json_object_get(ev, "market"),
                            "status", "LISTED", "source_type", json_object_get(o, "source_type"),
                            "quantity_wh", json_object_get(o, "quantity_wh"), "remaining_wh",
                            json_object_get(o, "remaining_wh"), "price_per_kwh",
                            json_object_get(o, "price_per_kwh"), "currency",
                            json_object_get(o, "currency"), "min_order_wh",
                            json_object_get(o, "min_order_wh"));
    if (!doc)
        return NULL;
    json_t *until = json_object_get(o, "valid_until_ms");
    json_int_t start = json_integer_value(json_object_get(o, "delivery_start_ms"));
    json_int_t end = json_integer_value(json_object_get(o, "delivery_end_ms"));
    json_object_set_new(doc, "delivery_start", command_flow_time(start));
    json_object_set_new(doc, "delivery_end", command_flow_time(end));
    json_object_set(doc, "meter_id", json_object_get(o, "meter_id"));
    json_object_set_new(doc, "valid_until", json_is_integer(until)
                                                 ? command_flow_time(json_integer_value(until))
                                                 : json_null());
    char listed[P2P_TIME_BUF];
    p2p_time_format(json_integer_value(json_object_get(ev, "occurred_at_ms")), true, listed);
    json_object_set_new(doc, "listed_at", json_string(listed));
    json_object_set(doc, "command_id", json_object_get(ev, "command_id"));
    return doc;
}

int offers_api_seller(struct mg_connection *c, void *cbdata)
{
    const struct p2p_config *cfg = cbdata;
    const struct mg_request_info *ri = mg_get_request_info(c);
    if (strncmp(ri->local_uri, "/seller/offers/", 15) == 0) {
        if (strcmp(ri->request_method, "DELETE") != 0)
            return http_reply_error(c, 405, "method_not_allowed", NULL, "use DELETE");
        return seller_api_withdraw(c, cfg, ri->local_uri + 15);
    }
    if (strcmp(ri->local_uri, "/seller/offers") != 0)
        return http_reply_error(c, 404, "not_found", NULL, "no such endpoint");
    if (strcmp(ri->request_method, "POST") == 0)
        return create_offer(c, cfg);
    if (strcmp(ri->request_method, "GET") != 0)
        return http_reply_error(c, 405, "method_not_allowed", NULL, "use GET or POST");
    char user[USER_ID_BUF];
    int status = auth_require_user(c, cfg, user);
    if (status)
        return status;
    const char *params[1] = {user};
    PGresult *r = read_db_query(c,
                                "select " OFFER_COLUMNS " from offers where seller_id = $1"
                                " order by delivery_start_ms, event_offset limit 500",
                                1, params);
    return r ? reply_offer_list(c, r) : 503;
}

int offers_api_public(struct mg_connection *c, void *cbdata)
{
    const struct p2p_config *cfg = cbdata;
    const struct mg_request_info *ri = mg_get_request_info(c);
    if (strcmp(ri->request_method, "GET") != 0)
        return http_reply_error(c, 405, "method_not_allowed", NULL, "use GET");
    const char *rest = ri->local_uri + strlen("/api/offers");
    if (*rest == '\0' || strcmp(rest, "/") == 0)
        return list_open_offers(c, cfg);
    if (*rest != '/') /* "/api/offersXYZ" is not ours */
        return http_reply_error(c, 404, "not_found", NULL, "no such endpoint");
    rest++;
    if (!p2p_id_valid(rest, 64))
        return http_reply_error(c, 404, "not_found", "offer_id", "no such offer");
    return get_offer(c, rest);
}
