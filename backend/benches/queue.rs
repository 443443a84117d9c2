//! `cargo xtask bench queue`: throughput of no-op jobs through the whole queue — enqueue, claim,
//! run, record — with 1 and 4 workers on SQLite and PostgreSQL. Enqueue two ways: through
//! `Queue::enqueue` by 64 concurrent callers (the queue group-commits what waits at the same
//! moment), and one transaction per job by 4 producers (the worst case). Each worker has its own connection pool, as separate processes would. Prints a
//! table; asserts nothing about speed.
//!
//! PostgreSQL comes from `WNS_TEST_PG` (set by `cargo xtask bench`); `WNS_BENCH_JOBS` changes
//! the number of jobs per run.

use std::time::{Duration, Instant};

use serde_json::json;
use tokio_util::sync::CancellationToken;
use wns::{
    clock,
    queue::{Handlers, NewJob, Outcome, Queue, RetryPolicy, Worker, WorkerOptions},
    store::Backend,
    testing::TestDb,
};
use wns_api_types::JobState;

const PRODUCERS: usize = 4;
/// Concurrent `Queue::enqueue` callers in the group-commit rows: a burst of webhook deliveries
/// or of jobs enqueueing follow-ups.
const CALLERS: usize = 64;

struct Row {
    backend: Backend,
    workers: usize,
    jobs: usize,
    group: usize,
    secs: f64,
}

async fn run(backend: Backend, workers: usize, jobs: usize, group: usize) -> Row {
    let db = TestDb::new(backend).await;
    let store = db.store(PRODUCERS as u32 + 1).await;
    let producer_queue = Queue::new(store.clone(), clock::system(), RetryPolicy::default());
    let stop = CancellationToken::new();
    let mut running = Vec::new();
    for w in 0..workers {
        // PostgreSQL: a pool per worker, as separate processes (replicas) would have. SQLite is
        // the single-process default: its workers share the process's queue, as in `wns serve`.
        let q = match backend {
            Backend::Postgres => Queue::new(db.store(4).await, clock::system(), RetryPolicy::default()),
            // Same process: the producers' enqueues wake these workers, as in `wns serve`.
            Backend::Sqlite => producer_queue.clone(),
        };
        let opts = WorkerOptions {
            concurrency: 64,
            poll: Duration::from_millis(5),
            ..WorkerOptions::new(format!("bench-{w}"))
        };
        let worker = Worker::new(q, Handlers::new().on("noop", |_| async { Outcome::Done }), opts);
        running.push(tokio::spawn(worker.run(stop.clone())));
    }
    let start = Instant::now();
    let callers = if group == 0 { CALLERS } else { PRODUCERS };
    let producers: Vec<_> = (0..callers)
        .map(|p| {
            let q = producer_queue.clone();
            tokio::spawn(async move {
                let mine: Vec<usize> = (p..jobs).step_by(callers).collect();
                if group == 0 {
                    // `Queue::enqueue`, one call per job: the queue commits the calls waiting
                    // at the same moment together (queue::committer).
                    for i in mine {
                        q.enqueue(NewJob::new("noop", format!("e:{i}"), json!({ "i": i }))).await.expect("enqueue");
                    }
                    return;
                }
                for chunk in mine.chunks(group) {
                    // `group` jobs per transaction, as the webhook receiver commits concurrent
                    // deliveries together; 1 is one transaction per job.
                    let mut tx = q.store().pool().begin().await.expect("begin");
                    for i in chunk {
                        q.enqueue_in(&mut tx, NewJob::new("noop", format!("e:{i}"), json!({ "i": i })))
                            .await
                            .expect("enqueue");
                    }
                    tx.commit().await.expect("commit");
                }
            })
        })
        .collect();
    for p in producers {
        p.await.unwrap();
    }
    if workers == 0 {
        return Row { backend, workers, jobs, group, secs: start.elapsed().as_secs_f64() };
    }
    // Poll sparingly: a count over the whole table competes with the workers for the database.
    loop {
        let pending: i64 = sqlx::query_scalar("select count(*) from jobs where state in ('ready', 'running')")
            .fetch_one(store.pool())
            .await
            .unwrap();
        if pending == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let done = producer_queue.summary().await.unwrap().total(JobState::Done) as usize;
    assert_eq!(done, jobs, "every job must be done exactly once");
    let secs = start.elapsed().as_secs_f64();
    stop.cancel();
    for r in running {
        r.await.unwrap().unwrap();
    }
    Row { backend, workers, jobs, group, secs }
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let jobs: usize = std::env::var("WNS_BENCH_JOBS").ok().and_then(|v| v.parse().ok()).unwrap_or(20_000);
    let mut rows = Vec::new();
    let mut backends = vec![Backend::Sqlite];
    if std::env::var_os("WNS_TEST_PG").is_some() {
        backends.push(Backend::Postgres);
    } else {
        eprintln!("WNS_TEST_PG is not set: PostgreSQL rows skipped (cargo xtask bench queue sets it)");
    }
    for backend in backends {
        for (workers, group) in workers_to_run().into_iter().flat_map(|w| groups().into_iter().map(move |g| (w, g))) {
            let row = rt.block_on(run(backend, workers, jobs, group));
            eprintln!(
                "  {} with {} worker(s), {}: {:.0} jobs/s",
                row.backend.name(),
                row.workers,
                describe(row.group),
                row.jobs as f64 / row.secs
            );
            rows.push(row);
        }
    }
    println!();
    println!("queue: enqueue + claim + run + record of no-op jobs");
    println!("| database | workers | enqueue | jobs | seconds | jobs/s |");
    println!("|---|---:|---:|---:|---:|---:|");
    for r in &rows {
        println!(
            "| {} | {} | {} | {} | {:.2} | {:.0} |",
            r.backend.name(),
            r.workers,
            describe(r.group),
            r.jobs,
            r.secs,
            r.jobs as f64 / r.secs
        );
    }
}

fn describe(group: usize) -> String {
    match group {
        0 => format!("Queue::enqueue, {CALLERS} concurrent callers, group commit"),
        1 => format!("own transaction per job, {PRODUCERS} producers"),
        g => format!("{g} jobs per caller's transaction, {PRODUCERS} producers"),
    }
}

/// `WNS_BENCH_GROUP=0,1,32`: 0 is `Queue::enqueue` (one call per job, group-committed by the
/// queue); n > 0 is n jobs per producer's own transaction (1: each job alone, as a lone event;
/// 32: as the webhook receiver commits a burst of concurrent deliveries).
fn groups() -> Vec<usize> {
    std::env::var("WNS_BENCH_GROUP")
        .ok()
        .map(|v| v.split(',').filter_map(|g| g.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![0, 1])
}

/// `WNS_BENCH_WORKERS=0,1,4`: 0 measures enqueueing alone.
fn workers_to_run() -> Vec<usize> {
    std::env::var("WNS_BENCH_WORKERS")
        .ok()
        .map(|v| v.split(',').filter_map(|w| w.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![1, 4])
}
