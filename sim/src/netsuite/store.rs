//! The account's data, in memory. Internal ids come from one increasing counter per account,
//! so an id names exactly one record whatever its type (NetSuite's `transaction.id` is unique
//! across transaction types, and references can be resolved without knowing the type).
//! Every change bumps `version`, which invalidates the SuiteQL tables built from it.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use super::types::{Category, RecordType};

pub type Fields = Map<String, Value>;

#[derive(Debug, Clone)]
pub struct Record {
    pub rtype: &'static RecordType,
    pub id: u64,
    pub fields: Fields,
    pub created: DateTime<Utc>,
    pub modified: DateTime<Utc>,
}

impl Record {
    pub fn str_field(&self, name: &str) -> Option<&str> {
        self.fields.get(name).and_then(Value::as_str)
    }

    pub fn bool_field(&self, name: &str) -> bool {
        self.fields.get(name).and_then(Value::as_bool).unwrap_or(false)
    }

    /// The id of a select field `{"id": "…"}`.
    pub fn ref_id(&self, name: &str) -> Option<u64> {
        ref_id(self.fields.get(name)?)
    }

    pub fn lines(&self, sublist: &str) -> &[Value] {
        self.fields.get(sublist).and_then(|s| s.get("items")).and_then(Value::as_array).map_or(&[], Vec::as_slice)
    }

    pub fn external_id(&self) -> Option<&str> {
        self.str_field("externalId")
    }
}

pub fn ref_id(v: &Value) -> Option<u64> {
    v.get("id").and_then(Value::as_str).and_then(|s| s.parse().ok())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stock {
    pub on_hand: i64,
    pub available: i64,
    pub committed: i64,
    pub on_order: i64,
    pub backordered: i64,
    pub modified: DateTime<Utc>,
}

#[derive(Debug, Default)]
pub struct Store {
    next_id: u64,
    records: HashMap<u64, Record>,
    by_type: HashMap<&'static str, BTreeSet<u64>>,
    eids: HashMap<(&'static str, String), u64>,
    tran_numbers: HashMap<&'static str, u64>,
    pub stock: BTreeMap<(u64, u64), Stock>,
    /// (tracking number id, number) and (transaction id, tracking number id): SuiteQL's
    /// `trackingnumber` and `trackingnumbermap` tables.
    pub tracking: Vec<(u64, String)>,
    pub tracking_map: Vec<(u64, u64)>,
    next_tracking_id: u64,
    pub version: u64,
}

impl Store {
    pub fn new() -> Store {
        Store { next_id: 100, next_tracking_id: 1, ..Store::default() }
    }

    pub fn insert(&mut self, rtype: &'static RecordType, mut fields: Fields, now: DateTime<Utc>) -> u64 {
        self.next_id += 1;
        let id = self.next_id;
        if rtype.category == Category::Transaction && !fields.contains_key("tranId") {
            let n = self.tran_numbers.entry(rtype.name).or_insert(1000);
            *n += 1;
            fields.insert("tranId".into(), Value::String(format!("{}{}", rtype.prefix, n)));
        }
        let record = Record { rtype, id, fields, created: now, modified: now };
        if let Some(eid) = record.external_id() {
            self.eids.insert((rtype.name, eid.to_string()), id);
        }
        self.by_type.entry(rtype.name).or_default().insert(id);
        self.records.insert(id, record);
        self.version += 1;
        id
    }

    /// Replaces every field of record `id`, keeping its identity and creation time.
    pub fn replace(&mut self, id: u64, fields: Fields, now: DateTime<Utc>) {
        let Some(record) = self.records.get_mut(&id) else { return };
        if let Some(old) = record.external_id() {
            self.eids.remove(&(record.rtype.name, old.to_string()));
        }
        record.fields = fields;
        record.modified = now;
        if let Some(eid) = record.external_id() {
            self.eids.insert((record.rtype.name, eid.to_string()), id);
        }
        self.version += 1;
    }

    pub fn delete(&mut self, id: u64) -> Option<Record> {
        let record = self.records.remove(&id)?;
        if let Some(eid) = record.external_id() {
            self.eids.remove(&(record.rtype.name, eid.to_string()));
        }
        if let Some(ids) = self.by_type.get_mut(record.rtype.name) {
            ids.remove(&id);
        }
        self.version += 1;
        Some(record)
    }

    pub fn get(&self, id: u64) -> Option<&Record> {
        self.records.get(&id)
    }

    pub fn get_typed(&self, rtype: &RecordType, id: u64) -> Option<&Record> {
        self.records.get(&id).filter(|r| r.rtype.name == rtype.name)
    }

    pub fn by_external_id(&self, rtype: &RecordType, eid: &str) -> Option<u64> {
        self.eids.get(&(rtype.name, eid.to_string())).copied()
    }

    /// Ids of one type in creation order.
    pub fn ids_of(&self, rtype: &str) -> Vec<u64> {
        self.by_type.get(rtype).map(|ids| ids.iter().copied().collect()).unwrap_or_default()
    }

    pub fn count_of(&self, rtype: &str) -> usize {
        self.by_type.get(rtype).map_or(0, BTreeSet::len)
    }

    /// Every record of a category, in id order.
    pub fn all_of(&self, category: Category) -> Vec<&Record> {
        let mut v: Vec<&Record> = self.records.values().filter(|r| r.rtype.category == category).collect();
        v.sort_by_key(|r| r.id);
        v
    }

    pub fn is_a(&self, id: u64, category: Category) -> bool {
        self.records.get(&id).is_some_and(|r| r.rtype.category == category)
    }

    /// The display text NetSuite puts in `refName` (and `BUILTIN.DF`).
    pub fn ref_name(&self, id: u64) -> Option<String> {
        let r = self.records.get(&id)?;
        let s = |k: &str| r.str_field(k).map(str::to_string);
        match r.rtype.category {
            Category::Item => s("itemId"),
            Category::Entity => s("entityId").or_else(|| s("companyName")),
            Category::Transaction => Some(format!("{} #{}", type_label(r.rtype.name), r.str_field("tranId")?)),
            Category::Other => s("name"),
        }
    }

    pub fn set_stock(&mut self, item: u64, location: u64, on_hand: i64, available: i64, now: DateTime<Utc>) {
        let s = self.stock.entry((item, location)).or_insert(Stock {
            on_hand: 0,
            available: 0,
            committed: 0,
            on_order: 0,
            backordered: 0,
            modified: now,
        });
        s.on_hand = on_hand;
        s.available = available;
        s.modified = now;
        self.version += 1;
    }

    pub fn take_stock(&mut self, item: u64, location: u64, quantity: i64, now: DateTime<Utc>) {
        let s = self.stock.get(&(item, location)).copied();
        let (on_hand, available) = s.map_or((0, 0), |s| (s.on_hand, s.available));
        self.set_stock(item, location, on_hand - quantity, available - quantity, now);
    }

    pub fn add_tracking_number(&mut self, transaction: u64, number: &str) {
        let id = self.next_tracking_id;
        self.next_tracking_id += 1;
        self.tracking.push((id, number.to_string()));
        self.tracking_map.push((transaction, id));
        self.version += 1;
    }
}

/// "Sales Order" from "salesOrder".
pub fn type_label(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if i == 0 {
            out.extend(c.to_uppercase());
        } else if c.is_uppercase() {
            out.push(' ');
            out.push(c);
        } else {
            out.push(c);
        }
    }
    out
}
