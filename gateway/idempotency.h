/* The record of every command the client APIs append (table
 * public.api_commands, migration 005): its issuer, and for requests with an
 * Idempotency-Key the answer given, so that a retry with the same key from the
 * same user on the same endpoint and with the same body gets the same status
 * and body without a second command. The row is claimed before the command is
 * appended: of two concurrent requests with one key exactly one appends. */
#ifndef P2P_GATEWAY_IDEMPOTENCY_H
#define P2P_GATEWAY_IDEMPOTENCY_H

#include <stddef.h>

#define IDEMPOTENCY_KEY_MAX 128
#define REQUEST_HASH_BUF 65 /* 32 bytes in hex + NUL */

enum claim_result {
    CLAIM_NEW,         /* the row is ours: append the command */
    CLAIM_REPLAY,      /* the key was answered before: prior_status/prior_body */
    CLAIM_IN_FLIGHT,   /* the key's first request has not been answered yet: prior_command_id */
    CLAIM_KEY_REUSED,  /* the key was used with another body */
    CLAIM_UNAVAILABLE, /* PostgreSQL could not answer */
};

struct claim {
    int prior_status;
    char *prior_body; /* malloc'd (CLAIM_REPLAY); claim_release frees */
    char prior_command_id[65];
};

/* Hex BLAKE2b-256 of the bytes (callers hash the canonical JSON of the body). */
void request_hash(const char *bytes, size_t len, char out[REQUEST_HASH_BUF]);

/* Records command_id as issued by `issuer` on `endpoint`; with a key (may be
 * NULL) the (issuer, endpoint, key) triple is claimed. */
enum claim_result idempotency_claim(const char *issuer, const char *endpoint, const char *key,
                                    const char *hash, const char *command_id, struct claim *out);

/* Stores the answer of a claimed command. Returns 0 or -1. */
int idempotency_complete(const char *command_id, int status, const char *body);

/* Deletes the row of a command that was never appended (so a retry may). */
int idempotency_abandon(const char *command_id);

/* 1 when command_id was issued by issuer, 0 when not (or unknown), -1 when
 * PostgreSQL could not answer. */
int idempotency_issued_by(const char *command_id, const char *issuer);

void claim_release(struct claim *c);

#endif
