-- A trigram index of the item search's text, so a fragment few items contain is found without
-- reading every item: SQLite's FTS5 with its trigram tokenizer over `netsuite_items.search`
-- (external content: the text stays in netsuite_items; triggers keep the index in step).
-- PostgreSQL gets the same from pg_trgm (a GIN index) under this migration's name.
create virtual table netsuite_items_grams using fts5(
    search, content = 'netsuite_items', content_rowid = 'rowid', tokenize = 'trigram'
);
insert into netsuite_items_grams (netsuite_items_grams) values ('rebuild');
create trigger netsuite_items_grams_insert after insert on netsuite_items begin
    insert into netsuite_items_grams (rowid, search) values (new.rowid, new.search);
end;
create trigger netsuite_items_grams_delete after delete on netsuite_items begin
    insert into netsuite_items_grams (netsuite_items_grams, rowid, search) values ('delete', old.rowid, old.search);
end;
create trigger netsuite_items_grams_update after update of search on netsuite_items begin
    insert into netsuite_items_grams (netsuite_items_grams, rowid, search) values ('delete', old.rowid, old.search);
    insert into netsuite_items_grams (rowid, search) values (new.rowid, new.search);
end;
