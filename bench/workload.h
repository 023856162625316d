/* A deterministic generator of realistic command streams for the engine core,
 * shared by the engine benchmark (bench/engine_bench.c) and the property tests
 * (tests/unit/test_engine_properties.c).
 *
 * One workload drives one market (one struct engine). From a seed it produces
 * the commands a busy market sees: sellers (ids "s<n>") declaring capacity and
 * listing offers, buyers ("b<n>") funding their wallets, quoting, reserving,
 * confirming, buying and cancelling, sellers cancelling sales and withdrawing
 * offers, the DISCOM reporting deliveries of past windows, meter data, and the
 * market clock ticking. Simulated time advances with every command, so
 * reservations expire and slots reach gate closure over a long run.
 *
 * Commands that name engine entities (confirm or cancel an order, withdraw an
 * offer, report a fill's delivery) need the engine's answers: after applying
 * each command, feed its events back with workload_observe(). The same seed,
 * fed the same events, gives the same commands.
 *
 * All memory is allocated by workload_create(); next/observe never allocate
 * (fixed rings, oldest entries overwritten). Randomness is splitmix64 seeded
 * from the config, never rand(). */
#ifndef P2P_BENCH_WORKLOAD_H
#define P2P_BENCH_WORKLOAD_H

#include <stdint.h>

#include "engine/core/engine.h"

/* 2026-11-24T06:00:00Z, hour-aligned. */
#define WORKLOAD_EPOCH_MS 1795500000000LL

struct workload_config {
    uint64_t seed;
    uint32_t market;          /* a label in generated ids: "O<market>.<n>" */
    uint32_t sellers;         /* s0 .. s<sellers-1> */
    uint32_t buyers;          /* b0 .. b<buyers-1> */
    int64_t start_ms;         /* simulated time of the first command */
    int64_t ms_per_command;   /* mean simulated time between two commands */
    uint32_t tick_every;      /* every n-th command is a CMD_TICK */
    uint64_t expected_commands; /* sizes the delivery queue */
};

/* Defaults for a market that will see about `commands` commands: a few
 * hundred sellers (fewer for short runs), three buyers per seller, and a clock
 * at which each seller lists about 4 offers a simulated day. */
void workload_config_default(struct workload_config *c, uint64_t seed, uint32_t market,
                             uint64_t commands);

/* Engine capacities that never run out for `commands` commands of this
 * workload (so "capacity" rejections do not distort a run). */
void workload_capacity(const struct workload_config *c, uint64_t commands,
                       struct engine_capacity *cap);

struct workload;

struct workload *workload_create(const struct workload_config *c);
void workload_destroy(struct workload *w);

/* The next command (fully overwritten). `e` is the engine the command is for;
 * it is only read. */
void workload_next(struct workload *w, const struct engine *e, struct command *out);

/* Feeds the events of the command just applied back into the workload. */
void workload_observe(struct workload *w, const struct engine *e, const struct event_sink *s);

/* Simulated time of the last generated command. */
int64_t workload_now(const struct workload *w);

/* Counts of generated commands by kind (index: enum command_kind). */
const uint64_t *workload_kind_counts(const struct workload *w);

/* Output hash: FNV-1a 64 over a canonical byte rendering of every event
 * (kind, integer fields, ids resolved through the engine's tables). Call once
 * per engine_apply, right after it (quote lines live in the sink only until
 * the next apply). Start from WORKLOAD_HASH_INIT. */
#define WORKLOAD_HASH_INIT 1469598103934665603ULL
uint64_t workload_hash_events(uint64_t h, const struct engine *e, const struct event_sink *s);

#endif
