/* replay.h - refusing a Beckn message_id seen before (beckn.md §4.5 step 8).
 *
 * Purpose:    remember every (signer, message_id) received in PostgreSQL
 *             (table beckn_inbound_messages, migration 003) until it can no
 *             longer be accepted anyway, and say whether a new arrival is a
 *             replay.
 * Guarantees: atomic: of two concurrent arrivals of the same pair exactly one
 *             is new (one INSERT … ON CONFLICT statement). A remembered id
 *             whose expires_at_ms has passed may be used again (its message
 *             would fail the signature's expiry or the ttl check first).
 *             Expired rows are deleted by beckn_replay_purge.
 */
#ifndef P2P_BECKN_REPLAY_H
#define P2P_BECKN_REPLAY_H

#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>

enum beckn_replay_result { BECKN_REPLAY_NEW = 0, BECKN_REPLAY_SEEN = 1, BECKN_REPLAY_ERROR = -1 };

/* Records the message; BECKN_REPLAY_SEEN if the pair is remembered and not
 * expired, BECKN_REPLAY_ERROR (err filled) if PostgreSQL failed. */
enum beckn_replay_result beckn_replay_record(PGconn *db, const char *sender,
                                             const char *message_id, const char *action,
                                             const char *transaction_id, int64_t now_ms,
                                             int64_t expires_at_ms, char *err, size_t errlen);

/* Forgets one message (when the request it carried could not be accepted
 * for a passing reason, so the sender may retry with the same id).
 * Returns 0 or -1. */
int beckn_replay_forget(PGconn *db, const char *sender, const char *message_id);

/* Deletes rows expired before now_ms. Returns the number deleted or -1. */
long beckn_replay_purge(PGconn *db, int64_t now_ms);

#endif
