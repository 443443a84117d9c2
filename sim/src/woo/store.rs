//! All of the store's state behind one lock, so a checkout (check every line's stock, then take
//! it) is atomic like WooCommerce's row locks, and ids come from WordPress-like sequences: one
//! post sequence shared by products, variations, orders, refunds and coupons.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, FixedOffset, SubsecRound, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::json::OJson;
use super::model::{Coupon, ItemMeta, Meta, Note, Order, Product, Refund, TaxRate, Webhook};
use super::payments::Payments;

#[derive(Debug, Clone)]
pub(crate) struct Customer {
    pub first_name: String,
    pub last_name: String,
    pub email: String,
}

/// A resource change that webhooks may be subscribed to: (`order.updated`, 23).
pub(crate) type Hook = (&'static str, u64);

pub(crate) struct Store {
    pub currency: String,
    pub offset: FixedOffset,
    next_post: u64,
    next_item: u64,
    next_item_meta: u64,
    next_meta: u64,
    next_comment: u64,
    next_webhook: u64,
    next_user: u64,
    pub products: BTreeMap<u64, Product>,
    pub sku_index: HashMap<String, u64>,
    /// Slug → product or variation: a slug is given once, at creation, and never changes.
    pub slug_index: HashMap<String, u64>,
    pub orders: BTreeMap<u64, Order>,
    pub refunds: BTreeMap<u64, Refund>,
    pub notes: BTreeMap<u64, Note>,
    pub coupons: BTreeMap<String, Coupon>,
    pub tax_rates: Vec<TaxRate>,
    pub customers: BTreeMap<u64, Customer>,
    pub webhooks: BTreeMap<u64, Webhook>,
    pub payments: Payments,
    /// wns/v1 stock adjust: idempotency key → the answer first given.
    pub stock_idempotency: HashMap<String, OJson>,
    /// OAuth nonces by timestamp, as WooCommerce keeps them (one per second).
    pub nonces: BTreeMap<i64, String>,
    pub rng: StdRng,
    hooks: Vec<Hook>,
    /// The store's clock: the wall clock unless a test froze or shifted it.
    pub clock: SimClock,
}

/// An injectable clock, so tests can put several events into one second (as WooCommerce's
/// one-second timestamps and delivery ids make them) or move time without sleeping.
#[derive(Debug, Clone, Copy, Default)]
pub struct SimClock {
    pub frozen: Option<DateTime<Utc>>,
    pub shift: chrono::Duration,
}

impl SimClock {
    pub fn now(&self) -> DateTime<Utc> {
        self.frozen.unwrap_or_else(Utc::now) + self.shift
    }
}

impl Store {
    pub fn new(currency: &str, utc_offset_minutes: i32, seed: u64, tax_rates: Vec<TaxRate>) -> Store {
        let offset = FixedOffset::east_opt(utc_offset_minutes * 60).unwrap_or(FixedOffset::east_opt(0).unwrap());
        Store {
            currency: currency.to_owned(),
            offset,
            next_post: 10,
            next_item: 1,
            next_item_meta: 1,
            next_meta: 100,
            next_comment: 1,
            next_webhook: 1,
            next_user: 2,
            products: BTreeMap::new(),
            sku_index: HashMap::new(),
            slug_index: HashMap::new(),
            orders: BTreeMap::new(),
            refunds: BTreeMap::new(),
            notes: BTreeMap::new(),
            coupons: BTreeMap::new(),
            tax_rates,
            customers: BTreeMap::new(),
            webhooks: BTreeMap::new(),
            payments: Payments::default(),
            stock_idempotency: HashMap::new(),
            nonces: BTreeMap::new(),
            rng: StdRng::seed_from_u64(seed),
            hooks: Vec::new(),
            clock: SimClock::default(),
        }
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now().trunc_subsecs(0)
    }

    pub fn post_id(&mut self) -> u64 {
        self.next_post += 1;
        self.next_post - 1
    }

    pub fn item_id(&mut self) -> u64 {
        self.next_item += 1;
        self.next_item - 1
    }

    pub fn comment_id(&mut self) -> u64 {
        self.next_comment += 1;
        self.next_comment - 1
    }

    pub fn webhook_id(&mut self) -> u64 {
        self.next_webhook += 1;
        self.next_webhook - 1
    }

    pub fn user_id(&mut self) -> u64 {
        self.next_user += 1;
        self.next_user - 1
    }

    pub fn item_meta(&mut self, key: &str, value: OJson, display_key: &str) -> ItemMeta {
        self.next_item_meta += 1;
        ItemMeta { id: self.next_item_meta - 1, key: key.to_owned(), value, display_key: display_key.to_owned() }
    }

    /// `update_meta_data(key, value, id)`: by id if given, else the first entry with that key,
    /// else a new entry. Scalars are stored as text, as post meta is.
    pub fn upsert_meta(&mut self, meta: &mut Vec<Meta>, id: Option<u64>, key: &str, value: OJson) {
        let value = match value.to_php_string() {
            Some(text) => OJson::Str(text),
            None => value,
        };
        let slot = match id {
            Some(id) => meta.iter_mut().find(|m| m.id == id),
            None => meta.iter_mut().find(|m| m.key == key),
        };
        match slot {
            Some(m) => {
                m.key = key.to_owned();
                m.value = value;
            }
            None => {
                self.next_meta += 1;
                meta.push(Meta { id: self.next_meta - 1, key: key.to_owned(), value });
            }
        }
    }

    pub fn hook(&mut self, topic: &'static str, id: u64) {
        self.hooks.push((topic, id));
    }

    pub fn take_hooks(&mut self) -> Vec<Hook> {
        std::mem::take(&mut self.hooks)
    }

    /// `date_x` (site-local) of a UTC instant, without offset, as WordPress prints it.
    pub fn local(&self, t: DateTime<Utc>) -> String {
        t.with_timezone(&self.offset).format("%Y-%m-%dT%H:%M:%S").to_string()
    }

    pub fn random_hex(&mut self, len: usize) -> String {
        (0..len).map(|_| char::from_digit(self.rng.random_range(0..16), 16).unwrap()).collect()
    }

    pub fn random_alnum(&mut self, len: usize) -> String {
        const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        (0..len).map(|_| CHARS[self.rng.random_range(0..CHARS.len())] as char).collect()
    }

    pub fn unique_slug(&self, base: &str, except: u64) -> String {
        let taken = |s: &str| self.slug_index.get(s).is_some_and(|id| *id != except);
        if !taken(base) {
            return base.to_owned();
        }
        (2..).map(|n| format!("{base}-{n}")).find(|s| !taken(s)).expect("an unused suffix exists")
    }

    /// The next free `SKU-n`, which WooCommerce suggests as `unique_sku` for a duplicate.
    pub fn unique_sku(&self, sku: &str) -> String {
        (1..).map(|n| format!("{sku}-{n}")).find(|s| !self.sku_index.contains_key(s)).expect("an unused suffix")
    }

    pub fn set_sku(&mut self, id: u64, old: &str, new: &str) {
        if !old.is_empty() {
            self.sku_index.remove(old);
        }
        if !new.is_empty() {
            self.sku_index.insert(new.to_owned(), id);
        }
    }

    pub fn add_note(&mut self, order_id: u64, note: String, customer_note: bool) -> u64 {
        let id = self.comment_id();
        let date_created = self.now();
        self.notes.insert(id, Note { id, order_id, date_created, note, customer_note });
        id
    }

    pub fn matching_rates(&self, country: &str, state: &str) -> Vec<TaxRate> {
        self.tax_rates.iter().filter(|r| r.applies_to(country, state)).cloned().collect()
    }
}

/// WordPress' `sanitize_title`: lower case, accents folded, entities and punctuation dropped.
pub(crate) fn sanitize_title(name: &str) -> String {
    let mut without_entities = String::with_capacity(name.len());
    let mut rest = name;
    while let Some(pos) = rest.find('&') {
        without_entities.push_str(&rest[..pos]);
        let tail = &rest[pos..];
        match entity_len(tail) {
            Some(len) => rest = &tail[len..],
            None => rest = &tail[1..],
        }
    }
    without_entities.push_str(rest);
    let mut slug = String::new();
    for ch in without_entities.to_lowercase().chars() {
        let ch = fold_accent(ch);
        if ch.is_ascii_alphanumeric() || ch == '_' {
            slug.push(ch);
        } else if (ch.is_whitespace() || ch == '-' || ch == '.') && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    slug.trim_matches('-').to_owned()
}

/// How WordPress stores a title: a bare `&` becomes `&amp;`; existing entities stay.
pub(crate) fn store_title(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 8);
    for (i, ch) in name.char_indices() {
        if ch == '&' && entity_len(&name[i..]).is_none() {
            out.push_str("&amp;");
        } else {
            out.push(ch);
        }
    }
    out
}

fn entity_len(s: &str) -> Option<usize> {
    let end = s.find(';')?;
    let body = &s[1..end];
    let ok = !body.is_empty()
        && body.len() <= 10
        && (body.chars().all(|c| c.is_ascii_alphanumeric())
            || (body.starts_with('#') && body[1..].chars().all(|c| c.is_ascii_alphanumeric())));
    ok.then_some(end + 1)
}

fn fold_accent(ch: char) -> char {
    match ch {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' => 'a',
        'ç' => 'c',
        'è' | 'é' | 'ê' | 'ë' => 'e',
        'ì' | 'í' | 'î' | 'ï' => 'i',
        'ñ' => 'n',
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' => 'o',
        'ù' | 'ú' | 'û' | 'ü' => 'u',
        'ý' | 'ÿ' => 'y',
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::Decimal;

    #[test]
    fn titles_and_slugs_follow_wordpress() {
        assert_eq!(store_title("Tee – Blue & Red"), "Tee – Blue &amp; Red");
        assert_eq!(store_title("A &amp; B"), "A &amp; B");
        assert_eq!(sanitize_title("Tee – Blue &amp; Red"), "tee-blue-red");
        assert_eq!(sanitize_title("Café Crème Beans 1kg"), "cafe-creme-beans-1kg");
        assert_eq!(sanitize_title("Logo T-Shirt - M"), "logo-t-shirt-m");
    }

    #[test]
    fn rate_codes_match_woocommerce() {
        let r = TaxRate {
            id: 1,
            country: "US".into(),
            state: "CA".into(),
            rate: Decimal::new(725, 2),
            name: "CA State Tax".into(),
            priority: 1,
            shipping: true,
        };
        assert_eq!(r.code(), "US-CA-CA STATE TAX-1");
        let gb = TaxRate { id: 2, country: "GB".into(), state: String::new(), name: "VAT".into(), ..r };
        assert_eq!(gb.code(), "GB-VAT-1");
    }
}
