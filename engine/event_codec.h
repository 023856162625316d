/* Encoding the core's events for the wire: which topic, which CloudEvents
 * type, and the JSON value. Entity indices are turned back into ids through
 * the engine's tables. The JSON is built in a fixed key order, so the same
 * event always encodes to the same bytes (the hash chain and the audit rely
 * on it). */
#ifndef P2P_EVENT_CODEC_H
#define P2P_EVENT_CODEC_H

#include "engine/core/engine.h"
#include "engine/offer_codec.h"

enum output_topic {
    OUT_OFFER_EVENTS,
    OUT_ORDER_EVENTS,
    OUT_FILLS,
    OUT_TRUST,
    OUT_JOURNAL,
    OUT_PARTICIPANT_EVENTS,
    OUT_SEQUENCE,
};
#define OUTPUT_TOPIC_COUNT 7
extern const char *const output_topic_names[OUTPUT_TOPIC_COUNT];

struct encoded_event {
    enum output_topic topic;
    const char *ce_type;
    char *json; /* malloc'd; the caller frees */
};

/* Encodes ev (caused by a command of kind `cause`) with its origin and the
 * hex hash of the previous output. Returns 0, or -1 when out of memory. */
int event_encode(const struct engine *e, const struct event_sink *sink, const struct event *ev,
                 enum command_kind cause, const struct event_origin *origin,
                 const char *prev_hash, struct encoded_event *out);

#endif
