//! Read-only views of the queue: counts by kind and state, and one job with its attempts.
//! (Replaying and other changes arrive with the widget's authenticated API.)

use axum::{
    Json, Router,
    extract::{Path, State},
    routing::get,
};
use serde::Serialize;
use wns_api_types::{JobAttempt, JobState, QueueSummary};

use super::{ApiError, AppState};
use crate::queue::JobId;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/queue", get(summary)).route("/api/v1/jobs/{id}", get(job))
}

async fn summary(State(state): State<AppState>) -> Result<Json<QueueSummary>, ApiError> {
    Ok(Json(state.queue.summary().await?))
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

async fn job(State(state): State<AppState>, Path(id): Path<i64>) -> Result<Json<JobView>, ApiError> {
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
