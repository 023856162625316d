#include "common/p2p_envelope.h"

#include <stdio.h>
#include <string.h>

#include "common/p2p_time.h"

void p2p_envelope_set_time(struct p2p_envelope *env, int64_t ms)
{
    char buf[P2P_TIME_BUF];
    p2p_time_format(ms, true, buf);
    snprintf(env->time, sizeof env->time, "%s", buf);
}

rd_kafka_resp_err_t p2p_envelope_produce(rd_kafka_t *rk, const char *topic, const char *key,
                                         const struct p2p_envelope *env, const char *value,
                                         size_t len, void *opaque)
{
    return p2p_envelope_produce_to(rk, topic, RD_KAFKA_PARTITION_UA, key, env, value, len, opaque);
}

rd_kafka_resp_err_t p2p_envelope_produce_to(rd_kafka_t *rk, const char *topic, int32_t partition,
                                            const char *key, const struct p2p_envelope *env,
                                            const char *value, size_t len, void *opaque)
{
    rd_kafka_headers_t *h = rd_kafka_headers_new(7);
    rd_kafka_header_add(h, "ce_specversion", -1, "1.0", -1);
    rd_kafka_header_add(h, "ce_id", -1, env->id, -1);
    rd_kafka_header_add(h, "ce_source", -1, env->source, -1);
    rd_kafka_header_add(h, "ce_type", -1, env->type, -1);
    rd_kafka_header_add(h, "ce_time", -1, env->time, -1);
    rd_kafka_header_add(h, "content-type", -1, "application/json", -1);
    rd_kafka_header_add(h, "ce_correlationid", -1, env->correlation_id, -1);
    rd_kafka_resp_err_t err = rd_kafka_producev(
        rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(partition),
        RD_KAFKA_V_KEY((key), (strlen(key))),
        RD_KAFKA_V_VALUE(((void *)value), (len)), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_HEADERS(h), RD_KAFKA_V_OPAQUE(opaque), RD_KAFKA_V_END);
    if (err) /* on failure the headers stay ours */
        rd_kafka_headers_destroy(h);
    return err;
}

static void header(rd_kafka_headers_t *h, const char *name, char *out, size_t cap)
{
    const void *v;
    size_t n;
    out[0] = '\0';
    if (rd_kafka_header_get_last(h, name, &v, &n) == RD_KAFKA_RESP_ERR_NO_ERROR && v) {
        if (n >= cap)
            n = cap - 1;
        memcpy(out, v, n);
        out[n] = '\0';
    }
}

int p2p_envelope_read(const rd_kafka_message_t *msg, struct p2p_envelope *env)
{
    rd_kafka_headers_t *h;
    memset(env, 0, sizeof *env);
    if (rd_kafka_message_headers(msg, &h) != RD_KAFKA_RESP_ERR_NO_ERROR)
        return -1;
    header(h, "ce_id", env->id, sizeof env->id);
    header(h, "ce_source", env->source, sizeof env->source);
    header(h, "ce_type", env->type, sizeof env->type);
    header(h, "ce_time", env->time, sizeof env->time);
    header(h, "ce_correlationid", env->correlation_id, sizeof env->correlation_id);
    return env->type[0] && env->id[0] ? 0 : -1;
}
