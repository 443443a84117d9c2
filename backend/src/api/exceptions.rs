//! The exceptions board: exceptions with filters (owner, kind, state, entity, text) and what each
//! holds back, open counts per owner for a badge (`view`); resolve, ignore with a reason, reopen
//! (`resolve`), each in the audit log. Most exceptions close by themselves when their cause goes
//! away (`monitor::exceptions`); these routes are for the rest, and for a person who knows better.

use std::collections::HashMap;

use axum::{
    Json,
    extract::{Query, State, rejection::JsonRejection},
};
use serde::Deserialize;
use serde_json::json;
use utoipa_axum::{router::OpenApiRouter, routes};
use wns_api_types::{ErrorBody, ExceptionState, ExceptionView, IgnoreRequest, Owner, OwnerCount};

use super::{
    ApiError, AppState,
    auth::{Caller, Cap},
    error::ApiPath,
};
use crate::{
    monitor::audit::Change,
    queue::JobKind,
    store::{
        Store,
        order_amounts::{self, Waiting},
    },
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(counts))
        .routes(routes!(resolve))
        .routes(routes!(ignore))
        .routes(routes!(reopen))
}

/// The columns every exception view is read from.
pub(super) const COLUMNS: &str = "id, kind, owner, entity_key, message, fix, resolved_at, resolution, resolved_by, note, first_seen, last_seen, seen";

#[derive(sqlx::FromRow)]
pub(super) struct ExceptionRow {
    id: i64,
    kind: String,
    owner: String,
    pub(super) entity_key: String,
    message: String,
    fix: String,
    resolved_at: Option<i64>,
    resolution: Option<String>,
    resolved_by: Option<String>,
    note: Option<String>,
    first_seen: i64,
    last_seen: i64,
    seen: i64,
}

impl ExceptionRow {
    pub(super) fn view(self, impact: &Impact) -> ExceptionView {
        let w = impact.orders.get(&self.entity_key).cloned().unwrap_or_default();
        let skus_stale = impact.skus_of(&self.kind, &self.entity_key);
        let state = match (self.resolved_at, self.resolution.as_deref()) {
            (None, _) => ExceptionState::Open,
            (Some(_), Some("ignored")) => ExceptionState::Ignored,
            (Some(_), _) => ExceptionState::Resolved,
        };
        ExceptionView {
            id: self.id,
            kind: self.kind,
            owner: Owner::parse(&self.owner).unwrap_or(Owner::Ecommerce),
            entity: self.entity_key,
            message: self.message,
            fix: self.fix,
            state,
            resolution: self.resolution,
            resolved_by: self.resolved_by,
            note: self.note,
            orders_blocked: w.orders,
            money_waiting: w.money(),
            skus_stale,
            first_seen: self.first_seen,
            last_seen: self.last_seen,
            count: self.seen,
        }
    }
}

/// What exceptions hold back: orders and their money per entity, and how many SKUs' stock is stale.
#[derive(Default)]
pub(super) struct Impact {
    orders: HashMap<String, Waiting>,
    /// SKUs whose NetSuite figure is older than `stock.stale_after_secs` (what WooCommerce shows
    /// for them may be sold out in NetSuite).
    stale: u64,
}

impl Impact {
    /// Orders waiting per exception entity, and their money (each blocked `woo.order` job counts
    /// for the entity its cause is raised on: `sku:X`, `item:N`, `order:N`), and the stale SKUs.
    pub(super) async fn read(state: &AppState) -> Result<Impact, sqlx::Error> {
        let store = state.queue.store();
        let orders = order_amounts::blocked(store, JobKind::WooOrder.as_str()).await?;
        let before = state.queue.now() - state.stock_limits.stale_after_secs as i64 * 1000;
        let stale: i64 = sqlx::query_scalar("select count(*) from stock_items where ns_as_of < $1")
            .bind(before)
            .fetch_one(store.pool())
            .await?;
        Ok(Impact { orders: order_amounts::per(&orders, super::orders::entity_of_cause), stale: stale as u64 })
    }

    /// SKUs an exception leaves with stale or wrong stock: every stale one for the stock flow's
    /// own `stock_stale`, its one SKU for a stock exception about a SKU, none for the rest.
    fn skus_of(&self, kind: &str, entity: &str) -> u64 {
        match (kind, entity) {
            ("stock_stale", "stock") => self.stale,
            ("stock_stale" | "stock_drift" | "stock_item_rejected" | "stock_unreadable", e)
                if e.starts_with("sku:") =>
            {
                1
            }
            _ => 0,
        }
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct Filters {
    /// Whose exceptions.
    #[param(value_type = Option<Owner>)]
    owner: Option<String>,
    /// An exception kind, e.g. `unmapped_sku`.
    kind: Option<String>,
    /// `open` (default), `resolved`, `ignored` or `all`.
    #[param(pattern = "^(open|resolved|ignored|all)?$")]
    state: Option<String>,
    entity: Option<String>,
    /// Words in the message, upper or lower case.
    q: Option<String>,
    /// At most this many, newest first (1 to 1000, default 200).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<i64>,
}

/// Exceptions with filters, newest first, each with what it holds back and the fix in words.
#[utoipa::path(get, path = "/api/v1/exceptions", tag = "exceptions", params(Filters),
    responses((status = 200, body = Vec<ExceptionView>), (status = 400, body = ErrorBody)))]
async fn list(
    State(state): State<AppState>,
    caller: Caller,
    filters: Result<Query<Filters>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Vec<ExceptionView>>, ApiError> {
    caller.require(Cap::View)?;
    let Query(mut f) = filters.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    // An empty text filter (`?q=`, as a form with nothing typed sends it) filters nothing; an
    // owner must be one of the four. `state` is a choice, not text: empty means the default and
    // anything else must be one of the four words exactly, as the document's pattern says.
    for v in [&mut f.kind, &mut f.entity, &mut f.q] {
        if v.as_deref().is_some_and(|s| s.trim().is_empty()) {
            *v = None;
        }
    }
    let limit = f.limit.unwrap_or(200);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::BadRequest("limit must be 1 to 1000".into()));
    }
    if let Some(o) = &f.owner
        && Owner::parse(o).is_none()
    {
        return Err(ApiError::BadRequest(format!(
            "owner {o:?} is not one of finance, operations, ecommerce, customer_service"
        )));
    }
    let state_clause = match f.state.as_deref().filter(|s| !s.is_empty()).unwrap_or("open") {
        "open" => "resolved_at is null",
        "resolved" => "resolved_at is not null and coalesce(resolution, '') <> 'ignored'",
        "ignored" => "resolution = 'ignored'",
        "all" => "1 = 1",
        other => {
            return Err(ApiError::BadRequest(format!("state {other:?} is not one of open, resolved, ignored, all")));
        }
    };
    let sql = format!(
        "select {COLUMNS} from exceptions where {state_clause} \
         and ($1 = '' or owner = $1) and ($2 = '' or kind = $2) and ($3 = '' or entity_key = $3) \
         and ($4 = '' or lower(message) like $4) order by last_seen desc, id desc limit $5"
    );
    let text = f.q.as_deref().map(|q| format!("%{}%", q.to_lowercase())).unwrap_or_default();
    let rows: Vec<ExceptionRow> = sqlx::query_as(&sql)
        .bind(f.owner.unwrap_or_default())
        .bind(f.kind.unwrap_or_default())
        .bind(f.entity.unwrap_or_default())
        .bind(text)
        .bind(limit)
        .fetch_all(state.queue.store().pool())
        .await?;
    let impact = Impact::read(&state).await?;
    Ok(Json(rows.into_iter().map(|r| r.view(&impact)).collect()))
}

/// Open exceptions per owner, for a badge.
#[utoipa::path(get, path = "/api/v1/exceptions/counts", tag = "exceptions", responses((status = 200, body = Vec<OwnerCount>)))]
async fn counts(State(state): State<AppState>, caller: Caller) -> Result<Json<Vec<OwnerCount>>, ApiError> {
    caller.require(Cap::View)?;
    let rows: Vec<(String, i64)> =
        sqlx::query_as("select owner, count(*) from exceptions where resolved_at is null group by owner")
            .fetch_all(state.queue.store().pool())
            .await?;
    let count = |o: Owner| rows.iter().find(|(x, _)| x == o.as_str()).map(|(_, n)| *n as u64).unwrap_or(0);
    let owners = [Owner::Finance, Owner::Operations, Owner::Ecommerce, Owner::CustomerService];
    Ok(Json(owners.into_iter().map(|owner| OwnerCount { owner, open: count(owner) }).collect()))
}

async fn one(store: &Store, id: i64) -> Result<ExceptionRow, ApiError> {
    sqlx::query_as(&format!("select {COLUMNS} from exceptions where id = $1"))
        .bind(id)
        .fetch_optional(store.pool())
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no exception {id}")))
}

/// Closes exception `id` by hand with `resolution` (`fixed` or `ignored`) and an optional note.
async fn close(
    state: &AppState,
    caller: &Caller,
    id: i64,
    resolution: &str,
    note: Option<&str>,
) -> Result<ExceptionView, ApiError> {
    let store = state.queue.store();
    let before = one(store, id).await?;
    if before.resolved_at.is_some() {
        return Err(ApiError::Conflict(format!(
            "exception {id} is closed already ({}); reopen it first",
            before.resolution.as_deref().unwrap_or("resolved")
        )));
    }
    let now = state.queue.now();
    let mut tx = store.pool().begin().await?;
    sqlx::query(
        "update exceptions set resolved_at = $1, resolution = $2, resolved_by = $3, note = $4 where id = $5 and resolved_at is null",
    )
    .bind(now)
    .bind(resolution)
    .bind(&caller.who)
    .bind(note)
    .bind(id)
    .execute(&mut *tx)
    .await?;
    let change = Change {
        who: &caller.who,
        entity: &format!("exception:{id}"),
        action: if resolution == "ignored" { "exception.ignore" } else { "exception.resolve" },
        before: Some(json!({ "state": "open", "kind": before.kind, "entity": before.entity_key })),
        after: Some(json!({ "state": resolution, "note": note })),
    };
    change.record_in(&mut tx, now).await?;
    tx.commit().await?;
    Ok(one(store, id).await?.view(&Impact::read(state).await?))
}

/// Closes an exception as fixed by a person (`resolve`).
#[utoipa::path(post, path = "/api/v1/exceptions/{id}/resolve", tag = "exceptions", params(("id" = i64, Path, description = "The exception id")),
    responses((status = 200, body = ExceptionView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn resolve(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<ExceptionView>, ApiError> {
    caller.require(Cap::Resolve)?;
    Ok(Json(close(&state, &caller, id, "fixed", None).await?))
}

/// Sets an exception aside with a reason (`resolve`).
#[utoipa::path(post, path = "/api/v1/exceptions/{id}/ignore", tag = "exceptions", params(("id" = i64, Path, description = "The exception id")), request_body = IgnoreRequest,
    responses((status = 200, body = ExceptionView), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
async fn ignore(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
    body: Result<Json<serde_json::Value>, JsonRejection>,
) -> Result<Json<ExceptionView>, ApiError> {
    caller.require(Cap::Resolve)?;
    let req: IgnoreRequest = super::error::object_body(body, r#"{"reason": "…"}"#)?;
    let reason = req.reason.trim();
    if !super::error::has_text(reason) || req.reason.chars().count() > 500 {
        return Err(ApiError::BadRequest("say why it is ignored, in 1 to 500 characters (`reason`)".into()));
    }
    Ok(Json(close(&state, &caller, id, "ignored", Some(reason)).await?))
}

/// Opens a closed exception again (`resolve`).
#[utoipa::path(post, path = "/api/v1/exceptions/{id}/reopen", tag = "exceptions", params(("id" = i64, Path, description = "The exception id")),
    responses((status = 200, body = ExceptionView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn reopen(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<ExceptionView>, ApiError> {
    caller.require(Cap::Resolve)?;
    let store = state.queue.store();
    let before = one(store, id).await?;
    if before.resolved_at.is_none() {
        return Err(ApiError::Conflict(format!("exception {id} is open already")));
    }
    let now = state.queue.now();
    let mut tx = store.pool().begin().await?;
    let reopened = sqlx::query(
        "update exceptions set resolved_at = null, resolution = null, resolved_by = null, note = null, last_seen = $1 \
         where id = $2 and not exists (select 1 from exceptions o where o.kind = $3 and o.entity_key = $4 and o.resolved_at is null)",
    )
    .bind(now)
    .bind(id)
    .bind(&before.kind)
    .bind(&before.entity_key)
    .execute(&mut *tx)
    .await?;
    if reopened.rows_affected() == 0 {
        return Err(ApiError::Conflict(format!(
            "a newer {} exception for {} is open; look at that one",
            before.kind, before.entity_key
        )));
    }
    let change = Change {
        who: &caller.who,
        entity: &format!("exception:{id}"),
        action: "exception.reopen",
        before: Some(json!({ "state": before.resolution, "note": before.note })),
        after: Some(json!({ "state": "open" })),
    };
    change.record_in(&mut tx, now).await?;
    tx.commit().await?;
    Ok(Json(one(store, id).await?.view(&Impact::read(&state).await?)))
}
