//! The queue for people: counts by kind and state and one job with its attempts (`view`), and
//! replaying a dead job (`replay`).

use axum::{Json, extract::State};
use utoipa_axum::{router::OpenApiRouter, routes};
use wns_api_types::{ErrorBody, JobView, QueueSummary, Replayed};

use super::{
    ApiError, AppState,
    auth::{Caller, Cap},
    error::ApiPath,
};
use crate::queue::{JobId, Replay};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(summary)).routes(routes!(job)).routes(routes!(replay))
}

/// Jobs per kind and state.
#[utoipa::path(get, path = "/api/v1/queue", tag = "queue", responses((status = 200, body = QueueSummary)))]
async fn summary(State(state): State<AppState>, caller: Caller) -> Result<Json<QueueSummary>, ApiError> {
    caller.require(Cap::View)?;
    Ok(Json(state.queue.summary().await?))
}

/// Runs a dead job again (`replay`); a blocked one runs again by itself when its cause is fixed.
#[utoipa::path(post, path = "/api/v1/jobs/{id}/replay", tag = "queue",
    params(("id" = i64, Path, description = "The job id")),
    responses((status = 200, body = Replayed), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn replay(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
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
            Ok(Json(Replayed { result: "requeued".into(), job: id }))
        }
        Replay::AlreadyPending(other) => Ok(Json(Replayed { result: "already_pending".into(), job: other.0 })),
        Replay::NotDead => Err(ApiError::BadRequest(format!(
            "job {id} is not dead (or does not exist): only a dead job can be replayed; a blocked one runs again when its cause is fixed"
        ))),
    }
}

/// One job and every attempt at it.
#[utoipa::path(get, path = "/api/v1/jobs/{id}", tag = "queue",
    params(("id" = i64, Path, description = "The job id")),
    responses((status = 200, body = JobView), (status = 404, body = ErrorBody)))]
async fn job(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<JobView>, ApiError> {
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
