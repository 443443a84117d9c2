-- Stock: what NetSuite said per item and location, what wns pushed per SKU, and the units of
-- WooCommerce orders that NetSuite's figure does or does not yet reflect.

create table stock_locations (
    netsuite_item_id text not null,
    location text not null,
    itemid text not null,
    available bigint not null,
    -- NetSuite's lastmodifieddate of the row, as NetSuite formats it (its own clock and zone)
    modified text not null,
    read_at bigint not null,
    primary key (netsuite_item_id, location)
);

create table stock_items (
    sku text primary key,
    netsuite_item_id text not null,
    -- Σ available in the web store's locations at the last read, and when that read started
    ns_available bigint not null,
    ns_as_of bigint not null,
    -- available to sell wns computed: NetSuite − in flight − buffer, never below 0
    target bigint not null,
    -- NetSuite + reflected web units − buffer when wns last wrote to WooCommerce: the next
    -- write is the difference (NetSuite-side movements only); null until the first write
    pushed_basis bigint,
    pushed bigint,
    pushed_at bigint,
    -- WooCommerce's stock as its answer to that write showed it
    confirmed bigint,
    confirmed_at bigint,
    -- a difference between WooCommerce and wns seen once (WooCommerce − wns), and when: drift is
    -- raised only when the same difference is still there after the grace period
    drift_suspect bigint,
    drift_suspect_at bigint,
    updated_at bigint not null
);

create table order_units (
    wc_order_id bigint not null,
    sku text not null,
    quantity bigint not null,
    -- the order holds stock in WooCommerce (processing, on-hold, completed)
    active integer not null,
    seen_at bigint not null,
    -- what NetSuite's sales order committed, and when it was saved; when its lines were closed
    posted_quantity bigint not null default 0,
    posted_at bigint,
    closed_at bigint,
    primary key (wc_order_id, sku)
);
create index order_units_sku on order_units (sku);

-- WooCommerce's side as the nightly reconciliation listed it: ids for absolute writes, categories for
-- category buffers, and the stock WooCommerce showed, compared with wns's figure.
create table wc_catalogue (
    sku text primary key,
    wc_id bigint not null,
    -- 0 for products, the variable product for variations
    wc_parent bigint not null,
    -- category slugs, comma-separated (a variation has its parent's)
    categories text not null,
    manage_stock integer not null,
    stock bigint,
    seen_at bigint not null
);
