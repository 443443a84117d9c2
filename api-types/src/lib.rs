//! The JSON shapes of the backend's `/api/v1` and of the widget that reads them. Both sides
//! compile this crate (natively and to wasm), so a field renamed on one side breaks the build
//! of the other instead of a page in production.
//!
//! With the `openapi` feature (the backend's) every type also derives its OpenAPI schema, so the
//! document at `/api/v1/openapi.json` is these structs, not a second description of them.

use serde::{Deserialize, Serialize};

/// Where a job is in its life. `Blocked` waits for a person; `Dead` gave up and can be replayed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    Ready,
    Running,
    Blocked,
    Done,
    Dead,
}

impl JobState {
    pub const ALL: [JobState; 5] =
        [JobState::Ready, JobState::Running, JobState::Blocked, JobState::Done, JobState::Dead];

    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Ready => "ready",
            JobState::Running => "running",
            JobState::Blocked => "blocked",
            JobState::Done => "done",
            JobState::Dead => "dead",
        }
    }

    pub fn parse(s: &str) -> Option<JobState> {
        JobState::ALL.into_iter().find(|st| st.as_str() == s)
    }
}

/// Who in the shop fixes an exception.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Owner {
    Finance,
    Operations,
    Ecommerce,
    CustomerService,
}

impl Owner {
    pub fn as_str(self) -> &'static str {
        match self {
            Owner::Finance => "finance",
            Owner::Operations => "operations",
            Owner::Ecommerce => "ecommerce",
            Owner::CustomerService => "customer_service",
        }
    }

    pub fn parse(s: &str) -> Option<Owner> {
        [Owner::Finance, Owner::Operations, Owner::Ecommerce, Owner::CustomerService]
            .into_iter()
            .find(|o| o.as_str() == s)
    }
}

/// Count of jobs of one kind in one state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct QueueCount {
    pub kind: String,
    pub state: JobState,
    pub count: u64,
}

/// `GET /api/v1/queue`: the queue at a glance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct QueueSummary {
    pub counts: Vec<QueueCount>,
}

impl QueueSummary {
    /// Jobs in `state`, over all kinds.
    pub fn total(&self, state: JobState) -> u64 {
        self.counts.iter().filter(|c| c.state == state).map(|c| c.count).sum()
    }
}

/// One attempt of a job, for the order timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct JobAttempt {
    pub attempt: u32,
    pub worker: String,
    /// Milliseconds since the Unix epoch (UTC).
    pub started_at: i64,
    pub finished_at: i64,
    /// done, retry, blocked, dead, abandoned (a worker's lease ran out) or released (shutdown).
    pub outcome: String,
    pub error: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_and_owners_round_trip_through_their_wire_names() {
        for s in JobState::ALL {
            assert_eq!(JobState::parse(s.as_str()), Some(s));
            assert_eq!(serde_json::to_string(&s).unwrap(), format!("\"{}\"", s.as_str()));
        }
        assert_eq!(serde_json::to_string(&Owner::CustomerService).unwrap(), "\"customer_service\"");
        assert_eq!(Owner::parse("finance"), Some(Owner::Finance));
        assert_eq!(JobState::parse("nope"), None);
    }

    #[test]
    fn summary_totals_add_up_over_kinds() {
        let s = QueueSummary {
            counts: vec![
                QueueCount { kind: "order".into(), state: JobState::Ready, count: 3 },
                QueueCount { kind: "customer".into(), state: JobState::Ready, count: 2 },
                QueueCount { kind: "order".into(), state: JobState::Dead, count: 1 },
            ],
        };
        assert_eq!(s.total(JobState::Ready), 5);
        assert_eq!(s.total(JobState::Dead), 1);
        assert_eq!(s.total(JobState::Blocked), 0);
    }
}

/// Where one WooCommerce order is on its way to NetSuite, as the orders list badge shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum OrderSyncState {
    /// wns has the order and will post it shortly.
    Waiting,
    /// Posting failed for a passing reason; wns tries again at `next_attempt_at`.
    Retrying,
    /// A person must fix something first (`blocked` says what and who).
    Blocked,
    /// wns gave up after its attempts; a person can replay it.
    Failed,
    /// NetSuite has the sales order.
    Posted,
    /// NetSuite has started fulfilling it; later edits in WooCommerce are not carried over.
    Fulfilled,
    /// The order was cancelled or deleted and its sales order lines closed.
    Closed,
    /// wns has seen the order but its WooCommerce status is not one it posts (pending, on-hold…).
    NotPosted,
    /// wns has never heard of this order.
    Unknown,
}

/// What holds an order back, and who fixes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BlockedReason {
    pub owner: Owner,
    /// The cause as wns tracks it: `sku:<SKU>`, `order:<id>:customer`, `item:<id>`…
    pub cause: String,
    /// What happened, in words.
    pub message: String,
    /// What to do about it, in words.
    pub fix: String,
}

/// One order's status: `POST /api/v1/orders/status` answers one per id asked for, in that order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OrderStatus {
    pub order_id: u64,
    pub state: OrderSyncState,
    /// NetSuite's internal id of the sales order, and its document number (`SO1042`).
    pub netsuite_id: Option<String>,
    pub netsuite_number: Option<String>,
    /// The sales order in NetSuite's UI, when wns knows the account.
    pub netsuite_url: Option<String>,
    /// `retrying`: when wns tries again (milliseconds since the Unix epoch, UTC).
    pub next_attempt_at: Option<i64>,
    pub blocked: Option<BlockedReason>,
    /// `retrying` / `failed`: the last error, in words.
    pub last_error: Option<String>,
}

/// `POST /api/v1/orders/status`: up to 500 WooCommerce order ids.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OrderStatusRequest {
    #[cfg_attr(feature = "openapi", schema(max_items = 500))]
    #[serde(deserialize_with = "whole_numbers")]
    pub ids: Vec<u64>,
}

/// Where an exception is: waiting for someone, closed because its cause went away (or a person
/// fixed it), or set aside by a person with a reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ExceptionState {
    Open,
    Resolved,
    Ignored,
}

/// An exception as a screen shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ExceptionView {
    pub id: i64,
    pub kind: String,
    pub owner: Owner,
    pub entity: String,
    /// What happened, in words.
    pub message: String,
    /// What to do about it, in words.
    pub fix: String,
    pub state: ExceptionState,
    /// How it ended (`sku_mapped`, `order_posted`, `fixed`, `ignored`…), once it has.
    pub resolution: Option<String>,
    /// Who closed it by hand, and why it was ignored.
    pub resolved_by: Option<String>,
    pub note: Option<String>,
    /// WooCommerce orders waiting on it.
    pub orders_blocked: u64,
    /// The totals of those orders, one sum per currency.
    pub money_waiting: Vec<Money>,
    /// SKUs whose stock in WooCommerce it leaves stale or wrong.
    pub skus_stale: u64,
    pub first_seen: i64,
    pub last_seen: i64,
    pub count: i64,
}

/// Open exceptions per owner, for the badge on the exceptions board.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OwnerCount {
    pub owner: Owner,
    pub open: u64,
}

/// `POST /api/v1/exceptions/{id}/ignore`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IgnoreRequest {
    /// Why, in words (1 to 500 characters).
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 500, pattern = r"[^\s\x00-\x1f\x7f-\x9f]"))]
    pub reason: String,
}

/// `GET /api/v1/orders/{id}/timeline`: the order's status, every attempt to post it, and what is open.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OrderTimeline {
    pub status: OrderStatus,
    pub attempts: Vec<JobAttempt>,
    pub exceptions: Vec<ExceptionView>,
}

/// How old NetSuite's figure behind a product's stock is, against the backend's limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Freshness {
    /// Read within two stock cycles.
    Fresh,
    /// Older than that, but within `stock.stale_after_secs`.
    Late,
    /// Older than `stock.stale_after_secs`: the shop may be selling what NetSuite no longer has.
    Stale,
    /// wns has not read this product's stock from NetSuite.
    Never,
}

/// Whether a product has a NetSuite item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum MappingState {
    /// Its SKU maps to a NetSuite item.
    Mapped,
    /// It has a SKU, but no NetSuite item answers to it.
    Unmapped,
    /// It has no SKU in WooCommerce, so it cannot have an item.
    NoSku,
    /// wns does not know this product id (the nightly pass lists the catalogue).
    Unknown,
}

/// NetSuite's available quantity at one web-store location.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LocationStock {
    pub location: String,
    pub available: i64,
}

/// One product's stock status: `POST /api/v1/products/status` answers one per id or SKU asked for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProductStatus {
    pub product_id: Option<u64>,
    pub sku: Option<String>,
    pub mapping: MappingState,
    pub netsuite_item_id: Option<String>,
    /// NetSuite's available quantity per web-store location and in all of them.
    pub locations: Vec<LocationStock>,
    pub netsuite_total: Option<i64>,
    /// What wns computed for WooCommerce (NetSuite − orders on their way − buffer).
    pub wns_figure: Option<i64>,
    /// What WooCommerce showed at wns's last look (its answer to a write, or the nightly pass).
    pub woocommerce_stock: Option<i64>,
    /// When NetSuite's figure was read and when wns last wrote WooCommerce (ms since the epoch).
    pub read_at: Option<i64>,
    pub written_at: Option<i64>,
    pub freshness: Freshness,
    /// Seconds since NetSuite's figure was read.
    pub age_secs: Option<i64>,
    /// Set when WooCommerce's stock differs from wns's figure (someone edited it by hand).
    pub drift: Option<String>,
}

/// `POST /api/v1/products/status`: up to 500 WooCommerce product (or variation) ids and SKUs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProductStatusRequest {
    /// Product or variation ids, 500 at most (and 500 SKUs).
    #[serde(default, deserialize_with = "whole_numbers")]
    #[cfg_attr(feature = "openapi", schema(max_items = 500))]
    pub ids: Vec<u64>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_items = 500))]
    pub skus: Vec<String>,
}

/// An exact amount of money in one currency. `amount` is a decimal string (`"129.90"`), never a
/// float, so sums shown to finance match WooCommerce's to the cent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Money {
    /// ISO 4217 code as WooCommerce has it (`EUR`).
    pub currency: String,
    pub amount: String,
}

/// An unmapped SKU, the orders it blocks and what they are worth: `GET /api/v1/skus/unmapped`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UnmappedSku {
    pub sku: String,
    pub order_ids: Vec<u64>,
    /// The totals of those orders, one sum per currency.
    pub money_waiting: Vec<Money>,
    /// When the oldest of them was blocked (ms since the epoch).
    pub since: i64,
}

/// A SKU's NetSuite item: `GET /api/v1/skus/{sku}/mapping`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SkuMapping {
    pub sku: String,
    pub netsuite_item_id: String,
    /// `api` (a person, through the API), `cli` (`wns map`), `auto` (matched by item name)…
    pub source: String,
    pub updated_at: i64,
}

/// `PUT /api/v1/skus/{sku}/mapping`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SaveMappingRequest {
    /// NetSuite's internal id of the item (digits, as in the item's URL in NetSuite).
    #[cfg_attr(feature = "openapi", schema(pattern = r"^\s*[0-9]+\s*$"))]
    pub netsuite_item_id: String,
}

/// The answer to a saved mapping: how many blocked orders it sent on their way.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MappingSaved {
    pub sku: String,
    pub netsuite_item_id: String,
    pub orders_released: u64,
}

/// The answer to a removed mapping.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MappingRemoved {
    pub sku: String,
    pub removed: bool,
}

/// One NetSuite item an item search found (from wns's local index of NetSuite's items).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ItemHit {
    pub netsuite_item_id: String,
    /// The item's name/number in NetSuite (what wns matches SKUs against).
    pub itemid: String,
    pub displayname: String,
    pub upc: String,
}

/// A change made through the API, as `GET /api/v1/audit` lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditEntry {
    pub id: i64,
    /// Milliseconds since the Unix epoch (UTC).
    pub at: i64,
    /// The person (from the user token) or operator key that made it.
    pub who: String,
    pub entity: String,
    pub action: String,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub before: Option<serde_json::Value>,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub after: Option<serde_json::Value>,
}

/// `GET /api/v1/health`: how the sync is doing, for the dashboard's header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Health {
    pub queue: QueueSummary,
    /// NetSuite's concurrency budget as this process uses it; absent without `[netsuite]`.
    pub netsuite: Option<NetSuiteBudget>,
    pub flows: Vec<FlowHealth>,
    pub webhook_misses_today: i64,
    pub oldest_waiting_order: Option<WaitingOrder>,
}

/// How much of NetSuite's concurrency wns uses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NetSuiteBudget {
    /// Requests wns may have in flight at once (shared by every replica).
    pub budget: u64,
    /// Of which this process may use now (it narrows after 429s and widens again).
    pub window: u64,
    pub in_flight: u64,
    /// Requests NetSuite answered 429 since the start.
    pub throttled: u64,
}

/// One background flow (stock, sweep, items…): when it last succeeded and how late that is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FlowHealth {
    pub name: String,
    /// `starting`, `ok`, `late` (no success in three intervals), `down` (waits for its restart), `stopped`.
    pub verdict: String,
    pub last_ok_ms: Option<i64>,
    pub interval_ms: i64,
    pub restarts: u64,
    /// Seconds since its last success.
    pub lag_secs: Option<i64>,
}

/// The order that has waited longest for NetSuite.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WaitingOrder {
    pub order_id: u64,
    /// The job's state: ready, running or blocked.
    pub state: String,
    pub since: i64,
    pub age_secs: i64,
}

/// A job as `GET /api/v1/jobs/{id}` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct JobView {
    pub id: i64,
    pub kind: String,
    pub entity_key: String,
    pub state: JobState,
    pub attempts: u32,
    pub blocked_cause: Option<String>,
    pub last_error: Option<String>,
    pub history: Vec<JobAttempt>,
}

/// The answer to `POST /api/v1/jobs/{id}/replay`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Replayed {
    /// `requeued`, or `already_pending` when another job of the same record waits (`job` is that one).
    pub result: String,
    pub job: i64,
}

/// The WordPress plugin's `POST wns/v1/token` answer: the user's HS256 token for `/api/v1`, when
/// it was issued and expires, and the capabilities it carries (`view`,
/// `map_skus`, `replay`, `resolve`). Not an `/api/v1` shape; here so the widget reads it typed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenGrant {
    pub token: String,
    /// The token's `iat` and `exp`, by the store's clock (seconds since the epoch).
    #[serde(default)]
    pub issued_at: i64,
    pub expires_at: i64,
    #[serde(default)]
    pub caps: Vec<String>,
}

/// WordPress's REST error body (`{"code", "message", "data"}`), as the token route refuses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WpError {
    pub code: String,
    pub message: String,
}

/// Every error of the API: `{"error": {"code", "message", "fields"?}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorDetail {
    /// `bad_request`, `unauthorized`, `forbidden`, `not_found`, `conflict`, `too_large`, `rate_limited`,
    /// `unavailable`, `internal`.
    pub code: String,
    /// What was wrong and what to do, in words.
    pub message: String,
}

/// Ids as JSON numbers: `1294` and also `1294.0`, which is the same integer to JSON Schema and
/// what PHP's `json_encode` writes for a float; `1294.5`, negatives and strings are refused.
fn whole_numbers<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<u64>, D::Error> {
    use serde::de::Error;
    let numbers = Vec::<serde_json::Number>::deserialize(d)?;
    numbers
        .into_iter()
        .map(|n| {
            if let Some(v) = n.as_u64() {
                return Ok(v);
            }
            let text = n.to_string();
            let whole = text.strip_suffix(".0").filter(|t| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()));
            whole
                .and_then(|t| t.parse().ok())
                .ok_or_else(|| D::Error::custom(format!("{text} is not an id (a whole number ≥ 0)")))
        })
        .collect()
}

#[cfg(test)]
mod id_tests {
    use super::*;

    #[test]
    fn ids_may_be_written_as_whole_floats_but_not_as_fractions_or_negatives() {
        let ok: OrderStatusRequest = serde_json::from_str(r#"{"ids": [7, 1294.0]}"#).unwrap();
        assert_eq!(ok.ids, vec![7, 1294]);
        for bad in [r#"{"ids": [1.5]}"#, r#"{"ids": [-1]}"#, r#"{"ids": ["7"]}"#, r#"{"ids": [1e3]}"#] {
            let e = serde_json::from_str::<OrderStatusRequest>(bad).unwrap_err().to_string();
            assert!(e.contains("id") || e.contains("invalid type"), "{bad}: {e}");
        }
    }
}
