//! WooCommerce Payments: charges, refunds and disputes as integer-cent transactions, swept
//! into deposits by a payout, read back through `/payments/deposits` and `/payments/transactions`.

mod woo_support;

use rust_decimal::Decimal;
use wns_sim::woo::json::OJson;
use wns_sim::woo::{Address, Checkout, NewProduct, PayoutSpec, RefundLine};
use woo_support::*;

fn int(v: &OJson, key: &str) -> i64 {
    v.get(key).and_then(OJson::as_i64).unwrap_or_else(|| panic!("{key} in {v:?}"))
}

#[tokio::test]
async fn a_payout_sweeps_charges_refunds_and_disputes_into_one_deposit() {
    let (running, c) = start().await;
    let sim = &running.sim;
    let mug = sim.add_product(NewProduct::new("Mug", "MUG", Decimal::new(2000, 2)).stock(50));
    let a = sim.checkout(Checkout::guest(Address::us_ca()).line(mug, 1)).unwrap();
    let b = sim.checkout(Checkout::guest(Address::gb()).line(mug, 2)).unwrap();
    assert_eq!((a.total, b.total), (Decimal::new(2145, 2), Decimal::new(4800, 2)));
    sim.refund(b.id, None, &[RefundLine::item(b.lines[0].item_id, 1)], "One broke").unwrap();
    sim.add_dispute(a.id, None).unwrap();
    let meta = sim.order(a.id).unwrap()["meta_data"].clone();
    assert!(meta.as_array().unwrap().iter().any(|m| m["key"] == "_wcpay_transaction_fee" && m["value"] == "0.92"));

    let open = c.get("/payments/transactions").await.json();
    let rows = open.get("data").and_then(OJson::as_array).unwrap().to_vec();
    assert_eq!(rows.len(), 4);
    assert!(rows.iter().all(|t| t.get("deposit_status") == Some(&OJson::str("estimated"))));

    let deposit = sim.create_payout(PayoutSpec::default()).unwrap();
    let listed = c.get("/payments/deposits").await.json();
    assert_eq!(int(&listed, "total_count"), 1);
    let d = c.get(&format!("/payments/deposits/{deposit}")).await.json();
    // charges 2145 + 4800, fees 92 + 169, refund -2400, dispute -2145 and its 1500 fee.
    assert_eq!(
        (int(&d, "amount"), d.get("status")),
        (2145 - 92 + 4800 - 169 - 2400 - 2145 - 1500, Some(&OJson::str("paid")))
    );
    assert!(int(&d, "date") > int(&d, "created") * 1000, "arrival in ms after creation in s");
    let in_deposit = c.get(&format!("/payments/transactions?deposit_id={deposit}")).await.json();
    let rows = in_deposit.get("data").and_then(OJson::as_array).unwrap().to_vec();
    let net: i64 = rows.iter().map(|t| int(t, "net")).sum();
    assert_eq!(net, int(&d, "amount"));
    let kinds: Vec<&str> = rows.iter().map(|t| t.get("type").and_then(OJson::as_str).unwrap()).collect();
    assert_eq!(kinds, ["dispute", "refund", "charge", "charge"]);
    assert!(rows.iter().all(|t| int(t, "order_id") > 0 && t.get("deposit_status") == Some(&OJson::str("paid"))));
    assert!(sim.create_payout(PayoutSpec::default()).is_err(), "nothing left to pay out");
}

#[tokio::test]
async fn an_unknown_deposit_is_a_500_and_anonymous_callers_are_refused() {
    let (_running, c) = start().await;
    let a = c.get("/payments/deposits/po_nope").await;
    assert_eq!((a.status, a.json().get("data")), (500, Some(&OJson::Null)));
    let anonymous = c.http.get(c.url("/payments/deposits")).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
}

#[tokio::test]
async fn an_offline_gateway_cannot_refund_through_the_api_but_can_record_a_manual_refund() {
    let (running, c) = start().await;
    let sim = &running.sim;
    let mug = sim.add_product(NewProduct::new("Mug", "MUG", Decimal::TEN).stock(5));
    let order =
        sim.checkout(Checkout::guest(Address::us_ca()).line(mug, 1).pay_with("bacs", "Direct bank transfer")).unwrap();
    let item = order.lines[0].item_id;
    let body = OJson::parse(
        format!(r#"{{"amount":"5.00","line_items":[{{"id":{item},"quantity":1,"refund_total":"5.00"}}]}}"#).as_bytes(),
    )
    .unwrap();
    let a = c.post(&format!("/orders/{}/refunds", order.id), &body).await;
    assert_eq!(
        (a.status, a.json().get("message")),
        (500, Some(&OJson::str("The payment gateway for this order does not support automatic refunds.")))
    );
    let manual = OJson::parse(format!(r#"{{"amount":"5.00","api_refund":false,"line_items":[{{"id":{item},"quantity":1,"refund_total":"5.00"}}]}}"#).as_bytes()).unwrap();
    let a = c.post(&format!("/orders/{}/refunds", order.id), &manual).await;
    assert_eq!((a.status, a.json().get("refunded_payment")), (201, Some(&OJson::Bool(false))));
}
