-- An order's jobs whatever their state: the orders-status API reads the newest one per order,
-- and done jobs are most of the table.
create index jobs_entity on jobs (kind, entity_key, id);
