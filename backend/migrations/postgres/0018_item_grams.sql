-- A trigram index of the item search's text, so a fragment few items contain is found without
-- reading every item: pg_trgm's GIN index, which serves `search like '%…%'` directly. pg_trgm
-- ships with PostgreSQL and is a trusted extension (13+): the database's owner may create it.
-- SQLite gets the same from FTS5's trigram tokenizer under this migration's name.
create extension if not exists pg_trgm;
create index netsuite_items_search_grams on netsuite_items using gin (search gin_trgm_ops);
