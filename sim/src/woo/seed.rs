//! Starting data: the two coupons of the recorded store, and a deterministic catalogue for the
//! binary, the demo and benchmarks (same seed, same products, prices and stock).

use chrono::Utc;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rust_decimal::Decimal;

use super::model::Coupon;
use super::store::Store;
use super::{NewProduct, NewVariableProduct, NewVariation, WooSim};

/// `tenoff` (10 % off) and `fiveoff` ($5 off the cart), as in the fixtures.
pub(crate) fn default_coupons(store: &mut Store) {
    for (code, kind, amount) in [("tenoff", "percent", "10"), ("fiveoff", "fixed_cart", "5")] {
        let id = store.post_id();
        let c = Coupon {
            id,
            code: code.into(),
            discount_type: kind.into(),
            amount: amount.into(),
            date_created: Utc::now(),
            usage_count: 0,
        };
        store.coupons.insert(code.into(), c);
    }
}

const NOUNS: &[&str] = &["Mug", "Tee", "Hoodie", "Cap", "Tote", "Notebook", "Sticker", "Poster", "Beanie", "Bottle"];
const ADJECTIVES: &[&str] = &["Enamel", "Classic", "Organic", "Vintage", "Café", "Blue & Red", "Recycled", "Deluxe"];

/// Adds `n` products: every tenth is a variable product with sizes S/M/L; SKUs are `WNS-0001`…
/// Returns the ids of the purchasable items (simple products and variations) with their SKUs.
pub fn seed_catalogue(sim: &WooSim, n: usize, seed: u64) -> Vec<(u64, String)> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut items = Vec::new();
    for i in 1..=n {
        let name = format!("{} {} {i}", ADJECTIVES[rng.random_range(0..ADJECTIVES.len())], NOUNS[i % NOUNS.len()]);
        let sku = format!("WNS-{i:04}");
        let price = Decimal::new(rng.random_range(300..12_000), 2);
        if i % 10 == 0 {
            let variations: Vec<NewVariation> = ["S", "M", "L"]
                .iter()
                .map(|size| NewVariation {
                    option: (*size).into(),
                    sku: format!("{sku}-{size}"),
                    regular_price: price,
                    manage_stock: true,
                    stock_quantity: Some(rng.random_range(0..60)),
                })
                .collect();
            let skus: Vec<String> = variations.iter().map(|v| v.sku.clone()).collect();
            let (_, ids) =
                sim.add_variable_product(NewVariableProduct { name, sku, attribute: "Size".into(), variations });
            items.extend(ids.into_iter().zip(skus));
        } else {
            let product = NewProduct::new(&name, &sku, price).stock(rng.random_range(0..200));
            items.push((sim.add_product(product), sku));
        }
    }
    items
}
