#include "gateway/seller_api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/p2p_json.h"
#include "gateway/auth.h"
#include "gateway/command_flow.h"
#include "gateway/http.h"
#include "gateway/seller_read_api.h"

#define FILL_ID_BUF 65
#define PREFIX "/seller/orders/"
#define SUFFIX "/cancel"

static json_int_t get_int(json_t *o, const char *k)
{
    return json_integer_value(json_object_get(o, k));
}

static json_t *withdrawn(const struct p2p_config *cfg, const char *type, json_t *ev, int *status)
{
    (void)cfg;
    (void)type;
    *status = 200;
    return json_pack("{s:O, s:s, s:I, s:I, s:O}", "offer_id", json_object_get(ev, "offer_id"),
                     "status", "WITHDRAWN", "withdrawn_wh", get_int(ev, "wh"), "remaining_wh",
                     get_int(ev, "remaining_wh"), "command_id", json_object_get(ev, "command_id"));
}

static json_t *sale_cancelled(const struct p2p_config *cfg, const char *type, json_t *ev,
                              int *status)
{
    (void)cfg;
    (void)type;
    *status = 200;
    return json_pack("{s:O, s:O, s:O, s:s, s:I, s:I, s:I, s:O}", "fill_id",
                     json_object_get(ev, "fill_id"), "order_id", json_object_get(ev, "order_id"),
                     "offer_id", json_object_get(ev, "offer_id"), "status", "CANCELLED_BY_SELLER",
                     "quantity_wh", get_int(ev, "quantity_wh"), "refund", get_int(ev, "refund"),
                     "penalty", get_int(ev, "penalty"), "command_id",
                     json_object_get(ev, "command_id"));
}

/* Appends a command naming one target of the seller's and answers. */
static int run_target(struct mg_connection *c, const struct p2p_config *cfg, const char *user,
                      const char *endpoint, const char *ce_type, const char *id_name,
                      const char *id, const char *const *outcomes,
                      json_t *(*accepted)(const struct p2p_config *, const char *, json_t *, int *))
{
    struct command_spec s;
    command_spec_init(&s);
    json_t *cmd = json_pack("{s:s, s:I, s:s, s:s, s:s}", "command_id", s.command_id,
                            "issued_at_ms", (json_int_t)s.issued_at_ms, "market", cfg->market,
                            id_name, id, "seller_id", user);
    char *json = cmd ? json_dumps(cmd, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(cmd);
    if (!json)
        return http_reply_error(c, 503, "unavailable", NULL, "out of memory, retry later");
    s.endpoint = endpoint;
    s.issuer = user;
    s.topic_suffix = strcmp(id_name, "offer_id") == 0 ? "offers" : "orders";
    s.ce_type = ce_type;
    s.command_json = json;
    s.outcomes = outcomes;
    s.accepted = accepted;
    s.subject_name = id_name;
    s.subject_id = id;
    int status = command_flow_run(c, cfg, &s);
    free(json);
    return status;
}

int seller_api_withdraw(struct mg_connection *c, const struct p2p_config *cfg, const char *offer_id)
{
    static const char *const outcomes[] = {"offer.withdrawn.v1", "command.rejected.v1", NULL};
    char user[USER_ID_BUF];
    int status = auth_require_user(c, cfg, user);
    if (status)
        return status;
    if (!p2p_id_valid(offer_id, 64))
        return http_reply_error(c, 404, "not_found", "offer_id", "no such offer");
    char endpoint[128];
    snprintf(endpoint, sizeof endpoint, "DELETE /seller/offers/%s", offer_id);
    return run_target(c, cfg, user, endpoint, "energy.p2p.offer.withdraw.v1", "offer_id", offer_id,
                      outcomes, withdrawn);
}

static int cancel_sale(struct mg_connection *c, void *cbdata)
{
    static const char *const outcomes[] = {"fill.cancelled.v1", "command.rejected.v1", NULL};
    const struct p2p_config *cfg = cbdata;
    const struct mg_request_info *ri = mg_get_request_info(c);
    /* Fill ids are "<order_id>/<line>": the path is
     * /seller/orders/<order_id>/<line>/cancel (or the id with %2F, decoded). */
    const char *uri = ri->local_uri;
    size_t n = strlen(uri);
    if (strcmp(ri->request_method, "POST") != 0)
        return http_reply_error(c, 405, "method_not_allowed", NULL, "use POST");
    char user[USER_ID_BUF], fill_id[FILL_ID_BUF];
    int status = auth_require_user(c, cfg, user);
    if (status)
        return status;
    size_t len = n - strlen(PREFIX) - strlen(SUFFIX);
    if (len >= sizeof fill_id)
        return http_reply_error(c, 404, "not_found", "fill_id", "no such sold line");
    memcpy(fill_id, uri + strlen(PREFIX), len);
    fill_id[len] = '\0';
    const char *slash = strchr(fill_id, '/');
    if (!slash || strchr(slash + 1, '/') || !p2p_id_valid(slash + 1, 8) ||
        strspn(slash + 1, "0123456789") != strlen(slash + 1)) {
        return http_reply_error(c, 404, "not_found", "fill_id",
                                "a sold line's id is <order_id>/<line>");
    }
    char order_part[FILL_ID_BUF];
    snprintf(order_part, sizeof order_part, "%.*s", (int)(slash - fill_id), fill_id);
    if (!p2p_id_valid(order_part, 56))
        return http_reply_error(c, 404, "not_found", "fill_id", "no such sold line");
    /* A body is not needed; one that is sent must be an empty JSON object. */
    if (ri->content_length > 0 || mg_get_header(c, "Transfer-Encoding")) {
        json_t *body = NULL;
        if ((status = command_flow_read_body(c, cfg, &body)))
            return status;
        size_t fields = json_object_size(body);
        const char *first = fields ? json_object_iter_key(json_object_iter(body)) : NULL;
        if (first)
            status = http_reply_error(c, 400, "unknown_field", first,
                                      "%s is not a field of this request (it takes no body)", first);
        json_decref(body);
        if (status)
            return status;
    }
    char endpoint[128];
    snprintf(endpoint, sizeof endpoint, "POST /seller/orders/%s/cancel", fill_id);
    return run_target(c, cfg, user, endpoint, "energy.p2p.sale.cancel.v1", "fill_id", fill_id,
                      outcomes, sale_cancelled);
}

int seller_api_orders(struct mg_connection *c, void *cbdata)
{
    const char *uri = mg_get_request_info(c)->local_uri;
    size_t n = strlen(uri);
    if (strncmp(uri, PREFIX, strlen(PREFIX)) == 0 && n > strlen(PREFIX) + strlen(SUFFIX) &&
        strcmp(uri + n - strlen(SUFFIX), SUFFIX) == 0)
        return cancel_sale(c, cbdata);
    return seller_read_orders(c, cbdata);
}
