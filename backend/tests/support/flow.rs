//! Both simulators, a fresh database and the order flow wired as `wns serve` wires it: shared by
//! the order-flow tests, the fault test and the flash-sale benchmark (`#[path]`-included).

#![allow(dead_code)]

use std::time::Duration;

use rust_decimal::Decimal;
use serde_json::json;
use wns::{
    clock,
    netsuite::{AuthSettings, Governor, NetSuiteClient, NetSuiteSettings, TbaCredentials},
    queue::{Handlers, NewJob, Queue, RetryPolicy, Worker, WorkerOptions},
    store::{Backend, Store},
    sync::{SyncSettings, order_flow::OrderFlow, sales_order::OrderMapping},
    testing::TestDb,
    woo::{WooClient, WooSettings},
};
use wns_sim::{
    netsuite::{self as nsim, NetSuiteConfig, NetSuiteSim, RunningNetSuite, SeedItem},
    woo::{NewProduct, RunningWoo, WooConfig, WooSim},
};

pub struct Flow {
    pub db: TestDb,
    pub store: Store,
    pub queue: Queue,
    pub ns: RunningNetSuite,
    pub woo: RunningWoo,
    pub client: NetSuiteClient,
    pub flow: OrderFlow,
    pub worker: Worker,
    pub settings: SyncSettings,
    /// NetSuite location ids: east, central, west.
    pub locations: [String; 3],
    pub shipping_item: String,
    pub fee_item: String,
    pub discount_item: String,
}

pub struct Options {
    pub ns: NetSuiteConfig,
    pub woo: WooConfig,
    pub governor_limit: usize,
    pub request_timeout_secs: u64,
    pub workers: usize,
    pub retry: RetryPolicy,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            ns: NetSuiteConfig::for_tests(),
            woo: WooConfig::for_tests(),
            governor_limit: 5,
            request_timeout_secs: 5,
            workers: 8,
            retry: RetryPolicy { base_ms: 20, max_delay_secs: 1, max_attempts: 50, ..RetryPolicy::default() },
        }
    }
}

pub fn netsuite_client(base_url: &str, limit: usize, timeout_secs: u64) -> NetSuiteClient {
    let auth = AuthSettings::Tba(TbaCredentials::new(
        nsim::TEST_CONSUMER_KEY,
        nsim::TEST_CONSUMER_SECRET,
        nsim::TEST_TOKEN_ID,
        nsim::TEST_TOKEN_SECRET,
    ));
    let mut settings = NetSuiteSettings {
        base_url: Some(base_url.into()),
        request_timeout_secs: timeout_secs,
        ..NetSuiteSettings::new("1234567_SB1", auth)
    };
    settings.governor.concurrency_limit = limit;
    NetSuiteClient::new(&settings, Governor::local(&settings.governor)).unwrap()
}

pub fn woo_client(base_url: &str) -> WooClient {
    WooClient::new(&WooSettings {
        base_url: base_url.into(),
        consumer_key: wns_sim::woo::TEST_CONSUMER_KEY.into(),
        consumer_secret: wns_sim::woo::TEST_CONSUMER_SECRET.into(),
        webhook_secret: "unused-in-these-tests-000".into(),
        webhook_max_body_bytes: 2 * 1024 * 1024,
        public_url: "http://127.0.0.1:9".into(),
        sweep_every_secs: 300,
        webhook_check_every_secs: 300,
        ca_file: None,
    })
    .unwrap()
}

pub async fn flow(backend: Backend, tweak: impl FnOnce(&mut SyncSettings, &[String; 3])) -> Flow {
    flow_with(backend, Options::default(), tweak).await
}

pub async fn flow_with(backend: Backend, o: Options, tweak: impl FnOnce(&mut SyncSettings, &[String; 3])) -> Flow {
    wns::testing::init_logs();
    let db = TestDb::new(backend).await;
    let store = db.store(16).await;
    let queue = Queue::new(store.clone(), clock::system(), o.retry.clone());
    let ns = NetSuiteSim::spawn(o.ns).await.unwrap();
    let woo = WooSim::spawn(o.woo).await.unwrap();
    let typed = |name: &str, t: &str| ns.sim.seed_item(SeedItem { item_type: t.into(), ..SeedItem::new(name) });
    let (shipping_item, fee_item, discount_item) =
        (typed("Shipping", "OthCharge"), typed("Fee", "OthCharge"), typed("Web discount", "Discount"));
    let locations = ["East", "Central", "West"].map(|n| ns.sim.seed_location(n));
    let mut settings = SyncSettings::new(OrderMapping::new("shop", "1", &shipping_item, &fee_item));
    settings.orders.discount_item = Some(discount_item.clone());
    // NetSuite fulfils only lines with a location; shops name their default.
    settings.routing.default_location = Some(locations[0].clone());
    tweak(&mut settings, &locations);
    let client = netsuite_client(&ns.base_url, o.governor_limit, o.request_timeout_secs);
    let flow = OrderFlow::new(client.clone(), woo_client(&woo.base_url), queue.clone(), settings.clone());
    let opts = WorkerOptions {
        concurrency: o.workers,
        lease: Duration::from_secs(60),
        poll: Duration::from_millis(20),
        ..WorkerOptions::new("test-worker")
    };
    let worker = Worker::new(queue.clone(), flow.register(Handlers::new()), opts);
    Flow {
        db,
        store,
        queue,
        ns,
        woo,
        client,
        flow,
        worker,
        settings,
        locations,
        shipping_item,
        fee_item,
        discount_item,
    }
}

impl Flow {
    /// A product in WooCommerce and, unless `in_netsuite` is false, an item with the SKU as its
    /// name in NetSuite. Returns (WooCommerce product id, NetSuite item id).
    pub fn product(&self, sku: &str, price: Decimal, in_netsuite: bool) -> (u64, Option<String>) {
        let id = self.woo.sim.add_product(NewProduct::new(sku, sku, price));
        let item = in_netsuite.then(|| self.ns.sim.seed_item(SeedItem::new(sku)));
        (id, item)
    }

    /// What a webhook delivery does: one `woo.order` job.
    pub async fn enqueue(&self, order: u64) {
        self.queue
            .enqueue(NewJob::new("woo.order", format!("order:{order}"), json!({ "topic": "test" })))
            .await
            .unwrap();
    }

    /// Runs due jobs until none is left (retries included, up to `within`).
    pub async fn settle(&self, within: Duration) {
        let until = std::time::Instant::now() + within;
        loop {
            self.worker.drain().await.unwrap();
            let s = self.queue.summary().await.unwrap();
            if s.total(wns_api_types::JobState::Ready) + s.total(wns_api_types::JobState::Running) == 0
                || std::time::Instant::now() > until
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// `PUT wc/v3/orders/<id>` as wp-admin's REST client sends it (Basic auth behind an HTTPS proxy).
    pub async fn edit_order(&self, id: u64, body: serde_json::Value) {
        let res = reqwest::Client::new()
            .put(format!("{}/wp-json/wc/v3/orders/{id}", self.woo.base_url))
            .basic_auth(wns_sim::woo::TEST_CONSUMER_KEY, Some(wns_sim::woo::TEST_CONSUMER_SECRET))
            .header("X-Forwarded-Proto", "https")
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(res.status().is_success(), "{}", res.text().await.unwrap());
    }

    pub fn sales_order(&self, order: u64) -> Option<serde_json::Value> {
        self.ns.sim.find_by_external_id("salesOrder", &format!("wc-shop-order-{order}"))
    }
}
