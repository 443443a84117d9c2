//! A worker process for the crash and concurrency tests: the real queue and worker, with one
//! test handler whose effect is an idempotent insert (like a NetSuite upsert by external id)
//! plus a plain log row per execution, so a test can count both effects and executions.
//!
//! `--hold` makes the handler write its effect, print `HOLDING <job id>` and never return: the
//! test then kills the process with SIGKILL, as a crash between NetSuite's write and our commit.

use std::{sync::Arc, time::Duration};

use clap::Parser;
use tokio_util::sync::CancellationToken;
use wns::{
    clock,
    queue::{Handlers, Outcome, Queue, RetryPolicy, Worker, WorkerOptions},
    store::Store,
};
use wns_api_types::JobState;

#[derive(Parser)]
struct Args {
    #[arg(long)]
    db: String,
    #[arg(long)]
    id: String,
    #[arg(long, default_value_t = 8)]
    concurrency: usize,
    #[arg(long, default_value_t = 2_000)]
    lease_ms: u64,
    /// Hold the first job forever after writing its effect.
    #[arg(long)]
    hold: bool,
    /// Exit once no test job is ready or running.
    #[arg(long)]
    exit_when_idle: bool,
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let store = Store::connect(&args.db, (args.concurrency as u32 + 2).min(16)).await?;
    // The test has migrated the database and created the effect tables before starting workers
    // (concurrent `create table if not exists` races on PostgreSQL's catalog).
    let queue = Queue::new(store.clone(), clock::system(), RetryPolicy::default());
    let worker_id = args.id.clone();
    let hold = args.hold;
    let handlers = Handlers::new().on("test.effect", move |job| {
        let (store, worker) = (store.clone(), worker_id.clone());
        async move {
            let run = async {
                sqlx::query("insert into test_runs (job_id, worker) values ($1, $2)")
                    .bind(job.id.0)
                    .bind(&worker)
                    .execute(store.pool())
                    .await?;
                sqlx::query("insert into test_effects (entity_key, job_id, worker) values ($1, $2, $3) on conflict (entity_key) do nothing")
                    .bind(&job.entity_key)
                    .bind(job.id.0)
                    .bind(&worker)
                    .execute(store.pool())
                    .await
            };
            if let Err(e) = run.await {
                return Outcome::Retry { error: e.to_string() };
            }
            if hold {
                println!("HOLDING {}", job.id);
                std::future::pending::<()>().await;
            }
            Outcome::Done
        }
    });
    let opts = WorkerOptions {
        concurrency: args.concurrency,
        lease: Duration::from_millis(args.lease_ms),
        poll: Duration::from_millis(20),
        reap_every: Duration::from_millis(200),
        ..WorkerOptions::new(args.id.clone())
    };
    let stop = CancellationToken::new();
    let worker = tokio::spawn(Worker::new(queue.clone(), handlers, opts).run(stop.clone()));
    if args.exit_when_idle {
        let q = Arc::new(queue);
        loop {
            tokio::time::sleep(Duration::from_millis(100)).await;
            let s = q.summary().await?;
            if s.total(JobState::Ready) + s.total(JobState::Running) == 0 {
                break;
            }
        }
        stop.cancel();
    }
    worker.await??;
    Ok(())
}
