/* The rebuild's fast path: reads the engine log once through the projector's
 * consumer (read_committed, positioned by projector_start) into the
 * in-memory fold (projections/fold.h), then writes the projector's own
 * bookkeeping (projector_offsets, projector_stats) for the scratch schema, so
 * that the projector can continue from exactly there (catch-up, and the live
 * projector after the swap). */
#ifndef P2P_REBUILD_FOLD_H
#define P2P_REBUILD_FOLD_H

#include "projections/fold.h"
#include "projections/projector.h"

struct rebuild_fold_progress {
    void (*fn)(void *arg, uint64_t events); /* called after every record (cheap to call) */
    void *arg;
};

/* Folds every record until each partition reached `high` (or *p->running
 * turned false: -1). On success p->next_offset holds the next offset per
 * partition read, p->applied and p->type_count count the records, as a
 * projector that committed them would. Returns 0 or -1 (logged). */
int rebuild_fold_log(struct projector *p, struct fold *f,
                     const int64_t high[PROJECTOR_TOPICS][PROJECTOR_MAX_PARTITIONS],
                     const struct rebuild_fold_progress *progress);

/* Writes projector_offsets and projector_stats of `schema` from p (after
 * rebuild_fold_log). Returns 0 or -1 with err. */
int rebuild_fold_write_progress(const struct projector *p, PGconn *db, const char *schema, char *err,
                                size_t errlen);

#endif
