#include "projections/pipeline.h"

#include <stdlib.h>
#include <string.h>

#include "common/p2p_log.h"

int pipeline_begin(struct pipeline *pl, PGconn *db)
{
    memset(pl, 0, sizeof *pl);
    pl->db = db;
    if (PQenterPipelineMode(db) != 1) {
        p2p_log(P2P_ERROR, "pipeline_failed", "cannot enter pipeline mode: %s", PQerrorMessage(db));
        pl->failed = true;
        return -1;
    }
    return 0;
}

static void fail(struct pipeline *pl, const char *what, const char *message)
{
    if (!pl->failed)
        p2p_log(P2P_ERROR, "projection_failed", "%s: %s", what, message);
    pl->failed = true;
}

void pipeline_send(struct pipeline *pl, const char *stmt, int n, const char *const *values,
                   long expect_rows, const char *what)
{
    if (pl->failed)
        return;
    if (expect_rows >= 0) {
        if (pl->nchecks == PIPELINE_MAX_CHECKS && pipeline_drain(pl))
            return;
        pl->checks[pl->nchecks].index = pl->pending;
        pl->checks[pl->nchecks].rows = expect_rows;
        pl->checks[pl->nchecks].what = what;
        pl->nchecks++;
    }
    if (!PQsendQueryPrepared(pl->db, stmt, n, values, NULL, NULL, 0)) {
        fail(pl, stmt, PQerrorMessage(pl->db));
        return;
    }
    if (++pl->pending >= PIPELINE_DRAIN_EVERY)
        pipeline_drain(pl);
}

void pipeline_send_sql(struct pipeline *pl, const char *sql)
{
    if (pl->failed && strcmp(sql, "rollback") != 0)
        return;
    if (!PQsendQueryParams(pl->db, sql, 0, NULL, NULL, NULL, NULL, 0)) {
        fail(pl, sql, PQerrorMessage(pl->db));
        return;
    }
    pl->pending++;
}

/* The expected row count of statement `index`, or -1 when unchecked. */
static long expected(const struct pipeline *pl, int index, const char **what)
{
    for (int i = 0; i < pl->nchecks; i++)
        if (pl->checks[i].index == index) {
            *what = pl->checks[i].what;
            return pl->checks[i].rows;
        }
    return -1;
}

int pipeline_drain(struct pipeline *pl)
{
    if (PQpipelineSync(pl->db) != 1) {
        fail(pl, "sync", PQerrorMessage(pl->db));
        return -1;
    }
    /* Each statement answers with one result then NULL; the sync with
     * PGRES_PIPELINE_SYNC. */
    int index = 0;
    for (;;) {
        PGresult *r = PQgetResult(pl->db);
        if (!r) {
            if (PQstatus(pl->db) != CONNECTION_OK || ++index > pl->pending + 1) {
                fail(pl, "sync", PQerrorMessage(pl->db));
                return -1;
            }
            continue;
        }
        ExecStatusType st = PQresultStatus(r);
        if (st == PGRES_PIPELINE_SYNC) {
            PQclear(r);
            break;
        }
        if (st == PGRES_FATAL_ERROR) {
            fail(pl, "statement", PQresultErrorMessage(r));
        } else if (st == PGRES_PIPELINE_ABORTED) {
            pl->failed = true;
        } else if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
            const char *what = NULL;
            long want = expected(pl, index, &what);
            if (want >= 0 && atol(PQcmdTuples(r)) != want) {
                if (!pl->failed)
                    p2p_log(P2P_WARN, "projection_conflict", "%s changed %s rows, expected %ld",
                            what, PQcmdTuples(r), want);
                pl->failed = true;
            }
        } else {
            fail(pl, "statement", PQresStatus(st));
        }
        PQclear(r);
    }
    pl->pending = 0;
    pl->nchecks = 0;
    return pl->failed ? -1 : 0;
}

int pipeline_end(struct pipeline *pl)
{
    int rc = pipeline_drain(pl);
    if (PQexitPipelineMode(pl->db) != 1) {
        p2p_log(P2P_ERROR, "pipeline_failed", "cannot leave pipeline mode: %s", PQerrorMessage(pl->db));
        return -1;
    }
    return rc;
}
