/* The one path every command endpoint of the client, seller and operator APIs
 * takes once a request is validated: record the command (and claim its
 * Idempotency-Key), register for the engine's answer, append the command to
 * Kafka, wait up to P2P_DECISION_WAIT_MS for the decision and answer with it
 * (2xx built by the endpoint, or the engine's rejection as 4xx), or 202
 * PENDING with a status URL past the wait. A retry with the same key gets the
 * stored answer; the same key with another body gets 422.
 *
 * In demo mode (DEMO_START_BALANCE > 0 and P2P_DEV_AUTH=1) a user's first
 * command is preceded by a one-time deposit of that balance. */
#ifndef P2P_GATEWAY_COMMAND_FLOW_H
#define P2P_GATEWAY_COMMAND_FLOW_H

#include <civetweb.h>
#include <jansson.h>
#include <stdint.h>

#include "common/p2p_config.h"
#include "common/p2p_id.h"

#define OPERATOR_ISSUER "@operator" /* not a user id: those start with a letter or digit */

struct command_spec {
    const char *endpoint;     /* method and path: scopes the Idempotency-Key */
    const char *issuer;       /* user id, or OPERATOR_ISSUER */
    const json_t *body;       /* the request body (hashed for idempotency); NULL when none */
    const char *topic_suffix; /* "orders", "offers", "participants" */
    const char *ce_type;      /* full CloudEvents type */
    const char *command_json; /* the command's value */
    char command_id[P2P_UUID_BUF];
    int64_t issued_at_ms;
    const char *const *outcomes; /* decisive answers, ce_types after "energy.p2p." */
    const char *match_field;     /* optional, see decisions_expect */
    const char *match_value;
    /* Builds the 2xx answer from the decisive (non-rejection) event; sets
     * *status. Returns a new document, or NULL (out of memory). */
    json_t *(*accepted)(const struct p2p_config *cfg, const char *type, json_t *event,
                        int *status);
    const char *subject_name; /* e.g. "order_id": repeated in the 202 answer */
    const char *subject_id;
};

/* Reads DEMO_START_BALANCE. Returns 0 or -1 with err. */
int command_flow_start(const struct p2p_config *cfg, char *err, size_t errlen);

/* Fills command_id and issued_at_ms of a new spec. */
void command_spec_init(struct command_spec *s);

/* Runs the command and answers the client. Returns the HTTP status. */
int command_flow_run(struct mg_connection *c, const struct p2p_config *cfg,
                     const struct command_spec *s);

/* The Idempotency-Key of a request that acts without a Kafka command (the
 * network API): checks the header and, when there is one, claims it for
 * claim_id under (issuer, endpoint, canonical body). Returns 0 when the
 * request goes ahead (*key NULL: it has none, nothing to keep), or the HTTP
 * status after answering itself: the stored answer of the key's first
 * request, 202 PENDING while that one runs, 422 for another body, 400 for a
 * malformed key, 503. The caller keeps the answer (idempotency_complete) or
 * drops the claim (idempotency_abandon). */
int command_flow_claim_key(struct mg_connection *c, const char *issuer, const char *endpoint,
                           const json_t *body, const char *claim_id, const char **key);

/* Reads and parses the JSON object body of a write request; answers 4xx
 * itself (returning the status) when it cannot. */
int command_flow_read_body(struct mg_connection *c, const struct p2p_config *cfg, json_t **body);

/* Answers 400 unknown_field when body has a key not in `fields` (NULL-ended). */
int command_flow_only_fields(struct mg_connection *c, const json_t *body,
                             const char *const *fields, const char *what);

/* "2026-11-25T10:00:00Z" from epoch milliseconds. */
json_t *command_flow_time(int64_t ms);

#endif
