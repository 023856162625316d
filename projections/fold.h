/* The rebuild's in-memory fold: every engine event of the log, read once,
 * folded into the final rows of each read-model table, which are then
 * written with COPY (projections/copy_writer.h) into the scratch schema.
 *
 * The result equals what the live projector's per-event SQL
 * (the *_projection.c modules) leaves after the same events, whatever the
 * order the topics were read in: the fold keeps, per entity, exactly the
 * state those statements keep (sums, the latest event of one topic, the best
 * command answer) and derives the cross-topic columns (a fill's status from
 * its line, an offer's remaining energy, market_slots, a participant's tier
 * and limit) only at the end, from the final state. Insert-only tables
 * (histories, journal, rejections, delivery reports) are encoded as COPY rows
 * the moment their event is folded; the parsed JSON is never kept.
 *
 * One module per read model: fold_offers.c, fold_orders.c (orders, lines,
 * history, deliveries), fold_fills.c, fold_participants.c, fold_accounts.c,
 * fold_commands.c. Each has an event entry point (returns 0, or -1 when out
 * of memory) and a write entry point (COPY into the schema; 0 or -1 with
 * err). */
#ifndef P2P_FOLD_H
#define P2P_FOLD_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>

#include "projections/copy_writer.h"
#include "projections/fold_map.h"
#include "projections/projection.h"

struct fold {
    struct fold_arena arena;
    int64_t slot_ms;            /* SLOT_MINUTES, as the live projector's p2p_spread */
    bool oom;
    /* fold_offers.c */
    struct fold_map offers;     /* offer_id -> struct fold_offer (listed or only referenced) */
    struct fold_map rejections; /* event_id -> itself: offer_rejections keeps the first */
    struct copy_buf rejection_rows;
    /* fold_orders.c */
    struct fold_map orders;     /* order_id -> struct fold_order */
    struct fold_map lines;      /* fill_id -> struct fold_line */
    struct fold_map fills;      /* fill_id -> struct fold_fill */
    struct fold_fill *fill_list;
    struct copy_buf history_rows, delivery_rows;
    /* fold_participants.c */
    struct fold_map participants;
    struct copy_buf trust_rows;
    /* fold_accounts.c */
    struct fold_map accounts;
    struct copy_buf entry_rows, posting_rows;
    /* fold_commands.c */
    struct fold_map commands;
    struct copy_buf answer_rows; /* final answers, streamed */
};

/* What every fold module keeps of an offer (fold_offers.c owns it; the
 * orders module adds taken energy). */
struct fold_offer {
    const char *offer_id;
    const char *row;            /* encoded columns of the listing, NULL until listed */
    const char *market, *source_type;
    int64_t quantity_wh, start_ms, end_ms;
    int64_t taken_wh;           /* offer_energy.taken_wh */
    bool has_energy;            /* an offer_energy row exists */
    const char *closed_status;  /* WITHDRAWN / EXPIRED of the latest closing event */
};

/* A sold line (fill.v1): its own columns, and what market_slots needs. */
struct fold_fill {
    struct fold_fill *next;     /* fold.fill_list, newest first */
    const char *fill_id;
    const char *row;            /* encoded immutable columns */
    const char *event_id;       /* its own event: last_event_id while the line is open */
    const char *offer_id;
    int64_t quantity_wh, amount, price_per_kwh, start_ms, end_ms;
};

void fold_init(struct fold *f, int64_t slot_ms);
void fold_free(struct fold *f);

/* Folds one event (e as the live projector builds it). Returns 0, or -1
 * when out of memory. */
int fold_event(struct fold *f, const struct projected_event *e);

/* Writes every read-model table of the fold into `schema` (tables empty,
 * as p2p_readmodel_create_bare makes them), several tables at once on their
 * own connections to `conninfo`, and builds each table's keys and indexes
 * right after it is loaded (not those of projector_offsets/projector_stats,
 * nor the foreign keys). Returns 0 or -1 with err. */
int fold_write(struct fold *f, const char *conninfo, const char *schema, char *err, size_t errlen);

/* The offer of that id, created (not listed) when missing; NULL when out of memory. */
struct fold_offer *fold_offer_ref(struct fold *f, const char *offer_id);
/* A copy of s in the fold's arena (NULL stays NULL; sets f->oom on failure). */
const char *fold_str(struct fold *f, const char *s);
/* The string member obj->>'key', copied into the arena (NULL when absent). */
const char *fold_member_str(struct fold *f, const json_t *obj, const char *key);

int fold_offers_event(struct fold *f, const struct projected_event *e);
int fold_orders_event(struct fold *f, const struct projected_event *e);
int fold_fills_event(struct fold *f, const struct projected_event *e);
int fold_participants_event(struct fold *f, const struct projected_event *e);
int fold_accounts_event(struct fold *f, const struct projected_event *e);
int fold_commands_event(struct fold *f, const struct projected_event *e);

/* Frees what fold_commands.c keeps outside the arena. */
void fold_commands_free(struct fold *f);

int fold_offers_write(struct fold *f, PGconn *db, const char *schema, char *err, size_t errlen);
int fold_orders_write(struct fold *f, PGconn *db, const char *schema, char *err, size_t errlen);
/* Called by fold_orders_write: fills after their lines are final. */
int fold_fills_write(struct fold *f, PGconn *db, const char *schema, char *err, size_t errlen);
/* The final status and last event of the order line of that fill; false
 * when no order line has that fill id (fold_orders.c). */
bool fold_line_state(const struct fold *f, const char *fill_id, const char **status, const char **last_event_id);
int fold_participants_write(struct fold *f, PGconn *db, const char *schema, char *err, size_t errlen);
int fold_accounts_write(struct fold *f, PGconn *db, const char *schema, char *err, size_t errlen);
/* command_results in two halves, written at once on two connections. */
int fold_commands_write_first_half(struct fold *f, PGconn *db, const char *schema, char *err, size_t errlen);
int fold_commands_write_second_half(struct fold *f, PGconn *db, const char *schema, char *err, size_t errlen);

/* p2p_readmodel_constrain_table(schema, table): keys and indexes. 0 or -1 with err. */
int fold_constrain_table(PGconn *db, const char *schema, const char *table, char *err, size_t errlen);

/* Sends buffer b to schema.table (columns: "(a, b, ...)"). 0 or -1 with err. */
int fold_copy(PGconn *db, const char *schema, const char *table, const char *columns,
              struct copy_buf *b, char *err, size_t errlen);

/* Starts the COPY of every insert-only table (histories, journal, trust
 * history, rejections, delivery reports) and of the command answers known
 * to be final on connections of their own, so
 * PostgreSQL loads their rows while the log is still being folded. Returns 0
 * or -1 with err. */
int fold_stream(struct fold *f, const char *conninfo, const char *schema, char *err, size_t errlen);

#endif
