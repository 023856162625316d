/* The command_results read model: the engine's answer to each command, for a
 * client whose wait for the decision timed out (GET /api/commands/{id}).
 *
 * A command's events arrive through several topics, so "the first event" is
 * not well defined in projection order. The answer is the command's event of
 * the best rank, and among those the earliest in the engine (smallest n of
 * its event id "{topic}/{partition}/{offset}/{n}"; all events of one command
 * share the prefix). Rank 1: events that decide the outcome (listed,
 * rejected, quoted, confirmed, cancelled, settled delivery, updated
 * participant, order.paid); 2: a reservation or withdrawal, superseded by a
 * confirmation of the same command (a one-step buy); 3: a journal entry alone
 * (deposits, withdrawals). Expiries, fills, trust changes and settlements are
 * consequences, never the answer. The upsert keeps the minimum, so the result
 * does not depend on the order the topics were read in. */
#include <stdio.h>
#include <string.h>

#include "projections/projection.h"

/* $1 event, $2 command_id, $3 outcome, $4 ce_type, $5 subject, $6 actor,
 * $7 event_id, $8 rank, $9 n */
static const char *ANSWER =
    "insert into command_results as r (command_id, outcome, event_type, subject_id, actor_id, result,"
    " at_ms, event_id, answer_rank, event_n)"
    " values ($2, $3, $4, nullif($5, ''), nullif($6, ''), $1::jsonb, ($1::jsonb->>'occurred_at_ms')::bigint,"
    "  $7, $8::int, $9::int)"
    " on conflict (command_id) do update set outcome = excluded.outcome, event_type = excluded.event_type,"
    "  subject_id = excluded.subject_id, actor_id = excluded.actor_id, result = excluded.result,"
    "  at_ms = excluded.at_ms, event_id = excluded.event_id, answer_rank = excluded.answer_rank,"
    "  event_n = excluded.event_n"
    " where (excluded.answer_rank, excluded.event_n) < (r.answer_rank, r.event_n)";

struct answer_kind {
    const char *type;
    int rank;
    const char *outcome;
    const char *subject; /* member naming the subject ("offer." = inside "offer") */
    const char *actor;
};

static const struct answer_kind kinds[] = {
    {"offer.listed.v1", 1, "accepted", "offer.offer_id", "offer.seller_id"},
    {"offer.rejected.v1", 1, "rejected", "offer_id", "seller_id"},
    {"order.quoted.v1", 1, "accepted", "order_id", "buyer_id"},
    {"order.confirmed.v1", 1, "accepted", "order_id", "buyer_id"},
    {"order.rejected.v1", 1, "rejected", "subject_id", "actor_id"},
    {"order.cancelled.v1", 1, "accepted", "order_id", "buyer_id"},
    {"order.paid.v1", 1, "accepted", "order_id", "payer_id"},
    {"fill.cancelled.v1", 1, "accepted", "fill_id", "seller_id"},
    {"delivery.settled.v1", 1, "accepted", "fill_id", "seller_id"},
    {"participant.updated.v1", 1, "accepted", "participant_id", "participant_id"},
    {"command.rejected.v1", 1, "rejected", "subject_id", "actor_id"},
    {"order.reserved.v1", 2, "accepted", "order_id", "buyer_id"},
    {"offer.withdrawn.v1", 2, "accepted", "offer_id", "seller_id"},
    {"journal.entry.v1", 3, "accepted", "ref_id", ""},
};

int command_results_projection_prepare(PGconn *db)
{
    return projection_prepare(db, "command_answer", ANSWER);
}

static const char *member(const json_t *value, const char *path)
{
    if (strncmp(path, "offer.", 6) == 0)
        return projection_str(json_object_get(value, "offer"), path + 6);
    return path[0] ? projection_str(value, path) : "";
}

void command_results_projection_apply(const struct projection_context *c,
                                      const struct projected_event *e)
{
    const struct answer_kind *k = NULL;
    for (size_t i = 0; i < sizeof kinds / sizeof *kinds && !k; i++)
        if (strcmp(kinds[i].type, e->type) == 0)
            k = &kinds[i];
    if (!k || !e->command_id[0])
        return;
    char type[128], rank[8], n[16];
    snprintf(type, sizeof type, "energy.p2p.%s", e->type);
    snprintf(rank, sizeof rank, "%d", k->rank);
    snprintf(n, sizeof n, "%d", e->event_n);
    const char *values[9] = {e->json,
                             e->command_id,
                             k->outcome,
                             type,
                             member(e->value, k->subject),
                             member(e->value, k->actor),
                             e->event_id,
                             rank,
                             n};
    pipeline_send(c->pl, "command_answer", 9, values, -1, "command_answer");
}
