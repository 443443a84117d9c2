//! The running service: HTTP server and queue workers over one store. `Application::build`
//! binds (port 0 works, for tests) and returns before serving, so callers can read `port()`.

use std::{net::SocketAddr, sync::Arc};

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
    sync::{inventory::StockSync, order_flow::OrderFlow},
};

pub struct Application {
    listener: TcpListener,
    addr: SocketAddr,
    state: AppState,
    worker: Worker,
    netsuite: Option<NetSuiteClient>,
    woocommerce: Option<crate::woo::WooSettings>,
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
        let mut state = AppState::new(queue, metrics);
        if let Some(woo) = &settings.woocommerce {
            state = state.with_webhook_secret(woo.webhook_secret.clone());
            state.webhook_max_body = woo.webhook_max_body_bytes;
        }
        Ok(Application {
            listener,
            addr,
            state,
            worker,
            netsuite,
            woocommerce: settings.woocommerce.clone(),
            orders,
            stock,
        })
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

    /// Serves until `shutdown` is cancelled, then stops accepting, winds the worker down (see
    /// [`Worker::run`]) and closes the database.
    pub async fn run(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let Application { listener, state, worker, woocommerce, orders, stock, .. } = self;
        if let Some(flow) = orders {
            tokio::spawn(flow.run_recheck(shutdown.clone()));
        }
        if let Some(stock) = stock {
            tokio::spawn(stock.run(shutdown.clone()));
        }
        let store = state.queue.store().clone();
        if let Some(woo) = woocommerce {
            tokio::spawn(crate::woo::run_background(woo, state.queue.clone(), state.metrics.clone(), shutdown.clone()));
        }
        let worker = tokio::spawn(worker.run(shutdown.clone()));
        let http = axum::serve(listener, api::router(state)).with_graceful_shutdown(shutdown.clone().cancelled_owned());
        let served = http.await;
        shutdown.cancel();
        let worked = worker.await?;
        store.close().await;
        served?;
        worked?;
        Ok(())
    }
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
