//! `POST /record/v1/{from}/{id}/!transform/{to}`: a new record initialised from an existing one.
//! Fulfilment is the one that matters to stock: it starts from every open order line, lets the
//! body skip (`itemReceive: false`) or shorten (`quantity`) lines keyed by `orderLine`, then
//! moves the quantities onto the order and out of the locations' stock in the same step:
//! committed units leave on hand and committed (available unchanged), uncommitted ones leave
//! on hand and available (see `apply_to_order`).

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde_json::{Value, json};

use super::error::NsError;
use super::records::{Key, create, resolve};
use super::render::value_text;
use super::store::{Fields, Record, Store, ref_id};
use super::types::{RecordType, record_type, transform_allowed};
use super::validate::{Setup, decimal, number, order_status};

pub fn transform(
    store: &mut Store,
    from: &'static RecordType,
    key: &Key,
    to: &'static RecordType,
    body: Fields,
    now: DateTime<Utc>,
    setup: &Setup,
) -> Result<u64, NsError> {
    let id = resolve(store, from, key)?;
    if !transform_allowed(from.name, to.name) {
        // [INFERRED] wording and code.
        return Err(NsError::invalid_parameter(format!(
            "Invalid transformation. Transformation of a {} to a {} is not supported.",
            from.name, to.name
        )));
    }
    let source = store.get(id).cloned().ok_or_else(NsError::nonexistent_id)?;
    if to.name == "itemFulfillment" {
        return fulfil(store, &source, body, now, setup);
    }
    let mut f = initial_copy(&source, to);
    for (k, v) in body {
        let merged = match (f.get(&k), &v) {
            (Some(Value::Object(old)), Value::Object(new))
                if old.contains_key("items") && new.contains_key("items") =>
            {
                let mut lines = old["items"].as_array().cloned().unwrap_or_default();
                lines.extend(new["items"].as_array().cloned().unwrap_or_default());
                json!({ "items": lines })
            }
            _ => v,
        };
        f.insert(k, merged);
    }
    create(store, to, f, now, setup)
}

/// What NetSuite copies into the new record: customer, subsidiary/location/currency, the open
/// item lines, and `createdFrom`.
fn initial_copy(source: &Record, to: &RecordType) -> Fields {
    let mut f = Fields::new();
    let source_ref = json!({ "id": source.id.to_string() });
    f.insert("createdFrom".into(), source_ref.clone());
    let customer = source.fields.get("entity").cloned();
    if to.name == "customerPayment" {
        if let Some(c) = customer {
            f.insert("customer".into(), c);
        }
        let total = source.fields.get("total").cloned().unwrap_or(json!(0));
        f.insert("payment".into(), total.clone());
        f.insert("apply".into(), json!({ "items": [{ "doc": source_ref, "apply": true, "amount": total }] }));
        return f;
    }
    if let Some(c) = customer {
        f.insert("entity".into(), c);
    }
    for k in ["subsidiary", "location", "currency", "department", "class"] {
        if let Some(v) = source.fields.get(k) {
            f.insert(k.into(), v.clone());
        }
    }
    let lines: Vec<Value> = source
        .lines("item")
        .iter()
        .filter(|l| !l.get("isClosed").and_then(Value::as_bool).unwrap_or(false))
        .map(|l| {
            let mut line = Fields::new();
            for k in ["item", "quantity", "rate", "amount", "location", "description", "taxAmount"] {
                if let Some(v) = l.get(k) {
                    line.insert(k.into(), v.clone());
                }
            }
            Value::Object(line)
        })
        .collect();
    f.insert("item".into(), json!({ "items": lines }));
    if to.name == "creditMemo" && source.rtype.name == "invoice" {
        let total = source.fields.get("total").cloned().unwrap_or(json!(0));
        f.insert("apply".into(), json!({ "items": [{ "doc": source_ref, "apply": true, "amount": total }] }));
    }
    f
}

struct Pick {
    order_index: usize,
    line: Value,
    quantity: Decimal,
    location: Option<u64>,
}

fn fulfil(
    store: &mut Store,
    order: &Record,
    mut body: Fields,
    now: DateTime<Utc>,
    setup: &Setup,
) -> Result<u64, NsError> {
    let requested =
        body.remove("item").and_then(|s| s.get("items").and_then(Value::as_array).cloned()).unwrap_or_default();
    let mut picks = open_lines(order);
    for (n, req) in requested.iter().enumerate() {
        let order_line = req.get("orderLine").map(value_text).unwrap_or_default();
        let Some(pick) = picks.iter_mut().find(|p| p.line.get("line").map(value_text) == Some(order_line.clone()))
        else {
            return Err(NsError::invalid_ref(&order_line, "orderLine", format!("item.items[{n}].orderLine")));
        };
        if req.get("itemReceive").and_then(Value::as_bool) == Some(false) {
            pick.quantity = Decimal::ZERO;
            continue;
        }
        if let Some(q) = req.get("quantity").and_then(decimal) {
            let remaining = remaining(&pick.line);
            if q <= Decimal::ZERO || q > remaining {
                // [INFERRED] wording.
                return Err(NsError::user_error(format!(
                    "You can not fulfill more than the remaining quantity ({remaining}) of order line {order_line}."
                ))
                .at_path(format!("item.items[{n}].quantity")));
            }
            pick.quantity = q;
        }
        if let Some(loc) = req.get("location").and_then(ref_id) {
            pick.location = Some(loc);
        }
    }
    picks.retain(|p| p.quantity > Decimal::ZERO);
    if picks.is_empty() {
        return Err(NsError::user_error("You must enter at least one line item for this transaction."));
    }
    resolve_locations(store, order, &mut picks)?;

    let lines: Vec<Value> = picks
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let mut l = json!({
                "item": p.line.get("item").cloned().unwrap_or(Value::Null),
                "itemReceive": true,
                "line": i + 1,
                "orderLine": p.line.get("line").cloned().unwrap_or(Value::Null),
                "quantity": number(p.quantity),
            });
            if let Some(loc) = p.location {
                l["location"] = json!({ "id": loc.to_string() });
            }
            l
        })
        .collect();
    let mut f = body;
    f.insert("createdFrom".into(), json!({ "id": order.id.to_string() }));
    if let Some(entity) = order.fields.get("entity") {
        f.insert("entity".into(), entity.clone());
    }
    f.entry("shipStatus").or_insert(json!({ "id": "C" }));
    f.insert("item".into(), json!({ "items": lines }));
    let tracking = number_packages(&mut f);
    let fulfilment_type = record_type("itemFulfillment").expect("itemFulfillment is a known type");
    if let Some(eid) = f.get("externalId").map(value_text) {
        if store.by_external_id(fulfilment_type, &eid).is_some() {
            return Err(NsError::user_error("This entity already exists."));
        }
        f.insert("externalId".into(), Value::String(eid));
    }
    super::validate::validate(store, fulfilment_type, &mut f, now.date_naive(), setup)?;

    // Everything checked: from here on the store changes.
    let id = store.insert(fulfilment_type, f, now);
    for number in tracking {
        store.add_tracking_number(id, &number);
    }
    apply_to_order(store, order.id, &picks, now);
    Ok(id)
}

fn remaining(line: &Value) -> Decimal {
    let q = line.get("quantity").and_then(decimal).unwrap_or_default();
    q - line.get("quantityFulfilled").and_then(decimal).unwrap_or_default()
}

fn open_lines(order: &Record) -> Vec<Pick> {
    order
        .lines("item")
        .iter()
        .enumerate()
        .filter(|(_, l)| !l.get("isClosed").and_then(Value::as_bool).unwrap_or(false) && remaining(l) > Decimal::ZERO)
        .map(|(i, l)| Pick {
            order_index: i,
            line: l.clone(),
            quantity: remaining(l),
            location: l.get("location").and_then(ref_id).or_else(|| order.ref_id("location")),
        })
        .collect()
}

/// A line ships from its own location, else the order's; with a single location in the account
/// that one. Several locations and none named fail like NetSuite's "Items list: Location".
fn resolve_locations(store: &Store, order: &Record, picks: &mut [Pick]) -> Result<(), NsError> {
    let locations = store.ids_of("location");
    for (n, p) in picks.iter_mut().enumerate() {
        match p.location {
            Some(id) if store.get(id).is_some_and(|r| r.rtype.name == "location") => {}
            Some(id) => {
                return Err(NsError::invalid_ref(&id.to_string(), "location", format!("item.items[{n}].location")));
            }
            None if locations.len() == 1 => p.location = Some(locations[0]),
            None if locations.is_empty() => {}
            None => {
                let _ = order;
                return Err(NsError::user_error("Please enter value(s) for: Items list: Location."));
            }
        }
    }
    Ok(())
}

/// Package lines get line numbers; their tracking numbers go to SuiteQL's tracking tables.
fn number_packages(f: &mut Fields) -> Vec<String> {
    let Some(lines) = f.get_mut("package").and_then(|p| p.get_mut("items")).and_then(Value::as_array_mut) else {
        return Vec::new();
    };
    let mut numbers = Vec::new();
    for (i, l) in lines.iter_mut().enumerate() {
        if let Some(obj) = l.as_object_mut() {
            obj.entry("line").or_insert(json!(i + 1));
            if let Some(n) = obj.get("packageTrackingNumber").map(value_text).filter(|n| !n.is_empty()) {
                numbers.push(n);
            }
        }
    }
    numbers
}

/// Shipped units leave on hand and available first; saving the order with its new
/// `quantityFulfilled` then releases the line's commitment and commits what is still to ship
/// (store.rs). Net effect: units the line had committed leave on hand and committed with
/// available unchanged; units beyond its commitment (or from another location) leave on hand and
/// available, as an uncommitted shipment does.
fn apply_to_order(store: &mut Store, order_id: u64, picks: &[Pick], now: DateTime<Utc>) {
    let Some(mut f) = store.get(order_id).map(|r| r.fields.clone()) else { return };
    if let Some(lines) = f.get_mut("item").and_then(|s| s.get_mut("items")).and_then(Value::as_array_mut) {
        for p in picks {
            if let Some(line) = lines.get_mut(p.order_index) {
                let done = line.get("quantityFulfilled").and_then(decimal).unwrap_or_default() + p.quantity;
                line["quantityFulfilled"] = number(done);
            }
        }
    }
    order_status(&mut f);
    for p in picks {
        let (Some(item), Some(location)) = (p.line.get("item").and_then(ref_id), p.location) else { continue };
        if store.is_stocked(item) {
            store.take_stock(item, location, p.quantity.ceil().to_i64().unwrap_or(0), now);
        }
    }
    store.replace(order_id, f, now);
}
