-- Read model of offers and the projector's bookkeeping.
-- Applied once, in file-name order, by the projector at start (projections/migrate.c).

create table projector_offsets (
    projector   text   not null,
    topic       text   not null,
    partition   int    not null,
    next_offset bigint not null,
    primary key (projector, topic, partition)
);

create table projector_stats (
    projector      text   primary key,
    events_applied bigint not null default 0
);

create table offers (
    offer_id          text    primary key,
    market            text    not null,
    seller_id         text    not null,
    source_type       text    not null,
    quantity_wh       bigint  not null check (quantity_wh > 0),
    remaining_wh      bigint  not null check (remaining_wh >= 0),
    price_per_kwh     bigint  not null check (price_per_kwh > 0),
    currency          text    not null,
    min_order_wh      bigint  not null,
    delivery_start_ms bigint  not null,
    delivery_end_ms   bigint  not null,
    meter_id          text    not null,
    valid_until_ms    bigint,
    status            text    not null,
    listed_at_ms      bigint  not null,
    command_id        text    not null,
    event_topic       text    not null,
    event_partition   int     not null,
    event_offset      bigint  not null
);
create index offers_open_by_start on offers (delivery_start_ms, event_offset) where status = 'LISTED';
create index offers_by_seller on offers (seller_id, delivery_start_ms);

-- Keyed by event: a malformed command may carry no offer id at all.
create table offer_rejections (
    event_id       text   primary key,
    offer_id       text   not null,
    command_id     text   not null,
    seller_id      text   not null,
    code           text   not null,
    field          text   not null,
    message        text   not null,
    rejected_at_ms bigint not null,
    event_offset   bigint not null
);
create index offer_rejections_by_offer on offer_rejections (offer_id);
