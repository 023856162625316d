/* The fold's life cycle and event dispatch (projections/fold.h). */
#include "projections/fold.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/p2p_log.h"

void fold_init(struct fold *f, int64_t slot_ms)
{
    memset(f, 0, sizeof *f);
    f->slot_ms = slot_ms > 0 ? slot_ms : 1;
}

void fold_free(struct fold *f)
{
    struct fold_map *maps[] = {&f->offers, &f->rejections, &f->orders,   &f->lines,
                               &f->fills,  &f->participants, &f->accounts, &f->commands};
    struct copy_buf *bufs[] = {&f->rejection_rows, &f->history_rows, &f->delivery_rows,
                               &f->trust_rows,     &f->entry_rows,   &f->posting_rows, &f->answer_rows};
    fold_commands_free(f);
    for (size_t i = 0; i < sizeof maps / sizeof *maps; i++)
        fold_map_free(maps[i]);
    for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++)
        copy_free(bufs[i]);
    fold_arena_free(&f->arena);
}

const char *fold_str(struct fold *f, const char *s)
{
    return fold_arena_strdup(&f->arena, s, &f->oom);
}

const char *fold_member_str(struct fold *f, const json_t *obj, const char *key)
{
    return fold_str(f, json_string_value(json_object_get(obj, key)));
}

struct fold_offer *fold_offer_ref(struct fold *f, const char *offer_id)
{
    if (!offer_id)
        offer_id = "";
    struct fold_offer *o = fold_map_get(&f->offers, offer_id);
    if (o)
        return o;
    o = fold_arena_alloc(&f->arena, sizeof *o);
    if (!o || !(o->offer_id = fold_str(f, offer_id)) || fold_map_put(&f->offers, o->offer_id, o)) {
        f->oom = true;
        return NULL;
    }
    return o;
}

/* The insert-only tables' rows (fold_stream) and their columns. */
#define STREAMED 7
static struct copy_buf *streamed(struct fold *f, int i, const char **table, const char **columns)
{
    static const char *const tables[STREAMED][2] = {
        {"journal_postings", "(event_id, n, account, amount)"},
        {"journal_entries", "(event_id, command_id, reason, ref_id, currency, at_ms)"},
        {"order_status_history", "(event_id, order_id, status, at_ms, detail)"},
        {"trust_history",
         "(event_id, participant_id, old_score, new_score, delta, reason, ref_id, tier, trade_limit_wh, at_ms)"},
        {"delivery_reports",
         "(fill_id, event_id, order_id, seller_id, buyer_id, quantity_wh, delivered_wh, curtailed_wh,"
         " seller_paid, buyer_refund, platform_fee, at_ms)"},
        {"offer_rejections",
         "(event_id, offer_id, command_id, seller_id, code, field, message, rejected_at_ms, event_offset)"},
        {"command_results",
         "(command_id, outcome, event_type, subject_id, actor_id, result, at_ms, event_id, answer_rank, event_n)"},
    };
    struct copy_buf *bufs[STREAMED] = {&f->posting_rows, &f->entry_rows, &f->history_rows,
                                       &f->trust_rows,   &f->delivery_rows, &f->rejection_rows,
                                       &f->answer_rows};
    if (table) {
        *table = tables[i][0];
        *columns = tables[i][1];
    }
    return bufs[i];
}

int fold_stream(struct fold *f, const char *conninfo, const char *schema, char *err, size_t errlen)
{
    for (int i = 0; i < STREAMED; i++) {
        const char *table, *columns;
        struct copy_buf *b = streamed(f, i, &table, &columns);
        char sql[1024];
        snprintf(sql, sizeof sql, "copy %s.%s %s from stdin", schema, table, columns);
        if (copy_stream_start(b, conninfo, sql, err, errlen))
            return -1;
    }
    return 0;
}

int fold_event(struct fold *f, const struct projected_event *e)
{
    if (fold_offers_event(f, e) || fold_orders_event(f, e) || fold_fills_event(f, e) ||
        fold_participants_event(f, e) ||
        fold_accounts_event(f, e) || fold_commands_event(f, e) || f->oom)
        return -1;
    for (int i = 0; i < STREAMED; i++)
        copy_stream_pump(streamed(f, i, NULL, NULL));
    return 0;
}

int fold_copy(PGconn *db, const char *schema, const char *table, const char *columns,
              struct copy_buf *b, char *err, size_t errlen)
{
    char sql[1024];
    snprintf(sql, sizeof sql, "copy %s.%s %s from stdin", schema, table, columns);
    return copy_send(db, sql, b, err, errlen);
}

/* The tables are written by WRITERS threads, each on its own connection,
 * so that PostgreSQL loads several tables at once. Each group only reads the
 * fold, except market_slots (the arena), which only its group touches. */
#define WRITERS 4

typedef int (*table_writer)(struct fold *f, PGconn *db, const char *schema, char *err, size_t errlen);

struct writer_job {
    const char *name;
    struct fold *f;
    const char *conninfo, *schema;
    table_writer writers[4];
    const char *tables[10]; /* whose keys and indexes it then builds */
    int rc;
    double seconds;
    char err[512];
};

static void *writer_main(void *arg)
{
    struct writer_job *job = arg;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    PGconn *db = PQconnectdb(job->conninfo);
    job->rc = -1;
    if (PQstatus(db) != CONNECTION_OK) {
        snprintf(job->err, sizeof job->err, "%s", PQerrorMessage(db));
    } else {
        PGresult *r = PQexec(db, "set synchronous_commit = off; set maintenance_work_mem = '256MB'");
        PQclear(r);
        job->rc = 0;
        for (int i = 0; i < 4 && job->writers[i] && job->rc == 0; i++)
            job->rc = job->writers[i](job->f, db, job->schema, job->err, sizeof job->err);
        for (int i = 0; i < 10 && job->tables[i] && job->rc == 0; i++)
            job->rc = fold_constrain_table(db, job->schema, job->tables[i], job->err, sizeof job->err);
    }
    PQfinish(db);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    job->seconds = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
    return NULL;
}

int fold_constrain_table(PGconn *db, const char *schema, const char *table, char *err, size_t errlen)
{
    const char *values[2] = {schema, table};
    PGresult *r = PQexecParams(db, "select p2p_readmodel_constrain_table($1, $2)", 2, NULL, values, NULL, NULL, 0);
    int rc = PQresultStatus(r) == PGRES_TUPLES_OK ? 0 : -1;
    if (rc)
        snprintf(err, errlen, "keys and indexes of %s.%s: %s", schema, table, PQresultErrorMessage(r));
    PQclear(r);
    return rc;
}

int fold_write(struct fold *f, const char *conninfo, const char *schema, char *err, size_t errlen)
{
    if (f->oom) {
        snprintf(err, errlen, "out of memory folding the log");
        return -1;
    }
    struct writer_job jobs[WRITERS] = {
        {.name = "command_results 1/2", .writers = {fold_commands_write_first_half}},
        {.name = "command_results 2/2", .writers = {fold_commands_write_second_half}},
        {.name = "orders", .writers = {fold_orders_write},
         .tables = {"orders", "order_lines", "order_status_history", "delivery_reports", "fills"}},
        {.name = "offers, participants, accounts",
         .writers = {fold_offers_write, fold_participants_write, fold_accounts_write},
         .tables = {"offers", "offer_energy", "offer_rejections", "market_slots", "participants", "trust_history",
                    "accounts", "journal_entries", "journal_postings"}},
    };
    pthread_t threads[WRITERS];
    bool started[WRITERS] = {false};
    for (int i = 0; i < WRITERS; i++) {
        jobs[i].f = f;
        jobs[i].conninfo = conninfo;
        jobs[i].schema = schema;
        if (pthread_create(&threads[i], NULL, writer_main, &jobs[i]) == 0)
            started[i] = true;
        else
            writer_main(&jobs[i]); /* no thread: write that group here */
    }
    int rc = 0;
    for (int i = 0; i < WRITERS; i++) {
        if (started[i])
            pthread_join(threads[i], NULL);
        p2p_log(P2P_INFO, "rebuild_writer", "%s written in %.2f s", jobs[i].name, jobs[i].seconds);
        if (jobs[i].rc && rc == 0) {
            snprintf(err, errlen, "%s", jobs[i].err);
            rc = -1;
        }
    }
    /* command_results' key once both halves are in */
    PGconn *db = rc ? NULL : PQconnectdb(conninfo);
    if (db && PQstatus(db) != CONNECTION_OK) {
        snprintf(err, errlen, "%s", PQerrorMessage(db));
        rc = -1;
    } else if (db) {
        PGresult *r = PQexec(db, "set maintenance_work_mem = '256MB'");
        PQclear(r);
        rc = fold_constrain_table(db, schema, "command_results", err, errlen);
    }
    PQfinish(db);
    return rc;
}
