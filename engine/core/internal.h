/* Helpers shared by the engine core's modules; not part of its API. */
#ifndef P2P_ENGINE_INTERNAL_H
#define P2P_ENGINE_INTERNAL_H

#include "engine/core/engine.h"

/* Appends an event of `kind` to the sink and returns it (fields to be set by
 * the caller), or NULL when the sink is full. Sinks are sized so a single
 * command never fills one (see ENGINE_SINK_MIN); only time-driven expiry
 * checks the headroom and resumes later. */
struct event *emit(struct event_sink *out, enum event_kind kind);

/* Events a single command may emit at most, expiry excluded. */
#define ENGINE_SINK_MIN (8 * ENGINE_MAX_LINES + 16)

/* Rejections: fill reason and ids of an EV_*_REJECTED event. */
void reject(struct event_sink *out, enum event_kind kind, const char *subject_id,
            const char *actor_id, const struct p2p_violation *why);

/* The same, from a fixed code, field and message. */
void refuse(struct event_sink *out, enum event_kind kind, const char *subject, const char *actor,
            const char *code, const char *field, const char *message);

/* Participants are created on first reference. ID_INDEX_NONE when the table is
 * full or the id is not valid. */
uint32_t participant_get(struct engine *e, const char *id);

/* Journal: a balanced entry. Postings are applied to the balances here. */
struct journal_builder {
    struct event *ev;
};
void journal_begin(struct engine *e, struct event_sink *out, struct journal_builder *j,
                   const char *reason, const char *ref_id);
void journal_post(struct engine *e, struct journal_builder *j, enum account_kind account,
                  uint32_t owner, int64_t amount);

/* Posts a buyer-side amount of order `order`: to the buyer's wallet, or for
 * an order with a payer to receivable:<payer> (and the order's owed). */
void journal_post_buyer(struct engine *e, struct journal_builder *j, uint32_t order,
                        int64_t amount);

/* Trust: moves a participant's score (clamped) and emits EV_TRUST_CHANGED. */
void trust_adjust(struct engine *e, struct event_sink *out, uint32_t participant, int32_t delta,
                  const char *reason, const char *ref_id);

/* Monthly commitment of a seller (product.md §3): the month key of a time and
 * the running total. */
int32_t month_of(int64_t ms);
int64_t *commitment(struct participant *p, int32_t month);
/* The same, read only (0 for a month not tracked). */
int64_t commitment_of(const struct participant *p, int32_t month);

/* Book: slot buckets of offers and energy bookkeeping. */
int64_t slot_of(const struct engine *e, int64_t ms);
void book_insert(struct engine *e, uint32_t offer);
/* Returns released energy of a fill to its offer: re-opened when the offer is
 * open and before its gate closure, otherwise closed (and reported expired). */
void book_release(struct engine *e, struct event_sink *out, uint32_t offer, int64_t wh,
                  bool from_sold);

/* Time: runs expiries due at or before t. Returns false when the sink ran
 * short of room and expiry must resume on a later command. */
bool advance_time(struct engine *e, int64_t t, struct event_sink *out);

/* Per-command handlers (book.c, orders.c, settlement.c). */
void offer_submit(struct engine *e, const struct command *c, struct event_sink *out);
void offer_withdraw(struct engine *e, const struct command *c, struct event_sink *out);
void order_place(struct engine *e, const struct command *c, struct event_sink *out);
void order_confirm(struct engine *e, const struct command *c, struct event_sink *out);
void order_cancel(struct engine *e, const struct command *c, struct event_sink *out);
void sale_cancel(struct engine *e, const struct command *c, struct event_sink *out);
void order_expire(struct engine *e, uint32_t order, struct event_sink *out);
/* Marks an order settled (EV_ORDER_SETTLED) once no sold line is open. */
void settle_if_done(struct engine *e, struct event_sink *out, uint32_t order);
/* "<order id>/<line>" -> fill index, or ID_INDEX_NONE. */
uint32_t fill_find(const struct engine *e, const char *fill_id);
void delivery_report(struct engine *e, const struct command *c, struct event_sink *out);
void money_command(struct engine *e, const struct command *c, struct event_sink *out);
void order_payment(struct engine *e, const struct command *c, struct event_sink *out);
void profile_update(struct engine *e, const struct command *c, struct event_sink *out);
void meter_verified(struct engine *e, const struct command *c, struct event_sink *out);

/* Matching (matching.c): ranks eligible offers for a request and allocates
 * greedily. Fills lines[] (offer, quantity, score) and returns the count;
 * *filled_wh is the total allocated; *min_order_skipped_wh is the smallest
 * minimum order of a ranked offer passed over because the rest of the request
 * was below it (0 when none was). */
struct allocation_line {
    uint32_t offer;
    int64_t quantity_wh;
    int32_t score_ppm;
};
int match_allocate(struct engine *e, const struct order_request *req, uint32_t buyer, int64_t now,
                   struct allocation_line *lines, int64_t *filled_wh, int64_t *min_order_skipped_wh);
/* Orders that name their offers: checks every line (all or nothing) and
 * fills lines[]. Returns the count, or -1 with *why. */
int match_named(struct engine *e, const struct command *c, uint32_t buyer, int64_t now,
                struct allocation_line *lines, struct p2p_violation *why);

/* Best alternative windows (same length) with open energy for a rejected request. */
int match_alternatives(struct engine *e, const struct order_request *req, uint32_t buyer,
                       int64_t now, struct alternative_window *out);

#endif
