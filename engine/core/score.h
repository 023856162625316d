/* The matching score of one offer for one buy request (product.md §4), as a
 * pure function shared by the engine's allocation (matching.c) and the
 * gateway's ranked discovery (POST /api/discover), so both rank alike.
 *
 * All parts are integers in millionths (ppm): price_score is 1e6 when all
 * candidate prices are equal, else 0.3 + 0.7 (max - price) / (max - min);
 * trust is the seller's trust (1/10000) times 100; time_fit is
 * min(1, overlap / window length). The score is their sum weighted by the
 * percent weights of the engine parameters, truncated like the engine does. */
#ifndef P2P_ENGINE_SCORE_H
#define P2P_ENGINE_SCORE_H

#include <stdint.h>

#include "engine/core/params.h"

struct score_parts {
    int64_t price_score; /* ppm */
    int64_t trust;       /* ppm */
    int64_t time_fit;    /* ppm */
    int32_t score;       /* ppm, the weighted sum */
};

/* Scores an offer at `price` among candidates priced min_price..max_price,
 * whose seller has `trust` (1/10000) and which overlaps the requested window
 * of window_ms (> 0) for overlap_ms. Fills *out and returns out->score. */
int32_t match_score(const struct engine_params *p, int64_t price, int64_t min_price,
                    int64_t max_price, int32_t trust, int64_t overlap_ms, int64_t window_ms,
                    struct score_parts *out);

#endif
