/* Reading typed fields out of untrusted JSON objects, each failure reported as
 * a p2p_violation naming the field (missing_field, wrong_type, invalid_field).
 * Integers must be JSON integers: 1.5, "5" or true are wrong_type. */
#ifndef P2P_JSON_H
#define P2P_JSON_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/p2p_violation.h"

/* Required integer. */
int p2p_json_int(const json_t *obj, const char *name, int64_t *out, struct p2p_violation *v);

/* Optional integer: absent or null leaves *present false. */
int p2p_json_opt_int(const json_t *obj, const char *name, int64_t *out, bool *present,
                     struct p2p_violation *v);

/* Required string of 1..cap-1 bytes, copied into out[cap]. */
int p2p_json_str(const json_t *obj, const char *name, char *out, size_t cap,
                 struct p2p_violation *v);

/* Optional string: absent or null leaves *present false. */
int p2p_json_opt_str(const json_t *obj, const char *name, char *out, size_t cap, bool *present,
                     struct p2p_violation *v);

/* Required identifier: 1..cap-1 bytes matching [A-Za-z0-9][A-Za-z0-9._:@-]*. */
int p2p_json_id(const json_t *obj, const char *name, char *out, size_t cap,
                struct p2p_violation *v);

/* True when s is an identifier as above, at most max_len bytes. */
bool p2p_id_valid(const char *s, size_t max_len);

#define P2P_JSON_MAX_DEPTH 32

/* Parses untrusted bytes into a JSON object: nesting deeper than
 * P2P_JSON_MAX_DEPTH is refused before the parser sees it (its recursion
 * must not exhaust a server thread's stack), invalid UTF-8 is refused.
 * Returns a new reference or NULL with v filled (field "body"). */
json_t *p2p_json_parse_object(const char *data, size_t len, struct p2p_violation *v);

#endif
