/* Structured logs: one JSON object per line on stderr, with time, level,
 * service and event name. Safe to call from any thread (each line is one
 * write). Never pass secrets: whatever is logged is kept. */
#ifndef P2P_LOG_H
#define P2P_LOG_H

#include <jansson.h>

enum p2p_log_level { P2P_DEBUG, P2P_INFO, P2P_WARN, P2P_ERROR };

/* Names the service in every line and reads P2P_LOG_LEVEL (debug|info|warn|error). */
void p2p_log_init(const char *service);

/* Logs `event` with a printf-style human message. */
__attribute__((format(printf, 3, 4)))
void p2p_log(enum p2p_log_level level, const char *event, const char *fmt, ...);

/* Logs `event` with structured fields; takes ownership of `fields` (may be NULL). */
void p2p_log_fields(enum p2p_log_level level, const char *event, json_t *fields);

#endif
