/* Beckn participant registry (gateway/beckn/registry.c): the participants
 * file, and remote DeDi-style lookups against a real HTTP server that this
 * test forks on 127.0.0.1 (random port): caching, negative answers, limits,
 * timeouts, URL escaping; and beckn_authenticate end to end. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "beckn_vectors.h"
#include "gateway/beckn/registry.h"


#define CREATED_A 1641287875

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- a real HTTP/1.1 server in a child process ---- */

struct server {
    pid_t pid;
    int port;
    int *hits; /* shared with the child: requests served */
};

struct route {
    const char *path;
    int status;
    const char *body; /* NULL: a 100 KiB body */
    bool length;      /* send Content-Length */
};

static const struct route routes[] = {
    {"/lookup/bpp.example.com/subscribers.beckn.one/key-1", 200,
     "{\"message\":\"Record retrieved from registry cache\",\"data\":{\"record_id\":\"r1\","
     "\"details\":{\"url\":\"https://bpp.example.com/beckn\",\"type\":\"BPP\",\"domain\":\"energy\","
     "\"subscriber_id\":\"bpp.example.com\",\"signing_public_key\":\"awGPjRK6i/Vg/lWr+0xObclVxlwZXvTjWYtlu6NeOHk=\","
     "\"encr_public_key\":\"x\"},\"network_memberships\":[\"ns/registry\"]}}", true},
    {"/lookup/bpp.example.com/my.registry/key-1", 200,
     "{\"data\":{\"details\":{\"signing_public_key\":\"7YRZXVeIJ0/Va56vYgzT1Uirg6mnq3FY0MBZY9DJft0=\"}}}", true},
    {"/lookup/a%20b%2Fc%3F/subscribers.beckn.one/k%23%2F1", 200,
     "{\"data\":{\"details\":{\"subscriber_id\":\"a b/c?\",\"type\":\"BAP\","
     "\"signing_public_key\":\"7YRZXVeIJ0/Va56vYgzT1Uirg6mnq3FY0MBZY9DJft0=\"}}}", true},
    {"/lookup/example-bap.com/subscribers.beckn.one/ae3ea24b-cfec-495e-81f8-044aaef164ac", 200,
     "{\"data\":{\"details\":{\"subscriber_id\":\"example-bap.com\",\"type\":\"BAP\","
     "\"signing_public_key\":\"awGPjRK6i/Vg/lWr+0xObclVxlwZXvTjWYtlu6NeOHk=\"}}}", true},
    {"/lookup/other.example.com/subscribers.beckn.one/key-1", 200,
     "{\"data\":{\"details\":{\"subscriber_id\":\"evil.example.com\","
     "\"signing_public_key\":\"awGPjRK6i/Vg/lWr+0xObclVxlwZXvTjWYtlu6NeOHk=\"}}}", true},
    {"/lookup/nokey.example.com/subscribers.beckn.one/key-1", 200,
     "{\"data\":{\"details\":{\"url\":\"https://nokey.example.com\"}}}", true},
    {"/lookup/badkey.example.com/subscribers.beckn.one/key-1", 200,
     "{\"data\":{\"details\":{\"signing_public_key\":\"AAAA\"}}}", true},
    {"/lookup/notjson.example.com/subscribers.beckn.one/key-1", 200, "<html>hi</html>", true},
    {"/lookup/err.example.com/subscribers.beckn.one/key-1", 500, "{}", true},
    {"/lookup/redirect.example.com/subscribers.beckn.one/key-1", 302, "", true},
    {"/lookup/big.example.com/subscribers.beckn.one/key-1", 200, NULL, true},
    {"/lookup/bigstream.example.com/subscribers.beckn.one/key-1", 200, NULL, false},
};

static void write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w <= 0)
            return;
        p += w;
        n -= (size_t)w;
    }
}

static void serve_one(int fd, int *hits)
{
    char req[8192], path[4096], head[512];
    size_t got = 0;
    req[0] = '\0';
    while (got < sizeof req - 1 && !strstr(req, "\r\n\r\n")) {
        ssize_t r = read(fd, req + got, sizeof req - 1 - got);
        if (r <= 0)
            return;
        got += (size_t)r;
        req[got] = '\0';
    }
    if (sscanf(req, "GET %4095s HTTP/1.1", path) != 1)
        return;
    __atomic_add_fetch(hits, 1, __ATOMIC_SEQ_CST);
    const struct route *rt = NULL;
    for (size_t i = 0; i < sizeof routes / sizeof *routes; i++)
        if (strcmp(routes[i].path, path) == 0)
            rt = &routes[i];
    static char big[100 * 1024];
    memset(big, ' ', sizeof big);
    big[0] = '{';
    big[sizeof big - 1] = '}';
    const char *body = !rt ? "{\"message\":\"not found\"}" : rt->body ? rt->body : big;
    size_t blen = rt && !rt->body ? sizeof big : strlen(body);
    int status = rt ? rt->status : 404;
    int n;
    if (!rt || rt->length)
        n = snprintf(head, sizeof head,
                     "HTTP/1.1 %d X\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
                     "Location: http://127.0.0.1:1/\r\nConnection: close\r\n\r\n",
                     status, blen);
    else
        n = snprintf(head, sizeof head, "HTTP/1.1 %d X\r\nConnection: close\r\n\r\n", status);
    write_all(fd, head, (size_t)n);
    write_all(fd, body, blen);
}

static void serve_forever(int lfd, int *hits)
{
    signal(SIGPIPE, SIG_IGN);
    prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive a failed test */
    for (;;) {
        int fd = accept(lfd, NULL, NULL);
        if (fd < 0)
            continue;
        serve_one(fd, hits);
        shutdown(fd, SHUT_WR);
        close(fd);
    }
}

/* A listening socket on 127.0.0.1 with a kernel-chosen port. */
static int listen_any(int *port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof sa;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    ck_assert_int_eq(listen(fd, 16), 0);
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
    *port = ntohs(sa.sin_port);
    return fd;
}

static void server_start(struct server *s)
{
    s->hits = mmap(NULL, sizeof *s->hits, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    ck_assert_ptr_ne(s->hits, MAP_FAILED);
    *s->hits = 0;
    int fd = listen_any(&s->port);
    s->pid = fork();
    ck_assert_int_ge(s->pid, 0);
    if (s->pid == 0) {
        serve_forever(fd, s->hits);
        _exit(0);
    }
    close(fd);
}

static void server_stop(struct server *s)
{
    if (s->pid > 0) {
        kill(s->pid, SIGKILL);
        waitpid(s->pid, NULL, 0);
        s->pid = 0;
    }
}

static int hits(const struct server *s)
{
    return __atomic_load_n(s->hits, __ATOMIC_SEQ_CST);
}

static struct beckn_registry *open_remote(int port, const char *name, int pos_ttl, int timeout_ms)
{
    char url[64], err[256];
    struct beckn_registry *r = NULL;
    snprintf(url, sizeof url, "http://127.0.0.1:%d/", port);
    struct beckn_registry_config cfg = {.url = url, .name = name, .positive_ttl_s = pos_ttl,
                                        .timeout_ms = timeout_ms};
    ck_assert_msg(beckn_registry_open(&r, &cfg, err, sizeof err) == 0, "%s", err);
    return r;
}

/* ---- the participants file ---- */

static char tmpdir[64];

static const char *write_file(const char *name, const char *text)
{
    static char path[128];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(fputs(text, f) >= 0, 1);
    ck_assert_int_eq(fclose(f), 0);
    return path;
}

static const char participants[] =
    "[{\"subscriber_id\":\"example-bap.com\",\"key_id\":\"ae3ea24b-cfec-495e-81f8-044aaef164ac\","
    "\"signing_public_key\":\"awGPjRK6i/Vg/lWr+0xObclVxlwZXvTjWYtlu6NeOHk=\",\"type\":\"BAP\","
    "\"url\":\"https://example-bap.com/beckn\"},"
    " {\"subscriber_id\":\"example-bg.com\",\"key_id\":\"bg-1\","
    "\"signing_public_key\":\"7YRZXVeIJ0/Va56vYgzT1Uirg6mnq3FY0MBZY9DJft0=\",\"type\":\"BG\"}]";

START_TEST(loads_participants_file)
{
    struct beckn_registry *r = NULL;
    struct beckn_peer p;
    unsigned char pk[32];
    char err[256];
    struct beckn_registry_config cfg = {.file = write_file("ok.json", participants)};
    ck_assert_msg(beckn_registry_open(&r, &cfg, err, sizeof err) == 0, "%s", err);

    ck_assert_int_eq(beckn_registry_lookup(r, "example-bap.com",
                                           "ae3ea24b-cfec-495e-81f8-044aaef164ac", &p), BECKN_REG_OK);
    ck_assert_int_eq(beckn_public_key_from_b64(pk_a, pk), 0);
    ck_assert_mem_eq(p.pk, pk, 32);
    ck_assert_str_eq(p.type, "BAP");
    ck_assert_str_eq(p.url, "https://example-bap.com/beckn");
    ck_assert_int_eq(beckn_registry_lookup(r, "example-bg.com", "bg-1", &p), BECKN_REG_OK);
    ck_assert_int_eq(beckn_public_key_from_b64(pk_b, pk), 0);
    ck_assert_mem_eq(p.pk, pk, 32);
    ck_assert_str_eq(p.url, "");

    ck_assert_int_eq(beckn_registry_lookup(r, "example-bg.com", "bg-2", &p), BECKN_REG_NOT_FOUND);
    ck_assert_int_eq(beckn_registry_lookup(r, "nobody.com", "bg-1", &p), BECKN_REG_NOT_FOUND);
    ck_assert_int_eq(beckn_registry_lookup(r, "a|b", "bg-1", &p), BECKN_REG_NOT_FOUND);
    ck_assert_int_eq(beckn_registry_lookup(r, "", "bg-1", &p), BECKN_REG_NOT_FOUND);

    ck_assert_int_eq(beckn_registry_lookup_subscriber(r, "example-bap.com", &p), BECKN_REG_OK);
    ck_assert_str_eq(p.key_id, "ae3ea24b-cfec-495e-81f8-044aaef164ac");
    ck_assert_int_eq(beckn_registry_lookup_subscriber(r, "nobody.com", &p), BECKN_REG_NOT_FOUND);
    beckn_registry_close(r);
}
END_TEST

START_TEST(rejects_bad_participants_files)
{
    static const struct { const char *text, *expect; } bad[] = {
        {"{}", "array"},
        {"[1]", "entry 0"},
        {"[{\"subscriber_id\":\"a\",\"key_id\":\"k\",\"signing_public_key\":\"AAAA\",\"type\":\"BAP\"}]",
         "signing_public_key"},
        {"[{\"subscriber_id\":\"a\",\"key_id\":\"k\",\"signing_public_key\":"
         "\"awGPjRK6i/Vg/lWr+0xObclVxlwZXvTjWYtlu6NeOHk=\",\"type\":\"XYZ\"}]", "type"},
        {"[{\"key_id\":\"k\",\"signing_public_key\":"
         "\"awGPjRK6i/Vg/lWr+0xObclVxlwZXvTjWYtlu6NeOHk=\",\"type\":\"BAP\"}]", "subscriber_id"},
        {"[{\"subscriber_id\":\"a|b\",\"key_id\":\"k\",\"signing_public_key\":"
         "\"awGPjRK6i/Vg/lWr+0xObclVxlwZXvTjWYtlu6NeOHk=\",\"type\":\"BAP\"}]", "subscriber_id"},
        {"[{\"subscriber_id\":\"a\",\"key_id\":\"k\",\"signing_public_key\":"
         "\"awGPjRK6i/Vg/lWr+0xObclVxlwZXvTjWYtlu6NeOHk=\",\"type\":\"BAP\",\"url\":5}]", "url"},
        {"[{\"subscriber_id\":\"a\",\"key_id\":\"k\",\"signing_public_key\":"
         "\"awGPjRK6i/Vg/lWr+0xObclVxlwZXvTjWYtlu6NeOHk=\",\"type\":\"BAP\"},"
         "{\"subscriber_id\":\"a\",\"key_id\":\"k\",\"signing_public_key\":"
         "\"7YRZXVeIJ0/Va56vYgzT1Uirg6mnq3FY0MBZY9DJft0=\",\"type\":\"BPP\"}]", "entry 1: duplicate"},
        {"[", "bad.json:"},
    };
    char err[256];
    struct beckn_registry *r = NULL;
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        struct beckn_registry_config cfg = {.file = write_file("bad.json", bad[i].text)};
        err[0] = '\0';
        ck_assert_int_eq(beckn_registry_open(&r, &cfg, err, sizeof err), -1);
        ck_assert_msg(strstr(err, bad[i].expect), "case %zu: error [%s] lacks [%s]", i, err,
                      bad[i].expect);
    }
    struct beckn_registry_config none = {0};
    ck_assert_int_eq(beckn_registry_open(&r, &none, err, sizeof err), -1);
    struct beckn_registry_config missing = {.file = "/nonexistent/participants.json"};
    ck_assert_int_eq(beckn_registry_open(&r, &missing, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "/nonexistent/participants.json"));
    struct beckn_registry_config ftp = {.url = "ftp://registry.example.com"};
    ck_assert_int_eq(beckn_registry_open(&r, &ftp, err, sizeof err), -1);
}
END_TEST

START_TEST(config_from_env)
{
    struct beckn_registry_config cfg;
    char err[128];
    setenv("BECKN_REGISTRY_FILE", "/etc/p.json", 1);
    setenv("BECKN_REGISTRY_URL", "http://r", 1);
    unsetenv("BECKN_REGISTRY_NAME");
    setenv("BECKN_REGISTRY_CACHE_SECONDS", "120", 1);
    ck_assert_int_eq(beckn_registry_config_from_env(&cfg, err, sizeof err), 0);
    ck_assert_str_eq(cfg.file, "/etc/p.json");
    ck_assert_str_eq(cfg.url, "http://r");
    ck_assert_ptr_null(cfg.name);
    ck_assert_int_eq(cfg.positive_ttl_s, 120);
    setenv("BECKN_REGISTRY_CACHE_SECONDS", "12x", 1);
    ck_assert_int_eq(beckn_registry_config_from_env(&cfg, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "BECKN_REGISTRY_CACHE_SECONDS"));
    unsetenv("BECKN_REGISTRY_FILE");
    unsetenv("BECKN_REGISTRY_URL");
    unsetenv("BECKN_REGISTRY_CACHE_SECONDS");
}
END_TEST

/* ---- remote lookups ---- */

START_TEST(remote_lookup_and_positive_cache)
{
    struct server s;
    struct beckn_peer p;
    unsigned char pk[32];
    server_start(&s);
    struct beckn_registry *r = open_remote(s.port, NULL, 1, 0);

    ck_assert_int_eq(beckn_registry_lookup(r, "bpp.example.com", "key-1", &p), BECKN_REG_OK);
    ck_assert_int_eq(beckn_public_key_from_b64(pk_a, pk), 0);
    ck_assert_mem_eq(p.pk, pk, 32);
    ck_assert_str_eq(p.subscriber_id, "bpp.example.com");
    ck_assert_str_eq(p.key_id, "key-1");
    ck_assert_str_eq(p.type, "BPP");
    ck_assert_str_eq(p.url, "https://bpp.example.com/beckn");
    ck_assert_int_eq(hits(&s), 1);

    /* Answered from the cache: no new request, and still after the server is gone. */
    ck_assert_int_eq(beckn_registry_lookup(r, "bpp.example.com", "key-1", &p), BECKN_REG_OK);
    ck_assert_int_eq(hits(&s), 1);
    ck_assert_int_eq(beckn_registry_lookup_subscriber(r, "bpp.example.com", &p), BECKN_REG_OK);
    ck_assert_str_eq(p.url, "https://bpp.example.com/beckn");
    server_stop(&s);
    ck_assert_int_eq(beckn_registry_lookup(r, "bpp.example.com", "key-1", &p), BECKN_REG_OK);
    ck_assert_mem_eq(p.pk, pk, 32);

    /* After the 1 s positive TTL the registry must be asked again, and it is down. */
    usleep(1100 * 1000);
    ck_assert_int_eq(beckn_registry_lookup(r, "bpp.example.com", "key-1", &p),
                     BECKN_REG_UNAVAILABLE);
    ck_assert_int_eq(beckn_registry_lookup_subscriber(r, "bpp.example.com", &p),
                     BECKN_REG_NOT_FOUND);
    beckn_registry_close(r);
}
END_TEST

START_TEST(remote_negative_answers_are_cached)
{
    struct server s;
    struct beckn_peer p;
    server_start(&s);
    struct beckn_registry *r = open_remote(s.port, NULL, 0, 0);
    ck_assert_int_eq(beckn_registry_lookup(r, "unknown.example.com", "key-1", &p),
                     BECKN_REG_NOT_FOUND);
    ck_assert_int_eq(hits(&s), 1);
    ck_assert_int_eq(beckn_registry_lookup(r, "unknown.example.com", "key-1", &p),
                     BECKN_REG_NOT_FOUND);
    ck_assert_int_eq(hits(&s), 1);
    /* A different key of the same subscriber is a different question. */
    ck_assert_int_eq(beckn_registry_lookup(r, "unknown.example.com", "key-2", &p),
                     BECKN_REG_NOT_FOUND);
    ck_assert_int_eq(hits(&s), 2);
    server_stop(&s);
    ck_assert_int_eq(beckn_registry_lookup(r, "unknown.example.com", "key-1", &p),
                     BECKN_REG_NOT_FOUND);
    beckn_registry_close(r);
}
END_TEST

START_TEST(remote_records_that_are_not_usable)
{
    struct server s;
    struct beckn_peer p;
    server_start(&s);
    struct beckn_registry *r = open_remote(s.port, NULL, 0, 0);
    /* Definitive: a record for someone else, without a key, with a broken key. */
    ck_assert_int_eq(beckn_registry_lookup(r, "other.example.com", "key-1", &p), BECKN_REG_NOT_FOUND);
    ck_assert_int_eq(beckn_registry_lookup(r, "nokey.example.com", "key-1", &p), BECKN_REG_NOT_FOUND);
    ck_assert_int_eq(beckn_registry_lookup(r, "badkey.example.com", "key-1", &p), BECKN_REG_NOT_FOUND);
    /* Not definitive (registry broken): not cached, asked again each time. */
    const char *broken[] = {"notjson.example.com", "err.example.com", "redirect.example.com",
                            "big.example.com", "bigstream.example.com"};
    for (size_t i = 0; i < sizeof broken / sizeof *broken; i++) {
        int before = hits(&s);
        ck_assert_msg(beckn_registry_lookup(r, broken[i], "key-1", &p) == BECKN_REG_UNAVAILABLE,
                      "%s", broken[i]);
        ck_assert_msg(beckn_registry_lookup(r, broken[i], "key-1", &p) == BECKN_REG_UNAVAILABLE,
                      "%s", broken[i]);
        ck_assert_int_eq(hits(&s), before + 2);
    }
    /* Ids that cannot come from a keyId never reach the network. */
    int before = hits(&s);
    ck_assert_int_eq(beckn_registry_lookup(r, "a|b", "key-1", &p), BECKN_REG_NOT_FOUND);
    ck_assert_int_eq(beckn_registry_lookup(r, "a\"b", "key-1", &p), BECKN_REG_NOT_FOUND);
    ck_assert_int_eq(hits(&s), before);
    server_stop(&s);
    beckn_registry_close(r);
}
END_TEST

START_TEST(remote_path_segments_are_escaped_and_name_configurable)
{
    struct server s;
    struct beckn_peer p;
    unsigned char pk[32];
    server_start(&s);
    ck_assert_int_eq(beckn_public_key_from_b64(pk_b, pk), 0);
    struct beckn_registry *r = open_remote(s.port, NULL, 0, 0);
    ck_assert_int_eq(beckn_registry_lookup(r, "a b/c?", "k#/1", &p), BECKN_REG_OK);
    ck_assert_mem_eq(p.pk, pk, 32);
    ck_assert_str_eq(p.subscriber_id, "a b/c?");
    beckn_registry_close(r);
    r = open_remote(s.port, "my.registry", 0, 0);
    ck_assert_int_eq(beckn_registry_lookup(r, "bpp.example.com", "key-1", &p), BECKN_REG_OK);
    ck_assert_mem_eq(p.pk, pk, 32);
    ck_assert_str_eq(p.type, "");
    beckn_registry_close(r);
    server_stop(&s);
}
END_TEST

/* A server that accepts connections (the kernel does) but never answers. */
static void check_timeout(int timeout_ms, double max_s)
{
    struct beckn_peer p;
    int port;
    int fd = listen_any(&port);
    struct beckn_registry *r = open_remote(port, NULL, 0, timeout_ms);
    double t0 = now_s();
    ck_assert_int_eq(beckn_registry_lookup(r, "slow.example.com", "key-1", &p),
                     BECKN_REG_UNAVAILABLE);
    double took = now_s() - t0;
    int expect_ms = timeout_ms > 0 ? timeout_ms : 2000;
    ck_assert_msg(took >= expect_ms / 1000.0 * 0.9 && took < max_s, "took %.3f s", took);
    beckn_registry_close(r);
    close(fd);
}

START_TEST(remote_timeout_is_bounded)
{
    check_timeout(300, 1.5);
    check_timeout(0, 3.0); /* the 2 s default */
}
END_TEST

START_TEST(remote_refused_connection_is_unavailable)
{
    struct beckn_peer p;
    int port;
    close(listen_any(&port)); /* a port nobody listens on any more */
    struct beckn_registry *r = open_remote(port, NULL, 0, 0);
    ck_assert_int_eq(beckn_registry_lookup(r, "bpp.example.com", "key-1", &p),
                     BECKN_REG_UNAVAILABLE);
    beckn_registry_close(r);
}
END_TEST

struct worker {
    struct beckn_registry *r;
    int ok;
};

static void *lookup_many(void *arg)
{
    struct worker *w = arg;
    struct beckn_peer p;
    for (int i = 0; i < 200; i++) {
        const char *sub = i % 2 ? "bpp.example.com" : "unknown.example.com";
        enum beckn_registry_result want = i % 2 ? BECKN_REG_OK : BECKN_REG_NOT_FOUND;
        if (beckn_registry_lookup(w->r, sub, "key-1", &p) == want)
            w->ok++;
    }
    return NULL;
}

START_TEST(remote_lookups_from_many_threads)
{
    struct server s;
    struct worker w[8];
    pthread_t t[8];
    server_start(&s);
    struct beckn_registry *r = open_remote(s.port, NULL, 0, 0);
    for (int i = 0; i < 8; i++) {
        w[i] = (struct worker){r, 0};
        ck_assert_int_eq(pthread_create(&t[i], NULL, lookup_many, &w[i]), 0);
    }
    for (int i = 0; i < 8; i++) {
        ck_assert_int_eq(pthread_join(t[i], NULL), 0);
        ck_assert_int_eq(w[i].ok, 200);
    }
    /* At most one request per thread and question before the cache has it. */
    ck_assert_int_le(hits(&s), 16);
    server_stop(&s);
    beckn_registry_close(r);
}
END_TEST

/* ---- the receiver algorithm ---- */

START_TEST(authenticate_end_to_end)
{
    struct beckn_registry *r = NULL;
    struct beckn_auth a;
    struct beckn_peer p;
    char err[256];
    const char *why;
    size_t len = strlen(body_a);
    struct beckn_registry_config cfg = {.file = write_file("auth.json", participants)};
    ck_assert_msg(beckn_registry_open(&r, &cfg, err, sizeof err) == 0, "%s", err);

    ck_assert_int_eq(beckn_authenticate(r, header_a, body_a, len, CREATED_A + 1, 5, &a, &p, &why),
                     BECKN_AUTH_OK);
    ck_assert_str_eq(p.url, "https://example-bap.com/beckn");
    ck_assert_int_eq(beckn_auth_check_signer(&a, "example-bap.com"), BECKN_AUTH_OK);
    ck_assert_int_eq(beckn_authenticate(r, header_a, body_a, len - 1, CREATED_A, 5, &a, NULL, NULL),
                     BECKN_AUTH_BAD_SIGNATURE);
    ck_assert_int_eq(beckn_authenticate(r, NULL, body_a, len, CREATED_A, 5, &a, NULL, NULL),
                     BECKN_AUTH_MISSING);
    ck_assert_int_eq(beckn_authenticate(r, "", body_a, len, CREATED_A, 5, &a, NULL, NULL),
                     BECKN_AUTH_MISSING);
    ck_assert_int_eq(beckn_authenticate(r, "Signature x", body_a, len, CREATED_A, 5, &a, NULL, &why),
                     BECKN_AUTH_MALFORMED);
    ck_assert_ptr_nonnull(why);
    ck_assert_int_eq(beckn_authenticate(r, header_a, body_a, len, CREATED_A + 3601, 5, &a, NULL, NULL),
                     BECKN_AUTH_EXPIRED);
    ck_assert_int_eq(beckn_authenticate(r, header_a, body_a, len, CREATED_A - 60, 5, &a, NULL, NULL),
                     BECKN_AUTH_NOT_YET_VALID);
    beckn_registry_close(r);

    /* The same header against a registry that does not know the key, or is down. */
    struct beckn_registry_config other = {.file = write_file("other.json",
        "[{\"subscriber_id\":\"example-bap.com\",\"key_id\":\"another\",\"signing_public_key\":"
        "\"awGPjRK6i/Vg/lWr+0xObclVxlwZXvTjWYtlu6NeOHk=\",\"type\":\"BAP\"}]")};
    ck_assert_int_eq(beckn_registry_open(&r, &other, err, sizeof err), 0);
    ck_assert_int_eq(beckn_authenticate(r, header_a, body_a, len, CREATED_A, 5, &a, NULL, NULL),
                     BECKN_AUTH_KEY_NOT_FOUND);
    beckn_registry_close(r);
    int port;
    close(listen_any(&port));
    r = open_remote(port, NULL, 0, 0);
    ck_assert_int_eq(beckn_authenticate(r, header_a, body_a, len, CREATED_A, 5, &a, NULL, NULL),
                     BECKN_AUTH_REGISTRY_UNAVAILABLE);
    beckn_registry_close(r);
}
END_TEST

START_TEST(authenticate_through_remote_registry)
{
    struct server s;
    struct beckn_auth a;
    struct beckn_peer p;
    size_t len = strlen(body_a);
    server_start(&s);
    struct beckn_registry *r = open_remote(s.port, NULL, 0, 0);
    ck_assert_int_eq(beckn_authenticate(r, header_a, body_a, len, CREATED_A, 5, &a, &p, NULL),
                     BECKN_AUTH_OK);
    ck_assert_str_eq(p.type, "BAP");
    /* An expired header costs no registry call. */
    int before = hits(&s);
    ck_assert_int_eq(beckn_authenticate(r, header_a, body_a, len, CREATED_A + 99999, 5, &a, NULL, NULL),
                     BECKN_AUTH_EXPIRED);
    ck_assert_int_eq(hits(&s), before);
    server_stop(&s);
    beckn_registry_close(r);
}
END_TEST

int main(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/beckn_registry_XXXXXX");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return EXIT_FAILURE;
    }
    Suite *s = suite_create("beckn_registry");
    TCase *tc = tcase_create("file");
    tcase_add_test(tc, loads_participants_file);
    tcase_add_test(tc, rejects_bad_participants_files);
    tcase_add_test(tc, config_from_env);
    suite_add_tcase(s, tc);
    tc = tcase_create("remote");
    tcase_add_test(tc, remote_lookup_and_positive_cache);
    tcase_add_test(tc, remote_negative_answers_are_cached);
    tcase_add_test(tc, remote_records_that_are_not_usable);
    tcase_add_test(tc, remote_path_segments_are_escaped_and_name_configurable);
    tcase_add_test(tc, remote_timeout_is_bounded);
    tcase_add_test(tc, remote_refused_connection_is_unavailable);
    tcase_add_test(tc, remote_lookups_from_many_threads);
    suite_add_tcase(s, tc);
    tc = tcase_create("authenticate");
    tcase_add_test(tc, authenticate_end_to_end);
    tcase_add_test(tc, authenticate_through_remote_registry);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", tmpdir);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
