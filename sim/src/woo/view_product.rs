//! Products and variations as `wc/v3` renders them. A variation has two shapes: the variations
//! endpoint's (no `name`), and the product schema used by `GET /products?sku=` and webhooks
//! (`type: "variation"`, `total_sales: "0"` as a string). Write answers differ from reads too:
//! `average_rating` is `"0"` instead of `"0.00"` and two edit-context keys are added.

use rust_decimal::Decimal;
use serde::Serialize;

use super::http::Links;
use super::json::OJson;
use super::model::{Kind, Product};
use super::money::{currency_entity, fmt2};
use super::store::{Store, sanitize_title};
use super::view_order::{MetaJson, meta_json};

/// Read (GET, webhooks) or write (POST/PUT/batch answers) context.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ctx {
    Read,
    Write,
}

#[derive(Serialize)]
struct Dimensions {
    length: &'static str,
    width: &'static str,
    height: &'static str,
}

const NO_DIMENSIONS: Dimensions = Dimensions { length: "", width: "", height: "" };

#[derive(Serialize)]
pub(crate) struct ProductJson {
    id: u64,
    name: String,
    slug: String,
    permalink: String,
    date_created: String,
    date_created_gmt: String,
    date_modified: String,
    date_modified_gmt: String,
    #[serde(rename = "type")]
    kind: &'static str,
    status: String,
    featured: bool,
    catalog_visibility: &'static str,
    description: String,
    short_description: &'static str,
    sku: String,
    price: String,
    regular_price: String,
    sale_price: String,
    date_on_sale_from: Option<String>,
    date_on_sale_from_gmt: Option<String>,
    date_on_sale_to: Option<String>,
    date_on_sale_to_gmt: Option<String>,
    on_sale: bool,
    purchasable: bool,
    total_sales: OJson,
    #[serde(rename = "virtual")]
    is_virtual: bool,
    downloadable: bool,
    downloads: [(); 0],
    download_limit: i64,
    download_expiry: i64,
    external_url: &'static str,
    button_text: &'static str,
    tax_status: &'static str,
    tax_class: &'static str,
    manage_stock: bool,
    stock_quantity: Option<i64>,
    backorders: String,
    backorders_allowed: bool,
    backordered: bool,
    low_stock_amount: Option<i64>,
    sold_individually: bool,
    weight: &'static str,
    dimensions: Dimensions,
    shipping_required: bool,
    shipping_taxable: bool,
    shipping_class: &'static str,
    shipping_class_id: u64,
    reviews_allowed: bool,
    average_rating: &'static str,
    rating_count: u64,
    upsell_ids: [(); 0],
    cross_sell_ids: [(); 0],
    parent_id: u64,
    purchase_note: &'static str,
    categories: OJson,
    tags: [(); 0],
    images: [(); 0],
    attributes: OJson,
    default_attributes: [(); 0],
    variations: Vec<u64>,
    grouped_products: [(); 0],
    menu_order: i64,
    price_html: String,
    related_ids: Vec<u64>,
    meta_data: Vec<MetaJson>,
    stock_status: String,
    has_options: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    permalink_template: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    generated_slug: Option<String>,
    _links: Links,
}

fn gmt(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S").to_string()
}

/// [INFERRED] Prices are shown with two decimals (every recorded price was entered that way;
/// WooCommerce echoes what was entered).
fn money(d: Option<Decimal>) -> String {
    d.map(fmt2).unwrap_or_default()
}

fn amount_html(store: &Store, d: Decimal) -> String {
    format!(
        "<span class=\"woocommerce-Price-amount amount\"><bdi><span class=\"woocommerce-Price-currencySymbol\">{}</span>{}</bdi></span>",
        currency_entity(&store.currency),
        fmt2(d)
    )
}

fn price_html(store: &Store, p: &Product) -> String {
    match p.kind {
        Kind::Variable => match child_prices(store, p).as_slice() {
            [] => String::new(),
            prices => {
                let (min, max) = (prices[0], prices[prices.len() - 1]);
                if min == max {
                    amount_html(store, min)
                } else {
                    format!("{} &ndash; {}", amount_html(store, min), amount_html(store, max))
                }
            }
        },
        _ if p.on_sale() => format!(
            "<del aria-hidden=\"true\">{}</del> <ins>{}</ins>",
            amount_html(store, p.regular_price.unwrap_or_default()),
            amount_html(store, p.sale_price.unwrap_or_default())
        ),
        _ => p.price().map(|d| amount_html(store, d)).unwrap_or_default(),
    }
}

fn child_prices(store: &Store, p: &Product) -> Vec<Decimal> {
    let mut prices: Vec<Decimal> =
        p.children.iter().filter_map(|c| store.products.get(c)).filter_map(Product::price).collect();
    prices.sort();
    prices
}

fn parent_stock_status(store: &Store, p: &Product) -> String {
    let children: Vec<&Product> = p.children.iter().filter_map(|c| store.products.get(c)).collect();
    if children.iter().any(|c| c.stock_status == "instock") {
        "instock".into()
    } else if children.iter().any(|c| c.stock_status == "onbackorder") {
        "onbackorder".into()
    } else {
        "outofstock".into()
    }
}

pub(crate) fn permalink(store: &Store, p: &Product, base: &str) -> String {
    match p.kind {
        Kind::Variation => {
            let parent = store.products.get(&p.parent_id).map(|pp| pp.slug.clone()).unwrap_or_default();
            let query: Vec<String> =
                p.variation_attrs.iter().map(|(k, v)| format!("attribute_{}={v}", sanitize_title(k))).collect();
            format!("{base}/product/{parent}/?{}", query.join("&"))
        }
        _ => format!("{base}/product/{}/", p.slug),
    }
}

/// Other catalogue products, in a fixed but unsorted order, like `wc_get_related_products`
/// ([INFERRED]: WooCommerce picks them at random from shared categories and tags): the next five
/// published products after a point that depends on the product, wrapping around the catalogue.
/// A walk of a few entries, not a pass over the catalogue for every product shown (a page of 100
/// products from a 100,000-product store).
fn related_ids(store: &Store, p: &Product) -> Vec<u64> {
    const RELATED: usize = 5;
    let Some(&last) = store.products.keys().next_back() else { return Vec::new() };
    let from = p.id.wrapping_mul(0x9E37_79B9_7F4A_7C15) % (last + 1);
    store
        .products
        .range(from..)
        .chain(store.products.range(..from))
        .map(|(_, o)| o)
        .filter(|o| o.id != p.id && o.kind != Kind::Variation && o.status == "publish")
        .map(|o| o.id)
        .take(RELATED)
        .collect()
}

fn attributes(p: &Product) -> OJson {
    match p.kind {
        Kind::Variation => OJson::Arr(
            p.variation_attrs
                .iter()
                .map(|(name, option)| {
                    OJson::obj([("id", OJson::int(0)), ("name", OJson::str(name)), ("option", OJson::str(option))])
                })
                .collect(),
        ),
        _ => OJson::Arr(
            p.attributes
                .iter()
                .enumerate()
                .map(|(i, a)| {
                    OJson::obj([
                        ("id", OJson::int(0)),
                        ("name", OJson::str(&a.name)),
                        ("position", OJson::int(i as i64)),
                        ("visible", OJson::Bool(true)),
                        ("variation", OJson::Bool(true)),
                        ("options", OJson::Arr(a.options.iter().map(OJson::str).collect())),
                    ])
                })
                .collect(),
        ),
    }
}

fn uncategorized() -> OJson {
    OJson::Arr(vec![OJson::obj([
        ("id", OJson::int(15)),
        ("name", OJson::str("Uncategorized")),
        ("slug", OJson::str("uncategorized")),
    ])])
}

/// The product schema (`/products`, webhooks), for any kind including variations.
pub(crate) fn product_json(store: &Store, p: &Product, base: &str, ctx: Ctx) -> ProductJson {
    let variation = p.kind == Kind::Variation;
    let (price, regular, stock_status, purchasable) = match p.kind {
        Kind::Variable => {
            let prices = child_prices(store, p);
            (money(prices.first().copied()), String::new(), parent_stock_status(store, p), !prices.is_empty())
        }
        _ => (money(p.price()), money(p.regular_price), p.stock_status.clone(), p.price().is_some()),
    };
    let mut links = Links::new(base, "/wc/v3/products", p.id);
    if variation {
        links = links.up(base, &format!("/wc/v3/products/{}", p.parent_id));
    }
    let write = ctx == Ctx::Write && !variation;
    ProductJson {
        id: p.id,
        name: p.name.clone(),
        slug: p.slug.clone(),
        permalink: permalink(store, p, base),
        date_created: store.local(p.date_created),
        date_created_gmt: gmt(p.date_created),
        date_modified: store.local(p.date_modified),
        date_modified_gmt: gmt(p.date_modified),
        kind: match p.kind {
            Kind::Simple => "simple",
            Kind::Variable => "variable",
            Kind::Variation => "variation",
        },
        status: p.status.clone(),
        featured: false,
        catalog_visibility: "visible",
        description: p.description.clone(),
        short_description: "",
        sku: p.sku.clone(),
        price,
        regular_price: regular,
        sale_price: if p.on_sale() { money(p.sale_price) } else { String::new() },
        date_on_sale_from: None,
        date_on_sale_from_gmt: None,
        date_on_sale_to: None,
        date_on_sale_to_gmt: None,
        on_sale: p.on_sale(),
        purchasable,
        total_sales: if variation { OJson::str("0") } else { OJson::int(p.total_sales as i64) },
        is_virtual: false,
        downloadable: false,
        downloads: [],
        download_limit: -1,
        download_expiry: -1,
        external_url: "",
        button_text: "",
        tax_status: "taxable",
        tax_class: "",
        manage_stock: p.manage_stock,
        stock_quantity: if p.manage_stock { p.stock_quantity } else { None },
        backorders: p.backorders.clone(),
        backorders_allowed: p.backorders_allowed(),
        backordered: false,
        low_stock_amount: None,
        sold_individually: false,
        weight: "",
        dimensions: NO_DIMENSIONS,
        shipping_required: true,
        shipping_taxable: true,
        shipping_class: "",
        shipping_class_id: 0,
        reviews_allowed: !variation,
        average_rating: if ctx == Ctx::Write { "0" } else { "0.00" },
        rating_count: 0,
        upsell_ids: [],
        cross_sell_ids: [],
        parent_id: p.parent_id,
        purchase_note: "",
        categories: if variation { OJson::Arr(Vec::new()) } else { uncategorized() },
        tags: [],
        images: [],
        attributes: attributes(p),
        default_attributes: [],
        variations: if p.kind == Kind::Variable { p.children.clone() } else { Vec::new() },
        grouped_products: [],
        menu_order: 0,
        price_html: price_html(store, p),
        related_ids: if variation { Vec::new() } else { related_ids(store, p) },
        meta_data: meta_json(&p.meta),
        stock_status,
        has_options: p.kind == Kind::Variable,
        permalink_template: write.then(|| format!("{base}/product/%pagename%/")),
        generated_slug: write.then(|| p.slug.clone()),
        _links: links,
    }
}

#[derive(Serialize)]
pub(crate) struct VariationJson {
    id: u64,
    date_created: String,
    date_created_gmt: String,
    date_modified: String,
    date_modified_gmt: String,
    description: String,
    permalink: String,
    sku: String,
    price: String,
    regular_price: String,
    sale_price: String,
    date_on_sale_from: Option<String>,
    date_on_sale_from_gmt: Option<String>,
    date_on_sale_to: Option<String>,
    date_on_sale_to_gmt: Option<String>,
    on_sale: bool,
    status: String,
    purchasable: bool,
    #[serde(rename = "virtual")]
    is_virtual: bool,
    downloadable: bool,
    downloads: [(); 0],
    download_limit: i64,
    download_expiry: i64,
    tax_status: &'static str,
    tax_class: &'static str,
    manage_stock: bool,
    stock_quantity: Option<i64>,
    stock_status: String,
    backorders: String,
    backorders_allowed: bool,
    backordered: bool,
    low_stock_amount: Option<i64>,
    weight: &'static str,
    dimensions: Dimensions,
    shipping_class: &'static str,
    shipping_class_id: u64,
    image: Option<()>,
    attributes: OJson,
    menu_order: i64,
    meta_data: Vec<MetaJson>,
    _links: Links,
}

/// The variations endpoint's shape (`/products/<id>/variations`).
pub(crate) fn variation_json(store: &Store, v: &Product, base: &str) -> VariationJson {
    let parent = format!("/wc/v3/products/{}", v.parent_id);
    VariationJson {
        id: v.id,
        date_created: store.local(v.date_created),
        date_created_gmt: gmt(v.date_created),
        date_modified: store.local(v.date_modified),
        date_modified_gmt: gmt(v.date_modified),
        description: v.description.clone(),
        permalink: permalink(store, v, base),
        sku: v.sku.clone(),
        price: money(v.price()),
        regular_price: money(v.regular_price),
        sale_price: if v.on_sale() { money(v.sale_price) } else { String::new() },
        date_on_sale_from: None,
        date_on_sale_from_gmt: None,
        date_on_sale_to: None,
        date_on_sale_to_gmt: None,
        on_sale: v.on_sale(),
        status: v.status.clone(),
        purchasable: v.price().is_some(),
        is_virtual: false,
        downloadable: false,
        downloads: [],
        download_limit: -1,
        download_expiry: -1,
        tax_status: "taxable",
        tax_class: "",
        manage_stock: v.manage_stock,
        stock_quantity: if v.manage_stock { v.stock_quantity } else { None },
        stock_status: v.stock_status.clone(),
        backorders: v.backorders.clone(),
        backorders_allowed: v.backorders_allowed(),
        backordered: false,
        low_stock_amount: None,
        weight: "",
        dimensions: NO_DIMENSIONS,
        shipping_class: "",
        shipping_class_id: 0,
        image: None,
        attributes: attributes(v),
        menu_order: 0,
        meta_data: meta_json(&v.meta),
        _links: Links::new(base, &format!("{parent}/variations"), v.id).up(base, &parent),
    }
}
