/* Shared plumbing of the read endpoints (discover, wallet, trust, market,
 * seller views, rebuild status): one parameterised read query on a pooled
 * PostgreSQL connection, typed access to result columns, and the query-string
 * parameters every list takes. Each function that can fail answers the client
 * itself (503 when PostgreSQL cannot serve, 400 naming the parameter) and
 * returns the status, so handlers just pass it on. */
#ifndef P2P_GATEWAY_READ_DB_H
#define P2P_GATEWAY_READ_DB_H

#include <civetweb.h>
#include <jansson.h>
#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>

#include "gateway/pg_prepared.h"

/* Runs `sql` with n text parameters (NULL = SQL null) on a pooled
 * connection. Returns the rows (caller PQclear()s) or NULL after answering 503. */
PGresult *read_db_query(struct mg_connection *c, const char *sql, int n,
                        const char *const *params);

/* read_db_query for a prepared statement (gateway/pg_prepared.h): the hot
 * reads, prepared once per pooled connection. */
PGresult *read_db_prepared(struct mg_connection *c, const struct pg_statement *s,
                           const char *const *params);

/* Column value as an integer (0 when null). */
int64_t read_db_int(const PGresult *r, int row, int col);

/* Column value as a JSON integer, or JSON null when null. */
json_t *read_db_int_or_null(const PGresult *r, int row, int col);

/* Column value (ms since the epoch) as an RFC 3339 UTC string, or JSON null. */
json_t *read_db_time(const PGresult *r, int row, int col, bool with_ms);

/* Integer query parameter `name` in [min, max] into *out (fallback when
 * absent). Returns 0, or 400 after answering invalid_field naming it. */
int read_db_query_int(struct mg_connection *c, const char *name, int64_t min, int64_t max,
                      int64_t fallback, int64_t *out);

/* RFC 3339 UTC query parameter `name` into *out_ms; *present says whether it
 * was given. Returns 0, or 400 after answering invalid_field naming it. */
int read_db_query_time(struct mg_connection *c, const char *name, int64_t *out_ms,
                       bool *present);

/* Answers 404 unless the request is for exactly `path` (civetweb also hands
 * a handler the paths below its own), 405 unless its method is `method`.
 * Returns 0, 404 or 405. */
int read_db_route(struct mg_connection *c, const char *path, const char *method);

#endif
