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

-- Participants as the engine last described them (participant.updated.v1, trust.changed.v1).
create table participants (
    participant_id         text   primary key,
    trust                  int    not null,  -- 1/10000
    tier                   text   not null,
    trade_limit_wh         bigint not null,
    capacity_wh_per_month  bigint,
    verified_wh_per_month  bigint,
    updated_at_ms          bigint not null,
    last_event_id          text   not null
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

-- Price and volume per delivery slot and source type (sold energy of fills that
-- span several slots is spread evenly over them).
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
    at_ms        bigint not null
);
