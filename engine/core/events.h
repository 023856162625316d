/* Events the engine core emits: plain data appended to a caller-owned sink.
 * Entities are referenced by their index in the engine's tables (stable for
 * the engine's lifetime: nothing is ever removed), so emitting an event copies
 * a few integers, never strings; the process layer turns indices back into ids
 * with the engine_*_at() accessors when it encodes the event. */
#ifndef P2P_ENGINE_EVENTS_H
#define P2P_ENGINE_EVENTS_H

#include <stdint.h>

#include "common/p2p_violation.h"
#include "engine/core/commands.h"

#define ENGINE_MAX_LINES 16   /* upper bound of max_offers_per_order */
#define ENGINE_MAX_POSTINGS 6 /* postings in one journal entry */
#define ENGINE_MAX_ALTERNATIVES 3

enum event_kind {
    EV_OFFER_LISTED,        /* offer: open for buying */
    EV_OFFER_REJECTED,      /* rejected: offer refused, nothing listed */
    EV_OFFER_WITHDRAWN,     /* offer_closed: unsold remainder withdrawn by the seller */
    EV_OFFER_EXPIRED,       /* offer_closed: unsold remainder expired at gate closure */
    EV_ORDER_QUOTED,        /* order: priced allocation, nothing held */
    EV_ORDER_RESERVED,      /* order: allocation held until expires_at_ms */
    EV_ORDER_CONFIRMED,     /* order: sold, money in escrow */
    EV_ORDER_REJECTED,      /* rejected: with shortfall and alternatives */
    EV_ORDER_CANCELLED,     /* order_cancelled */
    EV_ORDER_EXPIRED,       /* order_cancelled: reservation not confirmed in time */
    EV_ORDER_SETTLED,       /* order: every line delivered, settled or cancelled */
    EV_FILL,                /* fill: one line of a confirmed order (fills topic) */
    EV_FILL_CANCELLED,      /* fill_cancelled: seller cancelled the sale */
    EV_DELIVERY_SETTLED,    /* delivery: verified delivery paid out */
    EV_TRUST_CHANGED,       /* trust: one participant's score moved (trust topic) */
    EV_JOURNAL_ENTRY,       /* journal: balanced postings between accounts */
    EV_PARTICIPANT_UPDATED, /* participant: capacity, verified production, limit */
    EV_COMMAND_REJECTED,    /* rejected: any other refused command; nothing changed */
    EV_ORDER_PAID,          /* order_paid: the payer platform paid part of what it owes */
};
#define EV_KIND_COUNT (EV_ORDER_PAID + 1)

/* receivable:<payer> is what a paying platform owes (negative) or is owed
 * back (positive); its owner is the payer's participant index. */
enum account_kind { ACCOUNT_WALLET, ACCOUNT_ESCROW, ACCOUNT_PLATFORM, ACCOUNT_EXTERNAL, ACCOUNT_RECEIVABLE };

struct posting {
    enum account_kind account;
    uint32_t owner;  /* participant (wallet, receivable) or order (escrow) index; else unused */
    int64_t amount;  /* signed minor units; the postings of an entry sum to zero */
};

struct alternative_window {
    int64_t start_ms;
    int64_t end_ms;
    int64_t available_wh;
};

struct event {
    enum event_kind kind;
    union {
        struct {
            uint32_t offer;
        } offer;
        struct {
            uint32_t offer;
            int64_t wh; /* energy taken off the market by this event */
        } offer_closed;
        struct {
            char subject_id[ENGINE_ID_LEN]; /* offer, order, fill or participant id */
            char actor_id[ENGINE_ID_LEN];
            struct p2p_violation reason;
            int64_t shortfall_wh;           /* order rejections */
            int32_t nalternatives;
            struct alternative_window alternatives[ENGINE_MAX_ALTERNATIVES];
        } rejected;
        struct {
            uint32_t order;                 /* quotes have no order entry: see quote */
            int32_t nlines;
            int64_t filled_wh;
            int64_t amount;
            int64_t fee;
        } order;
        struct {
            uint32_t order;
            int64_t released_wh;  /* energy returned to offers (or expired) */
            int64_t refund;       /* to the buyer */
            int64_t cancel_fee;   /* kept from the buyer */
        } order_cancelled;
        struct {
            uint32_t fill;
        } fill;
        struct {
            uint32_t fill;
            int64_t refund;
            int64_t penalty; /* paid by the seller to the buyer, on top of the refund */
        } fill_cancelled;
        struct {
            uint32_t fill;
            int64_t delivered_wh;
            int64_t curtailed_wh;
            int64_t seller_paid;
            int64_t buyer_refund;
            int64_t platform_fee;
        } delivery;
        struct {
            uint32_t participant;
            int32_t old_score;
            int32_t new_score;
            const char *reason; /* static string: delivery_full, delivery_partial, ... */
            char ref_id[ENGINE_ID_LEN + 8];
        } trust;
        struct {
            const char *reason; /* static string: order_confirmed, delivery_settled, ... */
            char ref_id[ENGINE_ID_LEN + 8];
            int32_t npostings;
            struct posting postings[ENGINE_MAX_POSTINGS];
        } journal;
        struct {
            uint32_t participant;
        } participant;
        struct {
            uint32_t order;
            int64_t amount;
            int64_t paid_total;  /* paid for this order so far, this payment included */
            int64_t outstanding; /* still owed for it afterwards (negative: owed back) */
            char reference[ENGINE_ID_LEN];
        } order_paid;
    } u;
};

/* A quote is not stored in the engine's tables, so its lines travel with the
 * quote event in this side buffer (valid until the next engine_apply). */
struct quote_line {
    uint32_t offer;
    int64_t quantity_wh;
    int64_t amount;
    int64_t fee;
    int32_t score_ppm; /* match score in millionths */
};

struct event_sink {
    struct event *events;
    int32_t capacity;
    int32_t count;
    /* The last EV_ORDER_QUOTED of this apply: its request and lines. */
    struct order_request quote_request;
    int32_t nquote_lines;
    struct quote_line quote_lines[ENGINE_MAX_LINES];
};

#endif
