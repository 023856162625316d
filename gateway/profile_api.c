#include "gateway/profile_api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/p2p_id.h"
#include "common/p2p_json.h"
#include "common/p2p_time.h"
#include "gateway/auth.h"
#include "gateway/command_bus.h"
#include "gateway/http.h"
#include "gateway/participant_view.h"

#define CAPACITY_MAX_WH 1000000000LL /* the engine's bound: 1,000,000 kWh a month */

static int put_profile(struct mg_connection *c, const struct p2p_config *cfg)
{
    char user[USER_ID_BUF], *raw;
    size_t len;
    int status = auth_require_user(c, cfg, user);
    if (status || (status = http_read_body(c, cfg->max_body_bytes, &raw, &len)))
        return status;
    struct p2p_violation v;
    json_t *body = p2p_json_parse_object(raw, len, &v);
    free(raw);
    if (!body)
        return http_reply_violation(c, 400, &v);
    const char *key;
    json_t *val;
    int64_t capacity = 0;
    int bad = 0;
    json_object_foreach(body, key, val) {
        if (strcmp(key, "production_capacity_wh_per_month") != 0) {
            bad = p2p_violate(&v, "unknown_field", key, "%s is not a field of the profile", key);
            break;
        }
    }
    if (!bad && (p2p_json_int(body, "production_capacity_wh_per_month", &capacity, &v) ||
                 ((capacity < 0 || capacity > CAPACITY_MAX_WH) &&
                  p2p_violate(&v, "invalid_field", "production_capacity_wh_per_month",
                              "production_capacity_wh_per_month must be between 0 and %lld Wh",
                              CAPACITY_MAX_WH))))
        bad = -1;
    json_decref(body);
    if (bad)
        return http_reply_violation(c, 400, &v);
    char command_id[P2P_UUID_BUF], err[256];
    p2p_uuid(command_id);
    int64_t now = p2p_now_ms();
    json_t *cmd = json_pack("{s:s, s:I, s:s, s:s, s:I}", "command_id", command_id, "issued_at_ms",
                            (json_int_t)now, "market", cfg->market, "participant_id", user,
                            "capacity_wh_per_month", (json_int_t)capacity);
    char *json = cmd ? json_dumps(cmd, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(cmd);
    if (!json)
        return http_reply_error(c, 503, "unavailable", NULL, "out of memory, retry later");
    int rc = command_bus_submit(cfg, cfg->topic_participants, "energy.p2p.participant.profile.v1",
                                command_id, now, json, err, sizeof err);
    free(json);
    if (rc)
        return http_reply_error(c, 503, "unavailable", NULL, "%s; nothing was recorded, retry later",
                                err);
    return http_reply_json(c, 202, json_pack("{s:s, s:s, s:I}", "command_id", command_id, "status",
                                             "PENDING", "production_capacity_wh_per_month",
                                             (json_int_t)capacity));
}

static int get_profile(struct mg_connection *c, const struct p2p_config *cfg)
{
    char user[USER_ID_BUF];
    struct participant_view p;
    int status = auth_require_user(c, cfg, user);
    if (status || (status = participant_view_load(c, user, &p)))
        return status;
    json_t *doc = participant_view_json(&p);
    if (doc)
        json_object_set_new(doc, "participant_id", json_string(user));
    return http_reply_json(c, 200, doc);
}

int profile_api(struct mg_connection *c, void *cbdata)
{
    const struct mg_request_info *ri = mg_get_request_info(c);
    if (strcmp(ri->local_uri, "/api/profile") != 0)
        return http_reply_error(c, 404, "not_found", NULL, "no such endpoint");
    if (strcmp(ri->request_method, "GET") == 0)
        return get_profile(c, cbdata);
    if (strcmp(ri->request_method, "PUT") != 0)
        return http_reply_error(c, 405, "method_not_allowed", NULL, "use GET or PUT");
    return put_profile(c, cbdata);
}
