//! `POST …/batch` (`WC_REST_Controller::batch_items`): at most 100 items over create, update and
//! delete together (413 above), items run one after the other, and a failing item never fails
//! the batch: it answers 200 with `{"id", "error": {code, message, data}}` in the item's slot.
//! Only the sections sent come back; deletes are forced.

use super::WooSim;
use super::error::WooError;
use super::http::{Reply, Req};
use super::json::OJson;
use super::products::{create_product, delete_product, invalid_id, invalid_variation, update_product};
use super::store::Store;
use super::variations::{create_variation, update_variation};
use super::view_product::{Ctx, product_json, variation_json};

const LIMIT: usize = 100;

/// Which collection a batch writes to.
#[derive(Clone, Copy)]
pub(crate) enum Target {
    Products,
    Variations(u64),
}

impl Target {
    fn create(self, store: &mut Store, body: &OJson) -> Result<u64, WooError> {
        match self {
            Target::Products => create_product(store, body),
            Target::Variations(parent) => create_variation(store, parent, body),
        }
    }

    fn update(self, store: &mut Store, id: u64, body: &OJson) -> Result<(), WooError> {
        match self {
            Target::Products => update_product(store, id, body),
            Target::Variations(parent) => update_variation(store, parent, id, body),
        }
    }

    fn exists(self, store: &Store, id: u64) -> Result<(), WooError> {
        let found = store.products.get(&id);
        match self {
            Target::Products if found.is_some() => Ok(()),
            Target::Variations(parent) if found.is_some_and(|v| v.parent_id == parent) => Ok(()),
            Target::Products => Err(invalid_id(404)),
            Target::Variations(_) => Err(invalid_variation(404)),
        }
    }

    fn render(self, store: &Store, id: u64, base: &str) -> OJson {
        let p = &store.products[&id];
        match self {
            Target::Products => OJson::from_serialize(&product_json(store, p, base, Ctx::Write)),
            Target::Variations(_) => OJson::from_serialize(&variation_json(store, p, base)),
        }
    }
}

fn failed(id: u64, e: WooError) -> OJson {
    OJson::obj([
        ("id", OJson::int(id as i64)),
        ("error", OJson::obj([("code", OJson::Str(e.code)), ("message", OJson::Str(e.message)), ("data", e.data)])),
    ])
}

fn section<'a>(body: &'a OJson, key: &str) -> Option<&'a [OJson]> {
    body.get(key).map(|v| v.as_array().unwrap_or_default())
}

pub(crate) fn run(sim: &WooSim, req: &Req, target: Target) -> Result<Reply, WooError> {
    req.can_batch()?;
    let body = req.body();
    let (create, update, delete) = (section(&body, "create"), section(&body, "update"), section(&body, "delete"));
    let count = [create, update, delete].iter().map(|s| s.map_or(0, <[OJson]>::len)).sum::<usize>();
    if count > LIMIT {
        let message = format!("Unable to accept more than {LIMIT} items for this request.");
        return Err(WooError::new(413, "woocommerce_rest_request_entity_too_large", message));
    }
    if let Target::Variations(parent) = target
        && !sim.store().products.contains_key(&parent)
    {
        return Err(invalid_id(404));
    }
    sim.count(|c| c.batch_requests += 1);
    let base = req.base.clone();
    let out = sim.with_store(|store| {
        let mut out = Vec::new();
        if let Some(items) = create {
            let done = items
                .iter()
                .map(|item| match target.create(store, item) {
                    Ok(id) => target.render(store, id, &base),
                    Err(e) => failed(0, e),
                })
                .collect();
            out.push(("create", OJson::Arr(done)));
        }
        if let Some(items) = update {
            let done = items
                .iter()
                .map(|item| {
                    let id = item.get("id").and_then(OJson::as_u64).unwrap_or(0);
                    match target.update(store, id, item) {
                        Ok(()) => target.render(store, id, &base),
                        Err(e) => failed(id, e),
                    }
                })
                .collect();
            out.push(("update", OJson::Arr(done)));
        }
        if let Some(items) = delete {
            let done = items
                .iter()
                .map(|item| {
                    let id = item.as_u64().or_else(|| item.get("id").and_then(OJson::as_u64)).unwrap_or(0);
                    match target.exists(store, id) {
                        Ok(()) => {
                            let before = target.render(store, id, &base);
                            delete_product(store, id, true);
                            before
                        }
                        Err(e) => failed(id, e),
                    }
                })
                .collect();
            out.push(("delete", OJson::Arr(done)));
        }
        out
    });
    let mut reply = Reply::ok(&OJson::obj(out));
    reply.batch_items = count;
    Ok(reply)
}
