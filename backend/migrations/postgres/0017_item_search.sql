-- The item search's first two tiers (exact name or UPC, then names that start with what was typed)
-- by index instead of a scan: the item's name lower-cased in the "C" collation (so LIKE 'abc%' can
-- use the index whatever the database's collation), and the UPC.
alter table netsuite_items add column itemid_key text collate "C" not null default '';
update netsuite_items set itemid_key = lower(itemid);
create index netsuite_items_key on netsuite_items (itemid_key);
create index netsuite_items_upc on netsuite_items (upc);
