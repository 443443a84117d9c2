//! WooCommerce Payments (WooPayments): the money side of orders paid with the
//! `woocommerce_payments` gateway. A paid order gets a charge transaction (fee 2.9 % + 30 ¢) and
//! the order meta WooPayments writes (decimals there, integer cents in the REST API); refunds and
//! disputes add negative transactions; a payout sweeps every unpaid transaction into a deposit.
//! Shapes follow WooPayments' REST docs: `{"data":[…],"total_count":N}` for deposits,
//! `{"data":[…]}` for transactions, deposit dates in milliseconds, `created` in seconds.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::Serialize;

use super::WooSim;
use super::error::WooError;
use super::http::{Reply, Req, int_param};
use super::json::OJson;
use super::money::{fmt2, to_cents};
use super::store::Store;

pub(crate) const GATEWAY: &str = "woocommerce_payments";

#[derive(Debug, Clone)]
pub(crate) struct Txn {
    pub id: String,
    pub kind: &'static str,
    pub date: DateTime<Utc>,
    pub amount: i64,
    pub fees: i64,
    pub order_id: u64,
    pub charge_id: String,
    pub intent_id: String,
    pub customer_name: String,
    pub customer_email: String,
    pub customer_country: String,
    pub currency: String,
    pub deposit_id: Option<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct Deposit {
    pub id: String,
    pub arrival: DateTime<Utc>,
    pub created: DateTime<Utc>,
    pub amount: i64,
    pub status: String,
    pub currency: String,
}

#[derive(Debug, Default)]
pub(crate) struct Payments {
    pub transactions: Vec<Txn>,
    pub deposits: Vec<Deposit>,
}

fn stripe_id(store: &mut Store, prefix: &str) -> String {
    format!("{prefix}_{}", store.random_alnum(24))
}

/// Records the charge of a WooPayments order the first time it is paid. [INFERRED] Fees are
/// the US card rate, 2.9 % + 30 ¢; the meta keys are WooPayments' own (see the reference).
pub(crate) fn on_paid(store: &mut Store, order_id: u64) {
    let Some(o) = store.orders.get(&order_id) else { return };
    if o.payment_method != GATEWAY || o.meta_str("_charge_id").is_some() || o.date_paid.is_none() {
        return;
    }
    let (amount, currency) = (to_cents(o.totals.total), o.currency.clone());
    let fees = to_cents(Decimal::from(amount) * Decimal::new(29, 3) / Decimal::ONE_HUNDRED) + 30;
    let (intent, charge, txn) = (stripe_id(store, "pi"), stripe_id(store, "ch"), stripe_id(store, "txn"));
    let o = store.orders[&order_id].clone();
    let mut meta = o.meta.clone();
    let cents = |c: i64| OJson::Str(fmt2(Decimal::new(c, 2)));
    for (key, value) in [
        ("_intent_id", OJson::str(&intent)),
        ("_charge_id", OJson::str(&charge)),
        ("_wcpay_transaction_fee", cents(fees)),
        ("_wcpay_net", cents(amount - fees)),
        ("_wcpay_intent_currency", OJson::str(&currency)),
        ("_wcpay_payment_transaction_id", OJson::str(&txn)),
        ("_wcpay_mode", OJson::str("test")),
    ] {
        store.upsert_meta(&mut meta, None, key, value);
    }
    let now = store.now();
    let stored = store.orders.get_mut(&order_id).expect("order exists");
    stored.meta = meta;
    if stored.transaction_id.is_empty() {
        stored.transaction_id = intent.clone();
    }
    store.payments.transactions.push(Txn {
        id: txn,
        kind: "charge",
        date: now,
        amount,
        fees,
        order_id,
        charge_id: charge,
        intent_id: intent,
        customer_name: format!("{} {}", o.billing.first_name, o.billing.last_name).trim().to_owned(),
        customer_email: o.billing.email.clone(),
        customer_country: o.billing.country.clone(),
        currency: currency.to_lowercase(),
        deposit_id: None,
    });
}

/// `wc_refund_payment`'s gateway checks.
pub(crate) fn check_gateway_refund(store: &Store, order_id: u64) -> Result<(), &'static str> {
    match store.orders[&order_id].payment_method.as_str() {
        GATEWAY | "stripe" | "ppcp-gateway" => Ok(()),
        "bacs" | "cheque" | "cod" => Err("The payment gateway for this order does not support automatic refunds."),
        _ => Err("The payment gateway for this order does not exist."),
    }
}

fn negative_txn(store: &mut Store, order_id: u64, kind: &'static str, amount: i64, fees: i64) -> Option<String> {
    let charge = store.payments.transactions.iter().find(|t| t.order_id == order_id && t.kind == "charge")?.clone();
    let id = stripe_id(store, "txn");
    let date = store.now();
    store.payments.transactions.push(Txn {
        id: id.clone(),
        kind,
        date,
        amount: -amount,
        fees,
        deposit_id: None,
        ..charge
    });
    Some(id)
}

/// A refund through WooPayments: a negative transaction and the refund ids in the order meta.
pub(crate) fn on_refund(store: &mut Store, order_id: u64, amount: Decimal) {
    let Some(txn) = negative_txn(store, order_id, "refund", to_cents(amount), 0) else { return };
    let refund_id = stripe_id(store, "re");
    let mut meta = store.orders[&order_id].meta.clone();
    store.upsert_meta(&mut meta, None, "_wcpay_refund_id", OJson::Str(refund_id));
    store.upsert_meta(&mut meta, None, "_wcpay_refund_transaction_id", OJson::Str(txn));
    store.orders.get_mut(&order_id).expect("order exists").meta = meta;
}

/// A lost dispute: the disputed amount and Stripe's $15 fee leave the balance.
pub(crate) fn dispute(store: &mut Store, order_id: u64, amount: Option<Decimal>) -> Option<String> {
    let total = store.orders.get(&order_id)?.totals.total;
    negative_txn(store, order_id, "dispute", to_cents(amount.unwrap_or(total)), 1500)
}

/// Sweeps every transaction not yet paid out into one deposit.
pub(crate) fn payout(store: &mut Store, status: &str, arrival: Option<NaiveDate>) -> Option<String> {
    let currency = store.currency.to_lowercase();
    let open: Vec<usize> = (0..store.payments.transactions.len())
        .filter(|&i| {
            store.payments.transactions[i].deposit_id.is_none() && store.payments.transactions[i].currency == currency
        })
        .collect();
    if open.is_empty() {
        return None;
    }
    let id = stripe_id(store, "po");
    let amount = open.iter().map(|&i| net(&store.payments.transactions[i])).sum();
    for &i in &open {
        store.payments.transactions[i].deposit_id = Some(id.clone());
    }
    let created = store.now();
    let arrival =
        arrival.and_then(|d| d.and_hms_opt(0, 0, 0)).map(|d| d.and_utc()).unwrap_or(created + Duration::days(2));
    store.payments.deposits.push(Deposit {
        id: id.clone(),
        arrival,
        created,
        amount,
        status: status.to_owned(),
        currency,
    });
    Some(id)
}

fn net(t: &Txn) -> i64 {
    t.amount - t.fees
}

#[derive(Serialize)]
#[allow(non_snake_case)]
struct DepositJson<'a> {
    id: &'a str,
    date: i64,
    #[serde(rename = "type")]
    kind: &'static str,
    amount: i64,
    status: &'a str,
    bankAccount: String,
    currency: &'a str,
    automatic: bool,
    fee: i64,
    fee_percentage: i64,
    created: i64,
}

fn deposit_json(d: &Deposit) -> DepositJson<'_> {
    DepositJson {
        id: &d.id,
        date: d.arrival.timestamp_millis(),
        kind: if d.amount < 0 { "withdrawal" } else { "deposit" },
        amount: d.amount,
        status: &d.status,
        bankAccount: format!("STRIPE TEST BANK \u{2022}\u{2022}\u{2022}\u{2022} 6789 ({})", d.currency.to_uppercase()),
        currency: &d.currency,
        automatic: true,
        fee: 0,
        fee_percentage: 0,
        created: d.created.timestamp(),
    }
}

#[derive(Serialize)]
struct OrderRef {
    number: String,
    url: String,
    customer_url: String,
    subscriptions: [(); 0],
}

#[derive(Serialize)]
struct TxnJson<'a> {
    transaction_id: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
    channel: &'static str,
    date: String,
    source: &'static str,
    source_identifier: &'static str,
    customer_name: &'a str,
    customer_email: &'a str,
    customer_country: &'a str,
    amount: i64,
    net: i64,
    fees: i64,
    currency: &'a str,
    risk_level: Option<i64>,
    charge_id: &'a str,
    deposit_id: String,
    available_on: String,
    exchange_rate: i64,
    customer_amount: i64,
    customer_currency: &'a str,
    loan_id: Option<String>,
    order_id: u64,
    amount_in_usd: i64,
    source_device: Option<String>,
    deposit_status: String,
    order: OrderRef,
    payment_intent_id: &'a str,
}

fn txn_json<'a>(store: &Store, t: &'a Txn, base: &str) -> TxnJson<'a> {
    let deposit = t.deposit_id.as_ref().and_then(|id| store.payments.deposits.iter().find(|d| d.id == *id));
    let available = t.date + Duration::days(2);
    TxnJson {
        transaction_id: &t.id,
        kind: t.kind,
        channel: "online",
        date: t.date.format("%Y-%m-%d %H:%M:%S").to_string(),
        source: "visa",
        source_identifier: "4242",
        customer_name: &t.customer_name,
        customer_email: &t.customer_email,
        customer_country: &t.customer_country,
        amount: t.amount,
        net: net(t),
        fees: t.fees,
        currency: &t.currency,
        risk_level: Some(0),
        charge_id: &t.charge_id,
        deposit_id: match deposit {
            Some(d) => d.id.clone(),
            None => format!("wcpay_estimated_daily_{}_{}", t.currency, available.timestamp()),
        },
        available_on: available.format("%Y-%m-%d").to_string(),
        exchange_rate: 1,
        customer_amount: t.amount,
        customer_currency: &t.currency,
        loan_id: None,
        order_id: t.order_id,
        amount_in_usd: t.amount,
        source_device: None,
        deposit_status: deposit.map(|d| d.status.clone()).unwrap_or_else(|| "estimated".into()),
        order: OrderRef {
            number: t.order_id.to_string(),
            url: format!("{base}/wp-admin/post.php?post={}&action=edit", t.order_id),
            customer_url: "admin.php?page=wc-admin&path=/customers&filter=single_customer&customers=0".into(),
            subscriptions: [],
        },
        payment_intent_id: &t.intent_id,
    }
}

fn forbidden(req: &Req) -> Result<(), WooError> {
    req.require_auth("rest_forbidden", "Sorry, you are not allowed to do that.")
}

/// `page` from 1 and `pagesize` (WooPayments' own name) up to 100.
fn window(req: &Req) -> Result<(usize, usize), WooError> {
    let page = int_param(req, "page", Some((1, i64::MAX)))?.unwrap_or(1) as usize;
    let size = int_param(req, "pagesize", Some((1, 100)))?.unwrap_or(25) as usize;
    Ok(((page - 1) * size, size))
}

fn ascending(req: &Req) -> bool {
    req.str_param("direction").is_some_and(|d| d.eq_ignore_ascii_case("asc"))
}

pub(crate) fn deposits(sim: &WooSim, req: &Req) -> Result<Reply, WooError> {
    forbidden(req)?;
    let (skip, take) = window(req)?;
    let store = sim.store();
    let status = req.str_param("status_is");
    let mut list: Vec<&Deposit> =
        store.payments.deposits.iter().filter(|d| status.as_deref().is_none_or(|s| d.status == s)).collect();
    list.sort_by_key(|d| (d.arrival, d.created));
    if !ascending(req) {
        list.reverse();
    }
    let total = list.len();
    let data: Vec<_> = list.into_iter().skip(skip).take(take).map(deposit_json).collect();
    Ok(Reply::ok(&OJson::obj([("data", OJson::from_serialize(&data)), ("total_count", OJson::int(total as i64))])))
}

pub(crate) fn deposit(sim: &WooSim, req: &Req, id: &str) -> Result<Reply, WooError> {
    forbidden(req)?;
    let store = sim.store();
    match store.payments.deposits.iter().find(|d| d.id == id) {
        Some(d) => Ok(Reply::ok(&deposit_json(d))),
        // Documented: an unknown deposit is a 500. [INFERRED] The code and message are Stripe's.
        None => Err(WooError::with_data(
            500,
            "wcpay_resource_missing",
            format!("Error: No such payout: '{id}'"),
            OJson::Null,
        )),
    }
}

pub(crate) fn transactions(sim: &WooSim, req: &Req) -> Result<Reply, WooError> {
    forbidden(req)?;
    let (skip, take) = window(req)?;
    let store = sim.store();
    let deposit = req.str_param("deposit_id");
    let kind = req.str_param("type_is");
    let mut list: Vec<&Txn> = store
        .payments
        .transactions
        .iter()
        .filter(|t| deposit.as_deref().is_none_or(|d| t.deposit_id.as_deref() == Some(d)))
        .filter(|t| kind.as_deref().is_none_or(|k| t.kind == k))
        .collect();
    if !ascending(req) {
        list.reverse();
    }
    let data: Vec<_> = list.into_iter().skip(skip).take(take).map(|t| txn_json(&store, t, &req.base)).collect();
    Ok(Reply::ok(&OJson::obj([("data", OJson::from_serialize(&data))])))
}
