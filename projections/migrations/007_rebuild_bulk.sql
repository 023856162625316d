-- The rebuild's bulk path (projections/rebuild_main.c, projections/fold.h):
-- the read models are folded in memory and each table is written once with
-- COPY, which is fastest into bare tables that already log (no rewrite by
-- "set logged" afterwards) and carry no index yet; the keys, indexes and
-- foreign keys are then built once over the loaded rows.

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

-- After loading the bare copies: the primary keys and unique constraints, the
-- plain indexes and the foreign keys of public's tables, under their names.
-- The result has the shape p2p_readmodel_clone + p2p_readmodel_finish give.
create function p2p_readmodel_constrain(target text) returns void
language plpgsql set search_path = public as $$
declare
    c record;
begin
    for c in select cl.relname, con.conname, pg_get_constraintdef(con.oid) as def
             from pg_constraint con join pg_class cl on cl.oid = con.conrelid
             where cl.relnamespace = 'public'::regnamespace and con.contype in ('p', 'u')
               and cl.relname = any (p2p_readmodel_tables()) loop
        execute format('alter table %I.%I add constraint %I %s', target, c.relname, c.conname, c.def);
    end loop;
    perform p2p_readmodel_indexes(target, false);
    for c in select cl.relname, con.conname, pg_get_constraintdef(con.oid) as def
             from pg_constraint con join pg_class cl on cl.oid = con.conrelid
             where cl.relnamespace = 'public'::regnamespace and con.contype = 'f'
               and cl.relname = any (p2p_readmodel_tables()) loop
        execute format('alter table %I.%I add constraint %I %s', target, c.relname, c.conname,
                       replace(c.def, 'REFERENCES ', format('REFERENCES %I.', target)));
    end loop;
end $$;
