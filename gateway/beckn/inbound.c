/* inbound.c - receive pipeline of the Beckn endpoints (inbound.h). */
#include "gateway/beckn/inbound.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/p2p_json.h"
#include "common/p2p_log.h"
#include "common/p2p_time.h"
#include "gateway/beckn/replay.h"
#include "gateway/metrics.h"
#include "gateway/pg_pool.h"

#define PG_WAIT_MS 2000

static int send_body(struct mg_connection *c, int status, const char *body,
                     const char *www_authenticate)
{
    char n[24];
    size_t len = strlen(body);
    snprintf(n, sizeof n, "%zu", len);
    mg_response_header_start(c, status);
    mg_response_header_add(c, "Content-Type", "application/json", -1);
    mg_response_header_add(c, "Content-Length", n, -1);
    mg_response_header_add(c, "Cache-Control", "no-store", -1);
    if (www_authenticate)
        mg_response_header_add(c, "WWW-Authenticate", www_authenticate, -1);
    mg_response_header_send(c);
    mg_write(c, body, len);
    metrics_count_response(status);
    return status;
}

int beckn_reply_ack(struct mg_connection *c)
{
    char *body = beckn_ack_body();
    if (!body)
        return send_body(c, 200, "{\"message\":{\"ack\":{\"status\":\"ACK\"}}}", NULL);
    send_body(c, 200, body, NULL);
    free(body);
    return 200;
}

int beckn_reply_nack(struct mg_connection *c, const struct beckn_node *node,
                     const struct beckn_nack *n)
{
    char realm[BECKN_ID_MAX + 96];
    const char *who = node && node->configured ? node->key.subscriber_id : "p2p";
    snprintf(realm, sizeof realm, "Signature realm=\"%s\",headers=\"%s\"", who,
             BECKN_HEADERS_VALUE);
    char *body = beckn_nack_body(n);
    if (!body)
        return send_body(c, 500, "{\"message\":{\"ack\":{\"status\":\"NACK\"}}}", NULL);
    send_body(c, n->http_status, body, n->http_status == 401 ? realm : NULL);
    free(body);
    return n->http_status;
}

int beckn_reply_nackf(struct mg_connection *c, const struct beckn_node *node, int status,
                      const char *code, const char *paths, const char *fmt, ...)
{
    struct beckn_nack n;
    va_list ap;
    n.http_status = status;
    snprintf(n.code, sizeof n.code, "%s", code);
    snprintf(n.paths, sizeof n.paths, "%s", paths ? paths : "");
    va_start(ap, fmt);
    vsnprintf(n.message, sizeof n.message, fmt, ap);
    va_end(ap);
    return beckn_reply_nack(c, node, &n);
}

/* Reads the whole body, at most cap bytes. Returns 0, or the NACK's status. */
static int read_body(struct mg_connection *c, const struct beckn_node *node, int64_t cap,
                     struct beckn_inbound *in)
{
    const struct mg_request_info *ri = mg_get_request_info(c);
    if (ri->content_length > cap)
        return beckn_reply_nackf(c, node, 413, "30000", "body",
                                 "the body has %lld bytes; the limit is %lld",
                                 ri->content_length, (long long)cap);
    size_t want = ri->content_length >= 0 ? (size_t)ri->content_length : (size_t)cap + 1;
    char *buf = malloc(want + 1);
    if (!buf)
        return beckn_reply_nackf(c, node, 503, "50000", "", "out of memory, retry later");
    size_t got = 0;
    while (got < want) {
        int n = mg_read(c, buf + got, want - got);
        if (n < 0) {
            free(buf);
            return beckn_reply_nackf(c, node, 400, "30000", "body", "the body could not be read");
        }
        if (n == 0)
            break;
        got += (size_t)n;
    }
    if ((int64_t)got > cap) {
        free(buf);
        return beckn_reply_nackf(c, node, 413, "30000", "body",
                                 "the body exceeds the limit of %lld bytes", (long long)cap);
    }
    buf[got] = '\0';
    in->body = buf;
    in->len = got;
    return 0;
}

static const char *auth_code(enum beckn_auth_error e)
{
    switch (e) {
    case BECKN_AUTH_MALFORMED:
    case BECKN_AUTH_BAD_SIGNATURE: return "60001";
    case BECKN_AUTH_EXPIRED:
    case BECKN_AUTH_NOT_YET_VALID: return "60002";
    case BECKN_AUTH_KEY_NOT_FOUND: return "60003";
    default: return "60000";
    }
}

static int authenticate(struct mg_connection *c, const struct beckn_node *node,
                        struct beckn_inbound *in)
{
    const char *header = mg_get_header(c, "Authorization");
    const char *why = NULL;
    enum beckn_auth_error e =
        beckn_authenticate(node->registry, header, in->body, in->len, in->received_ms / 1000,
                           node->skew_s, &in->auth, &in->peer, &why);
    if (e == BECKN_AUTH_OK)
        return 0;
    if (e == BECKN_AUTH_REGISTRY_UNAVAILABLE)
        return beckn_reply_nackf(c, node, 503, "50000", "Authorization",
                                 "%s: the registry could not be asked, retry later",
                                 beckn_auth_code(e));
    return beckn_reply_nackf(c, node, beckn_auth_http_status(e), auth_code(e), "Authorization",
                             "%s: %s%s%s", beckn_auth_code(e), beckn_auth_message(e),
                             why ? " - " : "", why ? why : "");
}

/* The context checks and the signer binding of the endpoint's role. */
static int check_context(struct mg_connection *c, const struct beckn_node *node,
                         const char *action, enum beckn_inbound_role role,
                         struct beckn_inbound *in)
{
    struct beckn_nack n;
    const struct beckn_context *x = &in->ctx;
    const char *our = node->key.subscriber_id;
    enum beckn_role side = BECKN_AS_BPP;
    const char *signer = x->bap_id;
    switch (role) {
    case BECKN_IN_BPP: break;
    case BECKN_IN_BAP_CALLBACK: side = BECKN_AS_BAP; signer = x->bpp_id; break;
    case BECKN_IN_CDS_DISCOVER: our = x->bpp_id; break; /* a CDS is neither bap nor bpp */
    case BECKN_IN_CDS_PUBLISH: side = BECKN_AS_BAP; our = x->bap_id; signer = x->bpp_id; break;
    case BECKN_IN_CDS_ON_DISCOVER: side = BECKN_AS_BAP; signer = NULL; break;
    case BECKN_IN_CDS_ON_PUBLISH: signer = NULL; break;
    }
    if (beckn_context_check(x, action, our, side, in->received_ms, node->skew_s * 1000, &n))
        return beckn_reply_nack(c, node, &n);
    if (!signer)
        return 0; /* CDS answers: the handler binds the signer to its transaction */
    enum beckn_auth_error e = beckn_auth_check_signer(&in->auth, signer);
    if (e != BECKN_AUTH_OK)
        return beckn_reply_nackf(c, node, 401, "60000", signer == x->bap_id ? "context.bap_id"
                                                                           : "context.bpp_id",
                                 "%s: the message is signed by '%s', not by '%s'",
                                 beckn_auth_code(e), in->auth.subscriber_id, signer);
    return 0;
}

/* Length of "scheme://host[:port]" at the start of url (0 if not http(s)). */
static size_t origin_len(const char *url)
{
    size_t skip = strncmp(url, "https://", 8) == 0 ? 8 : strncmp(url, "http://", 7) == 0 ? 7 : 0;
    if (!skip)
        return 0;
    return skip + strcspn(url + skip, "/?#");
}

/* Callbacks go to the sender's subscriber URI: when the registry knows the
 * signer's URL, the URI in the context must be on the same origin (else a
 * signed message could point our callbacks at any address). */
static int check_callback_origin(struct mg_connection *c, const struct beckn_node *node,
                                 enum beckn_inbound_role role, const struct beckn_inbound *in)
{
    /* A CDS's answers carry our own context URIs and send nothing anywhere:
     * the handler binds them to the transaction we sent (beckn-bap). */
    if (role == BECKN_IN_CDS_ON_DISCOVER || role == BECKN_IN_CDS_ON_PUBLISH)
        return 0;
    const char *uri = role == BECKN_IN_BAP_CALLBACK || role == BECKN_IN_CDS_PUBLISH
                          ? in->ctx.bpp_uri
                          : in->ctx.bap_uri;
    const char *field = uri == in->ctx.bap_uri ? "context.bap_uri" : "context.bpp_uri";
    size_t want = origin_len(in->peer.url), got = origin_len(uri);
    if (!in->peer.url[0] || !uri[0] ||
        (want && want == got && strncasecmp(uri, in->peer.url, want) == 0))
        return 0;
    return beckn_reply_nackf(c, node, 401, "60000", field,
                             "AUT_UNAUTHORIZED_ACTION: %s is not on the subscriber URL the "
                             "registry holds for %s", field + 8, in->auth.subscriber_id);
}

static int64_t max64(int64_t a, int64_t b) { return a > b ? a : b; }

/* a + b for b >= 0, at most INT64_MAX: a signature's expires is any 18-digit
 * number, and its ms must not overflow into a short retention. */
static int64_t add_saturated(int64_t a, int64_t b) { return a > INT64_MAX - b ? INT64_MAX : a + b; }

static int64_t seconds_to_ms_saturated(int64_t s)
{
    return s > INT64_MAX / 1000 ? INT64_MAX : s * 1000;
}

static int check_replay(struct mg_connection *c, const struct beckn_node *node,
                        struct beckn_inbound *in)
{
    const struct beckn_context *x = &in->ctx;
    int64_t skew_ms = node->skew_s * 1000;
    int64_t until = max64(add_saturated(seconds_to_ms_saturated(in->auth.expires), skew_ms),
                          in->received_ms + node->replay_retention_ms);
    if (x->has_ttl)
        until = max64(until, x->timestamp_ms + x->ttl_ms + skew_ms);
    PGconn *db = pg_pool_get(PG_WAIT_MS);
    if (!db)
        return beckn_reply_nackf(c, node, 503, "50000", "",
                                 "PostgreSQL is unavailable, retry later");
    char err[256];
    enum beckn_replay_result r = beckn_replay_record(db, in->auth.subscriber_id, x->message_id,
                                                     x->action, x->transaction_id,
                                                     in->received_ms, until, err, sizeof err);
    pg_pool_put(db);
    if (r == BECKN_REPLAY_ERROR) {
        p2p_log(P2P_WARN, "beckn_replay_store_failed", "%s", err);
        return beckn_reply_nackf(c, node, 503, "50000", "",
                                 "PostgreSQL could not answer, retry later");
    }
    if (r == BECKN_REPLAY_SEEN)
        return beckn_reply_nackf(c, node, 409, "30000", "context.message_id",
                                 "message_id %s was already received from %s", x->message_id,
                                 in->auth.subscriber_id);
    return 0;
}

int beckn_inbound_receive(struct mg_connection *c, const struct beckn_node *node,
                          const char *action, enum beckn_inbound_role role, int64_t body_cap,
                          struct beckn_inbound *in)
{
    memset(in, 0, sizeof *in);
    in->received_ms = p2p_now_ms();
    if (strcmp(mg_get_request_info(c)->request_method, "POST") != 0)
        return beckn_reply_nackf(c, node, 405, "30000", "", "use POST");
    if (!node || !node->configured)
        return beckn_reply_nackf(c, node, 503, "50000", "",
                                 "Beckn is not configured on this platform");
    int status = read_body(c, node, body_cap, in);
    if (!status)
        status = authenticate(c, node, in);
    if (!status) {
        struct p2p_violation v;
        in->root = p2p_json_parse_object(in->body, in->len, &v);
        if (!in->root)
            status = beckn_reply_nackf(c, node, 400, "30000", "body", "%s", v.message);
    }
    if (!status) {
        struct beckn_nack n;
        if (beckn_context_read(in->root, &in->ctx, &n))
            status = beckn_reply_nack(c, node, &n);
    }
    if (!status)
        status = check_context(c, node, action, role, in);
    if (!status)
        status = check_callback_origin(c, node, role, in);
    if (!status)
        status = check_replay(c, node, in);
    if (status)
        beckn_inbound_release(in);
    return status;
}

void beckn_inbound_release(struct beckn_inbound *in)
{
    free(in->body);
    json_decref(in->root);
    in->body = NULL;
    in->root = NULL;
    in->len = 0;
}
