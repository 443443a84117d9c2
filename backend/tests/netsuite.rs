//! The NetSuite client against the NetSuite simulator: the simulator verifies every signature and
//! token with its own, independent implementation, answers with NetSuite's bodies, and counts
//! what it saw, so these tests check the client by the other side's counts.

use std::time::Duration;

use serde_json::{Value, json};
use wns::netsuite::{
    AuthSettings, ErrorClass, ExternalId, Governor, GovernorSettings, JwtAlgorithm, Lane, NetSuiteClient,
    NetSuiteSettings, NsError, OAuth2Credentials, RecordKey, TbaCredentials,
    suiteql::{WindowedQuery, in_list, literal},
};
use wns_sim::netsuite::{
    self as sim, Faults, LatencyProfile, NetSuiteConfig, NetSuiteSim, OAuth2Client, RunningNetSuite, SeedItem,
};

const TESTDATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../sim/testdata");

fn tba(consumer_secret: &str, token_secret: &str) -> AuthSettings {
    AuthSettings::Tba(TbaCredentials::new(sim::TEST_CONSUMER_KEY, consumer_secret, sim::TEST_TOKEN_ID, token_secret))
}

fn settings(ns: &RunningNetSuite, auth: AuthSettings, limit: usize) -> NetSuiteSettings {
    NetSuiteSettings {
        base_url: Some(ns.base_url.clone()),
        governor: GovernorSettings { concurrency_limit: limit, ..GovernorSettings::default() },
        request_timeout_secs: 5,
        ..NetSuiteSettings::new("1234567_SB1", auth)
    }
}

fn client(ns: &RunningNetSuite) -> NetSuiteClient {
    client_with(ns, tba(sim::TEST_CONSUMER_SECRET, sim::TEST_TOKEN_SECRET), 5)
}

fn client_with(ns: &RunningNetSuite, auth: AuthSettings, limit: usize) -> NetSuiteClient {
    let s = settings(ns, auth, limit);
    NetSuiteClient::new(&s, Governor::local(&s.governor)).unwrap()
}

async fn simulator() -> RunningNetSuite {
    wns::testing::init_logs();
    NetSuiteSim::spawn(NetSuiteConfig::for_tests()).await.unwrap()
}

fn eid(s: &str) -> ExternalId {
    ExternalId::parse(s).unwrap()
}

fn customer(name: &str) -> Value {
    json!({ "companyName": name, "email": format!("{}@example.com", name.to_lowercase().replace(' ', ".")), "subsidiary": { "id": "1" } })
}

#[tokio::test]
async fn signed_requests_verify_in_the_simulator_and_upserts_find_their_record() {
    let ns = simulator().await;
    let c = client(&ns);
    let first = c.upsert(Lane::Orders, "customer", &eid("wc-shop-customer-7"), &customer("Ada Shop")).await.unwrap();
    let again =
        c.upsert(Lane::Orders, "customer", &eid("wc-shop-customer-7"), &customer("Ada Shop Ltd")).await.unwrap();
    assert_eq!(first, again, "the same external id is the same record");
    assert_eq!(ns.sim.record_count("customer"), 1);
    let got = c.get(Lane::Orders, "customer", &RecordKey::Internal(first.id.clone()), false).await.unwrap().unwrap();
    assert_eq!(got["companyName"], "Ada Shop Ltd");
    assert!(c.get(Lane::Orders, "customer", &RecordKey::Internal("999999".into()), false).await.unwrap().is_none());
    assert_eq!(ns.sim.counters().auth_failures, 0);
}

#[tokio::test]
async fn wrong_credentials_are_fatal_and_stop_further_requests() {
    let ns = simulator().await;
    let c = client_with(&ns, tba(sim::TEST_CONSUMER_SECRET, "not-the-token-secret"), 5);
    let err = c.upsert(Lane::Orders, "customer", &eid("wc-shop-customer-1"), &customer("A")).await.unwrap_err();
    assert_eq!(err.class(), ErrorClass::Fatal);
    assert!(err.netsuite_message().contains("Invalid login attempt"), "{err}");
    for _ in 0..20 {
        let again = c.upsert(Lane::Orders, "customer", &eid("wc-shop-customer-1"), &customer("A")).await.unwrap_err();
        assert!(matches!(again, NsError::AuthSuspended { .. }), "{again}");
    }
    assert_eq!(ns.sim.counters().auth_failures, 1, "one failed login, not a retry storm");
}

#[tokio::test]
async fn a_write_committed_whose_answer_is_lost_is_repeated_and_leaves_one_record() {
    let ns = simulator().await;
    let c = client(&ns);
    ns.sim.set_faults(Faults { lost_response_rate: 1.0, ..Faults::default() });
    let upsert = tokio::spawn({
        let c = c.clone();
        async move { c.upsert(Lane::Orders, "customer", &eid("wc-shop-customer-42"), &customer("Lost Answer")).await }
    });
    // The first answer is lost after the write committed; heal the network before the repeat
    // (the client waits a few hundred milliseconds before it).
    while ns.sim.counters().responses_lost == 0 {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    ns.sim.set_faults(Faults::default());
    let r = upsert.await.unwrap().expect("the repeated upsert succeeds");
    assert_eq!(ns.sim.record_count("customer"), 1, "exactly one record although the write ran twice");
    assert!(ns.sim.find_by_external_id("customer", "wc-shop-customer-42").is_some());
    assert!(!r.id.is_empty());
}

#[tokio::test]
async fn a_plain_create_whose_answer_is_lost_is_not_repeated() {
    let ns = simulator().await;
    let c = client(&ns);
    ns.sim.set_faults(Faults { lost_response_rate: 1.0, ..Faults::default() });
    let err = c.create(Lane::Orders, "customer", &customer("Once")).await.unwrap_err();
    assert!(matches!(err, NsError::Transport { .. }), "{err}");
    assert_eq!(err.class(), ErrorClass::Retry);
    assert_eq!(ns.sim.record_count("customer"), 1, "the write happened once and the client did not repeat it");
}

#[tokio::test]
async fn server_errors_on_reads_and_upserts_are_retried_within_the_budget() {
    let ns = simulator().await;
    let c = client(&ns);
    ns.sim.set_faults(Faults { server_error_rate: 0.3, ..Faults::default() });
    let mut ok = 0;
    for i in 0..40 {
        if c.upsert(Lane::Orders, "customer", &eid(&format!("wc-shop-customer-{i}")), &customer(&format!("C {i}")))
            .await
            .is_ok()
        {
            ok += 1;
        }
    }
    assert!(ns.sim.counters().server_errors_injected > 0, "faults were injected");
    assert!(ok >= 38, "with 3 repeats nearly every upsert gets through: {ok}/40");
    assert_eq!(ns.sim.record_count("customer"), ok);
}

#[tokio::test]
async fn netsuite_refusals_need_a_person_and_keep_netsuites_words() {
    let ns = simulator().await;
    let c = client(&ns);
    let err = c
        .upsert(Lane::Orders, "customer", &eid("wc-shop-customer-9"), &json!({ "subsidiary": { "id": "1" } }))
        .await
        .unwrap_err();
    assert_eq!(err.class(), ErrorClass::NeedsPerson);
    assert!(err.netsuite_message().contains("USER_ERROR"), "{err}");
    let so = json!({ "entity": { "id": "424242" }, "item": { "items": [] } });
    let err = c.upsert(Lane::Orders, "salesOrder", &eid("wc-shop-order-9"), &so).await.unwrap_err();
    assert_eq!(err.class(), ErrorClass::NeedsPerson);
    assert_eq!(err.error_path(), Some("entity"), "{err}");
}

#[tokio::test]
async fn suiteql_finds_hostile_skus_exactly() {
    let ns = simulator().await;
    let hostile = ["O'Brien -- 1", "x' OR '1'='1", "雪-🦀", "semi;colon", "back\\slash"];
    for sku in hostile {
        ns.sim.seed_item(SeedItem::new(sku));
    }
    ns.sim.seed_item(SeedItem::new("O"));
    let c = client(&ns);
    for sku in hostile {
        let q = format!("SELECT id, itemid FROM item WHERE itemid = {}", literal(sku));
        let page = c.suiteql_page(Lane::StockReads, &q, 10, 0).await.unwrap();
        assert_eq!(page.items.len(), 1, "{sku:?}");
        assert_eq!(page.items[0].get("itemid"), Some(sku));
    }
    let q = format!("SELECT id, itemid FROM item WHERE itemid IN {}", in_list(hostile));
    assert_eq!(c.suiteql_page(Lane::StockReads, &q, 10, 0).await.unwrap().items.len(), hostile.len());
}

#[tokio::test]
async fn suiteql_reads_past_the_100k_row_cap_by_windowing() {
    let ns = simulator().await;
    let n = 100_250;
    for i in 0..n {
        ns.sim.seed_item(SeedItem::new(&format!("SKU-{i:06}")));
    }
    let c = client(&ns);
    let q = WindowedQuery::new("SELECT id, itemid FROM item", "id");
    let rows = c.suiteql_all(Lane::StockReads, &q).await.unwrap();
    assert_eq!(rows.len(), n);
    let mut ids: Vec<i64> = rows.iter().map(|r| r.get_i64("id").unwrap()).collect();
    ids.dedup();
    assert_eq!(ids.len(), n, "no row twice, none missing");
}

#[tokio::test]
async fn an_async_batch_upserts_all_but_the_bad_record_which_fails_alone() {
    let ns = simulator().await;
    let c = client(&ns);
    let records: Vec<(ExternalId, Value)> = (0..10)
        .map(|i| {
            let body = if i == 6 { json!({ "subsidiary": { "id": "1" } }) } else { customer(&format!("Batch {i}")) };
            (eid(&format!("wc-shop-customer-b{i}")), body)
        })
        .collect();
    let results = c.batch_upsert(Lane::Orders, "customer", &records, Duration::from_millis(10)).await.unwrap();
    assert_eq!(results.len(), 10);
    for (i, r) in results.iter().enumerate() {
        assert_eq!(r.external_id, records[i].0);
        match (&r.result, i) {
            (Err(e), 6) => assert_eq!(e.class(), ErrorClass::NeedsPerson, "{e}"),
            (Ok(_), i) if i != 6 => {}
            (other, i) => panic!("record {i}: {other:?}"),
        }
    }
    assert_eq!(ns.sim.record_count("customer"), 9);
}

#[tokio::test]
async fn a_sales_order_becomes_an_item_fulfilment_that_updates_quantities() {
    let ns = simulator().await;
    let loc = ns.sim.seed_location("Main warehouse");
    let item = ns.sim.seed_item(SeedItem::new("TSHIRT-M"));
    ns.sim.set_stock(&item, &loc, 10, 10);
    let c = client(&ns);
    let cust = c.upsert(Lane::Orders, "customer", &eid("wc-shop-customer-5"), &customer("Buyer")).await.unwrap();
    let so = json!({
        "entity": { "id": cust.id },
        "item": { "items": [ { "item": { "id": item }, "quantity": 3, "rate": 12.5, "location": { "id": loc } } ] }
    });
    let order = c.upsert(Lane::Orders, "salesOrder", &eid("wc-shop-order-5"), &so).await.unwrap();
    let body = json!({ "shipStatus": { "id": "C" } });
    let ful = c
        .transform(Lane::Fulfilment, "salesOrder", &RecordKey::Internal(order.id.clone()), "itemFulfillment", &body)
        .await
        .unwrap();
    assert_eq!(ful.record_type, "itemFulfillment");
    let got = c.get(Lane::Fulfilment, "salesOrder", &RecordKey::Internal(order.id), true).await.unwrap().unwrap();
    assert_eq!(got["item"]["items"][0]["quantityFulfilled"].as_f64(), Some(3.0), "{got}");
    let q = format!("SELECT item, location, quantityonhand FROM inventoryitemlocations WHERE item = {item}");
    let page = c.suiteql_page(Lane::StockReads, &q, 10, 0).await.unwrap();
    assert_eq!(page.items[0].get("quantityonhand"), Some("7"));
}

#[tokio::test]
async fn once_the_limit_is_learned_429s_stay_under_one_percent() {
    let mut cfg = NetSuiteConfig::for_tests();
    cfg.concurrency_limit = 5;
    cfg.latency = LatencyProfile::fixed(Duration::from_millis(10));
    let ns = NetSuiteSim::spawn(cfg).await.unwrap();
    // wns is told the account allows 8: it must find out that only 5 are free.
    let c = client_with(&ns, tba(sim::TEST_CONSUMER_SECRET, sim::TEST_TOKEN_SECRET), 8);
    let burst = |from: usize| {
        let c = c.clone();
        async move {
            let tasks: Vec<_> = (0..24)
                .map(|t| {
                    let c = c.clone();
                    tokio::spawn(async move {
                        for i in (t..300).step_by(24) {
                            let e = eid(&format!("wc-shop-customer-{}", from + i));
                            c.upsert(Lane::Orders, "customer", &e, &customer("Load"))
                                .await
                                .expect("no request fails for good");
                        }
                    })
                })
                .collect();
            for t in tasks {
                t.await.unwrap();
            }
        }
    };
    burst(0).await;
    assert!(ns.sim.counters().throttled_429 > 0, "the configured limit was too high, so NetSuite said so");
    ns.sim.reset_counters();
    burst(1000).await;
    let after = ns.sim.counters();
    assert!(
        (after.throttled_429 as f64) < 0.01 * after.requests as f64,
        "{} of {} requests throttled after learning",
        after.throttled_429,
        after.requests
    );
    assert!(after.peak_in_flight <= 5);
}

fn oauth2(ns: &RunningNetSuite, alg: JwtAlgorithm, key_file: &str, pub_file: &str) -> AuthSettings {
    let private = std::fs::read_to_string(format!("{TESTDATA}/{key_file}")).unwrap();
    let public = std::fs::read_to_string(format!("{TESTDATA}/{pub_file}")).unwrap();
    ns.sim.add_oauth2_client(OAuth2Client {
        client_id: format!("client-{key_file}"),
        certificate_id: format!("cert-{key_file}"),
        public_key_pem: public,
    });
    AuthSettings::OAuth2(OAuth2Credentials {
        client_id: format!("client-{key_file}"),
        certificate_id: format!("cert-{key_file}"),
        private_key_pem: private.into(),
        algorithm: alg,
        scope: "rest_webservices".into(),
    })
}

#[tokio::test]
async fn oauth2_client_credentials_with_es256_and_ps256_mint_one_token_for_many_requests() {
    let ns = simulator().await;
    for (alg, key, public) in [
        (JwtAlgorithm::ES256, "ec-p256-test-only.pem", "ec-p256-test-only.pub.pem"),
        (JwtAlgorithm::PS256, "rsa-2048-test-only.pem", "rsa-2048-test-only.pub.pem"),
    ] {
        ns.sim.reset_counters();
        let c = client_with(&ns, oauth2(&ns, alg, key, public), 5);
        for i in 0..5 {
            let e = eid(&format!(
                "wc-shop-customer-{key_id}-{i}",
                key_id = if alg == JwtAlgorithm::ES256 { "es" } else { "ps" }
            ));
            c.upsert(Lane::Orders, "customer", &e, &customer("Token User")).await.unwrap();
        }
        let counters = ns.sim.counters();
        assert_eq!(counters.auth_failures, 0, "{alg:?}");
        let tokens: u64 = counters.requests_by_op.iter().filter(|(op, _)| op.contains("token")).map(|(_, n)| *n).sum();
        assert_eq!(tokens, 1, "{alg:?}: one token for five requests: {:?}", counters.requests_by_op);
    }
}

#[tokio::test]
async fn an_oauth2_key_the_simulator_does_not_know_is_refused_as_fatal() {
    let ns = simulator().await;
    let AuthSettings::OAuth2(mut creds) =
        oauth2(&ns, JwtAlgorithm::ES256, "ec-p256-test-only.pem", "ec-p256-test-only.pub.pem")
    else {
        unreachable!()
    };
    creds.certificate_id = "cert-that-was-never-uploaded".into();
    let c = client_with(&ns, AuthSettings::OAuth2(creds), 5);
    let err = c.upsert(Lane::Orders, "customer", &eid("wc-shop-customer-1"), &customer("X")).await.unwrap_err();
    assert_eq!(err.class(), ErrorClass::Fatal, "{err}");
    assert_eq!(ns.sim.record_count("customer"), 0);
}
