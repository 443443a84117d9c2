//! The HTTP surface, one module per resource, each with its own `router()`.

mod dashboard;
mod error;
mod health;
mod queue;
mod webhooks;

use std::sync::Arc;

use axum::Router;
use tower_http::trace::TraceLayer;

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
}

impl AppState {
    /// Must be called inside a tokio runtime (the receiver starts its writer task).
    pub fn new(queue: Queue, metrics: Arc<Metrics>) -> AppState {
        let webhooks = Arc::new(Receiver::new(queue.clone()));
        let loops = Arc::new(LoopHealth::for_queue(&queue, &metrics));
        AppState { queue, metrics, webhooks, webhook_secret: None, webhook_max_body: 2 * 1024 * 1024, loops }
    }

    pub fn with_webhook_secret(mut self, secret: SecretString) -> AppState {
        self.webhook_secret = Some(secret);
        self
    }
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(health::router())
        .merge(queue::router())
        .merge(dashboard::router())
        .merge(webhooks::router(state.webhook_max_body))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}
