#include "gateway/market_params.h"

#include "engine/engine_env.h"

static struct engine_params params;

int market_params_load(const struct p2p_config *cfg, char *err, size_t errlen)
{
    struct engine_capacity unused; /* table sizes matter to the engine only */
    return engine_env_load(cfg, &params, &unused, err, errlen);
}

const struct engine_params *market_params(void) { return &params; }
