//! The job types: what is enqueued, what a worker holds, what a handler answers, and what the
//! queue shows of a job.

use std::time::Duration;

use serde_json::Value;
use wns_api_types::{JobState, Owner};

use crate::clock::Millis;

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
    /// Only a dead or blocked job can be replayed (a ready or running one runs anyway; a done one
    /// is done).
    NotReplayable,
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
