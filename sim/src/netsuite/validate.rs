//! What NetSuite checks and computes when a record is saved: mandatory fields, references that
//! must name existing (active) records, and derived values such as line amounts and totals.
//! Money is `Decimal`, parsed from the JSON number's text, never from a float.
//!
//! Tax stands in for SuiteTax's per-line calculation (REST supports no legacy tax): with a
//! rate set up ([`Setup::tax_rate`]), each salesOrder/invoice/cashSale/creditMemo line that
//! brings no `taxAmount` gets `amount × rate` rounded half away from zero to the cent, and
//! the lines' tax makes `taxTotal` and goes into `total`. A line with `taxAmount` keeps it.

use std::str::FromStr;

use chrono::NaiveDate;
use rust_decimal::{Decimal, RoundingStrategy};
use serde_json::{Map, Value, json};

use super::error::NsError;
use super::store::{Fields, Store, ref_id};
use super::types::{Category, RecordType, canonical_field, is_reference_field};

/// A request body as stored: camelCase field names, select fields as `{"id": "<string>"}`,
/// read-only `id`/`links` dropped.
pub fn normalize_body(body: &[u8]) -> Result<Fields, NsError> {
    let value: Value = if body.iter().all(u8::is_ascii_whitespace) {
        Value::Object(Map::new())
    } else {
        serde_json::from_slice(body).map_err(|e| {
            // [INFERRED] wording; the code is the one Oracle documents for bad bodies.
            NsError::new(400, "INVALID_CONTENT", format!("Invalid content. The request body is not valid JSON: {e}"))
        })?
    };
    match value {
        Value::Object(map) => Ok(normalize_object(map)),
        _ => Err(NsError::new(400, "INVALID_CONTENT", "Invalid content. The request body must be a JSON object.")),
    }
}

pub fn normalize_object(map: Map<String, Value>) -> Fields {
    map.into_iter()
        .filter(|(k, _)| k != "links" && k != "id")
        .map(|(k, v)| {
            let k = canonical_field(&k);
            let v = normalize_value(&k, v);
            (k, v)
        })
        .collect()
}

fn normalize_value(key: &str, v: Value) -> Value {
    match v {
        Value::Object(mut m) if m.contains_key("items") => {
            if let Some(Value::Array(lines)) = m.remove("items") {
                let lines = lines
                    .into_iter()
                    .map(|l| match l {
                        Value::Object(o) => Value::Object(normalize_line(o)),
                        other => other,
                    })
                    .collect();
                m.insert("items".into(), Value::Array(lines));
            }
            m.remove("links");
            Value::Object(m)
        }
        Value::Object(m) if m.contains_key("id") => {
            let id = m.get("id").map(id_text).unwrap_or_default();
            json!({ "id": id })
        }
        Value::Object(m) => Value::Object(normalize_object(m)),
        Value::Number(_) | Value::String(_) if is_reference_field(key) => json!({ "id": id_text(&v) }),
        other => other,
    }
}

/// Lines keep their `line` key (the sublist key), unlike records whose `id` is read-only.
fn normalize_line(o: Map<String, Value>) -> Fields {
    let line = o.iter().find(|(k, _)| k.eq_ignore_ascii_case("line")).map(|(_, v)| v.clone());
    let mut out = normalize_object(o);
    if let Some(line) = line {
        out.insert("line".into(), line);
    }
    out
}

fn id_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A JSON number or numeric string as an exact decimal.
pub fn decimal(v: &Value) -> Option<Decimal> {
    match v {
        Value::Number(n) => {
            Decimal::from_str(&n.to_string()).or_else(|_| Decimal::from_scientific(&n.to_string())).ok()
        }
        Value::String(s) => Decimal::from_str(s.trim()).ok(),
        _ => None,
    }
}

pub fn number(d: Decimal) -> Value {
    serde_json::from_str(&d.normalize().to_string()).unwrap_or(Value::Null)
}

fn required(missing: &[&str]) -> Result<(), NsError> {
    if missing.is_empty() {
        Ok(())
    } else {
        Err(NsError::user_error(format!("Please enter value(s) for: {}.", missing.join(", "))))
    }
}

fn has_text(f: &Fields, k: &str) -> bool {
    f.get(k).and_then(Value::as_str).is_some_and(|s| !s.trim().is_empty())
}

/// How the account is set up where that changes what a save computes; read when the write
/// runs, so it can change while the simulator runs.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Setup {
    /// SuiteTax stand-in: the rate for lines that bring no `taxAmount` (0.2 for 20 %).
    pub tax_rate: Option<Decimal>,
}

/// Transactions whose lines NetSuite's tax engine taxes.
fn is_taxed(rtype: &RecordType) -> bool {
    matches!(rtype.name, "salesOrder" | "invoice" | "cashSale" | "creditMemo")
}

/// Checks `fields` (the whole record as it would be saved) and fills in derived fields.
pub fn validate(
    store: &Store,
    rtype: &RecordType,
    f: &mut Fields,
    today: NaiveDate,
    setup: &Setup,
) -> Result<(), NsError> {
    match rtype.category {
        Category::Entity if rtype.name == "customer" => customer(f),
        Category::Item => {
            required(if has_text(f, "itemId") { &[] } else { &["Item Name/Number"] })?;
            f.insert("itemType".into(), json!({ "id": rtype.code }));
            f.entry("isInactive").or_insert(Value::Bool(false));
            Ok(())
        }
        Category::Other if rtype.name == "location" => {
            required(if has_text(f, "name") { &[] } else { &["Name"] })?;
            f.entry("isInactive").or_insert(Value::Bool(false));
            Ok(())
        }
        Category::Transaction => transaction(store, rtype, f, today, setup),
        _ => Ok(()),
    }
}

/// Company name, or first and last name for individuals. [INFERRED] A body with first and last
/// name and no `isPerson` is taken as an individual: Oracle's own upsert example sends only
/// `firstName`/`lastName`.
fn customer(f: &mut Fields) -> Result<(), NsError> {
    let is_person = f.get("isPerson").and_then(Value::as_bool);
    let person_named = has_text(f, "firstName") && has_text(f, "lastName");
    if is_person == Some(true) || (is_person.is_none() && !has_text(f, "companyName") && person_named) {
        let mut missing = Vec::new();
        if !has_text(f, "firstName") {
            missing.push("First Name");
        }
        if !has_text(f, "lastName") {
            missing.push("Last Name");
        }
        required(&missing)?;
        f.insert("isPerson".into(), Value::Bool(true));
    } else {
        required(if has_text(f, "companyName") { &[] } else { &["Company Name"] })?;
        f.insert("isPerson".into(), Value::Bool(false));
    }
    if f.get("email").is_some_and(|v| !plausible_email(v)) {
        return Err(NsError::user_error("Please enter a valid email address.").at_path("email"));
    }
    if !has_text(f, "entityId") {
        let name = match f.get("companyName").and_then(Value::as_str) {
            Some(c) if !c.trim().is_empty() => c.to_string(),
            _ => format!("{} {}", f["firstName"].as_str().unwrap_or(""), f["lastName"].as_str().unwrap_or("")),
        };
        f.insert("entityId".into(), Value::String(name));
    }
    Ok(())
}

/// Absent (`null`) or empty is fine; otherwise text with something before and after an `@`
/// and no whitespace. Not RFC 5322, only what NetSuite's field check refuses for certain.
fn plausible_email(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) if s.trim().is_empty() => true,
        Value::String(s) => {
            let s = s.trim();
            !s.chars().any(char::is_whitespace)
                && s.rsplit_once('@').is_some_and(|(local, domain)| !local.is_empty() && !domain.is_empty())
        }
        _ => false,
    }
}

fn transaction(
    store: &Store,
    rtype: &RecordType,
    f: &mut Fields,
    today: NaiveDate,
    setup: &Setup,
) -> Result<(), NsError> {
    f.entry("tranDate").or_insert_with(|| Value::String(today.format("%Y-%m-%d").to_string()));
    let customer_field = if matches!(rtype.name, "customerRefund" | "customerPayment") { "customer" } else { "entity" };
    match f.get(customer_field).map(|v| (ref_id(v), v)) {
        Some((Some(id), _)) if store.get(id).is_some_and(|r| r.rtype.name == "customer") => {}
        Some((_, v)) => {
            let shown = v.get("id").map(id_text).unwrap_or_default();
            return Err(NsError::invalid_ref(&shown, customer_field, customer_field));
        }
        None if matches!(rtype.name, "salesOrder" | "invoice" | "creditMemo" | "cashSale" | "estimate") => {
            return required(&["Customer"]);
        }
        None => {}
    }
    check_location(store, f.get("location"), "location")?;
    match rtype.name {
        "journalEntry" => journal(f),
        "itemFulfillment" | "customerRefund" | "customerPayment" | "deposit" | "customerDeposit" => Ok(()),
        _ => item_lines(store, rtype, f, setup),
    }
}

fn check_location(store: &Store, v: Option<&Value>, path: &str) -> Result<(), NsError> {
    let Some(v) = v else { return Ok(()) };
    match ref_id(v) {
        Some(id) if store.get(id).is_some_and(|r| r.rtype.name == "location") => Ok(()),
        _ => Err(NsError::invalid_ref(&v.get("id").map(id_text).unwrap_or_default(), "location", path)),
    }
}

fn item_lines(store: &Store, rtype: &RecordType, f: &mut Fields, setup: &Setup) -> Result<(), NsError> {
    let is_order = rtype.name == "salesOrder";
    let tax_rate = setup.tax_rate.filter(|_| is_taxed(rtype));
    let subsidiary = f.get("subsidiary").and_then(|v| v.get("id")).map(id_text);
    let mut lines = f.get("item").and_then(|s| s.get("items")).and_then(Value::as_array).cloned().unwrap_or_default();
    if lines.is_empty() {
        return Err(NsError::user_error("You must enter at least one line item for this transaction."));
    }
    let mut next_line = lines.iter().filter_map(|l| l.get("line").and_then(decimal)).max().unwrap_or_default();
    let (mut subtotal, mut tax) = (Decimal::ZERO, Decimal::ZERO);
    for (n, line) in lines.iter_mut().enumerate() {
        let Value::Object(l) = line else { return Err(NsError::user_error("A sublist line must be an object.")) };
        let item = match l.get("item") {
            None => {
                return Err(NsError::user_error("Please enter value(s) for: Item.").at_path(format!("item.items[{n}]")));
            }
            Some(v) => v,
        };
        let record = ref_id(item).and_then(|id| store.get(id)).filter(|r| r.rtype.category == Category::Item);
        let record = match record {
            Some(r) if !r.bool_field("isInactive") => r,
            _ => {
                let shown = item.get("id").map(id_text).unwrap_or_default();
                return Err(NsError::invalid_ref(&shown, "item", format!("item.items[{n}].item")));
            }
        };
        if let (Some(sub), Some(sold_in)) = (&subsidiary, item_subsidiaries(record.fields.get("subsidiary")))
            && !sold_in.contains(sub)
        {
            return Err(NsError::item_not_in_subsidiary(&record.id.to_string(), sub, n));
        }
        check_location(store, l.get("location"), &format!("item.items[{n}].location"))?;
        let quantity = l.get("quantity").and_then(decimal).unwrap_or(Decimal::ONE);
        let rate = l.get("rate").and_then(decimal).or_else(|| record.fields.get("basePrice").and_then(decimal));
        let amount = match (l.get("amount").and_then(decimal), rate) {
            (Some(a), _) => a,
            (None, Some(r)) => quantity * r,
            (None, None) => Decimal::ZERO,
        };
        l.insert("quantity".into(), number(quantity));
        if let Some(r) = rate {
            l.insert("rate".into(), number(r));
        }
        l.insert("amount".into(), number(amount));
        if !l.contains_key("line") {
            next_line += Decimal::ONE;
            l.insert("line".into(), number(next_line));
        }
        if is_order {
            l.entry("quantityFulfilled").or_insert(json!(0));
            l.entry("isClosed").or_insert(Value::Bool(false));
        }
        if let (Some(rate), false) = (tax_rate, l.contains_key("taxAmount")) {
            let computed = (amount * rate).round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
            l.insert("taxAmount".into(), number(computed));
        }
        subtotal += amount;
        tax += l.get("taxAmount").and_then(decimal).unwrap_or_default();
    }
    let shipping = f.get("shippingCost").and_then(decimal).unwrap_or_default();
    f.insert("item".into(), json!({ "items": lines }));
    f.insert("subtotal".into(), number(subtotal));
    if !tax.is_zero() || tax_rate.is_some() {
        f.insert("taxTotal".into(), number(tax));
    }
    f.insert("total".into(), number(subtotal + shipping + tax));
    if is_order {
        f.entry("orderStatus").or_insert(json!({ "id": "B" }));
        order_status(f);
    }
    Ok(())
}

/// The subsidiaries an item is sold in: `None` when it has no subsidiary sublist (sold in every
/// subsidiary). The multi-select is `{"items":[{"id":…}]}`; a single `{"id":…}` is accepted too.
fn item_subsidiaries(v: Option<&Value>) -> Option<Vec<String>> {
    let v = v?;
    let ids = match v.get("items").and_then(Value::as_array) {
        Some(lines) => lines.iter().filter_map(|l| l.get("id")).map(id_text).collect(),
        None => v.get("id").map(id_text).into_iter().collect(),
    };
    Some(ids)
}

fn journal(f: &mut Fields) -> Result<(), NsError> {
    let lines = f.get("line").and_then(|s| s.get("items")).and_then(Value::as_array).cloned().unwrap_or_default();
    if lines.is_empty() {
        return Err(NsError::user_error("You must enter at least one line item for this transaction."));
    }
    let sum = |k: &str| lines.iter().filter_map(|l| l.get(k).and_then(decimal)).sum::<Decimal>();
    let (debit, credit) = (sum("debit"), sum("credit"));
    if debit != credit {
        // [INFERRED] wording.
        return Err(NsError::user_error("The total of debit lines must equal the total of credit lines."));
    }
    f.insert("total".into(), number(debit));
    Ok(())
}

/// A sales order's status follows its lines: pending, partially fulfilled, fulfilled (pending
/// billing) or closed.
pub fn order_status(f: &mut Fields) {
    let lines = f.get("item").and_then(|s| s.get("items")).and_then(Value::as_array).cloned().unwrap_or_default();
    if lines.is_empty() {
        return;
    }
    let fulfilled = |l: &Value| l.get("quantityFulfilled").and_then(decimal).unwrap_or_default();
    let open = lines.iter().any(|l| {
        !l.get("isClosed").and_then(Value::as_bool).unwrap_or(false)
            && l.get("quantity").and_then(decimal).unwrap_or_default() > fulfilled(l)
    });
    let any_fulfilled = lines.iter().any(|l| fulfilled(l) > Decimal::ZERO);
    let current = f.get("orderStatus").and_then(|s| s.get("id")).and_then(Value::as_str).unwrap_or("B").to_string();
    let status = match (open, any_fulfilled) {
        (false, true) => "F",
        (false, false) => "H",
        (true, true) => "D",
        (true, false) if current == "A" => "A",
        (true, false) => "B",
    };
    f.insert("orderStatus".into(), json!({ "id": status }));
}
