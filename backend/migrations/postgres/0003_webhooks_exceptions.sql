-- Every WooCommerce webhook delivery is kept, raw, before it is answered: accepted ones with the
-- job they caused, the rest (bad signature, malformed JSON, unknown topic) for inspection. Nothing
-- a store sends us is ever thrown away.
create table webhook_deliveries (
    id bigserial primary key,
    -- X-WC-Webhook-Delivery-ID; absent on pings
    delivery_id text,
    webhook_id text,
    topic text,
    -- the order or product id the delivery is about, when it could be read
    resource_id text,
    status text not null check (status in ('accepted', 'quarantined', 'malformed', 'ignored', 'ping')),
    -- the X-WC-* headers and the user agent, as JSON
    headers text not null,
    body bytea not null,
    received_at bigint not null,
    job_id bigint
);

-- a delivery WooCommerce repeats (it does, on timeouts) is processed once
create unique index webhook_deliveries_once on webhook_deliveries (delivery_id) where status = 'accepted';
create index webhook_deliveries_received on webhook_deliveries (received_at);

-- What a person must look at: typed, owned, counted. One open row per (kind, key); seeing the same
-- problem again bumps its count and last_seen instead of adding noise.
create table exceptions (
    id bigserial primary key,
    kind text not null,
    -- what the exception is about, e.g. `order:23`, `sku:ABC-1`, `webhook:7`
    entity_key text not null,
    owner text not null check (owner in ('finance', 'operations', 'ecommerce', 'customer_service')),
    message text not null,
    -- what to do about it, in words for the owner
    fix text not null,
    first_seen bigint not null,
    last_seen bigint not null,
    seen bigint not null default 1,
    resolved_at bigint
);

create unique index exceptions_open on exceptions (kind, entity_key) where resolved_at is null;

-- Where a periodic reader got to (e.g. the order sweep's modified-after time).
create table watermarks (
    name text primary key,
    value bigint not null,
    updated_at bigint not null
);
