//! SuiteQL's view of the records: the analytics tables a connector reads (`item`, `customer`,
//! `location`, `inventoryitemlocations`, `transaction`, `transactionline`, `trackingnumber`,
//! `trackingnumbermap`), built from the store and cached until the store changes. Sales order
//! lines carry `quantitycommitted`/`quantitybackordered` from the store's commitments.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::Value;

use super::cell::Cell;
use super::plan::Output;
use crate::netsuite::render::value_text;
use crate::netsuite::store::{LineCommitment, Record, Store, ref_id};
use crate::netsuite::types::Category;
use crate::netsuite::validate::decimal;

/// What `BUILTIN.DF` shows for a column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColKind {
    Plain,
    /// An internal id of another record: its name.
    Ref,
    ItemType,
    TranType,
    Status,
}

#[derive(Debug)]
pub struct Table {
    pub name: &'static str,
    pub columns: Vec<(&'static str, ColKind)>,
    pub rows: Vec<Vec<Cell>>,
}

impl Table {
    pub fn column(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|(c, _)| c.eq_ignore_ascii_case(name))
    }
}

pub const TABLES: &[&str] = &[
    "item",
    "customer",
    "location",
    "inventoryitemlocations",
    "transaction",
    "transactionline",
    "trackingnumber",
    "trackingnumbermap",
];

/// Query results kept while the store is unchanged: a client paging through 100,000 rows sends
/// the same text a hundred times with growing offsets.
const CACHED_RESULTS: usize = 8;

#[derive(Default)]
pub struct TableCache {
    version: Option<u64>,
    tables: HashMap<&'static str, Arc<Table>>,
    names: Option<Arc<HashMap<u64, String>>>,
    results: Vec<(String, Arc<Output>)>,
}

impl TableCache {
    pub fn result(&mut self, store: &Store, q: &str) -> Option<Arc<Output>> {
        self.sync(store);
        self.results.iter().find(|(text, _)| text == q).map(|(_, out)| out.clone())
    }

    /// Keeps `out` for `q` if the store is still at `version`, the one it was computed from.
    pub fn keep_result(&mut self, store: &Store, version: u64, q: String, out: Arc<Output>) {
        self.sync(store);
        if self.version == Some(version) {
            if self.results.len() == CACHED_RESULTS {
                self.results.remove(0);
            }
            self.results.push((q, out));
        }
    }

    pub fn table(&mut self, store: &Store, name: &str) -> Option<Arc<Table>> {
        self.sync(store);
        let name = *TABLES.iter().find(|t| t.eq_ignore_ascii_case(name))?;
        Some(self.tables.entry(name).or_insert_with(|| Arc::new(build(store, name))).clone())
    }

    /// Internal id → display name, for `BUILTIN.DF`.
    pub fn names(&mut self, store: &Store) -> Arc<HashMap<u64, String>> {
        self.sync(store);
        self.names
            .get_or_insert_with(|| {
                let mut m = HashMap::new();
                for c in [Category::Item, Category::Entity, Category::Transaction, Category::Other] {
                    for r in store.all_of(c) {
                        if let Some(n) = store.ref_name(r.id) {
                            m.insert(r.id, n);
                        }
                    }
                }
                Arc::new(m)
            })
            .clone()
    }

    fn sync(&mut self, store: &Store) {
        if self.version != Some(store.version) {
            self.tables.clear();
            self.names = None;
            self.results.clear();
            self.version = Some(store.version);
        }
    }
}

fn text(r: &Record, field: &str) -> Cell {
    match r.fields.get(field) {
        None | Some(Value::Null) => Cell::Null,
        Some(Value::String(s)) if s.is_empty() => Cell::Null,
        Some(v) => Cell::Text(value_text(v)),
    }
}

fn num(v: Option<&Value>) -> Cell {
    v.and_then(decimal).map_or(Cell::Null, Cell::Num)
}

fn reference(v: Option<&Value>) -> Cell {
    v.and_then(ref_id).map_or(Cell::Null, Cell::id)
}

fn enum_id(r: &Record, field: &str) -> Cell {
    Cell::opt_text(r.fields.get(field).and_then(|v| v.get("id")).and_then(Value::as_str))
}

fn build(store: &Store, name: &'static str) -> Table {
    use ColKind::*;
    let (columns, rows): (Vec<(&'static str, ColKind)>, Vec<Vec<Cell>>) = match name {
        "item" => (
            vec![
                ("id", Plain),
                ("itemid", Plain),
                ("fullname", Plain),
                ("displayname", Plain),
                // [INFERRED] the item record's `upcCode` field, as NetSuite's Records Catalog names it.
                ("upccode", Plain),
                ("itemtype", ItemType),
                ("isinactive", Plain),
                ("externalid", Plain),
                ("baseprice", Plain),
                ("createddate", Plain),
                ("lastmodifieddate", Plain),
            ],
            store
                .all_of(Category::Item)
                .into_iter()
                .map(|r| {
                    vec![
                        Cell::id(r.id),
                        text(r, "itemId"),
                        text(r, "itemId"),
                        text(r, "displayName"),
                        text(r, "upcCode"),
                        Cell::text(r.rtype.code),
                        Cell::flag(r.bool_field("isInactive")),
                        text(r, "externalId"),
                        num(r.fields.get("basePrice")),
                        Cell::Time(r.created),
                        Cell::Time(r.modified),
                    ]
                })
                .collect(),
        ),
        "customer" => customers(store),
        "location" => (
            vec![
                ("id", Plain),
                ("name", Plain),
                ("isinactive", Plain),
                ("externalid", Plain),
                ("lastmodifieddate", Plain),
            ],
            store
                .ids_of("location")
                .into_iter()
                .filter_map(|id| store.get(id))
                .map(|r| {
                    vec![
                        Cell::id(r.id),
                        text(r, "name"),
                        Cell::flag(r.bool_field("isInactive")),
                        text(r, "externalId"),
                        Cell::Time(r.modified),
                    ]
                })
                .collect(),
        ),
        "inventoryitemlocations" => (
            vec![
                ("item", Ref),
                ("location", Ref),
                ("quantityonhand", Plain),
                ("quantityavailable", Plain),
                ("quantitycommitted", Plain),
                ("quantityonorder", Plain),
                ("quantitybackordered", Plain),
                ("lastmodifieddate", Plain),
            ],
            store
                .stock
                .iter()
                .map(|((item, location), s)| {
                    let n = |v: i64| Cell::Num(v.into());
                    vec![
                        Cell::id(*item),
                        Cell::id(*location),
                        n(s.on_hand),
                        n(s.available),
                        n(s.committed),
                        n(s.on_order),
                        n(s.backordered),
                        Cell::Time(s.modified),
                    ]
                })
                .collect(),
        ),
        "transaction" => transactions(store),
        "transactionline" => transaction_lines(store),
        "trackingnumber" => (
            vec![("id", Plain), ("trackingnumber", Plain)],
            store.tracking.iter().map(|(id, n)| vec![Cell::id(*id), Cell::text(n.clone())]).collect(),
        ),
        _ => (
            vec![("transaction", Ref), ("trackingnumber", Ref)],
            store.tracking_map.iter().map(|(t, n)| vec![Cell::id(*t), Cell::id(*n)]).collect(),
        ),
    };
    Table { name, columns, rows }
}

fn customers(store: &Store) -> (Vec<(&'static str, ColKind)>, Vec<Vec<Cell>>) {
    let cols = [
        "id",
        "entityid",
        "companyname",
        "firstname",
        "lastname",
        "email",
        "phone",
        "externalid",
        "isperson",
        "isinactive",
        "datecreated",
        "lastmodifieddate",
    ];
    let rows = store
        .ids_of("customer")
        .into_iter()
        .filter_map(|id| store.get(id))
        .map(|r| {
            vec![
                Cell::id(r.id),
                text(r, "entityId"),
                text(r, "companyName"),
                text(r, "firstName"),
                text(r, "lastName"),
                text(r, "email"),
                text(r, "phone"),
                text(r, "externalId"),
                Cell::flag(r.bool_field("isPerson")),
                Cell::flag(r.bool_field("isInactive")),
                Cell::Time(r.created),
                Cell::Time(r.modified),
            ]
        })
        .collect();
    (cols.iter().map(|c| (*c, ColKind::Plain)).collect(), rows)
}

/// `transaction.status` is the one-letter code (`B`), as SuiteQL returns it.
fn status(r: &Record) -> Cell {
    match r.rtype.name {
        "salesOrder" => enum_id(r, "orderStatus"),
        "itemFulfillment" => enum_id(r, "shipStatus"),
        "invoice" | "creditMemo" => Cell::text("A"),
        _ => Cell::Null,
    }
}

fn transactions(store: &Store) -> (Vec<(&'static str, ColKind)>, Vec<Vec<Cell>>) {
    use ColKind::*;
    let cols = vec![
        ("id", Plain),
        ("tranid", Plain),
        ("type", TranType),
        ("status", Status),
        ("entity", Ref),
        ("externalid", Plain),
        ("otherrefnum", Plain),
        ("memo", Plain),
        ("trandate", Plain),
        ("createddate", Plain),
        ("lastmodifieddate", Plain),
        ("createdfrom", Ref),
        ("foreigntotal", Plain),
    ];
    let rows = store
        .all_of(Category::Transaction)
        .into_iter()
        .map(|r| {
            let date = r.str_field("tranDate").and_then(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok());
            let entity = r.fields.get("entity").or_else(|| r.fields.get("customer"));
            vec![
                Cell::id(r.id),
                text(r, "tranId"),
                Cell::text(r.rtype.code),
                status(r),
                reference(entity),
                text(r, "externalId"),
                text(r, "otherRefNum"),
                text(r, "memo"),
                date.map_or(Cell::Null, Cell::Date),
                Cell::Time(r.created),
                Cell::Time(r.modified),
                reference(r.fields.get("createdFrom")),
                num(r.fields.get("total")),
            ]
        })
        .collect();
    (cols, rows)
}

/// One main line per transaction (`mainline = 'T'`, sequence 0) and one row per item or
/// journal line. Fulfilment lines carry the order they came from in `createdfrom`.
fn transaction_lines(store: &Store) -> (Vec<(&'static str, ColKind)>, Vec<Vec<Cell>>) {
    use ColKind::*;
    let cols = vec![
        ("transaction", Ref),
        ("id", Plain),
        ("linesequencenumber", Plain),
        ("mainline", Plain),
        ("item", Ref),
        ("quantity", Plain),
        ("rate", Plain),
        ("foreignamount", Plain),
        ("location", Ref),
        ("entity", Ref),
        ("createdfrom", Ref),
        ("isclosed", Plain),
        ("quantityshiprecv", Plain),
        ("quantitycommitted", Plain),
        ("quantitybackordered", Plain),
    ];
    let mut rows = Vec::new();
    for r in store.all_of(Category::Transaction) {
        let created_from = reference(r.fields.get("createdFrom"));
        let entity = reference(r.fields.get("entity").or_else(|| r.fields.get("customer")));
        rows.push(vec![
            Cell::id(r.id),
            Cell::id(0),
            Cell::id(0),
            Cell::flag(true),
            Cell::Null,
            Cell::Null,
            Cell::Null,
            num(r.fields.get("total")),
            reference(r.fields.get("location")),
            entity.clone(),
            created_from.clone(),
            Cell::flag(false),
            Cell::Null,
            Cell::Null,
            Cell::Null,
        ]);
        let sublist = if r.rtype.name == "journalEntry" { "line" } else { "item" };
        for (i, l) in r.lines(sublist).iter().enumerate() {
            let seq = l.get("line").and_then(decimal).map_or(Cell::id(i as u64 + 1), Cell::Num);
            let closed = l.get("isClosed").and_then(Value::as_bool).unwrap_or(false);
            // Sales order lines: what the line commits and backorders (store.rs); 0 when nothing.
            let held = |f: fn(&LineCommitment) -> i64| match store.commitments.get(&(r.id, i)) {
                Some(c) => Cell::Num(f(c).into()),
                None if r.rtype.name == "salesOrder" => Cell::Num(0.into()),
                None => Cell::Null,
            };
            rows.push(vec![
                Cell::id(r.id),
                seq.clone(),
                seq,
                Cell::flag(false),
                reference(l.get("item")),
                num(l.get("quantity")),
                num(l.get("rate")),
                num(l.get("amount").or_else(|| l.get("debit"))),
                reference(l.get("location")),
                entity.clone(),
                created_from.clone(),
                Cell::flag(closed),
                num(l.get("quantityFulfilled")),
                held(|c| c.committed),
                held(|c| c.backordered),
            ]);
        }
    }
    (cols, rows)
}
