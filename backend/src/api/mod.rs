//! The HTTP surface, one module per resource, each with its own `router()`.

pub mod auth;
mod dashboard;
pub mod error;
mod exceptions;
mod health;
mod openapi;
pub mod orders;
pub mod products;
mod queue;
pub mod skus;
pub mod status;
mod webhooks;

use std::sync::Arc;

use axum::Router;
use tower_http::trace::TraceLayer;

pub use dashboard::DEFAULT_WIDGET_DIR;
pub use error::ApiError;

use secrecy::SecretString;

use crate::{metrics::Metrics, queue::Queue, supervise::LoopHealth, woo::webhook::Receiver};

#[derive(Clone)]
pub struct AppState {
    pub queue: Queue,
    pub metrics: Arc<Metrics>,
    pub webhooks: Arc<Receiver>,
    /// `woocommerce.webhook_secret`; without it every delivery is kept in quarantine.
    pub webhook_secret: Option<SecretString>,
    pub webhook_max_body: usize,
    /// The supervised background loops `/healthz` reports; empty unless the app runs some.
    pub loops: Arc<LoopHealth>,
    /// How callers of `/api/v1` and `/` authenticate (`[api]`).
    pub api: Arc<auth::ApiSettings>,
    /// Per-caller rate limits of `/api/v1`.
    pub limits: Arc<auth::RateLimits>,
    /// The NetSuite account id, for links into its UI; `None` until `[netsuite]` is configured.
    pub netsuite_account: Option<String>,
    /// The stock schedule's limits, for the freshness of a product's stock.
    pub stock_limits: products::StockLimits,
    /// NetSuite's concurrency budget as this process uses it; `None` without `[netsuite]`.
    pub governor: Option<crate::netsuite::Governor>,
    /// The built widget's folder (`server.widget_dir`), which the dashboard at `/` serves.
    pub widget_dir: Arc<std::path::PathBuf>,
}

impl AppState {
    /// Must be called inside a tokio runtime (the receiver starts its writer task).
    pub fn new(queue: Queue, metrics: Arc<Metrics>) -> AppState {
        let webhooks = Arc::new(Receiver::new(queue.clone()));
        let loops = Arc::new(LoopHealth::for_queue(&queue, &metrics));
        let api = Arc::new(auth::ApiSettings::default());
        let limits = Arc::new(auth::RateLimits::default());
        AppState {
            queue,
            metrics,
            webhooks,
            webhook_secret: None,
            webhook_max_body: 2 * 1024 * 1024,
            loops,
            api,
            limits,
            netsuite_account: None,
            stock_limits: products::StockLimits::default(),
            governor: None,
            widget_dir: Arc::new(dashboard::DEFAULT_WIDGET_DIR.into()),
        }
    }

    pub fn with_api(mut self, api: auth::ApiSettings) -> AppState {
        self.api = Arc::new(api);
        self
    }

    pub fn with_webhook_secret(mut self, secret: SecretString) -> AppState {
        self.webhook_secret = Some(secret);
        self
    }
}

/// `/api/v1` with its OpenAPI document: each route is registered together with its document
/// (utoipa-axum), so none can exist undocumented.
fn api_v1() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let (router, doc) = utoipa_axum::router::OpenApiRouter::new()
        .merge(queue::router())
        .merge(orders::router())
        .merge(products::router())
        .merge(status::router())
        .merge(skus::router())
        .merge(exceptions::router())
        .split_for_parts();
    (router, openapi::finish(doc))
}

/// The OpenAPI 3.1 document of `/api/v1`, as `/api/v1/openapi.json` serves it.
pub fn openapi() -> utoipa::openapi::OpenApi {
    api_v1().1
}

pub fn router(state: AppState) -> Router {
    let (api, doc) = api_v1();
    let doc = std::sync::Arc::new(doc.to_pretty_json().expect("the OpenAPI document serializes"));
    let doc_route = Router::new().route(
        "/api/v1/openapi.json",
        axum::routing::get(move || {
            let doc = doc.clone();
            async move { ([(axum::http::header::CONTENT_TYPE, "application/json")], doc.as_str().to_owned()) }
        }),
    );
    // People's routes: small bodies, a bounded time per request, browsers only from the admin.
    let people = api
        .merge(dashboard::router())
        .merge(doc_route)
        .layer(axum::extract::DefaultBodyLimit::max(PEOPLE_MAX_BODY))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            std::time::Duration::from_secs(30),
        ))
        .layer(cors(&state.api.cors_origins));
    Router::new()
        .merge(health::router())
        .merge(people)
        .merge(webhooks::router(state.webhook_max_body))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// The largest request body `/api/v1` and the status page accept (a batch of 500 ids is ~5 KB).
const PEOPLE_MAX_BODY: usize = 256 * 1024;

/// Only the configured WordPress admin origins may call the API from a browser page; for any
/// other origin the answer carries no `Access-Control-Allow-Origin`, so the browser withholds it.
fn cors(origins: &[String]) -> tower_http::cors::CorsLayer {
    use axum::http::{HeaderValue, Method, header};
    let allowed: Vec<HeaderValue> = origins.iter().filter_map(|o| HeaderValue::from_str(o).ok()).collect();
    tower_http::cors::CorsLayer::new()
        .allow_origin(allowed)
        .allow_methods([Method::GET, Method::POST, Method::PUT, Method::DELETE])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
        .max_age(std::time::Duration::from_secs(600))
}
