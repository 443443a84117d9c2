//! SQLite and PostgreSQL each have their own migration folder (their SQL differs in types and
//! a few statements), and they must describe the same database: the same files in the same
//! order, and after migrating, the same tables with the same columns (name and whether NULL is
//! allowed) and the same indexes (name and uniqueness). Column types are the engines' own and
//! are not compared.

use std::collections::BTreeSet;

use sqlx::Row;
use wns::{
    store::{Backend, Store},
    testing::TestDb,
};

const MIGRATIONS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/migrations");

fn files(engine: &str) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(format!("{MIGRATIONS}/{engine}"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().to_string())
        .collect();
    names.sort();
    names
}

/// (table, column, nullable) and (index, unique) of a migrated database.
type Schema = (BTreeSet<(String, String, bool)>, BTreeSet<(String, bool)>);

async fn sqlite_schema(store: &Store) -> Schema {
    let pool = store.pool();
    let tables: Vec<String> = sqlx::query_scalar(
        "select name from sqlite_master where type = 'table' and name not like 'sqlite_%' and name <> '_sqlx_migrations'",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let (mut columns, mut indexes) = (BTreeSet::new(), BTreeSet::new());
    for t in tables {
        for r in sqlx::query(&format!("select name, \"notnull\", pk from pragma_table_info('{t}')"))
            .fetch_all(pool)
            .await
            .unwrap()
        {
            let (name, not_null, pk): (String, i64, i64) =
                (r.try_get(0).unwrap(), r.try_get(1).unwrap(), r.try_get(2).unwrap());
            // A primary key is never null, whether or not SQLite's table says `not null`.
            columns.insert((t.clone(), name, not_null == 0 && pk == 0));
        }
        for r in sqlx::query(&format!("select name, \"unique\", origin from pragma_index_list('{t}')"))
            .fetch_all(pool)
            .await
            .unwrap()
        {
            let (name, unique, origin): (String, i64, String) =
                (r.try_get(0).unwrap(), r.try_get(1).unwrap(), r.try_get(2).unwrap());
            // Indexes SQLite makes for primary keys and unique constraints have generated names.
            if origin == "c" {
                indexes.insert((name, unique == 1));
            }
        }
    }
    (columns, indexes)
}

async fn postgres_schema(store: &Store) -> Schema {
    let pool = store.pool();
    let mut columns = BTreeSet::new();
    for r in sqlx::query(
        "select table_name::text, column_name::text, is_nullable::text from information_schema.columns \
         where table_schema = current_schema() and table_name <> '_sqlx_migrations'",
    )
    .fetch_all(pool)
    .await
    .unwrap()
    {
        let (t, c, n): (String, String, String) = (r.try_get(0).unwrap(), r.try_get(1).unwrap(), r.try_get(2).unwrap());
        columns.insert((t, c, n == "YES"));
    }
    let mut indexes = BTreeSet::new();
    for r in sqlx::query(
        "select i.relname::text, x.indisunique from pg_index x join pg_class i on i.oid = x.indexrelid \
         join pg_class t on t.oid = x.indrelid join pg_namespace n on n.oid = t.relnamespace \
         where n.nspname = current_schema() and not x.indisprimary and t.relname <> '_sqlx_migrations' \
         and not exists (select 1 from pg_constraint c where c.conindid = x.indexrelid)",
    )
    .fetch_all(pool)
    .await
    .unwrap()
    {
        indexes.insert((r.try_get(0).unwrap(), r.try_get(1).unwrap()));
    }
    (columns, indexes)
}

#[test]
fn both_engines_have_the_same_migration_files() {
    let (sqlite, postgres) = (files("sqlite"), files("postgres"));
    assert!(sqlite.len() >= 9, "{sqlite:?}");
    assert_eq!(sqlite, postgres, "every migration exists for both engines, under the same name");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_engines_migrate_to_the_same_tables_columns_and_indexes() {
    wns::testing::init_logs();
    let (lite_db, pg_db) = (TestDb::new(Backend::Sqlite).await, TestDb::new(Backend::Postgres).await);
    let (mut lite, mut pg) =
        (sqlite_schema(&lite_db.store(1).await).await, postgres_schema(&pg_db.store(1).await).await);
    // The one structure that differs on purpose: the item search's trigram index (migration
    // 0018) is an FTS5 table and its shadow tables on SQLite, a GIN index on PostgreSQL.
    assert!(lite.0.iter().any(|(t, _, _)| t == "netsuite_items_grams"), "{:?}", lite.0);
    assert!(pg.1.contains(&("netsuite_items_search_grams".to_string(), false)), "{:?}", pg.1);
    lite.0.retain(|(t, _, _)| !t.starts_with("netsuite_items_grams"));
    pg.1.remove(&("netsuite_items_search_grams".to_string(), false));
    assert!(
        lite.0.iter().any(|(t, c, _)| t == "jobs" && c == "entity_key"),
        "the reader sees the schema: {:?}",
        lite.0
    );
    assert!(lite.1.contains(&("webhook_deliveries_once".to_string(), true)), "and its indexes: {:?}", lite.1);
    let only = |a: &BTreeSet<(String, String, bool)>, b: &BTreeSet<(String, String, bool)>| -> Vec<String> {
        a.difference(b).map(|(t, c, n)| format!("{t}.{c}{}", if *n { " (nullable)" } else { " (not null)" })).collect()
    };
    assert!(
        lite.0 == pg.0,
        "columns differ:\n  only in SQLite: {:?}\n  only in PostgreSQL: {:?}",
        only(&lite.0, &pg.0),
        only(&pg.0, &lite.0)
    );
    assert!(
        lite.1 == pg.1,
        "indexes differ:\n  only in SQLite: {:?}\n  only in PostgreSQL: {:?}",
        lite.1.difference(&pg.1).collect::<Vec<_>>(),
        pg.1.difference(&lite.1).collect::<Vec<_>>()
    );
}
