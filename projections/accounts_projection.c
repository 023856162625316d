/* The money read model: `journal_entries`, `journal_postings` and the
 * balance of every account in `accounts`, from journal.entry (topic journal,
 * in the engine's order). A balance is the sum of its postings, so the sum of
 * all balances is zero after every entry (the rebuild checks it). The entries
 * of a batch are applied by one statement: balances add up per account, and
 * an account's updated_at_ms/last_event_id are those of its latest posting in
 * topic order, whatever the batch boundaries. */
#include <string.h>

#include "projections/projection.h"

static const char *JOURNAL_ENTRIES =
    "with e as (select v, ord from jsonb_array_elements($1::jsonb) with ordinality as a(v, ord)),"
    " j as (insert into journal_entries (event_id, command_id, reason, ref_id, currency, at_ms)"
    "  select v->>'event_id', v->>'command_id', v->>'reason', v->>'ref_id', v->>'currency',"
    "   (v->>'occurred_at_ms')::bigint from e),"
    " p as (select v->>'event_id' as event_id, (n - 1)::int as n, x->>'account' as account,"
    "   (x->>'amount')::bigint as amount, (v->>'occurred_at_ms')::bigint as at_ms, ord"
    "  from e, jsonb_array_elements(v->'postings') with ordinality as b(x, n)),"
    " jp as (insert into journal_postings (event_id, n, account, amount)"
    "  select event_id, n, account, amount from p)"
    " insert into accounts as a (account, kind, owner, balance, updated_at_ms, last_event_id)"
    " select account, split_part(account, ':', 1),"
    "  case when position(':' in account) > 0 then substr(account, position(':' in account) + 1) end,"
    "  sum(amount), (array_agg(at_ms order by ord desc))[1], (array_agg(event_id order by ord desc))[1]"
    " from p group by account"
    " on conflict (account) do update set balance = a.balance + excluded.balance,"
    "  updated_at_ms = excluded.updated_at_ms, last_event_id = excluded.last_event_id";

int accounts_projection_prepare(PGconn *db)
{
    return projection_prepare(db, "journal_entries", JOURNAL_ENTRIES);
}

void accounts_projection_apply(struct projection_context *c, const struct projected_event *e)
{
    if (strcmp(e->type, "journal.entry.v1") == 0)
        projection_array_add(c, ARRAY_JOURNAL, e->json);
}

void accounts_projection_flush(struct projection_context *c)
{
    projection_array_send(c, ARRAY_JOURNAL, "journal_entries");
}
