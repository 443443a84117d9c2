-- A local index of NetSuite's items, refreshed by `lastmodifieddate` deltas, so people searching
-- for an item while they type (the SKU fixer) never spend NetSuite's concurrency.
create table netsuite_items (
    netsuite_item_id text primary key,
    itemid text not null,
    displayname text not null,
    upc text not null,
    inactive integer not null,
    -- lower-cased itemid, display name and UPC, what a search matches against
    search text not null,
    -- NetSuite's lastmodifieddate of the item, as NetSuite formats it
    modified text not null,
    read_at bigint not null
);
create index netsuite_items_itemid on netsuite_items (itemid);
