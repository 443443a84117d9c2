//! SKU mappings for people: the SKUs no NetSuite item answers to, with the orders they hold back
//! (`view`); saving, changing and removing a mapping (`map_skus`) — saving requeues every order
//! blocked on that SKU in the same transaction as the mapping, and the answer says how many. Every
//! change is in the audit log. `GET /api/v1/audit?entity=…` lists an entity's changes (`view`).

use axum::{
    Json, Router,
    extract::{Path, Query, State, rejection::JsonRejection},
    routing::get,
};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{
    ApiError, AppState,
    auth::{Caller, Cap},
};
use crate::{
    monitor::audit::{self, Change},
    queue::{JobKind, Queue},
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/skus/unmapped", get(unmapped))
        .route("/api/v1/skus/{sku}/mapping", get(mapping).put(save).delete(remove))
        .route("/api/v1/items/search", get(search_items))
        .route("/api/v1/audit", get(audit_of))
}

#[derive(Debug, Deserialize)]
struct SearchQuery {
    q: String,
    #[serde(default = "twenty")]
    limit: i64,
}

fn twenty() -> i64 {
    20
}

/// NetSuite items by name, display name or UPC, from the local index (no NetSuite request).
async fn search_items(
    State(state): State<AppState>,
    caller: Caller,
    query: Result<Query<SearchQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Vec<crate::sync::items::ItemHit>>, ApiError> {
    caller.require(Cap::View)?;
    let Query(q) = query.map_err(|e| ApiError::BadRequest(format!("search with ?q=<text>: {}", e.body_text())))?;
    if q.q.trim().is_empty() || q.q.len() > 100 {
        return Err(ApiError::BadRequest(
            "q must be 1 to 100 characters of an item's name, display name or UPC".into(),
        ));
    }
    if !(1..=100).contains(&q.limit) {
        return Err(ApiError::BadRequest("limit must be 1 to 100".into()));
    }
    Ok(Json(crate::sync::items::search(state.queue.store(), &q.q, q.limit).await?))
}

/// A SKU that holds orders back.
#[derive(Debug, Serialize, Deserialize)]
pub struct Unmapped {
    pub sku: String,
    /// The WooCommerce orders waiting for it, oldest first.
    pub order_ids: Vec<u64>,
    /// When the first of them was blocked (ms since the Unix epoch).
    pub since: i64,
}

async fn unmapped(State(state): State<AppState>, caller: Caller) -> Result<Json<Vec<Unmapped>>, ApiError> {
    caller.require(Cap::View)?;
    let rows: Vec<(String, String, i64)> = sqlx::query_as(
        "select blocked_cause, entity_key, updated_at from jobs \
         where kind = $1 and state = 'blocked' and blocked_cause like 'sku:%' order by updated_at, id",
    )
    .bind(JobKind::WooOrder.as_str())
    .fetch_all(state.queue.store().pool())
    .await?;
    let mut out: Vec<Unmapped> = Vec::new();
    for (cause, key, at) in rows {
        let sku = cause.trim_start_matches("sku:").to_string();
        let Some(order) = JobKind::WooOrder.id_of(&key) else { continue };
        match out.iter_mut().find(|u| u.sku == sku) {
            Some(u) => u.order_ids.push(order),
            None => out.push(Unmapped { sku, order_ids: vec![order], since: at }),
        }
    }
    // The SKUs holding back the most orders first.
    out.sort_by(|a, b| b.order_ids.len().cmp(&a.order_ids.len()).then(a.since.cmp(&b.since)));
    Ok(Json(out))
}

/// A SKU's mapping as it is stored.
#[derive(Debug, Serialize, Deserialize, sqlx::FromRow)]
pub struct Mapping {
    pub sku: String,
    pub netsuite_item_id: String,
    /// `netsuite` (matched by the item's name) or who saved it.
    pub source: String,
    pub updated_at: i64,
}

async fn current(queue: &Queue, sku: &str) -> Result<Option<Mapping>, sqlx::Error> {
    sqlx::query_as("select sku, netsuite_item_id, source, updated_at from sku_map where sku = $1")
        .bind(sku)
        .fetch_optional(queue.store().pool())
        .await
}

async fn mapping(
    State(state): State<AppState>,
    caller: Caller,
    Path(sku): Path<String>,
) -> Result<Json<Mapping>, ApiError> {
    caller.require(Cap::View)?;
    current(&state.queue, &sku)
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::NotFound(format!("SKU {sku:?} has no mapping to a NetSuite item")))
}

#[derive(Debug, Deserialize)]
pub struct SaveMapping {
    pub netsuite_item_id: String,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Saved {
    pub sku: String,
    pub netsuite_item_id: String,
    /// Orders that were waiting for this SKU and are on their way to NetSuite now.
    pub orders_released: u64,
}

async fn save(
    State(state): State<AppState>,
    caller: Caller,
    Path(sku): Path<String>,
    body: Result<Json<SaveMapping>, JsonRejection>,
) -> Result<Json<Saved>, ApiError> {
    caller.require(Cap::MapSkus)?;
    let Json(req) = body.map_err(|e| {
        ApiError::BadRequest(format!("the body must be {{\"netsuite_item_id\": \"<internal id>\"}}: {}", e.body_text()))
    })?;
    let item = req.netsuite_item_id.trim();
    if sku.trim().is_empty() || item.is_empty() || !item.chars().all(|c| c.is_ascii_digit()) {
        return Err(ApiError::BadRequest(format!(
            "netsuite_item_id {item:?} is not a NetSuite internal id (digits, as in the item's URL in NetSuite)"
        )));
    }
    let before = current(&state.queue, &sku).await?;
    let released = crate::sync::sales_order::save_mapping(&state.queue, &sku, item, &caller.who).await?;
    let change = Change {
        who: &caller.who,
        entity: &format!("sku:{sku}"),
        action: "sku_mapping.save",
        before: before.map(|m| json!({ "netsuite_item_id": m.netsuite_item_id, "source": m.source })),
        after: Some(json!({ "netsuite_item_id": item, "orders_released": released })),
    };
    change.record(state.queue.store(), state.queue.now()).await?;
    Ok(Json(Saved { sku, netsuite_item_id: item.to_string(), orders_released: released }))
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Removed {
    pub sku: String,
    pub removed: bool,
}

async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    Path(sku): Path<String>,
) -> Result<Json<Removed>, ApiError> {
    caller.require(Cap::MapSkus)?;
    let before = current(&state.queue, &sku).await?;
    let Some(before) = before else {
        return Err(ApiError::NotFound(format!("SKU {sku:?} has no mapping to remove")));
    };
    let now = state.queue.now();
    let mut tx = state.queue.store().pool().begin().await?;
    sqlx::query("delete from sku_map where sku = $1").bind(&sku).execute(&mut *tx).await?;
    let change = Change {
        who: &caller.who,
        entity: &format!("sku:{sku}"),
        action: "sku_mapping.remove",
        before: Some(json!({ "netsuite_item_id": before.netsuite_item_id, "source": before.source })),
        after: None,
    };
    change.record_in(&mut tx, now).await?;
    tx.commit().await?;
    Ok(Json(Removed { sku, removed: true }))
}

#[derive(Debug, Deserialize)]
struct AuditQuery {
    entity: String,
    #[serde(default = "fifty")]
    limit: i64,
}

fn fifty() -> i64 {
    50
}

async fn audit_of(
    State(state): State<AppState>,
    caller: Caller,
    query: Result<Query<AuditQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Vec<audit::Entry>>, ApiError> {
    caller.require(Cap::View)?;
    let Query(q) = query.map_err(|e| {
        ApiError::BadRequest(format!(
            "ask for one entity, e.g. ?entity=sku:MUG-RED (and &limit=, 1–500): {}",
            e.body_text()
        ))
    })?;
    if !(1..=500).contains(&q.limit) {
        return Err(ApiError::BadRequest("limit must be 1 to 500".into()));
    }
    Ok(Json(audit::of(state.queue.store(), &q.entity, q.limit).await?))
}
