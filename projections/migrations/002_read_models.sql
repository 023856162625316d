-- Read models of orders, fills, participants, money, deliveries and the market,
-- maintained by the projector from the engine's output topics (issue 5).
-- Money in minor units, energy in Wh, trust in 1/10000, times in ms since epoch (UTC).
-- Every row names the event that last changed it, so a rebuild can be compared
-- with the live model table by table.

-- One row per order the engine reserved (order.reserved.v1) or bought in one step.
create table orders (
    order_id          text   primary key,
    market            text   not null,
    buyer_id          text   not null,
    payer_id          text,              -- a Beckn platform paying for its buyer (receivable), else null
    status            text   not null,   -- RESERVED, CONFIRMED, CANCELLED, EXPIRED, SETTLED
    quantity_wh       bigint not null,   -- requested
    window_start_ms   bigint not null,
    window_end_ms     bigint not null,
    filled_wh         bigint not null,
    amount            bigint not null,
    fee               bigint not null,
    total             bigint not null,
    expires_at_ms     bigint,            -- reservation deadline (RESERVED only)
    confirmed_at_ms   bigint,
    refund            bigint not null default 0, -- money returned to the buyer so far
    cancel_fee        bigint not null default 0,
    delivered_wh      bigint not null default 0,
    created_at_ms     bigint not null,
    updated_at_ms     bigint not null,
    command_id        text   not null,   -- the command that created it
    last_event_id     text   not null
);
create index orders_by_buyer on orders (buyer_id, created_at_ms desc);

-- Lines of an order; fill_id = '<order_id>/<line>'.
create table order_lines (
    order_id          text   not null references orders (order_id),
    line              int    not null,
    fill_id           text   not null unique,
    offer_id          text   not null,
    seller_id         text   not null,
    quantity_wh       bigint not null,
    price_per_kwh     bigint not null,
    amount            bigint not null,
    fee               bigint not null,
    score_ppm         int    not null,
    delivery_start_ms bigint not null,
    delivery_end_ms   bigint not null,
    status            text   not null,   -- RESERVED, SOLD, RELEASED, CANCELLED_BY_SELLER, DELIVERED
    delivered_wh      bigint,
    curtailed_wh      bigint,
    seller_paid       bigint,
    buyer_refund      bigint,
    last_event_id     text   not null,
    primary key (order_id, line)
);
create index order_lines_by_seller on order_lines (seller_id, delivery_start_ms);
create index order_lines_by_offer on order_lines (offer_id);

-- Every status change of an order, in log order.
create table order_status_history (
    event_id   text   primary key,
    order_id   text   not null,
    status     text   not null,
    at_ms      bigint not null,
    detail     jsonb  not null default '{}'::jsonb
);
create index order_status_history_by_order on order_status_history (order_id, at_ms);

-- One row per sold line (fill.v1), with what happened to it afterwards.
create table fills (
    fill_id           text   primary key,
    order_id          text   not null,
    offer_id          text   not null,
    seller_id         text   not null,
    buyer_id          text   not null,
    quantity_wh       bigint not null,
    price_per_kwh     bigint not null,
    amount            bigint not null,
    fee               bigint not null,
    delivery_start_ms bigint not null,
    delivery_end_ms   bigint not null,
    status            text   not null,   -- SOLD, CANCELLED_BY_BUYER, CANCELLED_BY_SELLER, SETTLED
    filled_at_ms      bigint not null,
    last_event_id     text   not null
);
create index fills_by_seller on fills (seller_id, filled_at_ms desc);
create index fills_by_buyer on fills (buyer_id, filled_at_ms desc);
create index fills_by_offer on fills (offer_id);  -- market_slots: fills projected before their offer

-- Participants as the engine last described them (participant.updated.v1, trust.changed.v1).
create table participants (
    participant_id         text   primary key,
    trust                  int    not null,  -- 1/10000
    tier                   text   not null,
    trade_limit_wh         bigint not null,
    capacity_wh_per_month  bigint,
    verified_wh_per_month  bigint,
    updated_at_ms          bigint not null,
    last_event_id          text   not null,
    -- The two streams that describe a participant arrive in any interleaving
    -- (topics trust and participant-events), so each keeps its own latest
    -- event: trust comes from trust.changed when there was one, production
    -- from participant.updated when there was one; tier and limit follow.
    trust_event_id         text,
    trust_at_ms            bigint,
    profile_event_id       text,
    profile_at_ms          bigint
);

create table trust_history (
    event_id        text   primary key,
    participant_id  text   not null,
    old_score       int    not null,
    new_score       int    not null,
    delta           int    not null,
    reason          text   not null,
    ref_id          text   not null,
    tier            text   not null,
    trade_limit_wh  bigint not null,
    at_ms           bigint not null
);
create index trust_history_by_participant on trust_history (participant_id, at_ms);

-- Balances of every journal account ('wallet:<id>', 'escrow:<order>', 'platform', 'external', ...).
create table accounts (
    account        text   primary key,
    kind           text   not null,      -- the part before ':' (wallet, escrow, platform, external, ...)
    owner          text,                 -- the part after ':' or null
    balance        bigint not null,
    updated_at_ms  bigint not null,
    last_event_id  text   not null
);

create table journal_entries (
    event_id    text   primary key,
    command_id  text   not null,
    reason      text   not null,
    ref_id      text   not null,
    currency    text   not null,
    at_ms       bigint not null
);

create table journal_postings (
    event_id  text   not null references journal_entries (event_id),
    n         int    not null,
    account   text   not null,
    amount    bigint not null,
    primary key (event_id, n)
);
create index journal_postings_by_account on journal_postings (account);

-- DISCOM results per sold line (delivery.settled.v1).
create table delivery_reports (
    fill_id        text   primary key,
    event_id       text   not null,
    order_id       text   not null,
    seller_id      text   not null,
    buyer_id       text   not null,
    quantity_wh    bigint not null,
    delivered_wh   bigint not null,
    curtailed_wh   bigint not null,
    seller_paid    bigint not null,
    buyer_refund   bigint not null,
    platform_fee   bigint not null,
    at_ms          bigint not null
);

-- Price and volume per delivery slot and source type: energy listed (offers as
-- listed) and sold (fills as sold; later cancellations are not subtracted).
-- Offers and fills that span several slots are spread evenly over them
-- (p2p_spread: the remainder goes to the first slots).
create table market_slots (
    market         text   not null,
    slot_start_ms  bigint not null,
    source_type    text   not null,
    listed_wh      bigint not null default 0,
    sold_wh        bigint not null default 0,
    trades         int    not null default 0,
    amount         bigint not null default 0,   -- money of the sold energy in this slot
    price_min      bigint,
    price_max      bigint,
    primary key (market, slot_start_ms, source_type)
);

-- The engine's answer to each command (first decisive event), for
-- GET /api/commands/{id} after a client API timed out waiting.
create table command_results (
    command_id   text   primary key,
    outcome      text   not null,   -- accepted, rejected
    event_type   text   not null,   -- ce_type of the decisive event
    subject_id   text,              -- order, offer, fill or participant id
    actor_id     text,
    result       jsonb  not null,   -- the event's value
    at_ms        bigint not null,
    event_id     text   not null,   -- the decisive event
    answer_rank  int    not null,   -- 1 outcome, 2 reservation or withdrawal, 3 money only
    event_n      int    not null    -- its place among the command's events
);

-- Energy taken off each offer's open remainder: + reserved lines, - released
-- lines, + closed (withdrawn, expired). A sum, so order events may be projected
-- before the offer.listed they refer to; offers.remaining_wh = quantity_wh - taken_wh.
create table offer_energy (
    offer_id  text   primary key,
    taken_wh  bigint not null
);

-- Trust tiers and trade-limit percentages (docs/engine.md "Trust"; the engine's
-- table is tiers[] in engine/core/engine.c).
create function p2p_trust_tier(trust int) returns text language sql immutable as $$
    select case when trust >= 9500 then 'Platinum' when trust >= 8500 then 'Gold'
                when trust >= 7000 then 'Silver' when trust >= 5000 then 'Bronze'
                when trust >= 3000 then 'Starter' else 'New' end $$;
create function p2p_tier_percent(trust int) returns int language sql immutable as $$
    select case when trust >= 9500 then 100 when trust >= 8500 then 80
                when trust >= 7000 then 60 when trust >= 5000 then 40 else 10 end $$;

-- Spreads wh and amount over the slots of [start_ms, end_ms): equal shares,
-- the remainders one unit each to the first slots.
create function p2p_spread(bigint, bigint, bigint, bigint, bigint)
returns table (slot_start_ms bigint, wh bigint, amount bigint) language sql immutable as $$
    select $1 + i * $5, $3 / k + case when i < $3 % k then 1 else 0 end,
           $4 / k + case when i < $4 % k then 1 else 0 end
    from (select greatest(1, ($2 - $1) / $5) as k) c, generate_series(0, c.k - 1) as i $$;
