#include "common/p2p_json.h"

#include <string.h>

int p2p_json_int(const json_t *obj, const char *name, int64_t *out, struct p2p_violation *v)
{
    json_t *f = json_object_get(obj, name);
    if (!f || json_is_null(f))
        return p2p_violate(v, "missing_field", name, "%s is required", name);
    if (!json_is_integer(f))
        return p2p_violate(v, "wrong_type", name, "%s must be an integer", name);
    *out = json_integer_value(f);
    return 0;
}

int p2p_json_opt_int(const json_t *obj, const char *name, int64_t *out, bool *present,
                     struct p2p_violation *v)
{
    json_t *f = json_object_get(obj, name);
    *present = f && !json_is_null(f);
    return *present ? p2p_json_int(obj, name, out, v) : 0;
}

int p2p_json_str(const json_t *obj, const char *name, char *out, size_t cap,
                 struct p2p_violation *v)
{
    json_t *f = json_object_get(obj, name);
    if (!f || json_is_null(f))
        return p2p_violate(v, "missing_field", name, "%s is required", name);
    if (!json_is_string(f))
        return p2p_violate(v, "wrong_type", name, "%s must be a string", name);
    size_t n = json_string_length(f);
    if (n == 0 || n >= cap)
        return p2p_violate(v, "invalid_field", name, "%s must have 1 to %zu characters", name,
                           cap - 1);
    const char *s = json_string_value(f);
    if (memchr(s, '\0', n))
        return p2p_violate(v, "invalid_field", name, "%s must not contain NUL characters", name);
    memcpy(out, s, n + 1);
    return 0;
}

int p2p_json_opt_str(const json_t *obj, const char *name, char *out, size_t cap, bool *present,
                     struct p2p_violation *v)
{
    json_t *f = json_object_get(obj, name);
    *present = f && !json_is_null(f);
    return *present ? p2p_json_str(obj, name, out, cap, v) : 0;
}

json_t *p2p_json_parse_object(const char *data, size_t len, struct p2p_violation *v)
{
    json_error_t e;
    /* jansson rejects invalid UTF-8 and caps nesting depth (JSON_PARSER_MAX_DEPTH = 2048). */
    json_t *root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &e);
    if (!root) {
        p2p_violate(v, "malformed_json", "body", "the body is not valid JSON: %s (line %d, column %d)",
                    e.text, e.line, e.column);
        return NULL;
    }
    if (!json_is_object(root)) {
        json_decref(root);
        p2p_violate(v, "malformed_json", "body", "the body must be a JSON object");
        return NULL;
    }
    return root;
}
