//! `cargo xtask bench netsuite`: requests per second through the governor against the NetSuite
//! simulator with account limit C and a fixed latency L, as a share of the physical limit C / L
//! (no client can do better than C requests every L seconds). Every request is a signed upsert
//! by external id. Also reports 429s seen and requests that failed for good (must be 0).
//!
//! Rows for the PostgreSQL-wide budget (`netsuite_slots`) use `WNS_TEST_PG`, set by
//! `cargo xtask bench`. `WNS_BENCH_SECS` sets the seconds of work per row (default 6).

use std::time::{Duration, Instant};

use serde_json::json;
use wns::{
    netsuite::{
        AuthSettings, ExternalId, Governor, GovernorSettings, Lane, NetSuiteClient, NetSuiteSettings, TbaCredentials,
        governor::GlobalSlots,
    },
    store::Backend,
    testing::TestDb,
};
use wns_sim::netsuite::{LatencyProfile, NetSuiteConfig, NetSuiteSim};

struct Row {
    governor: &'static str,
    limit: usize,
    latency_ms: u64,
    requests: usize,
    secs: f64,
    throttled: u64,
    failed: usize,
    peak: usize,
}

fn settings(base_url: &str, account: &str, limit: usize) -> NetSuiteSettings {
    use wns_sim::netsuite as sim;
    let auth = AuthSettings::Tba(TbaCredentials::new(
        sim::TEST_CONSUMER_KEY,
        sim::TEST_CONSUMER_SECRET,
        sim::TEST_TOKEN_ID,
        sim::TEST_TOKEN_SECRET,
    ));
    NetSuiteSettings {
        base_url: Some(base_url.into()),
        governor: GovernorSettings { concurrency_limit: limit, ..GovernorSettings::default() },
        request_timeout_secs: 30,
        ..NetSuiteSettings::new(account, auth)
    }
}

async fn run(limit: usize, latency: Duration, secs: f64, global: Option<&TestDb>) -> Row {
    let mut cfg = NetSuiteConfig::for_tests();
    cfg.concurrency_limit = limit;
    cfg.latency = LatencyProfile::fixed(latency);
    let account = cfg.account_id.clone();
    let sim = NetSuiteSim::spawn(cfg).await.expect("simulator starts");
    let s = settings(&sim.base_url, &account, limit);
    let governor = match global {
        None => Governor::local(&s.governor),
        Some(db) => {
            let store = db.store(8).await;
            let slots = GlobalSlots::new(store, &account, "bench", s.governor.budget()).await.expect("slots");
            Governor::global(&s.governor, slots)
        }
    };
    let client = NetSuiteClient::new(&s, governor).expect("client");
    // Enough requests to keep the account busy for `secs` at the physical limit.
    let requests = ((limit as f64 / latency.as_secs_f64()) * secs).ceil() as usize;
    let callers = limit * 4;
    let start = Instant::now();
    let tasks: Vec<_> = (0..callers)
        .map(|c| {
            let client = client.clone();
            tokio::spawn(async move {
                let mut failed = 0;
                for i in (c..requests).step_by(callers) {
                    let eid = ExternalId::parse(format!("bench-customer-{i}")).unwrap();
                    let body = json!({ "companyName": format!("Bench {i}"), "subsidiary": { "id": "1" } });
                    if client.upsert(Lane::Orders, "customer", &eid, &body).await.is_err() {
                        failed += 1;
                    }
                }
                failed
            })
        })
        .collect();
    let mut failed = 0;
    for t in tasks {
        failed += t.await.unwrap();
    }
    let secs = start.elapsed().as_secs_f64();
    let counters = sim.sim.counters();
    assert_eq!(sim.sim.record_count("customer") + failed, requests, "one record per request");
    Row {
        governor: if global.is_some() { "PostgreSQL-wide" } else { "in-process" },
        limit,
        latency_ms: latency.as_millis() as u64,
        requests,
        secs,
        throttled: counters.throttled_429,
        failed,
        peak: counters.peak_in_flight,
    }
}

fn main() {
    let secs: f64 = std::env::var("WNS_BENCH_SECS").ok().and_then(|v| v.parse().ok()).unwrap_or(6.0);
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let pg = if std::env::var("WNS_TEST_PG").is_ok() { Some(TestDb::new(Backend::Postgres).await) } else { None };
        let mut rows = Vec::new();
        for limit in [5, 15] {
            for ms in [50, 200] {
                rows.push(run(limit, Duration::from_millis(ms), secs, None).await);
                if let Some(db) = &pg {
                    rows.push(run(limit, Duration::from_millis(ms), secs, Some(db)).await);
                }
            }
        }
        println!();
        println!(
            "| governor | limit C | latency L | requests | req/s | C/L | ratio | 429s | failed | peak in flight |"
        );
        println!("|---|---|---|---|---|---|---|---|---|---|");
        for r in &rows {
            let physical = r.limit as f64 / (r.latency_ms as f64 / 1000.0);
            let rps = r.requests as f64 / r.secs;
            println!(
                "| {} | {} | {} ms | {} | {:.1} | {:.1} | {:.3} | {} | {} | {} |",
                r.governor,
                r.limit,
                r.latency_ms,
                r.requests,
                rps,
                physical,
                rps / physical,
                r.throttled,
                r.failed,
                r.peak
            );
        }
    });
}
