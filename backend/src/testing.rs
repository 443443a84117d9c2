//! Helpers for tests and benchmarks (of this crate and of the end-to-end crate): a fresh
//! database per test on SQLite or PostgreSQL. Not used by the service itself.
//!
//! PostgreSQL comes from `WNS_TEST_PG` (an admin URL such as
//! `postgres://postgres@127.0.0.1:5432/test`); `cargo xtask test` sets it, starting a throwaway
//! server when the machine has none. Each test creates its own database and drops it afterwards.

use std::{
    path::PathBuf,
    sync::atomic::{AtomicU64, Ordering},
};

use crate::store::{Backend, Store};

static SEQ: AtomicU64 = AtomicU64::new(0);

pub struct TestDb {
    pub url: String,
    pub backend: Backend,
    pg_admin: Option<(String, String)>,
    dir: Option<PathBuf>,
}

impl TestDb {
    pub async fn new(backend: Backend) -> TestDb {
        match backend {
            Backend::Sqlite => TestDb::sqlite(),
            Backend::Postgres => TestDb::postgres().await,
        }
    }

    pub fn sqlite() -> TestDb {
        let dir = std::env::temp_dir().join(format!(
            "wns-test-{}-{}-{}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::SeqCst),
            nanos()
        ));
        std::fs::create_dir_all(&dir).expect("creating a temporary directory");
        TestDb {
            url: format!("sqlite://{}", dir.join("wns.db").display()),
            backend: Backend::Sqlite,
            pg_admin: None,
            dir: Some(dir),
        }
    }

    pub async fn postgres() -> TestDb {
        let admin = pg_admin_url();
        let name =
            format!("wns_t_{}_{}_{}", std::process::id(), SEQ.fetch_add(1, Ordering::SeqCst), nanos() % 1_000_000);
        let store = Store::connect(&admin, 1)
            .await
            .unwrap_or_else(|e| panic!("PostgreSQL at WNS_TEST_PG is not reachable: {e}"));
        sqlx::query(&format!("create database {name}"))
            .execute(store.pool())
            .await
            .expect("creating the test database");
        store.close().await;
        let mut url = url::Url::parse(&admin).expect("WNS_TEST_PG is a URL");
        url.set_path(&format!("/{name}"));
        TestDb { url: url.to_string(), backend: Backend::Postgres, pg_admin: Some((admin, name)), dir: None }
    }

    /// A connected, migrated store on this database.
    pub async fn store(&self, max_connections: u32) -> Store {
        let store = Store::connect(&self.url, max_connections).await.expect("connecting to the test database");
        store.migrate().await.expect("migrating the test database");
        store
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some(dir) = &self.dir {
            let _ = std::fs::remove_dir_all(dir);
        }
        if let Some((admin, name)) = self.pg_admin.take() {
            // Drop runs outside async; a short-lived runtime on its own thread does the cleanup.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().ok()?;
                rt.block_on(async {
                    let store = Store::connect(&admin, 1).await.ok()?;
                    let _ = sqlx::query(&format!("drop database if exists {name} with (force)"))
                        .execute(store.pool())
                        .await;
                    store.close().await;
                    Some(())
                })
            })
            .join();
        }
    }
}

/// The PostgreSQL admin URL for tests; fails loudly instead of skipping, so a missing server
/// never passes for a green run.
pub fn pg_admin_url() -> String {
    std::env::var("WNS_TEST_PG").unwrap_or_else(|_| {
        panic!(
            "PostgreSQL tests need WNS_TEST_PG=postgres://user@host:port/db (a user that may create databases). \
             `cargo xtask test` sets it and starts a throwaway server when none runs."
        )
    })
}

/// Logs for a test run, only with `TEST_LOG=1`.
pub fn init_logs() {
    if std::env::var_os("TEST_LOG").is_some() {
        crate::telemetry::init(crate::config::LogFormat::Human, "debug,sqlx=warn");
    }
}

fn nanos() -> u128 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0)
}
