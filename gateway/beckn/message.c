#include "gateway/beckn/message.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/p2p_time.h"

__attribute__((format(printf, 5, 6)))
static int nack(struct beckn_nack *n, int status, const char *code, const char *paths,
                const char *fmt, ...)
{
    va_list ap;
    n->http_status = status;
    snprintf(n->code, sizeof n->code, "%s", code);
    snprintf(n->paths, sizeof n->paths, "%s", paths);
    va_start(ap, fmt);
    vsnprintf(n->message, sizeof n->message, fmt, ap);
    va_end(ap);
    return -1;
}

#define DURATION_MAX_MS (366LL * 86400000) /* a ttl of at most a (leap) year */

int beckn_duration_ms(const char *s, int64_t *ms)
{
    int64_t total = 0;
    bool in_time = false, any = false;
    if (*s++ != 'P')
        return -1;
    while (*s) {
        if (*s == 'T') {
            if (in_time)
                return -1;
            in_time = true;
            s++;
            continue;
        }
        int64_t whole = 0, frac_ms = 0;
        int digits = 0;
        for (; *s >= '0' && *s <= '9'; s++, digits++)
            if (digits < 12)
                whole = whole * 10 + (*s - '0');
        if (digits == 0 || digits > 12)
            return -1;
        if (*s == '.' || *s == ',') {
            int fd = 0;
            for (s++; *s >= '0' && *s <= '9'; s++, fd++)
                if (fd < 3)
                    frac_ms = frac_ms * 10 + (*s - '0');
            for (; fd < 3; fd++)
                frac_ms *= 10;
            if (*s != 'S')
                return -1; /* fractions only on seconds */
        }
        int64_t unit;
        switch (*s) {
        case 'D': unit = in_time ? -1 : 86400000; break;
        case 'H': unit = in_time ? 3600000 : -1; break;
        case 'M': unit = in_time ? 60000 : -1; break; /* months (no T) are not a fixed length */
        case 'S': unit = in_time ? 1000 : -1; break;
        default: unit = -1;
        }
        /* a component longer than the limit alone is refused before it is
         * multiplied: 12 digits times a day's ms do not fit in int64 */
        if (unit < 0 || whole > DURATION_MAX_MS / unit)
            return -1;
        total += whole * unit + (*s == 'S' ? frac_ms : 0);
        if (total > DURATION_MAX_MS)
            return -1;
        any = true;
        s++;
    }
    if (!any)
        return -1;
    *ms = total;
    return 0;
}

bool beckn_domain_supported(const char *d)
{
    return strcmp(d, BECKN_DOMAIN_INTERDISCOM) == 0 || strcmp(d, BECKN_DOMAIN_INTRADISCOM) == 0;
}

static int field(const json_t *ctx, const char *name, char *out, size_t cap, bool required,
                 struct beckn_nack *n)
{
    json_t *v = json_object_get(ctx, name);
    out[0] = '\0';
    if (!v || json_is_null(v))
        return required ? nack(n, 400, "30000", name, "context.%s is required", name) : 0;
    if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) >= cap)
        return nack(n, 400, "30000", name, "context.%s must be a string of 1 to %zu characters",
                    name, cap - 1);
    memcpy(out, json_string_value(v), json_string_length(v) + 1);
    return 0;
}

int beckn_context_read(const json_t *root, struct beckn_context *c, struct beckn_nack *n)
{
    memset(c, 0, sizeof *c);
    const json_t *ctx = json_object_get(root, "context");
    if (!json_is_object(ctx))
        return nack(n, 400, "30000", "context", "the message has no context object");
    if (field(ctx, "domain", c->domain, sizeof c->domain, true, n) ||
        field(ctx, "version", c->version, sizeof c->version, true, n) ||
        field(ctx, "action", c->action, sizeof c->action, true, n) ||
        field(ctx, "bap_id", c->bap_id, sizeof c->bap_id, true, n) ||
        field(ctx, "bap_uri", c->bap_uri, sizeof c->bap_uri, true, n) ||
        field(ctx, "bpp_id", c->bpp_id, sizeof c->bpp_id, false, n) ||
        field(ctx, "bpp_uri", c->bpp_uri, sizeof c->bpp_uri, false, n) ||
        field(ctx, "transaction_id", c->transaction_id, sizeof c->transaction_id, true, n) ||
        field(ctx, "message_id", c->message_id, sizeof c->message_id, true, n) ||
        field(ctx, "timestamp", c->timestamp, sizeof c->timestamp, true, n))
        goto prefix;
    char ttl[32];
    if (field(ctx, "ttl", ttl, sizeof ttl, false, n))
        goto prefix;
    if (p2p_time_parse(c->timestamp, &c->timestamp_ms))
        return nack(n, 400, "30000", "context.timestamp",
                    "context.timestamp must be an RFC 3339 UTC time ending in Z");
    if (ttl[0]) {
        if (beckn_duration_ms(ttl, &c->ttl_ms))
            return nack(n, 400, "30000", "context.ttl",
                        "context.ttl must be an ISO 8601 duration such as PT30S");
        c->has_ttl = true;
    }
    return 0;
prefix: /* field() names the key alone: make it a path */
    {
        char key[64];
        snprintf(key, sizeof key, "%s", n->paths);
        snprintf(n->paths, sizeof n->paths, "context.%s", key);
    }
    return -1;
}

static bool http_url(const char *u)
{
    return strncmp(u, "https://", 8) == 0 || strncmp(u, "http://", 7) == 0;
}

int beckn_context_check(const struct beckn_context *c, const char *endpoint, const char *our_id,
                        enum beckn_role role, int64_t now, int64_t skew, struct beckn_nack *n)
{
    if (strcmp(c->action, endpoint) != 0)
        return nack(n, 400, "30000", "context.action",
                    "context.action '%s' does not match the endpoint '%s'", c->action, endpoint);
    if (strcmp(c->version, BECKN_VERSION) != 0)
        return nack(n, 400, "50006", "context.version", "version %s is not supported (use %s)",
                    c->version, BECKN_VERSION);
    if (!beckn_domain_supported(c->domain))
        return nack(n, 400, "50005", "context.domain",
                    "domain %s is not supported (use %s or %s)", c->domain,
                    BECKN_DOMAIN_INTERDISCOM, BECKN_DOMAIN_INTRADISCOM);
    if (!http_url(c->bap_uri) || (c->bpp_uri[0] && !http_url(c->bpp_uri)))
        return nack(n, 400, "30000", http_url(c->bap_uri) ? "context.bpp_uri" : "context.bap_uri",
                    "subscriber URIs must be http(s) URLs");
    const char *addressee = role == BECKN_AS_BPP ? c->bpp_id : c->bap_id;
    if (strcmp(addressee, our_id) != 0)
        return nack(n, 400, "30000", role == BECKN_AS_BPP ? "context.bpp_id" : "context.bap_id",
                    "this message is addressed to '%s', not to us (%s)", addressee, our_id);
    if (c->timestamp_ms > now + skew)
        return nack(n, 400, "30000", "context.timestamp", "context.timestamp is in the future");
    if (c->has_ttl && c->timestamp_ms + c->ttl_ms < now)
        return nack(n, 400, "30000", "context.ttl", "the message expired (timestamp + ttl is past)");
    return 0;
}

static char *dump(json_t *doc)
{
    char *s = doc ? json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(doc);
    return s;
}

char *beckn_ack_body(void)
{
    return dump(json_pack("{s:{s:{s:s}}}", "message", "ack", "status", "ACK"));
}

char *beckn_nack_body(const struct beckn_nack *n)
{
    /* a message cut mid-character by truncation is not valid UTF-8: say less */
    json_t *msg = json_string(n->message);
    json_t *paths = json_string(n->paths);
    if (!msg)
        msg = json_string("the request was refused");
    if (!paths)
        paths = json_string("");
    return dump(json_pack("{s:{s:{s:s}, s:{s:s, s:o, s:o}}}", "message", "ack", "status", "NACK",
                          "error", "code", n->code, "paths", paths, "message", msg));
}
