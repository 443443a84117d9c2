-- WooCommerce SKU → NetSuite item. Filled from NetSuite's items by `itemid` when they match, and by
-- a person (the SKU-mapping screen) when they do not; saving a mapping requeues the orders blocked on
-- `sku:<SKU>`.
create table sku_map (
    sku text primary key,
    netsuite_item_id text not null,
    -- `netsuite` (matched by itemid) or the user who saved it
    source text not null,
    updated_at bigint not null
);
