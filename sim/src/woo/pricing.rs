//! Order totals the way WooCommerce computes them, to the cent: coupons are split over lines in
//! whole cents (`WC_Discounts`, largest line first, leftover cents one at a time), taxes are kept
//! unrounded per line and rounded per line before summing ("round at subtotal" off), prices are
//! entered without tax. Checked against the recorded orders 23, 24 and 25.

use rust_decimal::Decimal;

use super::json::OJson;
use super::model::{Coupon, CouponItem, FeeItem, LineItem, Order, ShippingItem, TaxItem, TaxRate, TaxShare, Totals};
use super::money::round2;
use super::store::{Store, sanitize_title};

pub(crate) struct CartLine {
    pub product_id: u64,
    pub variation_id: u64,
    pub quantity: i64,
    pub unit_price: Decimal,
    pub name: String,
    pub sku: String,
    pub parent_name: Option<String>,
    /// Variation attributes: (label, option).
    pub attrs: Vec<(String, String)>,
}

#[derive(Debug, Clone)]
pub(crate) struct ShipIn {
    pub method_id: String,
    pub method_title: String,
    pub instance_id: String,
    pub total: Decimal,
}

#[derive(Debug, Clone)]
pub(crate) struct FeeIn {
    pub name: String,
    pub total: Decimal,
    pub taxable: bool,
}

pub(crate) struct Priced {
    pub lines: Vec<LineItem>,
    pub shipping_lines: Vec<ShippingItem>,
    pub fee_lines: Vec<FeeItem>,
    pub tax_lines: Vec<TaxItem>,
    pub coupon_lines: Vec<CouponItem>,
    pub totals: Totals,
}

/// Prices a cart. Item ids are taken in WooCommerce's order: lines, shipping, fees, taxes, coupons.
pub(crate) fn price(
    store: &mut Store,
    cart: &[CartLine],
    coupons: &[Coupon],
    shipping: &[ShipIn],
    fees: &[FeeIn],
    (country, state): (&str, &str),
) -> Priced {
    let rates = store.matching_rates(country, state);
    let subtotal_cents: Vec<i64> =
        cart.iter().map(|l| to_cents_exact(l.unit_price * Decimal::from(l.quantity))).collect();
    let discounts = Discounts::compute(&subtotal_cents, &cart.iter().map(|l| l.quantity).collect::<Vec<_>>(), coupons);

    let lines: Vec<LineItem> = cart
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let subtotal = Decimal::new(subtotal_cents[i], 2);
            let total = Decimal::new(subtotal_cents[i] - discounts.line_total(i), 2);
            line_item(store, l, subtotal, total, &rates)
        })
        .collect();
    let shipping_lines: Vec<ShippingItem> = shipping.iter().map(|s| shipping_item(store, s, &rates)).collect();
    let fee_lines: Vec<FeeItem> = fees.iter().map(|f| fee_item(store, f, &rates)).collect();
    let tax_lines = tax_items(store, &rates, &lines, &shipping_lines, &fee_lines);
    let coupon_lines = coupons
        .iter()
        .enumerate()
        .map(|(c, coupon)| coupon_item(store, coupon, &discounts.per_coupon[c], &rates))
        .collect();
    let totals = totals(&lines, &shipping_lines, &fee_lines, &tax_lines);
    Priced { lines, shipping_lines, fee_lines, tax_lines, coupon_lines, totals }
}

fn to_cents_exact(d: Decimal) -> i64 {
    i64::try_from((round2(d) * Decimal::ONE_HUNDRED).trunc()).unwrap_or(i64::MAX)
}

fn shares(amount: Decimal, rates: &[TaxRate], with_subtotal: Option<Decimal>) -> Vec<TaxShare> {
    rates
        .iter()
        .map(|r| TaxShare {
            rate_id: r.id,
            total: amount * r.rate / Decimal::ONE_HUNDRED,
            subtotal: with_subtotal.map(|s| s * r.rate / Decimal::ONE_HUNDRED),
        })
        .collect()
}

fn rounded_sum(values: impl Iterator<Item = Decimal>) -> Decimal {
    values.map(round2).sum()
}

fn line_item(store: &mut Store, l: &CartLine, subtotal: Decimal, total: Decimal, rates: &[TaxRate]) -> LineItem {
    let taxes = shares(total, rates, Some(subtotal));
    let id = store.item_id();
    let meta = l
        .attrs
        .iter()
        .map(|(label, option)| store.item_meta(&sanitize_title(label), option.as_str().into(), label))
        .collect();
    LineItem {
        id,
        name: l.name.clone(),
        product_id: l.product_id,
        variation_id: l.variation_id,
        quantity: l.quantity,
        subtotal,
        subtotal_tax: rounded_sum(taxes.iter().filter_map(|t| t.subtotal)),
        total,
        total_tax: rounded_sum(taxes.iter().map(|t| t.total)),
        taxes,
        meta,
        sku: l.sku.clone(),
        price: if l.quantity == 0 { total } else { total / Decimal::from(l.quantity) },
        parent_name: l.parent_name.clone(),
    }
}

fn shipping_item(store: &mut Store, s: &ShipIn, rates: &[TaxRate]) -> ShippingItem {
    let shipping_rates: Vec<TaxRate> = rates.iter().filter(|r| r.shipping).cloned().collect();
    let taxes = shares(s.total, &shipping_rates, None);
    ShippingItem {
        id: store.item_id(),
        method_title: s.method_title.clone(),
        method_id: s.method_id.clone(),
        instance_id: s.instance_id.clone(),
        total: s.total,
        total_tax: rounded_sum(taxes.iter().map(|t| t.total)),
        taxes,
        meta: Vec::new(),
    }
}

fn fee_item(store: &mut Store, f: &FeeIn, rates: &[TaxRate]) -> FeeItem {
    let taxes = if f.taxable { shares(f.total, rates, None) } else { Vec::new() };
    FeeItem {
        id: store.item_id(),
        name: f.name.clone(),
        taxable: f.taxable,
        total: f.total,
        total_tax: rounded_sum(taxes.iter().map(|t| t.total)),
        taxes,
        meta: Vec::new(),
    }
}

/// Per rate that any item is taxed at: (rate, cart tax, shipping tax), item taxes rounded, then summed.
fn tax_sums<'r>(
    rates: &'r [TaxRate],
    lines: &[LineItem],
    shipping: &[ShippingItem],
    fees: &[FeeItem],
) -> Vec<(&'r TaxRate, Decimal, Decimal)> {
    let mut sums = Vec::new();
    for r in rates {
        let shares = |taxes: &[TaxShare]| -> Vec<Decimal> {
            taxes.iter().filter(|t| t.rate_id == r.id).map(|t| round2(t.total)).collect()
        };
        let cart: Vec<Decimal> =
            lines.iter().flat_map(|l| shares(&l.taxes)).chain(fees.iter().flat_map(|f| shares(&f.taxes))).collect();
        let ship: Vec<Decimal> = shipping.iter().flat_map(|s| shares(&s.taxes)).collect();
        if cart.is_empty() && ship.is_empty() {
            continue;
        }
        sums.push((r, cart.into_iter().sum(), ship.into_iter().sum()));
    }
    sums
}

fn tax_item(id: u64, r: &TaxRate, tax_total: Decimal, shipping_tax_total: Decimal) -> TaxItem {
    TaxItem {
        id,
        rate_code: r.code(),
        rate_id: r.id,
        label: r.name.clone(),
        tax_total,
        shipping_tax_total,
        rate_percent: r.rate,
    }
}

/// `WC_Abstract_Order::update_taxes`: one tax line per rate; item taxes rounded, then summed.
pub(crate) fn tax_items(
    store: &mut Store,
    rates: &[TaxRate],
    lines: &[LineItem],
    shipping: &[ShippingItem],
    fees: &[FeeItem],
) -> Vec<TaxItem> {
    tax_sums(rates, lines, shipping, fees)
        .into_iter()
        .map(|(r, cart, ship)| tax_item(store.item_id(), r, cart, ship))
        .collect()
}

/// A line added to a stored order (`WC_REST_Orders_V2_Controller::prepare_line_items`): a new item
/// id, the variation's attributes as item meta, taxes left to [`recalculate`].
pub(crate) fn new_line(store: &mut Store, l: &CartLine, subtotal: Decimal, total: Decimal) -> LineItem {
    line_item(store, l, subtotal, total, &[])
}

/// `WC_Abstract_Order::calculate_totals(true)` on a stored order, as `PUT /orders/<id>` runs it:
/// every line, fee and shipping line is taxed again from its own `subtotal`/`total` at the order's
/// tax address (shipping, else billing); nothing is priced again from the catalogue and coupons
/// are not applied again, so each line keeps whatever discount its `subtotal − total` holds and
/// `coupon_lines` stay as they were. Tax lines are updated in place (`update_taxes`: same item
/// ids, lines of rates no longer charged dropped, new rates appended).
pub(crate) fn recalculate(store: &mut Store, o: &mut Order) {
    let at = if o.shipping.country.is_empty() { &o.billing } else { &o.shipping };
    let rates = store.matching_rates(&at.country, &at.state);
    let shipping_rates: Vec<TaxRate> = rates.iter().filter(|r| r.shipping).cloned().collect();
    for l in &mut o.lines {
        let mut taxes = shares(l.total, &rates, Some(l.subtotal));
        // `WC_Order_Item_Product::set_taxes`: "Subtotal cannot be less than total!"
        let sum = |taxes: &[TaxShare], f: fn(&TaxShare) -> Decimal| taxes.iter().map(f).sum::<Decimal>();
        if sum(&taxes, |t| t.subtotal.unwrap_or_default()) < sum(&taxes, |t| t.total) {
            taxes.iter_mut().for_each(|t| t.subtotal = Some(t.total));
        }
        l.subtotal_tax = rounded_sum(taxes.iter().filter_map(|t| t.subtotal));
        l.total_tax = rounded_sum(taxes.iter().map(|t| t.total));
        l.taxes = taxes;
        // Rendered as `get_total() / get_quantity()`, or 0 without a quantity.
        l.price = if l.quantity == 0 { Decimal::ZERO } else { l.total / Decimal::from(l.quantity) };
    }
    for s in &mut o.shipping_lines {
        s.taxes = shares(s.total, &shipping_rates, None);
        s.total_tax = rounded_sum(s.taxes.iter().map(|t| t.total));
    }
    for f in &mut o.fee_lines {
        f.taxes = if f.taxable { shares(f.total, &rates, None) } else { Vec::new() };
        f.total_tax = rounded_sum(f.taxes.iter().map(|t| t.total));
    }
    let sums = tax_sums(&rates, &o.lines, &o.shipping_lines, &o.fee_lines);
    let mut kept: Vec<TaxItem> = Vec::new();
    for t in &o.tax_lines {
        if kept.iter().any(|k| k.rate_id == t.rate_id) {
            continue;
        }
        if let Some((r, cart, ship)) = sums.iter().find(|(r, ..)| r.id == t.rate_id) {
            kept.push(tax_item(t.id, r, *cart, *ship));
        }
    }
    for (r, cart, ship) in sums {
        if !kept.iter().any(|k| k.rate_id == r.id) {
            kept.push(tax_item(store.item_id(), r, cart, ship));
        }
    }
    o.tax_lines = kept;
    o.totals = totals(&o.lines, &o.shipping_lines, &o.fee_lines, &o.tax_lines);
}

/// A coupon line. Its `discount_tax` rounds each line's share before summing (recorded `0.49`),
/// while the order's `discount_tax` rounds the unrounded sum once (recorded `0.50`).
fn coupon_item(store: &mut Store, coupon: &Coupon, per_line: &[i64], rates: &[TaxRate]) -> CouponItem {
    let id = store.item_id();
    let pct: Decimal = rates.iter().map(|r| r.rate).sum();
    let discount_tax =
        per_line.iter().map(|c| round2(Decimal::new(*c, 2) * pct / Decimal::ONE_HUNDRED)).sum::<Decimal>();
    let data = coupon_data(store, coupon);
    let meta = vec![store.item_meta("coupon_data", data, "coupon_data")];
    CouponItem { id, code: coupon.code.clone(), discount: Decimal::new(per_line.iter().sum(), 2), discount_tax, meta }
}

/// The `coupon_data` snapshot WooCommerce keeps on a coupon line (PHP `WC_DateTime` dumps included).
fn coupon_data(store: &Store, c: &Coupon) -> OJson {
    let offset = store.offset.to_string();
    let date = |t: chrono::DateTime<chrono::Utc>| {
        OJson::obj([
            ("date", OJson::Str(t.with_timezone(&store.offset).format("%Y-%m-%d %H:%M:%S.000000").to_string())),
            ("timezone_type", OJson::int(1)),
            ("timezone", OJson::Str(offset.clone())),
        ])
    };
    let empty = || OJson::Arr(Vec::new());
    OJson::obj([
        ("id", OJson::int(c.id as i64)),
        ("code", OJson::str(&c.code)),
        ("amount", OJson::str(&c.amount)),
        ("status", OJson::str("publish")),
        ("date_created", date(c.date_created)),
        ("date_modified", date(c.date_created)),
        ("date_expires", OJson::Null),
        ("discount_type", OJson::str(&c.discount_type)),
        ("description", OJson::str("")),
        ("usage_count", OJson::int(c.usage_count as i64)),
        ("individual_use", OJson::Bool(false)),
        ("product_ids", empty()),
        ("excluded_product_ids", empty()),
        ("usage_limit", OJson::int(0)),
        ("usage_limit_per_user", OJson::int(0)),
        ("limit_usage_to_x_items", OJson::Null),
        ("free_shipping", OJson::Bool(false)),
        ("product_categories", empty()),
        ("excluded_product_categories", empty()),
        ("exclude_sale_items", OJson::Bool(false)),
        ("minimum_amount", OJson::str("")),
        ("maximum_amount", OJson::str("")),
        ("email_restrictions", empty()),
        ("virtual", OJson::Bool(false)),
        ("meta_data", empty()),
    ])
}

/// `WC_Abstract_Order::calculate_totals` after the items are priced.
pub(crate) fn totals(lines: &[LineItem], shipping: &[ShippingItem], fees: &[FeeItem], taxes: &[TaxItem]) -> Totals {
    let subtotal: Decimal = lines.iter().map(|l| l.subtotal).sum();
    let items_total: Decimal = lines.iter().map(|l| l.total).sum();
    let unrounded_discount_tax: Decimal =
        lines.iter().flat_map(|l| l.taxes.iter()).map(|t| t.subtotal.unwrap_or_default() - t.total).sum();
    let shipping_total: Decimal = shipping.iter().map(|s| s.total).sum();
    let cart_tax: Decimal = taxes.iter().map(|t| t.tax_total).sum();
    let shipping_tax: Decimal = taxes.iter().map(|t| t.shipping_tax_total).sum();
    let fees_total: Decimal = fees.iter().map(|f| f.total).sum();
    Totals {
        discount_total: round2(subtotal - items_total),
        discount_tax: round2(unrounded_discount_tax),
        shipping_total,
        shipping_tax,
        cart_tax,
        total: round2(items_total + fees_total + shipping_total + cart_tax + shipping_tax),
        total_tax: cart_tax + shipping_tax,
    }
}

/// `WC_Discounts`: per coupon, per line, whole cents.
struct Discounts {
    per_coupon: Vec<Vec<i64>>,
}

impl Discounts {
    fn compute(prices: &[i64], quantities: &[i64], coupons: &[Coupon]) -> Discounts {
        // Lines are discounted largest first (`sort_by_price`: line price × quantity, descending).
        let mut order: Vec<usize> = (0..prices.len()).collect();
        order.sort_by_key(|&i| std::cmp::Reverse(prices[i] * quantities[i]));
        let mut remaining = prices.to_vec();
        let per_coupon = coupons
            .iter()
            .map(|c| {
                let mut applied = vec![0i64; prices.len()];
                let mut apply =
                    Apply { order: &order, qty: quantities, remaining: &mut remaining, applied: &mut applied };
                let amount: Decimal = c.amount.parse().unwrap_or_default();
                match c.discount_type.as_str() {
                    "percent" => apply.percent(prices, amount),
                    _ => {
                        apply.fixed_cart(to_cents_exact(amount));
                    }
                }
                applied
            })
            .collect();
        Discounts { per_coupon }
    }

    fn line_total(&self, line: usize) -> i64 {
        self.per_coupon.iter().map(|c| c[line]).sum()
    }
}

struct Apply<'a> {
    order: &'a [usize],
    qty: &'a [i64],
    remaining: &'a mut Vec<i64>,
    applied: &'a mut Vec<i64>,
}

impl Apply<'_> {
    fn give(&mut self, i: usize, cents: i64) -> i64 {
        let d = cents.min(self.remaining[i]).max(0);
        self.remaining[i] -= d;
        self.applied[i] += d;
        d
    }

    fn percent(&mut self, prices: &[i64], pct: Decimal) {
        let (mut total, mut cart) = (0, 0);
        for &i in self.order {
            let d = (Decimal::from(prices[i]) * pct / Decimal::ONE_HUNDRED).floor();
            total += self.give(i, i64::try_from(d).unwrap_or(0));
            cart += prices[i];
        }
        let whole = round_half_up(Decimal::from(cart) * pct / Decimal::ONE_HUNDRED);
        if total < whole {
            self.remainder(whole - total);
        }
    }

    fn fixed_cart(&mut self, amount: i64) -> i64 {
        let units: i64 = self.order.iter().filter(|&&i| self.remaining[i] > 0).map(|&i| self.qty[i]).sum();
        if units == 0 || amount <= 0 {
            return 0;
        }
        let per_unit = amount / units;
        if per_unit == 0 {
            return self.remainder(amount);
        }
        let mut total = 0;
        for &i in self.order {
            if self.remaining[i] > 0 {
                total += self.give(i, per_unit * self.qty[i]);
            }
        }
        if total > 0 && total < amount {
            total += self.fixed_cart(amount - total);
        }
        total
    }

    fn remainder(&mut self, amount: i64) -> i64 {
        let mut total = 0;
        for &i in self.order {
            for _ in 0..self.qty[i] {
                total += self.give(i, 1);
                if total >= amount {
                    return total;
                }
            }
        }
        total
    }
}

fn round_half_up(d: Decimal) -> i64 {
    i64::try_from(d.round_dp_with_strategy(0, rust_decimal::RoundingStrategy::MidpointAwayFromZero)).unwrap_or(0)
}
