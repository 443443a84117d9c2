//! The database: SQLite (a file, WAL mode, created when missing) by default, PostgreSQL for
//! production and for several replicas. One `AnyPool` serves both; SQL is written once with
//! `$1` placeholders (both accept them) and branches on [`Backend`] only where the engines differ
//! (row locking in the queue's claim, the migration set).

pub mod order_amounts;
pub mod order_units;
pub mod watermarks;

/// `$from, $from+1, …` for `n` bound values: an `in (…)` list both engines accept.
pub fn placeholders(from: usize, n: usize) -> String {
    (from..from + n).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}

use std::{str::FromStr, time::Duration};

use sqlx::{
    AnyPool, Executor,
    any::{AnyConnectOptions, AnyPoolOptions},
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database url must start with sqlite:// or postgres://, got `{0}`")]
    UnsupportedUrl(String),
    #[error("cannot open the database at {url}: {cause}")]
    Connect { url: String, cause: String },
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error(transparent)]
    Sql(#[from] sqlx::Error),
}

#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
}

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

impl Store {
    /// Opens (and for SQLite creates) the database. Does not migrate; see [`Store::migrate`].
    pub async fn connect(url: &str, max_connections: u32) -> Result<Store, StoreError> {
        sqlx::any::install_default_drivers();
        let redacted = crate::secrets::redact_url(url);
        let (backend, url) = if url.starts_with("sqlite:") {
            (Backend::Sqlite, sqlite_url(url))
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            (Backend::Postgres, url.to_string())
        } else {
            return Err(StoreError::UnsupportedUrl(redacted));
        };
        let options = AnyConnectOptions::from_str(&url)
            .map_err(|e| StoreError::Connect { url: redacted.clone(), cause: e.to_string() })?;
        if backend == Backend::Postgres {
            // One connection first, with a short limit: the pool would wait its whole acquire
            // timeout and then say only that it timed out, hiding why (refused, unknown host,
            // authentication, TLS).
            probe(&options).await.map_err(|cause| StoreError::Connect { url: redacted.clone(), cause })?;
        }
        let mut pool = AnyPoolOptions::new().max_connections(max_connections).acquire_timeout(Duration::from_secs(30));
        if backend == Backend::Sqlite {
            pool = pool.after_connect(|conn, _| {
                Box::pin(async move {
                    // WAL: readers never block the writer. NORMAL sync is durable across process
                    // crashes (the case the queue must survive); busy_timeout makes the single
                    // writer lock wait instead of failing when several processes share the file.
                    conn.execute(
                        "pragma journal_mode = wal; pragma synchronous = normal; \
                         pragma busy_timeout = 10000; pragma foreign_keys = on;",
                    )
                    .await?;
                    Ok(())
                })
            });
        }
        let pool = pool
            .connect_with(options)
            .await
            .map_err(|e| StoreError::Connect { url: redacted, cause: e.to_string() })?;
        Ok(Store { pool, backend })
    }

    pub async fn migrate(&self) -> Result<(), StoreError> {
        match self.backend {
            Backend::Sqlite => SQLITE_MIGRATIONS.run(&self.pool).await?,
            Backend::Postgres => POSTGRES_MIGRATIONS.run(&self.pool).await?,
        }
        Ok(())
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// One round trip, for `/healthz` and `wns check`.
    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        sqlx::query("select 1").execute(&self.pool).await.map(|_| ())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// How long the first connection may take before wns says the server does not answer.
const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

/// Opens and closes one connection; the error says what went wrong and what to check.
async fn probe(options: &AnyConnectOptions) -> Result<(), String> {
    use sqlx::{ConnectOptions, Connection};
    match tokio::time::timeout(PROBE_TIMEOUT, options.connect()).await {
        Ok(Ok(conn)) => {
            let _ = conn.close().await;
            Ok(())
        }
        Ok(Err(e)) => Err(connect_cause(&e)),
        Err(_) => Err(format!(
            "no answer within {} s (a firewall dropping the packets, or the wrong host or port)",
            PROBE_TIMEOUT.as_secs()
        )),
    }
}

/// A failed PostgreSQL connection in words: the cause, then what to check.
fn connect_cause(e: &sqlx::Error) -> String {
    match e {
        sqlx::Error::Io(io) if io.kind() == std::io::ErrorKind::ConnectionRefused => {
            "connection refused: nothing listens at that host and port (is PostgreSQL running, on that port?)".into()
        }
        sqlx::Error::Io(io) if io.to_string().contains("lookup") => {
            format!("unknown host: the name does not resolve ({io}); check the host name")
        }
        sqlx::Error::Io(io) => format!("network error: {io}"),
        sqlx::Error::Tls(t) => {
            format!("TLS failed: {t}; check sslmode and the server's certificate (sslrootcert)")
        }
        sqlx::Error::Database(db) => match db.code().as_deref() {
            Some("28P01") => format!("authentication failed: {}; check the user and password", db.message()),
            Some("28000") => format!("authentication failed: {}; check the user name and pg_hba.conf", db.message()),
            Some("3D000") => format!("{}; create it or fix the database name", db.message()),
            _ => format!("the server refused the connection: {}", db.message()),
        },
        other => other.to_string(),
    }
}

/// `sqlite://wns.db` → `sqlite://wns.db?mode=rwc`, so the file is created when missing.
fn sqlite_url(url: &str) -> String {
    if url.contains("mode=") || url.contains(":memory:") {
        url.to_string()
    } else if url.contains('?') {
        format!("{url}&mode=rwc")
    } else {
        format!("{url}?mode=rwc")
    }
}
