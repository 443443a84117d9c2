//! The account's concurrency limit: requests over it are answered 429 at once, the slot is
//! held for the whole (slow) request, and faults keep their promises.

mod netsuite_support;

use std::time::{Duration, Instant};

use futures::future::join_all;
use netsuite_support::{error_of, start_with};
use serde_json::json;
use wns_sim::netsuite::{Faults, LatencyProfile, NetSuiteConfig};

const LIMITS: &str = "/services/rest/system/v1/governanceLimits";

#[tokio::test]
async fn requests_over_the_limit_get_429_at_once_and_peak_never_exceeds_it() {
    let mut cfg = NetSuiteConfig::for_tests();
    cfg.concurrency_limit = 2;
    cfg.latency = LatencyProfile::fixed(Duration::from_millis(400));
    let ns = start_with(cfg).await;
    let started = Instant::now();
    let answers = join_all((0..6).map(|_| ns.get(LIMITS))).await;
    let mut throttled = Vec::new();
    let mut ok = 0;
    for r in answers {
        match r.status().as_u16() {
            200 => ok += 1,
            429 => {
                assert!(r.headers().get("retry-after").is_none());
                throttled.push(error_of(r).await);
            }
            s => panic!("unexpected status {s}"),
        }
    }
    assert_eq!((ok, throttled.len()), (2, 4));
    let (status, code, detail) = &throttled[0];
    assert_eq!(
        (*status, code.as_str(), detail.as_str()),
        (429, "CONCURRENCY_LIMIT_EXCEEDED", "Concurrent request limit exceeded. Request blocked.")
    );
    let c = ns.sim().counters();
    assert_eq!((c.throttled_429, c.peak_in_flight, c.in_flight), (4, 2, 0));
    assert!(started.elapsed() >= Duration::from_millis(400));
}

#[tokio::test]
async fn a_client_that_waits_for_its_answers_is_never_throttled() {
    let mut cfg = NetSuiteConfig::for_tests();
    cfg.concurrency_limit = 1;
    let ns = start_with(cfg).await;
    for _ in 0..20 {
        assert_eq!(ns.get(LIMITS).await.status(), 200);
    }
    let c = ns.sim().counters();
    assert_eq!((c.throttled_429, c.peak_in_flight), (0, 1));
}

#[tokio::test]
async fn a_timeout_fault_holds_the_slot_for_its_delay() {
    let ns = start_with(NetSuiteConfig::for_tests()).await;
    ns.sim().set_faults(Faults { timeout_rate: 1.0, timeout_delay: Duration::from_millis(150), ..Faults::default() });
    let started = Instant::now();
    assert_eq!(ns.get(LIMITS).await.status(), 200);
    assert!(started.elapsed() >= Duration::from_millis(150));
    assert_eq!(ns.sim().counters().timeouts_injected, 1);
}

#[tokio::test]
async fn limits_and_counters_can_be_changed_while_running() {
    let ns = start_with(NetSuiteConfig::for_tests()).await;
    ns.sim().set_concurrency_limit(0);
    assert_eq!(ns.get(LIMITS).await.status(), 429);
    ns.sim().set_concurrency_limit(3);
    let body: serde_json::Value = ns.get(LIMITS).await.json().await.unwrap();
    assert_eq!(body["accountConcurrencyLimit"], 3);
    ns.sim().reset_counters();
    assert_eq!(ns.sim().counters().requests, 0);
}

#[tokio::test]
async fn a_throttle_fault_answers_like_the_gate_on_records_and_suiteql_and_writes_nothing() {
    let ns = start_with(NetSuiteConfig::for_tests()).await;
    let customer = "/services/rest/record/v1/customer";
    ns.sim().set_concurrency_limit(0);
    let gate = ns.get(customer).await;
    let gate_headers = gate.headers().clone();
    let gate_body = gate.text().await.unwrap();
    ns.sim().set_concurrency_limit(5);
    ns.sim().reset_counters();

    ns.sim().set_faults(Faults { throttle_rate: 1.0, ..Faults::default() });
    let answers = [
        ns.post(customer, &json!({ "companyName": "Acme" })).await,
        ns.suiteql("SELECT id FROM customer", 10, 0).await,
    ];
    for r in answers {
        assert_eq!(r.status(), 429);
        assert!(r.headers().get("retry-after").is_none());
        assert_eq!(r.headers()["content-type"], gate_headers["content-type"]);
        assert_eq!(r.text().await.unwrap(), gate_body);
    }
    assert_eq!(ns.sim().record_count("customer"), 0);
    assert_eq!(ns.get(LIMITS).await.status(), 200, "only record and SuiteQL requests are throttled");
    let c = ns.sim().counters();
    assert_eq!((c.throttled_429, c.server_errors_injected, c.in_flight), (2, 0, 0));

    ns.sim().set_faults(Faults { throttle_rate: 0.25, ..Faults::default() });
    ns.sim().reset_counters();
    let mut throttled = 0;
    for _ in 0..200 {
        match ns.get(customer).await.status().as_u16() {
            429 => throttled += 1,
            s => assert_eq!(s, 200),
        }
    }
    assert!((25..=75).contains(&throttled), "{throttled} of 200 throttled at 25 %");
    assert_eq!(ns.sim().counters().throttled_429, throttled);
}
