/* The engine's rules and table sizes from environment variables (product.md
 * names: RESERVATION_TTL_SECONDS, PLATFORM_FEE_RATE=0.025, ...). Rates and
 * scores are decimals on the outside and exact integers inside (basis points,
 * 1/10000): "0.025" is parsed as 250 without floating point. */
#ifndef P2P_ENGINE_ENV_H
#define P2P_ENGINE_ENV_H

#include <stddef.h>

#include "common/p2p_config.h"
#include "engine/core/engine.h"

/* Returns 0, or -1 with the offending variable named in err. */
int engine_env_load(const struct p2p_config *cfg, struct engine_params *p,
                    struct engine_capacity *cap, char *err, size_t errlen);

/* Parses a decimal in [0, 1] with up to 4 decimals into 1/10000 units. */
int parse_fraction_bp(const char *text, int32_t *out);

#endif
