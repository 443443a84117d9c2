//! Finishing jobs: each outcome becomes a state, a time to run again or an owner, and one recorded
//! attempt; a batch of finished jobs is written in one transaction.

use std::collections::HashMap;

use sqlx::{AnyConnection, Row};
use wns_api_types::{JobState, Owner};

use crate::clock::{Millis, millis};

use super::*;

impl Queue {
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

pub(super) struct AttemptRow<'a> {
    job: JobId,
    attempt: u32,
    worker: &'a str,
    started_at: Millis,
    finished_at: Millis,
    outcome: &'static str,
    error: Option<String>,
}

impl<'a> AttemptRow<'a> {
    pub(super) fn new(
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
pub(super) async fn insert_attempts(conn: &mut AnyConnection, rows: &[AttemptRow<'_>]) -> QueueResult<()> {
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
