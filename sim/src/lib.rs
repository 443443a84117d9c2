//! Simulators of the parts of NetSuite's and WooCommerce's REST APIs that wns uses.
//!
//! They follow the public documentation and the recorded samples in `fixtures/`, not our
//! convenience: same auth rules, status codes, headers, error bodies, limits and (scaled) latency.
//! Used in-process by tests, benchmarks and `wns demo`, and as standalone binaries.

pub mod latency;
pub mod netsuite;
pub mod woo;
