/* p2p-bench-engine: the engine core alone, one thread, in memory, no I/O
 * (docs: shared/spec/quality.md, "Speed").
 *
 * A seeded workload (bench/workload.c) drives M markets (one struct engine
 * each) round-robin. Commands are generated on the fly, because follow-ups
 * (confirming a reservation, cancelling an order, reporting a delivery) need
 * the engine's answers; only engine_apply() is timed, with CLOCK_MONOTONIC
 * around every call. After W warm-up commands, N commands are measured:
 * throughput = N / (sum of their latencies), percentiles from every sample,
 * and allocations counted by interposing malloc & co (not under ASan, which
 * owns malloc). Every event of the run is hashed (same seed, same hash), and
 * the engines' invariants are checked at the end (untimed).
 *
 * Output: a human summary, then as the last line one JSON object. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench/workload.h"
#include "engine/core/engine.h"

#if defined(__SANITIZE_ADDRESS__)
#define BENCH_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define BENCH_ASAN 1
#endif
#endif

/* ---- allocation counting ---------------------------------------------------- */

#ifndef BENCH_ASAN
static volatile int counting;
static unsigned long long nallocs;

extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t n);
extern void __libc_free(void *p);
extern void *__libc_memalign(size_t alignment, size_t n);

void *malloc(size_t n)
{
    if (counting)
        nallocs++;
    return __libc_malloc(n);
}
void *calloc(size_t n, size_t size)
{
    if (counting)
        nallocs++;
    return __libc_calloc(n, size);
}
void *realloc(void *p, size_t n)
{
    if (counting)
        nallocs++;
    return __libc_realloc(p, n);
}
void free(void *p) { __libc_free(p); }
void *aligned_alloc(size_t alignment, size_t n)
{
    if (counting)
        nallocs++;
    return __libc_memalign(alignment, n);
}
int posix_memalign(void **out, size_t alignment, size_t n)
{
    if (counting)
        nallocs++;
    void *p = __libc_memalign(alignment, n);
    if (!p)
        return ENOMEM;
    *out = p;
    return 0;
}
#else
static int counting; /* ASan: nothing counted */
#endif

/* ---- helpers ------------------------------------------------------------------- */

static inline uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* The q-quantile (q in 1/1000) of sorted samples: nearest rank. */
static uint32_t quantile(const uint32_t *v, uint64_t n, unsigned q_per_mille)
{
    if (n == 0)
        return 0;
    uint64_t rank = (n * q_per_mille + 999) / 1000;
    return v[rank ? rank - 1 : 0];
}

static uint32_t quantile_10k(const uint32_t *v, uint64_t n, unsigned q)
{
    if (n == 0)
        return 0;
    uint64_t rank = (n * q + 9999) / 10000;
    return v[rank ? rank - 1 : 0];
}

static void json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            fprintf(f, "\\%c", ch);
        else if (ch < 0x20)
            fprintf(f, "\\u%04x", ch);
        else
            fputc(ch, f);
    }
    fputc('"', f);
}

/* ---- diagnostics (untimed): how much of the book an order placement walks ----
 * Mirrors the traversal of engine/core/matching.c (scan over the slot buckets
 * from ws - 24 h to we, and match_alternatives' 48 shifted windows) without
 * changing anything, to explain where placement time goes. */
struct walk {
    uint64_t nodes;       /* offer entries visited */
    uint64_t overlapping; /* ...whose window overlaps the request at all */
    uint64_t live;        /* ...overlapping and still open for at least its minimum */
    uint64_t buckets;     /* slot buckets looked at */
};

static int64_t slot_floor(const struct engine *e, int64_t ms)
{
    int64_t s = e->p.market.slot_ms;
    return ms >= 0 ? ms / s : -((-ms + s - 1) / s);
}

static void walk_window(const struct engine *e, int64_t ws, int64_t we, struct walk *w)
{
    int64_t first = slot_floor(e, ws - OFFER_MAX_WINDOW_MS + 1), last = slot_floor(e, we - 1);
    if (first < e->next_close_slot)
        first = e->next_close_slot;
    for (int64_t s = first; s <= last; s++) {
        uint32_t b = (uint32_t)(s & (e->nslots - 1));
        w->buckets++;
        if (e->slot_tag[b] != s)
            continue;
        for (uint32_t i = e->slot_head[b]; i != ID_INDEX_NONE; i = e->offers[i].next_in_slot) {
            const struct offer_terms *t = &e->offers[i].terms;
            w->nodes++;
            if (t->delivery_start_ms < we && t->delivery_end_ms > ws) {
                w->overlapping++;
                w->live += engine_offer_open_wh(&e->offers[i]) >= t->min_order_wh;
            }
        }
    }
}

static void walk_alternatives(const struct engine *e, const struct order_request *r, struct walk *w)
{
    int64_t dur = r->window_end_ms - r->window_start_ms, slot = e->p.market.slot_ms;
    for (int64_t k = -24; k <= 24; k++) {
        int64_t ws = r->window_start_ms + k * slot;
        if (k == 0 || ws - e->now_ms < e->p.market.gate_closure_ms || ws - e->now_ms > e->p.market.horizon_ms)
            continue;
        walk_window(e, ws, ws + dur, w);
    }
}

static const char *const kind_names[CMD_KIND_COUNT] = {
    [CMD_OFFER_SUBMIT] = "offer_submit",       [CMD_OFFER_WITHDRAW] = "offer_withdraw",
    [CMD_ORDER_QUOTE] = "order_quote",         [CMD_ORDER_RESERVE] = "order_reserve",
    [CMD_ORDER_CONFIRM] = "order_confirm",     [CMD_ORDER_BUY] = "order_buy",
    [CMD_ORDER_CANCEL] = "order_cancel",       [CMD_SALE_CANCEL] = "sale_cancel",
    [CMD_DEPOSIT] = "deposit",                 [CMD_WITHDRAWAL] = "withdrawal",
    [CMD_PROFILE_UPDATE] = "profile_update",   [CMD_METER_VERIFIED] = "meter_verified",
    [CMD_DELIVERY_REPORT] = "delivery_report", [CMD_TICK] = "tick",
    [CMD_ORDER_PAYMENT] = "order_payment",
};

static const char *const event_names[EV_KIND_COUNT] = {
    "offer_listed",    "offer_rejected",    "offer_withdrawn", "offer_expired",
    "order_quoted",    "order_reserved",    "order_confirmed", "order_rejected",
    "order_cancelled", "order_expired",     "order_settled",   "fill",
    "fill_cancelled",  "delivery_settled",  "trust_changed",   "journal_entry",
    "participant_updated", "command_rejected", "order_paid",
};

static void usage(FILE *f)
{
    fprintf(f,
            "usage: p2p-bench-engine [--commands N] [--seed S] [--markets M] [--warmup W]\n"
            "                        [--ms-per-command T] [--short]\n"
            "  --commands N        measured commands (default 1000000)\n"
            "  --seed S            workload seed (default 42)\n"
            "  --markets M         markets, one engine each, round-robin (default 8)\n"
            "  --warmup W          untimed commands first (default min(N/10, 100000))\n"
            "  --ms-per-command T  simulated ms between a market's commands (default: from\n"
            "                      the market's size, ~4 offers per seller per day)\n"
            "  --short             N = 20000: proves it works (CI), not how fast\n"
            "Prints a summary, then one JSON object as the last line.\n");
}

static bool parse_u64(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || s[0] == '-')
        return false;
    *out = v;
    return true;
}

int main(int argc, char **argv)
{
    uint64_t n = 1000000, seed = 42, markets = 8, warmup = UINT64_MAX, ms_per_command = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        uint64_t *target = NULL;
        if (strcmp(a, "--short") == 0) {
            n = 20000;
            continue;
        }
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        }
        if (strcmp(a, "--commands") == 0)
            target = &n;
        else if (strcmp(a, "--seed") == 0)
            target = &seed;
        else if (strcmp(a, "--markets") == 0)
            target = &markets;
        else if (strcmp(a, "--warmup") == 0)
            target = &warmup;
        else if (strcmp(a, "--ms-per-command") == 0)
            target = &ms_per_command;
        if (!target || i + 1 >= argc || !parse_u64(argv[i + 1], target)) {
            fprintf(stderr, "p2p-bench-engine: bad argument %s\n", a);
            usage(stderr);
            return 2;
        }
        i++;
    }
    if (n == 0 || markets == 0 || markets > 4096 || n > 2000000000ULL) {
        fprintf(stderr, "p2p-bench-engine: --commands must be 1..2e9 and --markets 1..4096\n");
        return 2;
    }
    if (warmup == UINT64_MAX)
        warmup = n / 10 < 100000 ? n / 10 : 100000;
    uint64_t total = n + warmup;
    uint64_t per_market = total / markets + 1;

    /* ---- set-up (untimed) ---- */
    struct engine_params params;
    engine_params_default(&params);
    struct engine *engines = calloc(markets, sizeof *engines);
    struct workload **loads = calloc(markets, sizeof *loads);
    uint32_t *lat = malloc(n * sizeof *lat);
    uint8_t *lat_kind = malloc(n);
    enum { SINK_CAP = 4096 };
    struct event *events = calloc(SINK_CAP, sizeof *events);
    if (!engines || !loads || !lat || !lat_kind || !events) {
        fprintf(stderr, "p2p-bench-engine: out of memory\n");
        return 1;
    }
    struct workload_config cfg0;
    memset(&cfg0, 0, sizeof cfg0);
    for (uint64_t m = 0; m < markets; m++) {
        struct workload_config cfg;
        workload_config_default(&cfg, seed * 1000003ULL + m, (uint32_t)m, per_market);
        if (ms_per_command)
            cfg.ms_per_command = (int64_t)ms_per_command;
        if (m == 0)
            cfg0 = cfg;
        struct engine_capacity cap;
        workload_capacity(&cfg, per_market, &cap);
        loads[m] = workload_create(&cfg);
        if (!loads[m] || engine_create(&engines[m], &params, &cap) != 0) {
            fprintf(stderr, "p2p-bench-engine: out of memory for market %llu\n", (unsigned long long)m);
            return 1;
        }
    }
    struct event_sink sink;
    memset(&sink, 0, sizeof sink);
    sink.events = events;
    sink.capacity = SINK_CAP;

    uint64_t overhead[64];
    for (int i = 0; i < 64; i++) {
        uint64_t a = now_ns();
        overhead[i] = now_ns() - a;
    }
    uint64_t clock_overhead = overhead[0];
    for (int i = 0; i < 64; i++)
        if (overhead[i] < clock_overhead)
            clock_overhead = overhead[i];

    bool tty = isatty(2);
    fprintf(stderr, "p2p-bench-engine: %llu markets, %llu warm-up + %llu measured commands, seed %llu\n",
            (unsigned long long)markets, (unsigned long long)warmup, (unsigned long long)n,
            (unsigned long long)seed);

    /* ---- the run ---- */
    struct command cmd;
    uint64_t hash = WORKLOAD_HASH_INIT, nevents = 0, sum_ns = 0;
    uint64_t event_counts[EV_KIND_COUNT] = {0};
    uint64_t kind_ns[CMD_KIND_COUNT] = {0}, kind_n[CMD_KIND_COUNT] = {0};
    uint64_t step = total / 20 ? total / 20 : 1, wall0 = now_ns(), wall_measured = 0;
    /* placements (quote, reserve, buy): accepted vs refused for lack of supply */
    uint64_t place_n[2] = {0}, place_ns[2] = {0}, sampled[2] = {0};
    struct walk walked[2] = {{0}}, walked_alt = {0};
    for (uint64_t i = 0; i < total; i++) {
        uint64_t m = i % markets;
        struct engine *e = &engines[m];
        if (i == warmup) {
            wall_measured = now_ns();
            counting = 1;
        }
        workload_next(loads[m], e, &cmd);
        sink.count = 0;
        if (i >= warmup) {
            uint64_t t0 = now_ns();
            engine_apply(e, &cmd, &sink);
            uint64_t dt = now_ns() - t0;
            uint64_t k = i - warmup;
            lat[k] = dt > UINT32_MAX ? UINT32_MAX : (uint32_t)dt;
            lat_kind[k] = (uint8_t)cmd.kind;
            sum_ns += dt;
            kind_ns[cmd.kind] += dt;
            kind_n[cmd.kind]++;
            if (cmd.kind == CMD_ORDER_QUOTE || cmd.kind == CMD_ORDER_RESERVE || cmd.kind == CMD_ORDER_BUY) {
                int refused = 0;
                for (int32_t q = 0; q < sink.count; q++)
                    if (events[q].kind == EV_ORDER_REJECTED &&
                        strcmp(events[q].u.rejected.reason.code, "insufficient_supply") == 0)
                        refused = 1;
                place_n[refused]++;
                place_ns[refused] += dt;
                if (place_n[refused] % 16 == 1) { /* sampled, untimed */
                    int was = counting;
                    counting = 0;
                    sampled[refused]++;
                    walk_window(e, cmd.u.order.window_start_ms, cmd.u.order.window_end_ms, &walked[refused]);
                    if (refused)
                        walk_alternatives(e, &cmd.u.order, &walked_alt);
                    counting = was;
                }
            }
        } else {
            engine_apply(e, &cmd, &sink);
        }
        hash = workload_hash_events(hash, e, &sink);
        nevents += (uint64_t)sink.count;
        for (int32_t k = 0; k < sink.count; k++)
            if ((unsigned)events[k].kind < EV_KIND_COUNT)
                event_counts[events[k].kind]++;
        workload_observe(loads[m], e, &sink);
        if ((i + 1) % step == 0 && total >= 100000) {
            int was = counting;
            counting = 0;
            double s = (double)(now_ns() - wall0) / 1e9;
            fprintf(stderr, tty ? "\r  %3llu%%  %llu/%llu commands  %.1f s " : "  %3llu%%  %llu/%llu commands  %.1f s\n",
                    (unsigned long long)((i + 1) * 100 / total), (unsigned long long)(i + 1),
                    (unsigned long long)total, s);
            counting = was;
        }
    }
    counting = 0;
    uint64_t wall_end = now_ns();
    if (tty && total >= 100000)
        fputc('\n', stderr);

    /* ---- results (untimed) ---- */
    char inv[512] = "ok";
    for (uint64_t m = 0; m < markets; m++) {
        char msg[480];
        if (engine_check_invariants(&engines[m], msg, sizeof msg) != 0) {
            snprintf(inv, sizeof inv, "market %llu: %s", (unsigned long long)m, msg);
            break;
        }
    }
    /* per-kind percentiles: group samples by kind (stable), then sort each group */
    uint32_t *by_kind = malloc(n * sizeof *by_kind);
    uint64_t kstart[CMD_KIND_COUNT + 1] = {0};
    if (by_kind) {
        for (int k = 0; k < CMD_KIND_COUNT; k++)
            kstart[k + 1] = kstart[k] + kind_n[k];
        uint64_t fillpos[CMD_KIND_COUNT];
        memcpy(fillpos, kstart, sizeof fillpos);
        for (uint64_t i = 0; i < n; i++)
            by_kind[fillpos[lat_kind[i]]++] = lat[i];
        for (int k = 0; k < CMD_KIND_COUNT; k++)
            qsort(by_kind + kstart[k], kind_n[k], sizeof *by_kind, cmp_u32);
    }
    qsort(lat, n, sizeof *lat, cmp_u32);
    uint32_t p50 = quantile(lat, n, 500), p99 = quantile(lat, n, 990),
             p999 = quantile(lat, n, 999), p9999 = quantile_10k(lat, n, 9999), maxv = lat[n - 1];
    double cps = sum_ns ? (double)n * 1e9 / (double)sum_ns : 0;
    double wall_s = (double)(wall_end - wall0) / 1e9, wall_meas_s = (double)(wall_end - wall_measured) / 1e9;

    uint64_t noffers = 0, norders = 0, nfills = 0, nparts = 0;
    for (uint64_t m = 0; m < markets; m++) {
        noffers += engines[m].noffers;
        norders += engines[m].norders;
        nfills += engines[m].nfills;
        nparts += engines[m].nparticipants;
    }
    int64_t sim_ms = workload_now(loads[0]) - WORKLOAD_EPOCH_MS;

    printf("engine core benchmark (%s build)\n",
#ifdef BENCH_ASAN
           "AddressSanitizer"
#elif defined(__OPTIMIZE__)
           "optimized"
#else
           "unoptimized"
#endif
    );
    printf("  markets %llu, seed %llu, warm-up %llu, measured %llu commands\n",
           (unsigned long long)markets, (unsigned long long)seed, (unsigned long long)warmup,
           (unsigned long long)n);
    printf("  per market: %u sellers, %u buyers, %lld ms simulated per command, %.1f simulated days\n",
           cfg0.sellers, cfg0.buyers, (long long)cfg0.ms_per_command, (double)sim_ms / 86400000.0);
    printf("  end state: %llu participants, %llu offers, %llu orders, %llu fills\n",
           (unsigned long long)nparts, (unsigned long long)noffers, (unsigned long long)norders,
           (unsigned long long)nfills);
    printf("  throughput: %.0f commands/s (engine_apply only; clock read costs ~%llu ns per sample)\n",
           cps, (unsigned long long)clock_overhead);
    printf("  wall: %.2f s total, %.2f s measured phase incl. generation and hashing\n", wall_s,
           wall_meas_s);
    printf("  latency ns: p50 %u  p99 %u  p99.9 %u  p99.99 %u  max %u\n", p50, p99, p999, p9999, maxv);
    printf("  per command kind (measured):   count   share  time%%   mean     p50     p99    p99.9\n");
    for (int k = 0; k < CMD_KIND_COUNT; k++) {
        if (!kind_n[k])
            continue;
        const uint32_t *v = by_kind ? by_kind + kstart[k] : NULL;
        printf("    %-18s %12llu  %5.1f%%  %5.1f%%  %6.0f  %6u  %6u  %7u\n", kind_names[k],
               (unsigned long long)kind_n[k], 100.0 * (double)kind_n[k] / (double)n,
               sum_ns ? 100.0 * (double)kind_ns[k] / (double)sum_ns : 0,
               (double)kind_ns[k] / (double)kind_n[k], v ? quantile(v, kind_n[k], 500) : 0,
               v ? quantile(v, kind_n[k], 990) : 0, v ? quantile(v, kind_n[k], 999) : 0);
    }
    for (int r = 0; r < 2; r++) {
        if (!place_n[r] || !sampled[r])
            continue;
        printf("  placements %-28s %8llu, mean %6.0f ns; per placement (1 in 16 sampled) the scan walks "
               "%.0f offers in %.0f slot buckets, %.0f of them overlapping the window (%.0f of those open)",
               r ? "refused (insufficient supply):" : "matched:", (unsigned long long)place_n[r],
               (double)place_ns[r] / (double)place_n[r], (double)walked[r].nodes / (double)sampled[r],
               (double)walked[r].buckets / (double)sampled[r],
               (double)walked[r].overlapping / (double)sampled[r],
               (double)walked[r].live / (double)sampled[r]);
        if (r)
            printf(";\n      then match_alternatives walks %.0f more offers in %.0f buckets",
                   (double)walked_alt.nodes / (double)sampled[r],
                   (double)walked_alt.buckets / (double)sampled[r]);
        printf("\n");
    }
    printf("  events: %llu total\n   ", (unsigned long long)nevents);
    for (int k = 0; k < EV_KIND_COUNT; k++)
        if (event_counts[k])
            printf(" %s %llu", event_names[k], (unsigned long long)event_counts[k]);
    printf("\n");
#ifdef BENCH_ASAN
    printf("  allocations after warm-up: not counted (AddressSanitizer owns malloc)\n");
#else
    printf("  allocations after warm-up: %llu\n", nallocs);
#endif
    printf("  output hash: %016llx\n", (unsigned long long)hash);
    printf("  invariants: %s\n", inv);

    printf("{\"commands\":%llu,\"markets\":%llu,\"seed\":%llu,\"commands_per_sec\":%.0f,"
           "\"p50_ns\":%u,\"p99_ns\":%u,\"p999_ns\":%u,\"max_ns\":%u,\"events\":%llu,",
           (unsigned long long)n, (unsigned long long)markets, (unsigned long long)seed, cps, p50,
           p99, p999, maxv, (unsigned long long)nevents);
#ifdef BENCH_ASAN
    printf("\"allocs_after_warmup\":null,\"note\":\"built with AddressSanitizer: allocations not "
           "counted and timings not representative; use ./p2p bench engine\",");
#else
    printf("\"allocs_after_warmup\":%llu,", nallocs);
#endif
    printf("\"output_hash\":\"%016llx\",\"invariants\":", (unsigned long long)hash);
    json_string(stdout, inv);
    printf("}\n");
    fflush(stdout);

    for (uint64_t m = 0; m < markets; m++) {
        engine_destroy(&engines[m]);
        workload_destroy(loads[m]);
    }
    free(by_kind);
    free(engines);
    free(loads);
    free(lat);
    free(lat_kind);
    free(events);
    return strcmp(inv, "ok") == 0 ? 0 : 1;
}
