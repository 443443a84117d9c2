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

use std::{collections::HashMap, sync::Arc, time::Duration};

use serde_json::Value;
use sqlx::{AnyConnection, Row, any::AnyRow};
use tokio::sync::Notify;
use wns_api_types::{JobAttempt, JobState, Owner, QueueCount, QueueSummary};

pub use retry::RetryPolicy;
pub use worker::{Handlers, Worker, WorkerOptions};

use crate::{
    clock::{Millis, SharedClock, millis},
    store::{Backend, Store},
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct JobId(pub i64);

impl std::fmt::Display for JobId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// A job to enqueue.
#[derive(Debug, Clone)]
pub struct NewJob {
    pub kind: String,
    /// What the job is about, e.g. `order:1234`; one pending job per kind and key.
    pub entity_key: String,
    pub payload: Value,
    pub depends_on: Option<JobId>,
    /// Higher runs first among due jobs.
    pub priority: i64,
    /// Earliest start; `None` means now.
    pub run_after: Option<Millis>,
}

impl NewJob {
    pub fn new(kind: impl Into<String>, entity_key: impl Into<String>, payload: Value) -> NewJob {
        NewJob {
            kind: kind.into(),
            entity_key: entity_key.into(),
            payload,
            depends_on: None,
            priority: 0,
            run_after: None,
        }
    }
    pub fn after(mut self, dependency: JobId) -> NewJob {
        self.depends_on = Some(dependency);
        self
    }
    pub fn priority(mut self, priority: i64) -> NewJob {
        self.priority = priority;
        self
    }
    pub fn run_after(mut self, at: Millis) -> NewJob {
        self.run_after = Some(at);
        self
    }
}

/// A job this worker holds the lease on.
#[derive(Debug, Clone)]
pub struct ClaimedJob {
    pub id: JobId,
    pub kind: String,
    pub entity_key: String,
    pub payload: Value,
    /// 1 on the first run.
    pub attempt: u32,
    pub max_attempts: u32,
    /// The worker whose lease on this job ran out before this claim, if any.
    pub reclaimed_from: Option<String>,
    pub started_at: Millis,
}

/// What a handler says about its run. The worker reads this and nothing else.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Done,
    /// Transient: try again on the retry schedule.
    Retry {
        error: String,
    },
    /// Transient, and the far side said when (`Retry-After`); clamped by the policy.
    RetryAfter {
        error: String,
        after: Duration,
    },
    /// A person must fix `cause` (e.g. `sku:ABC-1`); [`Queue::requeue_cause`] runs it again.
    Blocked {
        owner: Owner,
        cause: String,
        error: String,
    },
    /// Never going to work as it is; kept, visible and replayable.
    Dead {
        error: String,
    },
}

/// What finishing a job did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Finished {
    /// The job is now in this state.
    Now(JobState),
    /// Another worker took the job after this worker's lease ran out; its result was not recorded.
    LeaseLost,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Replay {
    Requeued,
    /// A newer job for the same entity is already pending; it will carry the work.
    AlreadyPending(JobId),
    NotDead,
}

/// A snapshot of one job, for the API and tests.
#[derive(Debug, Clone)]
pub struct JobRecord {
    pub id: JobId,
    pub kind: String,
    pub entity_key: String,
    pub state: JobState,
    pub attempts: u32,
    pub run_after: Millis,
    pub depends_on: Option<JobId>,
    pub blocked_owner: Option<Owner>,
    pub blocked_cause: Option<String>,
    pub last_error: Option<String>,
    pub rerun: bool,
}

pub type QueueResult<T> = Result<T, sqlx::Error>;

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
        let mut q = sqlx::query(&sql).bind(worker).bind(now + millis(lease)).bind(now).bind(limit as i64);
        for k in kinds {
            q = q.bind(k);
        }
        let rows = q.fetch_all(self.store.pool()).await?;
        rows.iter().map(|r| claimed_from_row(r, now)).collect()
    }

    /// Records the outcome of `job`'s run by `worker` and moves the job on.
    pub async fn finish(&self, job: &ClaimedJob, worker: &str, outcome: Outcome) -> QueueResult<Finished> {
        let mut done = self.finish_many(worker, vec![(job.clone(), outcome)]).await?;
        Ok(done.pop().expect("one result per job"))
    }

    /// Records many outcomes in one transaction (one commit, however many jobs): the worker
    /// hands over whatever finished meanwhile, so commits do not limit throughput under load.
    /// Results are in the order of `batch`.
    pub async fn finish_many(&self, worker: &str, batch: Vec<(ClaimedJob, Outcome)>) -> QueueResult<Vec<Finished>> {
        let now = self.clock.now();
        let plans: Vec<Plan> = batch.iter().map(|(job, outcome)| self.plan(job, outcome.clone(), now)).collect();
        let mut tx = self.store.pool().begin().await?;
        let mut states: HashMap<JobId, JobState> = HashMap::new();
        // The common case, a plain success, is one statement for the whole batch.
        let done: Vec<JobId> = plans.iter().filter(|p| p.state == JobState::Done).map(|p| p.id).collect();
        for chunk in done.chunks(500) {
            let ids: Vec<String> = (0..chunk.len()).map(|i| format!("${}", i + 3)).collect();
            let sql = format!(
                "update jobs set \
                    state = case when rerun = 1 then 'ready' else 'done' end, \
                    attempts = case when rerun = 1 then 0 else attempts end, \
                    run_after = $1, last_error = null, rerun = 0, lease_owner = null, lease_until = null, \
                    reclaimed_from = null, blocked_owner = null, blocked_cause = null, updated_at = $1 \
                 where state = 'running' and lease_owner = $2 and id in ({}) returning id, state",
                ids.join(", ")
            );
            let mut q = sqlx::query(&sql).bind(now).bind(worker);
            for id in chunk {
                q = q.bind(id.0);
            }
            for row in q.fetch_all(&mut *tx).await? {
                states.insert(JobId(row.try_get(0)?), parse_state(&row.try_get::<String, _>(1)?)?);
            }
        }
        for p in plans.iter().filter(|p| p.state != JobState::Done) {
            // A `rerun` mark means newer data arrived during this run: whatever this run
            // concluded, the job goes back to ready with a fresh attempt budget.
            let row = sqlx::query(
                "update jobs set \
                    state = case when rerun = 1 then 'ready' else $1 end, \
                    run_after = case when rerun = 1 then $7 else $2 end, \
                    attempts = case when rerun = 1 then 0 else attempts end, \
                    blocked_owner = case when rerun = 1 then null else $3 end, \
                    blocked_cause = case when rerun = 1 then null else $4 end, \
                    last_error = $5, rerun = 0, lease_owner = null, lease_until = null, \
                    reclaimed_from = null, updated_at = $7 \
                 where id = $6 and state = 'running' and lease_owner = $8 \
                 returning state",
            )
            .bind(p.state.as_str())
            .bind(p.run_after)
            .bind(p.owner.map(Owner::as_str))
            .bind(p.cause.clone())
            .bind(p.error.clone())
            .bind(p.id.0)
            .bind(now)
            .bind(worker)
            .fetch_optional(&mut *tx)
            .await?;
            if let Some(row) = row {
                states.insert(p.id, parse_state(&row.try_get::<String, _>(0)?)?);
            }
        }
        let mut attempts = Vec::new();
        for ((job, _), plan) in batch.iter().zip(&plans) {
            if !states.contains_key(&job.id) {
                continue; // lease lost: the worker that took over records this attempt as abandoned
            }
            if let Some(previous) = &job.reclaimed_from {
                let note = format!("lease of worker {previous} ran out before it finished (crash or stall)");
                attempts.push(AttemptRow::new(
                    job,
                    job.attempt.saturating_sub(1),
                    previous,
                    job.started_at,
                    "abandoned",
                    Some(note),
                ));
            }
            attempts.push(AttemptRow::new(job, job.attempt, worker, now, plan.label, plan.error.clone()));
        }
        insert_attempts(&mut tx, &attempts).await?;
        tx.commit().await?;
        if states.values().any(|s| *s == JobState::Ready) {
            self.wake.notify_waiters();
        }
        Ok(plans.iter().map(|p| states.get(&p.id).map_or(Finished::LeaseLost, |s| Finished::Now(*s))).collect())
    }

    /// What an outcome means for the job, under its kind's retry policy.
    fn plan(&self, job: &ClaimedJob, outcome: Outcome, now: Millis) -> Plan {
        let policy = self.policy(&job.kind);
        let mut plan = Plan {
            id: job.id,
            state: JobState::Ready,
            run_after: now,
            owner: None,
            cause: None,
            error: None,
            label: "retry",
        };
        match outcome {
            Outcome::Done => {
                plan.state = JobState::Done;
                plan.label = "done";
            }
            Outcome::Retry { error } | Outcome::RetryAfter { error, .. } if policy.exhausted(job.attempt) => {
                plan.state = JobState::Dead;
                plan.label = "dead";
                plan.error = Some(error);
            }
            Outcome::Retry { error } => {
                plan.run_after = now + millis(policy.delay(job.attempt, &mut rand::rng()));
                plan.error = Some(error);
            }
            Outcome::RetryAfter { error, after } => {
                plan.run_after = now + millis(policy.clamp_retry_after(after));
                plan.error = Some(error);
            }
            Outcome::Blocked { owner, cause, error } => {
                plan.state = JobState::Blocked;
                plan.label = "blocked";
                plan.owner = Some(owner);
                plan.cause = Some(cause);
                plan.error = Some(error);
            }
            Outcome::Dead { error } => {
                plan.state = JobState::Dead;
                plan.label = "dead";
                plan.error = Some(error);
            }
        }
        plan
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

    /// A person fixed `cause` (mapped the SKU, added the price level): every job blocked on it
    /// runs again at once with a fresh attempt budget. Returns how many.
    pub async fn requeue_cause(&self, cause: &str) -> QueueResult<u64> {
        let mut conn = self.store.pool().acquire().await?;
        let n = self.requeue_cause_in(&mut conn, cause).await?;
        self.wake_all_if(n);
        Ok(n)
    }

    /// Like [`Queue::requeue_cause`], inside the caller's transaction (with the fix that
    /// removed the cause); call [`Queue::wake_all_if`] after the commit.
    pub async fn requeue_cause_in(&self, conn: &mut AnyConnection, cause: &str) -> QueueResult<u64> {
        let now = self.clock.now();
        let r = sqlx::query(
            "update jobs set state = 'ready', attempts = 0, run_after = $1, blocked_owner = null, \
                    blocked_cause = null, updated_at = $1 \
             where state = 'blocked' and blocked_cause = $2",
        )
        .bind(now)
        .bind(cause)
        .execute(conn)
        .await?;
        Ok(r.rows_affected())
    }

    /// Wakes this process's idle workers when `n` jobs became ready.
    pub fn wake_all_if(&self, n: u64) {
        if n > 0 {
            self.wake.notify_waiters();
        }
    }

    /// Runs a dead job again with a fresh attempt budget.
    pub async fn replay(&self, id: JobId) -> QueueResult<Replay> {
        let now = self.clock.now();
        let mut tx = self.store.pool().begin().await?;
        let Some(row) = sqlx::query("select kind, entity_key, state from jobs where id = $1")
            .bind(id.0)
            .fetch_optional(&mut *tx)
            .await?
        else {
            return Ok(Replay::NotDead);
        };
        let (kind, key, state): (String, String, String) = (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?);
        if state != "dead" {
            return Ok(Replay::NotDead);
        }
        let pending = sqlx::query(
            "select id from jobs where kind = $1 and entity_key = $2 and state in ('ready', 'running', 'blocked')",
        )
        .bind(&kind)
        .bind(&key)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(p) = pending {
            return Ok(Replay::AlreadyPending(JobId(p.try_get(0)?)));
        }
        sqlx::query("update jobs set state = 'ready', attempts = 0, run_after = $1, updated_at = $1 where id = $2")
            .bind(now)
            .bind(id.0)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        self.wake.notify_waiters();
        Ok(Replay::Requeued)
    }

    pub async fn get(&self, id: JobId) -> QueueResult<Option<JobRecord>> {
        let row = sqlx::query(
            "select id, kind, entity_key, state, attempts, run_after, depends_on, blocked_owner, \
                    blocked_cause, last_error, rerun from jobs where id = $1",
        )
        .bind(id.0)
        .fetch_optional(self.store.pool())
        .await?;
        row.map(|r| record_from_row(&r)).transpose()
    }

    /// Every attempt of a job, oldest first.
    pub async fn attempts(&self, id: JobId) -> QueueResult<Vec<JobAttempt>> {
        let rows = sqlx::query(
            "select attempt, worker, started_at, finished_at, outcome, error from job_attempts \
             where job_id = $1 order by id",
        )
        .bind(id.0)
        .fetch_all(self.store.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(JobAttempt {
                    attempt: r.try_get::<i64, _>(0)? as u32,
                    worker: r.try_get(1)?,
                    started_at: r.try_get(2)?,
                    finished_at: r.try_get(3)?,
                    outcome: r.try_get(4)?,
                    error: r.try_get(5)?,
                })
            })
            .collect()
    }

    /// Counts by kind and state.
    pub async fn summary(&self) -> QueueResult<QueueSummary> {
        let rows = sqlx::query("select kind, state, count(*) from jobs group by kind, state order by kind, state")
            .fetch_all(self.store.pool())
            .await?;
        let mut counts = Vec::with_capacity(rows.len());
        for r in rows {
            let state: String = r.try_get(1)?;
            if let Some(state) = JobState::parse(&state) {
                counts.push(QueueCount { kind: r.try_get(0)?, state, count: r.try_get::<i64, _>(2)? as u64 });
            }
        }
        Ok(QueueSummary { counts })
    }
}

/// The decision for one job of a batch being finished.
struct Plan {
    id: JobId,
    state: JobState,
    run_after: Millis,
    owner: Option<Owner>,
    cause: Option<String>,
    error: Option<String>,
    /// The attempt's outcome as recorded: done, retry, blocked or dead.
    label: &'static str,
}

struct AttemptRow<'a> {
    job: JobId,
    attempt: u32,
    worker: &'a str,
    started_at: Millis,
    finished_at: Millis,
    outcome: &'static str,
    error: Option<String>,
}

impl<'a> AttemptRow<'a> {
    fn new(
        job: &ClaimedJob,
        attempt: u32,
        worker: &'a str,
        finished_at: Millis,
        outcome: &'static str,
        error: Option<String>,
    ) -> Self {
        AttemptRow { job: job.id, attempt, worker, started_at: job.started_at, finished_at, outcome, error }
    }
}

/// One multi-row insert per 100 attempts.
async fn insert_attempts(conn: &mut AnyConnection, rows: &[AttemptRow<'_>]) -> QueueResult<()> {
    for chunk in rows.chunks(100) {
        let values: Vec<String> = (0..chunk.len())
            .map(|i| {
                let b = i * 7;
                format!("(${}, ${}, ${}, ${}, ${}, ${}, ${})", b + 1, b + 2, b + 3, b + 4, b + 5, b + 6, b + 7)
            })
            .collect();
        let sql = format!(
            "insert into job_attempts (job_id, attempt, worker, started_at, finished_at, outcome, error) values {}",
            values.join(", ")
        );
        let mut q = sqlx::query(&sql);
        for r in chunk {
            q = q
                .bind(r.job.0)
                .bind(r.attempt as i64)
                .bind(r.worker)
                .bind(r.started_at)
                .bind(r.finished_at)
                .bind(r.outcome)
                .bind(r.error.clone());
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

fn parse_state(s: &str) -> QueueResult<JobState> {
    JobState::parse(s).ok_or_else(|| sqlx::Error::Decode(format!("unknown job state {s}").into()))
}

fn claimed_from_row(r: &AnyRow, now: Millis) -> QueueResult<ClaimedJob> {
    let payload: String = r.try_get(3)?;
    Ok(ClaimedJob {
        id: JobId(r.try_get(0)?),
        kind: r.try_get(1)?,
        entity_key: r.try_get(2)?,
        payload: serde_json::from_str(&payload).unwrap_or(Value::String(payload)),
        attempt: r.try_get::<i64, _>(4)? as u32,
        max_attempts: r.try_get::<i64, _>(5)? as u32,
        reclaimed_from: r.try_get(6)?,
        started_at: now,
    })
}

fn record_from_row(r: &AnyRow) -> QueueResult<JobRecord> {
    let state: String = r.try_get(3)?;
    let owner: Option<String> = r.try_get(7)?;
    Ok(JobRecord {
        id: JobId(r.try_get(0)?),
        kind: r.try_get(1)?,
        entity_key: r.try_get(2)?,
        state: parse_state(&state)?,
        attempts: r.try_get::<i64, _>(4)? as u32,
        run_after: r.try_get(5)?,
        depends_on: r.try_get::<Option<i64>, _>(6)?.map(JobId),
        blocked_owner: owner.as_deref().and_then(Owner::parse),
        blocked_cause: r.try_get(8)?,
        last_error: r.try_get(9)?,
        rerun: r.try_get::<i64, _>(10)? == 1,
    })
}
