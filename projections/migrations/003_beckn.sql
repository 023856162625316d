-- Beckn BPP state (gateway/beckn, p2p-beckn-worker): replay protection of
-- inbound message ids, the callback outbox, the correlation of engine
-- commands with the Beckn requests that caused them, per-order Beckn state
-- for on_status, and the worker's Kafka offsets (stored with the outbox rows
-- they produce, so each engine event is turned into callbacks exactly once).
-- Money in minor units, energy in Wh, times in ms since the epoch (UTC).

-- One row per (signer, message_id) received, kept until expires_at_ms (at
-- least the signature's and the message's validity): a second message with
-- the same id from the same sender in that time is a replay.
create table beckn_inbound_messages (
    sender          text   not null,  -- keyId subscriber id of the signer
    message_id      text   not null,
    action          text   not null,
    transaction_id  text   not null,
    received_at_ms  bigint not null,
    expires_at_ms   bigint not null,
    primary key (sender, message_id)
);
create index beckn_inbound_messages_expiry on beckn_inbound_messages (expires_at_ms);

-- Signed callbacks to deliver (at least once). body holds the exact bytes that
-- are signed and sent; dedupe_key makes an enqueue idempotent.
create table beckn_outbox (
    id                 bigserial primary key,
    dedupe_key         text   not null unique,
    url                text   not null,
    action             text   not null,
    transaction_id     text   not null,
    message_id         text   not null,
    body               text   not null,
    status             text   not null default 'PENDING', -- PENDING, DELIVERED, FAILED
    attempts           int    not null default 0,
    created_at_ms      bigint not null,
    next_attempt_at_ms bigint not null,
    delivered_at_ms    bigint,
    last_http_status   int,
    last_error         text
);
create index beckn_outbox_due on beckn_outbox (next_attempt_at_ms) where status = 'PENDING';
create index beckn_outbox_by_transaction on beckn_outbox (transaction_id, action);

-- Written by the gateway before it appends an engine command for a Beckn
-- request; the worker finds the request by the command id of the decision.
create table beckn_commands (
    command_id      text   primary key,
    action          text   not null,  -- select, init, confirm, cancel, update
    transaction_id  text   not null,
    message_id      text   not null,
    bap_id          text   not null,
    bap_uri         text   not null,
    domain          text   not null,
    order_id        text   not null,  -- engine order id (derived from bap_id, transaction_id)
    buyer_id        text   not null,  -- engine buyer id (derived from bap_id, Beckn buyer id)
    request_order   text   not null,  -- the request's message.order, as received
    created_at_ms   bigint not null
);
create index beckn_commands_by_order on beckn_commands (order_id);

-- One row per engine order created through Beckn init.
create table beckn_orders (
    order_id        text   primary key,
    bap_id          text   not null,
    bap_uri         text   not null,
    transaction_id  text   not null,
    domain          text   not null,
    buyer_id        text   not null,
    status          text   not null,  -- RESERVED, CONFIRMED, CANCELLED, EXPIRED, COMPLETED, PARTIALLYFULFILLED
    payment_status  text   not null,  -- AUTHORIZED, PAID, REFUNDED, ...
    amount          bigint not null,
    fee             bigint not null,
    total           bigint not null,
    refund          bigint not null default 0,
    beckn_order     text   not null,  -- the Beckn order as last sent (JSON)
    updated_at_ms   bigint not null
);

create table beckn_order_lines (
    order_id        text   not null references beckn_orders (order_id),
    line            int    not null,
    fill_id         text   not null unique,
    offer_id        text   not null,
    quantity_wh     bigint not null,
    price_per_kwh   bigint not null,
    delivery_start_ms bigint not null,
    delivery_end_ms bigint not null,
    status          text   not null,  -- PENDING, COMPLETED, FAILED (cancelled by seller)
    delivered_wh    bigint not null default 0,
    curtailed_wh    bigint not null default 0,
    updated_at_ms   bigint not null,
    primary key (order_id, line)
);

-- The worker's position in the engine's output, committed with its outbox rows.
create table beckn_worker_offsets (
    consumer        text   not null,
    topic           text   not null,
    partition       int    not null,
    next_offset     bigint not null,
    primary key (consumer, topic, partition)
);
