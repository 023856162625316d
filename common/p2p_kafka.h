/* Kafka clients configured the way every process here needs them:
 *  - producers are idempotent with acks=all (and transactional when given a
 *    transactional.id), so an acknowledged record is never lost or doubled;
 *  - consumers read with isolation.level=read_committed, never auto-commit,
 *    and are driven with assign() (no group rebalances), with a 10 ms
 *    fetch wait (committed records are seen promptly);
 *  - topics are created at start when missing (idempotent).
 * Errors come back as a message in the caller's buffer. */
#ifndef P2P_KAFKA_H
#define P2P_KAFKA_H

#include <librdkafka/rdkafka.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/p2p_config.h"

/* transactional_id may be NULL. The producer's delivery reports go to dr_cb
 * (may be NULL). */
rd_kafka_t *p2p_kafka_producer(const struct p2p_config *cfg, const char *transactional_id,
                               void (*dr_cb)(rd_kafka_t *, const rd_kafka_message_t *, void *),
                               char *err, size_t errlen);

/* group_id names where committed offsets live (used with assign(), not subscribe()).
 * report_eof: deliver a _PARTITION_EOF event at the end of each partition. */
rd_kafka_t *p2p_kafka_consumer(const struct p2p_config *cfg, const char *group_id, bool report_eof,
                               char *err, size_t errlen);

/* Creates the named topics (1 partition each unless P2P_TOPIC_PARTITIONS says
 * otherwise) if they do not exist. Returns 0 or -1 with err. */
int p2p_kafka_ensure_topics(rd_kafka_t *rk, const char *const *topics, int ntopics, char *err,
                            size_t errlen);

/* Number of partitions of `topic`, waiting up to timeout_ms for the broker's
 * metadata to show it (right after creation it may lag). -1 if it never does. */
int p2p_kafka_partitions(rd_kafka_t *rk, const char *topic, int timeout_ms);

/* Assigns every partition of `topic` to the consumer, starting at the
 * group's committed offset (or the beginning). Returns 0 or -1 with err. */
int p2p_kafka_assign_all(rd_kafka_t *consumer, const char *topic, char *err, size_t errlen);

#endif
