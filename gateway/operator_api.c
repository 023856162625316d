#include "gateway/operator_api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/p2p_json.h"
#include "gateway/auth.h"
#include "gateway/command_flow.h"
#include "gateway/http.h"

#define AMOUNT_MAX 1000000000000LL /* the engine's bound for one deposit */

static json_t *deposited(const struct p2p_config *cfg, const char *type, json_t *ev, int *status)
{
    (void)type;
    *status = 201;
    json_int_t amount = 0;
    const char *participant = NULL;
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(ev, "postings"), i, p) {
        const char *account = json_string_value(json_object_get(p, "account"));
        if (account && strncmp(account, "wallet:", 7) == 0) {
            participant = account + 7;
            amount = json_integer_value(json_object_get(p, "amount"));
        }
    }
    return json_pack("{s:s, s:I, s:s, s:O, s:s, s:O, s:O}", "participant_id",
                     participant ? participant : "", "amount", amount, "currency", cfg->currency,
                     "reference", json_object_get(ev, "ref_id"), "status", "DEPOSITED",
                     "journal_event_id", json_object_get(ev, "event_id"), "command_id",
                     json_object_get(ev, "command_id"));
}

int operator_api_deposits(struct mg_connection *c, void *cbdata)
{
    static const char *const fields[] = {"participant_id", "amount", "reference", NULL};
    static const char *const outcomes[] = {"journal.entry.v1", "command.rejected.v1", NULL};
    const struct p2p_config *cfg = cbdata;
    const struct mg_request_info *ri = mg_get_request_info(c);
    if (strcmp(ri->local_uri, "/api/operator/deposits") != 0)
        return http_reply_error(c, 404, "not_found", NULL, "no such endpoint");
    if (strcmp(ri->request_method, "POST") != 0)
        return http_reply_error(c, 405, "method_not_allowed", NULL, "use POST");
    json_t *body = NULL;
    int status = auth_require_operator(c);
    if (status || (status = command_flow_read_body(c, cfg, &body)))
        return status;
    if ((status = command_flow_only_fields(c, body, fields, "a deposit"))) {
        json_decref(body);
        return status;
    }
    char participant[65], reference[65];
    int64_t amount;
    struct p2p_violation v;
    if (p2p_json_id(body, "participant_id", participant, sizeof participant, &v) ||
        p2p_json_int(body, "amount", &amount, &v) ||
        ((amount < 1 || amount > AMOUNT_MAX) &&
         p2p_violate(&v, "invalid_field", "amount",
                     "amount must be a positive integer number of minor units, at most 10^12")) ||
        p2p_json_id(body, "reference", reference, sizeof reference, &v)) {
        json_decref(body);
        return http_reply_violation(c, 400, &v);
    }
    struct command_spec s;
    command_spec_init(&s);
    json_t *cmd = json_pack("{s:s, s:I, s:s, s:s, s:I, s:s}", "command_id", s.command_id,
                            "issued_at_ms", (json_int_t)s.issued_at_ms, "market", cfg->market,
                            "participant_id", participant, "amount", (json_int_t)amount,
                            "reference", reference);
    char *json = cmd ? json_dumps(cmd, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(cmd);
    if (!json) {
        json_decref(body);
        return http_reply_error(c, 503, "unavailable", NULL, "out of memory, retry later");
    }
    s.endpoint = "POST /api/operator/deposits";
    s.issuer = OPERATOR_ISSUER;
    s.body = body;
    s.topic_suffix = "participants";
    s.ce_type = "energy.p2p.wallet.deposit.v1";
    s.command_json = json;
    s.outcomes = outcomes;
    s.match_field = "ref_id";
    s.match_value = reference;
    s.accepted = deposited;
    s.subject_name = "participant_id";
    s.subject_id = participant;
    status = command_flow_run(c, cfg, &s);
    free(json);
    json_decref(body);
    return status;
}
