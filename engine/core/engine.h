/* The engine core: one market's whole trading state in memory, and
 * engine_apply(), which applies one command and appends the resulting events.
 *
 * Guarantees:
 *  - Pure: no I/O, no clock, no randomness. Time is the command's issued_at_ms,
 *    made monotonic (an older timestamp never moves time back).
 *  - Deterministic: the same state and command give the same events, in the
 *    same order. Hash indexes are only looked up, never iterated.
 *  - No allocation after engine_create(): tables have fixed capacities;
 *    running out is a rejected command ("capacity"), never a crash.
 *  - Integer units only: Wh, minor currency units, trust in 1/10000.
 *  - Money moves only as balanced journal entries; no balance goes negative.
 *
 * Tables only grow, so an index, once handed out in an event, names the same
 * entity forever. */
#ifndef P2P_ENGINE_H
#define P2P_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/core/commands.h"
#include "engine/core/events.h"
#include "engine/core/id_index.h"
#include "engine/core/params.h"

#define ORDER_ID_MAX 56 /* fill ids are "<order_id>/<line>" and must fit ENGINE_ID_LEN */

struct engine_capacity {
    uint32_t participants;
    uint32_t offers;
    uint32_t orders;
    uint32_t fills;
};

struct month_commitment {
    int32_t month;        /* year * 12 + month - 1 of the delivery start; -1 = unused */
    int64_t committed_wh; /* open in offers + sold and not cancelled */
};

#define ENGINE_MONTHS_TRACKED 4

struct participant {
    char id[ENGINE_ID_LEN];
    int32_t trust;
    bool meter_bonus_given;
    int64_t wallet;               /* available balance, minor units */
    int64_t receivable;           /* receivable:<id> when it pays for buyers (<= 0: owes) */
    int64_t capacity_wh;          /* declared production per month */
    int64_t verified_wh;          /* verified from meter data; wins when set */
    struct month_commitment months[ENGINE_MONTHS_TRACKED];
};

enum offer_status { OFFER_OPEN, OFFER_WITHDRAWN, OFFER_EXPIRED };

struct offer_entry {
    /* what matching walks comes first, so one visit touches one or two cache lines */
    uint32_t next_in_slot; /* intrusive list of offers starting in one slot */
    uint32_t prev_in_slot;
    uint32_t seller;
    uint8_t status;
    uint64_t seq;          /* listing order: the tie-break in matching */
    int64_t sold_wh;
    int64_t reserved_wh;
    int64_t closed_wh;     /* withdrawn, expired or cancelled by the seller */
    struct offer_terms terms;
};

enum order_status { ORDER_RESERVED, ORDER_CONFIRMED, ORDER_CANCELLED, ORDER_EXPIRED, ORDER_SETTLED };

struct order_entry {
    char id[ENGINE_ID_LEN];
    uint32_t buyer;
    uint32_t payer;        /* participant paying for the buyer; ID_INDEX_NONE = the buyer's wallet */
    uint8_t status;
    struct order_request req;
    int64_t reserved_at_ms;
    int64_t expires_at_ms;
    int64_t confirmed_at_ms;
    uint32_t first_fill;   /* the order's lines are fills[first_fill .. first_fill+nfills) */
    uint16_t nfills;
    uint16_t open_lines;   /* sold lines not yet settled or cancelled */
    int64_t escrow;        /* money held for this order */
    int64_t owed;          /* payer orders: charged - refunded - paid (what the payer still owes) */
    int64_t paid;          /* payer orders: paid by the payer so far */
    uint32_t last_payment; /* payments[] row of its newest applied payment (valid when npayments > 0) */
    uint16_t npayments;    /* payments applied to it, at most ENGINE_PAYMENTS_PER_ORDER */
};

/* A payment applied to a payer order, kept for good: its reference is the
 * payment's identity, so the same payment resent (a platform retrying after a
 * lost answer) is recognised and never applied twice. Rows are chained per
 * order, newest first. */
struct payment_entry {
    uint32_t order;
    uint32_t prev_of_order; /* the order's previous payment (ID_INDEX_NONE: none) */
    int64_t amount;
    char reference[ENGINE_ID_LEN];
};

/* Payments one order takes at most (bounds the duplicate check's scan). */
#define ENGINE_PAYMENTS_PER_ORDER 16

enum fill_status { FILL_RESERVED, FILL_SOLD, FILL_RELEASED, FILL_CANCELLED, FILL_SETTLED };

struct fill_entry {
    uint32_t order;
    uint32_t offer;
    uint32_t seller;
    uint32_t buyer;
    uint16_t line;         /* 1-based; the fill id is "<order id>/<line>" */
    uint8_t status;
    int32_t score_ppm;
    int64_t quantity_wh;
    int64_t price_per_kwh;
    int64_t amount;        /* quantity x price / 1000, half-up */
    int64_t fee;           /* platform fee on amount, half-up */
};

struct match_candidate {
    uint32_t offer;
    int32_t score_ppm;
    uint64_t seq;
};

struct engine {
    struct engine_params p;
    struct engine_capacity cap;
    int64_t now_ms;
    uint32_t nparticipants, noffers, norders, nfills;
    struct participant *participants;
    struct offer_entry *offers;
    struct order_entry *orders;
    struct fill_entry *fills;
    struct payment_entry *payments; /* room for cap.orders applied payments */
    uint32_t npayments;
    struct id_index participant_ix, offer_ix, order_ix;
    /* Offers by delivery-start slot: a ring of buckets over the tradable horizon. */
    uint32_t nslots;
    uint32_t *slot_head, *slot_tail;
    int64_t *slot_tag;      /* absolute slot number the bucket holds; -1 = empty */
    int64_t *slot_longest;  /* longest window among the bucket's offers: lets matching skip it */
    int64_t next_close_slot; /* first slot whose gate has not closed yet; -1 = not started */
    /* Reservations in expiry order (same TTL, monotonic time: a FIFO). */
    uint32_t *reservations;
    uint32_t res_head, res_count;
    uint64_t offer_seq;
    int64_t longest_offer_ms; /* longest window ever listed: how far back matching looks */
    int64_t platform_balance;
    int64_t external_balance; /* = -(deposits - withdrawals + payments) */
    int64_t deposited, withdrawn, payments_received; /* running totals, for the audit */
    struct match_candidate *candidates; /* scratch for matching */
};

/* Allocates every table. Returns 0, or -1 when memory is short. */
int engine_create(struct engine *e, const struct engine_params *p, const struct engine_capacity *cap);
void engine_destroy(struct engine *e);

/* Applies one command; appends its events to out (out->count grows). */
void engine_apply(struct engine *e, const struct command *c, struct event_sink *out);

/* Ids of table rows, for encoding events. */
const char *engine_fill_id(const struct engine *e, uint32_t fill, char buf[ENGINE_ID_LEN + 8]);

/* Lookups by id; ID_INDEX_NONE when unknown. */
uint32_t engine_find_participant(const struct engine *e, const char *id);
uint32_t engine_find_offer(const struct engine *e, const char *id);
uint32_t engine_find_order(const struct engine *e, const char *id);

/* The open (buyable) energy of an offer. */
static inline int64_t engine_offer_open_wh(const struct offer_entry *o)
{
    return o->status == OFFER_OPEN ? o->terms.quantity_wh - o->sold_wh - o->reserved_wh - o->closed_wh
                                   : 0;
}

/* Trust tiers (product.md §7) and the seller's monthly trade limit in Wh. */
const char *trust_tier_name(int32_t trust);
int32_t trust_tier_percent(int32_t trust);
int64_t engine_trade_limit_wh(const struct engine *e, uint32_t participant);

/* Money arithmetic: cost of q Wh at p per kWh, and a rate in basis points, both
 * rounded half-up to a minor unit. */
int64_t money_cost(int64_t wh, int64_t price_per_kwh);
int64_t money_rate(int64_t amount, int32_t basis_points);

/* Checks every invariant (conservation of money and energy, bounds, trust
 * range, reservation states, what paying platforms owe). Returns 0, or -1
 * with the first violation in msg. */
int engine_check_invariants(const struct engine *e, char *msg, size_t len);

/* Snapshot: the state as bytes, through the caller's writer/reader (the core
 * does no I/O itself). Load requires an engine created with capacities at
 * least those of the snapshot. Return 0 or -1; load returns -2 when the
 * snapshot was taken under other engine parameters (rules, fees, weights). */
typedef int (*engine_write_fn)(void *ctx, const void *buf, size_t len);
typedef int (*engine_read_fn)(void *ctx, void *buf, size_t len);
int engine_snapshot_save(const struct engine *e, engine_write_fn write, void *ctx);
int engine_snapshot_load(struct engine *e, engine_read_fn read, void *ctx);

#endif
