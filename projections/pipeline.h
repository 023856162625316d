/* Statements sent to PostgreSQL in libpq pipeline mode: a projector batch
 * queues hundreds of prepared statements without waiting for each answer,
 * then collects the answers at a sync point. Every answer is checked; the
 * first failure is remembered (and logged) and makes the whole batch fail,
 * so the caller rolls its transaction back. Answers are drained every
 * PIPELINE_DRAIN_EVERY statements, so neither side's socket buffer fills up. */
#ifndef P2P_PIPELINE_H
#define P2P_PIPELINE_H

#include <libpq-fe.h>
#include <stdbool.h>

#define PIPELINE_DRAIN_EVERY 256
#define PIPELINE_MAX_CHECKS 1024

struct pipeline {
    PGconn *db;
    int pending;   /* statements sent since the last drain */
    bool failed;
    /* Statements whose affected-row count must be exactly `rows`. */
    int nchecks;
    struct {
        int index; /* among the pending statements */
        long rows;
        const char *what;
    } checks[PIPELINE_MAX_CHECKS];
};

/* Enters pipeline mode on db. Returns 0 or -1. */
int pipeline_begin(struct pipeline *pl, PGconn *db);

/* Queues a prepared statement. expect_rows >= 0: the statement must change
 * exactly that many rows, else the batch fails (`what` names it in the log). */
void pipeline_send(struct pipeline *pl, const char *stmt, int n, const char *const *values,
                   long expect_rows, const char *what);

/* Queues a statement without parameters (begin, commit, ...). */
void pipeline_send_sql(struct pipeline *pl, const char *sql);

/* Syncs and checks every answer so far. Returns 0, or -1 if anything failed. */
int pipeline_drain(struct pipeline *pl);

/* Drains and leaves pipeline mode. Returns 0, or -1 if anything failed. */
int pipeline_end(struct pipeline *pl);

#endif
