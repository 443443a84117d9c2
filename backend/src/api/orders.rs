//! Orders for people (`view`): the status of many orders in one request (one per orders-list
//! screen) and one order's timeline. Read from what wns already keeps — the order's newest
//! `woo.order` job (waiting, retrying, blocked, failed), `order_links` (posted, fulfilled,
//! closed) and the open exceptions — in three queries for a whole batch, whatever its size.

use std::collections::{BTreeSet, HashMap};

use axum::{
    Json,
    extract::{State, rejection::JsonRejection},
};
use utoipa_axum::{router::OpenApiRouter, routes};
use wns_api_types::{
    BlockedReason, ErrorBody, ExceptionView, OrderStatus, OrderStatusRequest, OrderSyncState, OrderTimeline, Owner,
    Replayed,
};

use super::{
    ApiError, AppState,
    auth::{Caller, Cap},
    error::ApiPath,
    exceptions::{COLUMNS, ExceptionRow},
};
use crate::{
    queue::JobKind,
    store::{Store, placeholders},
};

/// Order ids one status request may carry: a full orders-list screen.
pub const MAX_IDS: usize = 500;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(status)).routes(routes!(timeline)).routes(routes!(replay))
}

/// The status of up to 500 WooCommerce orders, one per id in the order asked (one request per
/// orders-list screen).
#[utoipa::path(post, path = "/api/v1/orders/status", tag = "orders", request_body = OrderStatusRequest,
    responses((status = 200, body = Vec<OrderStatus>), (status = 400, body = ErrorBody)))]
async fn status(
    State(state): State<AppState>,
    caller: Caller,
    body: Result<Json<serde_json::Value>, JsonRejection>,
) -> Result<Json<Vec<OrderStatus>>, ApiError> {
    caller.require(Cap::View)?;
    let req: OrderStatusRequest = super::error::object_body(body, r#"{"ids": [order ids]}"#)?;
    if req.ids.len() > MAX_IDS {
        return Err(ApiError::BadRequest(format!(
            "at most {MAX_IDS} order ids per request (one screen of orders); this one has {}: split it",
            req.ids.len()
        )));
    }
    super::error::check_wc_ids(&req.ids)?;
    Ok(Json(statuses(state.queue.store(), state.netsuite_account.as_deref(), &req.ids).await?))
}

/// One order's status, every attempt to post it (time, outcome, error) and its open exceptions.
#[utoipa::path(get, path = "/api/v1/orders/{id}/timeline", tag = "orders",
    params(("id" = u64, Path, description = "The WooCommerce order id")),
    responses((status = 200, body = OrderTimeline), (status = 404, body = ErrorBody)))]
async fn timeline(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<u64>,
) -> Result<Json<OrderTimeline>, ApiError> {
    caller.require(Cap::View)?;
    super::error::check_wc_ids(&[id])?;
    let store = state.queue.store();
    let status = statuses(store, state.netsuite_account.as_deref(), &[id]).await?.remove(0);
    if status.state == OrderSyncState::Unknown {
        return Err(ApiError::NotFound(format!(
            "wns has not seen WooCommerce order {id}: no webhook and no sweep brought it yet (the sweep looks every 30 s)"
        )));
    }
    let attempts = state.queue.attempts_of(JobKind::WooOrder.as_str(), &JobKind::WooOrder.key(id)).await?;
    let mut entities: BTreeSet<String> = [format!("order:{id}")].into();
    entities.extend(status.blocked.as_ref().map(|b| entity_of_cause(&b.cause)));
    let impact = super::exceptions::Impact::read(&state).await?;
    let exceptions = open_exceptions(store, &entities, &impact).await?.into_values().flatten().collect();
    Ok(Json(OrderTimeline { status, attempts, exceptions }))
}

/// Posts an order again now (`replay`): its newest job, when it is dead (wns gave up) or blocked
/// (a person fixed the cause where wns cannot see it). The answer names the job.
#[utoipa::path(post, path = "/api/v1/orders/{id}/replay", tag = "orders",
    params(("id" = u64, Path, description = "The WooCommerce order id")),
    responses((status = 200, body = Replayed), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn replay(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<u64>,
) -> Result<Json<Replayed>, ApiError> {
    caller.require(Cap::Replay)?;
    super::error::check_wc_ids(&[id])?;
    let job: Option<i64> =
        sqlx::query_scalar("select id from jobs where kind = $1 and entity_key = $2 order by id desc limit 1")
            .bind(JobKind::WooOrder.as_str())
            .bind(JobKind::WooOrder.key(id))
            .fetch_optional(state.queue.store().pool())
            .await?;
    let Some(job) = job else {
        return Err(ApiError::NotFound(format!(
            "wns has not seen WooCommerce order {id}, so there is nothing to replay"
        )));
    };
    Ok(Json(super::queue::replay_job(&state, &caller, job).await?))
}

/// The newest `woo.order` job of an order.
#[derive(sqlx::FromRow)]
struct JobRow {
    entity_key: String,
    state: String,
    attempts: i64,
    run_after: i64,
    blocked_owner: Option<String>,
    blocked_cause: Option<String>,
    last_error: Option<String>,
}

#[derive(sqlx::FromRow)]
struct LinkRow {
    wc_order_id: i64,
    state: String,
    netsuite_id: Option<String>,
    tranid: Option<String>,
}

/// The status of each of `ids`, in their order (an id twice is answered twice).
pub async fn statuses(store: &Store, account: Option<&str>, ids: &[u64]) -> Result<Vec<OrderStatus>, sqlx::Error> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let distinct: Vec<u64> = ids.iter().copied().collect::<BTreeSet<_>>().into_iter().collect();
    let keys: Vec<String> = distinct.iter().map(|id| JobKind::WooOrder.key(id)).collect();
    let sql = format!(
        "select entity_key, state, attempts, run_after, blocked_owner, blocked_cause, last_error from jobs \
         where kind = ${} and entity_key in ({}) order by id",
        keys.len() + 1,
        placeholders(1, keys.len())
    );
    let mut jobs_q = sqlx::query_as::<_, JobRow>(&sql);
    for k in &keys {
        jobs_q = jobs_q.bind(k);
    }
    let jobs_q = jobs_q.bind(JobKind::WooOrder.as_str());
    let sql = format!(
        "select wc_order_id, state, netsuite_id, tranid from order_links where wc_order_id in ({})",
        placeholders(1, distinct.len())
    );
    let mut links_q = sqlx::query_as::<_, LinkRow>(&sql);
    for id in &distinct {
        links_q = links_q.bind(*id as i64);
    }
    // Independent reads on two connections at once (SQLite's WAL lets readers run side by side).
    let (job_rows, link_rows) = futures::try_join!(jobs_q.fetch_all(store.pool()), links_q.fetch_all(store.pool()))?;
    let mut jobs: HashMap<u64, JobRow> = HashMap::new();
    for row in job_rows {
        if let Some(id) = JobKind::WooOrder.id_of(&row.entity_key) {
            // Ordered by id: the newest job of each order wins.
            jobs.insert(id, row);
        }
    }
    let links: HashMap<u64, LinkRow> = link_rows.into_iter().map(|l| (l.wc_order_id as u64, l)).collect();
    let causes: BTreeSet<String> =
        jobs.values().filter_map(|j| j.blocked_cause.as_deref()).map(entity_of_cause).collect();
    // Only each exception's words are used here: what waits on it is not counted (a batch stays cheap).
    let exceptions = open_exceptions(store, &causes, &Default::default()).await?;
    Ok(ids.iter().map(|id| status_of(*id, jobs.get(id), links.get(id), &exceptions, account)).collect())
}

fn status_of(
    id: u64,
    job: Option<&JobRow>,
    link: Option<&LinkRow>,
    exceptions: &HashMap<String, Vec<ExceptionView>>,
    account: Option<&str>,
) -> OrderStatus {
    let netsuite_id = link.and_then(|l| l.netsuite_id.clone());
    let mut s = OrderStatus {
        order_id: id,
        state: OrderSyncState::Unknown,
        netsuite_url: netsuite_id.as_deref().and_then(|ns| account.map(|a| sales_order_url(a, ns))),
        netsuite_id,
        netsuite_number: link.and_then(|l| l.tranid.clone()),
        next_attempt_at: None,
        blocked: None,
        last_error: None,
    };
    let linked = link.map(|l| match l.state.as_str() {
        "fulfilled" => OrderSyncState::Fulfilled,
        "closed" => OrderSyncState::Closed,
        _ => OrderSyncState::Posted,
    });
    s.state = match job.map(|j| (j, j.state.as_str())) {
        Some((j, "blocked")) => {
            let cause = j.blocked_cause.clone().unwrap_or_default();
            let exception = exceptions.get(&entity_of_cause(&cause)).and_then(|e| e.first());
            s.blocked = Some(BlockedReason {
                owner: exception
                    .map(|e| e.owner)
                    .or_else(|| j.blocked_owner.as_deref().and_then(Owner::parse))
                    .unwrap_or(Owner::Ecommerce),
                message: exception.map(|e| e.message.clone()).or_else(|| j.last_error.clone()).unwrap_or_default(),
                fix: exception.map(|e| e.fix.clone()).unwrap_or_default(),
                cause,
            });
            OrderSyncState::Blocked
        }
        Some((j, "dead")) => {
            s.last_error = j.last_error.clone();
            OrderSyncState::Failed
        }
        Some((j, "ready" | "running")) if j.attempts > 0 && j.last_error.is_some() => {
            s.last_error = j.last_error.clone();
            s.next_attempt_at = Some(j.run_after);
            OrderSyncState::Retrying
        }
        // An edit of a posted order on its way: the sales order is still there.
        Some((_, "ready" | "running")) => linked.unwrap_or(OrderSyncState::Waiting),
        Some(_) => linked.unwrap_or(OrderSyncState::NotPosted),
        None => linked.unwrap_or(OrderSyncState::Unknown),
    };
    s
}

/// The exception entity a blocked cause is raised on: `order:7:customer` → `order:7`,
/// `tax:order:7` → `order:7`, `sku:MUG` and `item:42` as they are.
pub(super) fn entity_of_cause(cause: &str) -> String {
    let cause = cause.strip_prefix("tax:").unwrap_or(cause);
    match cause.strip_prefix("order:") {
        Some(rest) => format!("order:{}", rest.split(':').next().unwrap_or(rest)),
        None => cause.to_string(),
    }
}

/// Open exceptions on `entities`, newest first per entity.
async fn open_exceptions(
    store: &Store,
    entities: &BTreeSet<String>,
    impact: &super::exceptions::Impact,
) -> Result<HashMap<String, Vec<ExceptionView>>, sqlx::Error> {
    let mut out: HashMap<String, Vec<ExceptionView>> = HashMap::new();
    if entities.is_empty() {
        return Ok(out);
    }
    let sql = format!(
        "select {COLUMNS} from exceptions where resolved_at is null and entity_key in ({}) order by last_seen desc, id desc",
        placeholders(1, entities.len())
    );
    let mut q = sqlx::query_as::<_, ExceptionRow>(&sql);
    for e in entities {
        q = q.bind(e);
    }
    for r in q.fetch_all(store.pool()).await? {
        out.entry(r.entity_key.clone()).or_default().push(r.view(impact));
    }
    Ok(out)
}

/// The sales order in NetSuite's UI: `1234567_SB1` → `https://1234567-sb1.app.netsuite.com/…`.
pub fn sales_order_url(account: &str, internal_id: &str) -> String {
    format!(
        "https://{}.app.netsuite.com/app/accounting/transactions/salesord.nl?id={internal_id}",
        account.to_ascii_lowercase().replace('_', "-")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn causes_map_to_the_entity_their_exception_is_raised_on() {
        assert_eq!(entity_of_cause("order:7:customer"), "order:7");
        assert_eq!(entity_of_cause("tax:order:7"), "order:7");
        assert_eq!(entity_of_cause("sku:MUG-RED"), "sku:MUG-RED");
        assert_eq!(entity_of_cause("item:42"), "item:42");
    }

    #[test]
    fn deep_links_use_the_accounts_host() {
        assert_eq!(
            sales_order_url("1234567_SB1", "981"),
            "https://1234567-sb1.app.netsuite.com/app/accounting/transactions/salesord.nl?id=981"
        );
    }
}
