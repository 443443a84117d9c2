//! The `wns` command line: parse, load the configuration once, start logging, dispatch.

use std::{path::PathBuf, process::ExitCode};

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
        Command::Check | Command::Demo { .. } => unreachable!("handled above"),
    }
    Ok(ExitCode::SUCCESS)
}
