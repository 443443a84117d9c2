//! wns as `wns serve` wires it, against the real store and the NetSuite simulator: SQLite, the
//! queue and a worker with the order and stock flows, the HTTP listener with the webhook receiver
//! and `/api/v1`. Shared by the flow test and the widget's end-to-end test.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use axum::{
    extract::Request,
    http::StatusCode,
    middleware::{self, Next},
    response::IntoResponse,
};
use wns::{
    api::{AppState, DEFAULT_WIDGET_DIR, auth::ApiSettings, router},
    clock,
    metrics::Metrics,
    queue::{Handlers, Queue, RetryPolicy, Worker, WorkerOptions},
    store::Backend,
    sync::{
        SyncSettings,
        inventory::{StockSettings, StockSync},
        items::ItemIndex,
        order_flow::OrderFlow,
        sales_order::OrderMapping,
    },
    testing::TestDb,
    woo::WooClient,
};
use wns_sim::netsuite::{NetSuiteConfig, NetSuiteSim, RunningNetSuite, SeedItem};

use crate::target::WEBHOOK_SECRET;

pub struct Wns {
    _db: TestDb,
    pub queue: Queue,
    pub ns: RunningNetSuite,
    pub stock: StockSync,
    /// wns's local index of NetSuite's items, which the SKU fixer searches.
    pub items_index: ItemIndex,
    worker: Worker,
    /// `http://127.0.0.1:<port>`
    pub url: String,
    /// The NetSuite location the flows use.
    pub east: String,
    /// NetSuite's internal id of the item of each SKU given to [`Wns::start`].
    pub items: std::collections::HashMap<String, String>,
    /// Set: every request gets 503, as a proxy answers while wns is down.
    down: Arc<AtomicBool>,
}

impl Wns {
    /// wns with NetSuite items named after `skus` (so those SKUs are mapped), and `api` for user
    /// tokens from the store's plugin.
    pub async fn start(woo: &WooClient, skus: &[&str], api: ApiSettings) -> Wns {
        let db = TestDb::new(Backend::Sqlite).await;
        let queue = Queue::new(db.store(8).await, clock::system(), RetryPolicy::default());
        let ns = NetSuiteSim::spawn(NetSuiteConfig::for_tests()).await.unwrap();
        let typed = |name: &str, t: &str| ns.sim.seed_item(SeedItem { item_type: t.into(), ..SeedItem::new(name) });
        let (shipping_item, fee_item) = (typed("Shipping", "OthCharge"), typed("Fee", "OthCharge"));
        let east = ns.sim.seed_location("East");
        let mut items = std::collections::HashMap::new();
        for sku in skus {
            let item = ns.sim.seed_item(SeedItem::new(sku));
            ns.sim.set_stock(&item, &east, 40, 40);
            items.insert(sku.to_string(), item);
        }
        let mut settings = SyncSettings::new(OrderMapping::new("shop", "1", &shipping_item, &fee_item));
        settings.routing.default_location = Some(east.clone());
        let client = crate::support::netsuite_client(&ns.base_url, 5, 10);
        let items_index = ItemIndex::new(client.clone(), queue.clone());
        let flow = OrderFlow::new(client.clone(), woo.clone(), queue.clone(), settings);
        let stock = StockSync::new(client, woo.clone(), queue.clone(), StockSettings::new(vec![east.clone()]));
        let opts = WorkerOptions { poll: Duration::from_millis(50), ..WorkerOptions::new("real-store") };
        let worker = Worker::new(queue.clone(), stock.register(flow.register(Handlers::new())), opts);

        let down = Arc::new(AtomicBool::new(false));
        let mut state = AppState::new(queue.clone(), Arc::new(Metrics::new()))
            .with_webhook_secret(WEBHOOK_SECRET.into())
            .with_api(api);
        // The dashboard at `/` serves the widget `cargo xtask widget` built in this checkout.
        state.widget_dir =
            Arc::new(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(DEFAULT_WIDGET_DIR));
        let gate = down.clone();
        let app = router(state).layer(middleware::from_fn(move |req: Request, next: Next| {
            let gate = gate.clone();
            async move {
                if gate.load(Ordering::SeqCst) {
                    return (StatusCode::SERVICE_UNAVAILABLE, "wns is down").into_response();
                }
                next.run(req).await
            }
        }));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Wns { _db: db, queue, ns, stock, items_index, worker, url, east, items, down }
    }

    pub fn webhook_url(&self) -> String {
        format!("{}/webhooks/woocommerce", self.url)
    }

    /// From now on wns answers nothing but 503.
    pub fn go_down(&self) {
        self.down.store(true, Ordering::SeqCst);
    }

    /// Runs the worker until `done` holds; the bound only stops a broken run.
    pub async fn work_until(&self, what: &str, mut done: impl FnMut(&RunningNetSuite) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            self.worker.drain().await.unwrap();
            if done(&self.ns) {
                return;
            }
            assert!(Instant::now() < deadline, "{what} within 30 s");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}
