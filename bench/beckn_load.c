/* p2p-bench-beckn: how fast our gateway ACKs signed Beckn `select` requests.
 *
 * Sets up its own world on the real stack: a fresh PostgreSQL database
 * (migrated), its own topic prefix (the orders topic created), a BPP key for
 * the gateway and a BAP key for itself in a registry file, then starts the
 * gateway binary given with --gateway under that Beckn identity. It
 * pre-generates N distinct signed select requests (distinct message and
 * transaction ids, valid Ed25519 signatures over the exact bytes), and sends
 * them over C keep-alive connections, each connection one thread sending its
 * share back to back (closed loop, maximum rate), or at a fixed total rate
 * with --rate. Each ACK's latency (request written -> whole answer read) is
 * recorded; every answer must be HTTP 200 ACK. What one ACK costs: body
 * read, signature verification, JSON and pack validation, the replay insert,
 * the correlation insert and the Kafka append acknowledged by the broker.
 *
 * Output: a human summary, then as the last line one JSON object:
 * {"bench":"beckn_select","requests","connections","rate","errors","seconds",
 *  "req_per_s","p50_ms","p99_ms","max_ms"}.
 * Cleans up: stops the gateway, drops the database, deletes its topics. */
#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <stdbool.h>
#include <strings.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/p2p_config.h"
#include "common/p2p_kafka.h"
#include "gateway/beckn/signature.h"
#include "projections/migrate.h"

struct options {
    int requests, connections, port;
    double rate; /* total requests per second; 0 = as fast as possible */
    const char *gateway, *migrations;
};

struct request {
    char *text; /* the whole HTTP request */
    size_t len;
};

struct worker {
    const struct options *opt;
    struct request *reqs;
    int first, count, index, errors;
    double *latency_ms;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* What the run created, undone by cleanup() also when it dies halfway. */
static struct {
    char admin[512];    /* conninfo of the maintenance database */
    char dbname[64];    /* created database, "" if none */
    char prefix[64];    /* topic prefix, "" if no topic was made */
    struct p2p_config *cfg;
    char registry[96];  /* registry file, "" if none */
    pid_t gateway;      /* 0 if not started */
} world;

static void delete_topics(const struct p2p_config *cfg, const char *prefix);

static void cleanup(void)
{
    if (world.gateway > 0) {
        kill(world.gateway, SIGTERM);
        waitpid(world.gateway, NULL, 0);
        world.gateway = 0;
    }
    if (world.registry[0])
        unlink(world.registry);
    world.registry[0] = '\0';
    if (world.dbname[0]) {
        char sql[128];
        snprintf(sql, sizeof sql, "drop database if exists %s", world.dbname);
        PGconn *db = PQconnectdb(world.admin);
        PGresult *r = PQstatus(db) == CONNECTION_OK ? PQexec(db, sql) : NULL;
        if (!r || PQresultStatus(r) != PGRES_COMMAND_OK)
            fprintf(stderr, "p2p-bench-beckn: database %s left behind: %s\n", world.dbname,
                    PQerrorMessage(db));
        PQclear(r);
        PQfinish(db);
        world.dbname[0] = '\0';
    }
    if (world.prefix[0] && world.cfg)
        delete_topics(world.cfg, world.prefix);
    world.prefix[0] = '\0';
}

static void die(const char *what)
{
    fprintf(stderr, "p2p-bench-beckn: %s\n", what);
    cleanup();
    exit(1);
}

static const char *env_or(const char *name, const char *fallback)
{
    const char *v = getenv(name);
    return v && *v ? v : fallback;
}

static int connect_to(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int one = 1;
    if (fd < 0)
        return -1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, (struct sockaddr *)&a, sizeof a)) {
        close(fd);
        return -1;
    }
    return fd;
}

/* The value after a header name (case-insensitive) in head, or NULL. */
static const char *header_value(const char *head, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = head; *p; p++)
        if ((p == head || p[-1] == '\n') && strncasecmp(p, name, n) == 0)
            return p + n;
    return NULL;
}

/* Reads one HTTP response; returns its status, or -1 on a broken connection.
 * With want_ack, a 200 whose body is not a Beckn ACK counts as 299. */
static int read_response(int fd, char *buf, size_t cap, bool want_ack)
{
    size_t got = 0;
    char *end = NULL;
    while (!end) {
        ssize_t n = read(fd, buf + got, cap - 1 - got);
        if (n <= 0)
            return -1;
        got += (size_t)n;
        buf[got] = '\0';
        end = strstr(buf, "\r\n\r\n");
        if (!end && got >= cap - 1)
            return -1;
    }
    int status = atoi(buf + 9);
    const char *cl = header_value(buf, "Content-Length:");
    size_t body = cl ? (size_t)atol(cl) : 0;
    size_t head = (size_t)(end + 4 - buf);
    if (head + body >= cap)
        return -1;
    while (got < head + body) {
        ssize_t n = read(fd, buf + got, head + body - got);
        if (n <= 0)
            return -1;
        got += (size_t)n;
    }
    buf[got] = '\0';
    bool ack = strstr(buf + head, "\"ACK\"") != NULL;
    if (want_ack && status == 200 && !ack)
        return 299;
    return status;
}

static void *run_worker(void *arg)
{
    struct worker *w = arg;
    int fd = connect_to(w->opt->port);
    char buf[16384];
    double start = now_s();
    double per_conn_interval = w->opt->rate > 0 ? w->opt->connections / w->opt->rate : 0;
    for (int i = 0; i < w->count; i++) {
        if (per_conn_interval > 0) {
            double due = start + i * per_conn_interval, t = now_s();
            if (due > t)
                usleep((useconds_t)((due - t) * 1e6));
        }
        const struct request *r = &w->reqs[w->first + i];
        double t0 = now_s();
        int status = -1;
        for (int attempt = 0; attempt < 2 && status < 0; attempt++) {
            if (fd < 0)
                fd = connect_to(w->opt->port);
            if (fd >= 0 && write(fd, r->text, r->len) == (ssize_t)r->len)
                status = read_response(fd, buf, sizeof buf, true);
            if (status < 0 && fd >= 0) {
                close(fd);
                fd = -1;
            }
        }
        w->latency_ms[w->first + i] = (now_s() - t0) * 1000.0;
        if (status != 200 && w->errors++ < 3)
            fprintf(stderr, "request %d: %s %d\n", w->first + i,
                    status < 0 ? "connection failed" : "HTTP", status < 0 ? 0 : status);
    }
    if (fd >= 0)
        close(fd);
    return NULL;
}

static char *b64(const unsigned char *raw, size_t len)
{
    size_t cap = sodium_base64_encoded_len(len, sodium_base64_VARIANT_ORIGINAL);
    char *out = malloc(cap);
    if (out)
        sodium_bin2base64(out, cap, raw, len, sodium_base64_VARIANT_ORIGINAL);
    return out;
}

static struct request make_request(const struct beckn_key *bap, const char *bpp_id, int port, int i,
                                   int64_t now)
{
    char ts[32], uri[64], txn[64], msg[64];
    time_t t = (time_t)now;
    strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
    snprintf(uri, sizeof uri, "http://127.0.0.1:%d/beckn", port);
    snprintf(txn, sizeof txn, "txn-bench-%d-%d", (int)getpid(), i);
    snprintf(msg, sizeof msg, "msg-bench-%d-%d", (int)getpid(), i);
    json_t *body = json_pack(
        "{s:{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s},"
        " s:{s:{s:s, s:s, s:s, s:s, s:{s:s, s:s, s:s}, s:[{s:s, s:{s:f, s:s},"
        " s:{s:s, s:s, s:s}}]}}}",
        "context", "domain", "beckn.one:deg:p2p-trading-interdiscom:2.0.0", "version", "2.0.0",
        "action", "select", "bap_id", bap->subscriber_id, "bap_uri", "http://127.0.0.1:9/beckn",
        "bpp_id", bpp_id, "bpp_uri", uri, "transaction_id", txn, "message_id", msg, "timestamp",
        ts, "ttl", "PT1H", "message", "order", "@context",
        "https://raw.githubusercontent.com/beckn/protocol-specifications-new/refs/heads/main/"
        "schema/core/v2/context.jsonld",
        "@type", "beckn:Order", "beckn:orderStatus", "CREATED", "beckn:seller", "seller-1",
        "beckn:buyer", "@context",
        "https://raw.githubusercontent.com/beckn/protocol-specifications-new/refs/heads/main/"
        "schema/core/v2/context.jsonld",
        "@type", "beckn:Buyer", "beckn:id", "buyer-bench", "beckn:orderItems",
        "beckn:orderedItem", "item-1", "beckn:quantity", "unitQuantity", 1.5, "unitText", "kWh",
        "beckn:acceptedOffer", "beckn:id", "offer-bench-1", "@context",
        "https://raw.githubusercontent.com/beckn/protocol-specifications-new/refs/heads/main/"
        "schema/core/v2/context.jsonld",
        "@type", "beckn:Offer");
    char *text = json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(body);
    char header[BECKN_HEADER_MAX];
    if (!text || beckn_sign(bap, text, strlen(text), now - 1, now + 3600, header, sizeof header) < 0)
        die("cannot build a request");
    struct request r;
    size_t cap = strlen(text) + strlen(header) + 256;
    r.text = malloc(cap);
    if (!r.text)
        die("out of memory");
    r.len = (size_t)snprintf(r.text, cap,
                             "POST /beckn/select HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                             "Content-Type: application/json\r\nAuthorization: %s\r\n"
                             "Content-Length: %zu\r\n\r\n%s",
                             header, strlen(text), text);
    free(text);
    return r;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void parse_args(int argc, char **argv, struct options *o)
{
    o->requests = 20000;
    o->connections = 4;
    o->rate = 0;
    o->gateway = NULL;
    o->migrations = "projections/migrations";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            printf("usage: p2p-bench-beckn --gateway PATH [-n REQUESTS] [-c CONNECTIONS] "
                   "[--rate REQ_PER_S] [--migrations DIR]\n");
            exit(0);
        }
        if (!v)
            die("an option needs a value (--help)");
        if (!strcmp(a, "-n"))
            o->requests = atoi(v);
        else if (!strcmp(a, "-c"))
            o->connections = atoi(v);
        else if (!strcmp(a, "--rate"))
            o->rate = atof(v);
        else if (!strcmp(a, "--gateway"))
            o->gateway = v;
        else if (!strcmp(a, "--migrations"))
            o->migrations = v;
        else
            die("unknown option (--help)");
        i++;
    }
    if (!o->gateway || o->requests < 1 || o->connections < 1 || o->connections > 256 ||
        o->rate < 0)
        die("bad options (--help)");
}

/* Deletes every topic whose name starts with prefix (the bench's own). */
static void delete_topics(const struct p2p_config *cfg, const char *prefix)
{
    char err[256];
    rd_kafka_t *rk = p2p_kafka_producer(cfg, NULL, NULL, err, sizeof err);
    const struct rd_kafka_metadata *md = NULL;
    if (!rk || rd_kafka_metadata(rk, 1, NULL, &md, 10000) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        fprintf(stderr, "p2p-bench-beckn: topics %s* left behind\n", prefix);
        if (rk)
            rd_kafka_destroy(rk);
        return;
    }
    rd_kafka_DeleteTopic_t *del[64];
    size_t n = 0;
    for (int i = 0; i < md->topic_cnt && n < 64; i++)
        if (strncmp(md->topics[i].topic, prefix, strlen(prefix)) == 0)
            del[n++] = rd_kafka_DeleteTopic_new(md->topics[i].topic);
    rd_kafka_metadata_destroy(md);
    if (n) {
        rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
        rd_kafka_DeleteTopics(rk, del, n, NULL, q);
        rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 15000);
        if (!ev || rd_kafka_event_error(ev))
            fprintf(stderr, "p2p-bench-beckn: deleting topics %s*: %s\n", prefix,
                    ev ? rd_kafka_event_error_string(ev) : "timed out");
        if (ev)
            rd_kafka_event_destroy(ev);
        rd_kafka_queue_destroy(q);
        rd_kafka_DeleteTopic_destroy_array(del, n);
    }
    rd_kafka_destroy(rk);
}

static PGconn *db_exec(const char *conninfo, const char *sql)
{
    PGconn *db = PQconnectdb(conninfo);
    if (PQstatus(db) != CONNECTION_OK)
        die(PQerrorMessage(db));
    PGresult *r = PQexec(db, sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
        die(PQerrorMessage(db));
    PQclear(r);
    return db;
}

int main(int argc, char **argv)
{
    struct options opt;
    parse_args(argc, argv, &opt);
    if (sodium_init() < 0)
        die("libsodium failed to initialise");
    signal(SIGPIPE, SIG_IGN);
    const char *pg = env_or("PG_CONNINFO", "host=127.0.0.1 port=54329 user=postgres dbname=p2p");
    char dbname[64], conninfo[512], admin[512], sql[128], prefix[64], port_text[16];
    snprintf(dbname, sizeof dbname, "p2p_bench_beckn_%d", (int)getpid());
    snprintf(admin, sizeof admin, "%s dbname=postgres", pg);
    snprintf(conninfo, sizeof conninfo, "%s dbname=%s", pg, dbname);
    snprintf(sql, sizeof sql, "create database %s", dbname);
    snprintf(world.admin, sizeof world.admin, "%s", admin);
    PQfinish(db_exec(admin, sql));
    snprintf(world.dbname, sizeof world.dbname, "%s", dbname);
    char err[512];
    PGconn *db = PQconnectdb(conninfo);
    if (PQstatus(db) != CONNECTION_OK || p2p_migrate(db, opt.migrations, err, sizeof err) < 0)
        die(PQstatus(db) != CONNECTION_OK ? PQerrorMessage(db) : err);
    PQfinish(db);

    /* topic prefix and the orders topic */
    snprintf(prefix, sizeof prefix, "bench-beckn-%d.", (int)getpid());
    setenv("P2P_TOPIC_PREFIX", prefix, 1);
    setenv("PG_CONNINFO", conninfo, 1);
    static struct p2p_config cfg;
    if (p2p_config_load(&cfg, err, sizeof err))
        die(err);
    world.cfg = &cfg;
    snprintf(world.prefix, sizeof world.prefix, "%s", prefix);
    rd_kafka_t *rk = p2p_kafka_producer(&cfg, NULL, NULL, err, sizeof err);
    char topic[128];
    snprintf(topic, sizeof topic, "%sorders", prefix);
    const char *topics[1] = {topic};
    if (!rk || p2p_kafka_ensure_topics(rk, topics, 1, err, sizeof err))
        die(err);
    rd_kafka_destroy(rk);

    /* identities and the registry file */
    struct beckn_key bap, bpp;
    unsigned char seed[32];
    memset(&bap, 0, sizeof bap);
    memset(&bpp, 0, sizeof bpp);
    beckn_key_set_id(&bap, "bap.bench.test", "bench-bap-key");
    beckn_key_set_id(&bpp, "bpp.bench.test", "bench-bpp-key");
    randombytes_buf(seed, sizeof seed);
    char *bap_seed = b64(seed, sizeof seed);
    randombytes_buf(seed, sizeof seed);
    char *bpp_seed = b64(seed, sizeof seed);
    sodium_memzero(seed, sizeof seed);
    if (!bap_seed || !bpp_seed || beckn_key_from_private_b64(bap_seed, &bap) ||
        beckn_key_from_private_b64(bpp_seed, &bpp))
        die("cannot make keys");
    char *bap_pk = b64(bap.pk, 32);
    char *registry = world.registry;
    snprintf(world.registry, sizeof world.registry, "/tmp/p2p-bench-beckn-%d.json", (int)getpid());
    FILE *f = fopen(registry, "w");
    if (!f || !bap_pk)
        die("cannot write the registry file");
    fprintf(f, "[{\"subscriber_id\":\"%s\",\"key_id\":\"%s\",\"signing_public_key\":\"%s\","
               "\"type\":\"BAP\"}]\n", bap.subscriber_id, bap.key_id, bap_pk);
    fclose(f);

    /* the gateway */
    opt.port = 20000 + (int)(getpid() % 20000);
    snprintf(port_text, sizeof port_text, "%d", opt.port);
    char uri[64];
    snprintf(uri, sizeof uri, "http://127.0.0.1:%d/beckn", opt.port);
    pid_t gw = fork();
    if (gw < 0)
        die("cannot fork the gateway");
    if (gw == 0) {
        setenv("P2P_HTTP_PORT", port_text, 1);
        setenv("BECKN_SUBSCRIBER_ID", bpp.subscriber_id, 1);
        setenv("BECKN_KEY_ID", bpp.key_id, 1);
        setenv("BECKN_SIGNING_PRIVATE_KEY", bpp_seed, 1);
        setenv("BECKN_SUBSCRIBER_URI", uri, 1);
        setenv("BECKN_REGISTRY_FILE", registry, 1);
        setenv("P2P_LOG_LEVEL", "warn", 1);
        execl(opt.gateway, opt.gateway, (char *)NULL);
        _exit(127);
    }
    world.gateway = gw;
    sodium_memzero(bpp_seed, strlen(bpp_seed));
    bool up = false;
    for (int i = 0; i < 900 && !up; i++) { /* 90 s: a loaded machine starts slowly */
        int fd = connect_to(opt.port);
        char buf[2048];
        if (fd >= 0) {
            const char *hz = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
            up = write(fd, hz, strlen(hz)) > 0 && read_response(fd, buf, sizeof buf, false) == 200;
            close(fd);
        }
        if (!up && waitpid(gw, NULL, WNOHANG) == gw) {
            world.gateway = 0;
            die("the gateway exited during start (its log is above)");
        }
        if (!up)
            usleep(100000);
    }
    if (!up)
        die("the gateway did not come up");

    /* pre-generated, signed requests */
    struct request *reqs = calloc((size_t)opt.requests, sizeof *reqs);
    double *lat = calloc((size_t)opt.requests, sizeof *lat);
    if (!reqs || !lat)
        die("out of memory");
    int64_t now = (int64_t)time(NULL);
    for (int i = 0; i < opt.requests; i++)
        reqs[i] = make_request(&bap, bpp.subscriber_id, opt.port, i, now);

    struct worker *ws = calloc((size_t)opt.connections, sizeof *ws);
    pthread_t *th = calloc((size_t)opt.connections, sizeof *th);
    if (!ws || !th)
        die("out of memory");
    int per = opt.requests / opt.connections, extra = opt.requests % opt.connections, at = 0;
    double t0 = now_s();
    for (int c = 0; c < opt.connections; c++) {
        ws[c] = (struct worker){&opt, reqs, at, per + (c < extra), c, 0, lat};
        at += ws[c].count;
        if (pthread_create(&th[c], NULL, run_worker, &ws[c]))
            die("cannot start a thread");
    }
    int errors = 0;
    for (int c = 0; c < opt.connections; c++) {
        pthread_join(th[c], NULL);
        errors += ws[c].errors;
    }
    double seconds = now_s() - t0;
    qsort(lat, (size_t)opt.requests, sizeof *lat, cmp_double);
    double p50 = lat[opt.requests / 2], p99 = lat[(int)((opt.requests - 1) * 0.99)],
           max = lat[opt.requests - 1];

    cleanup();
    for (int i = 0; i < opt.requests; i++)
        free(reqs[i].text);
    free(reqs);
    free(lat);
    free(ws);
    free(th);
    free(bap_seed);
    free(bpp_seed);
    free(bap_pk);
    beckn_key_wipe(&bap);
    beckn_key_wipe(&bpp);

    printf("signed Beckn select -> ACK: %d requests over %d keep-alive connection(s)%s in %.2f s: "
           "%.0f req/s, p50 %.2f ms, p99 %.2f ms, max %.2f ms, %d errors\n",
           opt.requests, opt.connections, opt.rate > 0 ? " at a fixed rate" : "", seconds,
           opt.requests / seconds, p50, p99, max, errors);
    printf("{\"bench\":\"beckn_select\",\"requests\":%d,\"connections\":%d,\"rate\":%.0f,"
           "\"errors\":%d,\"seconds\":%.3f,\"req_per_s\":%.1f,\"p50_ms\":%.3f,\"p99_ms\":%.3f,"
           "\"max_ms\":%.3f}\n",
           opt.requests, opt.connections, opt.rate, errors, seconds, opt.requests / seconds, p50,
           p99, max);
    return errors ? 2 : 0;
}
