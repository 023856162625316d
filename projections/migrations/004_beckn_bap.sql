-- Beckn discovery and the BAP side (gateway/beckn: cds.c, publisher.c,
-- bap_api.c, bap_callbacks.c). The CDS role (catalogs other BPPs published to
-- us), our publishes to an external CDS, our buyers' discoveries, and our
-- buyers' orders on other platforms with every request we sent for them.
-- Money in minor units, energy in Wh, times in ms since the epoch (UTC).
-- JSON documents are stored as text: the exact shape the peer sent.

-- CDS: one row per catalog a BPP published to us. A re-publish replaces it;
-- "beckn:isActive": false keeps the row with is_active false (revoked).
create table beckn_cds_catalogs (
    bpp_id          text    not null,  -- the signer, = context.bpp_id = beckn:bppId
    catalog_id      text    not null,  -- beckn:id
    bpp_uri         text    not null,
    is_active       boolean not null,
    catalog         text    not null,  -- the beckn:Catalog as received
    message_id      text    not null,  -- of the catalog_publish that set it
    updated_at_ms   bigint  not null,
    primary key (bpp_id, catalog_id)
);

-- Our catalog publishes to an external CDS (BECKN_CDS_URL) and its answers.
create table beckn_catalog_publishes (
    message_id      text    primary key,
    transaction_id  text    not null,
    cds_url         text    not null,
    catalog_digest  text    not null,  -- hex BLAKE2b of the catalogs published
    item_count      int     not null,
    is_active       boolean not null,
    sent_at_ms      bigint  not null,
    http_status     int,               -- of the synchronous answer, null if none
    ack             text    not null,  -- ACK, NACK or ERROR (no answer)
    answered_at_ms  bigint,            -- on_catalog_publish received
    results         text               -- its message.results
);
create index beckn_catalog_publishes_recent on beckn_catalog_publishes (sent_at_ms);

-- BAP: a discover one of our buyers sent, and the on_discover answers.
create table beckn_discoveries (
    transaction_id  text    primary key,
    message_id      text    not null,
    user_id         text    not null,
    cds_url         text    not null,
    expression      text,
    sent_at_ms      bigint  not null
);

create table beckn_discovery_answers (
    transaction_id  text    not null references beckn_discoveries (transaction_id),
    message_id      text    not null,
    sender          text    not null,  -- signer of the on_discover (the CDS)
    catalogs        text    not null,  -- message.catalogs
    received_at_ms  bigint  not null,
    primary key (transaction_id, sender, message_id)
);

-- BAP: an order of one of our buyers on another platform (one Beckn
-- transaction). state is ours; remote_status is the BPP's beckn:orderStatus.
create table network_orders (
    order_id            text    primary key,
    user_id             text    not null,
    transaction_id      text    not null unique,
    bpp_id              text    not null,
    bpp_uri             text    not null,
    domain              text    not null,
    seller              text    not null,  -- beckn:provider id of the offers
    currency            text    not null,
    buyer_meter_id      text    not null,
    state               text    not null,  -- SELECTING, QUOTED, INITIALIZING, INITIALIZED,
                                           -- CONFIRMING, CONFIRMED, CANCELLING, CANCELLED, FAILED
    remote_order_id     text,
    remote_status       text,
    payment_status      text,
    total_quantity_wh   bigint  not null,
    amount_due          bigint  not null,  -- Σ quantity × price, minor units (what we owe the BPP)
    refund              bigint  not null default 0, -- what the BPP pays back (on_cancel), minor units
    last_action         text,              -- last callback accepted (on_select, ...)
    last_callback_at_ms bigint,
    last_error          text,              -- JSON {code,message,paths} of the last refusal
    beckn_order         text,              -- message.order of the last callback accepted
    created_at_ms       bigint  not null,
    updated_at_ms       bigint  not null
);
create index network_orders_by_user on network_orders (user_id, created_at_ms);

create table network_order_lines (
    order_id        text    not null references network_orders (order_id),
    line            int     not null,
    item_id         text    not null,
    offer_id        text    not null,
    quantity_wh     bigint  not null,
    price_per_kwh   bigint  not null,  -- minor units per kWh, from the discovered offer
    accepted_offer  text    not null,  -- the beckn:Offer as discovered (sent back in select)
    primary key (order_id, line)
);

-- Every request we sent for a network order; a callback must match one.
create table network_order_requests (
    message_id          text    primary key,
    order_id            text    not null references network_orders (order_id),
    action              text    not null,  -- select, init, confirm, status, cancel
    sent_at_ms          bigint  not null,
    ack                 text    not null,  -- ACK, NACK, ERROR
    error               text,
    answered_at_ms      bigint,
    callback_message_id text
);
create index network_order_requests_by_order on network_order_requests (order_id, action, sent_at_ms);
