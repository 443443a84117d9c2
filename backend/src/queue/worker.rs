//! Runs jobs: claims due jobs with a lease, runs each handler in its own task, records the
//! outcome. The worker never retries by itself; the handler's [`Outcome`] decides.
//!
//! Shutdown (SIGTERM): stop claiming, let in-flight jobs finish within the grace period, then
//! abort the rest and release them, so another process picks them up at once instead of after
//! the lease. A process killed outright (SIGKILL, power loss) releases nothing; its leases run
//! out and [`Queue::reap_expired`] hands the jobs on.

use std::{collections::HashMap, sync::Arc, time::Duration};

use std::panic::AssertUnwindSafe;

use futures::{FutureExt, future::BoxFuture};
use tokio::{sync::mpsc, task::JoinSet};
use tokio_util::sync::CancellationToken;
use tracing::{Instrument, info_span};

use super::{ClaimedJob, Finished, Outcome, Queue, QueueResult};
use crate::metrics::Metrics;

type HandlerFn = Arc<dyn Fn(ClaimedJob) -> BoxFuture<'static, Outcome> + Send + Sync>;

/// Which function runs which kind of job.
#[derive(Clone, Default)]
pub struct Handlers {
    by_kind: HashMap<String, HandlerFn>,
}

impl Handlers {
    pub fn new() -> Handlers {
        Handlers::default()
    }

    pub fn on<F, Fut>(mut self, kind: &str, f: F) -> Handlers
    where
        F: Fn(ClaimedJob) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = Outcome> + Send + 'static,
    {
        self.by_kind.insert(kind.to_string(), Arc::new(move |job| Box::pin(f(job))));
        self
    }

    pub fn kinds(&self) -> Vec<String> {
        let mut k: Vec<String> = self.by_kind.keys().cloned().collect();
        k.sort();
        k
    }
}

#[derive(Debug, Clone)]
pub struct WorkerOptions {
    /// Unique per process, e.g. `host:pid:n`; recorded on every attempt.
    pub id: String,
    pub concurrency: usize,
    pub lease: Duration,
    pub poll: Duration,
    pub shutdown_grace: Duration,
    /// How often expired leases are looked for.
    pub reap_every: Duration,
    /// After a wake-up, wait this long before claiming so that a burst is claimed in one
    /// statement rather than one statement per job.
    pub linger: Duration,
}

impl WorkerOptions {
    pub fn new(id: impl Into<String>) -> WorkerOptions {
        WorkerOptions {
            id: id.into(),
            concurrency: 8,
            lease: Duration::from_secs(120),
            poll: Duration::from_millis(500),
            shutdown_grace: Duration::from_secs(20),
            reap_every: Duration::from_secs(5),
            linger: Duration::from_millis(2),
        }
    }
}

pub struct Worker {
    queue: Queue,
    handlers: Handlers,
    kinds: Vec<String>,
    opts: WorkerOptions,
    metrics: Option<Arc<Metrics>>,
}

impl Worker {
    pub fn new(queue: Queue, handlers: Handlers, opts: WorkerOptions) -> Worker {
        let kinds = handlers.kinds();
        Worker { queue, handlers, kinds, opts, metrics: None }
    }

    pub fn with_metrics(mut self, metrics: Arc<Metrics>) -> Worker {
        self.metrics = Some(metrics);
        self
    }

    pub fn id(&self) -> &str {
        &self.opts.id
    }

    /// Claims one batch of due jobs, runs them to their outcome and returns how many ran.
    /// Tests call this (or [`Worker::drain`]) instead of sleeping.
    pub async fn run_once(&self) -> QueueResult<usize> {
        let jobs = self.queue.claim(&self.opts.id, &self.kinds, self.opts.concurrency, self.opts.lease).await?;
        let n = jobs.len();
        let mut set = JoinSet::new();
        for job in jobs {
            set.spawn(self.execute(job));
        }
        let mut ran = Vec::with_capacity(n);
        while let Some(res) = set.join_next().await {
            ran.push(res.map_err(|e| sqlx::Error::Protocol(format!("job task failed: {e}")))?);
        }
        self.record(ran).await?;
        Ok(n)
    }

    /// Runs due jobs until none is left.
    pub async fn drain(&self) -> QueueResult<usize> {
        let mut total = 0;
        loop {
            let n = self.run_once().await?;
            if n == 0 {
                return Ok(total);
            }
            total += n;
        }
    }

    /// Runs the handler for one job; panics become a retry, never a lost job.
    fn execute(&self, job: ClaimedJob) -> impl Future<Output = Ran> + Send + 'static {
        let handler = self.handlers.by_kind.get(&job.kind).cloned();
        let span =
            info_span!("job", job_id = job.id.0, kind = %job.kind, entity_key = %job.entity_key, attempt = job.attempt);
        async move {
            let started = std::time::Instant::now();
            let outcome = match handler {
                Some(h) => match AssertUnwindSafe(h(job.clone())).catch_unwind().await {
                    Ok(outcome) => outcome,
                    Err(panic) => Outcome::Retry { error: format!("handler panicked: {}", panic_message(&panic)) },
                },
                None => Outcome::Dead {
                    error: format!(
                        "this wns version has no handler for job kind `{}`; replay it after upgrading",
                        job.kind
                    ),
                },
            };
            match &outcome {
                Outcome::Done => tracing::debug!("done"),
                Outcome::Retry { error } | Outcome::RetryAfter { error, .. } => tracing::warn!(%error, "will retry"),
                // Waiting for a person is tracked as an exception with an owner (the board, the
                // daily report); the log says it once, without raising an engineer's alarm.
                Outcome::Blocked { owner, cause, error } => {
                    tracing::info!(owner = owner.as_str(), %cause, %error, "blocked")
                }
                Outcome::Dead { error } => tracing::error!(%error, "dead"),
            }
            Ran { job, outcome, took: started.elapsed() }
        }
        .instrument(span)
    }

    /// Writes a batch of outcomes in one transaction and counts them in the metrics.
    async fn record(&self, ran: Vec<Ran>) -> QueueResult<()> {
        if ran.is_empty() {
            return Ok(());
        }
        if let Some(m) = &self.metrics {
            for r in &ran {
                m.record_attempt(&r.job.kind, outcome_label(&r.outcome), r.took);
            }
        }
        let ids: Vec<i64> = ran.iter().map(|r| r.job.id.0).collect();
        let batch: Vec<(ClaimedJob, Outcome)> = ran.into_iter().map(|r| (r.job, r.outcome)).collect();
        let finished = self.queue.finish_many(&self.opts.id, batch).await?;
        for (job_id, f) in ids.into_iter().zip(finished) {
            if f == Finished::LeaseLost {
                tracing::warn!(job_id, "lease ran out before the job finished; another worker has it");
            }
        }
        Ok(())
    }

    /// The long-running loop of `wns serve`: claim while there is room, wake on new work or the
    /// poll interval, keep leases fresh, reap dead workers' jobs; on `shutdown`, wind down.
    /// Finished jobs are recorded by one writer task that takes everything finished meanwhile
    /// in one transaction (group commit).
    pub async fn run(self, shutdown: CancellationToken) -> QueueResult<()> {
        let this = Arc::new(self);
        let (tx, rx) = mpsc::unbounded_channel::<Ran>();
        let recorder = tokio::spawn(Self::recorder(this.clone(), rx));
        let wake = this.queue.wake_handle();
        let mut in_flight: JoinSet<()> = JoinSet::new();
        let mut held: HashMap<tokio::task::Id, ClaimedJob> = HashMap::new();
        let mut last_reap = tokio::time::Instant::now() - this.opts.reap_every;
        let mut last_extend = tokio::time::Instant::now();
        tracing::info!(worker = %this.opts.id, kinds = ?this.kinds, "worker started");
        while !shutdown.is_cancelled() {
            if last_reap.elapsed() >= this.opts.reap_every {
                last_reap = tokio::time::Instant::now();
                log_err(this.queue.reap_expired().await, "reaping expired leases");
            }
            if last_extend.elapsed() >= this.opts.lease / 3 && !held.is_empty() {
                last_extend = tokio::time::Instant::now();
                let ids: Vec<_> = held.values().map(|j| j.id).collect();
                log_err(this.queue.extend_leases(&this.opts.id, &ids, this.opts.lease).await, "extending leases");
            }
            let notified = wake.notified();
            let room = this.opts.concurrency.saturating_sub(in_flight.len());
            let mut claimed = 0;
            // Claim in batches: waiting for a quarter of the slots (at most 32) to free up keeps
            // claims from degenerating into one statement per job under load. The cap matters for
            // wide workers whose jobs wait long (sales orders in async batches): hundreds of
            // waiting jobs must not keep the next ones from being claimed.
            let enough = (this.opts.concurrency / 4).clamp(1, 32);
            if room > 0 && (room >= enough || in_flight.is_empty()) {
                match this.queue.claim(&this.opts.id, &this.kinds, room, this.opts.lease).await {
                    Ok(jobs) => {
                        claimed = jobs.len();
                        for job in jobs {
                            let (run, tx) = (this.execute(job.clone()), tx.clone());
                            let h = in_flight.spawn(async move {
                                let _ = tx.send(run.await);
                            });
                            held.insert(h.id(), job);
                        }
                    }
                    Err(e) => tracing::error!(error = %e, "claiming jobs failed; retrying after the poll interval"),
                }
            }
            if claimed > 0 && claimed == room {
                // More may be due: wait only for slots to free up.
                if let Some(done) = in_flight.join_next_with_id().await {
                    forget(&mut held, done);
                }
                continue;
            }
            tokio::select! {
                _ = shutdown.cancelled() => {}
                _ = notified => tokio::time::sleep(this.opts.linger).await,
                _ = tokio::time::sleep(this.opts.poll) => {}
                Some(done) = in_flight.join_next_with_id(), if !in_flight.is_empty() => forget(&mut held, done),
            }
        }
        this.wind_down(in_flight, held).await?;
        drop(tx);
        recorder.await.map_err(|e| sqlx::Error::Protocol(format!("recorder task failed: {e}")))?;
        tracing::info!(worker = %this.opts.id, "worker stopped");
        Ok(())
    }

    /// Takes finished jobs off the channel, as many as are waiting (up to 200), and records
    /// them in one transaction. A failed write is logged; those jobs' leases run out and they
    /// run again, which is safe because every effect is idempotent.
    async fn recorder(this: Arc<Worker>, mut rx: mpsc::UnboundedReceiver<Ran>) {
        while let Some(first) = rx.recv().await {
            let mut batch = vec![first];
            while batch.len() < 200 {
                match rx.try_recv() {
                    Ok(r) => batch.push(r),
                    Err(_) => break,
                }
            }
            log_err(this.record(batch).await, "recording job outcomes");
        }
    }

    async fn wind_down(
        &self,
        mut in_flight: JoinSet<()>,
        mut held: HashMap<tokio::task::Id, ClaimedJob>,
    ) -> QueueResult<()> {
        tracing::info!(in_flight = in_flight.len(), grace = ?self.opts.shutdown_grace, "stopping: no new jobs; waiting for running ones");
        let deadline = tokio::time::Instant::now() + self.opts.shutdown_grace;
        while !in_flight.is_empty() {
            match tokio::time::timeout_at(deadline, in_flight.join_next_with_id()).await {
                Ok(Some(done)) => forget(&mut held, done),
                Ok(None) | Err(_) => break,
            }
        }
        in_flight.abort_all();
        while let Some(done) = in_flight.join_next_with_id().await {
            // A task that finished in the meantime has handed its job to the recorder.
            if let Ok((id, ())) = done {
                held.remove(&id);
            }
        }
        let unfinished: Vec<ClaimedJob> = held.into_values().collect();
        if !unfinished.is_empty() {
            let n = self.queue.release(&unfinished, &self.opts.id).await?;
            tracing::warn!(released = n, "released jobs still running at the end of the grace period");
        }
        Ok(())
    }
}

/// A handler's result, on its way to be recorded.
struct Ran {
    job: ClaimedJob,
    outcome: Outcome,
    took: std::time::Duration,
}

fn forget(
    held: &mut HashMap<tokio::task::Id, ClaimedJob>,
    done: Result<(tokio::task::Id, ()), tokio::task::JoinError>,
) {
    match done {
        Ok((id, ())) => {
            held.remove(&id);
        }
        Err(e) => {
            // Handler panics are caught inside the task, so this is an abort; the lease is no
            // longer extended, so it runs out and the job runs again.
            held.remove(&e.id());
            tracing::error!(error = %e, "job task failed; its lease will run out and it will be retried");
        }
    }
}

fn log_err<T>(r: QueueResult<T>, what: &str) {
    if let Err(e) = r {
        tracing::error!(error = %e, "{what} failed");
    }
}

fn outcome_label(o: &Outcome) -> &'static str {
    match o {
        Outcome::Done => "done",
        Outcome::Retry { .. } | Outcome::RetryAfter { .. } => "retry",
        Outcome::Blocked { .. } => "blocked",
        Outcome::Dead { .. } => "dead",
    }
}

fn panic_message(p: &Box<dyn std::any::Any + Send>) -> String {
    p.downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into())
}
