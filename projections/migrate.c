#include "projections/migrate.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MIGRATION_LOCK_KEY 7240311 /* arbitrary, fixed: pg_advisory_lock key for migrations */
#define MAX_MIGRATIONS 256

static int exec_ok(PGconn *db, const char *sql, char *err, size_t errlen)
{
    PGresult *r = PQexec(db, sql);
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
    if (!ok)
        snprintf(err, errlen, "%s", PQerrorMessage(db));
    PQclear(r);
    return ok ? 0 : -1;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = NULL;
    long n = -1;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
        (buf = malloc((size_t)n + 1)) && fread(buf, 1, (size_t)n, f) == (size_t)n)
        buf[n] = '\0';
    else {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    return buf;
}

static int apply_one(PGconn *db, const char *dir, const char *name, char *err, size_t errlen)
{
    const char *params[1] = {name};
    PGresult *r = PQexecParams(db, "select 1 from schema_migrations where version = $1", 1, NULL,
                               params, NULL, NULL, 0);
    int done = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1;
    int failed = PQresultStatus(r) != PGRES_TUPLES_OK;
    PQclear(r);
    if (failed) {
        snprintf(err, errlen, "reading schema_migrations: %s", PQerrorMessage(db));
        return -1;
    }
    if (done)
        return 0;
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    char *sql = slurp(path);
    if (!sql) {
        snprintf(err, errlen, "cannot read %s", path);
        return -1;
    }
    int rc = exec_ok(db, "begin", err, errlen);
    if (!rc && exec_ok(db, sql, err, errlen))
        rc = -1;
    if (!rc) {
        r = PQexecParams(db, "insert into schema_migrations(version) values ($1)", 1, NULL, params,
                         NULL, NULL, 0);
        if (PQresultStatus(r) != PGRES_COMMAND_OK) {
            snprintf(err, errlen, "%s", PQerrorMessage(db));
            rc = -1;
        }
        PQclear(r);
    }
    free(sql);
    if (rc) {
        char ignored[8];
        exec_ok(db, "rollback", ignored, sizeof ignored);
        size_t n = strlen(err);
        snprintf(err + n, errlen - n, " (in %s)", name);
        return -1;
    }
    return exec_ok(db, "commit", err, errlen) ? -1 : 1;
}

int p2p_migrate(PGconn *db, const char *dir, char *err, size_t errlen)
{
    char *names[MAX_MIGRATIONS];
    int n = 0, applied = 0, rc = 0;
    DIR *d = opendir(dir);
    if (!d) {
        snprintf(err, errlen, "cannot open migrations folder %s", dir);
        return -1;
    }
    for (struct dirent *e; (e = readdir(d)) && n < MAX_MIGRATIONS;) {
        size_t len = strlen(e->d_name);
        if (len > 4 && strcmp(e->d_name + len - 4, ".sql") == 0 && (names[n] = strdup(e->d_name)))
            n++;
    }
    closedir(d);
    qsort(names, (size_t)n, sizeof *names, by_name);
    char lock[96];
    snprintf(lock, sizeof lock, "select pg_advisory_lock(%d)", MIGRATION_LOCK_KEY);
    if (exec_ok(db, lock, err, errlen) ||
        exec_ok(db,
                "create table if not exists schema_migrations (version text primary key, "
                "applied_at timestamptz not null default now())",
                err, errlen))
        rc = -1;
    for (int i = 0; rc == 0 && i < n; i++) {
        int r = apply_one(db, dir, names[i], err, errlen);
        if (r < 0)
            rc = -1;
        else
            applied += r;
    }
    char unlock[96], ignored[8];
    snprintf(unlock, sizeof unlock, "select pg_advisory_unlock(%d)", MIGRATION_LOCK_KEY);
    exec_ok(db, unlock, ignored, sizeof ignored);
    for (int i = 0; i < n; i++)
        free(names[i]);
    return rc ? -1 : applied;
}
