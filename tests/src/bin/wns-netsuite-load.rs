//! A `wns` process that only talks to NetSuite: for the governor test, several of these share
//! one PostgreSQL database (and so one account-wide budget) and upsert records against one
//! NetSuite simulator. Prints one JSON line with what it saw.

use clap::Parser;
use serde_json::json;
use wns::{
    netsuite::{
        AuthSettings, ExternalId, Governor, GovernorSettings, Lane, NetSuiteClient, NetSuiteSettings, TbaCredentials,
        governor::GlobalSlots,
    },
    store::Store,
};

#[derive(Parser)]
struct Args {
    #[arg(long)]
    db: String,
    #[arg(long)]
    base_url: String,
    #[arg(long)]
    account: String,
    #[arg(long)]
    consumer_key: String,
    #[arg(long)]
    consumer_secret: String,
    #[arg(long)]
    token_id: String,
    #[arg(long)]
    token_secret: String,
    /// The account limit wns is configured with.
    #[arg(long)]
    limit: usize,
    #[arg(long)]
    requests: usize,
    /// Callers in this process competing for permits.
    #[arg(long, default_value_t = 12)]
    callers: usize,
    #[arg(long)]
    id: String,
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let a = Args::parse();
    let store = Store::connect(&a.db, 4).await?;
    store.migrate().await?;
    let auth =
        AuthSettings::Tba(TbaCredentials::new(&a.consumer_key, &a.consumer_secret, &a.token_id, &a.token_secret));
    let settings = NetSuiteSettings {
        base_url: Some(a.base_url.clone()),
        governor: GovernorSettings { concurrency_limit: a.limit, ..GovernorSettings::default() },
        request_timeout_secs: 30,
        ..NetSuiteSettings::new(&a.account, auth)
    };
    let slots = GlobalSlots::new(store, &a.account, &a.id, settings.governor.budget()).await?;
    let client = NetSuiteClient::new(&settings, Governor::global(&settings.governor, slots))?;
    let tasks: Vec<_> = (0..a.callers)
        .map(|c| {
            let (client, id, requests, callers) = (client.clone(), a.id.clone(), a.requests, a.callers);
            tokio::spawn(async move {
                let mut failed = Vec::new();
                for i in (c..requests).step_by(callers) {
                    let eid = ExternalId::parse(format!("{id}-customer-{i}")).expect("valid external id");
                    let body = json!({ "companyName": format!("{id} {i}"), "subsidiary": { "id": "1" } });
                    if let Err(e) = client.upsert(Lane::Orders, "customer", &eid, &body).await {
                        failed.push(e.to_string());
                    }
                }
                failed
            })
        })
        .collect();
    let mut failed = Vec::new();
    for t in tasks {
        failed.extend(t.await?);
    }
    let g = client.governor();
    println!("{}", json!({ "id": a.id, "requests": a.requests, "failed": failed, "throttled": g.throttled_count() }));
    Ok(())
}
