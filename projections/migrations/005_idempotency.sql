-- Commands the client APIs appended (gateway/command_flow.c), in schema public:
-- operational state, not a projection, so a read-model rebuild never touches it.
--  * who issued each command, so GET /api/commands/{id} answers only its issuer;
--  * Idempotency-Key: a row is inserted BEFORE the command is appended, so two
--    concurrent retries with one key cannot both append; the answer is stored
--    when known, and a retry gets the same status and body.

create table public.api_commands (
    command_id       text        primary key,
    issuer           text        not null,   -- user id, or 'operator'
    endpoint         text        not null,   -- method and path, e.g. 'POST /api/buy'
    idempotency_key  text,                   -- null when the request carried none
    request_hash     text        not null,   -- BLAKE2b of the canonical JSON body
    status           int,                    -- HTTP status answered (null while in flight)
    response         text,                   -- the JSON body answered
    created_at       timestamptz not null default now(),
    completed_at     timestamptz
);
create unique index api_commands_idempotency
    on public.api_commands (issuer, endpoint, idempotency_key)
    where idempotency_key is not null;

-- Demo mode (DEMO_START_BALANCE > 0 with P2P_DEV_AUTH=1): the one starting
-- deposit each user gets with their first command.
create table public.demo_balances (
    participant_id  text        primary key,
    command_id      text        not null,
    granted_at      timestamptz not null default now()
);
