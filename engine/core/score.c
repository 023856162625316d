#include "engine/core/score.h"

#define PPM 1000000LL

int32_t match_score(const struct engine_params *p, int64_t price, int64_t min_price,
                    int64_t max_price, int32_t trust, int64_t overlap_ms, int64_t window_ms,
                    struct score_parts *out)
{
    int64_t ps = max_price == min_price
                     ? PPM
                     : 300000 + 700000 * (max_price - price) / (max_price - min_price);
    int64_t tr = (int64_t)trust * 100;
    int64_t tf = overlap_ms * PPM / window_ms;
    if (tf > PPM)
        tf = PPM;
    out->price_score = ps;
    out->trust = tr;
    out->time_fit = tf;
    out->score = (int32_t)((p->weight_price * ps + p->weight_trust * tr + p->weight_time * tf) / 100);
    return out->score;
}
