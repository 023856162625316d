#include "gateway/idempotency.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/p2p_log.h"
#include "gateway/pg_pool.h"
#include "gateway/pg_prepared.h"

#define PG_WAIT_MS 2000

void request_hash(const char *bytes, size_t len, char out[REQUEST_HASH_BUF])
{
    unsigned char h[32];
    crypto_generichash(h, sizeof h, (const unsigned char *)bytes, len, NULL, 0);
    sodium_bin2hex(out, REQUEST_HASH_BUF, h, sizeof h);
}

static const struct pg_statement claim_insert = {
    "idempotency_claim",
    "insert into public.api_commands"
    " (command_id, issuer, endpoint, idempotency_key, request_hash)"
    " values ($1, $2, $3, $4, $5)"
    " on conflict (issuer, endpoint, idempotency_key)"
    " where idempotency_key is not null do nothing returning 1",
    5};
static const struct pg_statement claim_lookup = {
    "idempotency_lookup",
    "select request_hash, status, response, command_id from public.api_commands"
    " where issuer = $1 and endpoint = $2 and idempotency_key = $3",
    3};
static const struct pg_statement complete_update = {
    "idempotency_complete",
    "update public.api_commands set status = $2::int, response = $3,"
    " completed_at = now() where command_id = $1",
    3};
static const struct pg_statement abandon_delete = {
    "idempotency_abandon", "delete from public.api_commands where command_id = $1", 1};
static const struct pg_statement issuer_check = {
    "idempotency_issued_by",
    "select 1 from public.api_commands where command_id = $1 and issuer = $2", 2};

/* Runs one prepared statement; NULL (logged) unless it returned `want`. */
static PGresult *run(PGconn *db, const struct pg_statement *s, const char *const *params,
                     ExecStatusType want)
{
    PGresult *r = pg_prepared_exec(db, s, params);
    if (PQresultStatus(r) != want) {
        p2p_log(P2P_WARN, "idempotency_query", "%s", PQerrorMessage(db));
        PQclear(r);
        return NULL;
    }
    return r;
}

enum claim_result idempotency_claim(const char *issuer, const char *endpoint, const char *key,
                                    const char *hash, const char *command_id, struct claim *out)
{
    memset(out, 0, sizeof *out);
    PGconn *db = pg_pool_get(PG_WAIT_MS);
    if (!db)
        return CLAIM_UNAVAILABLE;
    const char *params[5] = {command_id, issuer, endpoint, key, hash};
    enum claim_result result = CLAIM_UNAVAILABLE;
    PGresult *r = run(db, &claim_insert, params, PGRES_TUPLES_OK);
    if (r && PQntuples(r) == 1)
        result = CLAIM_NEW;
    if (r && PQntuples(r) == 0) {
        PQclear(r);
        const char *q[3] = {issuer, endpoint, key};
        r = run(db, &claim_lookup, q, PGRES_TUPLES_OK);
        if (r && PQntuples(r) == 1) {
            snprintf(out->prior_command_id, sizeof out->prior_command_id, "%s",
                     PQgetvalue(r, 0, 3));
            if (strcmp(PQgetvalue(r, 0, 0), hash) != 0) {
                result = CLAIM_KEY_REUSED;
            } else if (PQgetisnull(r, 0, 1)) {
                result = CLAIM_IN_FLIGHT;
            } else if ((out->prior_body = strdup(PQgetvalue(r, 0, 2)))) {
                out->prior_status = atoi(PQgetvalue(r, 0, 1));
                result = CLAIM_REPLAY;
            }
        }
    }
    PQclear(r);
    pg_pool_put(db);
    return result;
}

int idempotency_complete(const char *command_id, int status, const char *body)
{
    PGconn *db = pg_pool_get(PG_WAIT_MS);
    if (!db)
        return -1;
    char status_text[16];
    snprintf(status_text, sizeof status_text, "%d", status);
    const char *params[3] = {command_id, status_text, body};
    PGresult *r = run(db, &complete_update, params, PGRES_COMMAND_OK);
    int rc = r ? 0 : -1;
    PQclear(r);
    pg_pool_put(db);
    return rc;
}

int idempotency_abandon(const char *command_id)
{
    PGconn *db = pg_pool_get(PG_WAIT_MS);
    if (!db)
        return -1;
    const char *params[1] = {command_id};
    PGresult *r = run(db, &abandon_delete, params, PGRES_COMMAND_OK);
    int rc = r ? 0 : -1;
    PQclear(r);
    pg_pool_put(db);
    return rc;
}

int idempotency_issued_by(const char *command_id, const char *issuer)
{
    PGconn *db = pg_pool_get(PG_WAIT_MS);
    if (!db)
        return -1;
    const char *params[2] = {command_id, issuer};
    PGresult *r = run(db, &issuer_check, params, PGRES_TUPLES_OK);
    int found = r ? PQntuples(r) == 1 : -1;
    PQclear(r);
    pg_pool_put(db);
    return found;
}

void claim_release(struct claim *c)
{
    free(c->prior_body);
    c->prior_body = NULL;
}
