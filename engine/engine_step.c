/* One input record through the engine and the bytes that result: see
 * engine_step.h. */
#include "engine/engine_step.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/p2p_json.h"
#include "common/p2p_time.h"

int input_topic_of(const struct engine_process *p, const char *topic)
{
    for (int i = 0; i < INPUT_TOPIC_COUNT; i++)
        if (strcmp(p->in_topics[i], topic) == 0)
            return i;
    return -1;
}

void chain_advance(struct engine_process *p, const char *bytes, size_t len)
{
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, sizeof p->chain);
    crypto_generichash_update(&st, p->chain, sizeof p->chain);
    crypto_generichash_update(&st, (const unsigned char *)bytes, len);
    crypto_generichash_final(&st, p->chain, sizeof p->chain);
    sodium_bin2hex(p->chain_hex, sizeof p->chain_hex, p->chain, sizeof p->chain);
}

void engine_chain_reset(struct engine_process *p)
{
    memset(p->chain, 0, sizeof p->chain);
    sodium_bin2hex(p->chain_hex, sizeof p->chain_hex, p->chain, sizeof p->chain);
    p->batch_seq = 0;
    p->sequence_offset = -1;
    for (int t = 0; t < INPUT_TOPIC_COUNT; t++)
        for (int k = 0; k < ENGINE_MAX_PARTITIONS; k++)
            p->next_offset[t][k] = -1;
}

void engine_output_envelope(const struct engine_process *p, const struct engine_output *o,
                            struct p2p_envelope *env)
{
    memset(env, 0, sizeof *env);
    snprintf(env->id, sizeof env->id, "%s", o->event_id);
    snprintf(env->source, sizeof env->source, "%s", p->source);
    snprintf(env->type, sizeof env->type, "%s", o->ce_type);
    snprintf(env->correlation_id, sizeof env->correlation_id, "%s", o->correlation_id);
    p2p_envelope_set_time(env, o->at_ms);
}

/* A command that could not be read (or is for another market) is answered
 * with a rejection the core never sees: it changes no state. The event goes
 * to the events topic of the family the input topic belongs to. */
/* Bytes from a record we could not read may be anything: keep printable
 * ASCII only, so the rejection always encodes as JSON (a failure to encode
 * would abort the batch and stall the engine on this record forever). */
static void printable(char *s)
{
    for (; *s; s++)
        if (*s < ' ' || *s > '~')
            *s = '?';
}

static void reject_unreadable(struct engine_process *p, int input, const struct command *cmd,
                              const struct p2p_violation *why)
{
    static const enum command_kind family[INPUT_TOPIC_COUNT] = {
        [IN_OFFERS] = CMD_OFFER_WITHDRAW, [IN_ORDERS] = CMD_ORDER_BUY,
        [IN_PARTICIPANTS] = CMD_DEPOSIT, [IN_DELIVERIES] = CMD_DELIVERY_REPORT, [IN_TICKS] = CMD_TICK};
    struct event *ev = &p->sink.events[p->sink.count++];
    memset(ev, 0, sizeof *ev);
    bool offer = input == IN_OFFERS && cmd->kind == CMD_OFFER_SUBMIT &&
                 strcmp(why->code, "unknown_type") != 0;
    ev->kind = offer ? EV_OFFER_REJECTED : EV_COMMAND_REJECTED;
    if (offer) {
        snprintf(ev->u.rejected.subject_id, ENGINE_ID_LEN, "%s", cmd->u.offer.offer_id);
        snprintf(ev->u.rejected.actor_id, ENGINE_ID_LEN, "%s", cmd->u.offer.seller_id);
    }
    ev->u.rejected.reason = *why;
    printable(ev->u.rejected.subject_id);
    printable(ev->u.rejected.actor_id);
    printable(ev->u.rejected.reason.code);
    printable(ev->u.rejected.reason.field);
    printable(ev->u.rejected.reason.message);
    p->unreadable_family = input >= 0 && input < INPUT_TOPIC_COUNT ? family[input] : CMD_TICK;
}

int engine_step(struct engine_process *p, int input, const rd_kafka_message_t *m,
                engine_output_fn fn, void *ctx)
{
    struct p2p_envelope env;
    struct command cmd;
    struct p2p_violation why;
    char market[65];
    const char *topic = input >= 0 && input < INPUT_TOPIC_COUNT ? p->in_topics[input]
                                                                : rd_kafka_topic_name(m->rkt);
    memset(&cmd, 0, sizeof cmd);
    memset(&why, 0, sizeof why);
    market[0] = '\0';
    p->commands++;
    p->sink.count = 0;
    p->sink.nquote_lines = 0;
    int readable = 0;
    if (p2p_envelope_read(m, &env))
        p2p_violate(&why, "unknown_type", "ce_type",
                    "the record lacks the CloudEvents headers ce_type and ce_id");
    else if (command_decode(env.type, m->payload, m->len, &cmd, market, &why) == 0)
        readable = 1;
    if (readable && strcmp(market, p->cfg.market) != 0) {
        p2p_violate(&why, "wrong_market", "market", "this engine runs market %s, not %s",
                    p->cfg.market, market);
        readable = 0;
    }
    int64_t at;
    if (readable) {
        engine_apply(&p->core, &cmd, &p->sink);
        at = p->core.now_ms;
    } else {
        reject_unreadable(p, input, &cmd, &why);
        /* the command's own time if readable, else the log's timestamp; never
         * before engine time (which this rejection does not move) */
        rd_kafka_timestamp_type_t tstype;
        int64_t ts = rd_kafka_message_timestamp(m, &tstype);
        at = cmd.issued_at_ms > 0 && cmd.issued_at_ms <= P2P_TIME_MAX_MS ? cmd.issued_at_ms
                                                                         : (ts > 0 ? ts : 0);
        if (at < p->core.now_ms)
            at = p->core.now_ms;
    }
    if (input >= 0 && input < INPUT_TOPIC_COUNT && m->partition >= 0 &&
        m->partition < ENGINE_MAX_PARTITIONS)
        p->next_offset[input][m->partition] = m->offset + 1;
    struct event_origin o;
    memset(&o, 0, sizeof o);
    /* An unreadable command's id: its ce_id header if that is an id, else
     * its position in the log ("<topic>:<partition>:<offset>"), which names
     * the cause just as well and is the same on every replay. */
    if (cmd.command_id[0])
        snprintf(o.command_id, sizeof o.command_id, "%s", cmd.command_id);
    else if (p2p_id_valid(env.id, sizeof o.command_id - 1))
        snprintf(o.command_id, sizeof o.command_id, "%s", env.id);
    else
        snprintf(o.command_id, sizeof o.command_id, "%s:%d:%lld", topic, (int)m->partition,
                 (long long)m->offset);
    snprintf(o.market, sizeof o.market, "%s", p->cfg.market); /* never echo an unchecked market */
    snprintf(o.topic, sizeof o.topic, "%s", topic);
    o.partition = m->partition;
    o.offset = m->offset;
    o.occurred_at_ms = at;
    for (int k = 0; k < p->sink.count; k++) {
        struct encoded_event enc;
        snprintf(o.event_id, sizeof o.event_id, "%s/%d/%lld/%d", topic, (int)m->partition,
                 (long long)m->offset, k);
        if (event_encode(&p->core, &p->sink, &p->sink.events[k],
                         readable ? cmd.kind : p->unreadable_family, &o, p->chain_hex, &enc))
            return -1; /* out of memory */
        struct engine_output out = {enc.topic, enc.ce_type, o.event_id, o.command_id, at,
                                    o.market, enc.json, strlen(enc.json)};
        int rc = fn ? fn(ctx, &out) : 0;
        chain_advance(p, enc.json, out.len);
        free(enc.json);
        if (rc)
            return -1;
        p->outputs++;
    }
    return 0;
}

char *engine_sequence_encode(const struct engine_process *p, uint64_t batch,
                             const struct input_position *inputs, int n,
                             struct engine_output *out, char id[160])
{
    json_t *list = json_array(), *topics = json_array();
    for (int i = 0; i < INPUT_TOPIC_COUNT; i++)
        json_array_append_new(topics, json_string(p->in_topics[i]));
    for (int i = 0; i < n; i++)
        json_array_append_new(list, json_pack("[i, i, I]", inputs[i].topic, inputs[i].partition,
                                              (json_int_t)inputs[i].offset));
    snprintf(id, 160, "%s/%llu", p->cfg.engine_id, (unsigned long long)batch);
    json_t *root = json_pack("{s:s, s:s, s:I, s:I, s:o, s:o, s:s}", "event_id", id, "engine_id",
                             p->cfg.engine_id, "batch", (json_int_t)batch, "engine_time_ms",
                             (json_int_t)p->core.now_ms, "topics", topics, "inputs", list,
                             "prev_hash", p->chain_hex);
    char *json = root ? json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(root);
    if (json)
        *out = (struct engine_output){OUT_SEQUENCE, "energy.p2p.engine.sequence.v1", id, id,
                                      p->core.now_ms, p->cfg.market, json, strlen(json)};
    return json;
}

rd_kafka_message_t *engine_fetch_input(rd_kafka_queue_t *q, int64_t offset)
{
    for (;;) {
        rd_kafka_message_t *m = rd_kafka_consume_queue(q, 10000);
        if (!m || m->err) {
            if (m)
                rd_kafka_message_destroy(m);
            return NULL;
        }
        if (m->offset == offset)
            return m;
        int64_t got = m->offset;
        rd_kafka_message_destroy(m);
        if (got > offset) /* the named record is not in the log: it was altered */
            return NULL;
    }
}
