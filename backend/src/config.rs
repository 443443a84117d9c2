//! One typed configuration, loaded and validated once at start-up.
//!
//! Layers, later wins: built-in defaults (the embedded SQLite set-up) < `wns.toml` (or `--config`)
//! < `WNS_*` environment variables (`WNS_SERVER__BIND`, `WNS_DATABASE__URL`, …; `DATABASE_URL`
//! is honoured too). Nothing below `main` reads the environment. Secrets are `SecretString`,
//! so `Debug` and logs print `[REDACTED]`.

use std::{net::SocketAddr, path::Path, time::Duration};

use figment::{
    Figment,
    providers::{Format, Serialized, Toml},
};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use crate::{netsuite::NetSuiteSettings, queue::RetryPolicy, sync::SyncSettings, woo::WooSettings};

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Short name of the store; part of every NetSuite external id (`wc-<site>-order-<id>`).
    pub site: String,
    pub server: ServerSettings,
    pub database: DatabaseSettings,
    pub queue: QueueSettings,
    pub log: LogSettings,
    /// Absent until the NetSuite account is configured; `wns check` says so.
    #[serde(default)]
    pub netsuite: Option<NetSuiteSettings>,
    /// Absent until the store is configured; webhooks are then kept in quarantine.
    #[serde(default)]
    pub woocommerce: Option<WooSettings>,
    /// Absent: orders are received and kept, not posted. Needs `netsuite` and `woocommerce`.
    #[serde(default)]
    pub sync: Option<SyncSettings>,
    /// Absent: stock is not synchronised. Needs `netsuite` and `woocommerce`.
    #[serde(default)]
    pub stock: Option<crate::sync::inventory::StockSettings>,
    /// How WordPress users and operators authenticate to `/api/v1` and `/`.
    #[serde(default)]
    pub api: crate::api::auth::ApiSettings,
    /// Absent: the daily report is only fetched (`/api/v1/reports/daily`, `wns report daily`), never posted.
    #[serde(default)]
    pub report: Option<crate::monitor::report_post::ReportSettings>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    pub bind: SocketAddr,
    /// Where the built admin widget is (`wns_widget.js`, `wns_widget_bg.wasm`, from `cargo xtask
    /// widget`), for the dashboard at `/`. Absent: `wp-plugin/wns-sync/assets/pkg` under the
    /// working directory (a checkout). Without the files the dashboard shows the queue only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub widget_dir: Option<std::path::PathBuf>,
}

#[derive(Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSettings {
    /// `sqlite://wns.db` (created when missing) or `postgres://user:pass@host/db`.
    #[serde(serialize_with = "crate::secrets::serialize_secret")]
    pub url: SecretString,
    pub max_connections: u32,
}

impl std::fmt::Debug for DatabaseSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DatabaseSettings")
            .field("url", &redact_url(self.url.expose_secret()))
            .field("max_connections", &self.max_connections)
            .finish()
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct QueueSettings {
    /// Jobs run at once by this process.
    pub workers: usize,
    /// How long a claimed job belongs to its worker before another process may take it.
    pub lease_secs: u64,
    /// How often an idle worker looks for due jobs (jobs enqueued in-process wake it at once).
    pub poll_ms: u64,
    /// On SIGTERM: how long in-flight jobs may run on before they are released for others.
    pub shutdown_grace_secs: u64,
    pub retry: RetryPolicy,
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Human,
    Json,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LogSettings {
    pub format: LogFormat,
    /// `tracing` filter, e.g. `info,wns=debug`.
    pub filter: String,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            site: "shop".into(),
            server: ServerSettings { bind: ([127, 0, 0, 1], 8080).into(), widget_dir: None },
            database: DatabaseSettings { url: SecretString::from("sqlite://wns.db"), max_connections: 8 },
            queue: QueueSettings {
                workers: 8,
                lease_secs: 120,
                poll_ms: 500,
                shutdown_grace_secs: 20,
                retry: RetryPolicy::default(),
            },
            log: LogSettings { format: LogFormat::Human, filter: "info".into() },
            netsuite: None,
            woocommerce: None,
            sync: None,
            stock: None,
            report: None,
            api: crate::api::auth::ApiSettings::default(),
        }
    }
}

/// The top-level keys of [`Settings`]: a `WNS_<KEY>…` variable is configuration when it starts
/// with one of these.
const TOP_LEVEL_KEYS: &[&str] =
    &["site", "server", "database", "queue", "log", "netsuite", "woocommerce", "sync", "stock", "api"];

/// Where the settings came from, for the first log lines of `serve`.
#[derive(Debug, Clone)]
pub struct Provenance {
    pub file: Option<String>,
    pub env_keys: Vec<String>,
}

impl Provenance {
    pub fn is_embedded_default(&self) -> bool {
        self.file.is_none() && self.env_keys.is_empty()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration file {path} does not exist; create it or leave out --config to use the defaults")]
    MissingFile { path: String },
    #[error("{}\n  (set it in wns.toml, or as WNS_<SECTION>__<KEY> in the environment)", describe(.0))]
    Parse(Box<figment::Error>),
    #[error("configuration key `{key}` is invalid: {problem}")]
    Invalid { key: &'static str, problem: String },
}

/// A configuration error as a person reads it: where (the file, or the environment variable), the
/// key as written in `wns.toml` (`netsuite.account_id`), and what is wrong, with the closest known
/// key when one was misspelt — not the library's profile names and nested quotes.
fn describe(e: &figment::Error) -> String {
    use figment::error::Kind;
    (*e).clone()
        .into_iter()
        .map(|e| {
            let mut path: Vec<&str> = e.path.iter().map(String::as_str).collect();
            if matches!(path.first(), Some(&"default" | &"global")) {
                path.remove(0);
            }
            let in_file = e.metadata.as_ref().and_then(|m| m.source.as_ref()).and_then(|s| s.file_path()).map(|p| {
                p.file_name().map(|f| f.to_string_lossy().to_string()).unwrap_or_else(|| p.display().to_string())
            });
            let named = |path: &[&str]| match &in_file {
                Some(_) => path.join("."),
                None => format!("WNS_{}", path.join("__").to_uppercase()),
            };
            let problem = match &e.kind {
                Kind::UnknownField(field, expected) => {
                    if path.last() != Some(&field.as_str()) {
                        path.push(field);
                    }
                    let hint = closest(field, expected).map(|c| format!(" (did you mean {c}?)")).unwrap_or_default();
                    format!("unknown key {}{hint}", named(&path))
                }
                Kind::InvalidType(actual, expected) => {
                    let expected = match expected.as_str() {
                        "usize" | "u64" | "u32" | "u16" | "i64" | "i32" => "a whole number",
                        "f64" | "f32" => "a number",
                        other => other,
                    };
                    format!("{} is {actual}, but must be {expected}", named(&path))
                }
                Kind::MissingField(field) => {
                    path.push(field);
                    format!("{} is missing", named(&path))
                }
                other => format!("{}: {other}", named(&path)),
            };
            match in_file {
                Some(file) => format!("{file}: {problem}"),
                None => problem,
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The known name closest to `typed` by edit distance, when it is close enough to be a typo.
fn closest<'a>(typed: &str, known: &[&'a str]) -> Option<&'a str> {
    fn distance(a: &str, b: &str) -> usize {
        let b: Vec<char> = b.chars().collect();
        let mut row: Vec<usize> = (0..=b.len()).collect();
        for (i, ca) in a.chars().enumerate() {
            let mut prev = row[0];
            row[0] = i + 1;
            for (j, cb) in b.iter().enumerate() {
                let cur = row[j + 1];
                row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
                prev = cur;
            }
        }
        row[b.len()]
    }
    known.iter().map(|k| (distance(typed, k), *k)).filter(|(d, k)| *d <= 2.max(k.len() / 3)).min().map(|(_, k)| k)
}

impl Settings {
    /// Loads defaults < file < environment. `file` is the `--config` path; without it `wns.toml`
    /// in the working directory is read when it exists.
    pub fn load(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<(Settings, Provenance), ConfigError> {
        let env: Vec<(String, String)> = env.into_iter().collect();
        let mut fig = Figment::from(Serialized::defaults(Settings::default()));
        let mut used_file = None;
        match file {
            Some(p) if !p.exists() => {
                return Err(ConfigError::MissingFile { path: p.display().to_string() });
            }
            Some(p) => {
                fig = fig.merge(Toml::file_exact(p));
                used_file = Some(p.display().to_string());
            }
            None if Path::new("wns.toml").exists() => {
                fig = fig.merge(Toml::file_exact("wns.toml"));
                used_file = Some("wns.toml".into());
            }
            None => {}
        }
        let mut env_keys = Vec::new();
        let mut pairs = Vec::new();
        for (k, v) in &env {
            if let Some(rest) = k.strip_prefix("WNS_") {
                // Only variables naming a configuration section are configuration; tooling
                // variables such as WNS_TEST_PG share the prefix and are not ours to reject.
                let section = rest.split("__").next().unwrap_or_default().to_ascii_lowercase();
                if !TOP_LEVEL_KEYS.contains(&section.as_str()) {
                    continue;
                }
                env_keys.push(k.clone());
                pairs.push((rest.to_ascii_lowercase().replace("__", "."), v.clone()));
            } else if k == "DATABASE_URL" {
                env_keys.push(k.clone());
                pairs.push(("database.url".into(), v.clone()));
            }
        }
        // Explicit pairs instead of `Env::prefixed`, so tests can pass an environment of their own.
        // Environment values stay strings; the lossy extraction reads "4" as a number only where a
        // number is wanted, so `WNS_NETSUITE__ACCOUNT_ID=1234567` or an empty value stays a string.
        for (key, value) in pairs {
            fig = fig.merge((key.as_str(), env_value(value)));
        }
        let mut settings: Settings = fig.extract_lossy().map_err(|e| ConfigError::Parse(Box::new(e)))?;
        if let Some(sync) = &mut settings.sync {
            sync.orders.site = settings.site.clone();
        }
        settings.validate()?;
        Ok((settings, Provenance { file: used_file, env_keys }))
    }

    /// Every numeric setting with the range it must lie in: checked at start-up, so a value
    /// that would overflow arithmetic later (`netsuite.retries = 32`) is named at once.
    fn numeric_ranges(&self) -> Vec<(&'static str, i128, i128, i128)> {
        let q = &self.queue;
        let r = &q.retry;
        let mut v: Vec<(&'static str, i128, i128, i128)> = vec![
            ("database.max_connections", self.database.max_connections.into(), 1, 1_000),
            ("queue.workers", q.workers as i128, 1, 10_000),
            ("queue.lease_secs", q.lease_secs.into(), 5, 86_400),
            ("queue.poll_ms", q.poll_ms.into(), 10, 600_000),
            ("queue.shutdown_grace_secs", q.shutdown_grace_secs.into(), 0, 3_600),
            ("queue.retry.base_ms", r.base_ms.into(), 1, 3_600_000),
            ("queue.retry.max_delay_secs", r.max_delay_secs.into(), 1, 7 * 86_400),
            ("queue.retry.max_attempts", r.max_attempts.into(), 1, 1_000),
            ("queue.retry.retry_after_min_ms", r.retry_after_min_ms.into(), 0, 3_600_000),
            ("queue.retry.retry_after_max_secs", r.retry_after_max_secs.into(), 1, 7 * 86_400),
        ];
        if let Some(ns) = &self.netsuite {
            let g = &ns.governor;
            v.extend([
                ("netsuite.request_timeout_secs", ns.request_timeout_secs.into(), 1, 3_600),
                ("netsuite.retries", ns.retries.into(), 0, 10),
                ("netsuite.auth_pause_secs", ns.auth_pause_secs.into(), 0, 86_400),
                ("netsuite.governor.concurrency_limit", g.concurrency_limit as i128, 1, 1_000),
                ("netsuite.governor.reserve", g.reserve as i128, 0, 999),
                ("netsuite.governor.probe_interval_secs", g.probe_interval_secs.into(), 1, 86_400),
                ("netsuite.governor.starvation_limit_secs", g.starvation_limit_secs.into(), 1, 86_400),
            ]);
        }
        if let Some(w) = &self.woocommerce {
            v.extend([
                ("woocommerce.webhook_max_body_bytes", w.webhook_max_body_bytes as i128, 65_536, 64 << 20),
                ("woocommerce.sweep_every_secs", w.sweep_every_secs.into(), 10, 86_400),
                ("woocommerce.webhook_check_every_secs", w.webhook_check_every_secs.into(), 10, 86_400),
            ]);
        }
        if let Some(sync) = &self.sync {
            let b = &sync.batch;
            v.extend([
                ("sync.recheck_secs", sync.recheck_secs.into(), 1, 86_400),
                ("sync.batch.sync_slots", b.sync_slots as i128, 1, 1_000),
                ("sync.batch.max_records", b.max_records as i128, 1, 100),
                ("sync.batch.linger_ms", b.linger_ms.into(), 0, 60_000),
                ("sync.batch.poll_ms", b.poll_ms.into(), 10, 600_000),
                ("sync.batch.max_jobs", b.max_jobs as i128, 1, 1_000),
            ]);
        }
        if let Some(st) = &self.stock {
            v.extend([
                ("stock.every_secs", st.every_secs.into(), 1, 86_400),
                ("stock.overlap_secs", st.overlap_secs.into(), 0, 86_400),
                ("stock.full_every_secs", st.full_every_secs.into(), 60, 30 * 86_400),
                ("stock.stale_after_secs", st.stale_after_secs.into(), 1, 30 * 86_400),
                ("stock.buffer", st.buffer.into(), 0, 1_000_000),
                ("stock.drift_grace_secs", st.drift_grace_secs.into(), 0, 86_400),
            ]);
        }
        v
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |key, problem: &str| Err(ConfigError::Invalid { key, problem: problem.into() });
        if let Some((key, value, lo, hi)) =
            self.numeric_ranges().into_iter().find(|(_, value, lo, hi)| value < lo || value > hi)
        {
            let bound = if value < lo { format!("at least {lo}") } else { format!("at most {hi}") };
            return Err(ConfigError::Invalid {
                key,
                problem: format!("must be {bound} (it is {value}; use {lo} to {hi})"),
            });
        }
        if self.site.is_empty()
            || !self.site.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            || self.site.len() > 20
        {
            return invalid("site", "use 1–20 letters, digits or '-' (it becomes part of NetSuite external ids)");
        }
        let url = self.database.url.expose_secret();
        if !(url.starts_with("sqlite:") || url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            return invalid("database.url", "must start with sqlite:// or postgres://");
        }
        if self.database.max_connections == 0 {
            return invalid("database.max_connections", "must be at least 1");
        }
        if self.queue.workers == 0 {
            return invalid("queue.workers", "must be at least 1");
        }
        if self.queue.lease_secs < 5 {
            return invalid("queue.lease_secs", "must be at least 5 seconds");
        }
        self.queue.retry.validate().map_err(|problem| ConfigError::Invalid { key: "queue.retry", problem })?;
        if let Some(ns) = &self.netsuite {
            ns.validate().map_err(|(key, problem)| ConfigError::Invalid { key, problem })?;
        }
        if let Some(woo) = &self.woocommerce {
            woo.validate().map_err(|(key, problem)| ConfigError::Invalid { key, problem })?;
        }
        if let Some(sync) = &self.sync {
            sync.validate().map_err(|(key, problem)| ConfigError::Invalid { key, problem })?;
            if self.netsuite.is_none() || self.woocommerce.is_none() {
                return invalid("sync", "needs [netsuite] and [woocommerce] configured too");
            }
        }
        self.api.validate().map_err(|(key, problem)| ConfigError::Invalid { key, problem })?;
        if let Some(report) = &self.report {
            report.validate().map_err(|(key, problem)| ConfigError::Invalid { key, problem })?;
        }
        if let Some(stock) = &self.stock {
            stock.validate().map_err(|(key, problem)| ConfigError::Invalid { key, problem })?;
            if self.netsuite.is_none() || self.woocommerce.is_none() {
                return invalid("stock", "needs [netsuite] and [woocommerce] configured too");
            }
        }
        Ok(())
    }

    pub fn lease(&self) -> Duration {
        Duration::from_secs(self.queue.lease_secs)
    }
}

/// An environment value: a list or table (`["1", "2"]`, `{ sku = 2 }`) is parsed, anything else
/// stays the string it is (numbers and booleans are read from it only where a setting wants one).
fn env_value(v: String) -> figment::value::Value {
    let t = v.trim_start();
    if t.starts_with('[') || t.starts_with('{') {
        v.parse().unwrap_or_else(|never: std::convert::Infallible| match never {})
    } else {
        figment::value::Value::from(v)
    }
}

pub use crate::secrets::redact_url;

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn no_configuration_at_all_is_the_embedded_default() {
        let (s, p) = Settings::load(None, env(&[("HOME", "/root")])).unwrap();
        assert!(p.is_embedded_default());
        assert_eq!(s.database.url.expose_secret(), "sqlite://wns.db");
        assert_eq!(s.server.bind.to_string(), "127.0.0.1:8080");
    }

    /// The README's example is what a newcomer copies: it must load as written (placeholders
    /// `…` filled in), [sync] included.
    #[test]
    fn the_readmes_example_configuration_loads() {
        let readme = include_str!("../../README.md");
        let start = readme.find("```toml\n").expect("README has a toml example") + "```toml\n".len();
        let block = &readme[start..start + readme[start..].find("```").unwrap()];
        let filled = block.replace('…', "0123456789abcdef0123");
        let dir = std::env::temp_dir().join(format!("wns-readme-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("wns.toml");
        std::fs::write(&file, filled).unwrap();
        let (s, _) = Settings::load(Some(&file), env(&[])).unwrap_or_else(|e| panic!("README example: {e}"));
        let sync = s.sync.expect("the example has [sync]");
        assert_eq!(sync.orders.site, "shop", "the site reaches the order mapping");
        assert_eq!(sync.routing.rules.len(), 2);
        assert_eq!(sync.orders.tax_tolerance, rust_decimal::Decimal::new(1, 2));
        assert_eq!(s.stock.expect("the example has [stock]").buffers["MUG-RED"], 2);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn environment_overrides_the_file_and_gets_typed() {
        let dir = std::env::temp_dir().join(format!("wns-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("wns.toml");
        std::fs::write(&file, "site = \"eu\"\n[queue]\nworkers = 2\n").unwrap();
        let (s, p) = Settings::load(
            Some(&file),
            env(&[("WNS_QUEUE__WORKERS", "5"), ("DATABASE_URL", "postgres://u:pw@db/wns")]),
        )
        .unwrap();
        assert_eq!((s.site.as_str(), s.queue.workers), ("eu", 5));
        assert_eq!(s.database.url.expose_secret(), "postgres://u:pw@db/wns");
        assert_eq!(p.env_keys, vec!["WNS_QUEUE__WORKERS", "DATABASE_URL"]);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn an_unknown_or_mistyped_key_is_named_in_the_error() {
        let err = Settings::load(None, env(&[("WNS_QUEUE__WROKERS", "5")])).unwrap_err().to_string();
        assert!(err.starts_with("unknown key WNS_QUEUE__WROKERS (did you mean workers?)"), "{err}");
        let err = Settings::load(None, env(&[("WNS_QUEUE__WORKERS", "many")])).unwrap_err().to_string();
        assert!(err.starts_with("WNS_QUEUE__WORKERS is string \"many\", but must be a whole number"), "{err}");
        assert!(err.contains("WNS_<SECTION>__<KEY>"), "says how to set it: {err}");
        // In a file: the file, the key as written there, no library profile names.
        let dir = std::env::temp_dir().join(format!("wns-config-words-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("wns.toml");
        for (text, expected) in [
            ("sitee = \"x\"\n", "wns.toml: unknown key sitee (did you mean site?)"),
            ("[netsuite]\naccount_id = 5\n", "wns.toml: netsuite.account_id is signed int `5`, but must be a string"),
        ] {
            std::fs::write(&file, text).unwrap();
            let err = Settings::load(Some(&file), env(&[])).unwrap_err().to_string();
            assert!(err.starts_with(expected), "{err}");
            assert!(!err.contains("default.") && !err.contains("global.") && !err.contains("configuration:"), "{err}");
        }
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn tooling_variables_with_the_prefix_are_not_configuration() {
        let (_, p) = Settings::load(None, env(&[("WNS_TEST_PG", "postgres://x"), ("WNS_BENCH_JOBS", "5")])).unwrap();
        assert!(p.is_embedded_default());
    }

    #[test]
    fn invalid_values_name_the_key_and_the_fix() {
        let err = Settings::load(None, env(&[("WNS_SITE", "my shop!")])).unwrap_err().to_string();
        assert!(err.contains("`site`") && err.contains("letters, digits"), "{err}");
        let err = Settings::load(None, env(&[("DATABASE_URL", "mysql://x")])).unwrap_err().to_string();
        assert!(err.contains("database.url"), "{err}");
        let err = Settings::load(Some(Path::new("/nonexistent/wns.toml")), env(&[])).unwrap_err().to_string();
        assert!(err.contains("does not exist"), "{err}");
    }

    #[test]
    fn netsuite_is_configured_from_the_environment_and_its_secrets_stay_hidden() {
        let (s, _) = Settings::load(
            None,
            env(&[
                ("WNS_NETSUITE__ACCOUNT_ID", "1234567_SB1"),
                ("WNS_NETSUITE__AUTH__METHOD", "tba"),
                ("WNS_NETSUITE__AUTH__CONSUMER_KEY", "ck"),
                ("WNS_NETSUITE__AUTH__CONSUMER_SECRET", "consumer-hunter2"),
                ("WNS_NETSUITE__AUTH__TOKEN_ID", "tk"),
                ("WNS_NETSUITE__AUTH__TOKEN_SECRET", "token-hunter2"),
                ("WNS_NETSUITE__GOVERNOR__CONCURRENCY_LIMIT", "15"),
            ]),
        )
        .unwrap();
        let ns = s.netsuite.as_ref().unwrap();
        assert_eq!(ns.governor.budget(), 15);
        let printed = format!("{s:?}");
        assert!(!printed.contains("hunter2"), "{printed}");
        let err = Settings::load(
            None,
            env(&[
                ("WNS_NETSUITE__ACCOUNT_ID", "1234567_sb1"),
                ("WNS_NETSUITE__AUTH__METHOD", "tba"),
                ("WNS_NETSUITE__AUTH__CONSUMER_KEY", "ck"),
                ("WNS_NETSUITE__AUTH__CONSUMER_SECRET", "x"),
                ("WNS_NETSUITE__AUTH__TOKEN_ID", "tk"),
                ("WNS_NETSUITE__AUTH__TOKEN_SECRET", "y"),
            ]),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("netsuite.account_id") && err.contains("1234567_SB1"), "{err}");
    }

    fn netsuite_env(account_id: &str, extra: &[(&str, &str)]) -> Vec<(String, String)> {
        let mut pairs = vec![
            ("WNS_NETSUITE__ACCOUNT_ID", account_id),
            ("WNS_NETSUITE__AUTH__METHOD", "tba"),
            ("WNS_NETSUITE__AUTH__CONSUMER_KEY", "12345"),
            ("WNS_NETSUITE__AUTH__CONSUMER_SECRET", "true"),
            ("WNS_NETSUITE__AUTH__TOKEN_ID", "0042"),
            ("WNS_NETSUITE__AUTH__TOKEN_SECRET", "1.5"),
        ];
        pairs.extend_from_slice(extra);
        env(&pairs)
    }

    #[test]
    fn string_keys_take_digits_booleans_and_empty_values_from_the_environment() {
        // Production account ids are digits only.
        let (s, _) = Settings::load(None, netsuite_env("1234567", &[])).unwrap();
        let ns = s.netsuite.unwrap();
        assert_eq!(ns.account_id, "1234567");
        let crate::netsuite::AuthSettings::Tba(t) = &ns.auth else { panic!("tba") };
        assert_eq!((t.consumer_key.as_str(), t.token_id.as_str()), ("12345", "0042"), "leading zeros kept");
        assert_eq!(t.consumer_secret.expose_secret(), "true");
        assert_eq!(t.token_secret.expose_secret(), "1.5");
        let (s, _) = Settings::load(None, env(&[("WNS_SITE", "2024")])).unwrap();
        assert_eq!(s.site, "2024");
        let err = Settings::load(None, env(&[("WNS_SITE", "")])).unwrap_err().to_string();
        assert!(err.contains("site"), "an empty string is a string, refused by its own rule: {err}");
    }

    #[test]
    fn numeric_settings_out_of_range_name_the_key() {
        let err = Settings::load(None, netsuite_env("1234567", &[("WNS_NETSUITE__RETRIES", "32")])).unwrap_err();
        let err = err.to_string();
        assert!(err.contains("netsuite.retries") && err.contains("0 to 10"), "{err}");
        let err = Settings::load(None, env(&[("WNS_QUEUE__POLL_MS", "0")])).unwrap_err().to_string();
        assert!(err.contains("queue.poll_ms"), "{err}");
        let err = Settings::load(None, env(&[("WNS_QUEUE__RETRY__MAX_ATTEMPTS", "100000")])).unwrap_err().to_string();
        assert!(err.contains("queue.retry.max_attempts"), "{err}");
        Settings::load(None, netsuite_env("1234567", &[("WNS_NETSUITE__RETRIES", "10")])).unwrap();
    }

    #[test]
    fn secrets_never_reach_debug_output() {
        let (s, _) = Settings::load(None, env(&[("DATABASE_URL", "postgres://wns:hunter2@db:5432/wns")])).unwrap();
        let printed = format!("{s:?}");
        assert!(!printed.contains("hunter2"), "{printed}");
        assert!(printed.contains("postgres://wns:***@db:5432/wns"), "{printed}");
    }
}
