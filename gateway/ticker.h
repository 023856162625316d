/* The market clock: appends an energy.p2p.clock.tick.v1 command to the ticks
 * topic every P2P_TICK_MS (default 1000; 0 disables), so the engine expires
 * reservations and closes slots at gate closure even when no other command
 * arrives. The engine takes the time from the command, never from its own
 * clock, so ticks keep it deterministic; several gateways ticking is harmless
 * (engine time only moves forward). */
#ifndef P2P_TICKER_H
#define P2P_TICKER_H

#include "common/p2p_config.h"

int ticker_start(const struct p2p_config *cfg);
void ticker_stop(void);

#endif
