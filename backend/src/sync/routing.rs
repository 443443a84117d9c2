//! Which NetSuite location ships an order, decided before the sales order is posted.
//!
//! In order, the first that applies:
//!
//! 1. **Rules** (`[[sync.routing.rules]]`), first match wins: the shipping country, optionally
//!    narrowed to regions (WooCommerce's state codes) and postcode prefixes. The whole order goes
//!    to the rule's location. Rules are for what stock cannot tell: customs, carriers, contracts.
//! 2. **Stock**: the first of the web store's locations (`sync.routing.locations`, in order of
//!    preference) whose available quantity covers every line of the order. One SuiteQL query over
//!    `inventoryitemlocations` for the order's items in those locations.
//! 3. **Split lines**: no single location can ship it all, so each line goes to the first location
//!    (in preference order) that still has enough for it after the lines before it; a line no
//!    location can cover goes to the location with the most available (it is backordered there,
//!    where it is most likely to be filled first).
//! 4. **Default**: no locations configured, or the items have no stock records at all:
//!    `sync.routing.default_location` on the order, or none (NetSuite then applies the
//!    subsidiary's or the customer's default).
//!
//! The choice is kept with the order (`order_links.route`), so a person can see why an order went
//! where it did. Stock read here is NetSuite's figure, which does not yet count other orders on
//! their way to NetSuite; a later order can find a location short that looked full. NetSuite
//! backorders the difference rather than refusing, and operations see it there.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::netsuite::{
    Lane, NetSuiteClient, NsError,
    suiteql::{WindowedQuery, in_list},
};
use crate::woo::model::Party;

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RoutingSettings {
    #[serde(default)]
    pub rules: Vec<RouteRule>,
    /// NetSuite location ids that ship web orders, most preferred first.
    #[serde(default)]
    pub locations: Vec<String>,
    /// When nothing else decides.
    #[serde(default)]
    pub default_location: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RouteRule {
    /// ISO 3166-1 alpha-2, as WooCommerce stores it (`US`, `DE`).
    pub country: String,
    /// WooCommerce state codes (`CA`, `NY`); empty means any.
    #[serde(default)]
    pub regions: Vec<String>,
    /// Postcode prefixes (`90`, `SW1`); empty means any. Compared without spaces, ignoring case.
    #[serde(default)]
    pub postcode_prefixes: Vec<String>,
    pub location: String,
}

impl RouteRule {
    fn matches(&self, to: &Party) -> bool {
        let norm = |s: &str| s.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_uppercase();
        self.country.eq_ignore_ascii_case(to.country.trim())
            && (self.regions.is_empty() || self.regions.iter().any(|r| r.eq_ignore_ascii_case(to.state.trim())))
            && (self.postcode_prefixes.is_empty() || {
                let pc = norm(&to.postcode);
                self.postcode_prefixes.iter().any(|p| pc.starts_with(&norm(p)))
            })
    }
}

/// Where the order's product lines go. Kept as JSON in `order_links.route`, so an edit of a
/// posted order keeps its warehouse instead of being routed again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Route {
    /// No location on the order: NetSuite's defaults apply.
    Unrouted,
    /// The whole order from one location; `why` is `rule<n>` (1-based), `stock` or `default`.
    Order { location: String, why: String },
    /// One location per product line, in the order's line order.
    Lines(Vec<String>),
}

impl Route {
    /// What `order_links.route` keeps.
    pub fn describe(&self) -> String {
        match self {
            Route::Unrouted => "none".into(),
            Route::Order { location, why } => format!("{why}:{location}"),
            Route::Lines(l) => format!("split:{}", l.join(",")),
        }
    }

    pub fn location_of_line(&self, n: usize) -> Option<&str> {
        match self {
            Route::Lines(l) => l.get(n).map(String::as_str),
            _ => None,
        }
    }

    pub fn order_location(&self) -> Option<&str> {
        match self {
            Route::Order { location, .. } => Some(location),
            _ => None,
        }
    }
}

/// Available quantity per (item, location).
pub type Availability = BTreeMap<(String, String), Decimal>;

/// The route for an order shipping to `to` whose product lines are `(NetSuite item id, quantity)`.
/// Asks NetSuite for stock only when no rule decides and locations are configured.
pub async fn route(
    ns: &NetSuiteClient,
    settings: &RoutingSettings,
    to: &Party,
    lines: &[(String, i64)],
) -> Result<Route, NsError> {
    if let Some(r) = by_rule(settings, to) {
        return Ok(r);
    }
    if settings.locations.is_empty() || lines.is_empty() {
        return Ok(default(settings));
    }
    let items: Vec<&str> = lines.iter().map(|(i, _)| i.as_str()).collect();
    let q = WindowedQuery::new("SELECT item, location, quantityavailable FROM inventoryitemlocations", "item")
        .and(format!("item IN {}", in_list(items.iter().copied())))
        .and(format!("location IN {}", in_list(settings.locations.iter().map(String::as_str))));
    let mut stock = Availability::new();
    for row in ns.suiteql_all(Lane::Orders, &q).await? {
        let (Some(item), Some(loc)) = (row.get("item"), row.get("location")) else { continue };
        let available = row.get("quantityavailable").and_then(|q| q.parse::<Decimal>().ok()).unwrap_or_default();
        stock.insert((item.to_string(), loc.to_string()), available);
    }
    Ok(by_stock(settings, lines, &stock))
}

fn by_rule(settings: &RoutingSettings, to: &Party) -> Option<Route> {
    settings
        .rules
        .iter()
        .enumerate()
        .find(|(_, r)| r.matches(to))
        .map(|(n, r)| Route::Order { location: r.location.clone(), why: format!("rule{}", n + 1) })
}

fn default(settings: &RoutingSettings) -> Route {
    match &settings.default_location {
        Some(l) => Route::Order { location: l.clone(), why: "default".into() },
        None => Route::Unrouted,
    }
}

/// Steps 2–4 on a known stock picture.
pub fn by_stock(settings: &RoutingSettings, lines: &[(String, i64)], stock: &Availability) -> Route {
    if stock.is_empty() {
        return default(settings);
    }
    let avail = |item: &str, loc: &str| stock.get(&(item.to_string(), loc.to_string())).copied().unwrap_or_default();
    let mut need: BTreeMap<&str, Decimal> = BTreeMap::new();
    for (item, qty) in lines {
        *need.entry(item).or_default() += Decimal::from(*qty);
    }
    if let Some(loc) = settings.locations.iter().find(|loc| need.iter().all(|(item, q)| avail(item, loc) >= *q)) {
        return Route::Order { location: loc.clone(), why: "stock".into() };
    }
    let mut left: BTreeMap<(String, String), Decimal> = stock.clone();
    let per_line: Vec<String> = lines
        .iter()
        .map(|(item, qty)| {
            let qty = Decimal::from(*qty);
            let key = |loc: &String| (item.clone(), loc.clone());
            let loc = settings
                .locations
                .iter()
                .find(|loc| left.get(&key(loc)).copied().unwrap_or_default() >= qty)
                .or_else(|| {
                    // Most available wins; on a tie the more preferred (earlier) location.
                    settings.locations.iter().rev().max_by_key(|loc| left.get(&key(loc)).copied().unwrap_or_default())
                })
                .cloned()
                .unwrap_or_default();
            if let Some(v) = left.get_mut(&key(&loc)) {
                *v -= qty;
            }
            loc
        })
        .collect();
    // Every line ended up at one location (one item on two lines, or the location with the most
    // of everything though short): that is a whole-order route, with a header location.
    match per_line.first() {
        Some(first) if per_line.iter().all(|l| l == first) => {
            Route::Order { location: first.clone(), why: "most-stock".into() }
        }
        _ => Route::Lines(per_line),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> RoutingSettings {
        RoutingSettings {
            rules: vec![
                RouteRule {
                    country: "US".into(),
                    regions: vec!["CA".into(), "OR".into()],
                    postcode_prefixes: vec![],
                    location: "west".into(),
                },
                RouteRule {
                    country: "GB".into(),
                    regions: vec![],
                    postcode_prefixes: vec!["SW1".into()],
                    location: "london".into(),
                },
            ],
            locations: vec!["a".into(), "b".into(), "c".into()],
            default_location: Some("a".into()),
        }
    }

    fn to(country: &str, state: &str, postcode: &str) -> Party {
        Party { country: country.into(), state: state.into(), postcode: postcode.into(), ..Party::default() }
    }

    fn stock(rows: &[(&str, &str, i64)]) -> Availability {
        rows.iter().map(|(i, l, q)| ((i.to_string(), l.to_string()), Decimal::from(*q))).collect()
    }

    fn lines(l: &[(&str, i64)]) -> Vec<(String, i64)> {
        l.iter().map(|(i, q)| (i.to_string(), *q)).collect()
    }

    #[test]
    fn rules_match_country_region_and_postcode_prefix_first_match_wins() {
        let s = settings();
        assert_eq!(by_rule(&s, &to("us", "ca", "94103")).unwrap().order_location(), Some("west"));
        assert_eq!(by_rule(&s, &to("US", "NY", "10001")), None, "region not listed");
        assert_eq!(by_rule(&s, &to("GB", "", "sw1a 1aa")).unwrap().describe(), "rule2:london");
        assert_eq!(by_rule(&s, &to("GB", "", "E1 6AN")), None, "postcode prefix not listed");
    }

    #[test]
    fn the_first_location_that_can_ship_everything_takes_the_order() {
        let s = settings();
        let st = stock(&[("1", "a", 1), ("2", "a", 9), ("1", "b", 5), ("2", "b", 5)]);
        assert_eq!(by_stock(&s, &lines(&[("1", 2), ("2", 3)]), &st).describe(), "stock:b");
        // The same item on two lines counts once with both quantities.
        // No location has 6 of item 1; b has the most: the whole order from b, not a split b,b.
        let r = by_stock(&s, &lines(&[("1", 3), ("1", 3)]), &st);
        assert_eq!((r.describe().as_str(), r.order_location()), ("most-stock:b", Some("b")));
    }

    #[test]
    fn lines_split_when_no_location_has_it_all_and_shortages_go_where_most_is() {
        let s = settings();
        let st = stock(&[("1", "a", 2), ("2", "c", 4), ("3", "b", 1), ("3", "c", 0)]);
        let r = by_stock(&s, &lines(&[("1", 2), ("2", 4), ("3", 5)]), &st);
        assert_eq!(r, Route::Lines(vec!["a".into(), "c".into(), "b".into()]));
    }

    #[test]
    fn no_stock_records_fall_back_to_the_default() {
        let s = settings();
        assert_eq!(by_stock(&s, &lines(&[("1", 1)]), &Availability::new()).describe(), "default:a");
        let none = RoutingSettings { default_location: None, ..settings() };
        assert_eq!(by_stock(&none, &lines(&[("1", 1)]), &Availability::new()), Route::Unrouted);
    }
}
