//! `woo-sim`: a simulated WooCommerce store on a port, with a seeded catalogue, for the demo and
//! for poking at by hand. Prints where it listens and the REST keys, then runs until Ctrl-C.

use std::net::SocketAddr;
use std::time::Duration;

use clap::Parser;
use wns_sim::latency::Latency;
use wns_sim::woo::{WebhookDelivery, WooConfig, WooSim, seed_catalogue};

#[derive(Parser)]
#[command(about = "Simulated WooCommerce store (wc/v3, WooCommerce Payments, webhooks)")]
struct Args {
    #[arg(long, default_value = "127.0.0.1:9500")]
    listen: SocketAddr,
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// Catalogue size; every tenth product is variable (S/M/L).
    #[arg(long, default_value_t = 50)]
    products: usize,
    /// Treat requests as HTTPS (Basic and query-string keys accepted).
    #[arg(long)]
    https: bool,
    /// Home URL the store prints in links and signs OAuth with (default: http://<listen>).
    #[arg(long)]
    site_url: Option<String>,
    #[arg(long, default_value_t = 0)]
    latency_median_ms: u64,
    #[arg(long, default_value_t = 0)]
    latency_p99_ms: u64,
    #[arg(long, default_value_t = 0.0)]
    webhook_loss: f64,
    #[arg(long, default_value_t = 0)]
    webhook_delay_ms: u64,
    #[arg(long, default_value = "USD")]
    currency: String,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt().with_env_filter(tracing_subscriber::EnvFilter::from_default_env()).init();
    let args = Args::parse();
    let defaults = WooConfig::for_tests();
    let cfg = WooConfig {
        https: args.https,
        site_url: args.site_url,
        latency: Latency::new(
            Duration::from_millis(args.latency_median_ms),
            Duration::from_millis(args.latency_p99_ms),
        ),
        webhook_delivery: WebhookDelivery {
            delay: Duration::from_millis(args.webhook_delay_ms),
            loss_rate: args.webhook_loss,
            ..WebhookDelivery::default()
        },
        seed: args.seed,
        currency: args.currency,
        ..defaults
    };
    let (key, secret) = (cfg.consumer_key.clone(), cfg.consumer_secret.clone());
    let running = WooSim::spawn_at(cfg, args.listen).await?;
    let items = seed_catalogue(&running.sim, args.products, args.seed);
    println!("WooCommerce simulator on {}", running.base_url);
    println!("  site URL         {}", running.sim.site_url());
    println!("  consumer key     {key}");
    println!("  consumer secret  {secret}");
    println!("  catalogue        {} purchasable items ({} products), SKUs WNS-0001…", items.len(), args.products);
    println!("  control API      {}/_sim/ (counters, checkout, products, payouts, faults)", running.base_url);
    tokio::signal::ctrl_c().await?;
    running.stop();
    Ok(())
}
