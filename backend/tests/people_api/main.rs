//! The API for people (`/api/v1` and the status page) on SQLite and PostgreSQL, one module per
//! resource in one test binary (each test binary links the whole backend, which is what CI waits
//! for): authentication and limits, orders, products, SKU mappings and the item index, and the
//! exceptions board with health and the daily report.

#[macro_use]
#[path = "../support/both.rs"]
mod both;

#[path = "../support/flow.rs"]
mod support;

#[path = "../support/api.rs"]
mod api;

mod auth;
mod board;
mod openapi;
mod orders;
mod products;
mod skus;
