-- The rebuild's bulk path (projections/rebuild_main.c, projections/fold.h):
-- the read models are folded in memory and each table is written once with
-- COPY, which is fastest into bare tables that already log (no rewrite by
-- "set logged" afterwards) and carry no index yet; each table's keys and
-- indexes are then built once over its loaded rows (several tables at once,
-- on their own connections), and finally the foreign keys: the same tables,
-- keys, indexes and foreign keys as public's. This replaces 006's path
-- (unlogged copies with lookup indexes, projected event by event, then
-- indexed and set logged), whose functions are dropped here.

drop function p2p_readmodel_finish(text);
drop function p2p_readmodel_clone(text);
drop function p2p_readmodel_indexes(text, boolean);
drop function p2p_readmodel_lookup_indexes();

-- Creates schema `target` (dropping an old one) with an empty, logged copy of
-- every read-model table of public: columns, defaults and checks only.
create function p2p_readmodel_create_bare(target text) returns void
language plpgsql set search_path = public as $$
declare
    t text;
begin
    execute format('drop schema if exists %I cascade', target);
    execute format('create schema %I', target);
    foreach t in array p2p_readmodel_tables() loop
        execute format('create table %I.%I (like public.%I including defaults'
                       ' including constraints including storage including comments)', target, t, t);
    end loop;
end $$;

-- The primary key, unique constraints and plain indexes of public's table
-- `tbl` on target's copy, under their names.
create function p2p_readmodel_constrain_table(target text, tbl text) returns void
language plpgsql set search_path = public as $$
declare
    c record;
begin
    for c in select con.conname, pg_get_constraintdef(con.oid) as def
             from pg_constraint con join pg_class cl on cl.oid = con.conrelid
             where cl.relnamespace = 'public'::regnamespace and con.contype in ('p', 'u')
               and cl.relname = tbl loop
        execute format('alter table %I.%I add constraint %I %s', target, tbl, c.conname, c.def);
    end loop;
    for c in select pg_get_indexdef(i.indexrelid) as def
             from pg_index i join pg_class cl on cl.oid = i.indrelid
             join pg_class ic on ic.oid = i.indexrelid
             where cl.relnamespace = 'public'::regnamespace and cl.relname = tbl
               and not exists (select 1 from pg_constraint con where con.conindid = i.indexrelid)
               and to_regclass(format('%I.%I', target, ic.relname)) is null loop
        execute replace(c.def, ' ON public.', format(' ON %I.', target));
    end loop;
end $$;

-- The foreign keys between the read-model tables of public on target's copies
-- (after every table has its keys).
create function p2p_readmodel_foreign_keys(target text) returns void
language plpgsql set search_path = public as $$
declare
    c record;
begin
    for c in select cl.relname, con.conname, pg_get_constraintdef(con.oid) as def
             from pg_constraint con join pg_class cl on cl.oid = con.conrelid
             where cl.relnamespace = 'public'::regnamespace and con.contype = 'f'
               and cl.relname = any (p2p_readmodel_tables()) loop
        execute format('alter table %I.%I add constraint %I %s', target, c.relname, c.conname,
                       replace(c.def, 'REFERENCES ', format('REFERENCES %I.', target)));
    end loop;
end $$;
