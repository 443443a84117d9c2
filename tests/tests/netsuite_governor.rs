//! The account-wide budget across processes: three `wns` processes on one PostgreSQL database
//! upsert against one NetSuite simulator with account limit 5. The simulator's own counter must
//! never see more than 5 requests in flight, and 429s stay under 1 % of requests.

use std::{
    process::{Command, Stdio},
    time::Duration,
};

use wns::{store::Backend, testing::TestDb};
use wns_sim::netsuite::{self, LatencyProfile, NetSuiteConfig, NetSuiteSim};

const LOAD: &str = env!("CARGO_BIN_EXE_wns-netsuite-load");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_processes_never_exceed_the_account_limit_together() {
    let db = TestDb::new(Backend::Postgres).await;
    db.store(1).await; // creates and migrates the database before the processes share it
    let mut cfg = NetSuiteConfig::for_tests();
    cfg.concurrency_limit = 5;
    cfg.latency = LatencyProfile::fixed(Duration::from_millis(20));
    let account = cfg.account_id.clone();
    let sim = NetSuiteSim::spawn(cfg).await.unwrap();

    let per_process = 150;
    let children: Vec<_> = (0..3)
        .map(|p| {
            Command::new(LOAD)
                .args(["--db", &db.url, "--base-url", &sim.base_url, "--account", &account])
                .args([
                    "--consumer-key",
                    netsuite::TEST_CONSUMER_KEY,
                    "--consumer-secret",
                    netsuite::TEST_CONSUMER_SECRET,
                ])
                .args(["--token-id", netsuite::TEST_TOKEN_ID, "--token-secret", netsuite::TEST_TOKEN_SECRET])
                .args(["--limit", "5", "--requests", &per_process.to_string(), "--id", &format!("p{p}")])
                .stdout(Stdio::piped())
                .stderr(Stdio::inherit())
                .spawn()
                .expect("starting wns-netsuite-load")
        })
        .collect();
    let mut failed = Vec::new();
    for child in children {
        let out = tokio::task::spawn_blocking(move || child.wait_with_output()).await.unwrap().unwrap();
        assert!(out.status.success(), "a load process failed");
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON line");
        failed.extend(report["failed"].as_array().unwrap().iter().cloned());
    }

    let c = sim.sim.counters();
    eprintln!("requests {} · 429s {} · peak in flight {}", c.requests, c.throttled_429, c.peak_in_flight);
    assert!(failed.is_empty(), "requests failed for good: {failed:?}");
    assert_eq!(sim.sim.record_count("customer"), 3 * per_process, "one record per upsert");
    assert!(c.peak_in_flight <= 5, "the simulator saw {} requests in flight at once", c.peak_in_flight);
    assert!(c.peak_in_flight >= 4, "the budget was used, not starved: peak {}", c.peak_in_flight);
    let requests = c.requests.max(1) as f64;
    assert!((c.throttled_429 as f64) / requests < 0.01, "{} of {} requests answered 429", c.throttled_429, c.requests);
}
