/* outgoing.h - what our discovery and BAP side send, and where.
 *
 * Purpose:    the settings of the discovery/BAP features (read once from the
 *             environment), and the context objects of the messages we
 *             originate (a new transaction, or a callback answering a
 *             received message).
 * Variables:  BECKN_NETWORK_ID (beckn:networkId of our items; default
 *             p2p-interdiscom-trading-pilot-network), BECKN_DOMAIN (the
 *             domain of what we originate; default the inter-discom domain),
 *             BECKN_CDS_URL (the CDS our buyers discover through and our
 *             catalog is published to, e.g. https://cds.example/beckn; unset:
 *             discover through our own /beckn, publish nowhere),
 *             BECKN_CDS_SUBSCRIBER_ID (if set, the only signer accepted for
 *             on_discover / on_catalog_publish answers of an external CDS),
 *             BECKN_BAP_WAIT_MS (how long our API waits for a callback,
 *             default 5000), BECKN_PUBLISH_POLL_MS (how often the publisher
 *             looks for changed offers, default 3000), BECKN_TTL (ttl of
 *             what we originate, default PT30S).
 * Guarantees: a malformed value is an error at load naming the variable.
 * Threading:  load once before threads start; read-only afterwards. */
#ifndef P2P_BECKN_OUTGOING_H
#define P2P_BECKN_OUTGOING_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gateway/beckn/message.h"
#include "gateway/beckn/node.h"

struct beckn_bap_settings {
    char network_id[128];
    char domain[96];
    char cds_url[512];          /* base of the CDS (…/beckn); our own URI if unset */
    bool external_cds;          /* BECKN_CDS_URL was set: publish our catalog there */
    char cds_subscriber_id[BECKN_ID_MAX];
    int64_t wait_ms;
    int64_t publish_poll_ms;
    char ttl[16];
};

/* Loads the settings (node must be loaded first: the CDS defaults to us).
 * Returns 0 or -1 with err naming the variable. */
int beckn_bap_settings_load(struct beckn_bap_settings *s, const struct beckn_node *node,
                            char *err, size_t errlen);

/* The context of a new message we originate as BAP/BPP: bpp_id/bpp_uri are
 * left out when NULL or empty. message_id is a new UUID (copied to
 * message_id_out[P2P_UUID_BUF] if not NULL). Returns a new reference or NULL. */
json_t *beckn_context_new(const struct beckn_bap_settings *s, const char *action,
                          const char *bap_id, const char *bap_uri, const char *bpp_id,
                          const char *bpp_uri, const char *transaction_id, int64_t now_ms,
                          char *message_id_out);

/* The context of our answer to a received message: its domain, ids, URIs
 * and transaction, with action, a new message_id and timestamp now. */
json_t *beckn_context_reply(const struct beckn_bap_settings *s, const struct beckn_context *req,
                            const char *action, int64_t now_ms);

/* {"context": ctx, "message": message} serialised with beckn_dumps (both
 * references stolen). NULL when out of memory. */
char *beckn_body(json_t *ctx, json_t *message);

/* base (trailing '/' dropped) + path into out[cap]; 0 or -1 if too long. */
int beckn_url_join(const char *base, const char *path, char *out, size_t cap);

#endif
