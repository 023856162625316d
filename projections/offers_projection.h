/* The offers read model: applies offer.listed.v1 / offer.rejected.v1 events to
 * the `offers` and `offer_rejections` tables. Runs inside the caller's open
 * transaction; the caller commits it together with the consumed offset, which
 * is what makes each event count exactly once. */
#ifndef P2P_OFFERS_PROJECTION_H
#define P2P_OFFERS_PROJECTION_H

#include <libpq-fe.h>

#include "engine/offer_codec.h"

/* Prepares the statements on a fresh connection. Returns 0 or -1. */
int offers_projection_prepare(PGconn *db);

/* Where an event record sits in the log (not its cause: that is ev->origin). */
struct record_position {
    const char *topic;
    int32_t partition;
    int64_t offset;
};

/* Applies one decoded event. Returns 0, or -1 on a database error (the
 * transaction must then be rolled back). */
int offers_projection_apply(PGconn *db, const struct offer_event *ev,
                            const struct record_position *at);

#endif
