/* A broken rule, named: what the gateway returns as a 4xx error and what the
 * engine records in a rejection event. Pure data, no I/O: the engine core uses it.
 *
 * `code` is a stable machine-readable identifier (docs/api.md lists them),
 * `field` names the offending input field (or "body" for the whole request),
 * `message` tells a person what was wrong and how to fix it. */
#ifndef P2P_VIOLATION_H
#define P2P_VIOLATION_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

struct p2p_violation {
    char code[32];
    char field[48];
    char message[200];
};

/* Copies a NUL-terminated string into dst[cap], truncating; cheaper than
 * snprintf("%s") on the engine's hot paths. */
static inline void p2p_copy(char *dst, size_t cap, const char *src)
{
    size_t n = 0;
    while (n + 1 < cap && src[n])
        n++;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

/* Fills *v and returns -1, so callers can write `return p2p_violate(...)`. */
__attribute__((format(printf, 4, 5)))
static inline int p2p_violate(struct p2p_violation *v, const char *code, const char *field,
                              const char *fmt, ...)
{
    va_list ap;
    p2p_copy(v->code, sizeof v->code, code);
    p2p_copy(v->field, sizeof v->field, field);
    va_start(ap, fmt);
    vsnprintf(v->message, sizeof v->message, fmt, ap);
    va_end(ap);
    return -1;
}

#endif
