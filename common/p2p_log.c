#include "common/p2p_log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/p2p_time.h"

static const char *service_name = "p2p";
static enum p2p_log_level min_level = P2P_INFO;
static const char *const level_names[] = {"debug", "info", "warn", "error"};

void p2p_log_init(const char *service)
{
    service_name = service;
    const char *lvl = getenv("P2P_LOG_LEVEL");
    for (int i = 0; lvl && i < 4; i++)
        if (strcmp(lvl, level_names[i]) == 0)
            min_level = (enum p2p_log_level)i;
}

void p2p_log_fields(enum p2p_log_level level, const char *event, json_t *fields)
{
    if (level < min_level) {
        json_decref(fields);
        return;
    }
    char ts[P2P_TIME_BUF];
    p2p_time_format(p2p_now_ms(), true, ts);
    json_t *line = json_pack("{s:s, s:s, s:s, s:s}", "ts", ts, "level", level_names[level],
                             "service", service_name, "event", event);
    if (!line) {
        json_decref(fields);
        return;
    }
    if (fields)
        json_object_update(line, fields);
    json_decref(fields);
    char *text = json_dumps(line, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(line);
    if (!text)
        return;
    size_t n = strlen(text);
    text[n] = '\n'; /* json_dumps leaves room: replace the NUL, write n+1 bytes */
    ssize_t w = write(STDERR_FILENO, text, n + 1);
    (void)w;
    free(text);
}

void p2p_log(enum p2p_log_level level, const char *event, const char *fmt, ...)
{
    if (level < min_level)
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    p2p_log_fields(level, event, json_pack("{s:s}", "msg", msg));
}
