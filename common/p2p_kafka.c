#include "common/p2p_kafka.h"
#include "common/p2p_log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* librdkafka's own log lines, as JSON lines like everything else. */
static void log_line(const rd_kafka_t *rk, int level, const char *facility, const char *buf)
{
    (void)rk;
    p2p_log(level <= 3 ? P2P_ERROR : level <= 4 ? P2P_WARN : level <= 6 ? P2P_INFO : P2P_DEBUG,
            "librdkafka", "%s: %s", facility, buf);
}

static int set(rd_kafka_conf_t *conf, const char *k, const char *v, char *err, size_t errlen)
{
    return rd_kafka_conf_set(conf, k, v, err, errlen) == RD_KAFKA_CONF_OK ? 0 : -1;
}

rd_kafka_t *p2p_kafka_producer(const struct p2p_config *cfg, const char *transactional_id,
                               void (*dr_cb)(rd_kafka_t *, const rd_kafka_message_t *, void *),
                               char *err, size_t errlen)
{
    char timeout[16];
    snprintf(timeout, sizeof timeout, "%d", cfg->kafka_timeout_ms);
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (set(conf, "bootstrap.servers", cfg->kafka_brokers, err, errlen) ||
        set(conf, "enable.idempotence", "true", err, errlen) ||
        set(conf, "acks", "all", err, errlen) ||
        set(conf, "linger.ms", "1", err, errlen) ||
        set(conf, "message.timeout.ms", transactional_id ? "60000" : timeout, err, errlen) ||
        (transactional_id && set(conf, "transactional.id", transactional_id, err, errlen))) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    if (dr_cb)
        rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
    rd_kafka_conf_set_log_cb(conf, log_line);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, errlen);
    if (!rk)
        rd_kafka_conf_destroy(conf);
    return rk;
}

rd_kafka_t *p2p_kafka_consumer(const struct p2p_config *cfg, const char *group_id, bool report_eof,
                               char *err, size_t errlen)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (set(conf, "bootstrap.servers", cfg->kafka_brokers, err, errlen) ||
        set(conf, "group.id", group_id, err, errlen) ||
        set(conf, "isolation.level", "read_committed", err, errlen) ||
        set(conf, "enable.auto.commit", "false", err, errlen) ||
        set(conf, "enable.auto.offset.store", "false", err, errlen) ||
        set(conf, "auto.offset.reset", "earliest", err, errlen) ||
        set(conf, "enable.partition.eof", report_eof ? "true" : "false", err, errlen) ||
        /* read_committed: a transaction's records become readable only at
         * its commit marker, and the broker does not answer a waiting fetch
         * when that happens: it holds it to fetch.wait.max.ms (500 ms by
         * default). Every downstream step (projector, engine recovery, the
         * beckn worker) would wait that long; 10 ms costs an idle consumer
         * about 100 small fetch requests a second. */
        set(conf, "fetch.wait.max.ms", "10", err, errlen)) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    rd_kafka_conf_set_log_cb(conf, log_line);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, errlen);
    if (!rk) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    rd_kafka_poll_set_consumer(rk);
    return rk;
}

int p2p_kafka_ensure_topics(rd_kafka_t *rk, const char *const *topics, int n, char *err,
                            size_t errlen)
{
    const char *pv = getenv("P2P_TOPIC_PARTITIONS");
    int partitions = pv && atoi(pv) > 0 ? atoi(pv) : 1;
    rd_kafka_NewTopic_t *nt[16];
    int rc = -1;
    if (n > 16) {
        snprintf(err, errlen, "too many topics");
        return -1;
    }
    for (int i = 0; i < n; i++) {
        nt[i] = rd_kafka_NewTopic_new(topics[i], partitions, 1, err, errlen);
        if (!nt[i]) {
            rd_kafka_NewTopic_destroy_array(nt, (size_t)i);
            return -1;
        }
    }
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_AdminOptions_t *opt = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
    rd_kafka_AdminOptions_set_operation_timeout(opt, 10000, NULL, 0);
    rd_kafka_AdminOptions_set_request_timeout(opt, 15000, NULL, 0);
    rd_kafka_CreateTopics(rk, nt, (size_t)n, opt, q);
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 20000);
    if (!ev) {
        snprintf(err, errlen, "creating topics timed out (is Kafka at the configured brokers?)");
    } else if (rd_kafka_event_error(ev)) {
        snprintf(err, errlen, "creating topics: %s", rd_kafka_event_error_string(ev));
    } else {
        size_t cnt;
        const rd_kafka_topic_result_t **res =
            rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &cnt);
        rc = 0;
        for (size_t i = 0; i < cnt; i++) {
            rd_kafka_resp_err_t e = rd_kafka_topic_result_error(res[i]);
            if (e && e != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
                snprintf(err, errlen, "creating topic %s: %s", rd_kafka_topic_result_name(res[i]),
                         rd_kafka_err2str(e));
                rc = -1;
            }
        }
    }
    if (ev)
        rd_kafka_event_destroy(ev);
    rd_kafka_AdminOptions_destroy(opt);
    rd_kafka_queue_destroy(q);
    rd_kafka_NewTopic_destroy_array(nt, (size_t)n);
    return rc;
}

int p2p_kafka_partitions(rd_kafka_t *rk, const char *topic, int timeout_ms)
{
    for (int waited = 0;; waited += 200) {
        const struct rd_kafka_metadata *md;
        rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
        int n = -1;
        if (rkt && rd_kafka_metadata(rk, 0, rkt, &md, 5000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
            if (md->topic_cnt == 1 && !md->topics[0].err && md->topics[0].partition_cnt > 0)
                n = md->topics[0].partition_cnt;
            rd_kafka_metadata_destroy(md);
        }
        if (rkt)
            rd_kafka_topic_destroy(rkt);
        if (n > 0 || waited >= timeout_ms)
            return n;
        usleep(200 * 1000);
    }
}

int p2p_kafka_assign_all(rd_kafka_t *consumer, const char *topic, char *err, size_t errlen)
{
    int n = p2p_kafka_partitions(consumer, topic, 15000);
    if (n < 1) {
        snprintf(err, errlen, "topic %s has no partitions", topic);
        return -1;
    }
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(n);
    for (int i = 0; i < n; i++)
        rd_kafka_topic_partition_list_add(parts, topic, i)->offset = RD_KAFKA_OFFSET_STORED;
    rd_kafka_resp_err_t e = rd_kafka_assign(consumer, parts);
    rd_kafka_topic_partition_list_destroy(parts);
    if (e) {
        snprintf(err, errlen, "assign %s: %s", topic, rd_kafka_err2str(e));
        return -1;
    }
    return 0;
}
