/* JSON wire format of the offer command and the offer events (schemas/ holds
 * their JSON Schemas; docs/topics.md describes them). The gateway encodes
 * commands, the engine decodes commands and encodes events, the projector
 * decodes events: one definition for all three. Encoders return malloc'd
 * NUL-terminated JSON owned by the caller (free()), or NULL on out-of-memory. */
#ifndef P2P_OFFER_CODEC_H
#define P2P_OFFER_CODEC_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "common/p2p_violation.h"
#include "engine/core/offer.h"

#define CE_OFFER_SUBMIT "energy.p2p.offer.submit.v1"
#define CE_OFFER_LISTED "energy.p2p.offer.listed.v1"
#define CE_OFFER_REJECTED "energy.p2p.offer.rejected.v1"
#define CE_OFFER_WITHDRAWN "energy.p2p.offer.withdrawn.v1"
#define CE_OFFER_EXPIRED "energy.p2p.offer.expired.v1"

struct offer_command {
    char command_id[65];
    char market[65];
    int64_t issued_at_ms;
    struct offer_terms terms;
};

/* Where an event came from: its id, its cause, and the input record's position. */
struct event_origin {
    char event_id[160];
    char command_id[65];
    char market[65];
    int64_t occurred_at_ms;
    char topic[128];
    int32_t partition;
    int64_t offset;
};

enum offer_event_kind { OFFER_EVENT_LISTED, OFFER_EVENT_REJECTED, OFFER_EVENT_WITHDRAWN, OFFER_EVENT_EXPIRED };

struct offer_event {
    enum offer_event_kind kind;
    struct event_origin origin;
    struct offer_terms terms;    /* listed: all terms; rejected: offer_id and seller_id */
    int64_t remaining_wh;        /* listed, withdrawn, expired: open energy after the event */
    struct p2p_violation reason; /* rejected only */
};

char *offer_command_encode(const struct offer_command *cmd);

/* Reads offer terms from a command value or an event's "offer" object. */
int offer_terms_from_json(const json_t *obj, struct offer_terms *t, struct p2p_violation *v);

/* The JSON objects of the offer events (new references), for encoders that
 * add fields (the engine adds its hash chain). */
json_t *offer_listed_json(const struct event_origin *o, const struct offer_terms *t);
json_t *offer_rejected_json(const struct event_origin *o, const char *offer_id,
                            const char *seller_id, const struct p2p_violation *reason);
json_t *event_origin_json(const struct event_origin *o);

/* Decodes an offer.submit.v1 value. Returns 0, or -1 with *v set; on failure
 * cmd still holds whatever ids could be read (empty strings otherwise). */
int offer_command_decode(const char *value, size_t len, struct offer_command *cmd,
                         struct p2p_violation *v);

char *offer_listed_encode(const struct event_origin *o, const struct offer_terms *t);
char *offer_rejected_encode(const struct event_origin *o, const char *offer_id,
                            const char *seller_id, const struct p2p_violation *reason);

/* Decodes an offer.listed/rejected/withdrawn/expired.v1 value (by ce_type).
 * Returns 0, or -1 with *v set. */
int offer_event_decode(const char *ce_type, const char *value, size_t len, struct offer_event *ev,
                       struct p2p_violation *v);

#endif
