//! Durable jobs in the database: nothing that was acknowledged is lost, and a crashed worker's
//! job runs again once its lease runs out.
//!
//! Invariants: at most one pending (ready, running or blocked) job per `(kind, entity_key)` —
//! a burst of events for one order collapses into one job, and an event that arrives while the
//! job runs sets `rerun` so the newer data is not lost. A job may run more than once (a lease can
//! run out under a live worker), so every handler's effect must be idempotent: every NetSuite
//! write is an upsert by external id. Enqueue takes a connection so that callers enqueue in the
//! same transaction as the data that caused the job.

pub mod committer;
mod retry;
mod worker;

mod admin;
mod finish;
mod job;
mod kind;

use std::{collections::HashMap, sync::Arc, time::Duration};

use serde_json::Value;
use sqlx::{AnyConnection, Row};
use tokio::sync::Notify;
use wns_api_types::JobState;

pub use retry::RetryPolicy;
pub use worker::{Handlers, Worker, WorkerOptions};

use crate::{
    clock::{Millis, SharedClock, millis},
    store::{Backend, Store},
};

use finish::{AttemptRow, insert_attempts};
pub use job::*;
pub use kind::JobKind;

/// The queue: enqueue, claim, finish, requeue. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Queue {
    store: Store,
    clock: SharedClock,
    policy: RetryPolicy,
    policies: Arc<HashMap<String, RetryPolicy>>,
    wake: Arc<Notify>,
    /// Started at the first [`Queue::enqueue`]; see [`committer`].
    committer: Arc<std::sync::OnceLock<committer::Committer>>,
}

impl Queue {
    pub fn new(store: Store, clock: SharedClock, policy: RetryPolicy) -> Queue {
        Queue {
            store,
            clock,
            policy,
            policies: Arc::default(),
            wake: Arc::new(Notify::new()),
            committer: Arc::default(),
        }
    }

    /// Wakes this queue's idle workers when `other` enqueues too: for several queues (each with
    /// its own connection pool) in one process, such as the webhook receiver and the workers.
    pub fn sharing_wake_with(mut self, other: &Queue) -> Queue {
        self.wake = other.wake.clone();
        self
    }

    /// A retry schedule of its own for one kind of job.
    pub fn with_policy(mut self, kind: &str, policy: RetryPolicy) -> Queue {
        Arc::make_mut(&mut self.policies).insert(kind.to_string(), policy);
        self
    }

    pub fn policy(&self, kind: &str) -> &RetryPolicy {
        self.policies.get(kind).unwrap_or(&self.policy)
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn now(&self) -> Millis {
        self.clock.now()
    }

    /// The clock the queue (and every flow sharing it) reads.
    pub fn clock(&self) -> SharedClock {
        self.clock.clone()
    }

    pub(crate) fn wake_handle(&self) -> Arc<Notify> {
        self.wake.clone()
    }

    /// Enqueues on its own transaction — shared with the other enqueues waiting at the same
    /// moment in this process (group commit, see [`committer`]). Returns once committed.
    pub async fn enqueue(&self, job: NewJob) -> QueueResult<JobId> {
        let committer = self.committer.get_or_init(|| {
            // The committer's own copy has no committer: no reference cycle keeps it alive.
            committer::Committer::start(Queue { committer: Arc::default(), ..self.clone() })
        });
        committer.submit(job).await
    }

    /// Enqueues on a transaction of its own, alone (what the committer falls back to).
    pub async fn enqueue_alone(&self, job: NewJob) -> QueueResult<JobId> {
        let mut conn = self.store.pool().acquire().await?;
        self.enqueue_in(&mut conn, job).await
    }

    /// Enqueues inside the caller's transaction: the job exists exactly when the data does.
    /// An existing pending job for the same kind and key absorbs this one (newest payload wins;
    /// a running one is marked to run again; a blocked one is tried again with the new data).
    pub async fn enqueue_in(&self, conn: &mut AnyConnection, job: NewJob) -> QueueResult<JobId> {
        let now = self.clock.now();
        let max_attempts = self.policy(&job.kind).max_attempts as i64;
        let row = sqlx::query(
            "insert into jobs (kind, entity_key, payload, state, priority, depends_on, max_attempts, \
                               run_after, created_at, updated_at) \
             values ($1, $2, $3, 'ready', $4, $5, $6, $7, $8, $8) \
             on conflict (kind, entity_key) where state in ('ready', 'running', 'blocked') do update set \
                payload = excluded.payload, \
                rerun = case when jobs.state = 'running' then 1 else jobs.rerun end, \
                run_after = case when jobs.state = 'blocked' or excluded.run_after < jobs.run_after \
                                 then excluded.run_after else jobs.run_after end, \
                attempts = case when jobs.state = 'blocked' then 0 else jobs.attempts end, \
                blocked_owner = case when jobs.state = 'blocked' then null else jobs.blocked_owner end, \
                blocked_cause = case when jobs.state = 'blocked' then null else jobs.blocked_cause end, \
                state = case when jobs.state = 'blocked' then 'ready' else jobs.state end, \
                depends_on = coalesce(excluded.depends_on, jobs.depends_on), \
                updated_at = excluded.updated_at \
             returning id",
        )
        .bind(&job.kind)
        .bind(&job.entity_key)
        .bind(job.payload.to_string())
        .bind(job.priority)
        .bind(job.depends_on.map(|d| d.0))
        .bind(max_attempts)
        .bind(job.run_after.unwrap_or(now))
        .bind(now)
        .fetch_one(&mut *conn)
        .await?;
        // One job, one worker woken: waking them all makes every idle worker race for it.
        self.wake.notify_one();
        Ok(JobId(row.try_get(0)?))
    }

    /// Takes up to `limit` due jobs of the given kinds for `worker`, with a lease of `lease`.
    /// PostgreSQL: `for update skip locked`, so workers never wait on each other's rows.
    /// SQLite: one `update … returning` statement, which takes the database's single write lock
    /// at its start, so two processes can never claim the same row.
    pub async fn claim(
        &self,
        worker: &str,
        kinds: &[String],
        limit: usize,
        lease: Duration,
    ) -> QueueResult<Vec<ClaimedJob>> {
        if kinds.is_empty() || limit == 0 {
            return Ok(Vec::new());
        }
        let now = self.clock.now();
        let kind_params: Vec<String> = (0..kinds.len()).map(|i| format!("${}", i + 5)).collect();
        let lock = match self.store.backend() {
            Backend::Postgres => "for update skip locked",
            Backend::Sqlite => "",
        };
        let sql = format!(
            "update jobs set state = 'running', attempts = attempts + 1, lease_owner = $1, \
                             lease_until = $2, updated_at = $3 \
             where id in (select j.id from jobs j \
                          where j.state = 'ready' and j.run_after <= $3 and j.kind in ({kinds}) \
                            and (j.depends_on is null or exists \
                                 (select 1 from jobs d where d.id = j.depends_on and d.state = 'done')) \
                          order by j.priority desc, j.run_after, j.id limit $4 {lock}) \
             returning id, kind, entity_key, payload, attempts, max_attempts, reclaimed_from",
            kinds = kind_params.join(", "),
        );
        let mut q = sqlx::query_as(&sql).bind(worker).bind(now + millis(lease)).bind(now).bind(limit as i64);
        for k in kinds {
            q = q.bind(k);
        }
        let rows: Vec<ClaimedRow> = q.fetch_all(self.store.pool()).await?;
        Ok(rows.into_iter().map(|r| r.claimed_at(now)).collect())
    }

    /// Gives jobs back without counting the attempt (shutdown: they did not fail).
    pub async fn release(&self, jobs: &[ClaimedJob], worker: &str) -> QueueResult<u64> {
        let now = self.clock.now();
        let mut released = Vec::new();
        let mut tx = self.store.pool().begin().await?;
        for job in jobs {
            let r = sqlx::query(
                "update jobs set state = 'ready', attempts = attempts - 1, lease_owner = null, \
                        lease_until = null, run_after = $1, updated_at = $1 \
                 where id = $2 and state = 'running' and lease_owner = $3",
            )
            .bind(now)
            .bind(job.id.0)
            .bind(worker)
            .execute(&mut *tx)
            .await?;
            if r.rows_affected() == 1 {
                let note = "released unfinished at shutdown; not counted as a failed attempt".to_string();
                released.push(AttemptRow::new(job, job.attempt, worker, now, "released", Some(note)));
            }
        }
        insert_attempts(&mut tx, &released).await?;
        tx.commit().await?;
        if !released.is_empty() {
            self.wake.notify_waiters();
        }
        Ok(released.len() as u64)
    }

    /// Pushes the leases of the jobs `worker` is still running forward, so a long job is not
    /// taken away from a live worker. Only the named jobs: one whose task died is left to expire.
    pub async fn extend_leases(&self, worker: &str, jobs: &[JobId], lease: Duration) -> QueueResult<u64> {
        if jobs.is_empty() {
            return Ok(0);
        }
        let now = self.clock.now();
        let ids: Vec<String> = (0..jobs.len()).map(|i| format!("${}", i + 3)).collect();
        let sql = format!(
            "update jobs set lease_until = $1 where state = 'running' and lease_owner = $2 and id in ({})",
            ids.join(", ")
        );
        let mut q = sqlx::query(&sql).bind(now + millis(lease)).bind(worker);
        for id in jobs {
            q = q.bind(id.0);
        }
        Ok(q.execute(self.store.pool()).await?.rows_affected())
    }

    /// Makes jobs whose lease ran out (their worker died or stalled) ready again, remembering
    /// whose they were; a job that has used up its attempts this way is dead (a poison job
    /// must not crash workers forever).
    pub async fn reap_expired(&self) -> QueueResult<u64> {
        let now = self.clock.now();
        let r = sqlx::query(
            "update jobs set \
                state = case when attempts >= max_attempts then 'dead' else 'ready' end, \
                last_error = case when attempts >= max_attempts \
                    then 'worker lost its lease on the last allowed attempt' else last_error end, \
                reclaimed_from = lease_owner, lease_owner = null, lease_until = null, \
                run_after = $1, updated_at = $1 \
             where state = 'running' and lease_until < $1",
        )
        .bind(now)
        .execute(self.store.pool())
        .await?;
        if r.rows_affected() > 0 {
            self.wake.notify_waiters();
        }
        Ok(r.rows_affected())
    }
}

fn parse_state(s: &str) -> QueueResult<JobState> {
    JobState::parse(s).ok_or_else(|| sqlx::Error::Decode(format!("unknown job state {s}").into()))
}

/// A claimed `jobs` row as the claim returns it.
#[derive(sqlx::FromRow)]
struct ClaimedRow {
    id: i64,
    kind: String,
    entity_key: String,
    payload: String,
    attempts: i64,
    max_attempts: i64,
    reclaimed_from: Option<String>,
}

impl ClaimedRow {
    fn claimed_at(self, now: Millis) -> ClaimedJob {
        ClaimedJob {
            id: JobId(self.id),
            kind: self.kind,
            entity_key: self.entity_key,
            payload: serde_json::from_str(&self.payload).unwrap_or(Value::String(self.payload)),
            attempt: self.attempts as u32,
            max_attempts: self.max_attempts as u32,
            reclaimed_from: self.reclaimed_from,
            started_at: now,
        }
    }
}
