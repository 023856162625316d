/* The decision waiter: lets a request thread that appended a command wait for
 * the engine's answer to it. One consumer thread reads the engine's output
 * topics (order-events, offer-events, participant-events, journal) with
 * read_committed, assigned from their ends at start (no group join), and hands
 * each record whose ce_correlationid is a waiting command's id and whose type
 * is one of the waiter's outcomes to that waiter.
 *
 * Use: decisions_expect() BEFORE appending the command (so its answer cannot
 * pass unseen), then decisions_await(). A waiter lives on the caller's stack;
 * after decisions_await()/decisions_forget() returns, the consumer no longer
 * touches it. */
#ifndef P2P_GATEWAY_DECISIONS_H
#define P2P_GATEWAY_DECISIONS_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/p2p_config.h"

#define DECISION_ID_BUF 65
#define DECISION_TYPE_BUF 96

struct decision {
    /* Set by decisions_expect. */
    char command_id[DECISION_ID_BUF];
    const char *const *outcomes; /* ce_types after "energy.p2p.", NULL-terminated */
    const char *match_field;     /* optional: for non-rejection outcomes, the event's */
    const char *match_value;     /* string field match_field must equal match_value */
    /* Set by the consumer when decided. */
    bool done;
    char type[DECISION_TYPE_BUF]; /* the decisive event's ce_type after "energy.p2p." */
    char *value;                  /* its JSON value (malloc'd; decision_release frees) */
    pthread_cond_t cv;
    struct decision *next;
};

/* Creates the consumer, makes sure the topics exist, assigns them at their
 * current ends and starts the consumer thread. Returns 0 or -1 with err. */
int decisions_start(const struct p2p_config *cfg, char *err, size_t errlen);
void decisions_stop(void);

/* Registers d as waiting for the answer to command_id. outcomes must outlive
 * the wait (use static arrays). A command.rejected.v1 answer always ends the
 * wait when listed in outcomes. */
void decisions_expect(struct decision *d, const char *command_id, const char *const *outcomes,
                      const char *match_field, const char *match_value);

/* Waits up to timeout_ms. Returns true when decided (d->type, d->value set),
 * false on timeout. Unregisters d in both cases. */
bool decisions_await(struct decision *d, int timeout_ms);

/* Unregisters d without waiting (the command could not be appended). */
void decisions_forget(struct decision *d);

/* Frees what the consumer stored in d. */
void decision_release(struct decision *d);

/* P2P_DECISION_WAIT_MS (default 3000), read by decisions_start. */
int decisions_wait_ms(void);

#endif
