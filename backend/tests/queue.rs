//! The durable queue on SQLite and PostgreSQL: every test runs on both, each on a fresh database.
//! Time is a manual clock; nothing sleeps to wait for work, workers are drained.

#[macro_use]
#[path = "support/both.rs"]
mod both;

use std::{
    sync::{
        Arc,
        atomic::{AtomicU32, Ordering},
    },
    time::Duration,
};

use serde_json::json;
use tokio_util::sync::CancellationToken;
use wns::{
    clock::{Clock, ManualClock},
    queue::{Finished, Handlers, JobId, NewJob, Outcome, Queue, Replay, RetryPolicy, Worker, WorkerOptions},
    store::Backend,
    testing::{TestDb, init_logs},
};
use wns_api_types::{JobState, Owner};

const T0: i64 = 1_800_000_000_000;
const LEASE: Duration = Duration::from_secs(60);

struct Fixture {
    _db: TestDb,
    clock: ManualClock,
    queue: Queue,
}

async fn fixture(backend: Backend) -> Fixture {
    init_logs();
    let db = TestDb::new(backend).await;
    let store = db.store(4).await;
    let clock = ManualClock::new(T0);
    let policy = RetryPolicy { base_ms: 1_000, max_delay_secs: 60, jitter: 0.2, max_attempts: 3, ..Default::default() };
    let queue = Queue::new(store, Arc::new(clock.clone()), policy);
    Fixture { _db: db, clock, queue }
}

fn worker(q: &Queue, handlers: Handlers) -> Worker {
    Worker::new(q.clone(), handlers, WorkerOptions { lease: LEASE, ..WorkerOptions::new("test-worker") })
}

fn kinds(k: &[&str]) -> Vec<String> {
    k.iter().map(|s| s.to_string()).collect()
}

on_both_databases!(
    a_burst_of_events_for_one_entity_collapses_into_one_job,
    an_event_during_a_run_makes_the_job_run_again,
    a_job_waits_for_the_job_it_depends_on,
    a_failed_job_comes_back_after_its_backoff_and_no_sooner,
    retry_after_is_honoured_and_clamped,
    a_job_that_keeps_failing_dies_and_replays_from_dead,
    a_blocked_job_is_requeued_when_its_cause_is_fixed,
    every_attempt_is_recorded_in_order,
    an_expired_lease_hands_the_job_to_another_worker,
    shutdown_releases_jobs_still_running_after_the_grace_period,
    a_panicking_handler_is_retried_not_lost,
    concurrent_enqueues_share_commits_and_each_gets_its_own_answer,
);

async fn a_burst_of_events_for_one_entity_collapses_into_one_job(b: Backend) {
    let f = fixture(b).await;
    let ids: Vec<JobId> = enqueue_in_order(
        (0..5).map(|i| f.queue.enqueue(NewJob::new("order", "order:1", json!({ "rev": i })))).collect(),
    )
    .await;
    assert!(ids.windows(2).all(|w| w[0] == w[1]), "all five events map to one job: {ids:?}");
    let runs = Arc::new(AtomicU32::new(0));
    let r = runs.clone();
    let w = worker(
        &f.queue,
        Handlers::new().on("order", move |_| {
            r.fetch_add(1, Ordering::SeqCst);
            async { Outcome::Done }
        }),
    );
    assert_eq!(w.drain().await.unwrap(), 1);
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    // After it is done, a new event is new work.
    let again = f.queue.enqueue(NewJob::new("order", "order:1", json!({}))).await.unwrap();
    assert_ne!(again, ids[0]);
}

async fn an_event_during_a_run_makes_the_job_run_again(b: Backend) {
    let f = fixture(b).await;
    let id = f.queue.enqueue(NewJob::new("order", "order:7", json!({ "rev": 1 }))).await.unwrap();
    let claimed = f.queue.claim("w1", &kinds(&["order"]), 10, LEASE).await.unwrap();
    assert_eq!(claimed.len(), 1);
    // A webhook with newer data lands while the job runs.
    let same = f.queue.enqueue(NewJob::new("order", "order:7", json!({ "rev": 2 }))).await.unwrap();
    assert_eq!(same, id);
    assert!(f.queue.get(id).await.unwrap().unwrap().rerun);
    assert_eq!(f.queue.finish(&claimed[0], "w1", Outcome::Done).await.unwrap(), Finished::Now(JobState::Ready));
    let again = f.queue.claim("w1", &kinds(&["order"]), 10, LEASE).await.unwrap();
    assert_eq!(again.len(), 1, "the newer data must be processed");
    assert_eq!(again[0].payload["rev"], 2);
    assert_eq!(f.queue.finish(&again[0], "w1", Outcome::Done).await.unwrap(), Finished::Now(JobState::Done));
}

async fn a_job_waits_for_the_job_it_depends_on(b: Backend) {
    let f = fixture(b).await;
    let customer = f.queue.enqueue(NewJob::new("customer", "customer:1", json!({}))).await.unwrap();
    let order = f.queue.enqueue(NewJob::new("order", "order:1", json!({})).after(customer).priority(10)).await.unwrap();
    let all = kinds(&["customer", "order"]);
    let first = f.queue.claim("w", &all, 10, LEASE).await.unwrap();
    assert_eq!(
        first.iter().map(|j| j.id).collect::<Vec<_>>(),
        vec![customer],
        "the order must wait, despite its priority"
    );
    f.queue.finish(&first[0], "w", Outcome::Retry { error: "503".into() }).await.unwrap();
    f.clock.advance(Duration::from_secs(5));
    let second = f.queue.claim("w", &all, 10, LEASE).await.unwrap();
    assert_eq!(
        second.iter().map(|j| j.id).collect::<Vec<_>>(),
        vec![customer],
        "a failed dependency still holds the order"
    );
    f.queue.finish(&second[0], "w", Outcome::Done).await.unwrap();
    let third = f.queue.claim("w", &all, 10, LEASE).await.unwrap();
    assert_eq!(third.iter().map(|j| j.id).collect::<Vec<_>>(), vec![order]);
}

async fn a_failed_job_comes_back_after_its_backoff_and_no_sooner(b: Backend) {
    let f = fixture(b).await;
    let id = f.queue.enqueue(NewJob::new("order", "order:1", json!({}))).await.unwrap();
    let k = kinds(&["order"]);
    for (attempt, nominal) in [(1u32, 1_000i64), (2, 2_000)] {
        let job = f.queue.claim("w", &k, 1, LEASE).await.unwrap().pop().expect("due");
        assert_eq!(job.attempt, attempt);
        f.queue.finish(&job, "w", Outcome::Retry { error: "timeout".into() }).await.unwrap();
        let rec = f.queue.get(id).await.unwrap().unwrap();
        let delay = rec.run_after - f.clock.now();
        assert!(
            (nominal * 8 / 10..=nominal * 12 / 10).contains(&delay),
            "attempt {attempt}: delay {delay} ms, want {nominal} ± 20 %"
        );
        f.clock.advance(Duration::from_millis((delay - 1) as u64));
        assert!(f.queue.claim("w", &k, 1, LEASE).await.unwrap().is_empty(), "not before its time");
        f.clock.advance(Duration::from_millis(1));
    }
    assert_eq!(f.queue.claim("w", &k, 1, LEASE).await.unwrap().len(), 1);
}

async fn retry_after_is_honoured_and_clamped(b: Backend) {
    let f = fixture(b).await;
    let id = f.queue.enqueue(NewJob::new("order", "order:1", json!({}))).await.unwrap();
    let k = kinds(&["order"]);
    let job = f.queue.claim("w", &k, 1, LEASE).await.unwrap().pop().unwrap();
    let after = Duration::from_secs(42);
    f.queue.finish(&job, "w", Outcome::RetryAfter { error: "429".into(), after }).await.unwrap();
    assert_eq!(
        f.queue.get(id).await.unwrap().unwrap().run_after,
        f.clock.now() + 42_000,
        "exactly as asked, no jitter"
    );
    f.clock.advance(after);
    let job = f.queue.claim("w", &k, 1, LEASE).await.unwrap().pop().unwrap();
    f.queue.finish(&job, "w", Outcome::RetryAfter { error: "429".into(), after: Duration::ZERO }).await.unwrap();
    assert_eq!(f.queue.get(id).await.unwrap().unwrap().run_after, f.clock.now() + 500, "0 s is clamped to the minimum");
}

async fn a_job_that_keeps_failing_dies_and_replays_from_dead(b: Backend) {
    let f = fixture(b).await;
    let id = f.queue.enqueue(NewJob::new("order", "order:1", json!({}))).await.unwrap();
    let fail = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let fl = fail.clone();
    let w = worker(
        &f.queue,
        Handlers::new().on("order", move |_| {
            let fail = fl.load(Ordering::SeqCst);
            async move { if fail { Outcome::Retry { error: "NetSuite 503".into() } } else { Outcome::Done } }
        }),
    );
    for _ in 0..3 {
        assert_eq!(w.run_once().await.unwrap(), 1);
        f.clock.advance(Duration::from_secs(60));
    }
    let rec = f.queue.get(id).await.unwrap().unwrap();
    assert_eq!(rec.state, JobState::Dead, "max_attempts is 3");
    assert_eq!(rec.last_error.as_deref(), Some("NetSuite 503"));
    assert_eq!(w.drain().await.unwrap(), 0, "dead jobs are not claimed");
    fail.store(false, Ordering::SeqCst);
    assert_eq!(f.queue.replay(id).await.unwrap(), Replay::Requeued);
    assert_eq!(w.drain().await.unwrap(), 1);
    assert_eq!(f.queue.get(id).await.unwrap().unwrap().state, JobState::Done);
    assert_eq!(f.queue.replay(id).await.unwrap(), Replay::NotReplayable);
}

async fn a_blocked_job_is_requeued_when_its_cause_is_fixed(b: Backend) {
    let f = fixture(b).await;
    let mapped = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let m = mapped.clone();
    let w = worker(
        &f.queue,
        Handlers::new().on("order", move |job| {
            let mapped = m.load(Ordering::SeqCst);
            async move {
                match job.payload["sku"].as_str() {
                    Some("ABC-1") if !mapped => Outcome::Blocked {
                        owner: Owner::Ecommerce,
                        cause: "sku:ABC-1".into(),
                        error: "SKU ABC-1 is not mapped".into(),
                    },
                    Some("XYZ-9") => Outcome::Blocked {
                        owner: Owner::Ecommerce,
                        cause: "sku:XYZ-9".into(),
                        error: "SKU XYZ-9 is not mapped".into(),
                    },
                    _ => Outcome::Done,
                }
            }
        }),
    );
    let a = f.queue.enqueue(NewJob::new("order", "order:1", json!({ "sku": "ABC-1" }))).await.unwrap();
    let b2 = f.queue.enqueue(NewJob::new("order", "order:2", json!({ "sku": "ABC-1" }))).await.unwrap();
    let other = f.queue.enqueue(NewJob::new("order", "order:3", json!({ "sku": "XYZ-9" }))).await.unwrap();
    assert_eq!(w.drain().await.unwrap(), 3);
    let rec = f.queue.get(a).await.unwrap().unwrap();
    assert_eq!(
        (rec.state, rec.blocked_owner, rec.blocked_cause.as_deref()),
        (JobState::Blocked, Some(Owner::Ecommerce), Some("sku:ABC-1"))
    );
    f.clock.advance(Duration::from_secs(3600));
    assert_eq!(w.drain().await.unwrap(), 0, "blocked jobs do not retry on a timer");
    mapped.store(true, Ordering::SeqCst);
    assert_eq!(f.queue.requeue_cause("sku:ABC-1").await.unwrap(), 2);
    assert_eq!(w.drain().await.unwrap(), 2);
    for id in [a, b2] {
        assert_eq!(f.queue.get(id).await.unwrap().unwrap().state, JobState::Done);
    }
    assert_eq!(f.queue.get(other).await.unwrap().unwrap().state, JobState::Blocked, "another cause stays blocked");
}

async fn every_attempt_is_recorded_in_order(b: Backend) {
    let f = fixture(b).await;
    let id = f.queue.enqueue(NewJob::new("order", "order:1", json!({}))).await.unwrap();
    let n = Arc::new(AtomicU32::new(0));
    let c = n.clone();
    let w = worker(
        &f.queue,
        Handlers::new().on("order", move |_| {
            let i = c.fetch_add(1, Ordering::SeqCst);
            async move {
                match i {
                    0 => Outcome::Retry { error: "timeout".into() },
                    1 => Outcome::Blocked {
                        owner: Owner::Finance,
                        cause: "tax:order:1".into(),
                        error: "tax differs by 0.02".into(),
                    },
                    _ => Outcome::Done,
                }
            }
        }),
    );
    w.run_once().await.unwrap();
    f.clock.advance(Duration::from_secs(2));
    w.run_once().await.unwrap();
    f.queue.requeue_cause("tax:order:1").await.unwrap();
    w.run_once().await.unwrap();
    let history = f.queue.attempts(id).await.unwrap();
    let outcomes: Vec<(&str, Option<&str>)> =
        history.iter().map(|a| (a.outcome.as_str(), a.error.as_deref())).collect();
    assert_eq!(outcomes, vec![("retry", Some("timeout")), ("blocked", Some("tax differs by 0.02")), ("done", None)]);
    assert!(history.iter().all(|a| a.worker == "test-worker" && a.finished_at >= a.started_at));
}

async fn an_expired_lease_hands_the_job_to_another_worker(b: Backend) {
    let f = fixture(b).await;
    let id = f.queue.enqueue(NewJob::new("order", "order:1", json!({}))).await.unwrap();
    let k = kinds(&["order"]);
    let stalled = f.queue.claim("w1", &k, 1, LEASE).await.unwrap().pop().unwrap();
    assert_eq!(f.queue.reap_expired().await.unwrap(), 0, "a live lease is left alone");
    assert!(f.queue.claim("w2", &k, 1, LEASE).await.unwrap().is_empty());
    f.clock.advance(LEASE + Duration::from_millis(1));
    assert_eq!(f.queue.reap_expired().await.unwrap(), 1);
    let taken = f.queue.claim("w2", &k, 1, LEASE).await.unwrap().pop().expect("w2 takes over");
    assert_eq!((taken.attempt, taken.reclaimed_from.as_deref()), (2, Some("w1")));
    assert_eq!(f.queue.finish(&taken, "w2", Outcome::Done).await.unwrap(), Finished::Now(JobState::Done));
    assert_eq!(
        f.queue.finish(&stalled, "w1", Outcome::Done).await.unwrap(),
        Finished::LeaseLost,
        "the stale worker's result is not recorded"
    );
    let outcomes: Vec<(String, String)> =
        f.queue.attempts(id).await.unwrap().into_iter().map(|a| (a.worker, a.outcome)).collect();
    assert_eq!(outcomes, vec![("w1".into(), "abandoned".into()), ("w2".into(), "done".into())]);
}

async fn shutdown_releases_jobs_still_running_after_the_grace_period(b: Backend) {
    let f = fixture(b).await;
    let id = f.queue.enqueue(NewJob::new("slow", "slow:1", json!({}))).await.unwrap();
    let started = Arc::new(tokio::sync::Notify::new());
    let s = started.clone();
    let w = Worker::new(
        f.queue.clone(),
        Handlers::new().on("slow", move |_| {
            s.notify_one();
            std::future::pending::<Outcome>()
        }),
        WorkerOptions { lease: LEASE, shutdown_grace: Duration::from_millis(50), ..WorkerOptions::new("w-shutdown") },
    );
    let stop = CancellationToken::new();
    let running = tokio::spawn(w.run(stop.clone()));
    started.notified().await;
    stop.cancel();
    running.await.unwrap().unwrap();
    let rec = f.queue.get(id).await.unwrap().unwrap();
    assert_eq!((rec.state, rec.attempts), (JobState::Ready, 0), "released, and the attempt does not count");
    let history = f.queue.attempts(id).await.unwrap();
    assert_eq!(history.iter().map(|a| a.outcome.as_str()).collect::<Vec<_>>(), vec!["released"]);
    assert_eq!(
        f.queue.claim("other", &kinds(&["slow"]), 1, LEASE).await.unwrap().len(),
        1,
        "another process can take it at once"
    );
}

async fn a_panicking_handler_is_retried_not_lost(b: Backend) {
    let f = fixture(b).await;
    let id = f.queue.enqueue(NewJob::new("order", "order:1", json!({}))).await.unwrap();
    let w = worker(&f.queue, Handlers::new().on("order", |_| async { panic!("bug in a flow") }));
    assert_eq!(w.run_once().await.unwrap(), 1);
    let rec = f.queue.get(id).await.unwrap().unwrap();
    assert_eq!(rec.state, JobState::Ready);
    assert!(rec.last_error.unwrap().contains("bug in a flow"));
}

async fn concurrent_enqueues_share_commits_and_each_gets_its_own_answer(b: Backend) {
    let f = fixture(b).await;
    // 600 concurrent calls for 300 entities: every call answers with its entity's job id, and
    // the jobs exist exactly once each, committed, whatever group each call landed in.
    let calls = (0..600).map(|i| {
        let q = f.queue.clone();
        tokio::spawn(async move {
            let key = format!("order:{}", i % 300);
            (key.clone(), q.enqueue(NewJob::new("order", key, json!({ "i": i }))).await.unwrap())
        })
    });
    let mut by_key: std::collections::HashMap<String, JobId> = std::collections::HashMap::new();
    for c in calls.collect::<Vec<_>>() {
        let (key, id) = c.await.unwrap();
        assert_eq!(*by_key.entry(key.clone()).or_insert(id), id, "{key}: one job whatever the group");
    }
    assert_eq!(by_key.len(), 300);
    let ids: std::collections::HashSet<JobId> = by_key.values().copied().collect();
    assert_eq!(ids.len(), 300, "distinct entities, distinct jobs");
    assert_eq!(f.queue.summary().await.unwrap().total(JobState::Ready), 300);
}

async fn enqueue_in_order<F: std::future::Future<Output = Result<JobId, sqlx::Error>>>(futs: Vec<F>) -> Vec<JobId> {
    let mut out = Vec::new();
    for f in futs {
        out.push(f.await.unwrap());
    }
    out
}
