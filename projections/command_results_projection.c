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
 * consequences, never the answer. The answers of a batch go in one statement
 * that keeps the minimum, so the result depends neither on the order the
 * topics were read in nor on the batch boundaries. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "projections/projection.h"

/* $1: the batch's candidate answers [{c: command, o: outcome, t: ce_type,
 * s: subject, a: actor, e: event id, r: rank, n: n, v: event}, ...]. The best
 * of the batch per command, kept only if better than the stored one. */
static const char *ANSWERS =
    "insert into command_results as r (command_id, outcome, event_type, subject_id, actor_id, result,"
    " at_ms, event_id, answer_rank, event_n)"
    " select distinct on (x->>'c') x->>'c', x->>'o', x->>'t', nullif(x->>'s', ''), nullif(x->>'a', ''),"
    "  x->'v', (x->'v'->>'occurred_at_ms')::bigint, x->>'e', (x->>'r')::int, (x->>'n')::int"
    " from jsonb_array_elements($1::jsonb) x"
    " order by x->>'c', (x->>'r')::int, (x->>'n')::int"
    " on conflict (command_id) do update set outcome = excluded.outcome, event_type = excluded.event_type,"
    "  subject_id = excluded.subject_id, actor_id = excluded.actor_id, result = excluded.result,"
    "  at_ms = excluded.at_ms, event_id = excluded.event_id, answer_rank = excluded.answer_rank,"
    "  event_n = excluded.event_n"
    " where (excluded.answer_rank, excluded.event_n) < (r.answer_rank, r.event_n)";

static const struct command_results_kind kinds[] = {
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
    return projection_prepare(db, "command_answers", ANSWERS);
}

const struct command_results_kind *command_results_kind(const char *type)
{
    for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++)
        if (strcmp(kinds[i].type, type) == 0)
            return &kinds[i];
    return NULL;
}

const char *command_results_member(const json_t *value, const char *path)
{
    if (strncmp(path, "offer.", 6) == 0)
        return projection_str(json_object_get(value, "offer"), path + 6);
    return path[0] ? projection_str(value, path) : "";
}

void command_results_projection_apply(struct projection_context *c, const struct projected_event *e)
{
    const struct command_results_kind *k = command_results_kind(e->type);
    if (!k || !e->command_id[0])
        return;
    char type[128];
    snprintf(type, sizeof type, "energy.p2p.%s", e->type);
    json_t *answer = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:i, s:O}", "c", e->command_id, "o",
                               k->outcome, "t", type, "s", command_results_member(e->value, k->subject), "a",
                               command_results_member(e->value, k->actor), "e", e->event_id, "r", k->rank, "n",
                               e->event_n, "v", e->value);
    char *text = answer ? json_dumps(answer, JSON_COMPACT) : NULL;
    if (text)
        projection_array_add(c, ARRAY_ANSWERS, text);
    else
        c->pl->failed = true;
    free(text);
    json_decref(answer);
}

void command_results_projection_flush(struct projection_context *c)
{
    projection_array_send(c, ARRAY_ANSWERS, "command_answers");
}
