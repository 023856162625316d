#include "gateway/http.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "gateway/metrics.h"

/* Whether the client asked to keep the connection open: HTTP/1.1 without
 * "Connection: close", or an explicit "Connection: keep-alive" (civetweb's
 * own rule; it may still close after the answer, which HTTP allows). */
static bool client_keeps_alive(struct mg_connection *c)
{
    const struct mg_request_info *ri = mg_get_request_info(c);
    const char *conn = mg_get_header(c, "Connection");
    if (conn) {
        for (const char *p = conn; *p; p++)
            if (strncasecmp(p, "keep-alive", 10) == 0)
                return true;
        return false;
    }
    return ri && ri->http_version && strcmp(ri->http_version, "1.1") == 0;
}

/* The status line, headers and body go out in one write: civetweb's
 * mg_response_header_* API sends every header line with its own send(), a
 * TCP segment each on a TCP_NODELAY socket, which cost the gateway and its
 * clients more CPU than the request itself (perf: 8 sendto per answer). */
static int reply(struct mg_connection *c, int status, const char *type, const char *body,
                 size_t len)
{
    char head[512], date[64];
    time_t now = time(NULL);
    struct tm tm;
    if (!gmtime_r(&now, &tm) || !strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm))
        date[0] = '\0';
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
                     "Cache-Control: no-store\r\nDate: %s\r\nConnection: %s\r\n\r\n",
                     status, mg_get_response_code_text(c, status), type, len, date,
                     client_keeps_alive(c) ? "keep-alive" : "close");
    if (n < 0 || (size_t)n >= sizeof head) { /* a content type too long for the block */
        n = snprintf(head, sizeof head, "HTTP/1.1 500 Internal Server Error\r\n"
                                        "Content-Length: 0\r\nConnection: close\r\n\r\n");
        mg_write(c, head, (size_t)n);
        metrics_count_response(500);
        return 500;
    }
    char *whole = len ? malloc((size_t)n + len) : NULL;
    if (whole) {
        memcpy(whole, head, (size_t)n);
        memcpy(whole + n, body, len);
        mg_write(c, whole, (size_t)n + len);
        free(whole);
    } else { /* no body, or no memory for the copy: two writes */
        mg_write(c, head, (size_t)n);
        if (len)
            mg_write(c, body, len);
    }
    metrics_count_response(status);
    return status;
}

int http_reply_text(struct mg_connection *c, int status, const char *content_type,
                    const char *body, size_t len)
{
    return reply(c, status, content_type, body, len);
}

int http_reply_json(struct mg_connection *c, int status, json_t *doc)
{
    char *body = doc ? json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(doc);
    if (!body) {
        static const char oom[] =
            "{\"error\":{\"code\":\"internal\",\"message\":\"out of memory\",\"field\":null}}";
        return reply(c, 500, "application/json", oom, sizeof oom - 1);
    }
    reply(c, status, "application/json", body, strlen(body));
    free(body);
    return status;
}

int http_reply_error(struct mg_connection *c, int status, const char *code, const char *field,
                     const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    /* A message cut mid-character (or echoing bad bytes) is not valid UTF-8:
     * keep its ASCII so the client still gets the 4xx, not a 500. */
    json_t *text = json_string(msg);
    if (!text) {
        for (char *q = msg; *q; q++)
            if ((unsigned char)*q > 0x7e || (unsigned char)*q < 0x20)
                *q = '?';
        text = json_string(msg);
    }
    json_t *err = json_pack("{s:s, s:o}", "code", code, "message", text);
    if (err) {
        json_t *f = field ? json_string(field) : json_null();
        json_object_set_new(err, "field", f ? f : json_string("?"));
    }
    return http_reply_json(c, status, err ? json_pack("{s:o}", "error", err) : NULL);
}

int http_reply_violation(struct mg_connection *c, int status, const struct p2p_violation *v)
{
    return http_reply_error(c, status, v->code, v->field, "%s", v->message);
}

int http_read_body(struct mg_connection *c, int64_t cap, char **out, size_t *len)
{
    const struct mg_request_info *ri = mg_get_request_info(c);
    if (ri->content_length > cap)
        return http_reply_error(c, 413, "body_too_large", "body",
                                "the body has %lld bytes; the limit is %lld",
                                ri->content_length, (long long)cap);
    size_t want = ri->content_length >= 0 ? (size_t)ri->content_length : (size_t)cap + 1;
    char *buf = malloc(want + 1);
    if (!buf)
        return http_reply_error(c, 503, "unavailable", NULL, "out of memory, retry later");
    size_t got = 0;
    while (got < want) {
        int n = mg_read(c, buf + got, want - got);
        if (n < 0) {
            free(buf);
            return http_reply_error(c, 400, "malformed_body", "body", "the body could not be read");
        }
        if (n == 0)
            break;
        got += (size_t)n;
    }
    if ((int64_t)got > cap) {
        free(buf);
        return http_reply_error(c, 413, "body_too_large", "body",
                                "the body exceeds the limit of %lld bytes", (long long)cap);
    }
    buf[got] = '\0';
    *out = buf;
    *len = got;
    return 0;
}

int http_query(struct mg_connection *c, const char *name, char *out, size_t cap)
{
    const char *qs = mg_get_request_info(c)->query_string;
    if (!qs)
        return -1;
    int n = mg_get_var(qs, strlen(qs), name, out, cap);
    return n >= 0 ? n : n == -2 ? -2 : -1;
}
