#include "gateway/metrics.h"

#include <stdatomic.h>
#include <stdio.h>

static atomic_ullong responses[6]; /* by status class: 1xx..5xx, index 0 = other */
static atomic_ullong appended, append_failed;

void metrics_count_response(int status)
{
    int cls = status / 100;
    atomic_fetch_add(&responses[cls >= 1 && cls <= 5 ? cls : 0], 1);
}

void metrics_count_append(int ok) { atomic_fetch_add(ok ? &appended : &append_failed, 1); }

size_t metrics_render(char *buf, size_t cap)
{
    size_t n = 0;
    int w = snprintf(buf, cap,
                     "# HELP p2p_http_requests_total HTTP responses sent, by status class.\n"
                     "# TYPE p2p_http_requests_total counter\n");
    n = w > 0 ? (size_t)w : 0;
    for (int i = 1; i <= 5 && n < cap; i++) {
        w = snprintf(buf + n, cap - n, "p2p_http_requests_total{status=\"%dxx\"} %llu\n", i,
                     (unsigned long long)atomic_load(&responses[i]));
        n += w > 0 ? (size_t)w : 0;
    }
    if (n < cap) {
        w = snprintf(buf + n, cap - n,
                     "# HELP p2p_commands_appended_total Commands acknowledged by Kafka.\n"
                     "# TYPE p2p_commands_appended_total counter\n"
                     "p2p_commands_appended_total %llu\n"
                     "# HELP p2p_command_append_failures_total Commands Kafka did not acknowledge.\n"
                     "# TYPE p2p_command_append_failures_total counter\n"
                     "p2p_command_append_failures_total %llu\n",
                     (unsigned long long)atomic_load(&appended),
                     (unsigned long long)atomic_load(&append_failed));
        n += w > 0 ? (size_t)w : 0;
    }
    return n < cap ? n : cap - 1;
}
