/* A fixed pool of PostgreSQL connections for the gateway's reads. A handler
 * borrows one connection, runs its queries and gives it back; a broken
 * connection is reset when returned. Waiting for a free connection is bounded
 * so a stalled database yields a 503, never a hung request. */
#ifndef P2P_PG_POOL_H
#define P2P_PG_POOL_H

#include <libpq-fe.h>

int pg_pool_start(const char *conninfo, int size);
void pg_pool_stop(void);

/* Borrows a healthy connection, waiting up to timeout_ms. NULL when none is
 * available or the database is unreachable. */
PGconn *pg_pool_get(int timeout_ms);
void pg_pool_put(PGconn *db);

#endif
