//! The NetSuite governor: every request to NetSuite holds one of its permits while in flight.
//!
//! NetSuite counts concurrent requests per account, shared with every other integration on the
//! account; the request over the limit is refused with 429 and no `Retry-After`. The budget is
//! the configured limit minus a reserve for the others. Inside the budget a window adapts:
//! additive increase while requests succeed, multiplicative decrease on a 429, and once a 429
//! has taught us where the real ceiling is, we probe above it only once per `probe_interval`,
//! so 429s stay rare after the limit is learned.
//!
//! Waiters are served by lane (orders before fulfilment and refunds, before stock reads, before
//! settlements; configurable); a waiter that has waited longer than `starvation_limit` goes
//! first whatever its lane, so a flash sale delays settlements but never starves them.
//!
//! With several processes on one PostgreSQL the budget is global: a permit also holds a row of
//! `netsuite_slots` (see [`slots`]), handed straight to the next local waiter while it is fresh.

pub mod slots;

use std::{
    collections::VecDeque,
    sync::{Arc, Mutex},
    time::Duration,
};

use prometheus_client::{
    encoding::EncodeLabelSet,
    metrics::{counter::Counter, family::Family, gauge::Gauge},
    registry::Registry,
};
use serde::{Deserialize, Serialize};
// tokio's Instant, so tests can move time without sleeping.
use tokio::{sync::oneshot, time::Instant};

pub use slots::GlobalSlots;
use slots::SlotLease;

/// Priority lanes; the configured order decides which waits less.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Lane {
    Orders,
    Fulfilment,
    Refunds,
    StockReads,
    Settlements,
}

impl Lane {
    pub const ALL: [Lane; 5] = [Lane::Orders, Lane::Fulfilment, Lane::Refunds, Lane::StockReads, Lane::Settlements];

    pub fn as_str(self) -> &'static str {
        match self {
            Lane::Orders => "orders",
            Lane::Fulfilment => "fulfilment",
            Lane::Refunds => "refunds",
            Lane::StockReads => "stock_reads",
            Lane::Settlements => "settlements",
        }
    }

    fn index(self) -> usize {
        Lane::ALL.iter().position(|l| *l == self).expect("every lane is in ALL")
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct GovernorSettings {
    /// The account's concurrency limit (service tier + 10 per SuiteCloud Plus licence).
    pub concurrency_limit: usize,
    /// Slots left for the account's other integrations.
    pub reserve: usize,
    /// Highest priority first; lanes left out come last in their default order.
    pub lanes: Vec<Lane>,
    /// How long after a 429 before the window may grow past the ceiling that 429 revealed.
    pub probe_interval_secs: u64,
    /// A waiter older than this is served before any lane order.
    pub starvation_limit_secs: u64,
}

impl Default for GovernorSettings {
    fn default() -> Self {
        GovernorSettings {
            concurrency_limit: 5,
            reserve: 0,
            lanes: Lane::ALL.to_vec(),
            probe_interval_secs: 60,
            starvation_limit_secs: 30,
        }
    }
}

impl GovernorSettings {
    pub fn budget(&self) -> usize {
        self.concurrency_limit.saturating_sub(self.reserve).max(1)
    }

    pub fn validate(&self) -> Result<(), String> {
        if self.concurrency_limit == 0 {
            return Err("concurrency_limit must be at least 1 (NetSuite's smallest account limit is 5)".into());
        }
        if self.reserve >= self.concurrency_limit {
            return Err(format!(
                "reserve ({}) must be below concurrency_limit ({}), or wns could never send a request",
                self.reserve, self.concurrency_limit
            ));
        }
        Ok(())
    }

    /// Rank of each lane (0 = first), from the configured order.
    fn ranks(&self) -> [usize; 5] {
        let mut order: Vec<Lane> = Vec::new();
        for l in self.lanes.iter().chain(Lane::ALL.iter()) {
            if !order.contains(l) {
                order.push(*l);
            }
        }
        let mut ranks = [0; 5];
        for (rank, lane) in order.iter().enumerate() {
            ranks[lane.index()] = rank;
        }
        ranks
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct LaneLabel {
    lane: String,
}

#[derive(Clone, Debug, Default)]
struct GovernorMetrics {
    in_flight: Gauge,
    window: Gauge,
    waiting: Family<LaneLabel, Gauge>,
    throttled: Counter,
    requests: Counter,
}

struct Waiter {
    tx: oneshot::Sender<Option<SlotLease>>,
    since: Instant,
}

struct State {
    /// The adaptive window; `floor(window)` requests may be in flight.
    window: f64,
    /// The window size at which NetSuite last refused us, minus one.
    ceiling: Option<usize>,
    last_probe: Instant,
    in_flight: usize,
    waiting: [VecDeque<Waiter>; 5],
    /// Bumped on every decrease: 429s of requests sent before it say nothing new.
    epoch: u64,
}

struct Inner {
    budget: usize,
    ranks: [usize; 5],
    probe_interval: Duration,
    starvation_limit: Duration,
    state: Mutex<State>,
    global: Option<GlobalSlots>,
    metrics: GovernorMetrics,
}

/// Cheap to clone; all clones share one budget.
#[derive(Clone)]
pub struct Governor {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Governor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Governor").field("budget", &self.inner.budget).field("window", &self.window()).finish()
    }
}

/// Held while one request is in flight. Dropping it counts as a success; call
/// [`Permit::throttled`] when NetSuite answered 429.
pub struct Permit {
    governor: Governor,
    epoch: u64,
    slot: Option<SlotLease>,
    throttled: bool,
}

impl Permit {
    /// NetSuite refused this request with 429: shrink the window.
    pub fn throttled(mut self) {
        self.throttled = true;
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        self.governor.release(self.epoch, self.throttled, self.slot.take());
    }
}

impl Governor {
    /// A governor for this process alone (SQLite deployments, tests, the demo).
    pub fn local(settings: &GovernorSettings) -> Governor {
        Governor::build(settings, None)
    }

    /// A governor whose budget is shared through PostgreSQL with every process using `slots`.
    pub fn global(settings: &GovernorSettings, slots: GlobalSlots) -> Governor {
        Governor::build(settings, Some(slots))
    }

    fn build(settings: &GovernorSettings, global: Option<GlobalSlots>) -> Governor {
        let budget = settings.budget();
        let metrics = GovernorMetrics::default();
        metrics.window.set(budget as i64);
        Governor {
            inner: Arc::new(Inner {
                budget,
                ranks: settings.ranks(),
                probe_interval: Duration::from_secs(settings.probe_interval_secs),
                starvation_limit: Duration::from_secs(settings.starvation_limit_secs),
                state: Mutex::new(State {
                    window: budget as f64,
                    ceiling: None,
                    last_probe: Instant::now(),
                    in_flight: 0,
                    waiting: Default::default(),
                    epoch: 0,
                }),
                global,
                metrics,
            }),
        }
    }

    pub fn register_metrics(&self, registry: &mut Registry) {
        let m = &self.inner.metrics;
        registry.register("netsuite_in_flight", "NetSuite requests in flight from this process", m.in_flight.clone());
        registry.register("netsuite_window", "Requests the governor currently lets run at once", m.window.clone());
        registry.register("netsuite_waiting", "Requests waiting for a NetSuite permit, by lane", m.waiting.clone());
        registry.register("netsuite_throttled", "NetSuite answers 429 CONCURRENCY_LIMIT_EXCEEDED", m.throttled.clone());
        registry.register("netsuite_requests", "Requests sent to NetSuite", m.requests.clone());
    }

    pub fn budget(&self) -> usize {
        self.inner.budget
    }

    /// Requests this process may have in flight right now.
    pub fn window(&self) -> usize {
        let s = self.inner.state.lock().expect("governor lock");
        (s.window.floor() as usize).clamp(1, self.inner.budget)
    }

    /// Requests of this process under way in NetSuite now.
    pub fn in_flight(&self) -> usize {
        self.inner.state.lock().expect("governor lock").in_flight
    }

    pub fn throttled_count(&self) -> u64 {
        self.inner.metrics.throttled.get()
    }

    /// Waits for a permit in `lane`. Cancel-safe: a dropped waiter gives its turn to the next.
    pub async fn acquire(&self, lane: Lane) -> Permit {
        let (epoch, slot) = self.acquire_local(lane).await;
        // From here the local permit is ours; if this future is dropped while the global slot is
        // awaited, the guard hands the local permit back.
        let mut guard = LocalGuard { governor: self.clone(), armed: true };
        let slot = match (slot, &self.inner.global) {
            (Some(slot), _) => Some(slot),
            (None, Some(global)) => Some(global.acquire().await),
            (None, None) => None,
        };
        guard.armed = false;
        self.inner.metrics.requests.inc();
        Permit { governor: self.clone(), epoch, slot, throttled: false }
    }

    async fn acquire_local(&self, lane: Lane) -> (u64, Option<SlotLease>) {
        let rx = {
            let mut s = self.inner.state.lock().expect("governor lock");
            let nobody_waiting = s.waiting.iter().all(VecDeque::is_empty);
            if nobody_waiting && s.in_flight < self.limit(&s) {
                s.in_flight += 1;
                self.inner.metrics.in_flight.set(s.in_flight as i64);
                return (s.epoch, None);
            }
            let (tx, rx) = oneshot::channel();
            s.waiting[lane.index()].push_back(Waiter { tx, since: Instant::now() });
            self.inner.metrics.waiting.get_or_create(&LaneLabel { lane: lane.as_str().into() }).inc();
            rx
        };
        // The sender is only dropped after it was removed from the queue and handed a turn.
        let slot = rx.await.unwrap_or(None);
        let epoch = self.inner.state.lock().expect("governor lock").epoch;
        (epoch, slot)
    }

    fn limit(&self, s: &State) -> usize {
        (s.window.floor() as usize).clamp(1, self.inner.budget)
    }

    fn release(&self, epoch: u64, throttled: bool, slot: Option<SlotLease>) {
        let mut s = self.inner.state.lock().expect("governor lock");
        if throttled {
            self.inner.metrics.throttled.inc();
            if epoch == s.epoch {
                // The first 429 since the last decrease: the ceiling is just below where we were.
                let at = self.limit(&s);
                s.ceiling = Some(at.saturating_sub(1).max(1));
                s.window = (s.window * 0.5).max(1.0);
                s.last_probe = Instant::now();
                s.epoch += 1;
            }
        } else {
            self.grow(&mut s);
        }
        self.inner.metrics.window.set(self.limit(&s) as i64);
        s.in_flight -= 1;
        let slot = self.hand_over(&mut s, slot);
        drop(s);
        if let (Some(slot), Some(global)) = (slot, &self.inner.global) {
            global.release(slot);
        }
    }

    /// Gives freed turns to the next waiters, the global slot (while fresh) with the first.
    /// Returns the slot when nobody took it.
    fn hand_over(&self, s: &mut State, mut slot: Option<SlotLease>) -> Option<SlotLease> {
        while s.in_flight < self.limit(s) {
            let Some(lane) = self.next_lane(s) else { break };
            let w = s.waiting[lane].pop_front().expect("next_lane points at a waiter");
            self.inner.metrics.waiting.get_or_create(&LaneLabel { lane: Lane::ALL[lane].as_str().into() }).dec();
            // A slot held too long goes back to the table (returned below), not to the waiter.
            let give = if slot.as_ref().is_some_and(SlotLease::fresh) { slot.take() } else { None };
            match w.tx.send(give) {
                Ok(()) => s.in_flight += 1,
                Err(back) => slot = slot.or(back), // that waiter gave up; try the next
            }
        }
        self.inner.metrics.in_flight.set(s.in_flight as i64);
        slot
    }

    fn grow(&self, s: &mut State) {
        let target = s.ceiling.unwrap_or(self.inner.budget) as f64;
        if s.window < target {
            s.window = (s.window + 1.0 / s.window.max(1.0)).min(target);
        } else if s.window < self.inner.budget as f64 && s.last_probe.elapsed() >= self.inner.probe_interval {
            // Probe: perhaps the other integrations have gone quiet.
            s.window += 1.0;
            s.ceiling = Some(s.window.floor() as usize);
            s.last_probe = Instant::now();
        }
    }

    /// The lane whose head waiter goes next: anyone starving first, else by rank.
    fn next_lane(&self, s: &State) -> Option<usize> {
        let starving = (0..5)
            .filter_map(|i| s.waiting[i].front().map(|w| (i, w.since)))
            .filter(|(_, since)| since.elapsed() >= self.inner.starvation_limit)
            .min_by_key(|(_, since)| *since);
        if let Some((i, _)) = starving {
            return Some(i);
        }
        (0..5).filter(|i| !s.waiting[*i].is_empty()).min_by_key(|i| self.inner.ranks[*i])
    }
}

/// Gives the local turn back if `acquire` is cancelled while it waits for a global slot.
struct LocalGuard {
    governor: Governor,
    armed: bool,
}

impl Drop for LocalGuard {
    fn drop(&mut self) {
        if self.armed {
            let mut s = self.governor.inner.state.lock().expect("governor lock");
            s.in_flight -= 1;
            self.governor.hand_over(&mut s, None);
        }
    }
}

#[cfg(test)]
mod tests;
