/* End-to-end load generator for `./p2p bench e2e` (bench/e2e.sh starts the
 * stack and calls it). Open loop: order i is due at start + i / rate and is
 * sent then whatever happened to the earlier ones; its latency runs from that
 * scheduled time (not from when a connection was free), so a slow system
 * cannot hide its queueing (no coordinated omission). Each order is a
 * POST /api/buy; once answered, GET /api/orders/{id} is polled until the order
 * is visible in the read model: that moment ends its latency. Polls start
 * shortly before the order is expected to be visible: the first one when the
 * tenth percentile of recent orders' answer-to-visible gaps, less --poll-ms,
 * has passed since the answer (at least --poll-ms after it), then every
 * --poll-ms, or a tenth of the time polled so far when longer. So a latency is
 * exact to within --poll-ms (default 5 ms) near the expected time, or 10 %
 * when the read model lags; an order already visible at a first poll later
 * than --poll-ms after the answer (the summary counts them: first_poll_hits)
 * may have been visible earlier, so its latency can only be overstated.
 *
 * Connections: at most --connections, of which --poll-connections (default
 * a 32nd) are the polls' and the rest the buys': polls cannot starve
 * behind a backlog of buys, and when the system lags they cannot flood it
 * either (the benchmark's own load stays bounded). Due requests wait in the
 * generator's queues; their latency still counts from the scheduled time.
 *
 * Cost: the generator shares the machine with the system it measures, so it
 * is event-driven (curl_multi_socket_action over epoll: only sockets with
 * something to do are touched) and sleeps until the next due request, curl
 * timer or socket event: a request is sent within ~1 ms of its due time.
 * --timeline prints, per second of the schedule, the decision and
 * visibility latencies of the orders due in it (stderr).
 *
 * Before the run it deposits money for the buyers (operator endpoint), lists
 * enough sellers' energy for every order, warms the connections up and sends
 * --warm-up-buys buys (default: one second's worth at the offered rate) whose
 * latencies are not counted. The
 * last line of output is one JSON object with the results. libcurl multi,
 * keep-alive connections. */
#include <curl/curl.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>

#define BODY_CAP 65536
#define ORDER_WH 1000
#define OFFER_MAX_WH 10000000LL
#define REQUEST_TIMEOUT_MS 30000L

struct options {
    const char *url;
    const char *token;
    const char *window_start;
    const char *window_end;
    double rate;
    double seconds;
    int buyers;
    int connections;
    int poll_connections;
    int poll_ms;
    bool timeline;
    int drain_s;
    int warm_up_buys;
};

enum phase { PHASE_BUY, PHASE_POLL };

struct order {
    double due_ms;       /* scheduled send time (ms since the run's start) */
    double decided_ms;   /* when the buy was answered */
    double next_poll_ms; /* when to poll next (PHASE_POLL, not in flight) */
    double visible_ms;   /* when a poll first found it */
    double polls_from_ms; /* when its first poll was due */
    enum phase phase;
    bool in_flight, done, failed;
    char order_id[64];
    char body[512];
    size_t len;
    char response[1024];
    CURL *easy;
    struct curl_slist *headers;
};

static struct timespec t0;

static int cmp_double(const void *a, const void *b);

/* When to start polling after the answer: the tenth percentile of the last
 * GAP_SAMPLES answer-to-visible gaps less --poll-ms (0 until known). */
#define GAP_SAMPLES 256
struct gap_estimate {
    double ring[GAP_SAMPLES], sorted[GAP_SAMPLES];
    int n, pos, since_update;
    double offset_ms;
};

static void gap_add(struct gap_estimate *g, double gap_ms, int poll_ms)
{
    g->ring[g->pos] = gap_ms;
    g->pos = (g->pos + 1) % GAP_SAMPLES;
    if (g->n < GAP_SAMPLES)
        g->n++;
    if (++g->since_update < 32)
        return;
    g->since_update = 0;
    memcpy(g->sorted, g->ring, (size_t)g->n * sizeof *g->sorted);
    qsort(g->sorted, (size_t)g->n, sizeof *g->sorted, cmp_double);
    double p10 = g->sorted[g->n / 10];
    g->offset_ms = p10 > poll_ms ? p10 - poll_ms : 0;
}

/* Orders waiting for their next poll: a binary heap on next_poll_ms. */
struct poll_heap {
    struct order **items;
    long n;
};

static void heap_push(struct poll_heap *h, struct order *o)
{
    long i = h->n++;
    h->items[i] = o;
    while (i > 0 && h->items[(i - 1) / 2]->next_poll_ms > h->items[i]->next_poll_ms) {
        struct order *t = h->items[i];
        h->items[i] = h->items[(i - 1) / 2];
        h->items[(i - 1) / 2] = t;
        i = (i - 1) / 2;
    }
}

static struct order *heap_pop(struct poll_heap *h)
{
    struct order *top = h->items[0];
    h->items[0] = h->items[--h->n];
    for (long i = 0;;) {
        long l = 2 * i + 1, r = l + 1, m = i;
        if (l < h->n && h->items[l]->next_poll_ms < h->items[m]->next_poll_ms)
            m = l;
        if (r < h->n && h->items[r]->next_poll_ms < h->items[m]->next_poll_ms)
            m = r;
        if (m == i)
            break;
        struct order *t = h->items[i];
        h->items[i] = h->items[m];
        h->items[m] = t;
        i = m;
    }
    return top;
}

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0.tv_sec) * 1e3 + (double)(t.tv_nsec - t0.tv_nsec) / 1e6;
}

static size_t collect(char *data, size_t size, size_t n, void *arg)
{
    struct order *o = arg;
    size_t len = size * n, room = sizeof o->response - 1 - o->len;
    size_t take = len < room ? len : room;
    memcpy(o->response + o->len, data, take);
    o->len += take;
    o->response[o->len] = '\0';
    return len;
}

/* Copies the string value of "key" in a flat JSON text into out. */
static bool json_string_field(const char *json, const char *key, char *out, size_t cap)
{
    char pattern[64];
    snprintf(pattern, sizeof pattern, "\"%s\":\"", key);
    const char *p = strstr(json, pattern);
    if (!p)
        return false;
    p += strlen(pattern);
    const char *end = strchr(p, '"');
    if (!end || (size_t)(end - p) >= cap)
        return false;
    memcpy(out, p, (size_t)(end - p));
    out[end - p] = '\0';
    return true;
}

/* One blocking request for the set-up phase. Returns the HTTP status (0 on
 * transport failure); the answer goes to resp. */
static long request(const struct options *opt, const char *method, const char *path,
                    const char *header, const char *body, char *resp, size_t cap)
{
    struct order box = {0};
    CURL *e = curl_easy_init();
    if (!e)
        return 0;
    char url[512];
    snprintf(url, sizeof url, "%s%s", opt->url, path);
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    h = curl_slist_append(h, header);
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
    if (body)
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &box);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, REQUEST_TIMEOUT_MS);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    long status = 0;
    if (curl_easy_perform(e) == CURLE_OK)
        curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
    snprintf(resp, cap, "%s", box.response);
    curl_slist_free_all(h);
    curl_easy_cleanup(e);
    return status;
}

static int set_up(const struct options *opt, long orders)
{
    char resp[1024], header[256], body[512];
    snprintf(header, sizeof header, "Authorization: Bearer %s", opt->token);
    for (int b = 0; b < opt->buyers; b++) {
        snprintf(body, sizeof body,
                 "{\"participant_id\":\"bench-buyer-%d\",\"amount\":100000000000,"
                 "\"reference\":\"bench-deposit-%d\"}", b, b);
        long st = request(opt, "POST", "/api/operator/deposits", header, body, resp, sizeof resp);
        if (st != 201) {
            fprintf(stderr, "deposit for bench-buyer-%d: HTTP %ld %s\n", b, st, resp);
            return -1;
        }
    }
    long long need = (long long)orders * ORDER_WH;
    int offers = (int)((need + OFFER_MAX_WH - 1) / OFFER_MAX_WH) + 1;
    for (int s = 0; s < offers; s++) {
        snprintf(header, sizeof header, "X-Dev-User: bench-seller-%d", s);
        snprintf(body, sizeof body,
                 "{\"source_type\":\"SOLAR\",\"quantity_wh\":%lld,\"price_per_kwh\":%d,"
                 "\"delivery_start\":\"%s\",\"delivery_end\":\"%s\",\"meter_id\":\"BENCH-%d\"}",
                 OFFER_MAX_WH, 500 + s, opt->window_start, opt->window_end, s);
        long st = request(opt, "POST", "/seller/offers", header, body, resp, sizeof resp);
        if (st != 201) {
            fprintf(stderr, "offer of bench-seller-%d: HTTP %ld %s\n", s, st, resp);
            return -1;
        }
    }
    fprintf(stderr, "set up: %d buyers with money, %d offers of %lld Wh\n", opt->buyers, offers,
            OFFER_MAX_WH);
    return 0;
}

static void start_request(CURLM *multi, const struct options *opt, struct order *o, long index)
{
    char url[512], header[64];
    o->easy = curl_easy_init();
    o->len = 0;
    o->response[0] = '\0';
    snprintf(header, sizeof header, "X-Dev-User: bench-buyer-%ld", index % opt->buyers);
    o->headers = curl_slist_append(NULL, header);
    if (o->phase == PHASE_BUY) {
        o->headers = curl_slist_append(o->headers, "Content-Type: application/json");
        snprintf(url, sizeof url, "%s/api/buy", opt->url);
        curl_easy_setopt(o->easy, CURLOPT_POSTFIELDS, o->body);
    } else {
        snprintf(url, sizeof url, "%s/api/orders/%s", opt->url, o->order_id);
    }
    curl_easy_setopt(o->easy, CURLOPT_URL, url);
    curl_easy_setopt(o->easy, CURLOPT_HTTPHEADER, o->headers);
    curl_easy_setopt(o->easy, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(o->easy, CURLOPT_WRITEDATA, o);
    curl_easy_setopt(o->easy, CURLOPT_PRIVATE, o);
    curl_easy_setopt(o->easy, CURLOPT_TIMEOUT_MS, REQUEST_TIMEOUT_MS);
    curl_easy_setopt(o->easy, CURLOPT_NOSIGNAL, 1L);
    curl_multi_add_handle(multi, o->easy);
    o->in_flight = true;
}

static void finish_request(CURLM *multi, struct order *o)
{
    curl_multi_remove_handle(multi, o->easy);
    curl_easy_cleanup(o->easy);
    curl_slist_free_all(o->headers);
    o->easy = NULL;
    o->headers = NULL;
    o->in_flight = false;
}

/* The event loop: curl tells which sockets to watch (on_socket) and when
 * to call it back (on_timer); pump() sleeps in epoll_wait until a socket is
 * ready, curl's timer is due or `until_ms` comes, and drives curl for only
 * the sockets that are ready. */
struct loop {
    CURLM *multi;
    int epfd;
    double timer_at; /* when curl wants CURL_SOCKET_TIMEOUT; INFINITY: never */
};

static int on_socket(CURL *easy, curl_socket_t fd, int what, void *arg, void *socketp)
{
    (void)easy;
    (void)socketp;
    struct loop *l = arg;
    if (what == CURL_POLL_REMOVE) {
        if (epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL) && errno != ENOENT && errno != EBADF)
            perror("epoll_ctl del");
        return 0;
    }
    struct epoll_event ev = {.events = (what & CURL_POLL_IN ? EPOLLIN : 0u) |
                                       (what & CURL_POLL_OUT ? EPOLLOUT : 0u),
                             .data.fd = fd};
    if (epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &ev) == 0)
        return 0;
    if (errno == ENOENT && epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) == 0)
        return 0;
    perror("epoll_ctl");
    return -1;
}

static int on_timer(CURLM *multi, long timeout_ms, void *arg)
{
    (void)multi;
    struct loop *l = arg;
    l->timer_at = timeout_ms < 0 ? INFINITY : now_ms() + (double)timeout_ms;
    return 0;
}

static int loop_init(struct loop *l, CURLM *multi)
{
    l->multi = multi;
    l->timer_at = INFINITY;
    l->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (l->epfd < 0)
        return -1;
    curl_multi_setopt(multi, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(multi, CURLMOPT_SOCKETDATA, l);
    curl_multi_setopt(multi, CURLMOPT_TIMERFUNCTION, on_timer);
    curl_multi_setopt(multi, CURLMOPT_TIMERDATA, l);
    return 0;
}

static void pump(struct loop *l, double until_ms)
{
    double wake = l->timer_at < until_ms ? l->timer_at : until_ms;
    double wait = ceil(wake - now_ms());
    struct epoll_event evs[256];
    int n = epoll_wait(l->epfd, evs, 256, wait < 0 ? 0 : (wait > 50 ? 50 : (int)wait));
    int running;
    for (int i = 0; i < n; i++) {
        int mask = (evs[i].events & EPOLLIN ? CURL_CSELECT_IN : 0) |
                   (evs[i].events & EPOLLOUT ? CURL_CSELECT_OUT : 0) |
                   (evs[i].events & (EPOLLERR | EPOLLHUP) ? CURL_CSELECT_ERR : 0);
        curl_multi_socket_action(l->multi, evs[i].data.fd, mask, &running);
    }
    if (l->timer_at <= now_ms()) {
        l->timer_at = INFINITY;
        curl_multi_socket_action(l->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    }
}

/* Before the clock starts, requests whose answers are not counted, so the
 * run measures the stack's steady state, not the one-time costs of a fresh
 * one (TCP connections, the gateway's PostgreSQL pool connecting on first
 * use, the first transactions on each topic partition): `n` requests of
 * `phase` (PHASE_POLL: GET /api/orders/{unknown id}, a 404; PHASE_BUY: a buy
 * of `buy_body`), one every `spacing_ms`, on at most opt->connections
 * connections. Returns 0 when every answer came (a buy: 201 or 202). */
static int warm_up(struct loop *l, const struct options *opt, enum phase phase, int n,
                   double spacing_ms, const char *buy_body)
{
    int answered = 0, finished = 0, started = 0, active = 0;
    struct order *w = calloc((size_t)n, sizeof *w);
    if (!w)
        return -1;
    double from = now_ms(), give_up = from + n * spacing_ms + REQUEST_TIMEOUT_MS + 1000;
    while (finished < n && now_ms() < give_up) {
        for (; started < n && active < opt->connections &&
               from + started * spacing_ms <= now_ms(); started++, active++) {
            struct order *o = &w[started];
            o->phase = phase;
            snprintf(o->order_id, sizeof o->order_id, "bench-warm-up-%d", started);
            snprintf(o->body, sizeof o->body, "%s", buy_body);
            start_request(l->multi, opt, o, started);
        }
        pump(l, started < n ? from + started * spacing_ms : now_ms() + 50);
        CURLMsg *m;
        int left;
        while ((m = curl_multi_info_read(l->multi, &left))) {
            if (m->msg != CURLMSG_DONE)
                continue;
            struct order *o;
            long status = 0;
            curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&o);
            if (m->data.result == CURLE_OK)
                curl_easy_getinfo(m->easy_handle, CURLINFO_RESPONSE_CODE, &status);
            finish_request(l->multi, o);
            finished++;
            active--;
            if (phase == PHASE_POLL ? status == 404 : (status == 201 || status == 202))
                answered++;
            else if (answered + 5 > finished)
                fprintf(stderr, "warm-up request: HTTP %ld %s\n", status, o->response);
        }
    }
    for (int i = 0; i < n; i++)
        if (w[i].in_flight)
            finish_request(l->multi, &w[i]);
    free(w);
    return answered == n ? 0 : -1;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double percentile(const double *sorted, long n, double p)
{
    if (n == 0)
        return 0;
    long i = (long)ceil(p * (double)n) - 1;
    return sorted[i < 0 ? 0 : (i >= n ? n - 1 : i)];
}

/* --timeline: for each second of the schedule, the orders due in it and the
 * p50 and max of their decision and visibility latencies (stderr). */
static void print_timeline(const struct order *orders, long total, double rate)
{
    long per = (long)ceil(rate);
    double *d = malloc((size_t)per * sizeof *d), *v = malloc((size_t)per * sizeof *v);
    if (!d || !v) {
        free(d);
        free(v);
        return;
    }
    for (long from = 0, second = 0; from < total; from += per, second++) {
        long nd = 0, nv = 0;
        for (long i = from; i < total && i < from + per; i++) {
            if (orders[i].decided_ms > 0)
                d[nd++] = orders[i].decided_ms - orders[i].due_ms;
            if (orders[i].visible_ms > 0)
                v[nv++] = orders[i].visible_ms - orders[i].due_ms;
        }
        qsort(d, (size_t)nd, sizeof *d, cmp_double);
        qsort(v, (size_t)nv, sizeof *v, cmp_double);
        fprintf(stderr,
                "second %3ld: %ld decided p50 %7.1f max %7.1f ms, %ld visible p50 %7.1f max %7.1f ms\n",
                second, nd, percentile(d, nd, 0.5), nd ? d[nd - 1] : 0, nv, percentile(v, nv, 0.5),
                nv ? v[nv - 1] : 0);
    }
    free(d);
    free(v);
}

static void usage(void)
{
    fprintf(stderr,
            "usage: p2p-bench-e2e-load --url URL [--token OPERATOR_TOKEN, else $P2P_OPERATOR_TOKEN]\n"
            "         --window-start T"
            "         --window-end T [--rate 1000] [--seconds 30] [--buyers 200]\n"
            "         [--connections 256] [--poll-connections connections/32] [--poll-ms 5]\n"
            "         [--drain 30] [--warm-up-buys rate] [--timeline]\n");
}

static int parse(int argc, char **argv, struct options *opt)
{
    static const struct option longs[] = {
        {"url", 1, 0, 'u'},     {"token", 1, 0, 't'},       {"window-start", 1, 0, 's'},
        {"window-end", 1, 0, 'e'}, {"rate", 1, 0, 'r'},      {"seconds", 1, 0, 'd'},
        {"buyers", 1, 0, 'b'},  {"connections", 1, 0, 'c'}, {"poll-ms", 1, 0, 'p'},
        {"drain", 1, 0, 'w'},   {"poll-connections", 1, 0, 'q'}, {"timeline", 0, 0, 'l'},
        {"warm-up-buys", 1, 0, 'm'},
        {0, 0, 0, 0}};
    *opt = (struct options){.rate = 1000, .seconds = 30, .buyers = 200, .connections = 256,
                            .poll_connections = -1, .poll_ms = 5, .drain_s = 30,
                            .warm_up_buys = -1};
    int c;
    while ((c = getopt_long(argc, argv, "", longs, NULL)) != -1) {
        switch (c) {
        case 'u': opt->url = optarg; break;
        case 't': opt->token = optarg; break;
        case 's': opt->window_start = optarg; break;
        case 'e': opt->window_end = optarg; break;
        case 'r': opt->rate = atof(optarg); break;
        case 'd': opt->seconds = atof(optarg); break;
        case 'b': opt->buyers = atoi(optarg); break;
        case 'c': opt->connections = atoi(optarg); break;
        case 'p': opt->poll_ms = atoi(optarg); break;
        case 'w': opt->drain_s = atoi(optarg); break;
        case 'q': opt->poll_connections = atoi(optarg); break;
        case 'l': opt->timeline = true; break;
        case 'm': opt->warm_up_buys = atoi(optarg); break;
        default: return -1;
        }
    }
    if (!opt->token) /* from the environment rather than the command line (ps shows that) */
        opt->token = getenv("P2P_OPERATOR_TOKEN");
    if (opt->warm_up_buys < 0)
        opt->warm_up_buys = (int)ceil(opt->rate);
    if (opt->poll_connections < 0)
        opt->poll_connections = opt->connections / 32 > 0 ? opt->connections / 32 : 1;
    if (!opt->url || !opt->token || !opt->window_start || !opt->window_end || opt->rate <= 0 ||
        opt->seconds <= 0 || opt->buyers < 1 || opt->connections < 1 || opt->poll_ms < 1 ||
        opt->poll_connections < 1 ||
        (opt->connections > 1 && opt->poll_connections >= opt->connections))
        return -1;
    return 0;
}

int main(int argc, char **argv)
{
    struct options opt;
    if (parse(argc, argv, &opt)) {
        usage();
        return 2;
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT))
        return 1;
    long total = (long)(opt.rate * opt.seconds);
    if (set_up(&opt, total + opt.warm_up_buys))
        return 1;
    struct order *orders = calloc((size_t)total, sizeof *orders);
    double *latency = malloc((size_t)total * sizeof *latency);
    double *decision = malloc((size_t)total * sizeof *decision);
    CURLM *multi = curl_multi_init();
    struct loop loop;
    if (!orders || !latency || !decision || !multi || loop_init(&loop, multi)) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }
    curl_multi_setopt(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)opt.connections);
    curl_multi_setopt(multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)opt.connections);
    for (long i = 0; i < total; i++) {
        orders[i].due_ms = (double)i * 1000.0 / opt.rate;
        orders[i].len = 0;
        snprintf(orders[i].body, sizeof orders[i].body,
                 "{\"quantity_wh\":%d,\"delivery_start\":\"%s\",\"delivery_end\":\"%s\"}", ORDER_WH,
                 opt.window_start, opt.window_end);
    }
    /* every connection once, then one second of buys at the offered rate */
    if (warm_up(&loop, &opt, PHASE_POLL, opt.connections, 0, "") ||
        warm_up(&loop, &opt, PHASE_BUY, opt.warm_up_buys, 1000.0 / opt.rate, orders[0].body)) {
        fprintf(stderr, "warm-up: not every request was answered\n");
        return 1;
    }
    /* one connection: buys and polls share it (nothing can be reserved) */
    int buy_connections = opt.connections > 1 ? opt.connections - opt.poll_connections : 1;
    int poll_connections = opt.connections > 1 ? opt.poll_connections : 1;
    fprintf(stderr, "offering %.0f orders/s for %.0f s (%ld orders), %d connections (%d for polls)\n",
            opt.rate, opt.seconds, total, opt.connections, poll_connections);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    long next = 0, completed = 0, errors = 0, decided = 0, polls = 0, finished = 0;
    long first_poll_hits = 0;
    static struct gap_estimate gaps;
    struct poll_heap due = {calloc((size_t)total, sizeof(struct order *)), 0};
    if (!due.items) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }
    double deadline = opt.seconds * 1000.0 + opt.drain_s * 1000.0;
    /* Requests that are due wait here, not in curl, until a connection is
     * free: curl's own queue of waiting handles costs O(n) per removal. Their
     * latency still counts from the scheduled time. */
    struct order **ready = calloc((size_t)total, sizeof *ready);
    long ready_head = 0, ready_n = 0, active = 0, active_polls = 0;
    /* Polls that are due wait in their own queue, served after the buys (a
     * buy queued behind a poll would add the generator's queueing to the
     * decision latency), but buys leave --poll-connections to the polls. */
    struct order **polls_ready = calloc((size_t)total, sizeof *polls_ready);
    long polls_head = 0, polls_n = 0;
    if (!ready || !polls_ready) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }
    while (finished < total && now_ms() < deadline) {
        double t = now_ms();
        for (; next < total && orders[next].due_ms <= t; next++) {
            orders[next].phase = PHASE_BUY;
            ready[(ready_head + ready_n++) % total] = &orders[next];
        }
        while (due.n > 0 && due.items[0]->next_poll_ms <= t) {
            polls_ready[(polls_head + polls_n++) % total] = heap_pop(&due);
            polls++;
        }
        for (; ready_n > 0 && active - active_polls < buy_connections; ready_n--, active++) {
            struct order *o = ready[ready_head];
            ready_head = (ready_head + 1) % total;
            start_request(multi, &opt, o, o - orders);
        }
        for (; polls_n > 0 && active_polls < poll_connections && active < opt.connections;
             polls_n--, active++, active_polls++) {
            struct order *o = polls_ready[polls_head];
            polls_head = (polls_head + 1) % total;
            start_request(multi, &opt, o, o - orders);
        }
        /* wake for the next due buy, or poll when a connection is free for it */
        double wake = next < total ? orders[next].due_ms : t + 50;
        if (due.n > 0 && due.items[0]->next_poll_ms < wake)
            wake = due.items[0]->next_poll_ms;
        pump(&loop, wake);
        CURLMsg *m;
        int left;
        while ((m = curl_multi_info_read(multi, &left))) {
            if (m->msg != CURLMSG_DONE)
                continue;
            struct order *o;
            long status = 0;
            curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&o);
            if (m->data.result == CURLE_OK)
                curl_easy_getinfo(m->easy_handle, CURLINFO_RESPONSE_CODE, &status);
            finish_request(multi, o);
            active--;
            if (o->phase == PHASE_POLL)
                active_polls--;
            double at = now_ms();
            if (o->phase == PHASE_BUY) {
                if ((status == 201 || status == 202) &&
                    json_string_field(o->response, "order_id", o->order_id, sizeof o->order_id)) {
                    o->decided_ms = at;
                    decision[decided++] = at - o->due_ms;
                    o->phase = PHASE_POLL;
                    o->polls_from_ms =
                        at + (gaps.offset_ms > opt.poll_ms ? gaps.offset_ms : opt.poll_ms);
                    o->next_poll_ms = o->polls_from_ms;
                    heap_push(&due, o);
                } else {
                    if (errors < 5)
                        fprintf(stderr, "buy failed: HTTP %ld %s\n", status, o->response);
                    o->done = o->failed = true;
                    errors++;
                    finished++;
                }
            } else if (status == 200) {
                o->visible_ms = at;
                /* visible at a first poll later than --poll-ms after the
                 * answer: this latency is exact only to within that delay */
                double gap = at - o->decided_ms;
                if (o->next_poll_ms == o->polls_from_ms &&
                    o->polls_from_ms - o->decided_ms > opt.poll_ms) {
                    first_poll_hits++;
                    /* the gap was shorter than this late first poll says: count
                     * half of it, so the estimate comes down within a few
                     * updates once the read model catches up */
                    gap = (o->polls_from_ms - o->decided_ms) / 2;
                }
                gap_add(&gaps, gap, opt.poll_ms);
                latency[completed++] = at - o->due_ms;
                o->done = true;
                finished++;
            } else if (status == 404) {
                /* every --poll-ms, or a tenth of the time polled so far when
                 * longer: a latency is exact to within 10 %, and polls do not
                 * swamp the gateway when the read model lags */
                double waited = at - o->polls_from_ms, wait = waited / 10;
                o->next_poll_ms = at + (wait > opt.poll_ms ? wait : opt.poll_ms);
                heap_push(&due, o);
            } else {
                if (errors < 5)
                    fprintf(stderr, "poll failed: HTTP %ld %s\n", status, o->response);
                o->done = o->failed = true;
                errors++;
                finished++;
            }
        }
    }
    double elapsed = now_ms();
    long unfinished = total - finished;
    if (opt.timeline)
        print_timeline(orders, total, opt.rate);
    for (long i = 0; i < total; i++)
        if (orders[i].in_flight)
            finish_request(multi, &orders[i]);
    qsort(latency, (size_t)completed, sizeof *latency, cmp_double);
    qsort(decision, (size_t)decided, sizeof *decision, cmp_double);
    double p50 = percentile(latency, completed, 0.50), p99 = percentile(latency, completed, 0.99),
           p999 = percentile(latency, completed, 0.999),
           max = completed ? latency[completed - 1] : 0;
    double d50 = percentile(decision, decided, 0.50), d99 = percentile(decision, decided, 0.99);
    printf("offered %.0f orders/s for %.0f s: %ld orders, %ld decided, %ld visible in "
           "GET /api/orders/{id}, %ld errors, %ld unfinished after %d s of drain (%ld polls, "
           "%ld orders visible at a first poll later than --poll-ms)\n",
           opt.rate, opt.seconds, total, decided, completed, errors, unfinished, opt.drain_s, polls,
           first_poll_hits);
    printf("buy -> visible, from the scheduled send: p50 %.1f ms, p99 %.1f ms, p99.9 %.1f ms, "
           "max %.1f ms\n", p50, p99, p999, max);
    printf("buy answered (engine decision), from the scheduled send: p50 %.1f ms, p99 %.1f ms\n",
           d50, d99);
    printf("{\"offered_rate\":%.0f,\"seconds\":%.0f,\"orders\":%ld,\"decided\":%ld,"
           "\"completed\":%ld,\"errors\":%ld,"
           "\"unfinished\":%ld,\"p50_ms\":%.1f,\"p99_ms\":%.1f,\"p999_ms\":%.1f,\"max_ms\":%.1f,"
           "\"decision_p50_ms\":%.1f,\"decision_p99_ms\":%.1f,\"elapsed_s\":%.1f,"
           "\"completed_per_s\":%.1f,\"polls\":%ld,\"first_poll_hits\":%ld}\n",
           opt.rate, opt.seconds, total, decided, completed, errors, unfinished, p50, p99, p999,
           max, d50, d99, elapsed / 1000.0, completed / (opt.seconds), polls, first_poll_hits);
    curl_multi_cleanup(multi);
    free(due.items);
    free(ready);
    free(polls_ready);
    free(orders);
    free(latency);
    free(decision);
    curl_global_cleanup();
    return errors || unfinished ? 1 : 0;
}
