#include "gateway/pg_prepared.h"

#include <libpq-events.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/p2p_log.h"

#define PREPARED_MAX 32

#define SQLSTATE_NO_SUCH_STATEMENT "26000"
#define SQLSTATE_DUPLICATE_STATEMENT "42P05"

/* What one server session holds. */
struct session {
    bool configured; /* plan_cache_mode set */
    int n;
    const struct pg_statement *prepared[PREPARED_MAX];
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

static struct session *session_of(PGconn *db)
{
    struct session *s = PQinstanceData(db, on_event);
    if (!s && PQregisterEventProc(db, on_event, "p2p_prepared", NULL))
        s = PQinstanceData(db, on_event);
    return s;
}

static bool held(const struct session *s, const struct pg_statement *st)
{
    for (int i = 0; i < s->n; i++)
        if (s->prepared[i] == st)
            return true;
    return false;
}

static bool has_state(const PGresult *r, const char *sqlstate)
{
    const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    return state && strcmp(state, sqlstate) == 0;
}

/* Sets the session up and prepares st in it. Returns true, or false with
 * the failed result in *failed (NULL when out of memory). */
static bool prepare(PGconn *db, struct session *s, const struct pg_statement *st,
                    PGresult **failed)
{
    if (!s->configured) {
        PGresult *r = PQexec(db, "set plan_cache_mode = force_custom_plan");
        if (PQresultStatus(r) != PGRES_COMMAND_OK) {
            p2p_log(P2P_WARN, "statement_prepare", "plan_cache_mode: %s", PQerrorMessage(db));
            *failed = r;
            return false;
        }
        PQclear(r);
        s->configured = true;
    }
    PGresult *r = PQprepare(db, st->name, st->sql, st->nparams, NULL);
    if (PQresultStatus(r) != PGRES_COMMAND_OK && !has_state(r, SQLSTATE_DUPLICATE_STATEMENT)) {
        p2p_log(P2P_WARN, "statement_prepare", "%s: %s", st->name, PQerrorMessage(db));
        *failed = r;
        return false;
    }
    PQclear(r);
    s->prepared[s->n++] = st;
    return true;
}

PGresult *pg_prepared_exec(PGconn *db, const struct pg_statement *st, const char *const *params)
{
    struct session *s = session_of(db);
    if (!s || (s->n == PREPARED_MAX && !held(s, st))) /* cannot track it: run it unprepared */
        return PQexecParams(db, st->sql, st->nparams, NULL, params, NULL, NULL, 0);
    for (int attempt = 0;; attempt++) {
        PGresult *failed;
        if (!held(s, st) && !prepare(db, s, st, &failed))
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
