//! A stored record as `GET /record/v1/{type}/{id}` shows it: `links` first, then the fields in
//! alphabetical order, select fields as `{links, id, refName}`, sublists and subrecords as link
//! stubs unless `expandSubResources=true` (record-get-customer*.json).

use std::collections::BTreeMap;

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::Value;

use super::reply::OJson;
use super::store::{Record, Store};
use super::types::{enum_ref_name, record_type};

pub struct View<'a> {
    pub store: &'a Store,
    pub base: &'a str,
    pub expand: bool,
}

pub fn iso(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

impl View<'_> {
    pub fn record_url(&self, rtype: &str, id: u64) -> String {
        format!("{}/services/rest/record/v1/{rtype}/{id}", self.base)
    }

    pub fn record(&self, r: &Record, only: Option<&[String]>) -> OJson {
        let href = self.record_url(r.rtype.name, r.id);
        let mut fields: BTreeMap<String, OJson> = BTreeMap::new();
        fields.insert("id".into(), OJson::str(r.id.to_string()));
        fields.insert("createdDate".into(), OJson::str(iso(r.created)));
        fields.insert("lastModifiedDate".into(), OJson::str(iso(r.modified)));
        for (k, v) in &r.fields {
            fields.insert(k.clone(), self.value(k, v, &href));
        }
        if let Some(only) = only {
            fields.retain(|k, _| k == "id" || only.iter().any(|o| o.eq_ignore_ascii_case(k)));
        }
        let mut out = OJson::obj().with("links", OJson::self_link(href));
        if let OJson::Obj(list) = &mut out {
            list.extend(fields);
        }
        out
    }

    /// A sublist on its own (`GET …/{id}/{sublist}`), always expanded. [INFERRED] shape: the
    /// expanded form that `expandSubResources` embeds.
    pub fn sublist(&self, r: &Record, name: &str) -> Option<OJson> {
        let href = self.record_url(r.rtype.name, r.id);
        let v = r.fields.get(name).filter(|v| v.get("items").is_some())?;
        Some(self.expanded_sublist(name, v, &href))
    }

    pub fn line(&self, r: &Record, sublist: &str, line: &str) -> Option<OJson> {
        let href = format!("{}/{sublist}", self.record_url(r.rtype.name, r.id));
        let l = r.lines(sublist).iter().find(|l| l.get("line").map(value_text).as_deref() == Some(line))?;
        Some(self.object(l, format!("{href}/{line}"), true))
    }

    fn value(&self, key: &str, v: &Value, parent: &str) -> OJson {
        match v {
            Value::Object(m) if m.contains_key("items") => {
                if self.expand {
                    self.expanded_sublist(key, v, parent)
                } else {
                    OJson::obj().with("links", OJson::self_link(format!("{parent}/{key}")))
                }
            }
            Value::Object(m) if m.contains_key("id") => self.reference(key, &value_text(&m["id"])),
            Value::Object(_) if !self.expand => OJson::obj().with("links", OJson::self_link(format!("{parent}/{key}"))),
            Value::Object(_) => self.object(v, format!("{parent}/{key}"), false),
            other => OJson::V(other.clone()),
        }
    }

    fn expanded_sublist(&self, key: &str, v: &Value, parent: &str) -> OJson {
        let href = format!("{parent}/{key}");
        let lines = v.get("items").and_then(Value::as_array).map_or(&[][..], Vec::as_slice);
        let items = lines
            .iter()
            .enumerate()
            .map(|(i, l)| {
                let key = l.get("line").map(value_text).unwrap_or_else(|| i.to_string());
                self.object(l, format!("{href}/{key}"), true)
            })
            .collect();
        OJson::obj().with("links", OJson::self_link(href)).with("items", OJson::Arr(items))
    }

    /// A sublist line or subrecord: its own self link, then its fields.
    fn object(&self, v: &Value, href: String, nested_expand: bool) -> OJson {
        let mut out = OJson::obj().with("links", OJson::self_link(href.clone()));
        let Some(map) = v.as_object() else { return out };
        let inner = View { store: self.store, base: self.base, expand: self.expand || nested_expand };
        if let OJson::Obj(list) = &mut out {
            for (k, v) in map {
                list.push((k.clone(), inner.value(k, v, &href)));
            }
        }
        out
    }

    fn reference(&self, field: &str, id: &str) -> OJson {
        if let Some(name) = enum_ref_name(field, id) {
            return OJson::obj().with("id", OJson::str(id)).with("refName", OJson::str(name));
        }
        let known = id.parse::<u64>().ok().and_then(|n| self.store.get(n));
        let rtype = known.map(|r| r.rtype.name).or_else(|| guess_type(field));
        let links = match rtype {
            Some(t) => OJson::self_link(format!("{}/services/rest/record/v1/{t}/{id}", self.base)),
            None => OJson::Arr(Vec::new()),
        };
        let mut out = OJson::obj().with("links", links).with("id", OJson::str(id));
        if let Some(name) = known.and_then(|r| self.store.ref_name(r.id)) {
            out = out.with("refName", OJson::str(name));
        }
        out
    }
}

/// The record type a select field points at when the target is not in the simulator.
fn guess_type(field: &str) -> Option<&'static str> {
    let name = match field {
        "class" => "classification",
        "entity" => "customer",
        other => other,
    };
    record_type(name).map(|t| t.name)
}

pub fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}
