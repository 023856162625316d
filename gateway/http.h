/* HTTP plumbing for the gateway's handlers (civetweb): reading a request body
 * under a size cap, and answering with JSON. Every error answer has the shape
 * {"error":{"code","message","field"}} (docs/api.md). Each response goes out as
 * one write (status line, headers and body), on a TCP_NODELAY socket. */
#ifndef P2P_GATEWAY_HTTP_H
#define P2P_GATEWAY_HTTP_H

#include <civetweb.h>
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "common/p2p_violation.h"

/* Reads the whole body into a malloc'd buffer (*out, NUL-terminated, caller
 * frees) of at most cap bytes. Returns 0, or an HTTP status (413, 400) after
 * having answered the client itself. */
int http_read_body(struct mg_connection *c, int64_t cap, char **out, size_t *len);

/* Answers with `status` and the JSON document (consumed: decref'd here). Returns status. */
int http_reply_json(struct mg_connection *c, int status, json_t *doc);

/* Answers {"error":{code,message,field}}. Returns status. */
__attribute__((format(printf, 5, 6)))
int http_reply_error(struct mg_connection *c, int status, const char *code, const char *field,
                     const char *fmt, ...);

/* Answers 400 (or `status`) from a rule violation. Returns status. */
int http_reply_violation(struct mg_connection *c, int status, const struct p2p_violation *v);

/* Answers plain text (for /metrics). Returns status. */
int http_reply_text(struct mg_connection *c, int status, const char *content_type,
                    const char *body, size_t len);

/* Copies the value of query parameter `name` into out; returns its length,
 * -1 when absent, -2 when longer than cap - 1 (callers answer 400). */
int http_query(struct mg_connection *c, const char *name, char *out, size_t cap);

#endif
