/* The money read model: `journal_entries`, `journal_postings` and the
 * balance of every account in `accounts`, from journal.entry (topic journal,
 * in the engine's order). A balance is the sum of its postings, so the sum of
 * all balances is zero after every entry (the rebuild checks it). */
#include <string.h>

#include "projections/projection.h"

static const char *JOURNAL_ENTRY =
    "with e as (select $1::jsonb as v),"
    " j as (insert into journal_entries (event_id, command_id, reason, ref_id, currency, at_ms)"
    "  select v->>'event_id', v->>'command_id', v->>'reason', v->>'ref_id', v->>'currency',"
    "   (v->>'occurred_at_ms')::bigint from e),"
    " p as (select v->>'event_id' as event_id, (n - 1)::int as n, x->>'account' as account,"
    "   (x->>'amount')::bigint as amount, (v->>'occurred_at_ms')::bigint as at_ms"
    "  from e, jsonb_array_elements(v->'postings') with ordinality as a(x, n)),"
    " jp as (insert into journal_postings (event_id, n, account, amount)"
    "  select event_id, n, account, amount from p)"
    " insert into accounts as a (account, kind, owner, balance, updated_at_ms, last_event_id)"
    " select account, split_part(account, ':', 1),"
    "  case when position(':' in account) > 0 then substr(account, position(':' in account) + 1) end,"
    "  sum(amount), max(at_ms), max(event_id) from p group by account"
    " on conflict (account) do update set balance = a.balance + excluded.balance,"
    "  updated_at_ms = excluded.updated_at_ms, last_event_id = excluded.last_event_id";

int accounts_projection_prepare(PGconn *db)
{
    return projection_prepare(db, "journal_entry", JOURNAL_ENTRY);
}

void accounts_projection_apply(const struct projection_context *c, const struct projected_event *e)
{
    if (strcmp(e->type, "journal.entry.v1") == 0)
        projection_send(c, "journal_entry", e, 0, NULL);
}
