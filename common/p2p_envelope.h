/* The record envelope every process writes and reads: key = market, value =
 * JSON, headers per the CloudEvents 1.0 Kafka binary binding (ce_specversion,
 * ce_id, ce_source, ce_type, ce_time, content-type) plus ce_correlationid.
 * docs/topics.md is the public description of this contract. */
#ifndef P2P_ENVELOPE_H
#define P2P_ENVELOPE_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>
#include <stdint.h>

#define P2P_CE_TYPE_PREFIX "energy.p2p."

struct p2p_envelope {
    char id[160];
    char source[96];
    char type[96];
    char time[32];
    char correlation_id[160];
};

/* Fills env->time from epoch milliseconds. */
void p2p_envelope_set_time(struct p2p_envelope *env, int64_t ms);

/* Appends one record (copying key, value and headers). Returns the librdkafka
 * error of rd_kafka_producev; `opaque` reaches the delivery report. */
rd_kafka_resp_err_t p2p_envelope_produce(rd_kafka_t *rk, const char *topic, const char *key,
                                         const struct p2p_envelope *env, const char *value,
                                         size_t len, void *opaque);

/* The same into one chosen partition (instead of the key's). */
rd_kafka_resp_err_t p2p_envelope_produce_to(rd_kafka_t *rk, const char *topic, int32_t partition,
                                            const char *key, const struct p2p_envelope *env,
                                            const char *value, size_t len, void *opaque);

/* Reads the CloudEvents headers of a consumed record. Returns 0, or -1 when
 * ce_type or ce_id is missing (the record is not one of ours). */
int p2p_envelope_read(const rd_kafka_message_t *msg, struct p2p_envelope *env);

#endif
