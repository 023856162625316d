#include "gateway/pg_prepared.h"

#include <libpq-events.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/p2p_log.h"

#define PREPARED_MAX 32
#define PREPARED_MAX_AGE_MS 10000

#define SQLSTATE_NO_SUCH_STATEMENT "26000"
#define SQLSTATE_DUPLICATE_STATEMENT "42P05"

/* What one server session holds: each statement and when it was prepared. */
struct session {
    int n;
    const struct pg_statement *prepared[PREPARED_MAX];
    int64_t prepared_at_ms[PREPARED_MAX];
};

static int on_event(PGEventId id, void *info, void *pass_through)
{
    (void)pass_through;
    switch (id) {
    case PGEVT_REGISTER: {
        PGconn *db = ((PGEventRegister *)info)->conn;
        struct session *s = calloc(1, sizeof *s);
        if (s && PQsetInstanceData(db, on_event, s))
            return 1;
        free(s);
        return 0;
    }
    case PGEVT_CONNRESET: {
        struct session *s = PQinstanceData(((PGEventConnReset *)info)->conn, on_event);
        if (s)
            memset(s, 0, sizeof *s);
        return 1;
    }
    case PGEVT_CONNDESTROY:
        free(PQinstanceData(((PGEventConnDestroy *)info)->conn, on_event));
        return 1;
    default:
        return 1;
    }
}

static int64_t monotonic_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static struct session *session_of(PGconn *db)
{
    struct session *s = PQinstanceData(db, on_event);
    if (!s && PQregisterEventProc(db, on_event, "p2p_prepared", NULL))
        s = PQinstanceData(db, on_event);
    return s;
}

/* Index of st among the session's statements, or -1. */
static int slot_of(const struct session *s, const struct pg_statement *st)
{
    for (int i = 0; i < s->n; i++)
        if (s->prepared[i] == st)
            return i;
    return -1;
}

static bool has_state(const PGresult *r, const char *sqlstate)
{
    const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    return state && strcmp(state, sqlstate) == 0;
}

/* Prepares st in the session, into slot i (a new one when -1; an old
 * preparation there is deallocated first). Returns true, or false with the
 * failed result in *failed (NULL when out of memory). */
static bool prepare(PGconn *db, struct session *s, int i, const struct pg_statement *st,
                    PGresult **failed)
{
    if (i >= 0) {
        char sql[96];
        snprintf(sql, sizeof sql, "deallocate %s", st->name);
        PGresult *r = PQexec(db, sql);
        bool gone =
            PQresultStatus(r) == PGRES_COMMAND_OK || has_state(r, SQLSTATE_NO_SUCH_STATEMENT);
        if (!gone) {
            p2p_log(P2P_WARN, "statement_prepare", "deallocate %s: %s", st->name,
                    PQerrorMessage(db));
            *failed = r;
            return false;
        }
        PQclear(r);
    }
    PGresult *r = PQprepare(db, st->name, st->sql, st->nparams, NULL);
    if (PQresultStatus(r) != PGRES_COMMAND_OK && !has_state(r, SQLSTATE_DUPLICATE_STATEMENT)) {
        p2p_log(P2P_WARN, "statement_prepare", "%s: %s", st->name, PQerrorMessage(db));
        *failed = r;
        return false;
    }
    PQclear(r);
    if (i < 0)
        i = s->n++;
    s->prepared[i] = st;
    s->prepared_at_ms[i] = monotonic_ms();
    return true;
}

PGresult *pg_prepared_exec(PGconn *db, const struct pg_statement *st, const char *const *params)
{
    struct session *s = session_of(db);
    if (!s || (s->n == PREPARED_MAX && slot_of(s, st) < 0)) /* untracked: run it unprepared */
        return PQexecParams(db, st->sql, st->nparams, NULL, params, NULL, NULL, 0);
    for (int attempt = 0;; attempt++) {
        int i = slot_of(s, st);
        PGresult *failed;
        if ((i < 0 || monotonic_ms() - s->prepared_at_ms[i] > PREPARED_MAX_AGE_MS) &&
            !prepare(db, s, i, st, &failed))
            return failed;
        PGresult *r = PQexecPrepared(db, st->name, st->nparams, params, NULL, NULL, 0);
        /* the server session lost its statements without a libpq reset
         * (DISCARD ALL): forget them all and prepare again, once */
        if (attempt == 0 && has_state(r, SQLSTATE_NO_SUCH_STATEMENT) &&
            PQtransactionStatus(db) == PQTRANS_IDLE) {
            PQclear(r);
            memset(s, 0, sizeof *s);
            continue;
        }
        return r;
    }
}
