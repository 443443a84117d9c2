//! The control API: what a shopper, an admin or Stripe would do to the store, for tests, the
//! demo and benchmarks. Each call goes through the same code as the REST routes (so stock,
//! notes, totals and webhooks behave identically) and fires the webhooks WooCommerce would.

use rust_decimal::Decimal;

use super::control_types::{Checkout, NewProduct, NewVariableProduct, Order, OrderLine, PayoutSpec, RefundLine};
use super::error::{CheckoutError, SimError, WooError};
use super::json::OJson;
use super::lifecycle::{self, NewOrder, ORDER_STATUSES};
use super::model::{Coupon, Kind};
use super::money::round2;
use super::pricing::{FeeIn, ShipIn};
use super::refunds::{ItemRefund, RefundRequest, create_refund};
use super::store::Customer;
use super::view_order::order_json;
use super::view_product::{Ctx, product_json};
use super::{WooSim, payments, products, variations, webhooks};

/// A refund line with its missing amounts taken from the order item, pro rata of the quantity.
fn pro_rata(o: &super::model::Order, l: &RefundLine) -> ItemRefund {
    let (quantity, total, taxes) = match o.lines.iter().find(|x| x.id == l.item_id) {
        Some(x) => (x.quantity, x.total, x.taxes.as_slice()),
        None => match o.shipping_lines.iter().find(|s| s.id == l.item_id) {
            Some(s) => (0, s.total, s.taxes.as_slice()),
            None => (0, Decimal::ZERO, &[][..]),
        },
    };
    let share =
        |d: Decimal| if quantity == 0 { d } else { round2(d * Decimal::from(l.quantity) / Decimal::from(quantity)) };
    ItemRefund {
        item_id: l.item_id,
        qty: l.quantity,
        total: l.refund_total.unwrap_or_else(|| share(total)),
        tax: l.refund_tax.clone().unwrap_or_else(|| taxes.iter().map(|t| (t.rate_id, share(t.total))).collect()),
    }
}

fn not_found(what: &str, id: u64) -> SimError {
    SimError { status: 404, code: "not_found".into(), message: format!("{what} {id} does not exist") }
}

impl WooSim {
    /// Adds a simple product; panics on a duplicate SKU (see [`WooSim::try_add_product`]).
    pub fn add_product(&self, p: NewProduct) -> u64 {
        let sku = p.sku.clone();
        self.try_add_product(p).unwrap_or_else(|e| panic!("cannot add product {sku}: {e}"))
    }

    /// Adds a variable product and its variations; panics on a duplicate SKU.
    pub fn add_variable_product(&self, p: NewVariableProduct) -> (u64, Vec<u64>) {
        let sku = p.sku.clone();
        self.try_add_variable_product(p).unwrap_or_else(|e| panic!("cannot add product {sku}: {e}"))
    }

    pub fn try_add_product(&self, p: NewProduct) -> Result<u64, SimError> {
        let body = OJson::obj([
            ("name", OJson::Str(p.name)),
            ("type", OJson::str("simple")),
            ("sku", OJson::Str(p.sku)),
            ("regular_price", OJson::Str(p.regular_price.to_string())),
            ("sale_price", OJson::Str(p.sale_price.map(|d| d.to_string()).unwrap_or_default())),
            ("manage_stock", OJson::Bool(p.manage_stock)),
            ("stock_quantity", p.stock_quantity.map(OJson::int).unwrap_or_default()),
            ("backorders", OJson::Str(p.backorders)),
        ]);
        Ok(self.with_store(|s| products::create_product(s, &body))?)
    }

    /// Returns the parent id and the variation ids in the given order.
    pub fn try_add_variable_product(&self, p: NewVariableProduct) -> Result<(u64, Vec<u64>), SimError> {
        let options: Vec<OJson> = p.variations.iter().map(|v| OJson::str(&v.option)).collect();
        let parent = OJson::obj([
            ("name", OJson::Str(p.name)),
            ("type", OJson::str("variable")),
            ("sku", OJson::Str(p.sku)),
            (
                "attributes",
                OJson::Arr(vec![OJson::obj([("name", OJson::str(&p.attribute)), ("options", OJson::Arr(options))])]),
            ),
        ]);
        let result = self.with_store(|s| {
            let parent_id = products::create_product(s, &parent)?;
            let mut ids = Vec::new();
            for v in &p.variations {
                let body = OJson::obj([
                    ("sku", OJson::str(&v.sku)),
                    ("regular_price", OJson::Str(v.regular_price.to_string())),
                    ("manage_stock", OJson::Bool(v.manage_stock)),
                    ("stock_quantity", v.stock_quantity.map(OJson::int).unwrap_or_default()),
                    (
                        "attributes",
                        OJson::Arr(vec![OJson::obj([
                            ("name", OJson::str(&p.attribute)),
                            ("option", OJson::str(&v.option)),
                        ])]),
                    ),
                ]);
                ids.push(variations::create_variation(s, parent_id, &body)?);
            }
            Ok::<_, WooError>((parent_id, ids))
        });
        Ok(result?)
    }

    pub fn add_customer(&self, first_name: &str, last_name: &str, email: &str) -> u64 {
        let mut store = self.store();
        let id = store.user_id();
        let c = Customer { first_name: first_name.into(), last_name: last_name.into(), email: email.into() };
        store.customers.insert(id, c);
        id
    }

    /// `discount_type`: `percent` or `fixed_cart`; `amount` as an admin types it (`"10"`).
    pub fn add_coupon(&self, code: &str, discount_type: &str, amount: &str) -> u64 {
        let mut store = self.store();
        let id = store.post_id();
        let date_created = store.now();
        let c = Coupon {
            id,
            code: code.to_lowercase(),
            discount_type: discount_type.into(),
            amount: amount.into(),
            date_created,
            usage_count: 0,
        };
        store.coupons.insert(c.code.clone(), c);
        id
    }

    /// A storefront checkout: refuses lines without enough stock (unless backorders are allowed),
    /// takes the stock atomically and fires `order.created`, `order.updated` and `product.updated`.
    pub fn checkout(&self, c: Checkout) -> Result<Order, CheckoutError> {
        // [INFERRED] Each core gateway's first status: BACS and cheque wait on-hold, COD
        // processes unpaid, card gateways (WooPayments, Stripe) pay at once.
        let status = c.status.clone().unwrap_or_else(|| {
            match c.payment_method.as_str() {
                "bacs" | "cheque" => "on-hold",
                "cod" => "processing",
                _ => "",
            }
            .to_owned()
        });
        let paid = status.is_empty();
        let shipping = c.shipping_address.clone().unwrap_or_else(|| c.billing.clone());
        let new = NewOrder {
            customer_id: c.customer_id,
            billing: c.billing,
            shipping,
            lines: c.lines.iter().map(|l| (l.product_id, l.variation_id, l.quantity)).collect(),
            coupons: c.coupons,
            shipping_lines: c
                .shipping_method
                .into_iter()
                .map(|s| ShipIn {
                    method_id: s.method_id,
                    method_title: s.method_title,
                    instance_id: s.instance_id,
                    total: s.total,
                })
                .collect(),
            fees: c.fees.into_iter().map(|f| FeeIn { name: f.name, total: f.total, taxable: f.taxable }).collect(),
            payment_method: c.payment_method,
            payment_method_title: c.payment_method_title,
            transaction_id: String::new(),
            status: if paid { "pending".into() } else { status },
            set_paid: paid,
            customer_note: c.customer_note,
            created_via: "checkout".into(),
            meta: Vec::new(),
            enforce_stock: true,
        };
        let result = self.with_store(|store| {
            let id = lifecycle::create_order(store, new)?;
            let hash = store.random_hex(32);
            let o = store.orders.get_mut(&id).expect("just created");
            o.customer_ip_address = "203.0.113.7".into();
            o.customer_user_agent = "Mozilla/5.0 (X11; Linux x86_64) wns-sim".into();
            o.cart_hash = hash;
            Ok(id)
        });
        self.count(|k| if result.is_ok() { k.checkouts += 1 } else { k.checkouts_refused += 1 });
        result.map(|id| self.order_summary(id).expect("just created"))
    }

    pub fn order_summary(&self, id: u64) -> Option<Order> {
        let store = self.store();
        let o = store.orders.get(&id)?;
        Some(Order {
            id,
            number: id.to_string(),
            order_key: o.order_key.clone(),
            status: o.status.clone(),
            currency: o.currency.clone(),
            total: o.totals.total,
            total_tax: o.totals.total_tax,
            lines: o
                .lines
                .iter()
                .map(|l| OrderLine {
                    item_id: l.id,
                    product_id: l.product_id,
                    variation_id: l.variation_id,
                    sku: l.sku.clone(),
                    quantity: l.quantity,
                    total: l.total,
                    total_tax: l.total_tax,
                })
                .collect(),
            shipping_item_ids: o.shipping_lines.iter().map(|s| s.id).collect(),
            date_created: o.date_created,
            date_modified: o.date_modified,
        })
    }

    /// The order exactly as `GET /wp-json/wc/v3/orders/<id>` returns it.
    pub fn order(&self, id: u64) -> Option<serde_json::Value> {
        let site = self.site_url();
        let store = self.store();
        store.orders.get(&id).map(|o| OJson::from_serialize(&order_json(&store, o, &site)).to_value())
    }

    /// The product (or variation, in the product schema) as `GET /products/<id>` returns it.
    pub fn product(&self, id: u64) -> Option<serde_json::Value> {
        let site = self.site_url();
        let store = self.store();
        store.products.get(&id).map(|p| OJson::from_serialize(&product_json(&store, p, &site, Ctx::Read)).to_value())
    }

    pub fn product_by_sku(&self, sku: &str) -> Option<serde_json::Value> {
        let id = *self.store().sku_index.get(sku)?;
        self.product(id)
    }

    /// Managed stock of a product or variation (`None` if unmanaged or unknown).
    pub fn stock_of(&self, id: u64) -> Option<i64> {
        self.store().products.get(&id).filter(|p| p.manage_stock).and_then(|p| p.stock_quantity)
    }

    pub fn order_ids(&self) -> Vec<u64> {
        self.store().orders.keys().copied().collect()
    }

    pub fn update_order_status(&self, id: u64, status: &str) -> Result<(), SimError> {
        if !ORDER_STATUSES.contains(&status) {
            return Err(CheckoutError::InvalidStatus(status.into()).into());
        }
        self.with_store(|store| {
            if !store.orders.contains_key(&id) {
                return Err(not_found("order", id));
            }
            lifecycle::set_status(store, id, status);
            Ok(())
        })
    }

    /// Refunds through the order's gateway when it can refund (WooPayments, Stripe), otherwise
    /// records a manual refund; restocks the refunded quantities. Returns the refund id.
    pub fn refund(
        &self,
        order_id: u64,
        amount: Option<Decimal>,
        lines: &[RefundLine],
        reason: &str,
    ) -> Result<u64, SimError> {
        self.with_store(|store| {
            let o = store.orders.get(&order_id).ok_or_else(|| not_found("order", order_id))?;
            let items = lines.iter().map(|l| pro_rata(o, l)).collect();
            let api_refund = payments::check_gateway_refund(store, order_id).is_ok();
            let request = RefundRequest { amount, reason: reason.into(), items, api_refund, api_restock: true };
            Ok(create_refund(store, order_id, request)?)
        })
    }

    /// Moves the order to the trash (`order.deleted`, body `{"id":N}`).
    pub fn delete_order(&self, id: u64) -> Result<(), SimError> {
        self.with_store(|store| match store.orders.get(&id) {
            None => Err(not_found("order", id)),
            Some(o) if o.status == "trash" => {
                Err(WooError::new(410, "woocommerce_rest_already_trashed", "The shop_order has already been deleted.")
                    .into())
            }
            Some(_) => {
                lifecycle::trash(store, id);
                Ok(())
            }
        })
    }

    /// Takes the order out of the trash with its previous status (`order.restored`).
    pub fn restore_order(&self, id: u64) -> Result<(), SimError> {
        self.with_store(
            |store| if lifecycle::untrash(store, id) { Ok(()) } else { Err(not_found("trashed order", id)) },
        )
    }

    /// Sets a product's stock as an admin would (absolute), firing `product.updated`.
    pub fn set_stock(&self, id: u64, quantity: i64) -> Result<(), SimError> {
        let body = OJson::obj([("manage_stock", OJson::Bool(true)), ("stock_quantity", OJson::int(quantity))]);
        self.with_store(|store| {
            let kind = store.products.get(&id).map(|p| p.kind).ok_or_else(|| not_found("product", id))?;
            if kind == Kind::Variable {
                return Err(SimError {
                    status: 400,
                    code: "variable_product".into(),
                    message: "stock lives on variations".into(),
                });
            }
            Ok(products::update_product(store, id, &body)?)
        })
    }

    /// Creates a webhook as `POST /webhooks` would (including the ping); returns its id.
    pub fn add_webhook(&self, topic: &str, delivery_url: &str, secret: &str) -> u64 {
        let id = {
            let mut store = self.store();
            let id = store.webhook_id();
            let now = store.now();
            store.webhooks.insert(
                id,
                super::model::Webhook {
                    id,
                    name: format!("wns {topic}"),
                    status: "active".into(),
                    topic: topic.into(),
                    delivery_url: delivery_url.into(),
                    secret: secret.into(),
                    date_created: now,
                    date_modified: None,
                    failure_count: 0,
                    pending_delivery: true,
                },
            );
            id
        };
        self.spawn_ping(id);
        id
    }

    /// `active`, `paused` or `disabled`; `None` if there is no such webhook.
    pub fn webhook_status(&self, id: u64) -> Option<String> {
        self.store().webhooks.get(&id).map(|w| w.status.clone())
    }

    /// Sets a webhook's status as an admin would (a re-enabled webhook keeps its failure count).
    /// What a shop manager does in WooCommerce > Settings > Advanced > Webhooks: a new secret.
    pub fn set_webhook_secret(&self, id: u64, secret: &str) -> Result<(), SimError> {
        self.with_store(|store| {
            let w = store.webhooks.get_mut(&id).ok_or_else(|| not_found("webhook", id))?;
            w.secret = secret.into();
            Ok(())
        })
    }

    /// A shop manager deletes the webhook in wp-admin.
    pub fn delete_webhook(&self, id: u64) -> Result<(), SimError> {
        self.with_store(|store| store.webhooks.remove(&id).map(|_| ()).ok_or_else(|| not_found("webhook", id)))
    }

    pub fn set_webhook_status(&self, id: u64, status: &str) -> Result<(), SimError> {
        let ping = self.with_store(|store| {
            let w = store.webhooks.get_mut(&id).ok_or_else(|| not_found("webhook", id))?;
            w.status = status.into();
            Ok::<_, SimError>(webhooks::save(store, id, false))
        })?;
        if ping {
            self.spawn_ping(id);
        }
        Ok(())
    }

    /// Sweeps the unpaid WooPayments transactions into a deposit; returns its id (`po_…`).
    pub fn create_payout(&self, spec: PayoutSpec) -> Result<String, SimError> {
        self.with_store(|store| payments::payout(store, &spec.status, spec.arrival_date)).ok_or_else(|| SimError {
            status: 400,
            code: "nothing_to_pay_out".into(),
            message: "no WooPayments transaction is waiting for a deposit".into(),
        })
    }

    /// A lost dispute on a WooPayments order (the whole total unless `amount`); returns the
    /// transaction id.
    pub fn add_dispute(&self, order_id: u64, amount: Option<Decimal>) -> Result<String, SimError> {
        self.with_store(|store| payments::dispute(store, order_id, amount))
            .ok_or_else(|| not_found("WooPayments order", order_id))
    }
}
