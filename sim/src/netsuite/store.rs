//! The account's data, in memory. Internal ids come from one increasing counter per account,
//! so an id names exactly one record whatever its type (NetSuite's `transaction.id` is unique
//! across transaction types, and references can be resolved without knowing the type).
//! Every change bumps `version`, which invalidates the SuiteQL tables built from it.
//!
//! Inventory per (item, location) follows NetSuite's figures: "Quantity Available = On Hand −
//! Committed". Sales order lines commit stock at their location (the line's `location`, else
//! the order's) with the default "Available Qty" commit setting: a line commits
//! min(ordered − fulfilled, available) and the rest is backordered. Only inventory items
//! (`itemType` `InvtPart`, and `Assembly` as fulfilment treats it) commit; orders pending approval
//! (`A`), cancelled (`C`) or closed (`H`) and closed lines commit nothing; a line without any
//! location commits nothing. Every save of a sales order goes through [`Store::insert`],
//! [`Store::replace`] or [`Store::delete`], and each recomputes that order's commitments: what
//! it held is released, then its lines commit again in line order. So saving an order again does
//! not commit twice, approving it commits, closing its lines or deleting it releases, and a
//! re-save may commit units that became available since. [INFERRED] Releasing stock does not
//! commit it to other orders' backordered lines; only [`Store::receive_stock`] does that, first
//! come (lowest order id, then line) first served. Rows whose figures change get
//! `modified` = now (SuiteQL's `lastmodifieddate`); a save that changes nothing leaves it.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde_json::{Map, Value};

use super::render::value_text;
use super::types::{Category, RecordType};
use super::validate::decimal;

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

impl Stock {
    fn empty(now: DateTime<Utc>) -> Stock {
        Stock { on_hand: 0, available: 0, committed: 0, on_order: 0, backordered: 0, modified: now }
    }

    /// Everything but `modified`, to tell whether a change moved the row.
    fn figures(&self) -> [i64; 5] {
        [self.on_hand, self.available, self.committed, self.on_order, self.backordered]
    }
}

/// What one sales order line holds at its location: committed units and the backordered rest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineCommitment {
    /// The line's `line` key.
    pub line: String,
    pub item: u64,
    pub location: u64,
    pub committed: i64,
    pub backordered: i64,
}

#[derive(Debug, Default)]
pub struct Store {
    next_id: u64,
    records: HashMap<u64, Record>,
    by_type: HashMap<&'static str, BTreeSet<u64>>,
    eids: HashMap<(&'static str, String), u64>,
    tran_numbers: HashMap<&'static str, u64>,
    pub stock: BTreeMap<(u64, u64), Stock>,
    /// (sales order id, index in its `item` sublist) → what that line commits.
    pub commitments: BTreeMap<(u64, usize), LineCommitment>,
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
        self.recommit(id, now);
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
        self.recommit(id, now);
    }

    /// Removes a record; a sales order's commitments are released.
    pub fn delete(&mut self, id: u64, now: DateTime<Utc>) -> Option<Record> {
        let record = self.records.remove(&id)?;
        if let Some(eid) = record.external_id() {
            self.eids.remove(&(record.rtype.name, eid.to_string()));
        }
        if let Some(ids) = self.by_type.get_mut(record.rtype.name) {
            ids.remove(&id);
        }
        self.version += 1;
        self.recommit(id, now);
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

    /// Seeds one row's on hand and available as given; what orders have committed stays in
    /// `committed` and `backordered`.
    pub fn set_stock(&mut self, item: u64, location: u64, on_hand: i64, available: i64, now: DateTime<Utc>) {
        let s = self.stock.entry((item, location)).or_insert(Stock::empty(now));
        s.on_hand = on_hand;
        s.available = available;
        s.modified = now;
        self.version += 1;
    }

    /// Units leave the location without having been committed (a sale elsewhere, or shipped
    /// beyond what the order line had committed): on hand and available both drop.
    pub fn take_stock(&mut self, item: u64, location: u64, quantity: i64, now: DateTime<Utc>) {
        let s = self.stock.entry((item, location)).or_insert(Stock::empty(now));
        s.on_hand -= quantity;
        s.available -= quantity;
        s.modified = now;
        self.version += 1;
    }

    /// An item receipt: on hand and available rise, then backordered lines at that location
    /// commit what they can, first come first served (lowest order id, then line). [INFERRED]
    /// the order of service; NetSuite can also prioritise by order priority or ship date.
    pub fn receive_stock(&mut self, item: u64, location: u64, quantity: i64, now: DateTime<Utc>) {
        let s = self.stock.entry((item, location)).or_insert(Stock::empty(now));
        s.on_hand += quantity;
        s.available += quantity;
        s.modified = now;
        for c in self.commitments.values_mut() {
            if s.available <= 0 {
                break;
            }
            if c.item != item || c.location != location || c.backordered <= 0 {
                continue;
            }
            let more = c.backordered.min(s.available);
            c.committed += more;
            c.backordered -= more;
            s.committed += more;
            s.backordered -= more;
            s.available -= more;
        }
        self.version += 1;
    }

    /// Whether an item's stock is counted per location: inventory and assembly items.
    pub fn is_stocked(&self, item: u64) -> bool {
        let t = self.records.get(&item).and_then(|r| r.fields.get("itemType")).and_then(|t| t.get("id"));
        matches!(t.and_then(Value::as_str), Some("InvtPart" | "Assembly"))
    }

    /// Releases what sales order `id` has committed and commits its lines again as the record
    /// now stands (nothing when it is gone or is not a sales order).
    fn recommit(&mut self, id: u64, now: DateTime<Utc>) {
        let held: Vec<(usize, LineCommitment)> =
            self.commitments.range((id, 0)..=(id, usize::MAX)).map(|(&(_, i), c)| (i, c.clone())).collect();
        let wanted = self.wanted(id);
        if held.is_empty() && wanted.is_empty() {
            return;
        }
        let touched: BTreeSet<(u64, u64)> =
            held.iter().map(|(_, c)| (c.item, c.location)).chain(wanted.iter().map(|(_, _, k, _)| *k)).collect();
        let before: Vec<Option<[i64; 5]>> = touched.iter().map(|k| self.stock.get(k).map(Stock::figures)).collect();
        for (i, c) in held {
            self.commitments.remove(&(id, i));
            if let Some(s) = self.stock.get_mut(&(c.item, c.location)) {
                s.committed -= c.committed;
                s.available += c.committed;
                s.backordered -= c.backordered;
            }
        }
        for (i, line, (item, location), need) in wanted {
            let s = self.stock.entry((item, location)).or_insert(Stock::empty(now));
            let committed = need.min(s.available.max(0));
            let backordered = need - committed;
            s.committed += committed;
            s.available -= committed;
            s.backordered += backordered;
            self.commitments.insert((id, i), LineCommitment { line, item, location, committed, backordered });
        }
        let mut changed = false;
        for (k, was) in touched.iter().zip(before) {
            if let Some(s) = self.stock.get_mut(k)
                && was != Some(s.figures())
            {
                s.modified = now;
                changed = true;
            }
        }
        if changed {
            self.version += 1;
        }
    }

    /// The lines of sales order `id` that commit: (index, line key, (item, location), units
    /// still to ship).
    fn wanted(&self, id: u64) -> Vec<(usize, String, (u64, u64), i64)> {
        let Some(order) = self.records.get(&id).filter(|r| r.rtype.name == "salesOrder") else { return Vec::new() };
        let status = order.fields.get("orderStatus").and_then(|s| s.get("id")).and_then(Value::as_str);
        if matches!(status, Some("A" | "C" | "H")) {
            return Vec::new();
        }
        let body_location = order.ref_id("location");
        let qty = |l: &Value, k: &str| l.get(k).and_then(decimal).unwrap_or_default();
        let mut out = Vec::new();
        for (i, l) in order.lines("item").iter().enumerate() {
            if l.get("isClosed").and_then(Value::as_bool).unwrap_or(false) {
                continue;
            }
            let item = l.get("item").and_then(ref_id).filter(|&item| self.is_stocked(item));
            let location = l.get("location").and_then(ref_id).or(body_location);
            let (Some(item), Some(location)) = (item, location) else { continue };
            let need = (qty(l, "quantity") - qty(l, "quantityFulfilled")).max(Decimal::ZERO).ceil();
            let need = need.to_i64().unwrap_or(0);
            if need > 0 {
                let line = l.get("line").map(value_text).unwrap_or_default();
                out.push((i, line, (item, location), need));
            }
        }
        out
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
