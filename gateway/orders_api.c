#include "gateway/orders_api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/p2p_json.h"
#include "common/p2p_time.h"
#include "engine/core/engine.h"
#include "engine/core/offer.h"
#include "gateway/auth.h"
#include "gateway/command_flow.h"
#include "gateway/http.h"

#define MAX_LINES 16

/* One buyer step: its command type and the events that answer it. */
struct order_step {
    const char *path;
    const char *ce_type;
    const char *const *outcomes;
    bool takes_request; /* quantity and window (or lines); else just order_id */
    const char *status; /* of the order in a 2xx answer */
};

static const char *const quote_outcomes[] = {"order.quoted.v1", "order.rejected.v1",
                                             "command.rejected.v1", NULL};
static const char *const reserve_outcomes[] = {"order.reserved.v1", "order.rejected.v1",
                                               "command.rejected.v1", NULL};
static const char *const confirm_outcomes[] = {"order.confirmed.v1", "order.rejected.v1",
                                               "command.rejected.v1", NULL};
static const char *const cancel_outcomes[] = {"order.cancelled.v1", "order.rejected.v1",
                                              "command.rejected.v1", NULL};

static const struct order_step steps[] = {
    {"/api/select", "energy.p2p.order.quote.v1", quote_outcomes, true, "QUOTED"},
    {"/api/init", "energy.p2p.order.reserve.v1", reserve_outcomes, true, "RESERVED"},
    {"/api/buy", "energy.p2p.order.buy.v1", confirm_outcomes, true, "CONFIRMED"},
    {"/api/confirm", "energy.p2p.order.confirm.v1", confirm_outcomes, false, "CONFIRMED"},
    {"/api/cancel", "energy.p2p.order.cancel.v1", cancel_outcomes, false, "CANCELLED"},
};

static const char *const request_fields[] = {"quantity_wh", "delivery_start", "delivery_end",
                                             "max_price_per_kwh", "source_type", "allow_partial",
                                             "lines", NULL};
static const char *const order_id_fields[] = {"order_id", NULL};
static const char *const line_fields[] = {"offer_id", "quantity_wh", NULL};

static json_int_t get_int(json_t *o, const char *k)
{
    return json_integer_value(json_object_get(o, k));
}

static json_t *line_doc(json_t *l)
{
    json_t *d = json_pack("{s:I, s:s, s:s, s:I, s:I, s:I, s:I, s:o, s:o}", "line",
                          get_int(l, "line"), "offer_id",
                          json_string_value(json_object_get(l, "offer_id")), "seller_id",
                          json_string_value(json_object_get(l, "seller_id")), "quantity_wh",
                          get_int(l, "quantity_wh"), "price_per_kwh", get_int(l, "price_per_kwh"),
                          "amount", get_int(l, "amount"), "fee", get_int(l, "fee"),
                          "delivery_start", command_flow_time(get_int(l, "delivery_start_ms")),
                          "delivery_end", command_flow_time(get_int(l, "delivery_end_ms")));
    json_t *fill = json_object_get(l, "fill_id");
    if (d && fill)
        json_object_set(d, "fill_id", fill);
    return d;
}

/* The order as the engine decided it (quoted, reserved or confirmed event). */
static json_t *order_doc(const struct p2p_config *cfg, const char *status, json_t *ev)
{
    json_t *lines = json_array();
    size_t i;
    json_t *l;
    json_array_foreach(json_object_get(ev, "lines"), i, l)
        json_array_append_new(lines, line_doc(l));
    json_t *d = json_pack(
        "{s:s, s:s, s:s, s:I, s:o, s:o, s:I, s:I, s:I, s:I, s:s, s:o}", "order_id",
        json_string_value(json_object_get(ev, "order_id")), "status", status, "buyer_id",
        json_string_value(json_object_get(ev, "buyer_id")), "quantity_wh",
        get_int(ev, "quantity_wh"), "delivery_start",
        command_flow_time(get_int(ev, "window_start_ms")), "delivery_end",
        command_flow_time(get_int(ev, "window_end_ms")), "filled_wh", get_int(ev, "filled_wh"),
        "amount", get_int(ev, "amount"), "fee", get_int(ev, "fee"), "total", get_int(ev, "total"),
        "currency", cfg->currency, "lines", lines);
    if (d && json_object_get(ev, "expires_at_ms"))
        json_object_set_new(d, "expires_at", command_flow_time(get_int(ev, "expires_at_ms")));
    if (d)
        json_object_set(d, "command_id", json_object_get(ev, "command_id"));
    return d;
}

static json_t *accepted(const struct p2p_config *cfg, const char *type, json_t *ev, int *status)
{
    if (strcmp(type, "order.quoted.v1") == 0) {
        *status = 200;
        return order_doc(cfg, "QUOTED", ev);
    }
    if (strcmp(type, "order.reserved.v1") == 0) {
        *status = 201;
        return order_doc(cfg, "RESERVED", ev);
    }
    if (strcmp(type, "order.confirmed.v1") == 0) {
        /* 201 for a one-step buy (a new order), 200 for confirming one. */
        *status = json_object_get(ev, "expires_at_ms") ? 200 : 201;
        return order_doc(cfg, "CONFIRMED", ev);
    }
    *status = 200; /* order.cancelled.v1 */
    return json_pack("{s:O, s:s, s:I, s:I, s:I, s:O}", "order_id", json_object_get(ev, "order_id"),
                     "status", "CANCELLED", "released_wh", get_int(ev, "released_wh"), "refund",
                     get_int(ev, "refund"), "cancel_fee", get_int(ev, "cancel_fee"), "command_id",
                     json_object_get(ev, "command_id"));
}

static json_t *accepted_confirm(const struct p2p_config *cfg, const char *type, json_t *ev,
                                int *status)
{
    json_t *d = accepted(cfg, type, ev, status);
    *status = 200;
    return d;
}

static int read_window_time(const json_t *body, const char *name, int64_t *out,
                            struct p2p_violation *v)
{
    char text[40];
    if (p2p_json_str(body, name, text, sizeof text, v))
        return -1;
    if (p2p_time_parse(text, out))
        return p2p_violate(v, "invalid_field", name,
                           "%s must be an RFC 3339 UTC time such as 2026-11-25T10:00:00Z", name);
    return 0;
}

static int read_lines(const json_t *body, json_t *cmd, struct p2p_violation *v)
{
    json_t *lines = json_object_get(body, "lines");
    if (!json_is_array(lines))
        return p2p_violate(v, "wrong_type", "lines",
                           "lines must be an array of {offer_id, quantity_wh}");
    size_t n = json_array_size(lines);
    if (n < 1 || n > MAX_LINES)
        return p2p_violate(v, "invalid_field", "lines", "lines names 1 to %d offers", MAX_LINES);
    static const char *const exclusive[] = {"quantity_wh", "delivery_start", "delivery_end",
                                            "max_price_per_kwh", "source_type", "allow_partial",
                                            NULL};
    for (int i = 0; exclusive[i]; i++)
        if (json_object_get(body, exclusive[i]))
            return p2p_violate(v, "invalid_field", exclusive[i],
                               "%s cannot be combined with lines (the lines say what to buy)",
                               exclusive[i]);
    json_t *out = json_array();
    size_t i;
    json_t *l;
    json_array_foreach(lines, i, l) {
        char offer_id[65];
        int64_t wh;
        if (!json_is_object(l)) {
            json_decref(out);
            return p2p_violate(v, "wrong_type", "lines", "lines[%zu] must be an object", i);
        }
        const char *key;
        json_t *val;
        json_object_foreach(l, key, val) {
            bool known = false;
            for (int k = 0; line_fields[k]; k++)
                known = known || strcmp(key, line_fields[k]) == 0;
            if (!known) {
                json_decref(out);
                return p2p_violate(v, "unknown_field", "lines",
                                   "lines[%zu].%s is not a field of a line", i, key);
            }
        }
        if (p2p_json_id(l, "offer_id", offer_id, sizeof offer_id, v) ||
            p2p_json_int(l, "quantity_wh", &wh, v) ||
            ((wh < 1 || wh > OFFER_MAX_WH) &&
             p2p_violate(v, "invalid_field", "quantity_wh", "quantity_wh must be 1 to %d Wh",
                         OFFER_MAX_WH))) {
            char field[64];
            snprintf(field, sizeof field, "lines[%zu].%s", i, v->field);
            snprintf(v->field, sizeof v->field, "%s", field);
            json_decref(out);
            return -1;
        }
        json_array_append_new(out, json_pack("{s:s, s:I}", "offer_id", offer_id, "quantity_wh",
                                             (json_int_t)wh));
    }
    json_object_set_new(cmd, "lines", out);
    return 0;
}

/* Adds the request's terms to the command (quantity and window, or lines). */
static int read_request(const struct p2p_config *cfg, const json_t *body, int64_t now,
                        json_t *cmd, struct p2p_violation *v)
{
    if (json_object_get(body, "lines"))
        return read_lines(body, cmd, v);
    int64_t wh, start, end, max_price = 0;
    bool has_price, has_source;
    char source[16];
    enum source_type st;
    if (p2p_json_int(body, "quantity_wh", &wh, v))
        return -1;
    if (wh < 1 || wh > OFFER_MAX_WH)
        return p2p_violate(v, "invalid_field", "quantity_wh",
                           "quantity_wh must be a positive integer number of Wh, at most %d",
                           OFFER_MAX_WH);
    if (read_window_time(body, "delivery_start", &start, v) ||
        read_window_time(body, "delivery_end", &end, v) ||
        delivery_window_check(&cfg->rules, start, end, now, "delivery_start", "delivery_end", v) ||
        p2p_json_opt_int(body, "max_price_per_kwh", &max_price, &has_price, v))
        return -1;
    if (has_price && (max_price < 0 || max_price > OFFER_MAX_PRICE_PER_KWH))
        return p2p_violate(v, "invalid_field", "max_price_per_kwh",
                           "max_price_per_kwh must be 0 (no limit) to %d minor units per kWh",
                           OFFER_MAX_PRICE_PER_KWH);
    source[0] = '\0';
    if (p2p_json_opt_str(body, "source_type", source, sizeof source, &has_source, v)) {
        if (strcmp(v->code, "invalid_field") != 0)
            return -1;
        has_source = true; /* too long: reported as not a known source below */
        source[0] = '\0';
    }
    if (has_source && source_type_parse(source, &st))
        return p2p_violate(v, "invalid_field", "source_type",
                           "source_type must be SOLAR, BATTERY, GRID, HYBRID or RENEWABLE");
    json_t *partial = json_object_get(body, "allow_partial");
    if (partial && !json_is_boolean(partial))
        return p2p_violate(v, "wrong_type", "allow_partial", "allow_partial must be true or false");
    json_object_set_new(cmd, "quantity_wh", json_integer(wh));
    json_object_set_new(cmd, "window_start_ms", json_integer(start));
    json_object_set_new(cmd, "window_end_ms", json_integer(end));
    if (has_price)
        json_object_set_new(cmd, "max_price_per_kwh", json_integer(max_price));
    if (has_source)
        json_object_set_new(cmd, "source_type", json_string(source_type_name(st)));
    if (partial)
        json_object_set(cmd, "allow_partial", partial);
    return 0;
}

static int run_step(struct mg_connection *c, const struct p2p_config *cfg,
                    const struct order_step *step)
{
    char user[USER_ID_BUF], order_id[ORDER_ID_MAX + 1] = "";
    int status = auth_require_user(c, cfg, user);
    json_t *body = NULL;
    if (status || (status = command_flow_read_body(c, cfg, &body)))
        return status;
    struct command_spec s;
    command_spec_init(&s);
    struct p2p_violation v;
    memset(&v, 0, sizeof v);
    json_t *cmd = json_pack("{s:s, s:I, s:s}", "command_id", s.command_id, "issued_at_ms",
                            (json_int_t)s.issued_at_ms, "market", cfg->market);
    int bad;
    if (step->takes_request) {
        if ((status = command_flow_only_fields(c, body, request_fields, "an order request")))
            goto done;
        bool quote = strcmp(step->path, "/api/select") == 0;
        snprintf(order_id, sizeof order_id, "%s-%s", quote ? "quote" : "ord", s.command_id);
        json_object_set_new(cmd, "order_id", json_string(order_id));
        json_object_set_new(cmd, "buyer_id", json_string(user));
        bad = read_request(cfg, body, s.issued_at_ms, cmd, &v);
    } else {
        if ((status = command_flow_only_fields(c, body, order_id_fields, "this request")))
            goto done;
        bad = p2p_json_id(body, "order_id", order_id, sizeof order_id, &v);
        if (!bad) {
            json_object_set_new(cmd, "order_id", json_string(order_id));
            json_object_set_new(cmd, "buyer_id", json_string(user));
        }
    }
    if (bad) {
        status = http_reply_violation(c, 400, &v);
        goto done;
    }
    char *json = json_dumps(cmd, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (!json) {
        status = http_reply_error(c, 503, "unavailable", NULL, "out of memory, retry later");
        goto done;
    }
    char endpoint[64];
    snprintf(endpoint, sizeof endpoint, "POST %s", step->path);
    s.endpoint = endpoint;
    s.issuer = user;
    s.body = body;
    s.topic_suffix = "orders";
    s.ce_type = step->ce_type;
    s.command_json = json;
    s.outcomes = step->outcomes;
    s.accepted = strcmp(step->path, "/api/confirm") == 0 ? accepted_confirm : accepted;
    s.subject_name = "order_id";
    s.subject_id = order_id;
    status = command_flow_run(c, cfg, &s);
    free(json);
done:
    json_decref(cmd);
    json_decref(body);
    return status;
}

int orders_api_command(struct mg_connection *c, void *cbdata)
{
    const struct p2p_config *cfg = cbdata;
    const struct mg_request_info *ri = mg_get_request_info(c);
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        if (strcmp(ri->local_uri, steps[i].path) != 0)
            continue;
        if (strcmp(ri->request_method, "POST") != 0)
            return http_reply_error(c, 405, "method_not_allowed", NULL, "use POST");
        return run_step(c, cfg, &steps[i]);
    }
    return http_reply_error(c, 404, "not_found", NULL, "no such endpoint");
}
