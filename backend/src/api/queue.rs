//! The queue for people: counts by kind and state and one job with its attempts (`view`), and
//! replaying a dead job (`replay`).

use axum::{
    Json, Router,
    extract::{Path, State},
    routing::{get, post},
};
use serde::Serialize;
use wns_api_types::{JobAttempt, JobState, QueueSummary};

use super::{
    ApiError, AppState,
    auth::{Caller, Cap},
};
use crate::queue::{JobId, Replay};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/queue", get(summary))
        .route("/api/v1/jobs/{id}", get(job))
        .route("/api/v1/jobs/{id}/replay", post(replay))
}

async fn summary(State(state): State<AppState>, caller: Caller) -> Result<Json<QueueSummary>, ApiError> {
    caller.require(Cap::View)?;
    Ok(Json(state.queue.summary().await?))
}

#[derive(Serialize)]
struct Replayed {
    /// `requeued`, or `already_pending` (a newer job for the same order carries the work).
    result: &'static str,
    job: i64,
}

async fn replay(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Json<Replayed>, ApiError> {
    caller.require(Cap::Replay)?;
    if state.queue.get(JobId(id)).await?.is_none() {
        return Err(ApiError::NotFound(format!("no job {id}")));
    }
    match state.queue.replay(JobId(id)).await? {
        Replay::Requeued => {
            tracing::info!(job = id, by = %caller.who, "job replayed");
            let change = crate::monitor::audit::Change {
                who: &caller.who,
                entity: &format!("job:{id}"),
                action: "job.replay",
                before: Some(serde_json::json!({ "state": "dead" })),
                after: Some(serde_json::json!({ "state": "ready" })),
            };
            change.record(state.queue.store(), state.queue.now()).await?;
            Ok(Json(Replayed { result: "requeued", job: id }))
        }
        Replay::AlreadyPending(other) => Ok(Json(Replayed { result: "already_pending", job: other.0 })),
        Replay::NotDead => Err(ApiError::BadRequest(format!(
            "job {id} is not dead (or does not exist): only a dead job can be replayed; a blocked one runs again when its cause is fixed"
        ))),
    }
}

#[derive(Serialize)]
struct JobView {
    id: i64,
    kind: String,
    entity_key: String,
    state: JobState,
    attempts: u32,
    blocked_cause: Option<String>,
    last_error: Option<String>,
    history: Vec<JobAttempt>,
}

async fn job(State(state): State<AppState>, caller: Caller, Path(id): Path<i64>) -> Result<Json<JobView>, ApiError> {
    caller.require(Cap::View)?;
    let rec = state.queue.get(JobId(id)).await?.ok_or_else(|| ApiError::NotFound(format!("no job {id}")))?;
    let history = state.queue.attempts(rec.id).await?;
    Ok(Json(JobView {
        id: rec.id.0,
        kind: rec.kind,
        entity_key: rec.entity_key,
        state: rec.state,
        attempts: rec.attempts,
        blocked_cause: rec.blocked_cause,
        last_error: rec.last_error,
        history,
    }))
}
