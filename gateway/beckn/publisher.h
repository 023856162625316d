/* publisher.h - publishing our catalog to an external CDS (beckn.md §3.4
 * step 1, §3.7), run by p2p-beckn-worker.
 *
 * Purpose:    when BECKN_CDS_URL is set, send a signed catalog_publish of our
 *             catalog (catalog.h) to {BECKN_CDS_URL}/catalog/publish at start
 *             and again whenever it changed: every BECKN_PUBLISH_POLL_MS the
 *             catalog is rebuilt from the offers read model and its BLAKE2b
 *             digest compared with the last one the CDS ACKed. Offers that
 *             sold out, were withdrawn or passed gate closure disappear from
 *             the next publish; when none is left the catalog is published
 *             with "beckn:isActive": false (revocation).
 * Guarantees: every publish is recorded in beckn_catalog_publishes before it
 *             is sent (so the CDS's on_catalog_publish, which may overtake
 *             the synchronous answer, finds it) and then marked ACK, NACK or
 *             ERROR; a publish that was not ACKed is retried at the next
 *             poll. Each POST is bounded by the node's HTTP timeout.
 * Threading:  one thread with its own PostgreSQL connection and HTTP client. */
#ifndef P2P_BECKN_PUBLISHER_H
#define P2P_BECKN_PUBLISHER_H

#include <stddef.h>

#include "common/p2p_config.h"
#include "gateway/beckn/node.h"

struct beckn_publisher;

/* Starts the publisher thread if BECKN_CDS_URL is set (*out NULL if not).
 * cfg and node must outlive it. Returns 0, or -1 with err (bad settings,
 * thread not started). */
int beckn_publisher_start(const struct p2p_config *cfg, const struct beckn_node *node,
                          struct beckn_publisher **out, char *err, size_t errlen);

/* Stops and joins the thread (a publish in flight finishes first). NULL is fine. */
void beckn_publisher_stop(struct beckn_publisher *p);

#endif
