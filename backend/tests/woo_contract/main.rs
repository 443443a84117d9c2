//! The WooCommerce contract: what wns's WooCommerce client and webhook receiver rely on, written
//! once and run against two stores.
//!
//! - `sim::…` runs each test against the WooCommerce simulator, in every `cargo test`.
//! - `real::…` runs the same test against a **real** WordPress 6.1 + WooCommerce 7.9 + wns-sync
//!   (the one `cargo xtask wp` starts). They are ignored in a plain `cargo test`; `cargo xtask
//!   test` (and `cargo xtask test-php`) start the store, posts-stored and then HPOS, and run them
//!   with `--ignored` and `WNS_REAL_WOO` naming the store's `store.json`.
//!
//! When the two disagree, the real store is right and the simulator is fixed. A test makes what it
//! needs through the store's REST API (products with SKUs of its own, orders, webhooks), so the
//! real store's tests can share one store and run side by side, and cleans up the webhooks it made.
//! The real store is seeded like the recorded store the simulator copies: taxes on, CA 7.25 % and
//! GB 20 % (both on shipping), coupons `tenoff` (10 %) and `fiveoff` ($5 off the cart).
//!
//! `flow.rs` adds one test for the real store only: a real order → its real webhook → wns → a
//! sales order in the NetSuite simulator, and a NetSuite stock change → the real product's stock.

#[path = "../support/flow.rs"]
mod support;
#[path = "../support/tls_proxy.rs"]
mod tls_proxy;

mod contract;
mod flow;
mod target;
mod widget;
mod wns_side;

/// Each contract test twice: `sim::<name>` against the simulator, `real::<name>` (ignored unless
/// a real store is named) against the real store.
macro_rules! against_both {
    ($($name:ident),* $(,)?) => {
        mod sim {
            $(
                #[tokio::test(flavor = "multi_thread")]
                async fn $name() {
                    crate::contract::$name(crate::target::Target::sim().await).await
                }
            )*
        }
        mod real {
            $(
                #[tokio::test(flavor = "multi_thread")]
                #[ignore = "needs a real store: cargo xtask test-php"]
                async fn $name() {
                    crate::contract::$name(crate::target::Target::real()).await
                }
            )*
        }
    };
}

against_both!(
    products_and_variations_by_sku_over_oauth,
    basic_auth_over_https_behind_a_tls_proxy,
    paging_headers_count_and_link_the_pages,
    an_order_with_a_coupon_a_fee_shipping_and_tax_reads_to_the_cent,
    batch_stock_writes_fail_item_by_item,
    the_atomic_stock_route_applies_once_and_fails_item_by_item,
    a_webhook_is_created_pinged_unsigned_and_delivers_signed,
    a_webhook_disabled_by_failed_deliveries_is_re_enabled_and_the_sweep_finds_its_orders,
);
