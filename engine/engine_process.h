/* State of the engine process (one market's single writer) shared by its
 * loop (engine_main.c) and its recovery (recovery.c). */
#ifndef P2P_ENGINE_PROCESS_H
#define P2P_ENGINE_PROCESS_H

#include <librdkafka/rdkafka.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/p2p_config.h"
#include "engine/command_codec.h"
#include "engine/core/engine.h"
#include "engine/event_codec.h"

#define ENGINE_SINK_EVENTS 8192
#define ENGINE_MAX_PARTITIONS 64

struct input_position {
    uint8_t topic; /* enum input_topic */
    int32_t partition;
    int64_t offset;
};

struct engine_process {
    struct p2p_config cfg;
    struct engine_params params;
    struct engine_capacity cap;
    struct engine core;
    struct event *events;
    struct event_sink sink;
    rd_kafka_t *producer;
    rd_kafka_t *consumer;
    char source[96];
    char in_topics[INPUT_TOPIC_COUNT][128];
    char out_topics[OUTPUT_TOPIC_COUNT][128];
    unsigned char chain[32]; /* BLAKE2b-256 over the previous hash and each output's bytes */
    char chain_hex[65];
    uint64_t batch_seq;       /* transactions committed so far */
    int64_t sequence_offset;  /* offset of the last committed sequence record; -1 = none */
    char snapshot_path[512];
    int64_t snapshot_every;   /* commands between snapshots */
    uint64_t commands, outputs, since_snapshot;
    struct input_position *batch;
    int nbatch, batch_cap;
    enum command_kind unreadable_family; /* routes the rejection of an unreadable record */
    /* Next input offset per partition, as applied to the core (-1 = nothing
     * applied yet: from the beginning). Snapshots record these. */
    int32_t partitions[INPUT_TOPIC_COUNT];
    int64_t next_offset[INPUT_TOPIC_COUNT][ENGINE_MAX_PARTITIONS];
};

/* Which input topic a record came from, or -1. */
int input_topic_of(const struct engine_process *p, const char *topic);

/* Rebuilds the core from the newest snapshot plus the sequence log, so its
 * state matches the committed input offsets. Used at start and after an
 * aborted transaction. Returns 0 or -1. */
int engine_recover(struct engine_process *p);

/* Writes a snapshot of the core, the chain and the committed input offsets. */
int engine_snapshot_write(struct engine_process *p);

#endif
