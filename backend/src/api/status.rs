//! `GET /api/v1/health` (`view`): how the sync is doing, for the people running the shop — jobs by
//! state, NetSuite's concurrency budget in use, each background flow's last success and lag,
//! webhook misses today and the oldest order still waiting. (`/healthz` is the machine's view.)

use axum::{Json, extract::State};
use utoipa_axum::{router::OpenApiRouter, routes};
use wns_api_types::{ErrorBody, FlowHealth, Health, NetSuiteBudget, WaitingOrder};

use super::{
    ApiError, AppState,
    auth::{Caller, Cap},
    error::ApiQuery,
};
use crate::queue::JobKind;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(health)).routes(routes!(daily_report))
}

#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct ReportQuery {
    /// `YYYY-MM-DD` (UTC); yesterday when absent.
    #[param(value_type = Option<String>, format = Date)]
    date: Option<String>,
    /// `html` (default) or `csv`.
    #[param(pattern = "^(html|csv)?$")]
    format: Option<String>,
}

/// The exceptions of one day grouped by owner and ordered by impact, as a page finance and
/// operations can read (`html`) or a spreadsheet (`csv`).
#[utoipa::path(get, path = "/api/v1/reports/daily", tag = "reports", params(ReportQuery),
    responses(
        (status = 200, description = "The report", content((String = "text/html"), (String = "text/csv"))),
        (status = 400, body = ErrorBody)))]
async fn daily_report(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<ReportQuery>,
) -> Result<axum::response::Response, ApiError> {
    use axum::{http::header, response::IntoResponse};
    caller.require(Cap::View)?;
    let day = match q.date.as_deref() {
        Some(d) => chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d")
            .map_err(|_| ApiError::BadRequest(format!("date {d:?} is not a day such as 2026-12-01")))?,
        None => crate::monitor::report::yesterday(state.queue.now()),
    };
    let lines = crate::monitor::report::daily(state.queue.store(), day).await?;
    Ok(match q.format.as_deref().filter(|f| !f.is_empty()).unwrap_or("html") {
        "html" => ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], crate::monitor::report::html(day, &lines))
            .into_response(),
        "csv" => (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
                (header::CONTENT_DISPOSITION, format!("attachment; filename=\"wns-exceptions-{day}.csv\"")),
            ],
            crate::monitor::report::csv(&lines),
        )
            .into_response(),
        other => return Err(ApiError::BadRequest(format!("format {other:?} is not html or csv"))),
    })
}

/// Queue depth by state, NetSuite's budget in use, each flow's last success and lag, webhook
/// misses today and the order waiting longest.
#[utoipa::path(get, path = "/api/v1/health", tag = "health", responses((status = 200, body = Health)))]
async fn health(State(state): State<AppState>, caller: Caller) -> Result<Json<Health>, ApiError> {
    caller.require(Cap::View)?;
    let store = state.queue.store();
    let now = state.queue.now();
    let midnight = now - now.rem_euclid(86_400_000);
    let misses: i64 =
        sqlx::query_scalar("select count(*) from exceptions where kind = 'webhook_miss' and first_seen >= $1")
            .bind(midnight)
            .fetch_one(store.pool())
            .await?;
    let oldest: Option<(String, String, i64)> = sqlx::query_as(
        "select entity_key, state, created_at from jobs where kind = $1 and state in ('ready', 'running', 'blocked') \
         order by created_at, id limit 1",
    )
    .bind(JobKind::WooOrder.as_str())
    .fetch_optional(store.pool())
    .await?;
    let flows = state
        .loops
        .report()
        .into_iter()
        .map(|r| FlowHealth {
            name: r.name.to_string(),
            verdict: r.verdict.as_str().to_string(),
            lag_secs: r.last_ok_ms.map(|t| (now - t).max(0) / 1000),
            last_ok_ms: r.last_ok_ms,
            interval_ms: r.interval_ms,
            restarts: r.restarts,
        })
        .collect();
    Ok(Json(Health {
        queue: state.queue.summary().await?,
        netsuite: state.governor.as_ref().map(|g| NetSuiteBudget {
            budget: g.budget() as u64,
            window: g.window() as u64,
            in_flight: g.in_flight() as u64,
            throttled: g.throttled_count(),
        }),
        flows,
        webhook_misses_today: misses,
        oldest_waiting_order: oldest.and_then(|(key, state, since)| {
            Some(WaitingOrder {
                order_id: JobKind::WooOrder.id_of(&key)?,
                state,
                since,
                age_secs: (now - since).max(0) / 1000,
            })
        }),
    }))
}
