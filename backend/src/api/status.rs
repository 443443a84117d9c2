//! `GET /api/v1/health` (`view`): how the sync is doing, for the people running the shop — jobs by
//! state, NetSuite's concurrency budget in use, each background flow's last success and lag,
//! webhook misses today and the oldest order still waiting. (`/healthz` is the machine's view.)

use axum::{
    Json, Router,
    extract::{Query, State},
    routing::get,
};
use serde::Serialize;
use wns_api_types::QueueSummary;

use super::{
    ApiError, AppState,
    auth::{Caller, Cap},
};
use crate::{queue::JobKind, supervise::LoopReport};

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/health", get(health)).route("/api/v1/reports/daily", get(daily_report))
}

#[derive(serde::Deserialize)]
struct ReportQuery {
    /// `YYYY-MM-DD` (UTC); yesterday when absent.
    date: Option<String>,
    /// `html` (default) or `csv`.
    format: Option<String>,
}

/// The daily exception report, HTML for people or CSV for a spreadsheet.
async fn daily_report(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<ReportQuery>,
) -> Result<axum::response::Response, ApiError> {
    use axum::{http::header, response::IntoResponse};
    caller.require(Cap::View)?;
    let day = match q.date.as_deref() {
        Some(d) => chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d")
            .map_err(|_| ApiError::BadRequest(format!("date {d:?} is not a day such as 2026-12-01")))?,
        None => yesterday(state.queue.now()),
    };
    let lines = crate::monitor::report::daily(state.queue.store(), day).await?;
    Ok(match q.format.as_deref().unwrap_or("html") {
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

/// The UTC day before `now_ms`.
pub fn yesterday(now_ms: i64) -> chrono::NaiveDate {
    chrono::DateTime::<chrono::Utc>::from_timestamp_millis(now_ms - 86_400_000).unwrap_or_default().date_naive()
}

#[derive(Serialize)]
struct Health {
    queue: QueueSummary,
    /// `None` until `[netsuite]` is configured.
    netsuite: Option<Budget>,
    flows: Vec<Flow>,
    /// Orders the sweep found that no webhook delivered, since midnight UTC.
    webhook_misses_today: i64,
    oldest_waiting_order: Option<Waiting>,
}

#[derive(Serialize)]
struct Budget {
    /// Requests this process may run at once (the limit minus the reserve), and may right now.
    budget: usize,
    window: usize,
    in_flight: usize,
    /// NetSuite's 429 answers since this process started.
    throttled: u64,
}

#[derive(Serialize)]
struct Flow {
    #[serde(flatten)]
    report: LoopReport,
    /// Seconds since its last success (`None`: not yet).
    lag_secs: Option<i64>,
}

#[derive(Serialize)]
struct Waiting {
    order_id: u64,
    /// `ready` (waiting or retrying) or `blocked` (a person must fix something).
    state: String,
    since: i64,
    age_secs: i64,
}

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
        .map(|report| Flow { lag_secs: report.last_ok_ms.map(|t| (now - t).max(0) / 1000), report })
        .collect();
    Ok(Json(Health {
        queue: state.queue.summary().await?,
        netsuite: state.governor.as_ref().map(|g| Budget {
            budget: g.budget(),
            window: g.window(),
            in_flight: g.in_flight(),
            throttled: g.throttled_count(),
        }),
        flows,
        webhook_misses_today: misses,
        oldest_waiting_order: oldest.and_then(|(key, state, since)| {
            Some(Waiting {
                order_id: JobKind::WooOrder.id_of(&key)?,
                state,
                since,
                age_secs: (now - since).max(0) / 1000,
            })
        }),
    }))
}
