//! `/wc/v3/orders` and `/orders/<id>/notes`. Listing supports what an incremental sweep needs
//! (`modified_after` + `dates_are_gmt` + `orderby=modified`, with the ID tiebreak WooCommerce adds);
//! an update applies meta and other props before the status "so transitions have new data";
//! `DELETE` without `force` trashes and answers with the order as it was before.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use super::WooSim;
use super::error::{WooError, php_list};
use super::http::{
    Paging, Reply, Req, bool_param, date_param, enum_param, id_list_param, int_param, list_param, paging,
};
use super::json::OJson;
use super::lifecycle::{self, NewOrder, ORDER_STATUSES};
use super::model::{Address, Order};
use super::order_items;
use super::pricing::{self, FeeIn, ShipIn};
use super::view_order::{note_json, order_json};

fn invalid_id(status: u16) -> WooError {
    WooError::new(status, "woocommerce_rest_shop_order_invalid_id", "Invalid ID.")
}

struct Filter {
    statuses: Vec<String>,
    customer: Option<i64>,
    product: Option<i64>,
    include: Option<Vec<u64>>,
    exclude: Option<Vec<u64>>,
    after: Option<DateTime<Utc>>,
    before: Option<DateTime<Utc>>,
    modified_after: Option<DateTime<Utc>>,
    modified_before: Option<DateTime<Utc>>,
    search: Option<String>,
}

impl Filter {
    fn keeps(&self, o: &Order) -> bool {
        let status_ok = if self.statuses.iter().any(|s| s == "any") {
            o.status != "trash" || self.statuses.iter().any(|s| s == "trash")
        } else {
            self.statuses.contains(&o.status)
        };
        status_ok
            && self.customer.is_none_or(|c| o.customer_id as i64 == c)
            && self
                .product
                .is_none_or(|p| o.lines.iter().any(|l| l.product_id as i64 == p || l.variation_id as i64 == p))
            && self.include.as_ref().is_none_or(|ids| ids.is_empty() || ids.contains(&o.id))
            && self.exclude.as_ref().is_none_or(|ids| !ids.contains(&o.id))
            && self.after.is_none_or(|t| o.date_created > t)
            && self.before.is_none_or(|t| o.date_created < t)
            && self.modified_after.is_none_or(|t| o.date_modified > t)
            && self.modified_before.is_none_or(|t| o.date_modified < t)
            && self.search.as_ref().is_none_or(|s| {
                let hay = format!("{} {} {} {}", o.billing.first_name, o.billing.last_name, o.billing.email, o.id);
                hay.to_lowercase().contains(&s.to_lowercase())
            })
    }
}

/// The `status` filter: a list whose every entry is a known status, `any` or `trash`.
fn status_filter(req: &Req) -> Result<Vec<String>, WooError> {
    let Some(list) = list_param(req, "status") else { return Ok(vec!["any".into()]) };
    let mut allowed = vec!["any", "trash"];
    allowed.extend_from_slice(ORDER_STATUSES);
    for (i, s) in list.iter().enumerate() {
        if !allowed.contains(&s.as_str()) {
            let message = format!("status[{i}] is not one of {}.", php_list(&allowed));
            return Err(WooError::invalid_param("status", "rest_not_in_enum", message));
        }
    }
    Ok(if list.is_empty() { vec!["any".into()] } else { list })
}

pub(crate) fn list(sim: &WooSim, req: &Req) -> Result<Reply, WooError> {
    let p: Paging = paging(req, 10)?;
    let gmt = bool_param(req, "dates_are_gmt")?.unwrap_or(false);
    let desc = enum_param(req, "order", &["asc", "desc"])?.is_none_or(|o| o == "desc");
    let orderby = enum_param(req, "orderby", &["date", "id", "include", "title", "slug", "modified"])?;
    let statuses = status_filter(req)?;
    let offset = sim.store().offset;
    let date = |name| date_param(req, name, gmt, offset);
    let filter = Filter {
        statuses,
        customer: int_param(req, "customer", None)?,
        product: int_param(req, "product", None)?,
        include: id_list_param(req, "include"),
        exclude: id_list_param(req, "exclude"),
        after: date("after")?,
        before: date("before")?,
        modified_after: date("modified_after")?,
        modified_before: date("modified_before")?,
        search: req.str_param("search").filter(|s| !s.is_empty()),
    };
    req.can_list()?;
    let store = sim.store();
    let mut orders: Vec<&Order> = store.orders.values().filter(|o| filter.keeps(o)).collect();
    let include = filter.include.clone().unwrap_or_default();
    orders.sort_by(|a, b| {
        let ord = match orderby.as_deref() {
            Some("modified") => a.date_modified.cmp(&b.date_modified).then(a.id.cmp(&b.id)),
            Some("id") | Some("title") | Some("slug") => a.id.cmp(&b.id),
            Some("include") => {
                let pos = |id| include.iter().position(|i| *i == id).unwrap_or(usize::MAX);
                return pos(a.id).cmp(&pos(b.id));
            }
            _ => a.date_created.cmp(&b.date_created).then(a.id.cmp(&b.id)),
        };
        if desc { ord.reverse() } else { ord }
    });
    let total = orders.len();
    let page: Vec<_> = p.window(orders).into_iter().map(|o| order_json(&store, o, &req.base)).collect();
    Ok(Reply::shaped(req, 200, &page).paged(req, "/wc/v3/orders", total, &p, true))
}

pub(crate) fn get(sim: &WooSim, req: &Req, id: u64) -> Result<Reply, WooError> {
    req.can_view()?;
    let store = sim.store();
    let o = store.orders.get(&id).ok_or_else(|| invalid_id(404))?;
    Ok(Reply::shaped(req, 200, &order_json(&store, o, &req.base)))
}

fn status_param(req: &Req) -> Result<Option<String>, WooError> {
    enum_param(req, "status", ORDER_STATUSES)
}

pub(crate) fn address(value: Option<&OJson>, mut base: Address) -> Address {
    let Some(fields) = value.and_then(OJson::as_object) else { return base };
    for (k, v) in fields {
        let v = v.to_php_string().unwrap_or_default();
        match k.as_str() {
            "first_name" => base.first_name = v,
            "last_name" => base.last_name = v,
            "company" => base.company = v,
            "address_1" => base.address_1 = v,
            "address_2" => base.address_2 = v,
            "city" => base.city = v,
            "state" => base.state = v,
            "postcode" => base.postcode = v,
            "country" => base.country = v,
            "email" => base.email = v,
            "phone" => base.phone = v,
            _ => {}
        }
    }
    base
}

fn items(body: &OJson, key: &str) -> Vec<OJson> {
    body.get(key).and_then(OJson::as_array).map(<[OJson]>::to_vec).unwrap_or_default()
}

fn text(v: &OJson, key: &str) -> String {
    v.get(key).and_then(OJson::to_php_string).unwrap_or_default()
}

fn money(v: &OJson, key: &str) -> Decimal {
    v.get(key).and_then(OJson::as_decimal).unwrap_or_default()
}

fn meta_pairs(body: &OJson) -> Vec<(Option<u64>, String, OJson)> {
    items(body, "meta_data")
        .iter()
        .filter_map(|m| {
            Some((m.get("id").and_then(OJson::as_u64), m.get("key")?.to_php_string()?, m.get("value").cloned()?))
        })
        .collect()
}

pub(crate) fn create(sim: &WooSim, req: &Req) -> Result<Reply, WooError> {
    let status = status_param(req)?;
    let set_paid = bool_param(req, "set_paid")?.unwrap_or(false);
    req.can_create()?;
    let body = req.body();
    let new = NewOrder {
        customer_id: body.get("customer_id").and_then(OJson::as_u64).unwrap_or(0),
        billing: address(body.get("billing"), Address::default()),
        shipping: address(body.get("shipping"), Address::default()),
        lines: items(&body, "line_items")
            .iter()
            .map(|l| {
                let id = |k| l.get(k).and_then(OJson::as_u64).unwrap_or(0);
                (id("product_id"), id("variation_id"), l.get("quantity").and_then(OJson::as_i64).unwrap_or(1))
            })
            .collect(),
        coupons: items(&body, "coupon_lines").iter().map(|c| text(c, "code")).collect(),
        shipping_lines: items(&body, "shipping_lines")
            .iter()
            .map(|s| ShipIn {
                method_id: text(s, "method_id"),
                method_title: text(s, "method_title"),
                instance_id: text(s, "instance_id"),
                total: money(s, "total"),
            })
            .collect(),
        fees: items(&body, "fee_lines")
            .iter()
            .map(|f| FeeIn {
                name: text(f, "name"),
                total: money(f, "total"),
                taxable: text(f, "tax_status") != "none",
            })
            .collect(),
        payment_method: text(&body, "payment_method"),
        payment_method_title: text(&body, "payment_method_title"),
        transaction_id: text(&body, "transaction_id"),
        status: status.unwrap_or_else(|| "pending".into()),
        set_paid,
        customer_note: text(&body, "customer_note"),
        created_via: "rest-api".into(),
        meta: meta_pairs(&body).into_iter().map(|(_, k, v)| (k, v)).collect(),
        enforce_stock: false,
    };
    let id = sim.with_store(|store| lifecycle::create_order(store, new)).map_err(|e| e.to_rest())?;
    let store = sim.store();
    let json = order_json(&store, &store.orders[&id], &req.base);
    Ok(Reply::created(&json, req.url(&format!("/wc/v3/orders/{id}"))))
}

/// Keys whose presence makes `save_object` run `calculate_totals(true)`. Only `line_items` (and the
/// addresses) are edited here; `shipping_lines`, `fee_lines` and `coupon_lines` are not applied
/// yet, so for them the recalculation changes nothing.
const RECALCULATE_ON: &[&str] = &["billing", "shipping", "line_items", "shipping_lines", "fee_lines", "coupon_lines"];

pub(crate) fn update(sim: &WooSim, req: &Req, id: u64) -> Result<Reply, WooError> {
    let status = status_param(req)?;
    let set_paid = bool_param(req, "set_paid")?.unwrap_or(false);
    let body = req.body();
    let line_edits = order_items::parse(&body)?;
    req.can_edit()?;
    sim.with_store(|store| {
        let now = store.now();
        let mut o = store.orders.get(&id).cloned().ok_or_else(|| invalid_id(400))?;
        let mut meta = std::mem::take(&mut o.meta);
        for (meta_id, key, value) in meta_pairs(&body) {
            store.upsert_meta(&mut meta, meta_id, &key, value);
        }
        o.meta = meta;
        o.billing = address(body.get("billing"), o.billing);
        o.shipping = address(body.get("shipping"), o.shipping);
        for (key, slot) in [
            ("customer_note", &mut o.customer_note),
            ("transaction_id", &mut o.transaction_id),
            ("payment_method", &mut o.payment_method),
            ("payment_method_title", &mut o.payment_method_title),
        ] {
            if let Some(v) = body.get(key).and_then(OJson::to_php_string) {
                *slot = v;
            }
        }
        if let Some(edits) = &line_edits
            && let Err(stopped) = order_items::apply(store, &mut o, edits)
        {
            // What WooCommerce had saved before it threw stays; the order itself is not saved.
            if let Some(stored) = store.orders.get_mut(&id) {
                for line in stopped.saved {
                    if let Some(slot) = stored.lines.iter_mut().find(|l| l.id == line.id) {
                        *slot = line;
                    }
                }
            }
            return Err(stopped.error);
        }
        if RECALCULATE_ON.iter().any(|k| body.get(k).is_some_and(|v| !v.is_null())) {
            pricing::recalculate(store, &mut o);
        }
        o.date_modified = now;
        store.orders.insert(id, o);
        match status {
            _ if set_paid => lifecycle::payment_complete(store, id),
            Some(s) => lifecycle::set_status(store, id, &s),
            None => store.hook("order.updated", id),
        }
        Ok::<(), WooError>(())
    })?;
    let store = sim.store();
    Ok(Reply::ok(&order_json(&store, &store.orders[&id], &req.base)))
}

pub(crate) fn delete(sim: &WooSim, req: &Req, id: u64) -> Result<Reply, WooError> {
    let force = req.force()?;
    req.can_delete()?;
    sim.with_store(|store| {
        let o = store.orders.get(&id).ok_or_else(|| invalid_id(404))?;
        let before = Reply::ok(&order_json(store, o, &req.base));
        if force {
            store.orders.remove(&id);
            store.refunds.retain(|_, r| r.order_id != id);
            store.notes.retain(|_, n| n.order_id != id);
        } else if o.status == "trash" {
            // [INFERRED] from `WC_REST_CRUD_Controller::delete_item` (the post type in the message).
            return Err(WooError::new(
                410,
                "woocommerce_rest_already_trashed",
                "The shop_order has already been deleted.",
            ));
        } else {
            lifecycle::trash(store, id);
        }
        Ok(before)
    })
}

fn order_missing() -> WooError {
    WooError::new(404, "woocommerce_rest_shop_order_invalid_id", "Invalid order ID.")
}

pub(crate) fn notes(sim: &WooSim, req: &Req, order_id: u64) -> Result<Reply, WooError> {
    let kind = enum_param(req, "type", &["any", "customer", "internal"])?.unwrap_or_else(|| "any".into());
    req.can_list()?;
    let store = sim.store();
    if !store.orders.contains_key(&order_id) {
        return Err(order_missing());
    }
    let mut notes: Vec<_> = store
        .notes
        .values()
        .filter(|n| n.order_id == order_id)
        .filter(|n| kind == "any" || (kind == "customer") == n.customer_note)
        .collect();
    notes.sort_by(|a, b| b.date_created.cmp(&a.date_created).then(a.id.cmp(&b.id)));
    let out: Vec<_> = notes.into_iter().map(|n| note_json(&store, n, &req.base)).collect();
    Ok(Reply::ok(&out))
}

pub(crate) fn note(sim: &WooSim, req: &Req, order_id: u64, note_id: u64) -> Result<Reply, WooError> {
    req.can_view()?;
    let store = sim.store();
    if !store.orders.contains_key(&order_id) {
        return Err(order_missing());
    }
    let n = store
        .notes
        .get(&note_id)
        .filter(|n| n.order_id == order_id)
        .ok_or_else(|| WooError::new(404, "woocommerce_rest_invalid_id", "Invalid resource ID."))?;
    Ok(Reply::ok(&note_json(&store, n, &req.base)))
}

pub(crate) fn add_note(sim: &WooSim, req: &Req, order_id: u64) -> Result<Reply, WooError> {
    if !req.has_param("note") {
        return Err(WooError::missing_params(&["note"]));
    }
    let customer_note = bool_param(req, "customer_note")?.unwrap_or(false);
    req.can_create()?;
    let mut store = sim.store();
    if !store.orders.contains_key(&order_id) {
        return Err(order_missing());
    }
    let text = req.str_param("note").unwrap_or_default();
    if text.is_empty() {
        return Err(WooError::new(
            500,
            "woocommerce_api_cannot_create_order_note",
            "Cannot create order note, please try again.",
        ));
    }
    let id = store.add_note(order_id, text, customer_note);
    let json = note_json(&store, &store.notes[&id], &req.base);
    Ok(Reply::created(&json, req.url(&format!("/wc/v3/orders/{order_id}/notes/{id}"))))
}
