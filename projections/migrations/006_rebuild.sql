-- Rebuilding the read models from the log (./p2p rebuild, projections/rebuild_main.c).
-- A rebuild projects every engine event into empty copies of the read-model
-- tables in a scratch schema, verifies them, then swaps them into public in one
-- transaction. Operational tables (Beckn 003/004, idempotency keys 005, this
-- file's rebuild_runs) are not read models: a rebuild never touches them.

-- One row per rebuild, served at the operator's rebuild-status endpoint.
create table rebuild_runs (
    run_id          bigserial primary key,
    started_at      timestamptz not null,
    finished_at     timestamptz,
    status          text not null,   -- running | verifying | swapped | failed
    events          bigint not null default 0,
    total_events    bigint,
    events_per_sec  double precision,
    message         text
);

-- The tables the projector writes, which a rebuild replaces. A migration that
-- adds a read-model table adds it here (create or replace).
create function p2p_readmodel_tables() returns text[] language sql immutable as $$
    select array['projector_offsets', 'projector_stats', 'offers', 'offer_rejections',
                 'offer_energy', 'orders', 'order_lines', 'order_status_history', 'fills',
                 'participants', 'trust_history', 'accounts', 'journal_entries',
                 'journal_postings', 'delivery_reports', 'market_slots', 'command_results'] $$;

-- Creates schema `target` (dropping an old one) with an empty copy of every
-- read-model table of public: columns, defaults, checks, indexes and
-- constraints under their own names, foreign keys between the copies.
create function p2p_readmodel_clone(target text) returns void
language plpgsql set search_path = public as $$
declare
    t text;
    c record;
begin
    execute format('drop schema if exists %I cascade', target);
    execute format('create schema %I', target);
    foreach t in array p2p_readmodel_tables() loop
        execute format('create table %I.%I (like public.%I including defaults including constraints'
                       ' including storage including comments)', target, t, t);
    end loop;
    -- primary keys and unique constraints, then plain indexes, then foreign keys
    for c in select cl.relname, con.conname, pg_get_constraintdef(con.oid) as def
             from pg_constraint con join pg_class cl on cl.oid = con.conrelid
             where cl.relnamespace = 'public'::regnamespace and con.contype in ('p', 'u')
               and cl.relname = any (p2p_readmodel_tables()) loop
        execute format('alter table %I.%I add constraint %I %s', target, c.relname, c.conname, c.def);
    end loop;
    for c in select i.indexrelid, pg_get_indexdef(i.indexrelid) as def
             from pg_index i join pg_class cl on cl.oid = i.indrelid
             where cl.relnamespace = 'public'::regnamespace and cl.relname = any (p2p_readmodel_tables())
               and not exists (select 1 from pg_constraint con where con.conindid = i.indexrelid) loop
        execute replace(c.def, ' ON public.', format(' ON %I.', target));
    end loop;
    for c in select cl.relname, con.conname, pg_get_constraintdef(con.oid) as def
             from pg_constraint con join pg_class cl on cl.oid = con.conrelid
             where cl.relnamespace = 'public'::regnamespace and con.contype = 'f'
               and cl.relname = any (p2p_readmodel_tables()) loop
        execute format('alter table %I.%I add constraint %I %s', target, c.relname, c.conname,
                       replace(c.def, 'REFERENCES ', format('REFERENCES %I.', target)));
    end loop;
end $$;

-- Replaces the read-model tables of public by those of schema `source`, then
-- drops `source`. Call inside a transaction: readers and the live projector
-- wait on the locks and then see the new tables (the projector's offset fence
-- makes it continue from the new tables' offsets).
create function p2p_readmodel_swap(source text) returns void
language plpgsql set search_path = public as $$
declare
    t text;
begin
    execute (select 'lock table ' || string_agg(format('public.%I', x), ', ')
                    || ' in access exclusive mode' from unnest(p2p_readmodel_tables()) x);
    execute (select 'drop table ' || string_agg(format('public.%I', x), ', ')
             from unnest(p2p_readmodel_tables()) x);
    foreach t in array p2p_readmodel_tables() loop
        execute format('alter table %I.%I set schema public', source, t);
    end loop;
    execute format('drop schema %I', source);
end $$;
