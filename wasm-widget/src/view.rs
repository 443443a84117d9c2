//! What each badge and cell says, from API answers and the clock: pure functions, tested natively,
//! so the DOM layer only places text, a tone and a link. Tones map to the WordPress admin's own
//! notice colours, and every tone comes with words: colour is never the only signal.

use wns_api_types::{
    ExceptionState, ExceptionView, Freshness, MappingState, Money, OrderStatus, OrderSyncState, Owner, ProductStatus,
    UnmappedSku,
};

/// How a badge looks: the WordPress admin's notice colours (info, success, warning, error).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    Neutral,
    Success,
    Warning,
    Error,
}

impl Tone {
    /// The admin's CSS class suffix (`notice-success`…), for the DOM layer.
    pub fn class(self) -> &'static str {
        match self {
            Tone::Neutral => "info",
            Tone::Success => "success",
            Tone::Warning => "warning",
            Tone::Error => "error",
        }
    }
}

/// One order's badge on the orders list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderBadge {
    /// The badge's text: short, it sits in a list column.
    pub label: String,
    pub tone: Tone,
    /// The tooltip and the screen reader's longer text: what happened and what to do.
    pub detail: String,
    /// The sales order in NetSuite, when posted.
    pub link: Option<String>,
}

/// Who fixes it, as a person reads it.
pub fn owner_title(o: Owner) -> &'static str {
    match o {
        Owner::Finance => "Finance",
        Owner::Operations => "Operations",
        Owner::Ecommerce => "E-commerce",
        Owner::CustomerService => "Customer service",
    }
}

/// An age in words: "just now", "45 s", "3 min", "2 h", "3 days".
pub fn age_in_words(secs: i64) -> String {
    match secs.max(0) {
        0..=9 => "just now".into(),
        s @ 10..=59 => format!("{s} s ago"),
        s @ 60..=3599 => format!("{} min ago", s / 60),
        s @ 3600..=86_399 => format!("{} h ago", s / 3600),
        s => {
            let days = s / 86_400;
            format!("{days} {} ago", if days == 1 { "day" } else { "days" })
        }
    }
}

/// A wait in words, for a retry: "in 40 s", "in 3 min", "now".
fn wait_in_words(ms: i64) -> String {
    let secs = (ms + 999) / 1000;
    match secs {
        ..=0 => "now".into(),
        1..=59 => format!("in {secs} s"),
        60..=3599 => format!("in {} min", (secs + 59) / 60),
        _ => format!("in {} h", (secs + 3599) / 3600),
    }
}

/// The badge of `s` at `now_ms` (milliseconds since the epoch).
pub fn order_badge(s: &OrderStatus, now_ms: i64) -> OrderBadge {
    let badge = |label: String, tone, detail: String| OrderBadge { label, tone, detail, link: None };
    match s.state {
        OrderSyncState::Waiting => {
            badge("Waiting".into(), Tone::Neutral, "wns has the order and posts it to NetSuite shortly.".into())
        }
        OrderSyncState::Posted => OrderBadge {
            label: match &s.netsuite_number {
                Some(n) => format!("Posted · {n}"),
                None => "Posted".into(),
            },
            tone: Tone::Success,
            detail: "NetSuite has the sales order.".into(),
            link: s.netsuite_url.clone(),
        },
        OrderSyncState::Retrying => {
            let when = s.next_attempt_at.map(|t| wait_in_words(t - now_ms)).unwrap_or_else(|| "soon".into());
            let why = s.last_error.as_deref().unwrap_or("NetSuite did not answer");
            badge(format!("Retrying {when}"), Tone::Warning, format!("{why}. wns tries again {when}; nothing to do."))
        }
        OrderSyncState::Blocked => match &s.blocked {
            Some(b) => badge(
                format!("Blocked · {}", owner_title(b.owner)),
                Tone::Error,
                format!("{} {}", sentence(&b.message), b.fix),
            ),
            None => badge("Blocked".into(), Tone::Error, "Waiting for a person; see the exceptions board.".into()),
        },
        OrderSyncState::Failed => {
            let why = s.last_error.as_deref().unwrap_or("wns gave up after its attempts");
            badge("Failed".into(), Tone::Error, format!("{} Fix the cause, then replay the order.", sentence(why)))
        }
        OrderSyncState::Fulfilled => OrderBadge {
            label: match &s.netsuite_number {
                Some(n) => format!("Fulfilled · {n}"),
                None => "Fulfilled".into(),
            },
            tone: Tone::Success,
            detail: "NetSuite has started fulfilling it; later edits here are not carried over.".into(),
            link: s.netsuite_url.clone(),
        },
        OrderSyncState::Closed => OrderBadge {
            label: "Closed".into(),
            tone: Tone::Neutral,
            detail: "Cancelled or deleted here; its sales order lines are closed in NetSuite.".into(),
            link: s.netsuite_url.clone(),
        },
        OrderSyncState::NotPosted => {
            badge("Not synced".into(), Tone::Neutral, "Its status is not one wns posts (pending, on hold…).".into())
        }
        OrderSyncState::Unknown => badge(
            "Not seen yet".into(),
            Tone::Neutral,
            "wns has not heard of this order yet; it looks every 30 s.".into(),
        ),
    }
}

/// `text` ending with a full stop, so two sentences read as two.
fn sentence(text: &str) -> String {
    let t = text.trim_end();
    if t.ends_with(['.', '!', '?']) { t.to_string() } else { format!("{t}.") }
}

/// Money waiting, exact as the API sends it: "EUR 25.00 + USD 10.00", or "" for none.
pub fn money_line(money: &[Money]) -> String {
    joined(money.iter().map(|m| format!("{} {}", m.currency, m.amount)), " + ")
}

/// One product's stock cell on the products list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StockCell {
    pub label: String,
    pub tone: Tone,
    /// Freshness in words (and why the tone), for the tooltip and screen readers.
    pub detail: String,
    pub drift: Option<String>,
}

pub fn stock_cell(p: &ProductStatus) -> StockCell {
    let cell = |label: &str, tone, detail: &str| StockCell {
        label: label.into(),
        tone,
        detail: detail.into(),
        drift: p.drift.clone(),
    };
    match p.mapping {
        MappingState::NoSku => {
            return cell("No SKU", Tone::Warning, "Give the product a SKU so wns can find its NetSuite item.");
        }
        MappingState::Unmapped => {
            return cell(
                "Unmapped",
                Tone::Error,
                "No NetSuite item answers to this SKU: map it in NetSuite sync → SKUs.",
            );
        }
        MappingState::Unknown => return cell("Not seen yet", Tone::Neutral, "wns lists the catalogue every night."),
        MappingState::Mapped => {}
    }
    let netsuite = p.netsuite_total.map(|n| format!("{n} in NetSuite")).unwrap_or_else(|| "NetSuite not read".into());
    let shop = p.woocommerce_stock.map(|n| format!(" · {n} here")).unwrap_or_default();
    let age = p.age_secs.map(age_in_words).unwrap_or_else(|| "never".into());
    let (tone, freshness) = match p.freshness {
        Freshness::Fresh => (Tone::Success, format!("Fresh: read from NetSuite {age}.")),
        Freshness::Late => (Tone::Warning, format!("Late: read from NetSuite {age}; the next cycle catches up.")),
        Freshness::Stale => {
            (Tone::Error, format!("Stale: read from NetSuite {age}; the shop may sell what NetSuite no longer has."))
        }
        Freshness::Never => (Tone::Warning, "Not read from NetSuite yet.".to_string()),
    };
    let tone = if p.drift.is_some() { Tone::Error } else { tone };
    StockCell { label: format!("{netsuite}{shop}"), tone, detail: freshness, drift: p.drift.clone() }
}

/// One row of the exceptions board.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExceptionRow {
    pub owner: &'static str,
    /// What happened.
    pub what: String,
    /// What it holds back, in words ("3 orders (EUR 25.00) · 2 SKUs stale"), or "".
    pub impact: String,
    /// What to do.
    pub fix: String,
    /// "open since 2 h ago · seen 4 times", or how it ended.
    pub state: String,
    pub tone: Tone,
}

fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

pub fn exception_row(e: &ExceptionView, now_ms: i64) -> ExceptionRow {
    let mut impact = Vec::new();
    if e.orders_blocked > 0 {
        let money = money_line(&e.money_waiting);
        let orders = plural(e.orders_blocked, "order", "orders");
        impact.push(if money.is_empty() {
            format!("{orders} held back")
        } else {
            format!("{orders} held back ({money})")
        });
    }
    if e.skus_stale > 0 {
        impact.push(format!("{} with stale stock", plural(e.skus_stale, "SKU", "SKUs")));
    }
    let since = age_in_words((now_ms - e.first_seen) / 1000);
    let (state, tone) = match e.state {
        ExceptionState::Open => {
            let times = if e.count > 1 { format!(" · seen {} times", e.count) } else { String::new() };
            (format!("open, first seen {since}{times}"), if e.orders_blocked > 0 { Tone::Error } else { Tone::Warning })
        }
        ExceptionState::Resolved => {
            let how = e.resolution.as_deref().unwrap_or("resolved").replace('_', " ");
            let who = e.resolved_by.as_deref().map(|w| format!(" by {w}")).unwrap_or_default();
            (format!("closed: {how}{who}"), Tone::Success)
        }
        ExceptionState::Ignored => {
            let why = e.note.as_deref().unwrap_or("no reason given");
            (format!("ignored: {why}"), Tone::Neutral)
        }
    };
    ExceptionRow {
        owner: owner_title(e.owner),
        what: sentence(&e.message),
        impact: joined(impact.into_iter(), " · "),
        fix: e.fix.clone(),
        state,
        tone,
    }
}

/// An exception kind in words for the board's kind filter: `unmapped_sku` → "Unmapped SKU".
pub fn kind_words(kind: &str) -> String {
    let words = kind.split('_').map(|w| match w {
        "sku" => "SKU".into(),
        "netsuite" => "NetSuite".into(),
        w => w.to_string(),
    });
    // Kinds are ASCII; `char::to_uppercase` would link Unicode's case tables (10 KB of wasm).
    let mut text = joined(words, " ");
    if let Some(first) = text.get_mut(..1) {
        first.make_ascii_uppercase();
    }
    text
}

/// `parts` with `separator` between them: what `[String]::join` does, in a tenth of its wasm.
fn joined(parts: impl Iterator<Item = String>, separator: &str) -> String {
    let mut out = String::new();
    for (n, part) in parts.enumerate() {
        if n > 0 {
            out.push_str(separator);
        }
        out.push_str(&part);
    }
    out
}

/// One line of the SKU fixer's list: "MUG-RED · 3 orders (EUR 25.00) waiting since 2 h ago".
pub fn unmapped_line(u: &UnmappedSku, now_ms: i64) -> String {
    let money = money_line(&u.money_waiting);
    let money = if money.is_empty() { String::new() } else { format!(" ({money})") };
    let orders = plural(u.order_ids.len() as u64, "order", "orders");
    format!("{} · {orders}{money} waiting since {}", u.sku, age_in_words((now_ms - u.since) / 1000))
}

#[cfg(test)]
mod tests {
    use super::*;
    use wns_api_types::BlockedReason;

    fn exception(state: ExceptionState) -> ExceptionView {
        ExceptionView {
            id: 1,
            kind: "unmapped_sku".into(),
            owner: Owner::Ecommerce,
            entity: "sku:MUG".into(),
            message: "SKU MUG has no NetSuite item".into(),
            fix: "Map the SKU to its NetSuite item.".into(),
            state,
            resolution: None,
            resolved_by: None,
            note: None,
            orders_blocked: 3,
            money_waiting: vec![Money { currency: "EUR".into(), amount: "25.00".into() }],
            skus_stale: 0,
            first_seen: 0,
            last_seen: 0,
            count: 4,
        }
    }

    #[test]
    fn board_rows_say_what_happened_what_it_holds_back_and_how_it_ended() {
        let r = exception_row(&exception(ExceptionState::Open), 7_200_000);
        assert_eq!(r.owner, "E-commerce");
        assert_eq!(r.what, "SKU MUG has no NetSuite item.");
        assert_eq!(r.impact, "3 orders held back (EUR 25.00)");
        assert_eq!((r.state.as_str(), r.tone), ("open, first seen 2 h ago · seen 4 times", Tone::Error));
        let closed = ExceptionView {
            resolution: Some("sku_mapped".into()),
            resolved_by: Some("Mia".into()),
            ..exception(ExceptionState::Resolved)
        };
        assert_eq!(exception_row(&closed, 0).state, "closed: sku mapped by Mia");
        let ignored = ExceptionView { note: Some("discontinued".into()), ..exception(ExceptionState::Ignored) };
        assert_eq!(exception_row(&ignored, 0).state, "ignored: discontinued");
        let stale = ExceptionView {
            orders_blocked: 0,
            money_waiting: vec![],
            skus_stale: 1,
            ..exception(ExceptionState::Open)
        };
        assert_eq!(
            (exception_row(&stale, 0).impact.as_str(), exception_row(&stale, 0).tone),
            ("1 SKU with stale stock", Tone::Warning)
        );
        let u = UnmappedSku {
            sku: "MUG".into(),
            order_ids: vec![1, 2],
            money_waiting: vec![Money { currency: "USD".into(), amount: "14.00".into() }],
            since: 0,
        };
        assert_eq!(unmapped_line(&u, 180_000), "MUG · 2 orders (USD 14.00) waiting since 3 min ago");
    }

    fn status(state: OrderSyncState) -> OrderStatus {
        OrderStatus {
            order_id: 7,
            state,
            netsuite_id: None,
            netsuite_number: None,
            netsuite_url: None,
            next_attempt_at: None,
            blocked: None,
            last_error: None,
        }
    }

    #[test]
    fn each_order_state_reads_as_words_with_a_tone_and_what_to_do() {
        let posted = OrderStatus {
            netsuite_number: Some("SO1042".into()),
            netsuite_url: Some("https://1-sb1.app.netsuite.com/x?id=9".into()),
            ..status(OrderSyncState::Posted)
        };
        let b = order_badge(&posted, 0);
        assert_eq!((b.label.as_str(), b.tone, b.link.is_some()), ("Posted · SO1042", Tone::Success, true));

        let retry = OrderStatus {
            next_attempt_at: Some(181_000),
            last_error: Some("NetSuite answered 503".into()),
            ..status(OrderSyncState::Retrying)
        };
        let b = order_badge(&retry, 1_000);
        assert_eq!((b.label.as_str(), b.tone), ("Retrying in 3 min", Tone::Warning));
        assert_eq!(b.detail, "NetSuite answered 503. wns tries again in 3 min; nothing to do.");

        let blocked = OrderStatus {
            blocked: Some(BlockedReason {
                owner: Owner::Ecommerce,
                cause: "sku:MUG".into(),
                message: "SKU MUG has no NetSuite item".into(),
                fix: "Map the SKU to its NetSuite item.".into(),
            }),
            ..status(OrderSyncState::Blocked)
        };
        let b = order_badge(&blocked, 0);
        assert_eq!((b.label.as_str(), b.tone), ("Blocked · E-commerce", Tone::Error));
        assert_eq!(b.detail, "SKU MUG has no NetSuite item. Map the SKU to its NetSuite item.");
        assert_eq!(order_badge(&status(OrderSyncState::Unknown), 0).label, "Not seen yet");
        assert!(order_badge(&status(OrderSyncState::Failed), 0).detail.ends_with("then replay the order."));
    }

    #[test]
    fn exception_kinds_read_as_words() {
        assert_eq!(kind_words("unmapped_sku"), "Unmapped SKU");
        assert_eq!(kind_words("netsuite_login"), "NetSuite login");
        assert_eq!(kind_words("stock_drift"), "Stock drift");
        assert_eq!(kind_words(""), "");
    }

    #[test]
    fn ages_and_waits_read_as_words() {
        assert_eq!(age_in_words(3), "just now");
        assert_eq!(age_in_words(45), "45 s ago");
        assert_eq!(age_in_words(185), "3 min ago");
        assert_eq!(age_in_words(7300), "2 h ago");
        assert_eq!(age_in_words(86_400), "1 day ago");
        assert_eq!(age_in_words(3 * 86_400), "3 days ago");
        assert_eq!(wait_in_words(-5), "now");
        assert_eq!(wait_in_words(40_000), "in 40 s");
        assert_eq!(wait_in_words(61_000), "in 2 min");
    }

    #[test]
    fn money_is_shown_exactly_as_sent_one_sum_per_currency() {
        let m = |c: &str, a: &str| Money { currency: c.into(), amount: a.into() };
        assert_eq!(money_line(&[m("EUR", "25.00"), m("USD", "10.10")]), "EUR 25.00 + USD 10.10");
        assert_eq!(money_line(&[]), "");
    }

    #[test]
    fn stock_cells_say_freshness_in_words_and_drift_turns_them_red() {
        let p = ProductStatus {
            product_id: Some(3),
            sku: Some("MUG".into()),
            mapping: MappingState::Mapped,
            netsuite_item_id: Some("9".into()),
            locations: vec![],
            netsuite_total: Some(12),
            wns_figure: Some(10),
            woocommerce_stock: Some(10),
            read_at: None,
            written_at: None,
            freshness: Freshness::Fresh,
            age_secs: Some(75),
            drift: None,
        };
        let c = stock_cell(&p);
        assert_eq!((c.label.as_str(), c.tone), ("12 in NetSuite · 10 here", Tone::Success));
        assert_eq!(c.detail, "Fresh: read from NetSuite 1 min ago.");
        let stale = stock_cell(&ProductStatus { freshness: Freshness::Stale, age_secs: Some(7200), ..p.clone() });
        assert_eq!(stale.tone, Tone::Error);
        assert!(stale.detail.starts_with("Stale: read from NetSuite 2 h ago"), "{}", stale.detail);
        let drifted = stock_cell(&ProductStatus { drift: Some("shows 36, wns expects 33".into()), ..p.clone() });
        assert_eq!((drifted.tone, drifted.drift.is_some()), (Tone::Error, true));
        assert_eq!(stock_cell(&ProductStatus { mapping: MappingState::Unmapped, ..p }).label, "Unmapped");
    }
}
