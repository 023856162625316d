#include "common/p2p_json.h"

#include <ctype.h>
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

bool p2p_id_valid(const char *s, size_t max_len)
{
    size_t n = strlen(s);
    if (n == 0 || n > max_len || !isalnum((unsigned char)s[0]))
        return false;
    for (size_t i = 1; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && !strchr("._:@-", s[i]))
            return false;
    return true;
}

int p2p_json_id(const json_t *obj, const char *name, char *out, size_t cap,
                struct p2p_violation *v)
{
    if (p2p_json_str(obj, name, out, cap, v))
        return -1;
    if (!p2p_id_valid(out, cap - 1))
        return p2p_violate(v, "invalid_field", name,
                           "%s must be letters, digits and . _ : @ - (starting with a letter or digit)",
                           name);
    return 0;
}

/* Deepest nesting of arrays and objects, ignoring brackets inside strings. */
static int nesting_depth(const char *data, size_t len)
{
    int depth = 0, deepest = 0;
    bool in_string = false;
    for (size_t i = 0; i < len; i++) {
        char ch = data[i];
        if (in_string) {
            if (ch == '\\')
                i++;
            else if (ch == '"')
                in_string = false;
        } else if (ch == '"') {
            in_string = true;
        } else if (ch == '[' || ch == '{') {
            if (++depth > deepest)
                deepest = depth;
        } else if (ch == ']' || ch == '}') {
            depth--;
        }
    }
    return deepest;
}

json_t *p2p_json_parse_object(const char *data, size_t len, struct p2p_violation *v)
{
    json_error_t e;
    if (nesting_depth(data, len) > P2P_JSON_MAX_DEPTH) {
        p2p_violate(v, "malformed_json", "body", "the body nests deeper than %d levels",
                    P2P_JSON_MAX_DEPTH);
        return NULL;
    }
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
