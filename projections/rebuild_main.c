/* p2p-rebuild: rebuilds every read model from the engine's log while the
 * platform keeps serving (./p2p rebuild).
 *
 *  1. records the run in public.rebuild_runs (status running);
 *  2. creates schema readmodel_new with empty copies of the read-model tables
 *     (p2p_readmodel_create_bare, migration 007);
 *  3. reads every engine output topic from the beginning up to the high
 *     watermarks taken at start, once, folding the events in memory into the
 *     final rows of every table (projections/fold.h: the same rows the live
 *     projector's per-event SQL leaves), showing a progress bar on stderr
 *     (events/s, ETA); then writes each table once with COPY, with the
 *     projector's offsets and stats under the live projector's id;
 *     the tables are bare (logged, no index) until then; then the keys,
 *     indexes and foreign keys are built once (migration 007);
 *  4. verifies the result (status verifying): every account balance sums to
 *     zero, every order agrees with its lines, every fill has its line, every
 *     offer's remaining energy agrees with what was taken from it, and the row
 *     counts equal the events counted by type;
 *  5. catches up with what arrived meanwhile, then swaps the new tables into
 *     public in one transaction (p2p_readmodel_swap; status swapped). Readers
 *     wait on the swap's locks for milliseconds; the live projector's next
 *     batch fails its offset fence and it continues from the new tables.
 * Any failure leaves the live tables untouched, drops the scratch schema and
 * marks the run failed. The last line on stdout is a JSON summary.
 * Environment: as the projector (docs/configuration.md), plus
 * P2P_REBUILD_BATCH (events per transaction while catching up, default 5000). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/p2p_config.h"
#include "common/p2p_log.h"
#include "projections/migrate.h"
#include "projections/projector.h"
#include "projections/rebuild_fold.h"

#define SCRATCH "readmodel_new"
#define REBUILD_LOCK_KEY 7240312 /* pg_advisory_lock key: one rebuild at a time */

static volatile sig_atomic_t running = 1;
static void on_signal(int sig) { (void)sig; running = 0; }

/* PostgreSQL notices (e.g. "drop cascades to ...") into the JSON log. */
static void log_notice(void *arg, const char *message)
{
    (void)arg;
    p2p_log(P2P_DEBUG, "postgres_notice", "%s", message);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Runs one statement on the control connection; returns the first value of
 * the first row (caller frees) or NULL on error/no row with err set. */
static char *query1(PGconn *db, const char *sql, int n, const char *const *values, char *err, size_t errlen)
{
    PGresult *r = PQexecParams(db, sql, n, NULL, values, NULL, NULL, 0);
    char *out = NULL;
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0)
        out = strdup(PQgetisnull(r, 0, 0) ? "" : PQgetvalue(r, 0, 0));
    else if (PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK)
        out = strdup("");
    else
        snprintf(err, errlen, "%s", PQresultErrorMessage(r));
    PQclear(r);
    return out;
}

static int exec1(PGconn *db, const char *sql, int n, const char *const *values, char *err, size_t errlen)
{
    char *v = query1(db, sql, n, values, err, errlen);
    free(v);
    return v ? 0 : -1;
}

struct run {
    PGconn *db;
    char id[24];
    double started;
    uint64_t events;
    int64_t total;
    double last_shown, last_stored;
};

static void progress(struct run *r, bool final)
{
    double t = now_s(), dt = t - r->started;
    if (!final && t - r->last_shown < (isatty(2) ? 0.2 : 2.0))
        return;
    r->last_shown = t;
    double rate = dt > 0 ? r->events / dt : 0;
    double frac = r->total > 0 ? (double)r->events / (double)r->total : 1;
    frac = frac > 1 ? 1 : frac;
    double eta = rate > 0 && r->total > (int64_t)r->events ? (r->total - (double)r->events) / rate : 0;
    char bar[31];
    int filled = (int)(frac * 30);
    for (int i = 0; i < 30; i++)
        bar[i] = i < filled ? '#' : '.';
    bar[30] = '\0';
    fprintf(stderr, "%s[%s] %3.0f%% %llu/%lld events  %.0f events/s  ETA %.0fs%s",
            isatty(2) ? "\r" : "", bar, frac * 100, (unsigned long long)r->events, (long long)r->total,
            rate, eta, isatty(2) && !final ? "" : "\n");
    fflush(stderr);
    if (final || t - r->last_stored >= 1.0) {
        r->last_stored = t;
        char ev[24], ps[32], err[256];
        snprintf(ev, sizeof ev, "%llu", (unsigned long long)r->events);
        snprintf(ps, sizeof ps, "%.1f", rate);
        const char *v[3] = {r->id, ev, ps};
        if (exec1(r->db, "update rebuild_runs set events = $2, events_per_sec = $3 where run_id = $1", 3, v,
                  err, sizeof err))
            p2p_log(P2P_WARN, "rebuild_status", "%s", err);
    }
}

static void fold_progress(void *arg, uint64_t events)
{
    struct run *r = arg;
    r->events = events;
    if ((events & 1023) == 0)
        progress(r, false);
}

/* Projects until every partition reached `high`. */
static int project_until(struct projector *p, struct run *r,
                         int64_t high[PROJECTOR_TOPICS][PROJECTOR_MAX_PARTITIONS])
{
    int failures = 0;
    while (running && !projector_reached(p, high)) {
        int n = projector_run_batch(p);
        if (n < 0 && ++failures > 5)
            return -1;
        if (n > 0)
            r->events += (uint64_t)n;
        progress(r, false);
    }
    return running ? 0 : -1;
}

static int count_of(const struct projector *p, const char *type)
{
    for (int i = 0; projector_type_name(i); i++)
        if (strcmp(projector_type_name(i), type) == 0)
            return (int)p->type_count[i];
    return 0;
}

/* The checks of step 4 on the scratch tables. Returns 0 or -1 with why. */
static int verify(PGconn *db, const struct projector *p, char *why, size_t whylen)
{
    char err[512];
    if (exec1(db, "set search_path = " SCRATCH ", public", 0, NULL, err, sizeof err)) {
        snprintf(why, whylen, "%s", err);
        return -1;
    }
    struct {
        const char *what;
        const char *sql;
        long long want;
    } checks[] = {
        {"sum of all account balances", "select coalesce(sum(balance), 0) from accounts", 0},
        {"orders whose totals differ from their lines",
         "select count(*) from orders o cross join lateral (select sum(quantity_wh) as q, sum(amount) as a,"
         " sum(fee) as f from order_lines l where l.order_id = o.order_id) s"
         " where (o.filled_wh, o.amount, o.fee) is distinct from (s.q, s.a, s.f)",
         0},
        {"fills without their order line",
         "select count(*) from fills f where not exists (select 1 from order_lines l where l.fill_id = f.fill_id)", 0},
        {"offers whose remaining energy differs from what was taken",
         "select count(*) from offers o left join offer_energy e using (offer_id)"
         " where o.remaining_wh <> greatest(0, o.quantity_wh - coalesce(e.taken_wh, 0))",
         0},
        {"orders", "select count(*) from orders", count_of(p, "order.reserved.v1")},
        {"fills", "select count(*) from fills", count_of(p, "fill.v1")},
        {"offers", "select count(*) from offers", count_of(p, "offer.listed.v1")},
        {"offer_rejections", "select count(*) from offer_rejections", count_of(p, "offer.rejected.v1")},
        {"journal_entries", "select count(*) from journal_entries", count_of(p, "journal.entry.v1")},
        {"trust_history", "select count(*) from trust_history", count_of(p, "trust.changed.v1")},
        {"delivery_reports", "select count(*) from delivery_reports", count_of(p, "delivery.settled.v1")},
        {"order_status_history", "select count(*) from order_status_history",
         count_of(p, "order.reserved.v1") + count_of(p, "order.confirmed.v1") +
             count_of(p, "order.cancelled.v1") + count_of(p, "order.expired.v1") +
             count_of(p, "order.settled.v1")},
        {"events applied", "select coalesce(sum(events_applied), 0) from projector_stats", (long long)p->applied},
    };
    int rc = 0;
    for (size_t i = 0; i < sizeof checks / sizeof *checks && rc == 0; i++) {
        char *v = query1(db, checks[i].sql, 0, NULL, err, sizeof err);
        if (!v) {
            snprintf(why, whylen, "%s: %s", checks[i].what, err);
            rc = -1;
        } else if (atoll(v) != checks[i].want) {
            snprintf(why, whylen, "verification failed: %s is %s, expected %lld", checks[i].what, v,
                     checks[i].want);
            rc = -1;
        }
        free(v);
    }
    if (exec1(db, "reset search_path", 0, NULL, err, sizeof err) && rc == 0) {
        snprintf(why, whylen, "%s", err);
        rc = -1;
    }
    return rc;
}

static int set_status(struct run *r, const char *status, const char *message)
{
    char err[512];
    const char *v[3] = {r->id, status, message};
    int rc = exec1(r->db,
                   "update rebuild_runs set status = $2, message = $3,"
                   " finished_at = case when $2 in ('swapped', 'failed') then now() end where run_id = $1",
                   3, v, err, sizeof err);
    if (rc)
        p2p_log(P2P_ERROR, "rebuild_status", "%s", err);
    return rc;
}

static struct projector *projecting; /* stopped by fail() */

static int fail(struct run *r, const char *why)
{
    char err[256];
    if (projecting)
        projector_stop(projecting);
    p2p_log(P2P_ERROR, "rebuild_failed", "%s", why);
    if (r->db) {
        exec1(r->db, "rollback", 0, NULL, err, sizeof err);
        exec1(r->db, "drop schema if exists " SCRATCH " cascade", 0, NULL, err, sizeof err);
        if (r->id[0])
            set_status(r, "failed", why);
        PQfinish(r->db);
        r->db = NULL;
    }
    printf("{\"status\":\"failed\",\"message\":\"see the log\"}\n");
    return 1;
}

int main(void)
{
    static struct projector p;
    static int64_t high[PROJECTOR_TOPICS][PROJECTOR_MAX_PARTITIONS];
    struct run r;
    char err[512], why[768];
    memset(&r, 0, sizeof r);
    p2p_log_init("rebuild");
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    if (p2p_config_load(&p.cfg, err, sizeof err)) {
        p2p_log(P2P_ERROR, "bad_config", "%s", err);
        return 2;
    }
    int64_t batch = 5000;
    if (p2p_env_int("P2P_REBUILD_BATCH", 5000, 1, 100000, &batch, err, sizeof err)) {
        p2p_log(P2P_ERROR, "bad_config", "%s", err);
        return 2;
    }
    r.db = PQconnectdb(p.cfg.pg_conninfo);
    if (PQstatus(r.db) != CONNECTION_OK) {
        snprintf(why, sizeof why, "%s", PQerrorMessage(r.db));
        return fail(&r, why);
    }
    PQsetNoticeProcessor(r.db, log_notice, NULL);
    if (p2p_migrate(r.db, p.cfg.migrations_dir, err, sizeof err) < 0)
        return fail(&r, err);
    char lockq[64];
    snprintf(lockq, sizeof lockq, "select pg_try_advisory_lock(%d)", REBUILD_LOCK_KEY);
    char *locked = query1(r.db, lockq, 0, NULL, err, sizeof err);
    bool have_lock = locked && strcmp(locked, "t") == 0;
    free(locked);
    if (!have_lock) {
        PGconn *db = r.db;
        r.db = NULL; /* leave the other run's scratch schema alone */
        PQfinish(db);
        return fail(&r, "another rebuild is running");
    }
    char *id = query1(r.db,
                      "insert into rebuild_runs (started_at, status) values (now(), 'running') returning run_id",
                      0, NULL, err, sizeof err);
    if (!id || !id[0]) {
        free(id);
        return fail(&r, err);
    }
    snprintf(r.id, sizeof r.id, "%s", id);
    free(id);
    if (exec1(r.db, "select p2p_readmodel_create_bare('" SCRATCH "')", 0, NULL, err, sizeof err))
        return fail(&r, err);

    /* The reader: only a consumer, from the beginning of every partition. */
    static struct projector reader;
    reader.cfg = p.cfg;
    reader.schema = SCRATCH;
    reader.report_eof = true;
    reader.running = &running;
    projecting = &reader;
    if (projector_start_reading(&reader))
        return fail(&r, "cannot start reading the log (see the log)");
    if (projector_high_watermarks(&reader, high, &r.total))
        return fail(&r, "cannot read the topics' high watermarks");
    char total[24];
    snprintf(total, sizeof total, "%lld", (long long)r.total);
    const char *tv[2] = {r.id, total};
    exec1(r.db, "update rebuild_runs set total_events = $2 where run_id = $1", 2, tv, err, sizeof err);
    p2p_log(P2P_INFO, "rebuild_started", "run %s: about %lld records to project into %s", r.id,
            (long long)r.total, SCRATCH);
    r.started = now_s();
    static struct fold folded;
    fold_init(&folded, p.cfg.rules.slot_ms);
    struct rebuild_fold_progress shown = {fold_progress, &r};
    if (fold_stream(&folded, p.cfg.pg_conninfo, SCRATCH, err, sizeof err)) {
        fold_free(&folded);
        return fail(&r, err);
    }
    if (rebuild_fold_log(&reader, &folded, high, &shown)) {
        fold_free(&folded);
        return fail(&r, running ? "reading the log failed (see the log)" : "interrupted");
    }
    projector_stop(&reader);
    projecting = NULL;
    p2p_log(P2P_INFO, "rebuild_folded", "run %s: %llu events folded in %.1f s (%zu MiB of state); writing",
            r.id, (unsigned long long)r.events, now_s() - r.started, folded.arena.used >> 20);
    int written = fold_write(&folded, p.cfg.pg_conninfo, SCRATCH, err, sizeof err) ||
                  rebuild_fold_write_progress(&reader, r.db, SCRATCH, err, sizeof err);
    fold_free(&folded);
    if (written)
        return fail(&r, err);
    double projecting_s = now_s() - r.started;
    r.total = (int64_t)r.events; /* the watermarks also counted transaction markers */
    progress(&r, true);
    uint64_t projected = r.events;
    /* The bookkeeping's keys and the foreign keys (fold_write built the
     * other tables' keys and indexes once each was loaded). */
    double t_finish = now_s();
    if (fold_constrain_table(r.db, SCRATCH, "projector_offsets", err, sizeof err) ||
        fold_constrain_table(r.db, SCRATCH, "projector_stats", err, sizeof err) ||
        exec1(r.db, "select p2p_readmodel_foreign_keys('" SCRATCH "')", 0, NULL, err, sizeof err))
        return fail(&r, err);
    double seconds = now_s() - r.started, finishing = now_s() - t_finish;
    double rate = seconds > 0 ? projected / seconds : 0;

    set_status(&r, "verifying", NULL);
    if (verify(r.db, &reader, why, sizeof why))
        return fail(&r, why);
    /* What arrived meanwhile, with the live projector's code, from the
     * offsets the fold stored. */
    p.schema = SCRATCH;
    p.batch_max = (int)batch;
    p.batch_ms = 500;
    p.report_eof = true;
    p.running = &running;
    projecting = &p;
    if (projector_start(&p))
        return fail(&r, "cannot start projecting (see the log)");
    if (projector_high_watermarks(&p, high, NULL) || project_until(&p, &r, high))
        return fail(&r, "catching up failed (see the log)");
    projector_stop(&p);
    projecting = NULL;

    char ev[24], ps[32];
    snprintf(ev, sizeof ev, "%llu", (unsigned long long)r.events);
    snprintf(ps, sizeof ps, "%.1f", rate);
    const char *sv[3] = {r.id, ev, ps};
    if (exec1(r.db, "begin", 0, NULL, err, sizeof err) ||
        exec1(r.db, "select p2p_readmodel_swap('" SCRATCH "')", 0, NULL, err, sizeof err) ||
        exec1(r.db,
              "update rebuild_runs set status = 'swapped', finished_at = now(), events = $2,"
              " events_per_sec = $3, message = null where run_id = $1",
              3, sv, err, sizeof err) ||
        exec1(r.db, "commit", 0, NULL, err, sizeof err))
        return fail(&r, err);
    p2p_log(P2P_INFO, "rebuild_swapped", "run %s: %llu events in %.2f s (%.0f events/s), swapped in", r.id,
            (unsigned long long)r.events, seconds, rate);
    fprintf(stderr,
            "rebuilt the read models from %llu events in %.1f s (reading, folding, copying and "
            "indexing %.1f s, foreign keys %.1f s): %.0f events/s; swapped in (run %s)\n",
            (unsigned long long)projected, seconds, projecting_s, finishing, rate, r.id);
    printf("{\"status\":\"swapped\",\"run_id\":%s,\"events\":%llu,\"seconds\":%.3f,"
           "\"projecting_seconds\":%.3f,\"finishing_seconds\":%.3f,\"events_per_sec\":%.1f}\n",
           r.id, (unsigned long long)projected, seconds, projecting_s, finishing, rate);
    PQfinish(r.db);
    return 0;
}
