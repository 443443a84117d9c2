//! Record writes on the store: create, upsert by external id, patch with NetSuite's sublist
//! rules, delete. Each one validates the record as it would be saved and either changes the
//! store completely or not at all, so a failed write leaves nothing behind. A sales order's
//! inventory commitments follow in the same step: the store recomputes them on every insert,
//! replace and delete (store.rs).

use chrono::{DateTime, Utc};
use percent_encoding::percent_decode_str;
use serde_json::{Value, json};

use super::error::NsError;
use super::render::value_text;
use super::store::{Fields, Store};
use super::types::RecordType;
use super::validate::{Setup, validate};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Key {
    Id(u64),
    Eid(String),
}

/// An id segment of a URL: an internal id or `eid:<externalId>` (percent-decoded).
pub fn parse_key(segment: &str) -> Result<Key, NsError> {
    let decoded = percent_decode_str(segment).decode_utf8_lossy();
    if let Some(eid) = decoded.strip_prefix("eid:") {
        check_external_id(eid)?;
        return Ok(Key::Eid(eid.to_string()));
    }
    decoded.parse().map(Key::Id).map_err(|_| NsError::nonexistent_id())
}

/// External ids in URLs (`/record/v1/<type>/eid:<id>`): NetSuite accepts letters, digits, `_` and `-`.
/// [INFERRED] error wording.
pub fn check_external_id(eid: &str) -> Result<(), NsError> {
    if !eid.is_empty() && eid.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
        Ok(())
    } else {
        Err(NsError::invalid_parameter(format!(
            "Invalid external ID '{eid}'. An external ID in a URL may contain only letters, digits, underscores and hyphens."
        )))
    }
}

pub fn resolve(store: &Store, rtype: &RecordType, key: &Key) -> Result<u64, NsError> {
    match key {
        Key::Id(id) => store.get_typed(rtype, *id).map(|r| r.id),
        Key::Eid(eid) => store.by_external_id(rtype, eid),
    }
    .ok_or_else(NsError::nonexistent_id)
}

/// An external id is unique per record type: a second record with the same one is refused.
/// [INFERRED] wording.
fn check_unique(store: &Store, rtype: &RecordType, f: &Fields, except: Option<u64>) -> Result<(), NsError> {
    let Some(eid) = f.get("externalId").and_then(Value::as_str) else { return Ok(()) };
    match store.by_external_id(rtype, eid) {
        Some(id) if Some(id) != except => Err(NsError::user_error("This entity already exists.")),
        _ => Ok(()),
    }
}

pub fn create(
    store: &mut Store,
    rtype: &'static RecordType,
    mut f: Fields,
    now: DateTime<Utc>,
    setup: &Setup,
) -> Result<u64, NsError> {
    if rtype.name == "itemFulfillment" {
        // [INFERRED] wording: fulfilments only come from transforming an order.
        return Err(NsError::user_error(
            "An item fulfillment can only be created by transforming a sales order or transfer order.",
        ));
    }
    if let Some(v) = f.get_mut("externalId") {
        *v = Value::String(value_text(v));
    }
    check_unique(store, rtype, &f, None)?;
    validate(store, rtype, &mut f, now.date_naive(), setup)?;
    Ok(store.insert(rtype, f, now))
}

/// `PUT …/eid:X`: the fields given replace the stored ones (sublists whole), the rest stay.
/// [INFERRED] replacing rather than merging sublists keeps a repeated upsert idempotent.
pub fn upsert(
    store: &mut Store,
    rtype: &'static RecordType,
    eid: &str,
    body: Fields,
    now: DateTime<Utc>,
    setup: &Setup,
) -> Result<u64, NsError> {
    check_external_id(eid)?;
    let Some(id) = store.by_external_id(rtype, eid) else {
        let mut f = body;
        f.insert("externalId".into(), Value::String(eid.to_string()));
        return create(store, rtype, f, now, setup);
    };
    let mut f = store.get(id).map(|r| r.fields.clone()).unwrap_or_default();
    for (k, v) in body {
        f.insert(k, v);
    }
    f.insert("externalId".into(), Value::String(eid.to_string()));
    validate(store, rtype, &mut f, now.date_naive(), setup)?;
    store.replace(id, f, now);
    Ok(id)
}

/// `PATCH`: body fields replace stored ones; sublist lines are matched by `line`, updated when
/// found and added otherwise; with `?replace=<sublist>` unmatched stored lines are dropped (as
/// NetSuite documents the `replace` parameter of a REST update).
pub fn patch(
    store: &mut Store,
    rtype: &'static RecordType,
    key: &Key,
    body: Fields,
    replace: &[String],
    now: DateTime<Utc>,
    setup: &Setup,
) -> Result<u64, NsError> {
    let id = resolve(store, rtype, key)?;
    let mut f = store.get(id).map(|r| r.fields.clone()).unwrap_or_default();
    for (k, v) in body {
        let replacing = replace.iter().any(|r| r.eq_ignore_ascii_case(&k));
        let merged = match (&v, f.get(&k)) {
            (Value::Object(m), Some(old)) if m.contains_key("items") => merge_sublist(old, &v, replacing),
            _ => v,
        };
        f.insert(k, merged);
    }
    if let Some(v) = f.get_mut("externalId") {
        *v = Value::String(value_text(v));
    }
    check_unique(store, rtype, &f, Some(id))?;
    validate(store, rtype, &mut f, now.date_naive(), setup)?;
    store.replace(id, f, now);
    Ok(id)
}

fn merge_sublist(old: &Value, new: &Value, replace: bool) -> Value {
    let lines = |v: &Value| v.get("items").and_then(Value::as_array).cloned().unwrap_or_default();
    let (old_lines, new_lines) = (lines(old), lines(new));
    let key = |l: &Value| l.get("line").map(value_text);
    let mut out = if replace { Vec::new() } else { old_lines.clone() };
    for line in new_lines {
        let matched = key(&line).and_then(|k| old_lines.iter().find(|o| key(o).as_deref() == Some(k.as_str())));
        let Some(old_line) = matched else {
            out.push(line);
            continue;
        };
        let mut merged = old_line.clone();
        if let (Some(m), Some(n)) = (merged.as_object_mut(), line.as_object()) {
            m.extend(n.clone());
        }
        match out.iter().position(|o| key(o) == key(&merged)) {
            Some(pos) => out[pos] = merged,
            None => out.push(merged),
        }
    }
    json!({ "items": out })
}

pub fn delete(store: &mut Store, rtype: &RecordType, key: &Key, now: DateTime<Utc>) -> Result<(), NsError> {
    let id = resolve(store, rtype, key)?;
    store.delete(id, now);
    Ok(())
}
