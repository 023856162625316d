/* Commands the engine core applies: plain data, already decoded from the
 * wire. Every command carries its id and the time it was issued (the only
 * notion of "now" the core has). Strings are NUL-terminated ids. */
#ifndef P2P_ENGINE_COMMANDS_H
#define P2P_ENGINE_COMMANDS_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/core/offer.h"

#define ENGINE_ID_LEN 65 /* ids: up to 64 bytes + NUL */

enum command_kind {
    CMD_OFFER_SUBMIT,    /* list energy for sale */
    CMD_OFFER_WITHDRAW,  /* withdraw the unsold remainder of an offer */
    CMD_ORDER_QUOTE,     /* Beckn select: priced allocation, nothing held */
    CMD_ORDER_RESERVE,   /* Beckn init: allocation held for the reservation TTL */
    CMD_ORDER_CONFIRM,   /* Beckn confirm: reservation becomes a sale, money to escrow */
    CMD_ORDER_BUY,       /* reserve + confirm in one step (the web UI's "Buy") */
    CMD_ORDER_CANCEL,    /* buyer cancels a reserved or confirmed order */
    CMD_SALE_CANCEL,     /* seller cancels one sold line (a fill) */
    CMD_DEPOSIT,         /* money into a wallet from outside (operator, demo balance) */
    CMD_WITHDRAWAL,      /* money out of a wallet */
    CMD_PROFILE_UPDATE,  /* declared production capacity */
    CMD_METER_VERIFIED,  /* verified monthly production and data quality */
    CMD_DELIVERY_REPORT, /* DISCOM: energy delivered for one fill */
    CMD_TICK,            /* time passes: expire reservations and closed offers */
    CMD_ORDER_PAYMENT,   /* the payer platform of an order paid (part of) what it owes */
};
#define CMD_KIND_COUNT (CMD_ORDER_PAYMENT + 1)

struct order_request {
    char order_id[ENGINE_ID_LEN];
    char buyer_id[ENGINE_ID_LEN];
    int64_t quantity_wh;
    int64_t window_start_ms;
    int64_t window_end_ms;
    int64_t max_price_per_kwh; /* 0 = no limit */
    bool has_source;
    enum source_type source;
    bool allow_partial;
    /* "" = the buyer pays from its wallet; else the id of the platform that
     * pays for the buyer (a Beckn BAP): the order is charged to
     * receivable:<payer_id> and every buyer-side refund goes back there. */
    char payer_id[ENGINE_ID_LEN];
};

enum meter_quality { METER_LOW, METER_MEDIUM, METER_HIGH };

#define COMMAND_MAX_LINES 16 /* = ENGINE_MAX_LINES */

/* A line of an order that names its offer (Beckn select: the buyer chose). */
struct requested_line {
    char offer_id[ENGINE_ID_LEN];
    int64_t quantity_wh;
};

struct command {
    enum command_kind kind;
    char command_id[ENGINE_ID_LEN];
    int64_t issued_at_ms;
    union {
        struct offer_terms offer;      /* OFFER_SUBMIT */
        struct order_request order;    /* ORDER_QUOTE, ORDER_RESERVE, ORDER_BUY */
        struct {
            char id[ENGINE_ID_LEN];    /* offer, order or fill id */
            char actor_id[ENGINE_ID_LEN]; /* who asks: must own it */
        } target;                      /* OFFER_WITHDRAW, ORDER_CONFIRM, ORDER_CANCEL, SALE_CANCEL */
        struct {
            char participant_id[ENGINE_ID_LEN];
            int64_t amount;            /* minor units, > 0 */
            char reference[ENGINE_ID_LEN];
        } money;                       /* DEPOSIT, WITHDRAWAL */
        struct {
            char participant_id[ENGINE_ID_LEN];
            int64_t capacity_wh_per_month;
        } profile;                     /* PROFILE_UPDATE */
        struct {
            char participant_id[ENGINE_ID_LEN];
            int64_t monthly_wh;
            enum meter_quality quality;
        } meter;                       /* METER_VERIFIED */
        struct {
            char fill_id[ENGINE_ID_LEN];
            int64_t delivered_wh;
            int64_t curtailed_wh;
        } delivery;                    /* DELIVERY_REPORT */
        struct {
            char order_id[ENGINE_ID_LEN];
            char payer_id[ENGINE_ID_LEN];
            int64_t amount;            /* minor units, > 0 */
            char reference[ENGINE_ID_LEN]; /* "" = none */
        } payment;                     /* ORDER_PAYMENT */
    } u;
    /* ORDER_QUOTE/RESERVE/BUY only: with nlines > 0 the order buys exactly
     * these offers and quantities instead of being matched; its quantity and
     * window follow from the lines. */
    int32_t nlines;
    struct requested_line lines[COMMAND_MAX_LINES];
};

#endif
