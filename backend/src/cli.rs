//! The `wns` command line: parse, load the configuration once, start logging, dispatch.

use std::{
    net::{Ipv4Addr, Ipv6Addr},
    path::PathBuf,
    process::ExitCode,
    time::Duration,
};

use clap::{Parser, Subcommand};
use secrecy::ExposeSecret;

use crate::{
    app::{Application, shutdown_on_signals},
    check, clock,
    config::{LogFormat, Settings, redact_url},
    queue::Handlers,
    store::Store,
    telemetry,
};

#[derive(Debug, Parser)]
#[command(name = "wns", version, about = "WooCommerce ⇄ NetSuite sync")]
pub struct Cli {
    /// Configuration file (default: ./wns.toml when it exists, else built-in defaults).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Log format; overrides `log.format`.
    #[arg(long, global = true, value_enum)]
    pub log_format: Option<LogFormat>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the API, the webhook receiver and the workers.
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Check the configuration and the database, with a plain verdict for each.
    Check,
    /// Exit 0 when the `wns serve` this configuration describes answers `/livez` at `server.bind`
    /// (a container's HEALTHCHECK: the image has no shell or curl), 1 with the reason otherwise.
    Healthcheck,
    /// Map a WooCommerce SKU to a NetSuite item; the orders waiting for it go on at once.
    Map {
        /// The SKU as WooCommerce has it.
        sku: String,
        /// The NetSuite item's internal id (from its URL in NetSuite).
        item: String,
    },
    /// The daily exception report, grouped by owner (HTML or CSV on standard output).
    Report {
        /// The day, YYYY-MM-DD (UTC); yesterday by default.
        #[arg(long)]
        date: Option<String>,
        /// html or csv.
        #[arg(long, default_value = "html")]
        format: String,
    },
    /// Operators' API keys for `/api/v1` and the status page.
    Keys {
        #[command(subcommand)]
        action: KeysCommand,
    },
    /// Check a WordPress user token (read from standard input) the way `/api/v1` does, against
    /// `[api]` (jwt_secret, sites, leeway_secs): prints who it is and what it may do, or why it is
    /// refused (exit status 1).
    VerifyToken {
        /// Check at this Unix time (seconds) instead of now.
        #[arg(long, value_name = "UNIX_SECS")]
        at: Option<u64>,
    },
    /// Run everything on the embedded default with generated traffic; open the printed URL.
    Demo {
        /// Run this many seconds, print a summary and exit 0 (default: until Ctrl-C).
        #[arg(long, value_name = "SECS")]
        duration: Option<u64>,
    },
}

#[cfg(feature = "sim")]
async fn run_demo(format: Option<LogFormat>, duration: Option<u64>) -> anyhow::Result<ExitCode> {
    // The demo prints its own progress; one log line per order would drown it.
    telemetry::init(
        format.unwrap_or(LogFormat::Human),
        "warn,wns=info,wns::sync::order_flow=warn,wns::queue::worker=error",
    );
    crate::demo::run(duration.map(std::time::Duration::from_secs)).await.map(|()| ExitCode::SUCCESS)
}

#[cfg(not(feature = "sim"))]
async fn run_demo(_: Option<LogFormat>, _: Option<u64>) -> anyhow::Result<ExitCode> {
    anyhow::bail!(
        "this wns was built for production, without the demo and its simulators; run the demo from a clone of the repository with `cargo xtask demo`"
    )
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Make a key; it is printed once and only its hash is kept.
    Create {
        /// Who or what uses it (`ops`, `grafana`).
        #[arg(long)]
        name: String,
        /// Comma-separated: view, map_skus, replay, resolve.
        #[arg(long, default_value = "view")]
        caps: String,
    },
    /// The keys, without their secrets.
    List,
    /// Stop a key working at once.
    Revoke {
        /// The key's name.
        name: String,
    },
}

async fn keys(settings: &Settings, action: KeysCommand) -> anyhow::Result<ExitCode> {
    use crate::api::auth;
    let store = Store::connect(settings.database.url.expose_secret(), 1).await?;
    store.migrate().await?;
    let now = clock::system().now();
    match action {
        KeysCommand::Create { name, caps } => {
            let caps = auth::Cap::parse_list(&caps).map_err(|e| anyhow::anyhow!("--caps: {e}"))?;
            let key = auth::create_key(&store, &name, &caps, now).await.map_err(|e| anyhow::anyhow!(e))?;
            println!("{key}");
            eprintln!("key {name:?} created; it is shown this once: send it as `Authorization: Bearer <key>`");
        }
        KeysCommand::List => {
            for k in auth::list_keys(&store).await? {
                let state = if k.revoked_at.is_some() { "revoked" } else { "active" };
                let used =
                    k.last_used_at.map(|t| format!("last used {}", when(t))).unwrap_or_else(|| "never used".into());
                println!("{}\t{}…\t{}\t{state}\tcreated {}\t{used}", k.name, k.prefix, k.caps, when(k.created_at));
            }
        }
        KeysCommand::Revoke { name } => {
            if !auth::revoke_key(&store, &name, now).await? {
                anyhow::bail!("no active key named {name:?} (`wns keys list` shows them)");
            }
            println!("key {name:?} revoked");
        }
    }
    store.close().await;
    Ok(ExitCode::SUCCESS)
}

async fn map(settings: &Settings, sku: &str, item: &str) -> anyhow::Result<ExitCode> {
    if sku.trim().is_empty() || item.is_empty() || !item.chars().all(|c| c.is_ascii_digit()) {
        anyhow::bail!("usage: wns map <SKU> <NetSuite item internal id> (digits, as in the item's URL in NetSuite)");
    }
    let store = Store::connect(settings.database.url.expose_secret(), 1).await?;
    store.migrate().await?;
    let queue = crate::queue::Queue::new(store.clone(), clock::system(), settings.queue.retry.clone());
    let who = format!("cli:{}", std::env::var("USER").unwrap_or_else(|_| "operator".into()));
    let released = crate::sync::sales_order::save_mapping(&queue, sku, item, &who).await?;
    let change = crate::monitor::audit::Change {
        who: &who,
        entity: &format!("sku:{sku}"),
        action: "sku_mapping.save",
        before: None,
        after: Some(serde_json::json!({ "netsuite_item_id": item, "orders_released": released })),
    };
    change.record(&store, queue.now()).await?;
    println!("SKU {sku} maps to NetSuite item {item}; {released} waiting orders go on to NetSuite now");
    store.close().await;
    Ok(ExitCode::SUCCESS)
}

async fn report(settings: &Settings, date: Option<&str>, format: &str) -> anyhow::Result<ExitCode> {
    let day = match date {
        Some(d) => chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d")
            .map_err(|_| anyhow::anyhow!("--date {d:?} is not a day such as 2026-12-01"))?,
        None => crate::monitor::report::yesterday(clock::system().now()),
    };
    let store = Store::connect(settings.database.url.expose_secret(), 1).await?;
    store.migrate().await?;
    let lines = crate::monitor::report::daily(&store, day).await?;
    match format {
        "html" => print!("{}", crate::monitor::report::html(day, &lines)),
        "csv" => print!("{}", crate::monitor::report::csv(&lines)),
        other => anyhow::bail!("--format {other:?}: use html or csv"),
    }
    store.close().await;
    Ok(ExitCode::SUCCESS)
}

/// GETs `/livez` where `wns serve` listens with this configuration; an unspecified bind address
/// (`0.0.0.0`, `[::]`) is asked on the loopback of the same family.
async fn healthcheck(settings: &Settings) -> anyhow::Result<ExitCode> {
    let mut addr = settings.server.bind;
    if addr.ip().is_unspecified() {
        addr.set_ip(if addr.is_ipv4() { Ipv4Addr::LOCALHOST.into() } else { Ipv6Addr::LOCALHOST.into() });
    }
    let url = format!("http://{addr}/livez");
    let bind = settings.server.bind;
    let client = reqwest::Client::builder().no_proxy().timeout(Duration::from_secs(2)).build()?;
    let response = match client.get(&url).send().await {
        Ok(r) => r,
        Err(e) => {
            // reqwest's own words are "error sending request"; the cause is at the end of the chain.
            let mut cause: &dyn std::error::Error = &e;
            while let Some(inner) = cause.source() {
                cause = inner;
            }
            let cause = if e.is_timeout() { "no answer within 2 s".to_string() } else { cause.to_string() };
            anyhow::bail!(
                "no wns answers at {url} (server.bind = {bind}): {cause}; is `wns serve` running with this configuration?"
            );
        }
    };
    let status = response.status();
    let body = response.text().await.unwrap_or_default();
    if !status.is_success() || !body.contains("alive") {
        anyhow::bail!("{url} answered {status} {body:?}, not wns's {{\"status\":\"alive\"}} (server.bind = {bind})");
    }
    println!("ok   wns answers at {url}");
    Ok(ExitCode::SUCCESS)
}

fn verify_token(settings: &Settings, at: Option<u64>) -> anyhow::Result<ExitCode> {
    use std::io::Read;
    let mut token = String::new();
    std::io::stdin().read_to_string(&mut token)?;
    let now = at.unwrap_or_else(|| (clock::system().now() / 1000).max(0) as u64);
    match crate::api::auth::user_caller(&settings.api, token.trim(), now) {
        Ok(caller) => {
            let caps: Vec<&str> = caller.caps.iter().map(|c| c.as_str()).collect();
            println!(
                "accepted: {} may {}",
                caller.who,
                if caps.is_empty() { "nothing".into() } else { caps.join(",") }
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            println!("refused: {e}");
            Ok(ExitCode::FAILURE)
        }
    }
}

fn when(ms: i64) -> String {
    chrono::DateTime::<chrono::Utc>::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_default()
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("starting the tokio runtime");
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    if let Command::Check = cli.command {
        return Ok(check::run(cli.config.as_deref(), std::env::vars()).await);
    }
    if let Command::Demo { duration } = cli.command {
        if let Some(file) = cli.config.as_deref() {
            // A file that is missing or wrong fails as for `serve`; a good one is not used.
            Settings::load(Some(file), std::env::vars())?;
            println!(
                "wns demo: {} is valid, but the demo runs on its own settings (both simulators, wns-demo.db); `wns serve --config {0}` uses it",
                file.display()
            );
        }
        return run_demo(cli.log_format, duration).await;
    }
    let (settings, provenance) = Settings::load(cli.config.as_deref(), std::env::vars())?;
    telemetry::init(cli.log_format.unwrap_or(settings.log.format), &settings.log.filter);
    match cli.command {
        Command::Serve => {
            if provenance.is_embedded_default() {
                tracing::info!(
                    "no configuration given: running on the embedded default (SQLite file wns.db in {}, listening on {})",
                    std::env::current_dir().map(|d| d.display().to_string()).unwrap_or_default(),
                    settings.server.bind
                );
            } else {
                tracing::info!(file = ?provenance.file, env = ?provenance.env_keys, "configuration loaded");
            }
            tracing::info!(database = %redact_url(settings.database.url.expose_secret()), site = %settings.site, "starting");
            let app = Application::build(&settings, clock::system(), Handlers::new()).await?;
            tracing::info!("listening on http://{}", app.addr());
            app.run(shutdown_on_signals()).await?;
        }
        Command::Migrate => {
            let store = Store::connect(settings.database.url.expose_secret(), 1).await?;
            store.migrate().await?;
            println!("database migrated ({})", store.backend().name());
        }
        Command::Keys { action } => return keys(&settings, action).await,
        Command::Map { sku, item } => return map(&settings, &sku, &item).await,
        Command::Report { date, format } => return report(&settings, date.as_deref(), &format).await,
        Command::Healthcheck => return healthcheck(&settings).await,
        Command::VerifyToken { at } => return verify_token(&settings, at),
        Command::Check | Command::Demo { .. } => unreachable!("handled above"),
    }
    Ok(ExitCode::SUCCESS)
}
