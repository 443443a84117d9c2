//! `/wc/v3/products/<id>/variations`. A variation is a product record of its own (its own id in
//! the post sequence, SKU and stock) named after its parent and options ("Logo T-Shirt - M").

use std::cmp::Reverse;

use super::WooSim;
use super::error::WooError;
use super::http::{Reply, Req, paging};
use super::json::OJson;
use super::model::{Kind, Product};
use super::products::{apply, blank, check_sku, delete_product, invalid_id, invalid_variation};
use super::store::{Store, sanitize_title};
use super::view_product::variation_json;

fn parent_of(store: &Store, parent_id: u64) -> Result<&Product, WooError> {
    store.products.get(&parent_id).filter(|p| p.kind == Kind::Variable).ok_or_else(|| invalid_id(404))
}

fn variation_of(store: &Store, parent_id: u64, id: u64, status: u16) -> Result<(), WooError> {
    match store.products.get(&id) {
        Some(v) if v.kind == Kind::Variation && v.parent_id == parent_id => Ok(()),
        _ => Err(invalid_variation(status)),
    }
}

pub(crate) fn create_variation(store: &mut Store, parent_id: u64, body: &OJson) -> Result<u64, WooError> {
    let parent = parent_of(store, parent_id)?.clone();
    if let Some(sku) = body.get("sku").and_then(OJson::to_php_string) {
        check_sku(store, 0, sku.trim())?;
    }
    let now = store.now();
    let mut v = blank(store.post_id(), Kind::Variation, now);
    v.parent_id = parent_id;
    v.variation_attrs = body
        .get("attributes")
        .and_then(OJson::as_array)
        .unwrap_or_default()
        .iter()
        .filter_map(|a| {
            let name = a
                .get("name")
                .and_then(OJson::to_php_string)
                .or_else(|| parent.attributes.first().map(|x| x.name.clone()))?;
            Some((name, a.get("option")?.to_php_string()?))
        })
        .collect();
    apply(store, &mut v, body)?;
    let options: Vec<&str> = v.variation_attrs.iter().map(|(_, o)| o.as_str()).collect();
    v.name = if options.is_empty() { parent.name.clone() } else { format!("{} - {}", parent.name, options.join(", ")) };
    v.slug = store.unique_slug(&sanitize_title(&v.name), v.id);
    store.slug_index.insert(v.slug.clone(), v.id);
    let id = v.id;
    store.products.insert(id, v);
    store.products.get_mut(&parent_id).expect("parent exists").children.push(id);
    store.hook("product.created", id);
    Ok(id)
}

pub(crate) fn update_variation(store: &mut Store, parent_id: u64, id: u64, body: &OJson) -> Result<(), WooError> {
    variation_of(store, parent_id, id, 400)?;
    let mut v = store.products[&id].clone();
    apply(store, &mut v, body)?;
    store.products.insert(id, v);
    store.hook("product.updated", id);
    Ok(())
}

pub(crate) fn list(sim: &WooSim, req: &Req, parent_id: u64) -> Result<Reply, WooError> {
    let p = paging(req, 10)?;
    req.can_list()?;
    let store = sim.store();
    let parent = parent_of(&store, parent_id)?;
    let mut found: Vec<&Product> = parent.children.iter().filter_map(|c| store.products.get(c)).collect();
    found.sort_by_key(|v| (Reverse(v.date_created), Reverse(v.id)));
    let total = found.len();
    let page: Vec<_> = p.window(found).into_iter().map(|v| variation_json(&store, v, &req.base)).collect();
    Ok(Reply::shaped(req, 200, &page).paged(req, &format!("/wc/v3/products/{parent_id}/variations"), total, &p, false))
}

pub(crate) fn get(sim: &WooSim, req: &Req, parent_id: u64, id: u64) -> Result<Reply, WooError> {
    req.can_view()?;
    let store = sim.store();
    variation_of(&store, parent_id, id, 404)?;
    Ok(Reply::shaped(req, 200, &variation_json(&store, &store.products[&id], &req.base)))
}

pub(crate) fn create(sim: &WooSim, req: &Req, parent_id: u64) -> Result<Reply, WooError> {
    req.can_create()?;
    let body = req.body();
    let id = sim.with_store(|store| create_variation(store, parent_id, &body))?;
    let store = sim.store();
    let json = variation_json(&store, &store.products[&id], &req.base);
    // As with refunds, WooCommerce 7.9 writes the route pattern into this header.
    Ok(Reply::created(&json, req.url(&format!("/wc/v3/products/(?P<product_id>[\\d]+)/variations/{id}"))))
}

pub(crate) fn update(sim: &WooSim, req: &Req, parent_id: u64, id: u64) -> Result<Reply, WooError> {
    req.can_edit()?;
    let body = req.body();
    sim.with_store(|store| update_variation(store, parent_id, id, &body))?;
    let store = sim.store();
    Ok(Reply::ok(&variation_json(&store, &store.products[&id], &req.base)))
}

pub(crate) fn delete(sim: &WooSim, req: &Req, parent_id: u64, id: u64) -> Result<Reply, WooError> {
    let force = req.force()?;
    req.can_delete()?;
    sim.with_store(|store| {
        variation_of(store, parent_id, id, 404)?;
        let before = Reply::ok(&variation_json(store, &store.products[&id], &req.base));
        delete_product(store, id, force);
        Ok(before)
    })
}
