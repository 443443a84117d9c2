//! The JSON shapes of the backend's `/api/v1` and of the widget that reads them. Both sides
//! compile this crate (natively and to wasm), so a field renamed on one side breaks the build
//! of the other instead of a page in production.

use serde::{Deserialize, Serialize};

/// Where a job is in its life. `Blocked` waits for a person; `Dead` gave up and can be replayed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    Ready,
    Running,
    Blocked,
    Done,
    Dead,
}

impl JobState {
    pub const ALL: [JobState; 5] =
        [JobState::Ready, JobState::Running, JobState::Blocked, JobState::Done, JobState::Dead];

    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Ready => "ready",
            JobState::Running => "running",
            JobState::Blocked => "blocked",
            JobState::Done => "done",
            JobState::Dead => "dead",
        }
    }

    pub fn parse(s: &str) -> Option<JobState> {
        JobState::ALL.into_iter().find(|st| st.as_str() == s)
    }
}

/// Who in the shop fixes an exception.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Owner {
    Finance,
    Operations,
    Ecommerce,
    CustomerService,
}

impl Owner {
    pub fn as_str(self) -> &'static str {
        match self {
            Owner::Finance => "finance",
            Owner::Operations => "operations",
            Owner::Ecommerce => "ecommerce",
            Owner::CustomerService => "customer_service",
        }
    }

    pub fn parse(s: &str) -> Option<Owner> {
        [Owner::Finance, Owner::Operations, Owner::Ecommerce, Owner::CustomerService]
            .into_iter()
            .find(|o| o.as_str() == s)
    }
}

/// Count of jobs of one kind in one state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueCount {
    pub kind: String,
    pub state: JobState,
    pub count: u64,
}

/// `GET /api/v1/queue`: the queue at a glance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct QueueSummary {
    pub counts: Vec<QueueCount>,
}

impl QueueSummary {
    /// Jobs in `state`, over all kinds.
    pub fn total(&self, state: JobState) -> u64 {
        self.counts.iter().filter(|c| c.state == state).map(|c| c.count).sum()
    }
}

/// One attempt of a job, for the order timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobAttempt {
    pub attempt: u32,
    pub worker: String,
    /// Milliseconds since the Unix epoch (UTC).
    pub started_at: i64,
    pub finished_at: i64,
    /// done, retry, blocked, dead, abandoned (a worker's lease ran out) or released (shutdown).
    pub outcome: String,
    pub error: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_and_owners_round_trip_through_their_wire_names() {
        for s in JobState::ALL {
            assert_eq!(JobState::parse(s.as_str()), Some(s));
            assert_eq!(serde_json::to_string(&s).unwrap(), format!("\"{}\"", s.as_str()));
        }
        assert_eq!(serde_json::to_string(&Owner::CustomerService).unwrap(), "\"customer_service\"");
        assert_eq!(Owner::parse("finance"), Some(Owner::Finance));
        assert_eq!(JobState::parse("nope"), None);
    }

    #[test]
    fn summary_totals_add_up_over_kinds() {
        let s = QueueSummary {
            counts: vec![
                QueueCount { kind: "order".into(), state: JobState::Ready, count: 3 },
                QueueCount { kind: "customer".into(), state: JobState::Ready, count: 2 },
                QueueCount { kind: "order".into(), state: JobState::Dead, count: 1 },
            ],
        };
        assert_eq!(s.total(JobState::Ready), 5);
        assert_eq!(s.total(JobState::Dead), 1);
        assert_eq!(s.total(JobState::Blocked), 0);
    }
}
