/* Versioned schema migrations: every `NNN_name.sql` file of a folder is applied
 * once, in name order, each in its own transaction, recorded in
 * schema_migrations. Concurrent starters serialise on an advisory lock, so two
 * processes never apply the same file. */
#ifndef P2P_MIGRATE_H
#define P2P_MIGRATE_H

#include <libpq-fe.h>
#include <stddef.h>

/* Returns the number of files applied (0 when up to date), or -1 with err. */
int p2p_migrate(PGconn *db, const char *dir, char *err, size_t errlen);

#endif
