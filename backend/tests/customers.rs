//! Customers before orders, against the NetSuite simulator, on SQLite and PostgreSQL: each match
//! rule in its turn, and never a second customer for the same buyer.

#[macro_use]
#[path = "support/both.rs"]
mod both;

use serde_json::json;
use wns::{
    netsuite::{AuthSettings, Governor, Lane, NetSuiteClient, NetSuiteSettings, TbaCredentials},
    store::{Backend, Store},
    sync::customers::{Buyer, CustomerSync, MatchRule},
    testing::TestDb,
};
use wns_sim::netsuite::{self as sim, NetSuiteConfig, NetSuiteSim, RunningNetSuite};

struct Harness {
    _db: TestDb,
    store: Store,
    ns: RunningNetSuite,
    client: NetSuiteClient,
}

async fn harness(backend: Backend) -> Harness {
    wns::testing::init_logs();
    let db = TestDb::new(backend).await;
    let store = db.store(4).await;
    let ns = NetSuiteSim::spawn(NetSuiteConfig::for_tests()).await.unwrap();
    let auth = AuthSettings::Tba(TbaCredentials::new(
        sim::TEST_CONSUMER_KEY,
        sim::TEST_CONSUMER_SECRET,
        sim::TEST_TOKEN_ID,
        sim::TEST_TOKEN_SECRET,
    ));
    let settings = NetSuiteSettings {
        base_url: Some(ns.base_url.clone()),
        request_timeout_secs: 5,
        ..NetSuiteSettings::new("1234567_SB1", auth)
    };
    let client = NetSuiteClient::new(&settings, Governor::local(&settings.governor)).unwrap();
    Harness { _db: db, store, ns, client }
}

impl Harness {
    fn sync(&self) -> CustomerSync {
        CustomerSync::new(self.client.clone(), self.store.clone(), "shop", "1")
    }
}

fn guest(email: &str) -> Buyer {
    Buyer { email: email.into(), first_name: "Sam".into(), last_name: "Guest".into(), ..Buyer::default() }
}

async fn a_new_guest_is_created_once_and_found_again_whatever_the_case_of_the_email(backend: Backend) {
    let h = harness(backend).await;
    let first = h.sync().ensure(&guest("Sam.Guest@Example.org"), 1).await.unwrap();
    assert_eq!(first.rule, MatchRule::Created);
    let again = h.sync().ensure(&guest("sam.guest@example.ORG "), 2).await.unwrap();
    assert_eq!((again.netsuite_id.as_str(), again.rule), (first.netsuite_id.as_str(), MatchRule::LinkedId));
    assert_eq!(h.ns.sim.record_count("customer"), 1, "one customer for one buyer");
    use sha2::Digest;
    let hash: String =
        sha2::Sha256::digest(b"sam.guest@example.org").iter().take(8).map(|b| format!("{b:02x}")).collect();
    let created =
        h.ns.sim.find_by_external_id("customer", &format!("wc-shop-guest-{hash}")).expect("created by its external id");
    assert_eq!(created["email"], "Sam.Guest@Example.org", "the e-mail as the buyer typed it");
}

async fn a_guest_created_before_the_link_was_written_is_found_by_external_id(backend: Backend) {
    let h = harness(backend).await;
    let created = h.sync().ensure(&guest("lost.link@example.org"), 1).await.unwrap();
    // A crash between NetSuite's answer and our link, or a restored backup: the link is gone.
    sqlx::query("delete from customer_links").execute(h.store.pool()).await.unwrap();
    let found = h.sync().ensure(&guest("lost.link@example.org"), 2).await.unwrap();
    assert_eq!((found.netsuite_id, found.rule), (created.netsuite_id, MatchRule::ExternalId));
    assert_eq!(h.ns.sim.record_count("customer"), 1);
}

async fn a_customer_already_in_netsuite_is_matched_by_email(backend: Backend) {
    let h = harness(backend).await;
    let body = json!({ "companyName": "Existing Ltd", "email": "Buyer@Example.org", "subsidiary": { "id": "1" } });
    let existing = h.client.create(Lane::Orders, "customer", &body).await.unwrap();
    let m = h.sync().ensure(&guest("buyer@example.org"), 1).await.unwrap();
    assert_eq!((m.netsuite_id, m.rule), (existing.id, MatchRule::Email));
    assert_eq!(h.ns.sim.record_count("customer"), 1, "no duplicate of the shop's existing customer");
}

async fn a_registered_customer_is_upserted_by_its_woocommerce_id(backend: Backend) {
    let h = harness(backend).await;
    let jane = Buyer { wc_customer_id: 2, ..guest("jane@example.com") };
    let m = h.sync().ensure(&jane, 1).await.unwrap();
    assert_eq!(m.rule, MatchRule::ExternalId);
    assert!(h.ns.sim.find_by_external_id("customer", "wc-shop-customer-2").is_some());
    let again = h.sync().ensure(&jane, 2).await.unwrap();
    assert_eq!((again.netsuite_id, again.rule), (m.netsuite_id, MatchRule::LinkedId));
    assert_eq!(h.ns.sim.record_count("customer"), 1);
}

async fn a_buyer_without_an_email_is_refused_with_what_to_do(backend: Backend) {
    let h = harness(backend).await;
    let err = h.sync().ensure(&guest("  "), 1).await.unwrap_err().to_string();
    assert!(err.contains("add one to the order's billing details"), "{err}");
    assert_eq!(h.ns.sim.record_count("customer"), 0);
}

on_both_databases!(
    a_new_guest_is_created_once_and_found_again_whatever_the_case_of_the_email,
    a_guest_created_before_the_link_was_written_is_found_by_external_id,
    a_customer_already_in_netsuite_is_matched_by_email,
    a_registered_customer_is_upserted_by_its_woocommerce_id,
    a_buyer_without_an_email_is_refused_with_what_to_do,
);
