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
 * Plans: PostgreSQL's default (plan_cache_mode = auto): the first five
 * executions are planned for their parameters, then the generic plan is kept
 * when it costs no more. The inserts (Idempotency-Key claim, demo balance)
 * scan nothing, any plan of theirs is right. Every other statement looks rows
 * up by a key (primary or unique index) in a table that starts empty and grows without bound (orders with their lines and
 * history, api_commands, command_results, demo_balances); a generic plan
 * made while such a table was a page or two may be a sequential scan, and it
 * would otherwise stay until an autovacuum ANALYZE invalidates it, which at
 * 1,000 orders/s can be tens of thousands of rows later. So a statement is
 * prepared again once it is 10 s old (PREPARED_MAX_AGE_MS): a stale plan lasts
 * seconds, while the planning is still paid a few times per connection per
 * interval rather than per call. Forcing custom plans instead was measured
 * and rejected: the order read (a three-table join) costs ~0.25 ms to plan,
 * more than the three unprepared queries it replaces for an order not yet
 * visible, and the e2e benchmark's polls got slower. */
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
