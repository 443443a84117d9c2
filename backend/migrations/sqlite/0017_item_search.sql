-- The item search's first two tiers (exact name or UPC, then names that start with what was typed)
-- by index instead of a scan: the item's name lower-cased, compared without case (so SQLite's LIKE
-- 'abc%' can use the index), and the UPC.
alter table netsuite_items add column itemid_key text collate nocase not null default '';
update netsuite_items set itemid_key = lower(itemid);
create index netsuite_items_key on netsuite_items (itemid_key);
create index netsuite_items_upc on netsuite_items (upc);
