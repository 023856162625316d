/* Appending commands to Kafka and waiting for the broker's acknowledgement.
 * The producer is idempotent with acks=all; command_bus_append() returns only
 * after the record is durably written (or has definitely failed), so the
 * gateway never answers "accepted" for a command Kafka does not hold.
 * Thread-safe: any request thread may append; one background thread serves
 * the producer's delivery reports. */
#ifndef P2P_COMMAND_BUS_H
#define P2P_COMMAND_BUS_H

#include <stddef.h>
#include <stdint.h>

#include "common/p2p_config.h"
#include "common/p2p_envelope.h"

/* Creates the producer, makes sure the topics exist and starts the report
 * thread. Returns 0 or -1 with err. */
int command_bus_start(const struct p2p_config *cfg, char *err, size_t errlen);
void command_bus_stop(void);

/* Appends one command and waits up to P2P_KAFKA_TIMEOUT_MS for the broker.
 * Returns 0 when acknowledged, -1 with a reason in err otherwise. */
int command_bus_append(const char *topic, const char *key, const struct p2p_envelope *env,
                       const char *json, char *err, size_t errlen);

/* Appends a command of CloudEvents type `ce_type` (its id is command_id,
 * its time issued_at_ms) to `topic`, keyed by the market, and waits for the
 * broker like command_bus_append. Returns 0, or -1 with err. */
int command_bus_submit(const struct p2p_config *cfg, const char *topic, const char *ce_type,
                       const char *command_id, int64_t issued_at_ms, const char *json, char *err,
                       size_t errlen);

/* Queues one record without waiting for the broker (for clock ticks, which
 * are worthless once late and repeated anyway). Returns 0 when queued. */
int command_bus_send(const char *topic, const char *key, const struct p2p_envelope *env,
                     const char *json);

/* True when the broker answered a metadata request within timeout_ms. */
int command_bus_healthy(int timeout_ms);

#endif
