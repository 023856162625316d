/* The engine core: the single writer's state and the function that applies one
 * command to it, producing decisions. Pure: no I/O, no clock (time is the
 * command's issued_at_ms), no randomness, no allocation. The same state and
 * the same command always give the same decision.
 *
 * This first slice decides offer listings; the order book, matching, wallets,
 * trust and settlement grow here (issue 3). */
#ifndef P2P_ENGINE_H
#define P2P_ENGINE_H

#include <stdint.h>

#include "engine/core/market_rules.h"
#include "engine/core/offer.h"

struct engine {
    struct market_rules rules;
    uint64_t offers_listed;
    uint64_t offers_rejected;
};

enum engine_decision_kind { DECISION_OFFER_LISTED, DECISION_OFFER_REJECTED };

struct engine_decision {
    enum engine_decision_kind kind;
    struct p2p_violation reason; /* set when rejected */
};

void engine_init(struct engine *e, const struct market_rules *rules);

/* Decides whether the offer is listed, judged at the command's issue time. */
void engine_submit_offer(struct engine *e, const struct offer_terms *terms, int64_t issued_at_ms,
                         struct engine_decision *out);

/* Records a command that could not even be read (malformed): always a rejection. */
void engine_reject_malformed(struct engine *e, const struct p2p_violation *why,
                             struct engine_decision *out);

#endif
