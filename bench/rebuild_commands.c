/* p2p-bench-commands: feeds a running engine with the seeded workload of
 * bench/workload.c until it has produced at least --events events, for the
 * read-model rebuild benchmark (bench/rebuild_bench.sh).
 *
 * Commands come from the workload driving a shadow engine core in this
 * process (so they name real orders, offers and fills); each is encoded as
 * its JSON command with CloudEvents headers and produced to its input topic
 * (P2P_TOPIC_PREFIX). At most --in-flight commands are ahead of the real
 * engine, which keeps the interleaving of input topics close to the shadow's
 * order; progress is read from the engine's output topics (inputs applied by
 * each transaction from its sequence log, events from the others). The real
 * engine decides for itself: the log is its output, not the shadow's. Stops
 * once the engine has written --events events and applied every command.
 * Prints one JSON line: commands, applied, events, shadow_events.
 *
 * usage: p2p-bench-commands --events N [--seed S] [--in-flight K] */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench/workload.h"
#include "common/p2p_config.h"
#include "common/p2p_envelope.h"
#include "common/p2p_kafka.h"
#include "common/p2p_log.h"
#include "engine/core/offer.h"

static const char *const quality_names[] = {"LOW", "MEDIUM", "HIGH"};

/* The command's ce_type suffix, topic suffix and JSON value (caller frees). */
static char *encode(const struct command *c, const char **type, const char **topic)
{
    json_t *o = json_pack("{s:s, s:I, s:s}", "command_id", c->command_id, "issued_at_ms",
                          (json_int_t)c->issued_at_ms, "market", "default");
    const struct order_request *r = &c->u.order;
    switch (c->kind) {
    case CMD_OFFER_SUBMIT: {
        const struct offer_terms *t = &c->u.offer;
        *type = "offer.submit.v1", *topic = "offers";
        json_object_update_new(o, json_pack("{s:s, s:s, s:s, s:I, s:I, s:s, s:I, s:I, s:I, s:s}",
                                            "offer_id", t->offer_id, "seller_id", t->seller_id,
                                            "source_type", source_type_name(t->source), "quantity_wh",
                                            (json_int_t)t->quantity_wh, "price_per_kwh",
                                            (json_int_t)t->price_per_kwh, "currency", t->currency,
                                            "min_order_wh", (json_int_t)t->min_order_wh,
                                            "delivery_start_ms", (json_int_t)t->delivery_start_ms,
                                            "delivery_end_ms", (json_int_t)t->delivery_end_ms,
                                            "meter_id", t->meter_id));
        json_object_set_new(o, "valid_until_ms",
                            t->has_valid_until ? json_integer(t->valid_until_ms) : json_null());
        break;
    }
    case CMD_OFFER_WITHDRAW:
        *type = "offer.withdraw.v1", *topic = "offers";
        json_object_update_new(o, json_pack("{s:s, s:s}", "offer_id", c->u.target.id, "seller_id",
                                            c->u.target.actor_id));
        break;
    case CMD_ORDER_QUOTE:
    case CMD_ORDER_RESERVE:
    case CMD_ORDER_BUY:
        *type = c->kind == CMD_ORDER_QUOTE     ? "order.quote.v1"
                : c->kind == CMD_ORDER_RESERVE ? "order.reserve.v1"
                                               : "order.buy.v1";
        *topic = "orders";
        json_object_update_new(o, json_pack("{s:s, s:s}", "order_id", r->order_id, "buyer_id", r->buyer_id));
        if (r->payer_id[0])
            json_object_set_new(o, "payer_id", json_string(r->payer_id));
        if (c->nlines > 0) {
            json_t *lines = json_array();
            for (int i = 0; i < c->nlines; i++)
                json_array_append_new(lines, json_pack("{s:s, s:I}", "offer_id", c->lines[i].offer_id,
                                                       "quantity_wh", (json_int_t)c->lines[i].quantity_wh));
            json_object_set_new(o, "lines", lines);
        } else {
            json_object_update_new(o, json_pack("{s:I, s:I, s:I, s:b}", "quantity_wh",
                                                (json_int_t)r->quantity_wh, "window_start_ms",
                                                (json_int_t)r->window_start_ms, "window_end_ms",
                                                (json_int_t)r->window_end_ms, "allow_partial",
                                                r->allow_partial));
            if (r->max_price_per_kwh > 0)
                json_object_set_new(o, "max_price_per_kwh", json_integer(r->max_price_per_kwh));
            if (r->has_source)
                json_object_set_new(o, "source_type", json_string(source_type_name(r->source)));
        }
        break;
    case CMD_ORDER_CONFIRM:
    case CMD_ORDER_CANCEL:
        *type = c->kind == CMD_ORDER_CONFIRM ? "order.confirm.v1" : "order.cancel.v1";
        *topic = "orders";
        json_object_update_new(o, json_pack("{s:s, s:s}", "order_id", c->u.target.id, "buyer_id",
                                            c->u.target.actor_id));
        break;
    case CMD_ORDER_PAYMENT:
        *type = "order.payment.v1", *topic = "orders";
        json_object_update_new(o, json_pack("{s:s, s:s, s:I}", "order_id", c->u.payment.order_id,
                                            "payer_id", c->u.payment.payer_id, "amount",
                                            (json_int_t)c->u.payment.amount));
        if (c->u.payment.reference[0])
            json_object_set_new(o, "reference", json_string(c->u.payment.reference));
        break;
    case CMD_SALE_CANCEL:
        *type = "sale.cancel.v1", *topic = "orders";
        json_object_update_new(o, json_pack("{s:s, s:s}", "fill_id", c->u.target.id, "seller_id",
                                            c->u.target.actor_id));
        break;
    case CMD_DEPOSIT:
    case CMD_WITHDRAWAL:
        *type = c->kind == CMD_DEPOSIT ? "wallet.deposit.v1" : "wallet.withdrawal.v1";
        *topic = "participants";
        json_object_update_new(o, json_pack("{s:s, s:I}", "participant_id", c->u.money.participant_id,
                                            "amount", (json_int_t)c->u.money.amount));
        if (c->u.money.reference[0])
            json_object_set_new(o, "reference", json_string(c->u.money.reference));
        break;
    case CMD_PROFILE_UPDATE:
        *type = "participant.profile.v1", *topic = "participants";
        json_object_update_new(o, json_pack("{s:s, s:I}", "participant_id", c->u.profile.participant_id,
                                            "capacity_wh_per_month",
                                            (json_int_t)c->u.profile.capacity_wh_per_month));
        break;
    case CMD_METER_VERIFIED:
        *type = "participant.meter.v1", *topic = "participants";
        json_object_update_new(o, json_pack("{s:s, s:I, s:s}", "participant_id", c->u.meter.participant_id,
                                            "monthly_wh", (json_int_t)c->u.meter.monthly_wh, "quality",
                                            quality_names[c->u.meter.quality]));
        break;
    case CMD_DELIVERY_REPORT:
        *type = "delivery.report.v1", *topic = "deliveries";
        json_object_update_new(o, json_pack("{s:s, s:I, s:I}", "fill_id", c->u.delivery.fill_id,
                                            "delivered_wh", (json_int_t)c->u.delivery.delivered_wh,
                                            "curtailed_wh", (json_int_t)c->u.delivery.curtailed_wh));
        break;
    case CMD_TICK:
        *type = "clock.tick.v1", *topic = "ticks";
        break;
    }
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return s;
}

/* What the real engine has committed so far: inputs applied (from its
 * sequence records) and events written to the other output topics. */
struct engine_progress {
    uint64_t applied;
    uint64_t events;
};

static void poll_engine(rd_kafka_t *c, int timeout_ms, struct engine_progress *p)
{
    rd_kafka_message_t *m;
    while ((m = rd_kafka_consumer_poll(c, timeout_ms))) {
        timeout_ms = 0;
        if (!m->err && strstr(rd_kafka_topic_name(m->rkt), "engine-sequence")) {
            json_t *v = json_loadb(m->payload, m->len, 0, NULL);
            p->applied += json_array_size(json_object_get(v, "inputs"));
            json_decref(v);
        } else if (!m->err) {
            p->events++;
        }
        rd_kafka_message_destroy(m);
    }
}

int main(int argc, char **argv)
{
    uint64_t want = 1000000, seed = 42, in_flight = 4000;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--events") == 0)
            want = strtoull(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--seed") == 0)
            seed = strtoull(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--in-flight") == 0)
            in_flight = strtoull(argv[i + 1], NULL, 10);
        else {
            fprintf(stderr, "usage: p2p-bench-commands --events N [--seed S] [--in-flight K]\n");
            return 2;
        }
    }
    p2p_log_init("bench-commands");
    struct p2p_config cfg;
    char err[512];
    if (p2p_config_load(&cfg, err, sizeof err)) {
        fprintf(stderr, "p2p-bench-commands: %s\n", err);
        return 2;
    }
    uint64_t commands_guess = want; /* about one event per command or more */
    struct workload_config wc;
    workload_config_default(&wc, seed, 0, commands_guess);
    struct engine_capacity cap;
    workload_capacity(&wc, commands_guess, &cap);
    struct engine_params params;
    engine_params_default(&params);
    static struct engine shadow;
    struct workload *w = workload_create(&wc);
    struct event *events = calloc(4096, sizeof *events);
    if (!w || !events || engine_create(&shadow, &params, &cap)) {
        fprintf(stderr, "p2p-bench-commands: out of memory\n");
        return 1;
    }
    struct event_sink sink;
    memset(&sink, 0, sizeof sink);
    sink.events = events;
    sink.capacity = 4096;
    rd_kafka_t *prod = p2p_kafka_producer(&cfg, NULL, NULL, err, sizeof err);
    static const char *const outputs[] = {"engine-sequence", "offer-events", "order-events", "fills",
                                          "trust", "journal", "participant-events"};
    char group[96], topic_name[160];
    snprintf(group, sizeof group, "bench-commands-%ld", (long)time(NULL));
    rd_kafka_t *seq = p2p_kafka_consumer(&cfg, group, false, err, sizeof err);
    for (size_t i = 0; seq && i < sizeof outputs / sizeof *outputs; i++) {
        snprintf(topic_name, sizeof topic_name, "%s%s", cfg.topic_prefix, outputs[i]);
        const char *one[1] = {topic_name};
        if (p2p_kafka_ensure_topics(seq, one, 1, err, sizeof err) ||
            p2p_kafka_partitions(seq, topic_name, 15000) < 0) {
            rd_kafka_destroy(seq);
            seq = NULL;
        }
    }
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(8);
    for (size_t i = 0; seq && i < sizeof outputs / sizeof *outputs; i++) {
        snprintf(topic_name, sizeof topic_name, "%s%s", cfg.topic_prefix, outputs[i]);
        int n = p2p_kafka_partitions(seq, topic_name, 15000);
        for (int k = 0; k < n; k++)
            rd_kafka_topic_partition_list_add(parts, topic_name, k)->offset = RD_KAFKA_OFFSET_BEGINNING;
    }
    if (!prod || !seq || rd_kafka_assign(seq, parts)) {
        fprintf(stderr, "p2p-bench-commands: cannot produce or read the engine's topics: %s\n", err);
        return 1;
    }
    rd_kafka_topic_partition_list_destroy(parts);
    struct engine_progress done = {0, 0};
    uint64_t produced = 0, shadow_events = 0;
    struct command cmd;
    while (done.events < want) {
        workload_next(w, &shadow, &cmd);
        sink.count = 0;
        engine_apply(&shadow, &cmd, &sink);
        workload_observe(w, &shadow, &sink);
        shadow_events += (uint64_t)sink.count;
        const char *type = NULL, *topic = NULL;
        char *value = encode(&cmd, &type, &topic);
        char full_topic[160];
        snprintf(full_topic, sizeof full_topic, "%s%s", cfg.topic_prefix, topic);
        struct p2p_envelope env;
        memset(&env, 0, sizeof env);
        snprintf(env.id, sizeof env.id, "%s", cmd.command_id);
        snprintf(env.source, sizeof env.source, "urn:p2p:bench");
        snprintf(env.type, sizeof env.type, "energy.p2p.%s", type);
        snprintf(env.correlation_id, sizeof env.correlation_id, "%s", cmd.command_id);
        p2p_envelope_set_time(&env, cmd.issued_at_ms);
        rd_kafka_resp_err_t e;
        while (value && (e = p2p_envelope_produce(prod, full_topic, "default", &env, value, strlen(value),
                                                 NULL)) == RD_KAFKA_RESP_ERR__QUEUE_FULL)
            rd_kafka_poll(prod, 10);
        if (!value || e) {
            fprintf(stderr, "p2p-bench-commands: producing failed: %s\n", value ? rd_kafka_err2str(e) : "encode");
            return 1;
        }
        free(value);
        produced++;
        rd_kafka_poll(prod, 0);
        if (produced % 500 == 0) {
            rd_kafka_flush(prod, 10000);
            poll_engine(seq, 0, &done);
            while (produced - done.applied > in_flight)
                poll_engine(seq, 100, &done);
        }
        if (produced % 100000 == 0)
            fprintf(stderr, "  %llu commands, %llu events so far\n", (unsigned long long)produced,
                    (unsigned long long)done.events);
    }
    rd_kafka_flush(prod, 30000);
    time_t deadline = time(NULL) + 600;
    while (done.applied < produced && time(NULL) < deadline) /* >: other inputs, e.g. ticks */
        poll_engine(seq, 200, &done);
    poll_engine(seq, 500, &done);
    uint64_t applied = done.applied;
    printf("{\"commands\":%llu,\"applied\":%llu,\"events\":%llu,\"shadow_events\":%llu}\n",
           (unsigned long long)produced, (unsigned long long)applied, (unsigned long long)done.events,
           (unsigned long long)shadow_events);
    rd_kafka_consumer_close(seq);
    rd_kafka_destroy(seq);
    rd_kafka_destroy(prod);
    workload_destroy(w);
    engine_destroy(&shadow);
    free(events);
    return applied >= produced ? 0 : 1;
}
