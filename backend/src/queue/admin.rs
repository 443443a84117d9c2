//! What people and other flows do with jobs: requeue every job blocked on a fixed cause, replay a
//! dead one, read one with its attempts, and count them by state.

use sqlx::{AnyConnection, Row};
use wns_api_types::{JobAttempt, JobState, Owner, QueueCount, QueueSummary};

use super::*;

impl Queue {
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
            return Ok(Replay::NotReplayable);
        };
        let (kind, key, state): (String, String, String) = (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?);
        // A dead job gave up; a blocked one waits for a person, who may have fixed its cause where
        // wns cannot see it (an item made sellable in NetSuite) and wants it tried now.
        if state != "dead" && state != "blocked" {
            return Ok(Replay::NotReplayable);
        }
        let pending = sqlx::query(
            "select id from jobs where kind = $1 and entity_key = $2 and state in ('ready', 'running', 'blocked') and id <> $3",
        )
        .bind(&kind)
        .bind(&key)
        .bind(id.0)
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
        let row: Option<JobRow> = sqlx::query_as(
            "select id, kind, entity_key, state, attempts, run_after, depends_on, blocked_owner, \
                    blocked_cause, last_error, rerun from jobs where id = $1",
        )
        .bind(id.0)
        .fetch_optional(self.store.pool())
        .await?;
        row.map(JobRecord::try_from).transpose()
    }

    /// Every attempt of a job, oldest first.
    pub async fn attempts(&self, id: JobId) -> QueueResult<Vec<JobAttempt>> {
        let rows: Vec<AttemptRecord> = sqlx::query_as(
            "select attempt, worker, started_at, finished_at, outcome, error from job_attempts \
             where job_id = $1 order by id",
        )
        .bind(id.0)
        .fetch_all(self.store.pool())
        .await?;
        Ok(rows.into_iter().map(JobAttempt::from).collect())
    }

    /// Every attempt of every job of one entity (all its jobs, not only the newest), oldest first:
    /// an order's timeline.
    pub async fn attempts_of(&self, kind: &str, entity_key: &str) -> QueueResult<Vec<JobAttempt>> {
        let rows: Vec<AttemptRecord> = sqlx::query_as(
            "select a.attempt, a.worker, a.started_at, a.finished_at, a.outcome, a.error from job_attempts a \
             join jobs j on j.id = a.job_id where j.kind = $1 and j.entity_key = $2 order by a.started_at, a.id",
        )
        .bind(kind)
        .bind(entity_key)
        .fetch_all(self.store.pool())
        .await?;
        Ok(rows.into_iter().map(JobAttempt::from).collect())
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

/// A `jobs` row as `get` selects it.
#[derive(sqlx::FromRow)]
struct JobRow {
    id: i64,
    kind: String,
    entity_key: String,
    state: String,
    attempts: i64,
    run_after: i64,
    depends_on: Option<i64>,
    blocked_owner: Option<String>,
    blocked_cause: Option<String>,
    last_error: Option<String>,
    rerun: i64,
}

impl TryFrom<JobRow> for JobRecord {
    type Error = sqlx::Error;

    fn try_from(r: JobRow) -> QueueResult<JobRecord> {
        Ok(JobRecord {
            id: JobId(r.id),
            kind: r.kind,
            entity_key: r.entity_key,
            state: parse_state(&r.state)?,
            attempts: r.attempts as u32,
            run_after: r.run_after,
            depends_on: r.depends_on.map(JobId),
            blocked_owner: r.blocked_owner.as_deref().and_then(Owner::parse),
            blocked_cause: r.blocked_cause,
            last_error: r.last_error,
            rerun: r.rerun == 1,
        })
    }
}

/// A `job_attempts` row as `attempts` selects it.
#[derive(sqlx::FromRow)]
struct AttemptRecord {
    attempt: i64,
    worker: String,
    started_at: i64,
    finished_at: i64,
    outcome: String,
    error: Option<String>,
}

impl From<AttemptRecord> for JobAttempt {
    fn from(r: AttemptRecord) -> JobAttempt {
        JobAttempt {
            attempt: r.attempt as u32,
            worker: r.worker,
            started_at: r.started_at,
            finished_at: r.finished_at,
            outcome: r.outcome,
            error: r.error,
        }
    }
}
