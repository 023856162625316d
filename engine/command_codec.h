/* Decoding engine commands from their wire form (JSON value + ce_type) into
 * struct command. One table maps every command type to its topic family and
 * decoder; docs/topics.md and schemas/commands/ describe the shapes. */
#ifndef P2P_COMMAND_CODEC_H
#define P2P_COMMAND_CODEC_H

#include <stddef.h>

#include "common/p2p_violation.h"
#include "engine/core/commands.h"

/* The input topics (suffixes after P2P_TOPIC_PREFIX), in a fixed order. */
enum input_topic { IN_OFFERS, IN_ORDERS, IN_PARTICIPANTS, IN_DELIVERIES, IN_TICKS };
#define INPUT_TOPIC_COUNT 5
extern const char *const input_topic_names[INPUT_TOPIC_COUNT];

/* Returns 0 with *cmd filled, or -1 with *v (and whatever ids could be read
 * in cmd, for the rejection). Unknown types give code "unknown_type". */
int command_decode(const char *ce_type, const char *value, size_t len, struct command *cmd,
                   char market[65], struct p2p_violation *v);

#endif
