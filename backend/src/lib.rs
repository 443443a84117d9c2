//! wns: keeps a WooCommerce shop and its NetSuite account in step.
//!
//! `main.rs` only parses the command line; everything lives here so tests and benchmarks use
//! exactly what the binary runs. Modules are cut by domain (see `docs/architecture.md`).

pub mod api;
pub mod app;
pub mod check;
pub mod cli;
pub mod clock;
pub mod config;
#[cfg(feature = "sim")]
pub mod demo;
pub mod metrics;
pub mod monitor;
pub mod netsuite;
pub mod queue;
pub mod remote;
pub mod secrets;
pub mod store;
pub mod supervise;
pub mod sync;
pub mod telemetry;
#[cfg(feature = "sim")]
pub mod testing;
pub mod woo;
