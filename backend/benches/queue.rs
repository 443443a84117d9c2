//! `cargo xtask bench queue`: throughput of no-op jobs through the whole queue — enqueue, claim,
//! run, record — with 1 and 4 workers on SQLite and PostgreSQL. Enqueue two ways: through
//! `Queue::enqueue` by 64 concurrent callers (the queue group-commits what waits at the same
//! moment), and one transaction per job by 4 producers (the worst case). Each worker has its own
//! connection pool, as separate processes would. Prints a table; asserts nothing about speed.
//!
//! Absolute rates follow the machine's load, so each row also measures a baseline on the same
//! database, pool and number of callers: each job a row inserted into a scratch table and deleted
//! again, each statement its own commit, the least a durable queue must do per job. The row's jobs
//! go in `WNS_BENCH_ROUNDS` (default 4) rounds, each a baseline pass of as many jobs and then
//! wns's (enqueue, run until the queue is empty, workers stopped), so both see the same load;
//! the table gives wns's rate as a ratio of the baseline's, overall and per round.
//!
//! PostgreSQL comes from `WNS_TEST_PG` (set by `cargo xtask bench`); `WNS_BENCH_JOBS` changes
//! the number of jobs per run.

use std::{
    ops::Range,
    time::{Duration, Instant},
};

use serde_json::json;
use sqlx::AnyPool;
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
    /// wns's seconds and the baseline's, all rounds.
    secs: f64,
    bare_secs: f64,
    /// (wns's rate, the baseline's rate) of each round.
    rounds: Vec<(f64, f64)>,
}

/// The baseline: `callers` concurrent tasks on `pool`, each job a row inserted into the scratch
/// table and deleted, each statement its own transaction. Returns the seconds taken.
async fn bare(pool: &AnyPool, callers: usize, ids: Range<usize>) -> f64 {
    let start = Instant::now();
    let tasks: Vec<_> = (0..callers)
        .map(|c| {
            let (pool, ids) = (pool.clone(), ids.clone());
            tokio::spawn(async move {
                for i in (ids.start + c..ids.end).step_by(callers) {
                    sqlx::query("insert into bench_scratch (id, payload) values ($1, $2)")
                        .bind(i as i64)
                        .bind(json!({ "i": i }).to_string())
                        .execute(&pool)
                        .await
                        .expect("scratch insert");
                    sqlx::query("delete from bench_scratch where id = $1")
                        .bind(i as i64)
                        .execute(&pool)
                        .await
                        .expect("scratch delete");
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    start.elapsed().as_secs_f64()
}

async fn run(backend: Backend, workers: usize, jobs: usize, group: usize, rounds: usize) -> Row {
    let db = TestDb::new(backend).await;
    let store = db.store(PRODUCERS as u32 + 1).await;
    let producer_queue = Queue::new(store.clone(), clock::system(), RetryPolicy::default());
    sqlx::query("create table bench_scratch (id bigint primary key, payload text not null)")
        .execute(store.pool())
        .await
        .expect("creating the scratch table");
    let mut worker_queues = Vec::new();
    for _ in 0..workers {
        // PostgreSQL: a pool per worker, as separate processes (replicas) would have. SQLite is
        // the single-process default: its workers share the process's queue, as in `wns serve`.
        worker_queues.push(match backend {
            Backend::Postgres => Queue::new(db.store(4).await, clock::system(), RetryPolicy::default()),
            // Same process: the producers' enqueues wake these workers, as in `wns serve`.
            Backend::Sqlite => producer_queue.clone(),
        });
    }
    let callers = if group == 0 { CALLERS } else { PRODUCERS };
    let rounds = rounds.clamp(1, jobs);
    let mut row = Row { backend, workers, jobs, group, secs: 0.0, bare_secs: 0.0, rounds: Vec::new() };
    for r in 0..rounds {
        let ids = jobs * r / rounds..jobs * (r + 1) / rounds;
        let n = ids.len() as f64;
        // The baseline first, with no worker running: nothing else touches the database.
        let b = bare(store.pool(), callers, ids.clone()).await;
        let w = round(&producer_queue, &worker_queues, callers, group, ids).await;
        row.rounds.push((n / w, n / b));
        row.secs += w;
        row.bare_secs += b;
    }
    row
}

/// One round of wns: the workers started, jobs `ids` enqueued, run until the queue is empty
/// (with workers), the workers stopped. Returns the seconds from the first enqueue.
async fn round(
    producer_queue: &Queue,
    worker_queues: &[Queue],
    callers: usize,
    group: usize,
    ids: Range<usize>,
) -> f64 {
    let stop = CancellationToken::new();
    let mut running = Vec::new();
    for (w, q) in worker_queues.iter().enumerate() {
        let opts = WorkerOptions {
            concurrency: 64,
            poll: Duration::from_millis(5),
            ..WorkerOptions::new(format!("bench-{w}"))
        };
        let worker = Worker::new(q.clone(), Handlers::new().on("noop", |_| async { Outcome::Done }), opts);
        running.push(tokio::spawn(worker.run(stop.clone())));
    }
    let start = Instant::now();
    let producers: Vec<_> = (0..callers)
        .map(|p| {
            let q = producer_queue.clone();
            let mine: Vec<usize> = (ids.start + p..ids.end).step_by(callers).collect();
            tokio::spawn(async move {
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
    if worker_queues.is_empty() {
        return start.elapsed().as_secs_f64();
    }
    // Poll sparingly: a count over the whole table competes with the workers for the database.
    loop {
        let pending: i64 = sqlx::query_scalar("select count(*) from jobs where state in ('ready', 'running')")
            .fetch_one(producer_queue.store().pool())
            .await
            .unwrap();
        if pending == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let done = producer_queue.summary().await.unwrap().total(JobState::Done) as usize;
    assert_eq!(done, ids.end, "every job must be done exactly once");
    let secs = start.elapsed().as_secs_f64();
    stop.cancel();
    for r in running {
        r.await.unwrap().unwrap();
    }
    secs
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let env = |name: &str, default: usize| std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default);
    let jobs = env("WNS_BENCH_JOBS", 20_000);
    let rounds = env("WNS_BENCH_ROUNDS", 4);
    let mut rows = Vec::new();
    let mut backends = vec![Backend::Sqlite];
    if std::env::var_os("WNS_TEST_PG").is_some() {
        backends.push(Backend::Postgres);
    } else {
        eprintln!("WNS_TEST_PG is not set: PostgreSQL rows skipped (cargo xtask bench queue sets it)");
    }
    for backend in backends {
        for (workers, group) in workers_to_run().into_iter().flat_map(|w| groups().into_iter().map(move |g| (w, g))) {
            let row = rt.block_on(run(backend, workers, jobs, group, rounds));
            let rounds: Vec<String> =
                row.rounds.iter().map(|(w, b)| format!("{w:.0} ÷ {b:.0} = {:.2}", w / b)).collect();
            eprintln!(
                "  {} with {} worker(s), {}: {:.0} jobs/s; per round, wns ÷ bare: {}",
                row.backend.name(),
                row.workers,
                describe(row.group),
                row.jobs as f64 / row.secs,
                rounds.join(", ")
            );
            rows.push(row);
        }
    }
    println!();
    println!("queue: enqueue + claim + run + record of no-op jobs");
    println!(
        "bare: the same database, pool and number of callers, each job a row inserted into a scratch table and \
         deleted (two commits); taking turns with wns in {rounds} rounds"
    );
    println!(
        "| database | workers | enqueue | jobs | seconds | jobs/s | bare jobs/s | wns ÷ bare | wns ÷ bare per round, \
         lowest–highest |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for r in &rows {
        let (rate, bare) = (r.jobs as f64 / r.secs, r.jobs as f64 / r.bare_secs);
        let mut ratios: Vec<f64> = r.rounds.iter().map(|(w, b)| w / b).collect();
        ratios.sort_by(f64::total_cmp);
        println!(
            "| {} | {} | {} | {} | {:.2} | {:.0} | {:.0} | {:.2} | {:.2}–{:.2} |",
            r.backend.name(),
            r.workers,
            describe(r.group),
            r.jobs,
            r.secs,
            rate,
            bare,
            rate / bare,
            ratios[0],
            ratios[ratios.len() - 1]
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
