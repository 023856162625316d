/* Fold of the money read model (the fast path of accounts_projection.c):
 * `journal_entries`, `journal_postings` and `accounts`. Entries and postings
 * are written as they come; a balance is the sum of its postings, and an
 * account's updated_at_ms/last_event_id are those of its latest posting in
 * the order the journal was read (the engine's, per partition). */
#include <stdlib.h>
#include <string.h>

#include "projections/fold.h"

struct fold_account {
    const char *account;
    int64_t balance, updated_at_ms;
    const char *last_event_id;
};

static struct fold_account *account_of(struct fold *f, const char *name)
{
    struct fold_account *a = fold_map_get(&f->accounts, name);
    if (a)
        return a;
    a = fold_arena_alloc(&f->arena, sizeof *a);
    if (!a || !(a->account = fold_str(f, name)) || fold_map_put(&f->accounts, a->account, a))
        return NULL;
    return a;
}

int fold_accounts_event(struct fold *f, const struct projected_event *e)
{
    if (strcmp(e->type, "journal.entry.v1") != 0)
        return 0;
    const json_t *v = e->value, *x;
    struct copy_buf *eb = &f->entry_rows, *pb = &f->posting_rows;
    static const char *const cols[] = {"event_id", "command_id", "reason", "ref_id", "currency",
                                       "occurred_at_ms"};
    for (size_t i = 0; i < sizeof cols / sizeof *cols; i++)
        copy_member(eb, v, cols[i]);
    copy_end_row(eb);
    const char *event_id = NULL;
    int64_t at_ms = json_member_int(v, "occurred_at_ms");
    size_t n;
    json_array_foreach(json_object_get(v, "postings"), n, x)
    {
        const char *name = json_string_value(json_object_get(x, "account"));
        int64_t amount = json_member_int(x, "amount");
        copy_member(pb, v, "event_id");
        copy_int(pb, (int64_t)n);
        copy_member(pb, x, "account");
        copy_member(pb, x, "amount");
        copy_end_row(pb);
        struct fold_account *a = account_of(f, name ? name : "");
        if (!event_id)
            event_id = fold_member_str(f, v, "event_id");
        if (!a)
            return -1;
        a->balance += amount;
        a->updated_at_ms = at_ms;
        a->last_event_id = event_id;
    }
    return eb->oom || pb->oom ? -1 : 0;
}

static int account_encode(void *value, void *arg)
{
    const struct fold_account *a = value;
    struct copy_buf *b = arg;
    const char *colon = strchr(a->account, ':');
    copy_text(b, a->account);
    if (colon) {
        /* kind: split_part(account, ':', 1); owner: what follows the first ':' */
        char *kind = strndup(a->account, (size_t)(colon - a->account));
        if (!kind)
            return -1;
        copy_text(b, kind);
        copy_text(b, colon + 1);
        free(kind);
    } else {
        copy_text(b, a->account);
        copy_null(b);
    }
    copy_int(b, a->balance);
    copy_int(b, a->updated_at_ms);
    copy_text(b, a->last_event_id);
    copy_end_row(b);
    return b->oom ? -1 : 0;
}

int fold_accounts_write(struct fold *f, PGconn *db, const char *schema, char *err, size_t errlen)
{
    struct copy_buf b = {0};
    fold_map_each(&f->accounts, account_encode, &b);
    int rc = fold_copy(db, schema, "journal_entries", "(event_id, command_id, reason, ref_id, currency, at_ms)",
                       &f->entry_rows, err, errlen) ||
                     fold_copy(db, schema, "journal_postings", "(event_id, n, account, amount)", &f->posting_rows,
                               err, errlen) ||
                     fold_copy(db, schema, "accounts",
                               "(account, kind, owner, balance, updated_at_ms, last_event_id)", &b, err, errlen)
                 ? -1
                 : 0;
    copy_free(&b);
    return rc;
}
