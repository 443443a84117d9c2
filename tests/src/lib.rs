//! End-to-end tests live in `tests/`; the helper binaries in `src/bin/`.

use wns::store::Store;

/// The tables `wns-test-worker`'s handler writes: effects (idempotent, one per entity) and runs
/// (one row per execution).
pub async fn create_effect_tables(store: &Store) -> Result<(), sqlx::Error> {
    for stmt in [
        "create table test_effects (entity_key text primary key, job_id bigint not null, worker text not null)",
        "create table test_runs (job_id bigint not null, worker text not null)",
    ] {
        sqlx::query(stmt).execute(store.pool()).await?;
    }
    Ok(())
}
