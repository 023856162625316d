#include "gateway/command_flow.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/p2p_json.h"
#include "common/p2p_log.h"
#include "common/p2p_time.h"
#include "gateway/command_bus.h"
#include "gateway/decisions.h"
#include "gateway/http.h"
#include "gateway/idempotency.h"
#include "gateway/pg_pool.h"
#include "gateway/pg_prepared.h"

#define PG_WAIT_MS 2000

static int64_t demo_start_balance;

int command_flow_start(const struct p2p_config *cfg, char *err, size_t errlen)
{
    (void)cfg;
    return p2p_env_int("DEMO_START_BALANCE", 0, 0, 1000000000000LL, &demo_start_balance, err,
                       errlen);
}

void command_spec_init(struct command_spec *s)
{
    memset(s, 0, sizeof *s);
    p2p_uuid(s->command_id);
    s->issued_at_ms = p2p_now_ms();
}

json_t *command_flow_time(int64_t ms)
{
    char buf[P2P_TIME_BUF];
    p2p_time_format(ms, false, buf);
    return json_string(buf);
}

int command_flow_read_body(struct mg_connection *c, const struct p2p_config *cfg, json_t **body)
{
    char *raw;
    size_t len;
    int status = http_read_body(c, cfg->max_body_bytes, &raw, &len);
    if (status)
        return status;
    struct p2p_violation v;
    *body = p2p_json_parse_object(raw, len, &v);
    free(raw);
    return *body ? 0 : http_reply_violation(c, 400, &v);
}

int command_flow_only_fields(struct mg_connection *c, const json_t *body,
                             const char *const *fields, const char *what)
{
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)body, key, val) {
        int known = 0;
        for (int i = 0; fields[i] && !known; i++)
            known = strcmp(key, fields[i]) == 0;
        if (!known)
            return http_reply_error(c, 400, "unknown_field", key, "%s is not a field of %s", key,
                                    what);
    }
    return 0;
}

/* Engine reason code -> HTTP status: what the client can fix in the request
 * is 400, what does not exist (or is not theirs) 404, the market's state 409. */
static int rejection_status(const char *code)
{
    static const char *const bad_request[] = {
        "invalid_field", "missing_field", "wrong_type", "unknown_field", "window_not_aligned",
        "window_inverted", "beyond_horizon", "malformed_command", "wrong_market", NULL};
    for (int i = 0; bad_request[i]; i++)
        if (strcmp(code, bad_request[i]) == 0)
            return 400;
    return strcmp(code, "not_found") == 0 ? 404 : 409;
}

/* The engine names window rule fields after its command (window_start); the
 * API calls them delivery_start/delivery_end. */
static const char *api_field(const char *field)
{
    if (strcmp(field, "window_start") == 0 || strcmp(field, "window_start_ms") == 0)
        return "delivery_start";
    if (strcmp(field, "window_end") == 0 || strcmp(field, "window_end_ms") == 0)
        return "delivery_end";
    return field;
}

static bool is_rejection(const char *type)
{
    return strcmp(type, "order.rejected.v1") == 0 || strcmp(type, "command.rejected.v1") == 0 ||
           strcmp(type, "offer.rejected.v1") == 0;
}

static json_t *rejection_answer(const struct command_spec *s, json_t *event, int *status)
{
    json_t *reason = json_object_get(event, "reason");
    const char *code = json_string_value(json_object_get(reason, "code"));
    const char *field = json_string_value(json_object_get(reason, "field"));
    const char *message = json_string_value(json_object_get(reason, "message"));
    code = code ? code : "rejected";
    *status = rejection_status(code);
    json_t *doc = json_pack("{s:{s:s, s:s, s:o}, s:s}", "error", "code", code, "message",
                            message ? message : "the engine refused the command", "field",
                            field && *field ? json_string(api_field(field)) : json_null(),
                            "command_id", s->command_id);
    if (!doc)
        return NULL;
    json_t *shortfall = json_object_get(event, "shortfall_wh");
    if (json_is_integer(shortfall) && json_integer_value(shortfall) > 0)
        json_object_set(doc, "shortfall_wh", shortfall);
    json_t *alts = json_object_get(event, "alternatives");
    if (json_array_size(alts) > 0) {
        json_t *out = json_array();
        size_t i;
        json_t *a;
        json_array_foreach(alts, i, a) {
            json_int_t start = json_integer_value(json_object_get(a, "window_start_ms"));
            json_int_t end = json_integer_value(json_object_get(a, "window_end_ms"));
            json_int_t wh = json_integer_value(json_object_get(a, "available_wh"));
            json_array_append_new(out, json_pack("{s:o, s:o, s:I}", "delivery_start",
                                                 command_flow_time(start), "delivery_end",
                                                 command_flow_time(end), "available_wh", wh));
        }
        json_object_set_new(doc, "alternatives", out);
    }
    return doc;
}

static json_t *pending_answer(const struct command_spec *s, const char *command_id)
{
    char url[128];
    snprintf(url, sizeof url, "/api/commands/%s", command_id);
    json_t *doc = json_pack("{s:s, s:s, s:s}", "command_id", command_id, "status", "PENDING",
                            "status_url", url);
    if (doc && s->subject_name && s->subject_id)
        json_object_set_new(doc, s->subject_name, json_string(s->subject_id));
    return doc;
}

static char *topic_name(const struct p2p_config *cfg, const char *suffix, char *buf, size_t n)
{
    snprintf(buf, n, "%s%s", cfg->topic_prefix, suffix);
    return buf;
}

/* Appends the command and waits for its decision. Returns the answer (and
 * *status), or NULL with *status = 503 and err when the command could not be
 * appended. */
static json_t *append_and_wait(const struct p2p_config *cfg, const struct command_spec *s,
                               int *status, char *err, size_t errlen)
{
    static const char *const no_match = NULL;
    struct decision d;
    decisions_expect(&d, s->command_id, s->outcomes ? s->outcomes : &no_match, s->match_field,
                     s->match_value);
    char topic[160];
    if (command_bus_submit(cfg, topic_name(cfg, s->topic_suffix, topic, sizeof topic), s->ce_type,
                           s->command_id, s->issued_at_ms, s->command_json, err, errlen)) {
        decisions_forget(&d);
        *status = 503;
        return NULL;
    }
    if (!decisions_await(&d, decisions_wait_ms())) {
        *status = 202;
        return pending_answer(s, s->command_id);
    }
    json_t *event = json_loads(d.value, 0, NULL);
    json_t *doc = NULL;
    if (!event) {
        p2p_log(P2P_WARN, "decision_unreadable", "answer %s to %s is not JSON", d.type,
                s->command_id);
        *status = 202;
        doc = pending_answer(s, s->command_id);
    } else if (is_rejection(d.type)) {
        doc = rejection_answer(s, event, status);
    } else {
        doc = s->accepted(cfg, d.type, event, status);
    }
    json_decref(event);
    decision_release(&d);
    return doc;
}

static const struct pg_statement demo_claim = {
    "demo_balance_claim",
    "insert into public.demo_balances (participant_id, command_id)"
    " values ($1, $2) on conflict do nothing returning 1",
    2};
static const struct pg_statement demo_unclaim = {
    "demo_balance_unclaim", "delete from public.demo_balances where participant_id = $1", 1};

/* Demo mode: the user's one starting deposit, before their first command
 * (waited for, so that command already sees the money). Returns 0, or -1
 * when it could not be recorded (the caller answers 503). */
static int demo_grant(const struct p2p_config *cfg, const char *user)
{
    struct command_spec s;
    command_spec_init(&s);
    unsigned char h[8];
    char hex[17], reference[40];
    crypto_generichash(h, sizeof h, (const unsigned char *)user, strlen(user), NULL, 0);
    sodium_bin2hex(hex, sizeof hex, h, sizeof h);
    snprintf(reference, sizeof reference, "demo-start-%s", hex);
    PGconn *db = pg_pool_get(PG_WAIT_MS);
    if (!db)
        return -1;
    const char *params[2] = {user, s.command_id};
    PGresult *r = pg_prepared_exec(db, &demo_claim, params);
    int fresh = PQresultStatus(r) == PGRES_TUPLES_OK ? PQntuples(r) : -1;
    if (fresh < 0)
        p2p_log(P2P_WARN, "demo_balance", "%s", PQerrorMessage(db));
    PQclear(r);
    pg_pool_put(db);
    if (fresh <= 0)
        return fresh;
    json_t *cmd = json_pack("{s:s, s:I, s:s, s:s, s:I, s:s}", "command_id", s.command_id,
                            "issued_at_ms", (json_int_t)s.issued_at_ms, "market", cfg->market,
                            "participant_id", user, "amount", (json_int_t)demo_start_balance,
                            "reference", reference);
    char *json = cmd ? json_dumps(cmd, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(cmd);
    static const char *const outcomes[] = {"journal.entry.v1", "command.rejected.v1", NULL};
    struct decision d;
    char topic[160], err[256];
    int rc = -1;
    if (json) {
        decisions_expect(&d, s.command_id, outcomes, "ref_id", reference);
        rc = command_bus_submit(cfg, topic_name(cfg, "participants", topic, sizeof topic),
                                "energy.p2p.wallet.deposit.v1", s.command_id, s.issued_at_ms,
                                json, err, sizeof err);
        if (rc)
            decisions_forget(&d);
        else if (decisions_await(&d, decisions_wait_ms()))
            decision_release(&d);
        free(json);
    }
    if (rc) { /* not appended: let the next command try again */
        db = pg_pool_get(PG_WAIT_MS);
        if (db) {
            const char *p[1] = {user};
            PQclear(pg_prepared_exec(db, &demo_unclaim, p));
            pg_pool_put(db);
        }
        return -1;
    }
    p2p_log(P2P_INFO, "demo_balance", "granted the starting balance to %s", user);
    return 0;
}

/* Idempotency-Key header: absent (NULL), or 1..IDEMPOTENCY_KEY_MAX visible
 * ASCII characters. Returns 0, or -1 when malformed. */
static int read_key(struct mg_connection *c, const char **key)
{
    *key = mg_get_header(c, "Idempotency-Key");
    if (!*key)
        return 0;
    size_t n = strlen(*key);
    if (n < 1 || n > IDEMPOTENCY_KEY_MAX)
        return -1;
    for (const char *p = *key; *p; p++)
        if (*p < 0x21 || *p > 0x7e)
            return -1;
    return 0;
}

static int reply_stored(struct mg_connection *c, int status, const char *body)
{
    return http_reply_text(c, status, "application/json", body, strlen(body));
}

int command_flow_run(struct mg_connection *c, const struct p2p_config *cfg,
                     const struct command_spec *s)
{
    const char *key;
    if (read_key(c, &key))
        return http_reply_error(c, 400, "invalid_field", "Idempotency-Key",
                                "Idempotency-Key must be 1 to %d visible ASCII characters",
                                IDEMPOTENCY_KEY_MAX);
    char *canonical = s->body ? json_dumps(s->body, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    if (s->body && !canonical)
        return http_reply_error(c, 503, "unavailable", NULL, "out of memory, retry later");
    char hash[REQUEST_HASH_BUF];
    request_hash(canonical ? canonical : "", canonical ? strlen(canonical) : 0, hash);
    free(canonical);

    if (demo_start_balance > 0 && cfg->dev_auth && strcmp(s->issuer, OPERATOR_ISSUER) != 0 &&
        demo_grant(cfg, s->issuer))
        return http_reply_error(c, 503, "unavailable", NULL,
                                "the demo starting balance could not be recorded, retry later");

    struct claim prior;
    switch (idempotency_claim(s->issuer, s->endpoint, key, hash, s->command_id, &prior)) {
    case CLAIM_NEW:
        break;
    case CLAIM_REPLAY: {
        int st = reply_stored(c, prior.prior_status, prior.prior_body);
        claim_release(&prior);
        return st;
    }
    case CLAIM_IN_FLIGHT: { /* the first request's ids, not this retry's */
        struct command_spec first = *s;
        first.subject_name = NULL;
        return http_reply_json(c, 202, pending_answer(&first, prior.prior_command_id));
    }
    case CLAIM_KEY_REUSED:
        return http_reply_error(c, 422, "idempotency_key_reused", "Idempotency-Key",
                                "this Idempotency-Key was used with a different request");
    case CLAIM_UNAVAILABLE:
        return http_reply_error(c, 503, "unavailable", NULL,
                                "PostgreSQL is unavailable; nothing was recorded, retry later");
    }

    int status = 500;
    char err[256];
    json_t *doc = append_and_wait(cfg, s, &status, err, sizeof err);
    if (status == 503) {
        if (idempotency_abandon(s->command_id))
            p2p_log(P2P_WARN, "idempotency_abandon", "command %s stays claimed", s->command_id);
        return http_reply_error(c, 503, "unavailable", NULL, "%s; nothing was recorded, retry later",
                                err);
    }
    char *text = doc ? json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(doc);
    if (!text)
        return http_reply_error(c, 500, "internal", NULL,
                                "out of memory; command %s was appended", s->command_id);
    /* The answer is stored only for keyed requests: they are the ones a
     * retry can ask for again. If storing fails the retry gets 202 PENDING. */
    if (key && idempotency_complete(s->command_id, status, text))
        p2p_log(P2P_WARN, "idempotency_complete", "answer of %s not stored", s->command_id);
    status = reply_stored(c, status, text);
    free(text);
    return status;
}

int command_flow_claim_key(struct mg_connection *c, const char *issuer, const char *endpoint,
                           const json_t *body, const char *claim_id, const char **key)
{
    if (read_key(c, key))
        return http_reply_error(c, 400, "invalid_field", "Idempotency-Key",
                                "Idempotency-Key must be 1 to %d visible ASCII characters",
                                IDEMPOTENCY_KEY_MAX);
    if (!*key)
        return 0;
    char *canonical = body ? json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    if (body && !canonical)
        return http_reply_error(c, 503, "unavailable", NULL, "out of memory, retry later");
    char hash[REQUEST_HASH_BUF];
    request_hash(canonical ? canonical : "", canonical ? strlen(canonical) : 0, hash);
    free(canonical);
    struct claim prior;
    int st;
    switch (idempotency_claim(issuer, endpoint, *key, hash, claim_id, &prior)) {
    case CLAIM_NEW:
        return 0;
    case CLAIM_REPLAY:
        st = reply_stored(c, prior.prior_status, prior.prior_body);
        claim_release(&prior);
        return st;
    case CLAIM_IN_FLIGHT:
        return http_reply_json(c, 202, json_pack("{s:s, s:s}", "status", "PENDING", "message",
                                                 "the first request with this Idempotency-Key "
                                                 "is still being answered; retry it"));
    case CLAIM_KEY_REUSED:
        return http_reply_error(c, 422, "idempotency_key_reused", "Idempotency-Key",
                                "this Idempotency-Key was used with a different request");
    case CLAIM_UNAVAILABLE:
        break;
    }
    return http_reply_error(c, 503, "unavailable", NULL,
                            "PostgreSQL is unavailable; nothing was done, retry later");
}
