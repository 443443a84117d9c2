//! Supervised background loops: one that panics or returns is restarted and counted in
//! `/metrics`; `/healthz` shows each loop and answers 503 while one is down or late. Time is a
//! manual clock for the verdicts and backoffs of a few milliseconds for the restarts.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    time::Duration,
};

use axum::{
    body::Body,
    http::{Request, StatusCode},
};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;
use wns::{
    api::{AppState, router},
    app::Application,
    clock::ManualClock,
    config::Settings,
    metrics::Metrics,
    queue::{Handlers, Queue, RetryPolicy},
    supervise::{Backoff, Schedule, Supervisor, Verdict},
    testing::TestDb,
};
use wns_sim::woo::{WooConfig, WooSim};

const T0: i64 = 1_700_000_000_000;
const MS: Duration = Duration::from_millis(1);
const FAST: Backoff = Backoff { first: MS, max: Duration::from_millis(4), healthy_after: Duration::from_secs(60) };

struct Harness {
    _db: TestDb,
    clock: ManualClock,
    state: AppState,
    shutdown: CancellationToken,
}

async fn harness() -> Harness {
    wns::testing::init_logs();
    let db = TestDb::sqlite();
    let store = db.store(1).await;
    let clock = ManualClock::new(T0);
    let queue = Queue::new(store, Arc::new(clock.clone()), RetryPolicy::default());
    let state = AppState::new(queue, Arc::new(Metrics::new()));
    Harness { _db: db, clock, state, shutdown: CancellationToken::new() }
}

impl Harness {
    fn supervisor(&self, backoff: Backoff) -> Supervisor {
        Supervisor::new(self.state.loops.clone(), &self.shutdown).with_backoff(backoff)
    }

    async fn get(&self, path: &str) -> (StatusCode, String) {
        let app = router(self.state.clone());
        let res = app.oneshot(Request::get(path).body(Body::empty()).unwrap()).await.unwrap();
        let status = res.status();
        let body = res.into_body().collect().await.unwrap().to_bytes();
        (status, String::from_utf8(body.to_vec()).unwrap())
    }

    /// `/healthz`'s status and its one loop's entry.
    async fn healthz(&self) -> (StatusCode, Value) {
        let (status, body) = self.get("/healthz").await;
        let v: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["database"], "sqlite", "{body}");
        assert_eq!(v["status"], if status == StatusCode::OK { "ok" } else { "not_ready" }, "{body}");
        assert_eq!(v["loops"].as_array().map(Vec::len), Some(1), "{body}");
        (status, v["loops"][0].clone())
    }

    /// Polls every millisecond until `cond` holds about the one loop (5 s at most).
    async fn until(&self, what: &str, cond: impl Fn(&wns::supervise::LoopReport) -> bool) {
        let wait = async {
            while !cond(&self.state.loops.report()[0]) {
                tokio::time::sleep(MS).await;
            }
        };
        tokio::time::timeout(Duration::from_secs(5), wait).await.unwrap_or_else(|_| panic!("never: {what}"));
    }
}

#[tokio::test]
async fn a_loop_that_panics_is_restarted_and_shows_in_metrics_and_healthz() {
    let h = harness().await;
    let mut loops = h.supervisor(FAST);
    let runs = Arc::new(AtomicUsize::new(0));
    let r = runs.clone();
    loops.spawn("flaky", Schedule::new(Duration::from_secs(10), Duration::from_secs(5)), move |stop, beat| {
        let run = r.fetch_add(1, Ordering::SeqCst) + 1;
        async move {
            if run == 1 {
                panic!("the stock table vanished");
            }
            beat.ok();
            stop.cancelled().await;
        }
    });
    h.until("the restarted loop succeeded", |l| l.last_ok_ms.is_some()).await;
    assert_eq!(runs.load(Ordering::SeqCst), 2);

    let (status, metrics) = h.get("/metrics").await;
    assert_eq!(status, StatusCode::OK);
    assert!(metrics.lines().any(|l| l == "wns_loop_restarts_total{loop=\"flaky\"} 1"), "{metrics}");
    let (status, entry) = h.healthz().await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        entry,
        json!({ "name": "flaky", "last_ok_ms": T0, "interval_ms": 10_000, "restarts": 1, "verdict": "ok" })
    );

    tokio::time::timeout(Duration::from_secs(5), loops.stop(Duration::from_secs(5))).await.unwrap();
    assert_eq!(h.state.loops.report()[0].verdict, Verdict::Stopped);
    assert_eq!(runs.load(Ordering::SeqCst), 2, "not restarted after shutdown");
}

#[tokio::test]
async fn healthz_is_503_while_a_loop_has_not_succeeded_in_time_and_200_once_it_recovers() {
    let h = harness().await;
    let mut loops = h.supervisor(FAST);
    let go = Arc::new(Notify::new());
    let runs = Arc::new(AtomicUsize::new(0));
    let (g, r) = (go.clone(), runs.clone());
    loops.spawn("recheck", Schedule::new(Duration::from_secs(10), Duration::from_secs(5)), move |stop, beat| {
        let (go, run) = (g.clone(), r.fetch_add(1, Ordering::SeqCst) + 1);
        async move {
            assert!(run > 1, "NetSuite answered nonsense");
            loop {
                tokio::select! { _ = stop.cancelled() => return, _ = go.notified() => beat.ok() }
            }
        }
    });
    h.until("restarted after its panic", |l| l.restarts == 1 && l.verdict == Verdict::Starting).await;
    let (status, entry) = h.healthz().await;
    assert_eq!((status, &entry["verdict"], &entry["last_ok_ms"]), (StatusCode::OK, &json!("starting"), &Value::Null));

    // Late once three intervals plus the slack (35 s) pass without a success.
    h.clock.advance(Duration::from_secs(35));
    assert_eq!(h.healthz().await.0, StatusCode::OK);
    h.clock.advance(MS);
    let (status, entry) = h.healthz().await;
    assert_eq!(
        (status, &entry["verdict"], &entry["restarts"]),
        (StatusCode::SERVICE_UNAVAILABLE, &json!("late"), &json!(1))
    );

    go.notify_one();
    h.until("the loop succeeded", |l| l.last_ok_ms.is_some()).await;
    let (status, entry) = h.healthz().await;
    assert_eq!((status, &entry["verdict"], &entry["last_ok_ms"]), (StatusCode::OK, &json!("ok"), &json!(T0 + 35_001)));

    // And late again, counted from that success.
    h.clock.advance(Duration::from_millis(35_001));
    assert_eq!(h.healthz().await.0, StatusCode::SERVICE_UNAVAILABLE);
    loops.stop(Duration::from_secs(5)).await;
    assert_eq!(runs.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn healthz_is_503_while_a_crashed_loop_waits_for_its_restart_and_stop_does_not_wait_for_the_pause() {
    let h = harness().await;
    let hour = Duration::from_secs(3600);
    let mut loops = h.supervisor(Backoff { first: hour, max: hour, healthy_after: hour });
    loops.spawn("stock", Schedule::new(Duration::from_secs(60), Duration::from_secs(900)), |_, _| async {
        panic!("stock cycle bug")
    });
    h.until("down after its panic", |l| l.verdict == Verdict::Down).await;
    let (status, entry) = h.healthz().await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        entry,
        json!({ "name": "stock", "last_ok_ms": null, "interval_ms": 60_000, "restarts": 1, "verdict": "down" })
    );
    let (_, body) = h.get("/healthz").await;
    assert!(!body.contains("stock cycle bug"), "the cause goes to the log, not to the caller: {body}");

    h.shutdown.cancel();
    tokio::time::timeout(Duration::from_secs(5), loops.stop(Duration::from_secs(5))).await.unwrap();
    assert_eq!(h.state.loops.report()[0].verdict, Verdict::Stopped);
}

#[tokio::test]
async fn a_loop_that_returns_before_shutdown_is_restarted_too() {
    let h = harness().await;
    let mut loops = h.supervisor(FAST);
    let runs = Arc::new(AtomicUsize::new(0));
    let r = runs.clone();
    loops.spawn("woo", Schedule::new(Duration::from_secs(300), Duration::from_secs(60)), move |stop, beat| {
        let run = r.fetch_add(1, Ordering::SeqCst) + 1;
        async move {
            if run < 3 {
                return; // e.g. a client that could not be built
            }
            beat.ok();
            stop.cancelled().await;
        }
    });
    h.until("succeeded on its third run", |l| l.last_ok_ms.is_some()).await;
    let (_, metrics) = h.get("/metrics").await;
    assert!(metrics.lines().any(|l| l == "wns_loop_restarts_total{loop=\"woo\"} 2"), "{metrics}");
    assert_eq!(h.healthz().await.0, StatusCode::OK);
    loops.stop(Duration::from_secs(5)).await;
}

#[tokio::test]
async fn stop_waits_for_a_loop_to_finish_what_it_is_doing() {
    let h = harness().await;
    let mut loops = h.supervisor(FAST);
    let finished = Arc::new(AtomicBool::new(false));
    let f = finished.clone();
    loops.spawn("stock", Schedule::new(Duration::from_secs(60), Duration::from_secs(900)), move |stop, _| {
        let f = f.clone();
        async move {
            stop.cancelled().await;
            tokio::time::sleep(Duration::from_millis(5)).await; // the write under way
            f.store(true, Ordering::SeqCst);
        }
    });
    tokio::time::sleep(MS).await;
    loops.stop(Duration::from_secs(5)).await;
    assert!(finished.load(Ordering::SeqCst), "aborted mid-write");
    assert_eq!(h.state.loops.report()[0].verdict, Verdict::Stopped);
}

#[tokio::test]
async fn stop_aborts_a_loop_that_ignores_shutdown_after_the_grace_period() {
    let h = harness().await;
    let mut loops = h.supervisor(FAST);
    loops
        .spawn("stuck", Schedule::new(Duration::from_secs(60), Duration::from_secs(60)), |_, _| std::future::pending());
    tokio::time::timeout(Duration::from_secs(5), loops.stop(Duration::from_millis(10)))
        .await
        .expect("stop returns once the grace period is over");
    assert_eq!(h.state.loops.report()[0].verdict, Verdict::Stopped);
}

/// The real service: `wns serve`'s WooCommerce loop (against the simulator) is supervised and
/// reports its successful webhook check to `/healthz`.
#[tokio::test]
async fn the_service_supervises_its_woocommerce_loop_and_reports_it_in_healthz() {
    wns::testing::init_logs();
    let db = TestDb::sqlite();
    let woo = WooSim::spawn(WooConfig::for_tests()).await.unwrap();
    let mut settings = Settings::default();
    settings.server.bind = ([127, 0, 0, 1], 0).into();
    settings.database.url = db.url.clone().into();
    settings.woocommerce = Some(
        serde_json::from_value(json!({
            "base_url": woo.base_url,
            "consumer_key": wns_sim::woo::TEST_CONSUMER_KEY,
            "consumer_secret": wns_sim::woo::TEST_CONSUMER_SECRET,
            "webhook_secret": "wns-test-webhook-secret-1234",
            "public_url": "http://127.0.0.1:9",
            "sweep_every_secs": 300,
            "webhook_check_every_secs": 120,
        }))
        .unwrap(),
    );
    let app = Application::build(&settings, Arc::new(ManualClock::new(T0)), Handlers::new()).await.unwrap();
    let url = format!("http://127.0.0.1:{}/healthz", app.port());
    let shutdown = CancellationToken::new();
    let running = tokio::spawn(app.run(shutdown.clone()));

    let entry = async {
        loop {
            let res = reqwest::get(&url).await.unwrap();
            let (status, v) = (res.status(), res.json::<Value>().await.unwrap());
            if v["loops"][0]["last_ok_ms"] != Value::Null {
                return (status, v["loops"].clone());
            }
            tokio::time::sleep(MS).await;
        }
    };
    let (status, loops) = tokio::time::timeout(Duration::from_secs(10), entry).await.expect("the webhook check ran");
    assert_eq!(status.as_u16(), 200);
    assert_eq!(
        loops,
        json!([{ "name": "woo", "last_ok_ms": T0, "interval_ms": 300_000, "restarts": 0, "verdict": "ok" }])
    );

    shutdown.cancel();
    tokio::time::timeout(Duration::from_secs(10), running).await.expect("stops within the grace").unwrap().unwrap();
}
