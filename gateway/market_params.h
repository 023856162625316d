/* The engine's parameters (matching weights, MIN_TRUST_THRESHOLD,
 * TRUST_DEFAULT_SCORE, TRUST_DEFAULT_LIMIT, fees, MAX_OFFERS_PER_ORDER, ...)
 * as the gateway's read endpoints need them, read from the same environment
 * variables by the engine's own loader (engine/engine_env.c), so discovery
 * ranks and the profile pages compute exactly as the engine does. Loaded once
 * at start; read-only afterwards. */
#ifndef P2P_GATEWAY_MARKET_PARAMS_H
#define P2P_GATEWAY_MARKET_PARAMS_H

#include <stddef.h>

#include "common/p2p_config.h"
#include "engine/core/params.h"

/* Returns 0, or -1 with the offending variable named in err. */
int market_params_load(const struct p2p_config *cfg, char *err, size_t errlen);

/* The loaded parameters (valid after market_params_load succeeded). */
const struct engine_params *market_params(void);

#endif
