//! `/wc/v3/webhooks`. Creating a webhook pings its URL even when it is created paused; an update
//! pings only when the webhook is active and its URL changed or no ping ever got a 200
//! (`WC_Webhook_Data_Store::update`). The secret is never shown, and webhooks cannot be trashed.

use serde::Serialize;

use super::WooSim;
use super::error::WooError;
use super::http::{Links, Paging, Reply, Req, enum_param, paging};
use super::model::Webhook;
use super::store::Store;

const STATUSES: &[&str] = &["active", "paused", "disabled"];
const RESOURCES: &[&str] = &["coupon", "customer", "order", "product"];
const EVENTS: &[&str] = &["created", "updated", "deleted", "restored"];

/// `wc_is_webhook_valid_topic`.
fn valid_topic(topic: &str) -> bool {
    match topic.split_once('.') {
        Some(("action", action)) => !action.is_empty(),
        Some((resource, event)) => RESOURCES.contains(&resource) && EVENTS.contains(&event),
        None => false,
    }
}

/// The WordPress hooks each topic listens to in WooCommerce 7.9.
fn hooks(topic: &str) -> Vec<String> {
    let list: &[&str] = match topic {
        "coupon.created" => &["woocommerce_process_shop_coupon_meta", "woocommerce_new_coupon"],
        "coupon.updated" => &["woocommerce_process_shop_coupon_meta", "woocommerce_update_coupon"],
        "customer.created" => &["user_register", "woocommerce_created_customer", "woocommerce_new_customer"],
        "customer.updated" => &["profile_update", "woocommerce_update_customer"],
        "customer.deleted" => &["delete_user"],
        "order.created" => &["woocommerce_new_order"],
        "order.updated" => &["woocommerce_update_order", "woocommerce_order_refunded"],
        "product.created" => {
            &["woocommerce_process_product_meta", "woocommerce_new_product", "woocommerce_new_product_variation"]
        }
        "product.updated" => {
            &["woocommerce_process_product_meta", "woocommerce_update_product", "woocommerce_update_product_variation"]
        }
        t if t.ends_with(".deleted") => &["wp_trash_post"],
        t if t.ends_with(".restored") => &["untrashed_post"],
        t => return t.strip_prefix("action.").map(|a| vec![a.to_owned()]).unwrap_or_default(),
    };
    list.iter().map(|h| (*h).to_owned()).collect()
}

#[derive(Serialize)]
struct WebhookJson {
    id: u64,
    name: String,
    status: String,
    topic: String,
    resource: String,
    event: String,
    hooks: Vec<String>,
    delivery_url: String,
    date_created: String,
    date_created_gmt: String,
    date_modified: Option<String>,
    date_modified_gmt: Option<String>,
    _links: Links,
}

fn gmt(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S").to_string()
}

fn json(store: &Store, w: &Webhook, base: &str) -> WebhookJson {
    WebhookJson {
        id: w.id,
        name: w.name.clone(),
        status: w.status.clone(),
        topic: w.topic.clone(),
        resource: w.resource().to_owned(),
        event: w.event().to_owned(),
        hooks: hooks(&w.topic),
        delivery_url: w.delivery_url.clone(),
        date_created: store.local(w.date_created),
        date_created_gmt: gmt(w.date_created),
        date_modified: w.date_modified.map(|t| store.local(t)),
        date_modified_gmt: w.date_modified.map(gmt),
        _links: Links::new(base, "/wc/v3/webhooks", w.id),
    }
}

/// Saves a webhook (bumps `date_modified`); true when WooCommerce would ping it now.
pub(crate) fn save(store: &mut Store, id: u64, url_changed: bool) -> bool {
    let now = store.now();
    let Some(w) = store.webhooks.get_mut(&id) else { return false };
    w.date_modified = Some(now);
    w.status == "active" && (url_changed || w.pending_delivery)
}

fn invalid_id() -> WooError {
    WooError::new(400, "woocommerce_rest_shop_webhook_invalid_id", "ID is invalid.")
}

fn valid_url(url: &str) -> bool {
    url::Url::parse(url).is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
}

pub(crate) fn list(sim: &WooSim, req: &Req) -> Result<Reply, WooError> {
    let p: Paging = paging(req, 10)?;
    let status = enum_param(req, "status", &["all", "active", "paused", "disabled"])?;
    req.can_list()?;
    let store = sim.store();
    let mut hooks: Vec<&Webhook> =
        store.webhooks.values().filter(|w| status.as_deref().is_none_or(|s| s == "all" || w.status == s)).collect();
    hooks.sort_by(|a, b| b.date_created.cmp(&a.date_created).then(b.id.cmp(&a.id)));
    let total = hooks.len();
    let page: Vec<WebhookJson> = p.window(hooks).into_iter().map(|w| json(&store, w, &req.base)).collect();
    Ok(Reply::ok(&page).paged(req, "/wc/v3/webhooks", total, &p, false))
}

pub(crate) fn get(sim: &WooSim, req: &Req, id: u64) -> Result<Reply, WooError> {
    req.can_view()?;
    let store = sim.store();
    let w = store.webhooks.get(&id).ok_or_else(invalid_id)?;
    Ok(Reply::ok(&json(&store, w, &req.base)))
}

pub(crate) fn create(sim: &WooSim, req: &Req) -> Result<Reply, WooError> {
    let missing: Vec<&str> = ["topic", "delivery_url"].into_iter().filter(|n| !req.has_param(n)).collect();
    if !missing.is_empty() {
        return Err(WooError::missing_params(&missing));
    }
    let status = enum_param(req, "status", STATUSES)?.unwrap_or_else(|| "active".into());
    req.can_create()?;
    let topic = req.str_param("topic").unwrap_or_default().to_lowercase();
    // [INFERRED] Codes and messages of these two checks come from the controller, not a recording.
    if !valid_topic(&topic) {
        return Err(WooError::new(
            400,
            "woocommerce_rest_shop_webhook_invalid_topic",
            "Webhook topic is required and must be valid.",
        ));
    }
    let url = req.str_param("delivery_url").unwrap_or_default();
    if !valid_url(&url) {
        let message = "Webhook delivery URL must be a valid URL starting with http:// or https://.";
        return Err(WooError::new(400, "woocommerce_rest_shop_webhook_invalid_delivery_url", message));
    }
    let (id, reply) = {
        let mut store = sim.store();
        let id = store.webhook_id();
        let now = store.now();
        // [INFERRED] The default name and secret follow the REST controller's `create_item`.
        let name = req.str_param("name").filter(|n| !n.is_empty()).unwrap_or_else(|| {
            format!("Webhook created on {}", now.with_timezone(&store.offset).format("%b %d, %Y @ %I:%M %p"))
        });
        let secret = req.str_param("secret").filter(|s| !s.is_empty()).unwrap_or_else(|| store.random_alnum(50));
        let w = Webhook {
            id,
            name,
            status,
            topic,
            delivery_url: url,
            secret,
            date_created: now,
            date_modified: None,
            failure_count: 0,
            pending_delivery: true,
        };
        let reply = Reply::created(&json(&store, &w, &req.base), req.url(&format!("/wc/v3/webhooks/{id}")));
        store.webhooks.insert(id, w);
        (id, reply)
    };
    // WooCommerce pings inside this request and ignores the outcome (the router pings before it
    // answers). An earlier version pinged from a task; the contract test against the real store
    // found the difference: there the receiver has the ping before the caller has the answer.
    let mut reply = reply;
    reply.pings.push(id);
    Ok(reply)
}

pub(crate) fn update(sim: &WooSim, req: &Req, id: u64) -> Result<Reply, WooError> {
    let status = enum_param(req, "status", STATUSES)?;
    req.can_edit()?;
    let topic = req.str_param("topic").map(|t| t.to_lowercase());
    if topic.as_deref().is_some_and(|t| !valid_topic(t)) {
        return Err(WooError::new(400, "woocommerce_rest_shop_webhook_invalid_topic", "Webhook topic must be valid."));
    }
    let url = req.str_param("delivery_url");
    if url.as_deref().is_some_and(|u| !valid_url(u)) {
        let message = "Webhook delivery URL must be a valid URL starting with http:// or https://.";
        return Err(WooError::new(400, "woocommerce_rest_shop_webhook_invalid_delivery_url", message));
    }
    let (mut reply, ping) = {
        let mut store = sim.store();
        let w = store.webhooks.get_mut(&id).ok_or_else(invalid_id)?;
        let url_changed = url.as_ref().is_some_and(|u| *u != w.delivery_url);
        if let Some(u) = url {
            w.delivery_url = u;
        }
        if let Some(s) = status {
            w.status = s;
        }
        if let Some(t) = topic {
            w.topic = t;
        }
        if let Some(n) = req.str_param("name") {
            w.name = n;
        }
        if let Some(s) = req.str_param("secret").filter(|s| !s.is_empty()) {
            w.secret = s;
        }
        let ping = save(&mut store, id, url_changed);
        (Reply::ok(&json(&store, &store.webhooks[&id], &req.base)), ping)
    };
    if ping {
        reply.pings.push(id);
    }
    Ok(reply)
}

pub(crate) fn delete(sim: &WooSim, req: &Req, id: u64) -> Result<Reply, WooError> {
    let force = req.force()?;
    req.can_delete()?;
    let mut store = sim.store();
    if !store.webhooks.contains_key(&id) {
        return Err(invalid_id());
    }
    if !force {
        return Err(WooError::new(501, "woocommerce_rest_trash_not_supported", "Webhooks do not support trashing."));
    }
    let w = store.webhooks.remove(&id).expect("checked above");
    Ok(Reply::ok(&json(&store, &w, &req.base)))
}
