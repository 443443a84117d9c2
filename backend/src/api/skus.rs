//! SKU mappings for people: the SKUs no NetSuite item answers to, with the orders they hold back
//! (`view`); saving, changing and removing a mapping (`map_skus`) — saving requeues every order
//! blocked on that SKU in the same transaction as the mapping, and the answer says how many. Every
//! change is in the audit log. `GET /api/v1/audit?entity=…` lists an entity's changes (`view`).

use axum::{
    Json,
    extract::{Query, State, rejection::JsonRejection},
};
use serde::Deserialize;
use serde_json::json;
use utoipa_axum::{router::OpenApiRouter, routes};
use wns_api_types::{
    AuditEntry, ErrorBody, ItemHit, MappingRemoved, MappingSaved, SaveMappingRequest, SkuMapping, UnmappedSku,
};

use super::{
    ApiError, AppState,
    auth::{Caller, Cap},
    error::ApiPath,
};
use crate::{
    monitor::audit::{self, Change},
    queue::{JobKind, Queue},
    store::order_amounts,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(unmapped))
        .routes(routes!(mapping, save, remove))
        .routes(routes!(search_items))
        .routes(routes!(audit_of))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct SearchQuery {
    /// Part of an item's name/number, display name or UPC (1 to 100 characters, any case).
    #[param(min_length = 1, max_length = 100, pattern = r"[^\s\x00-\x1f\x7f-\x9f]")]
    q: String,
    /// At most this many items (1 to 100, default 20).
    #[param(minimum = 1, maximum = 100)]
    #[serde(default = "twenty")]
    limit: i64,
}

fn twenty() -> i64 {
    20
}

/// NetSuite items by name, display name or UPC, from the local index (no NetSuite request).
/// Searches wns's local index of NetSuite's items (refreshed from NetSuite by deltas), exact
/// names and UPCs first. Typing in the SKU fixer costs NetSuite nothing.
#[utoipa::path(get, path = "/api/v1/items/search", tag = "skus", params(SearchQuery),
    responses((status = 200, body = Vec<ItemHit>), (status = 400, body = ErrorBody)))]
async fn search_items(
    State(state): State<AppState>,
    caller: Caller,
    query: Result<Query<SearchQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Vec<ItemHit>>, ApiError> {
    caller.require(Cap::View)?;
    let Query(q) = query.map_err(|e| ApiError::BadRequest(format!("search with ?q=<text>: {}", e.body_text())))?;
    if !super::error::has_text(&q.q) || q.q.chars().count() > 100 {
        return Err(ApiError::BadRequest(
            "q must be 1 to 100 characters of an item's name, display name or UPC".into(),
        ));
    }
    if !(1..=100).contains(&q.limit) {
        return Err(ApiError::BadRequest("limit must be 1 to 100".into()));
    }
    Ok(Json(crate::sync::items::search(state.queue.store(), &q.q, q.limit).await?))
}

/// The SKUs orders are blocked on, with those orders (oldest first) and the money they hold back;
/// the SKUs holding back the most orders first.
#[utoipa::path(get, path = "/api/v1/skus/unmapped", tag = "skus", responses((status = 200, body = Vec<UnmappedSku>)))]
async fn unmapped(State(state): State<AppState>, caller: Caller) -> Result<Json<Vec<UnmappedSku>>, ApiError> {
    caller.require(Cap::View)?;
    let blocked = order_amounts::blocked(state.queue.store(), JobKind::WooOrder.as_str()).await?;
    let mut out: Vec<(UnmappedSku, order_amounts::Waiting)> = Vec::new();
    for o in blocked {
        let (Some(sku), Some(order)) = (o.cause.strip_prefix("sku:"), o.order_id) else { continue };
        let at = match out.iter().position(|(u, _)| u.sku == sku) {
            Some(i) => i,
            None => {
                let u = UnmappedSku { sku: sku.to_string(), order_ids: vec![], money_waiting: vec![], since: o.since };
                out.push((u, Default::default()));
                out.len() - 1
            }
        };
        out[at].0.order_ids.push(order);
        out[at].1.add(o.amount);
    }
    let mut out: Vec<UnmappedSku> =
        out.into_iter().map(|(u, w)| UnmappedSku { money_waiting: w.money(), ..u }).collect();
    out.sort_by(|a, b| b.order_ids.len().cmp(&a.order_ids.len()).then(a.since.cmp(&b.since)));
    Ok(Json(out))
}

async fn current(queue: &Queue, sku: &str) -> Result<Option<SkuMapping>, sqlx::Error> {
    let row: Option<(String, String, String, i64)> =
        sqlx::query_as("select sku, netsuite_item_id, source, updated_at from sku_map where sku = $1")
            .bind(sku)
            .fetch_optional(queue.store().pool())
            .await?;
    Ok(row.map(|(sku, netsuite_item_id, source, updated_at)| SkuMapping { sku, netsuite_item_id, source, updated_at }))
}

/// The NetSuite item a SKU is mapped to.
#[utoipa::path(get, path = "/api/v1/skus/{sku}/mapping", tag = "skus",
    params(("sku" = String, Path, description = "The WooCommerce SKU", pattern = r"[^\s\x00-\x1f\x7f-\x9f]")),
    responses((status = 200, body = SkuMapping), (status = 404, body = ErrorBody)))]
async fn mapping(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(sku): ApiPath<String>,
) -> Result<Json<SkuMapping>, ApiError> {
    caller.require(Cap::View)?;
    current(&state.queue, &sku)
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::NotFound(format!("SKU {sku:?} has no mapping to a NetSuite item")))
}

/// Saves or changes a SKU's mapping (`map_skus`); every order blocked on the SKU is requeued in the
/// same transaction, and the answer says how many.
#[utoipa::path(put, path = "/api/v1/skus/{sku}/mapping", tag = "skus",
    params(("sku" = String, Path, description = "The WooCommerce SKU", pattern = r"[^\s\x00-\x1f\x7f-\x9f]")),
    request_body = SaveMappingRequest,
    responses((status = 200, body = MappingSaved), (status = 400, body = ErrorBody)))]
async fn save(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(sku): ApiPath<String>,
    body: Result<Json<serde_json::Value>, JsonRejection>,
) -> Result<Json<MappingSaved>, ApiError> {
    caller.require(Cap::MapSkus)?;
    let req: SaveMappingRequest = super::error::object_body(body, r#"{"netsuite_item_id": "<internal id>"}"#)?;
    if !super::error::has_text(&sku) {
        return Err(ApiError::BadRequest(format!(
            "the SKU in the path ({sku:?}) is empty or only white space; put the WooCommerce SKU there"
        )));
    }
    let item = req.netsuite_item_id.trim();
    if item.is_empty() || !item.chars().all(|c| c.is_ascii_digit()) {
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
    Ok(Json(MappingSaved { sku, netsuite_item_id: item.to_string(), orders_released: released }))
}

/// Removes a SKU's mapping (`map_skus`); orders not yet posted block on the SKU again.
#[utoipa::path(delete, path = "/api/v1/skus/{sku}/mapping", tag = "skus",
    params(("sku" = String, Path, description = "The WooCommerce SKU", pattern = r"[^\s\x00-\x1f\x7f-\x9f]")),
    responses((status = 200, body = MappingRemoved), (status = 404, body = ErrorBody)))]
async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(sku): ApiPath<String>,
) -> Result<Json<MappingRemoved>, ApiError> {
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
    Ok(Json(MappingRemoved { sku, removed: true }))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct AuditQuery {
    /// `sku:<SKU>`, `exception:<id>`, `job:<id>`, `order:<id>`…
    entity: String,
    /// At most this many changes, newest first (1 to 500, default 50).
    #[param(minimum = 1, maximum = 500)]
    #[serde(default = "fifty")]
    limit: i64,
}

fn fifty() -> i64 {
    50
}

/// The changes made to one entity through the API or by operators, newest first.
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", params(AuditQuery),
    responses((status = 200, body = Vec<AuditEntry>), (status = 400, body = ErrorBody)))]
async fn audit_of(
    State(state): State<AppState>,
    caller: Caller,
    query: Result<Query<AuditQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Vec<AuditEntry>>, ApiError> {
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
