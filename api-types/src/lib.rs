//! The JSON shapes of the backend's `/api/v1` and of the widget that reads them. Both sides
//! compile this crate (natively and to wasm), so a field renamed on one side breaks the build
//! of the other instead of a page in production.

use serde::{Deserialize, Serialize};

/// Where a job is in its life. `Blocked` waits for a person; `Dead` gave up and can be replayed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
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
pub struct QueueCount {
    pub kind: String,
    pub state: JobState,
    pub count: u64,
}

/// `GET /api/v1/queue`: the queue at a glance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
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
pub struct OrderStatusRequest {
    pub ids: Vec<u64>,
}

/// Where an exception is: waiting for someone, closed because its cause went away (or a person
/// fixed it), or set aside by a person with a reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExceptionState {
    Open,
    Resolved,
    Ignored,
}

/// An exception as a screen shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
    pub first_seen: i64,
    pub last_seen: i64,
    pub count: i64,
}

/// Open exceptions per owner, for the badge on the exceptions board.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OwnerCount {
    pub owner: Owner,
    pub open: u64,
}

/// `POST /api/v1/exceptions/{id}/ignore`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IgnoreRequest {
    pub reason: String,
}

/// `GET /api/v1/orders/{id}/timeline`: the order's status, every attempt to post it, and what is open.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderTimeline {
    pub status: OrderStatus,
    pub attempts: Vec<JobAttempt>,
    pub exceptions: Vec<ExceptionView>,
}

/// How old NetSuite's figure behind a product's stock is, against the backend's limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
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
pub struct LocationStock {
    pub location: String,
    pub available: i64,
}

/// One product's stock status: `POST /api/v1/products/status` answers one per id or SKU asked for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
pub struct ProductStatusRequest {
    #[serde(default)]
    pub ids: Vec<u64>,
    #[serde(default)]
    pub skus: Vec<String>,
}
