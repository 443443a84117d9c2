//! The HTTP surface, one module per resource, each with its own `router()`.

mod dashboard;
mod error;
mod health;
mod queue;

use std::sync::Arc;

use axum::Router;
use tower_http::trace::TraceLayer;

pub use error::ApiError;

use crate::{metrics::Metrics, queue::Queue};

#[derive(Clone)]
pub struct AppState {
    pub queue: Queue,
    pub metrics: Arc<Metrics>,
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(health::router())
        .merge(queue::router())
        .merge(dashboard::router())
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}
