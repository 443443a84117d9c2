//! The service's long-running loops (order recheck, stock schedule, WooCommerce chores) under
//! supervision. A bare `tokio::spawn` lets a loop that panics or returns vanish while `/healthz`
//! still says 200; here it is restarted with backoff, counted, and its last success feeds readiness.

use std::{
    collections::BTreeMap,
    future::Future,
    panic::AssertUnwindSafe,
    sync::{Arc, Mutex, MutexGuard},
    time::Duration,
};

use futures::FutureExt;
use prometheus_client::{
    encoding::EncodeLabelSet,
    metrics::{counter::Counter, family::Family},
};
use serde::Serialize;
use tokio::{task::JoinSet, time::Instant};
use tokio_util::sync::CancellationToken;

use crate::{
    clock::{Clock, Millis, SharedClock, millis},
    metrics::Metrics,
    queue::Queue,
};

/// How often a loop should succeed, and how much longer than three of its intervals it may go
/// without success before it counts as late (the first run, a long full pass).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Schedule {
    pub every: Duration,
    pub slack: Duration,
}

impl Schedule {
    pub fn new(every: Duration, slack: Duration) -> Schedule {
        Schedule { every, slack }
    }

    fn late_after(&self) -> Millis {
        millis(self.every.saturating_mul(3).saturating_add(self.slack))
    }
}

/// What `/healthz` says of one loop; only `starting` and `ok` count as ready.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Has not succeeded yet, and is still within its first deadline.
    Starting,
    Ok,
    /// Runs, but has not succeeded within three intervals plus its slack.
    Late,
    /// Stopped unexpectedly and waits for its restart.
    Down,
    /// Stopped because the service is shutting down.
    Stopped,
}

impl Verdict {
    /// The name `/healthz` and `/api/v1/health` give it.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Starting => "starting",
            Verdict::Ok => "ok",
            Verdict::Late => "late",
            Verdict::Down => "down",
            Verdict::Stopped => "stopped",
        }
    }

    pub fn is_ready(self) -> bool {
        matches!(self, Verdict::Starting | Verdict::Ok)
    }
}

/// One loop as `/healthz` shows it. The cause of a crash is in the log, not here: 5xx bodies stay
/// free of internals.
#[derive(Clone, Debug, Serialize)]
pub struct LoopReport {
    pub name: &'static str,
    pub last_ok_ms: Option<Millis>,
    pub interval_ms: Millis,
    pub restarts: u64,
    pub verdict: Verdict,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Status {
    Running,
    Down,
    Stopped,
}

#[derive(Debug)]
struct LoopState {
    schedule: Schedule,
    /// When the loop was registered: a loop that never succeeded is late counted from here.
    since: Millis,
    last_ok: Option<Millis>,
    restarts: u64,
    status: Status,
}

impl LoopState {
    fn verdict(&self, now: Millis) -> Verdict {
        match self.status {
            Status::Down => Verdict::Down,
            Status::Stopped => Verdict::Stopped,
            Status::Running if now > self.last_ok.unwrap_or(self.since).saturating_add(self.schedule.late_after()) => {
                Verdict::Late
            }
            Status::Running if self.last_ok.is_none() => Verdict::Starting,
            Status::Running => Verdict::Ok,
        }
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct LoopLabels {
    r#loop: String,
}

/// Every supervised loop's last success and restarts, read by `/healthz`. Times come from the
/// queue's clock, so tests move one manual clock for jobs and loops alike.
#[derive(Debug)]
pub struct LoopHealth {
    clock: SharedClock,
    loops: Mutex<BTreeMap<&'static str, LoopState>>,
    restarts: Family<LoopLabels, Counter>,
}

impl LoopHealth {
    /// Registers `wns_loop_restarts_total` in `metrics`: create one per application.
    pub fn new(clock: SharedClock, metrics: &Metrics) -> LoopHealth {
        let restarts = Family::<LoopLabels, Counter>::default();
        metrics.with_registry(|r| {
            r.register("loop_restarts", "Restarts of a background loop that panicked or returned", restarts.clone())
        });
        LoopHealth { clock, loops: Mutex::new(BTreeMap::new()), restarts }
    }

    /// On the queue's clock, so a loop's times and its jobs' times agree.
    pub fn for_queue(queue: &Queue, metrics: &Metrics) -> LoopHealth {
        LoopHealth::new(Arc::new(QueueClock(queue.clone())), metrics)
    }

    /// Every registered loop, by name.
    pub fn report(&self) -> Vec<LoopReport> {
        let now = self.clock.now();
        self.lock()
            .iter()
            .map(|(&name, s)| LoopReport {
                name,
                last_ok_ms: s.last_ok,
                interval_ms: millis(s.schedule.every),
                restarts: s.restarts,
                verdict: s.verdict(now),
            })
            .collect()
    }

    fn register(&self, name: &'static str, schedule: Schedule) {
        let state =
            LoopState { schedule, since: self.clock.now(), last_ok: None, restarts: 0, status: Status::Running };
        self.lock().insert(name, state);
    }

    fn succeeded(&self, name: &'static str) {
        let now = self.clock.now();
        if let Some(s) = self.lock().get_mut(name) {
            s.last_ok = Some(now);
        }
    }

    fn set_status(&self, name: &'static str, status: Status) {
        if let Some(s) = self.lock().get_mut(name) {
            s.status = status;
        }
    }

    /// Marks the loop down and counts the restart that follows; returns the loop's restarts.
    fn crashed(&self, name: &'static str) -> u64 {
        self.restarts.get_or_create(&LoopLabels { r#loop: name.into() }).inc();
        let mut loops = self.lock();
        let Some(s) = loops.get_mut(name) else { return 0 };
        s.status = Status::Down;
        s.restarts += 1;
        s.restarts
    }

    fn unfinished(&self) -> Vec<&'static str> {
        self.lock().iter().filter(|(_, s)| s.status != Status::Stopped).map(|(&n, _)| n).collect()
    }

    // Poisoning is ignored: every update is a single assignment, and health reporting must never
    // be what takes the service down.
    fn lock(&self) -> MutexGuard<'_, BTreeMap<&'static str, LoopState>> {
        self.loops.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[derive(Debug)]
struct QueueClock(Queue);

impl Clock for QueueClock {
    fn now(&self) -> Millis {
        self.0.now()
    }
}

/// Handed to a loop body, which calls [`Heartbeat::ok`] after each successful iteration.
#[derive(Clone, Debug)]
pub struct Heartbeat {
    health: Arc<LoopHealth>,
    name: &'static str,
}

impl Heartbeat {
    pub fn ok(&self) {
        self.health.succeeded(self.name);
    }
}

/// Pauses between restarts: `first`, doubling up to `max`; back to `first` once a run lasted
/// `healthy_after`, so a loop that crashes once a day is not punished for last week's crash loop.
#[derive(Clone, Copy, Debug)]
pub struct Backoff {
    pub first: Duration,
    pub max: Duration,
    pub healthy_after: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff { first: Duration::from_secs(1), max: Duration::from_secs(60), healthy_after: Duration::from_secs(300) }
    }
}

impl Backoff {
    fn next(&self, previous: Option<Duration>, ran: Duration) -> Duration {
        match previous {
            Some(p) if ran < self.healthy_after => p.saturating_mul(2).min(self.max),
            _ => self.first,
        }
    }
}

/// Owns the loops' tasks; [`Supervisor::stop`] ends them within a grace period.
pub struct Supervisor {
    tasks: JoinSet<()>,
    health: Arc<LoopHealth>,
    stop: CancellationToken,
    backoff: Backoff,
}

impl Supervisor {
    /// The loops stop when `shutdown` is cancelled or [`Supervisor::stop`] is called.
    pub fn new(health: Arc<LoopHealth>, shutdown: &CancellationToken) -> Supervisor {
        Supervisor { tasks: JoinSet::new(), health, stop: shutdown.child_token(), backoff: Backoff::default() }
    }

    pub fn with_backoff(mut self, backoff: Backoff) -> Supervisor {
        self.backoff = backoff;
        self
    }

    /// Runs `make(stop, heartbeat)` until `stop` is cancelled, again after each panic or early
    /// return. The body should return soon after `stop` is cancelled.
    pub fn spawn<F, Fut>(&mut self, name: &'static str, schedule: Schedule, make: F)
    where
        F: FnMut(CancellationToken, Heartbeat) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.health.register(name, schedule);
        let run = Supervised { name, health: self.health.clone(), stop: self.stop.clone(), backoff: self.backoff };
        self.tasks.spawn(run.run(make));
    }

    /// Stops the loops and waits up to `grace` for them to finish what they are doing (a stock
    /// write, a sweep); what still runs then is aborted.
    pub async fn stop(mut self, grace: Duration) {
        self.stop.cancel();
        let drained = tokio::time::timeout(grace, async { while self.tasks.join_next().await.is_some() {} }).await;
        if drained.is_err() {
            tracing::warn!(loops = ?self.health.unfinished(), ?grace, "background loops still running after the grace period; aborting them");
            self.tasks.shutdown().await;
            for name in self.health.unfinished() {
                self.health.set_status(name, Status::Stopped);
            }
        }
    }
}

struct Supervised {
    name: &'static str,
    health: Arc<LoopHealth>,
    stop: CancellationToken,
    backoff: Backoff,
}

impl Supervised {
    async fn run<F, Fut>(self, mut make: F)
    where
        F: FnMut(CancellationToken, Heartbeat) -> Fut,
        Fut: Future<Output = ()>,
    {
        let name = self.name;
        let mut pause = None;
        loop {
            self.health.set_status(name, Status::Running);
            let started = Instant::now();
            let beat = Heartbeat { health: self.health.clone(), name };
            // `make` inside the guarded future: a panic before its first await is caught too.
            let ended = AssertUnwindSafe(async { make(self.stop.clone(), beat).await }).catch_unwind().await;
            let cause = ended.err().map(|p| format!("panicked: {}", panic_message(&*p)));
            if self.stop.is_cancelled() {
                if let Some(cause) = cause {
                    tracing::error!(loop_name = name, %cause, "background loop panicked while stopping");
                }
                self.health.set_status(name, Status::Stopped);
                return;
            }
            let wait = self.backoff.next(pause, started.elapsed());
            pause = Some(wait);
            let cause = cause.unwrap_or_else(|| "returned before shutdown".into());
            let restarts = self.health.crashed(name);
            tracing::error!(loop_name = name, %cause, restarts, restart_in = ?wait, "background loop stopped; restarting it");
            tokio::select! {
                _ = self.stop.cancelled() => {
                    self.health.set_status(name, Status::Stopped);
                    return;
                }
                _ = tokio::time::sleep(wait) => {}
            }
        }
    }
}

fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    p.downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a non-text panic payload".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Duration = Duration::from_secs(1);

    #[test]
    fn backoff_doubles_up_to_its_ceiling_and_starts_over_after_a_healthy_run() {
        let b = Backoff::default();
        let mut pause = None;
        let mut seen = vec![];
        for _ in 0..8 {
            let next = b.next(pause, S);
            seen.push(next.as_secs());
            pause = Some(next);
        }
        assert_eq!(seen, [1, 2, 4, 8, 16, 32, 60, 60]);
        assert_eq!(b.next(pause, 300 * S), S);
    }

    #[test]
    fn a_loop_is_late_after_three_intervals_and_its_slack_without_success() {
        let mut s = LoopState {
            schedule: Schedule::new(10 * S, 5 * S),
            since: 0,
            last_ok: None,
            restarts: 0,
            status: Status::Running,
        };
        assert_eq!(s.verdict(35_000), Verdict::Starting);
        assert_eq!(s.verdict(35_001), Verdict::Late);
        s.last_ok = Some(35_001);
        assert_eq!(s.verdict(70_001), Verdict::Ok);
        assert_eq!(s.verdict(70_002), Verdict::Late);
        s.status = Status::Down;
        assert_eq!(s.verdict(35_001), Verdict::Down);
        assert!(!Verdict::Down.is_ready() && !Verdict::Late.is_ready() && Verdict::Starting.is_ready());
    }
}
