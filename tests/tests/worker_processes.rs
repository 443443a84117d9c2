//! Workers as real processes on a real database: a worker killed with SIGKILL loses nothing and
//! doubles nothing, and four workers draining one queue run each job exactly once.

use std::{
    io::{BufRead, BufReader},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use serde_json::json;
use sqlx::Row;
use wns::{
    clock,
    queue::{NewJob, Queue, RetryPolicy},
    store::{Backend, Store},
    testing::TestDb,
};

const WORKER: &str = env!("CARGO_BIN_EXE_wns-test-worker");

fn spawn_worker(db: &TestDb, id: &str, extra: &[&str]) -> Child {
    Command::new(WORKER)
        .args(["--db", &db.url, "--id", id])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("starting wns-test-worker")
}

async fn count(store: &Store, sql: &str) -> i64 {
    sqlx::query(sql).fetch_one(store.pool()).await.unwrap().try_get(0).unwrap()
}

/// Polls until `cond` holds; the bound only stops a broken run from hanging CI.
async fn eventually<F: AsyncFnMut() -> bool>(what: &str, limit: Duration, mut cond: F) {
    let start = Instant::now();
    while !cond().await {
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn a_worker_killed_while_holding_a_job_loses_nothing_and_doubles_nothing(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = db.store(2).await;
    wns_e2e::create_effect_tables(&store).await.unwrap();
    let queue = Queue::new(store.clone(), clock::system(), RetryPolicy::default());
    let job = queue.enqueue(NewJob::new("test.effect", "order:42", json!({}))).await.unwrap();

    let mut first = spawn_worker(&db, "first", &["--hold", "--lease-ms", "1500"]);
    let mut line = String::new();
    BufReader::new(first.stdout.take().unwrap()).read_line(&mut line).unwrap();
    assert_eq!(line.trim(), format!("HOLDING {job}"), "the first worker wrote its effect and holds the job");
    first.kill().unwrap(); // SIGKILL: no shutdown code runs
    first.wait().unwrap();

    let mut second = spawn_worker(&db, "second", &["--exit-when-idle", "--lease-ms", "1500"]);
    let status = tokio::task::spawn_blocking(move || second.wait()).await.unwrap().unwrap();
    assert!(status.success());

    let rec = queue.get(job).await.unwrap().unwrap();
    assert_eq!(rec.state, wns_api_types::JobState::Done);
    assert_eq!(count(&store, "select count(*) from test_runs").await, 2, "ran twice: once killed, once to completion");
    assert_eq!(count(&store, "select count(*) from test_effects").await, 1, "its effect exactly once");
    let history: Vec<(String, String)> =
        queue.attempts(job).await.unwrap().into_iter().map(|a| (a.worker, a.outcome)).collect();
    assert_eq!(history, vec![("first".into(), "abandoned".into()), ("second".into(), "done".into())]);
}

#[tokio::test]
async fn sqlite_a_worker_killed_while_holding_a_job_loses_nothing_and_doubles_nothing() {
    a_worker_killed_while_holding_a_job_loses_nothing_and_doubles_nothing(Backend::Sqlite).await
}

#[tokio::test]
async fn postgres_a_worker_killed_while_holding_a_job_loses_nothing_and_doubles_nothing() {
    a_worker_killed_while_holding_a_job_loses_nothing_and_doubles_nothing(Backend::Postgres).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_four_worker_processes_drain_ten_thousand_jobs_each_exactly_once() {
    const JOBS: i64 = 10_000;
    let db = TestDb::new(Backend::Postgres).await;
    let store = db.store(4).await;
    wns_e2e::create_effect_tables(&store).await.unwrap();
    let queue = Queue::new(store.clone(), clock::system(), RetryPolicy::default());
    let mut tx = store.pool().begin().await.unwrap();
    for i in 0..JOBS {
        queue.enqueue_in(&mut tx, NewJob::new("test.effect", format!("order:{i}"), json!({ "i": i }))).await.unwrap();
    }
    tx.commit().await.unwrap();

    let workers: Vec<Child> =
        (0..4).map(|i| spawn_worker(&db, &format!("w{i}"), &["--exit-when-idle", "--lease-ms", "30000"])).collect();
    for mut w in workers {
        let status = tokio::task::spawn_blocking(move || w.wait()).await.unwrap().unwrap();
        assert!(status.success());
    }
    eventually("every job done", Duration::from_secs(60), async || {
        count(&store, "select count(*) from jobs where state = 'done'").await == JOBS
    })
    .await;
    assert_eq!(count(&store, "select count(*) from test_runs").await, JOBS, "no job ran twice");
    assert_eq!(count(&store, "select count(distinct job_id) from test_runs").await, JOBS, "none lost");
    assert_eq!(count(&store, "select count(*) from test_effects").await, JOBS);
    let per_worker = count(&store, "select count(distinct worker) from test_runs").await;
    assert!(per_worker >= 2, "the work was shared between processes (got {per_worker})");
}
