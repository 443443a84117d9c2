//! The running service: HTTP server, queue workers and supervised background loops over one
//! store. `Application::build` binds (port 0 works, for tests) and returns before serving, so
//! callers can read `port()`.

use std::{net::SocketAddr, sync::Arc, time::Duration};

use secrecy::ExposeSecret;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::{
    api::{self, AppState},
    clock::SharedClock,
    config::Settings,
    metrics::Metrics,
    netsuite::{self, NetSuiteClient},
    queue::{Handlers, Queue, Worker, WorkerOptions},
    store::Store,
    supervise::{Schedule, Supervisor},
    sync::{inventory::StockSync, order_flow::OrderFlow},
};

/// Slack beyond three intervals before a loop without success counts as late (see
/// [`crate::supervise`]): its first run, one slow NetSuite or WooCommerce answer.
const SLACK: Duration = Duration::from_secs(60);
/// The stock loop's first run is a full pass: 10.5 minutes for 100,000 SKUs in the stock-scale
/// benchmark, the nightly one 6.5 minutes (docs/benchmarks.md).
const STOCK_SLACK: Duration = Duration::from_secs(15 * 60);

pub struct Application {
    listener: TcpListener,
    addr: SocketAddr,
    state: AppState,
    worker: Worker,
    netsuite: Option<NetSuiteClient>,
    settings: Settings,
    orders: Option<OrderFlow>,
    stock: Option<StockSync>,
}

impl Application {
    /// Opens and migrates the database, binds the listener, and prepares a worker for `handlers`.
    pub async fn build(settings: &Settings, clock: SharedClock, handlers: Handlers) -> anyhow::Result<Application> {
        let store = Store::connect(settings.database.url.expose_secret(), settings.database.max_connections).await?;
        store.migrate().await?;
        let queue = Queue::new(store, clock, settings.queue.retry.clone());
        Self::with_queue(settings, queue, handlers).await
    }

    /// With `[sync]` configured, the order flow's `woo.order` handler is added to `handlers`.
    pub async fn with_queue(settings: &Settings, queue: Queue, handlers: Handlers) -> anyhow::Result<Application> {
        refuse_an_open_door(settings, &queue).await?;
        let listener = TcpListener::bind(settings.server.bind).await.map_err(|e| {
            anyhow::anyhow!(
                "cannot listen on {}: {e}; set server.bind (WNS_SERVER__BIND) to a free address",
                settings.server.bind
            )
        })?;
        let addr = listener.local_addr()?;
        let metrics = Arc::new(Metrics::new());
        let id = worker_id();
        let netsuite = match &settings.netsuite {
            Some(ns) => Some(netsuite::connect(ns, queue.store(), &id, &metrics).await?),
            None => None,
        };
        let (handlers, orders) = match (&settings.sync, &netsuite, &settings.woocommerce) {
            (Some(sync), Some(ns), Some(woo)) => {
                let woo = crate::woo::WooClient::new(woo).map_err(|e| anyhow::anyhow!("woocommerce: {e}"))?;
                let flow = OrderFlow::new(ns.clone(), woo, queue.clone(), sync.clone());
                (flow.register(handlers), Some(flow))
            }
            _ => (handlers, None),
        };
        let (handlers, stock) = match (&settings.stock, &netsuite, &settings.woocommerce) {
            (Some(st), Some(ns), Some(woo)) => {
                let woo = crate::woo::WooClient::new(woo).map_err(|e| anyhow::anyhow!("woocommerce: {e}"))?;
                let sync = StockSync::new(ns.clone(), woo, queue.clone(), st.clone());
                (sync.register(handlers), Some(sync))
            }
            _ => (handlers, None),
        };
        let opts = WorkerOptions {
            concurrency: settings.queue.workers,
            lease: settings.lease(),
            poll: std::time::Duration::from_millis(settings.queue.poll_ms),
            shutdown_grace: std::time::Duration::from_secs(settings.queue.shutdown_grace_secs),
            ..WorkerOptions::new(id)
        };
        let worker = Worker::new(queue.clone(), handlers, opts).with_metrics(metrics.clone());
        let mut state = AppState::new(queue, metrics).with_api(settings.api.clone());
        state.netsuite_account = settings.netsuite.as_ref().map(|ns| ns.account_id.clone());
        state.governor = netsuite.as_ref().map(|ns| ns.governor().clone());
        if let Some(dir) = &settings.server.widget_dir {
            state.widget_dir = Arc::new(dir.clone());
        }
        if let Some(st) = &settings.stock {
            state.stock_limits =
                crate::api::products::StockLimits { every_secs: st.every_secs, stale_after_secs: st.stale_after_secs };
        }
        if let Some(woo) = &settings.woocommerce {
            state = state.with_webhook_secret(woo.webhook_secret.clone());
            state.webhook_max_body = woo.webhook_max_body_bytes;
        }
        Ok(Application { listener, addr, state, worker, netsuite, settings: settings.clone(), orders, stock })
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn queue(&self) -> &Queue {
        &self.state.queue
    }

    /// The NetSuite client, when `[netsuite]` is configured.
    pub fn netsuite(&self) -> Option<&NetSuiteClient> {
        self.netsuite.as_ref()
    }

    /// The order flow, when `[sync]` is configured.
    pub fn orders(&self) -> Option<&OrderFlow> {
        self.orders.as_ref()
    }

    /// Serves until `shutdown` is cancelled, then stops accepting, winds the worker (see
    /// [`Worker::run`]) and the background loops down within `queue.shutdown_grace_secs`, and
    /// closes the database.
    pub async fn run(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let Application { listener, state, worker, settings, orders, stock, .. } = self;
        let loops = supervise_loops(&settings, &state, orders, stock, &shutdown);
        let store = state.queue.store().clone();
        let worker = tokio::spawn(worker.run(shutdown.clone()));
        // The peer's address keys the webhook quarantine's rate limit.
        let service = api::router(state).into_make_service_with_connect_info::<SocketAddr>();
        let http = axum::serve(listener, service).with_graceful_shutdown(shutdown.clone().cancelled_owned());
        let served = http.await;
        shutdown.cancel();
        let grace = Duration::from_secs(settings.queue.shutdown_grace_secs);
        let (worked, ()) = tokio::join!(worker, loops.stop(grace));
        let worked = worked?;
        store.close().await;
        served?;
        worked?;
        Ok(())
    }
}

/// The background loops, each restarted if it panics or returns and reported by `/healthz`.
/// How often the NetSuite item index is refreshed; its first read of every item can take long.
const ITEMS_EVERY: Duration = Duration::from_secs(60);
const ITEMS_SLACK: Duration = Duration::from_secs(15 * 60);

/// How often the daily report's poster looks whether the day's report is due (and retries a failed post).
const REPORT_EVERY: Duration = Duration::from_secs(5 * 60);

fn supervise_loops(
    settings: &Settings,
    state: &AppState,
    orders: Option<OrderFlow>,
    stock: Option<StockSync>,
    shutdown: &CancellationToken,
) -> Supervisor {
    let mut loops = Supervisor::new(state.loops.clone(), shutdown);
    if let (Some(flow), Some(sync)) = (orders, &settings.sync) {
        let every = Duration::from_secs(sync.recheck_secs.max(1));
        // The item index serves the SKU fixer's search and releases orders whose SKU appears.
        let index = crate::sync::items::ItemIndex::new(flow.netsuite().clone(), state.queue.clone());
        loops.spawn("recheck", Schedule::new(every, SLACK), move |stop, beat| flow.clone().run_recheck(stop, beat));
        loops.spawn("items", Schedule::new(ITEMS_EVERY, ITEMS_SLACK), move |stop, beat| {
            index.clone().run(ITEMS_EVERY, stop, beat)
        });
    }
    if let (Some(stock), Some(st)) = (stock, &settings.stock) {
        let every = Duration::from_secs(st.every_secs);
        loops.spawn("stock", Schedule::new(every, STOCK_SLACK), move |stop, beat| stock.clone().run(stop, beat));
    }
    if let Some(report) = &settings.report {
        let poster = crate::monitor::report_post::ReportPoster::new(state.queue.store().clone(), report.clone());
        let clock = state.queue.clock();
        loops.spawn("report", Schedule::new(REPORT_EVERY, SLACK), move |stop, beat| {
            poster.clone().run(clock.clone(), REPORT_EVERY, stop, beat)
        });
    }
    if let Some(woo) = &settings.woocommerce {
        // Either chore's success counts, so the longer of the two intervals says when it is late.
        let every = Duration::from_secs(woo.webhook_check_every_secs.max(woo.sweep_every_secs).max(10));
        let (woo, queue, metrics) = (woo.clone(), state.queue.clone(), state.metrics.clone());
        loops.spawn("woo", Schedule::new(every, SLACK), move |stop, beat| {
            crate::woo::run_background(woo.clone(), queue.clone(), metrics.clone(), stop, beat)
        });
    }
    loops
}

/// Listening beyond loopback with no way to authenticate would let anyone on the network read and
/// change everything: refuse, and say what to configure.
async fn refuse_an_open_door(settings: &Settings, queue: &Queue) -> anyhow::Result<()> {
    let bind = settings.server.bind;
    if bind.ip().is_loopback() || crate::api::auth::can_authenticate(&settings.api, queue.store()).await? {
        return Ok(());
    }
    anyhow::bail!(
        "refusing to listen on {bind}: anyone who can reach it could read and change wns, and no way to authenticate is configured. \
         Set api.jwt_secret (the WordPress plugin's shared secret) and api.sites, or create an operator key with \
         `wns keys create --name ops --caps view,map_skus,replay,resolve`, or listen on 127.0.0.1 (server.bind)"
    )
}

/// `host:pid`, unique among the processes sharing one database.
pub fn worker_id() -> String {
    let host = std::fs::read_to_string("/etc/hostname").map(|h| h.trim().to_string()).unwrap_or_else(|_| "host".into());
    format!("{host}:{}", std::process::id())
}

/// Cancels the token on SIGTERM or Ctrl-C.
pub fn shutdown_on_signals() -> CancellationToken {
    let token = CancellationToken::new();
    let t = token.clone();
    tokio::spawn(async move {
        let ctrl_c = tokio::signal::ctrl_c();
        #[cfg(unix)]
        {
            let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                .expect("installing the SIGTERM handler");
            tokio::select! { _ = ctrl_c => {}, _ = term.recv() => {} }
        }
        #[cfg(not(unix))]
        let _ = ctrl_c.await;
        tracing::info!("shutdown requested");
        t.cancel();
    });
    token
}
