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

/// Runs a dead or blocked job again now (`replay`): after a person fixed what wns cannot see.
#[utoipa::path(post, path = "/api/v1/jobs/{id}/replay", tag = "queue",
    params(("id" = i64, Path, description = "The job id")),
    responses((status = 200, body = Replayed), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn replay(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Replayed>, ApiError> {
    caller.require(Cap::Replay)?;
    Ok(Json(replay_job(&state, &caller, id).await?))
}

/// Replays job `id` for `caller` (who holds `replay`), in the audit log when it was requeued.
pub(super) async fn replay_job(state: &AppState, caller: &Caller, id: i64) -> Result<Replayed, ApiError> {
    let Some(job) = state.queue.get(JobId(id)).await? else {
        return Err(ApiError::NotFound(format!("no job {id}")));
    };
    match state.queue.replay(JobId(id)).await? {
        Replay::Requeued => {
            tracing::info!(job = id, by = %caller.who, "job replayed");
            let change = crate::monitor::audit::Change {
                who: &caller.who,
                entity: &format!("job:{id}"),
                action: "job.replay",
                before: Some(serde_json::json!({ "state": job.state.as_str(), "entity": job.entity_key })),
                after: Some(serde_json::json!({ "state": "ready" })),
            };
            change.record(state.queue.store(), state.queue.now()).await?;
            Ok(Replayed { result: "requeued".into(), job: id })
        }
        Replay::AlreadyPending(other) => Ok(Replayed { result: "already_pending".into(), job: other.0 }),
        Replay::NotReplayable => Err(ApiError::BadRequest(format!(
            "job {id} is {}, neither dead nor blocked: it runs anyway or is done; nothing to replay",
            job.state.as_str()
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
