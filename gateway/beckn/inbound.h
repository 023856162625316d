/* inbound.h - the common receive pipeline of every Beckn endpoint.
 *
 * Purpose:    turn an HTTP request on /beckn/<action> into an authenticated,
 *             parsed, context-checked, first-time-seen message, or answer the
 *             peer with a NACK in the beckn-onix v1.3 shape (message.h).
 * Order:      method POST (405) → Beckn configured (503) → body read under the
 *             cap, exact bytes kept (413) → Authorization header against the
 *             registry (401 with WWW-Authenticate; 503 when the registry
 *             cannot be asked) → JSON object, depth-limited, valid UTF-8
 *             (400) → context read and beckn_context_check for the endpoint's
 *             action and role (400) → signer = context.bap_id (BPP endpoints,
 *             CDS discover) or context.bpp_id (BAP callbacks, catalog
 *             publish) (401) → the callback URI (bap_uri, or bpp_uri for
 *             callbacks and publish) on the origin of the signer's registry
 *             URL when the registry has one (401) → message_id not seen from
 *             this signer (409) —
 *             PostgreSQL down is 503.
 * Guarantees: on success the caller owns *in and must release it; nothing
 *             has been answered yet (the action handler ACKs or NACKs). On
 *             failure the NACK has been sent and *in holds nothing.
 *             NACK codes: 30000 bad request, 60000-60003 authentication
 *             (beckn.md §5.1) with the AUT_* name in the message, 50005/50006
 *             domain/version, 50000 unavailable.
 * Threading:  any civetweb thread; uses the gateway's PostgreSQL pool.
 */
#ifndef P2P_BECKN_INBOUND_H
#define P2P_BECKN_INBOUND_H

#include <civetweb.h>
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "gateway/beckn/message.h"
#include "gateway/beckn/node.h"
#include "gateway/beckn/registry.h"
#include "gateway/beckn/signature.h"

/* Who may send to the endpoint, which decides the context checks. */
enum beckn_inbound_role {
    BECKN_IN_BPP,          /* /beckn/{select,...}: addressed to our bpp_id, signed by bap_id */
    BECKN_IN_BAP_CALLBACK, /* /beckn/on_{...}: addressed to our bap_id, signed by bpp_id */
    BECKN_IN_CDS_DISCOVER, /* /beckn/discover: signed by bap_id */
    BECKN_IN_CDS_PUBLISH,  /* /beckn/catalog/publish: signed by bpp_id */
    /* Answers of a CDS (added by beckn-bap): a CDS is neither bap nor bpp, so
     * the signer is not bound to a context id here; the handler binds it to
     * the transaction it answers (and BECKN_CDS_SUBSCRIBER_ID if set). */
    BECKN_IN_CDS_ON_DISCOVER, /* /beckn/on_discover: addressed to our bap_id */
    BECKN_IN_CDS_ON_PUBLISH,  /* /beckn/catalog/on_publish: addressed to our bpp_id */
};

struct beckn_inbound {
    char *body;                /* exact bytes received, NUL-terminated (malloc'd) */
    size_t len;
    json_t *root;              /* the parsed body (owned) */
    struct beckn_context ctx;
    struct beckn_auth auth;    /* the verified signature header */
    struct beckn_peer peer;    /* the signer's registry record */
    int64_t received_ms;
};

/* Runs the pipeline for endpoint `action` (context.action it must carry).
 * Returns 0 with *in filled, or the HTTP status of the NACK it sent. */
int beckn_inbound_receive(struct mg_connection *c, const struct beckn_node *node,
                          const char *action, enum beckn_inbound_role role, int64_t body_cap,
                          struct beckn_inbound *in);

/* Frees what beckn_inbound_receive filled. Safe on a zeroed struct. */
void beckn_inbound_release(struct beckn_inbound *in);

/* Answers {"message":{"ack":{"status":"ACK"}}} with HTTP 200. Returns 200. */
int beckn_reply_ack(struct mg_connection *c);

/* Answers the NACK body with n->http_status (and WWW-Authenticate on 401,
 * realm = our subscriber id or "p2p"). Returns the status. */
int beckn_reply_nack(struct mg_connection *c, const struct beckn_node *node,
                     const struct beckn_nack *n);

/* Fills n and answers it. Returns the status. */
__attribute__((format(printf, 6, 7)))
int beckn_reply_nackf(struct mg_connection *c, const struct beckn_node *node, int status,
                      const char *code, const char *paths, const char *fmt, ...);

#endif
