/* Prepared statements for the gateway's hot request paths (buy, Idempotency-Key
 * store, order and command reads). A statement is a static (name, sql,
 * nparams) triple; the first time it runs on a pooled connection it is
 * PREPAREd there under its name, afterwards only executed: PostgreSQL parses
 * and analyses it once per connection instead of once per call.
 *
 * Which statements a connection holds is kept with the connection (libpq
 * instance data of an event procedure), forgotten when libpq resets it (a
 * reset connection is a new server session that holds none) and freed with it.
 *
 * Plans: a session that runs prepared statements uses plan_cache_mode =
 * force_custom_plan, so every execution is still planned for its parameters
 * and the tables' current size. Each of these statements looks rows up by a
 * key in a table that starts empty and grows without bound (orders, their
 * lines and history, api_commands, command_results): a generic plan built
 * while a table was small could keep a sequential scan until the next
 * autovacuum ANALYZE invalidates it, which at 1,000 orders/s can be tens of
 * thousands of rows later. The planning kept costs ~0.04 ms per query; the
 * parse and analysis saved ~0.18 ms (pgbench, 17-column lookup by primary key:
 * unprepared 0.34 ms, prepared custom 0.16 ms, prepared generic 0.12 ms). The
 * unprepared statements the gateway also runs are planned per call in either
 * mode, so the setting does not change them. */
#ifndef P2P_GATEWAY_PG_PREPARED_H
#define P2P_GATEWAY_PG_PREPARED_H

#include <libpq-fe.h>

struct pg_statement {
    const char *name; /* unique among the gateway's statements */
    const char *sql;
    int nparams;
};

/* Runs s with its nparams text parameters (NULL = SQL null) on db, preparing
 * it there first when db does not hold it yet. Returns the result: the caller
 * checks its status and PQclear()s it (a failure is a result with an error
 * status, or NULL when out of memory; PQerrorMessage(db) says why). */
PGresult *pg_prepared_exec(PGconn *db, const struct pg_statement *s, const char *const *params);

#endif
