/* Fold of the command_results read model (the fast path of
 * command_results_projection.c): per command, its event of the best
 * (answer_rank, event_n), where the ranks and the outcome, subject and actor
 * of each event type are the live module's (command_results_kind). The kept
 * answer's event text is held outside the arena and freed when a better one
 * replaces it, so memory stays one event per command. An answer of rank 1
 * and n 0 cannot be beaten: its row is encoded at once into answer_rows,
 * which streams to PostgreSQL while the fold goes on (fold_stream), and
 * later events of its command are ignored. The table is the largest (the
 * events' JSON), so the rest is written in two halves at once. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "projections/fold.h"

struct fold_answer {
    const char *command_id;
    const struct command_results_kind *kind;
    char *subject, *actor;      /* NULL when empty (nullif) */
    char *result;               /* the event's value (JSON text) */
    char *event_id;
    struct nint at_ms;
    int event_n;
    bool written; /* its (1, 0) answer is already in fold.answer_rows */
};

/* One command_results row. */
static void encode_row(struct copy_buf *b, const char *command_id, const struct command_results_kind *k,
                       const char *subject, const char *actor, const char *result, struct nint at_ms,
                       const char *event_id, int event_n)
{
    char type[128];
    snprintf(type, sizeof type, "energy.p2p.%s", k->type);
    copy_text(b, command_id);
    copy_text(b, k->outcome);
    copy_text(b, type);
    copy_text(b, subject && subject[0] ? subject : NULL);
    copy_text(b, actor && actor[0] ? actor : NULL);
    copy_text(b, result);
    copy_nint(b, at_ms);
    copy_text(b, event_id);
    copy_int(b, k->rank);
    copy_int(b, event_n);
    copy_end_row(b);
}

static char *dup_nonempty(const char *s, bool *oom)
{
    if (!s || !s[0])
        return NULL;
    char *d = strdup(s);
    if (!d)
        *oom = true;
    return d;
}

static void answer_clear(struct fold_answer *a)
{
    free(a->subject);
    free(a->actor);
    free(a->result);
    free(a->event_id);
    a->subject = a->actor = a->result = a->event_id = NULL;
}

int fold_commands_event(struct fold *f, const struct projected_event *e)
{
    const struct command_results_kind *k = command_results_kind(e->type);
    if (!k || !e->command_id[0])
        return 0;
    struct fold_answer *a = fold_map_get(&f->commands, e->command_id);
    if (!a) {
        a = fold_arena_alloc(&f->arena, sizeof *a);
        if (!a || !(a->command_id = fold_str(f, e->command_id)) || fold_map_put(&f->commands, a->command_id, a))
            return -1;
    } else if (a->written ||
               !(k->rank < a->kind->rank || (k->rank == a->kind->rank && e->event_n < a->event_n))) {
        return 0;
    }
    answer_clear(a);
    a->kind = k;
    if (k->rank == 1 && e->event_n <= 0) {
        /* nothing can rank better: the row is final, it goes out now */
        encode_row(&f->answer_rows, a->command_id, k, command_results_member(e->value, k->subject),
                   command_results_member(e->value, k->actor), e->json,
                   json_member_nint(e->value, "occurred_at_ms"), e->event_id, e->event_n);
        a->written = true;
        return f->answer_rows.oom ? -1 : 0;
    }
    bool oom = false;
    a->subject = dup_nonempty(command_results_member(e->value, k->subject), &oom);
    a->actor = dup_nonempty(command_results_member(e->value, k->actor), &oom);
    a->result = strdup(e->json);
    a->event_id = strdup(e->event_id);
    a->at_ms = json_member_nint(e->value, "occurred_at_ms");
    a->event_n = e->event_n;
    return oom || !a->result || !a->event_id ? -1 : 0;
}

#define COLUMNS                                                                                    \
    "(command_id, outcome, event_type, subject_id, actor_id, result, at_ms, event_id, answer_rank,"    \
    " event_n)"

struct answer_share {
    struct copy_buf b;
    size_t seen;
    int part, parts;
};

static int answer_encode(void *value, void *arg)
{
    const struct fold_answer *a = value;
    struct answer_share *share = arg;
    if (share->seen++ % (size_t)share->parts != (size_t)share->part)
        return 0;
    if (!a->written)
        encode_row(&share->b, a->command_id, a->kind, a->subject, a->actor, a->result, a->at_ms, a->event_id,
                   a->event_n);
    return share->b.oom ? -1 : 0;
}

static int answer_free(void *value, void *arg)
{
    (void)arg;
    answer_clear(value);
    return 0;
}

void fold_commands_free(struct fold *f)
{
    fold_map_each(&f->commands, answer_free, NULL);
}

/* Writes every `parts`-th answer from the `part`-th on. */
static int write_share(struct fold *f, PGconn *db, const char *schema, int part, int parts, char *err,
                       size_t errlen)
{
    struct answer_share share = {.part = part, .parts = parts};
    fold_map_each(&f->commands, answer_encode, &share);
    int rc = fold_copy(db, schema, "command_results", COLUMNS, &share.b, err, errlen);
    copy_free(&share.b);
    return rc;
}

int fold_commands_write_first_half(struct fold *f, PGconn *db, const char *schema, char *err, size_t errlen)
{
    /* ends the stream of the final answers (fold_stream) too */
    return fold_copy(db, schema, "command_results", COLUMNS, &f->answer_rows, err, errlen) ||
                   write_share(f, db, schema, 0, 2, err, errlen)
               ? -1
               : 0;
}

int fold_commands_write_second_half(struct fold *f, PGconn *db, const char *schema, char *err, size_t errlen)
{
    return write_share(f, db, schema, 1, 2, err, errlen);
}
