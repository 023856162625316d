#include "gateway/read_db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/p2p_log.h"
#include "common/p2p_time.h"
#include "gateway/http.h"
#include "gateway/pg_pool.h"

#define PG_WAIT_MS 2000

/* Runs s (prepared) or sql (not) with params on a pooled connection. */
static PGresult *run(struct mg_connection *c, const struct pg_statement *s, const char *sql,
                     int n, const char *const *params)
{
    PGconn *db = pg_pool_get(PG_WAIT_MS);
    if (!db) {
        http_reply_error(c, 503, "unavailable", NULL, "PostgreSQL is unavailable, retry later");
        return NULL;
    }
    PGresult *r = s ? pg_prepared_exec(db, s, params)
                    : PQexecParams(db, sql, n, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        p2p_log(P2P_WARN, "query_failed", "%s", PQerrorMessage(db));
        PQclear(r);
        r = NULL;
        http_reply_error(c, 503, "unavailable", NULL, "PostgreSQL could not answer, retry later");
    }
    pg_pool_put(db);
    return r;
}

PGresult *read_db_query(struct mg_connection *c, const char *sql, int n,
                        const char *const *params)
{
    return run(c, NULL, sql, n, params);
}

PGresult *read_db_prepared(struct mg_connection *c, const struct pg_statement *s,
                           const char *const *params)
{
    return run(c, s, NULL, s->nparams, params);
}

int64_t read_db_int(const PGresult *r, int row, int col)
{
    return PQgetisnull(r, row, col) ? 0 : atoll(PQgetvalue(r, row, col));
}

json_t *read_db_int_or_null(const PGresult *r, int row, int col)
{
    if (PQgetisnull(r, row, col))
        return json_null();
    return json_integer((json_int_t)atoll(PQgetvalue(r, row, col)));
}

json_t *read_db_time(const PGresult *r, int row, int col, bool with_ms)
{
    if (PQgetisnull(r, row, col))
        return json_null();
    char buf[P2P_TIME_BUF];
    p2p_time_format(atoll(PQgetvalue(r, row, col)), with_ms, buf);
    return json_string(buf);
}

int read_db_query_int(struct mg_connection *c, const char *name, int64_t min, int64_t max,
                      int64_t fallback, int64_t *out)
{
    char text[24];
    int len = http_query(c, name, text, sizeof text);
    if (len == -1) {
        *out = fallback;
        return 0;
    }
    char *end = text;
    long long v = len > 0 ? strtoll(text, &end, 10) : 0;
    if (len <= 0 || (text[0] != '-' && (text[0] < '0' || text[0] > '9')) || *end || v < min ||
        v > max)
        return http_reply_error(c, 400, "invalid_field", name, "%s must be an integer from %lld to %lld",
                                name, (long long)min, (long long)max);
    *out = v;
    return 0;
}

int read_db_query_time(struct mg_connection *c, const char *name, int64_t *out_ms, bool *present)
{
    char text[40];
    int len = http_query(c, name, text, sizeof text);
    *present = len != -1;
    if (!*present)
        return 0;
    if (len <= 0 || p2p_time_parse(text, out_ms))
        return http_reply_error(c, 400, "invalid_field", name,
                                "%s must be an RFC 3339 UTC time such as 2026-11-25T10:00:00Z", name);
    return 0;
}

int read_db_route(struct mg_connection *c, const char *path, const char *method)
{
    const struct mg_request_info *ri = mg_get_request_info(c);
    if (strcmp(ri->local_uri, path) != 0)
        return http_reply_error(c, 404, "not_found", NULL, "no such endpoint");
    if (strcmp(ri->request_method, method) != 0)
        return http_reply_error(c, 405, "method_not_allowed", NULL, "use %s", method);
    return 0;
}
