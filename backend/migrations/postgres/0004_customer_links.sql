-- Which NetSuite customer a WooCommerce customer or guest is, once known, and by which rule it was
-- matched (linked_id, external_id, email, created), so later orders need no lookup and a person can
-- see why an order went to that customer.
create table customer_links (
    -- `customer:<WooCommerce customer id>` or `guest:<first 16 hex of sha256(lower(email))>`
    wc_key text primary key,
    netsuite_id text not null,
    external_id text,
    matched_by text not null check (matched_by in ('linked_id', 'external_id', 'email', 'created')),
    updated_at bigint not null
);
