/* Process-wide counters for Prometheus (/metrics). Lock-free atomics: any
 * handler thread may count. */
#ifndef P2P_GATEWAY_METRICS_H
#define P2P_GATEWAY_METRICS_H

#include <stddef.h>

void metrics_count_response(int status);
void metrics_count_append(int ok);

/* Renders the Prometheus text exposition into buf; returns its length. */
size_t metrics_render(char *buf, size_t cap);

#endif
