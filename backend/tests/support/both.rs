//! `on_both_databases!(test_a, test_b)`: each `async fn test_a(backend: Backend)` runs as
//! `sqlite::test_a` and `postgres::test_a` (PostgreSQL from `WNS_TEST_PG`, see `wns::testing`).

macro_rules! on_both_databases {
    ($($name:ident),* $(,)?) => {
        mod sqlite { $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $name() { super::$name(wns::store::Backend::Sqlite).await } )* }
        mod postgres { $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $name() { super::$name(wns::store::Backend::Postgres).await } )* }
    };
}
