//! The account-wide budget shared by several `wns` processes through PostgreSQL.
//!
//! The account has `budget` rows in `netsuite_slots`; a request in flight holds one (holder =
//! this process, lease a few seconds ahead, renewed in the background while held). Claiming
//! uses `FOR UPDATE SKIP LOCKED`, so processes never wait on each other's row locks. A crashed
//! process's slots come back when their lease runs out. When every slot is taken, one task per
//! process polls with a short, growing, jittered pause (a few milliseconds: NetSuite requests
//! take hundreds), and a slot that just freed up is handed to a local waiter without a database
//! round trip while it is fresh — see [`SlotLease::fresh`] — so polling stays rare under load
//! yet no process can keep a slot from the others for longer than that.

use std::{
    collections::HashSet,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use rand::Rng;
use tokio_util::sync::CancellationToken;

use crate::{
    clock::{Clock, SystemClock},
    store::Store,
};

/// How long a slot stays ours without renewal (a crashed process frees its slots after this).
const LEASE: Duration = Duration::from_secs(15);
const RENEW_EVERY: Duration = Duration::from_secs(5);
/// A slot may go from one local request to the next for this long before it must be given back
/// to the database, where the other processes can claim it.
const HANDOFF_WINDOW: Duration = Duration::from_secs(1);

#[derive(Debug)]
pub struct SlotLease {
    slot: i64,
    acquired: Instant,
}

impl SlotLease {
    pub fn fresh(&self) -> bool {
        self.acquired.elapsed() < HANDOFF_WINDOW
    }
}

struct Inner {
    store: Store,
    account: String,
    holder: String,
    budget: i64,
    held: Mutex<HashSet<i64>>,
    poller: tokio::sync::Mutex<()>,
    stop: CancellationToken,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// Cheap to clone.
#[derive(Clone)]
pub struct GlobalSlots {
    inner: Arc<Inner>,
}

impl GlobalSlots {
    /// Makes sure the account has `budget` slots and starts renewing the leases this process
    /// holds. `holder` must be unique per process (the worker id is).
    pub async fn new(store: Store, account: &str, holder: &str, budget: usize) -> Result<GlobalSlots, sqlx::Error> {
        for slot in 0..budget as i64 {
            sqlx::query(
                "insert into netsuite_slots (account, slot, holder, lease_until) values ($1, $2, null, 0) \
                 on conflict (account, slot) do nothing",
            )
            .bind(account)
            .bind(slot)
            .execute(store.pool())
            .await?;
        }
        let inner = Arc::new(Inner {
            store,
            account: account.into(),
            holder: holder.into(),
            budget: budget as i64,
            held: Mutex::new(HashSet::new()),
            poller: tokio::sync::Mutex::new(()),
            stop: CancellationToken::new(),
        });
        tokio::spawn(renew(Arc::downgrade(&inner), inner.stop.clone()));
        Ok(GlobalSlots { inner })
    }

    /// Waits until a slot is ours. Database errors are logged and retried: the governor must not
    /// fail requests because the lease table hiccuped, and it must not exceed the budget either.
    pub async fn acquire(&self) -> SlotLease {
        let _only_poller = self.inner.poller.lock().await;
        let mut pause = Duration::from_millis(2);
        loop {
            match self.try_claim().await {
                Ok(Some(slot)) => {
                    self.inner.held.lock().expect("slots lock").insert(slot);
                    return SlotLease { slot, acquired: Instant::now() };
                }
                Ok(None) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "claiming a NetSuite slot failed; retrying");
                    pause = pause.max(Duration::from_millis(100));
                }
            }
            let jitter = rand::rng().random_range(0.8..1.2);
            tokio::time::sleep(pause.mul_f64(jitter)).await;
            pause = (pause * 3 / 2).min(Duration::from_millis(25));
        }
    }

    async fn try_claim(&self) -> Result<Option<i64>, sqlx::Error> {
        let now = SystemClock.now();
        let row: Option<(i64,)> = sqlx::query_as(
            "update netsuite_slots set holder = $1, lease_until = $2 \
             where account = $3 and slot = (\
               select slot from netsuite_slots \
               where account = $3 and slot < $4 and (holder is null or lease_until < $5) \
               order by slot limit 1 for update skip locked) \
             returning slot",
        )
        .bind(&self.inner.holder)
        .bind(now + LEASE.as_millis() as i64)
        .bind(&self.inner.account)
        .bind(self.inner.budget)
        .bind(now)
        .fetch_optional(self.inner.store.pool())
        .await?;
        Ok(row.map(|(s,)| s))
    }

    /// Gives the slot back (in the background: this runs from `Drop`).
    pub fn release(&self, lease: SlotLease) {
        let inner = self.inner.clone();
        tokio::spawn(async move {
            inner.held.lock().expect("slots lock").remove(&lease.slot);
            let done = sqlx::query(
                "update netsuite_slots set holder = null, lease_until = 0 \
                 where account = $1 and slot = $2 and holder = $3",
            )
            .bind(&inner.account)
            .bind(lease.slot)
            .bind(&inner.holder)
            .execute(inner.store.pool())
            .await;
            if let Err(e) = done {
                tracing::warn!(error = %e, slot = lease.slot, "releasing a NetSuite slot failed; its lease will expire");
            }
        });
    }

    /// Slots currently held by any process (for tests and `wns check`).
    pub async fn held_anywhere(&self) -> Result<i64, sqlx::Error> {
        let now = SystemClock.now();
        let (n,): (i64,) = sqlx::query_as(
            "select count(*) from netsuite_slots where account = $1 and holder is not null and lease_until >= $2",
        )
        .bind(&self.inner.account)
        .bind(now)
        .fetch_one(self.inner.store.pool())
        .await?;
        Ok(n)
    }
}

async fn renew(inner: std::sync::Weak<Inner>, stop: CancellationToken) {
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(RENEW_EVERY) => {}
        }
        let Some(inner) = inner.upgrade() else { return };
        if inner.held.lock().expect("slots lock").is_empty() {
            continue;
        }
        let until = SystemClock.now() + LEASE.as_millis() as i64;
        let renewed = sqlx::query("update netsuite_slots set lease_until = $1 where account = $2 and holder = $3")
            .bind(until)
            .bind(&inner.account)
            .bind(&inner.holder)
            .execute(inner.store.pool())
            .await;
        if let Err(e) = renewed {
            tracing::warn!(error = %e, "renewing NetSuite slot leases failed");
        }
    }
}
