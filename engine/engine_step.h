/* One input record through the engine, and the bytes that result: decode it,
 * apply it to the core, encode every event it caused (value and CloudEvents
 * envelope) and advance the hash chain; plus the sequence record that closes
 * a transaction. Shared by the live loop (engine_main.c produces the
 * outputs), recovery (recovery.c only advances state and chain) and the
 * audit (audit_main.c compares them with what is stored), so all three
 * compute the very same bytes: there is one encoder, not three.
 *
 * Guarantees: the outputs of a record depend only on the engine's state, the
 * record (value, headers, timestamp) and its logical input position; the
 * chain advances over each output exactly once, in the order handed out. */
#ifndef P2P_ENGINE_STEP_H
#define P2P_ENGINE_STEP_H

#include "common/p2p_envelope.h"
#include "engine/engine_process.h"

/* One encoded output, valid during the callback only. */
struct engine_output {
    enum output_topic topic;
    const char *ce_type;
    const char *event_id;       /* = ce_id */
    const char *correlation_id; /* = ce_correlationid: the command's id */
    int64_t at_ms;              /* = ce_time */
    const char *key;            /* the market */
    const char *json;           /* the value */
    size_t len;
};

/* Called for every output before the chain advances over it; nonzero stops
 * the step (engine_step returns -1). */
typedef int (*engine_output_fn)(void *ctx, const struct engine_output *out);

/* Applies input record m, read from logical input topic `input` (its origin
 * and event ids name p->in_topics[input], wherever the bytes were read from),
 * handing every output to fn (NULL: none). Returns 0, or -1 when encoding ran
 * out of memory or fn refused. */
int engine_step(struct engine_process *p, int input, const rd_kafka_message_t *m,
                engine_output_fn fn, void *ctx);

/* The sequence record closing batch number `batch` with these inputs, and its
 * envelope fields (id = "<engine id>/<batch>"). Returns malloc'd JSON or NULL. */
char *engine_sequence_encode(const struct engine_process *p, uint64_t batch,
                             const struct input_position *inputs, int n,
                             struct engine_output *out, char id[160]);

/* The CloudEvents envelope the engine writes for an output. */
void engine_output_envelope(const struct engine_process *p, const struct engine_output *o,
                            struct p2p_envelope *env);

/* Advances the hash chain over one output's bytes. */
void chain_advance(struct engine_process *p, const char *bytes, size_t len);

/* Zero chain, no batch, nothing applied: the state before the first batch. */
void engine_chain_reset(struct engine_process *p);

/* Reads the record at `offset` from a partition queue that is read forward
 * (records before it are skipped). NULL when it is not in the log. */
rd_kafka_message_t *engine_fetch_input(rd_kafka_queue_t *q, int64_t offset);

#endif
