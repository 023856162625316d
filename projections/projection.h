/* What every read-model module sees of one engine event, and the modules'
 * entry points. A module prepares its statements once per connection and
 * turns each event it cares about into statements queued on the batch's
 * pipeline (projections/pipeline.h); the projector commits them together with
 * the consumed offsets, which is what makes each event count exactly once.
 *
 * Events of one engine transaction reach the projector through several topics
 * in any interleaving, so every module's statements commute across topics:
 * they add to sums, keep the latest event of one topic, or derive a row from
 * whichever of two related events arrives second. The state after all events
 * is the same in whatever order the topics were read (a rebuild equals the
 * live model). Within one topic partition events keep the engine's order. */
#ifndef P2P_PROJECTION_H
#define P2P_PROJECTION_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stdint.h>

#include "projections/pipeline.h"

struct projected_event {
    const char *type;     /* ce_type without "energy.p2p.", e.g. "order.reserved.v1" */
    const char *json;     /* the record's value, NUL-terminated */
    const json_t *value;  /* the same, decoded (a JSON object) */
    const char *event_id;
    const char *command_id;
    int event_n;          /* n of the event id "{topic}/{partition}/{offset}/{n}", else 0 */
    const char *topic;    /* where the record sits */
    int32_t partition;
    int64_t offset;
};

/* A JSON array of events built up during a batch and applied by one
 * set-based statement at its end (projection_flush), for read models whose
 * statements only insert, add up, or keep the latest event of one topic. */
struct projection_array {
    char *text;
    size_t len, cap;
    int n;
};

enum projection_array_kind {
    ARRAY_OFFERS,
    ARRAY_FILLS,
    ARRAY_ANSWERS,
    ARRAY_JOURNAL,
    ARRAY_TRUST,
    ARRAY_PROFILES,
    ARRAY_ENERGY,
    ARRAY_RESERVED,  /* orders_projection.c: a run of order.reserved events */
    ARRAY_CONFIRMED, /* and of order.confirmed events, applied after them */
    ARRAY_KINDS
};

struct projection_context {
    struct pipeline *pl;
    int64_t slot_ms;      /* SLOT_MINUTES: market_slots spread energy over slots */
    struct projection_array arrays[ARRAY_KINDS];
};

/* Each returns 0, or -1 when preparing failed (logged). */
int offers_projection_prepare(PGconn *db);
int orders_projection_prepare(PGconn *db);
int fills_projection_prepare(PGconn *db);
int participants_projection_prepare(PGconn *db);
int accounts_projection_prepare(PGconn *db);
int command_results_projection_prepare(PGconn *db);

/* Each queues the statements for one event (nothing when the type is not
 * its concern). Failures surface at the pipeline's next drain. */
void offers_projection_apply(struct projection_context *c, const struct projected_event *e);
void orders_projection_apply(struct projection_context *c, const struct projected_event *e);
void fills_projection_apply(struct projection_context *c, const struct projected_event *e);
void participants_projection_apply(struct projection_context *c, const struct projected_event *e);
void accounts_projection_apply(struct projection_context *c, const struct projected_event *e);
void command_results_projection_apply(struct projection_context *c,
                                       const struct projected_event *e);

/* Queues the set-based statements of the arrays collected during the batch
 * and empties them (the per-event statements of other tables commute with
 * them: they touch other tables). */
void projection_flush(struct projection_context *c);
void offers_projection_flush(struct projection_context *c);
void orders_projection_flush(struct projection_context *c);
void fills_projection_flush(struct projection_context *c);
void command_results_projection_flush(struct projection_context *c);
void accounts_projection_flush(struct projection_context *c);
void participants_projection_flush(struct projection_context *c);

/* Appends one JSON value (text) to an array; a failure fails the pipeline. */
void projection_array_add(struct projection_context *c, enum projection_array_kind k, const char *json);
/* Appends {"t": tag, "p": partition, "o": offset, "v": <the event>}. */
void projection_array_add_tagged(struct projection_context *c, enum projection_array_kind k, const char *tag,
                                 const struct projected_event *e);
/* Queues `stmt` with the array as $1 when it is not empty, then empties it. */
void projection_array_send(struct projection_context *c, enum projection_array_kind k, const char *stmt);
/* The same with more parameters after $1. */
void projection_array_send_with(struct projection_context *c, enum projection_array_kind k, const char *stmt,
                                int nextra, const char *const *extra);
void projection_context_free(struct projection_context *c);

/* Which events answer a command (command_results_projection.c), shared
 * with the rebuild's fold (fold_commands.c). */
struct command_results_kind {
    const char *type;    /* e.g. "offer.listed.v1" */
    int rank;            /* 1 outcome, 2 reservation or withdrawal, 3 money only */
    const char *outcome;
    const char *subject; /* member naming the subject ("offer." = inside "offer") */
    const char *actor;
};
/* The kind of events of that type, or NULL when they never answer. */
const struct command_results_kind *command_results_kind(const char *type);
/* The string member at path ("x" or "offer.x") of the event, or "". */
const char *command_results_member(const json_t *value, const char *path);

/* Helpers shared by the modules. */
int projection_prepare(PGconn *db, const char *name, const char *sql);
/* Queues statement `name` with the event's value as $1 and up to 3 more parameters. */
void projection_send(const struct projection_context *c, const char *name,
                     const struct projected_event *e, int nextra, const char *const *extra);
/* String member of an object, or "" */
const char *projection_str(const json_t *obj, const char *key);

#endif
