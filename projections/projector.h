/* The projector loop shared by the live projector (projector_main.c) and the
 * rebuild (rebuild_main.c): consumes every engine output topic
 * (read_committed) and applies each batch of events to the read models in
 * one PostgreSQL transaction that also stores the next offset per (projector,
 * topic, partition) and bumps projector_stats.events_applied. On start, and
 * after any failure, the consumer is positioned from those stored offsets, not
 * Kafka's: a crash at any instant neither skips an event nor applies one
 * twice.
 *
 * The offsets are also a fence: a batch only commits if the stored offsets
 * are still the ones it started from. When a rebuild swaps in new tables
 * (with their own offsets), the live projector's next batch fails that check,
 * rolls back, and continues from the new tables' offsets. */
#ifndef P2P_PROJECTOR_H
#define P2P_PROJECTOR_H

#include <libpq-fe.h>
#include <librdkafka/rdkafka.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/p2p_config.h"
#include "common/p2p_envelope.h"
#include "projections/projection.h"

#define PROJECTOR_TOPICS 6
#define PROJECTOR_MAX_PARTITIONS 64
#define PROJECTOR_KNOWN_TYPES 24

struct projector {
    struct p2p_config cfg;
    const char *schema;      /* NULL: the live tables; else the tables of this schema (a rebuild) */
    int batch_max;           /* events per transaction */
    int batch_ms;            /* longest a batch collects events */
    bool report_eof;         /* track the end of each partition (a rebuild) */
    const volatile sig_atomic_t *running;
    PGconn *db;
    rd_kafka_t *consumer;
    char topics[PROJECTOR_TOPICS][128];
    int npartitions[PROJECTOR_TOPICS];
    /* Committed in PostgreSQL; -1 = from the beginning. */
    int64_t next_offset[PROJECTOR_TOPICS][PROJECTOR_MAX_PARTITIONS];
    /* Offset of the last end-of-partition seen (report_eof), -1 = none. */
    int64_t eof_offset[PROJECTOR_TOPICS][PROJECTOR_MAX_PARTITIONS];
    uint64_t applied;        /* events committed by this process */
    uint64_t type_count[PROJECTOR_KNOWN_TYPES]; /* committed events by type, see projector_type_name */
};

/* Creates the consumer (topics created when missing), connects to PostgreSQL
 * (retrying while *running), applies migrations (live only) and positions the
 * consumer at the stored offsets. p->cfg and the settings above must be
 * filled. Returns 0 or -1 (logged). */
int projector_start(struct projector *p);

/* Only the consumer, positioned at the beginning of every partition, with no
 * database (p->db stays NULL; a rebuild's reader). Returns 0 or -1 (logged). */
int projector_start_reading(struct projector *p);

/* Collects and applies one batch. Returns the number of events committed
 * (0 when none arrived), or -1 when the batch failed and was rolled back (the
 * consumer is then back at the stored offsets; the caller just goes on). */
int projector_run_batch(struct projector *p);

/* Whether every partition was read up to `high` (offsets, e.g. high
 * watermarks taken earlier). Needs report_eof. */
bool projector_reached(const struct projector *p, const int64_t high[PROJECTOR_TOPICS][PROJECTOR_MAX_PARTITIONS]);

/* High watermarks of every partition now. Returns 0 or -1. */
int projector_high_watermarks(struct projector *p, int64_t high[PROJECTOR_TOPICS][PROJECTOR_MAX_PARTITIONS],
                              int64_t *total_after_stored);

/* Name of type_count[i] ("order.reserved.v1"...), NULL past the end. */
const char *projector_type_name(int i);

void projector_stop(struct projector *p);

/* One consumed record decoded as the read-model modules see it. */
struct projector_record {
    struct p2p_envelope env;
    struct projected_event event; /* json and value owned (projector_record_free) */
    int type;                     /* index for type_count, -1 for a type no model knows */
};

/* Decodes a record. Returns 0, or -1 (logged) when it is not one of ours or
 * its value is not a JSON object (such records are skipped, yet consumed). */
int projector_decode(const rd_kafka_message_t *m, struct projector_record *rec);
void projector_record_free(struct projector_record *rec);

#endif
