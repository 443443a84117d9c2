//! Simulators of the NetSuite and WooCommerce REST APIs, built from the public documentation in
//! `shared/reference/`: faithful in auth, status codes, error bodies, limits and latency, not
//! convenient for wns. The HTTP simulators arrive with the clients they test (NetSuite, then
//! WooCommerce); this crate starts with what both share: how long a call takes.

pub mod latency;
