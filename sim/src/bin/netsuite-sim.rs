//! Standalone NetSuite simulator for demos and tests in other processes. It prints its base
//! URL and the TBA test credentials; seed and steer it through the `/_sim/…` control API.

use std::net::SocketAddr;

use clap::Parser;
use wns_sim::netsuite::{
    LatencyProfile, NetSuiteConfig, NetSuiteSim, TEST_CONSUMER_KEY, TEST_CONSUMER_SECRET, TEST_TOKEN_ID,
    TEST_TOKEN_SECRET,
};

#[derive(Parser)]
#[command(about = "NetSuite SuiteTalk REST simulator")]
struct Args {
    #[arg(long, default_value = "127.0.0.1:9400")]
    listen: SocketAddr,
    /// Account id as issued; the OAuth realm must match it exactly.
    #[arg(long, default_value = "1234567_SB1")]
    account: String,
    /// Concurrent requests allowed before 429.
    #[arg(long, default_value_t = 5)]
    limit: usize,
    /// Multiplies the realistic latency profile; 0 answers at once.
    #[arg(long, default_value_t = 1.0)]
    latency_scale: f64,
    #[arg(long, default_value_t = 42)]
    seed: u64,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt().with_env_filter(tracing_subscriber::EnvFilter::from_default_env()).init();
    let args = Args::parse();
    let cfg = NetSuiteConfig {
        account_id: args.account.clone(),
        concurrency_limit: args.limit,
        latency: LatencyProfile { scale: args.latency_scale, ..LatencyProfile::realistic() },
        seed: args.seed,
        ..NetSuiteConfig::for_tests()
    };
    let sim = NetSuiteSim::new(cfg);
    let listener = tokio::net::TcpListener::bind(args.listen).await?;
    let addr = listener.local_addr()?;
    println!("NetSuite simulator for account {} at http://{addr}", args.account);
    println!("  consumer key    {TEST_CONSUMER_KEY}");
    println!("  consumer secret {TEST_CONSUMER_SECRET}");
    println!("  token id        {TEST_TOKEN_ID}");
    println!("  token secret    {TEST_TOKEN_SECRET}");
    println!("  concurrency limit {}, latency scale {}", args.limit, args.latency_scale);
    axum::serve(listener, sim.router())
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}
