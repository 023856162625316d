#include "engine/core/engine.h"

#include <string.h>

void engine_init(struct engine *e, const struct market_rules *rules)
{
    memset(e, 0, sizeof *e);
    e->rules = *rules;
}

void engine_submit_offer(struct engine *e, const struct offer_terms *terms, int64_t issued_at_ms,
                         struct engine_decision *out)
{
    memset(out, 0, sizeof *out);
    if (offer_terms_check(&e->rules, terms, issued_at_ms, &out->reason) == 0) {
        out->kind = DECISION_OFFER_LISTED;
        e->offers_listed++;
    } else {
        out->kind = DECISION_OFFER_REJECTED;
        e->offers_rejected++;
    }
}

void engine_reject_malformed(struct engine *e, const struct p2p_violation *why,
                             struct engine_decision *out)
{
    memset(out, 0, sizeof *out);
    out->kind = DECISION_OFFER_REJECTED;
    out->reason = *why;
    e->offers_rejected++;
}
