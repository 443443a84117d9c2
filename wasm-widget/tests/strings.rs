//! Every word the widget shows can be translated: each text the view model writes, for every
//! state, and each fixed text the DOM layer writes, is a key of the plugin's table
//! (`wp-plugin/wns-sync/includes/class-wns-widget-strings.php`) or matches one of its `%s`
//! patterns. A new or changed string without its entry fails here, not on a French site.

#![cfg(not(target_arch = "wasm32"))]

use wns_api_types::{
    BlockedReason, ExceptionState, ExceptionView, Freshness, MappingState, Money, OrderStatus, OrderSyncState, Owner,
    ProductStatus, UnmappedSku,
};
use wns_widget::{session::Problem, view};

fn table() -> Vec<String> {
    let php = include_str!("../../wp-plugin/wns-sync/includes/class-wns-widget-strings.php");
    php.lines()
        .filter_map(|line| {
            let (key, _) = line.trim().split_once(" => __(")?;
            let key = key.trim();
            let quote = key.chars().next().filter(|q| *q == '\'' || *q == '"')?;
            Some(key.trim_matches(quote).to_string())
        })
        .collect()
}

/// `text` matches `pattern` with each `%s` standing for at least one character.
fn matches(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split("%s").collect();
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if parts.len() == 1 || !text.starts_with(first) || !text.ends_with(last) || text.len() < first.len() + last.len() {
        return parts.len() == 1 && pattern == text;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    for middle in &parts[1..parts.len() - 1] {
        // At least one character for the `%s` before it.
        let Some(at) = rest.get(1..).and_then(|r| r.find(middle)) else { return false };
        rest = &rest[at + 1 + middle.len()..];
    }
    !rest.is_empty()
}

fn assert_covered(table: &[String], texts: &[String]) {
    let missing: Vec<&String> = texts.iter().filter(|t| !table.iter().any(|k| matches(k, t))).collect();
    assert!(missing.is_empty(), "not in the plugin's table of the widget's strings: {missing:#?}");
}

fn order(state: OrderSyncState) -> OrderStatus {
    OrderStatus {
        order_id: 1,
        state,
        netsuite_id: None,
        netsuite_number: None,
        netsuite_url: None,
        next_attempt_at: None,
        blocked: None,
        last_error: None,
    }
}

fn product(mapping: MappingState, freshness: Freshness, ns: Option<i64>, shop: Option<i64>) -> ProductStatus {
    ProductStatus {
        product_id: Some(1),
        sku: Some("MUG".into()),
        mapping,
        netsuite_item_id: None,
        locations: Vec::new(),
        netsuite_total: ns,
        wns_figure: None,
        woocommerce_stock: shop,
        read_at: None,
        written_at: None,
        freshness,
        age_secs: Some(200),
        drift: None,
    }
}

#[test]
fn the_pattern_matcher_needs_every_part_in_order() {
    assert!(matches("Posted · %s", "Posted · SO1"));
    assert!(!matches("Posted · %s", "Posted · "));
    assert!(matches("%s in NetSuite · %s here", "3 in NetSuite · 4 here"));
    assert!(!matches("%s in NetSuite · %s here", "3 in NetSuite"));
    assert!(matches("Waiting", "Waiting") && !matches("Waiting", "Waiting!"));
}

#[test]
fn every_badge_cell_row_and_problem_the_view_model_writes_is_in_the_table() {
    let table = table();
    assert!(table.len() > 100, "the table was read: {} keys", table.len());
    let now = 1_700_000_000_000;
    let mut texts = Vec::new();
    let states = [
        OrderSyncState::Waiting,
        OrderSyncState::Retrying,
        OrderSyncState::Blocked,
        OrderSyncState::Failed,
        OrderSyncState::Posted,
        OrderSyncState::Fulfilled,
        OrderSyncState::Closed,
        OrderSyncState::NotPosted,
        OrderSyncState::Unknown,
    ];
    for state in states {
        for number in [None, Some("SO1".to_string())] {
            let mut s = order(state);
            s.netsuite_number = number;
            let b = view::order_badge(&s, now);
            texts.push(b.label);
            texts.push(b.detail);
        }
    }
    for wait in [500, 30_000, 300_000, 9_000_000] {
        let mut s = order(OrderSyncState::Retrying);
        s.next_attempt_at = Some(now + wait);
        texts.push(view::order_badge(&s, now).label);
    }
    // A blocked order's detail is the service's own words; its label is ours.
    for owner in [Owner::Finance, Owner::Operations, Owner::Ecommerce, Owner::CustomerService] {
        let mut s = order(OrderSyncState::Blocked);
        s.blocked = Some(BlockedReason { cause: "sku:X".into(), owner, message: "m".into(), fix: "f".into() });
        texts.push(view::order_badge(&s, now).label);
        texts.push(view::owner_title(owner).to_string());
    }
    for mapping in [MappingState::Mapped, MappingState::Unmapped, MappingState::NoSku, MappingState::Unknown] {
        for freshness in [Freshness::Fresh, Freshness::Late, Freshness::Stale, Freshness::Never] {
            for (ns, shop) in [(Some(3), Some(4)), (Some(3), None), (None, Some(4)), (None, None)] {
                let c = view::stock_cell(&product(mapping, freshness, ns, shop));
                texts.push(c.label);
                texts.push(c.detail);
            }
        }
    }
    for secs in [0, 30, 300, 7_200, 86_400, 300_000] {
        texts.push(view::age_in_words(secs));
    }
    let money = vec![Money { currency: "USD".into(), amount: "4.00".into() }];
    for (state, orders, skus, count) in [
        (ExceptionState::Open, 1, 0, 1),
        (ExceptionState::Open, 3, 2, 4),
        (ExceptionState::Resolved, 0, 1, 1),
        (ExceptionState::Ignored, 2, 0, 1),
    ] {
        let e = ExceptionView {
            id: 1,
            kind: "unmapped_sku".into(),
            owner: Owner::Ecommerce,
            entity: "sku:X".into(),
            message: "m".into(),
            fix: "f".into(),
            state,
            resolution: Some("resolved".into()),
            resolved_by: Some("key:ops".into()),
            note: None,
            orders_blocked: orders,
            money_waiting: if orders > 1 { money.clone() } else { Vec::new() },
            skus_stale: skus,
            first_seen: now - 60_000,
            last_seen: now,
            count,
        };
        let row = view::exception_row(&e, now);
        texts.push(row.state);
        for part in row.impact.split(" · ").filter(|p| !p.is_empty()) {
            texts.push(part.to_string());
        }
    }
    for (ids, money) in [(vec![1], Vec::new()), (vec![1, 2], money.clone())] {
        let u = UnmappedSku { sku: "MUG".into(), order_ids: ids, money_waiting: money, since: now - 7_200_000 };
        texts.push(view::unmapped_line(&u, now));
    }
    for kind in [
        "webhook_malformed",
        "webhook_disabled",
        "webhook_unsigned",
        "webhook_miss",
        "netsuite_login",
        "unmapped_sku",
        "missing_sku",
        "item_not_sellable",
        "customer_rejected",
        "tax_difference",
        "changed_after_fulfilment",
        "sales_order_rejected",
        "stock_item_rejected",
        "stock_unreadable",
        "stock_stale",
        "stock_drift",
        "report_undelivered",
    ] {
        texts.push(view::kind_words(kind));
    }
    for p in [Problem::Unreachable, Problem::NoToken("x".into()), Problem::Refused(403, "x".into())] {
        texts.push(p.words());
    }
    assert_covered(&table, &texts);
}

/// The arguments of a call whose text follows its `(`: each one that is a lone string literal, as
/// its text (empty ones and others as `None`).
fn arguments(call: &str) -> Vec<Option<String>> {
    let (mut args, mut current, mut literal) = (Vec::new(), String::new(), None::<String>);
    let (mut depth, mut chars) = (0, call.chars());
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                let mut text = String::new();
                while let Some(c) = chars.next() {
                    match c {
                        '\\' => text.extend(chars.next()),
                        '"' => break,
                        c => text.push(c),
                    }
                }
                current.push('"');
                literal = Some(text);
            }
            '(' | '[' | '{' => {
                depth += 1;
                current.push(c);
            }
            ')' | ']' | '}' if depth == 0 => break,
            ')' | ']' | '}' => {
                depth -= 1;
                current.push(c);
            }
            ',' if depth == 0 => {
                args.push(literal.take().filter(|t| current.trim() == "\"" && !t.is_empty()));
                current.clear();
            }
            c => current.push(c),
        }
    }
    args.push(literal.filter(|t| current.trim() == "\"" && !t.is_empty()));
    args
}

#[test]
fn every_fixed_text_the_screens_write_is_in_the_table() {
    let table = table();
    let mut texts = Vec::new();
    for source in [include_str!("../src/dom.rs"), include_str!("../src/page.rs")] {
        // The text argument of each call that writes one: `text_el(tag, "…", class)`, `say(e, "…")`,
        // `tr("…")`, `section(class, "…")`, `action(td, "…", …)`, `option(select, value, "…")`,
        // `badge(place, "…", …)`.
        let calls =
            [("text_el(", 1), ("say(", 1), ("tr(", 0), ("section(", 1), ("action(", 1), ("option(", 2), ("badge(", 1)];
        for (call, nth) in calls {
            for piece in source.split(call).skip(1) {
                if let Some(Some(text)) = arguments(piece).into_iter().nth(nth) {
                    texts.push(text);
                }
            }
        }
    }
    // Texts written from a list.
    let page = include_str!("../src/page.rs");
    for (value, words) in [("open", "Open"), ("resolved", "Resolved"), ("ignored", "Ignored"), ("all", "All")] {
        assert!(page.contains(&format!("(\"{value}\", \"{words}\")")), "the state filter's {words}");
        texts.push(words.to_string());
    }
    let heads = ["Owner", "What happened", "Holds back", "What to do", "State"];
    assert!(page.contains(&format!("{heads:?}").replace('[', "vec![")), "the board's column heads");
    texts.extend(heads.iter().map(|h| h.to_string()));
    texts.push("Action".into());
    assert!(texts.len() > 25, "the sources were read: {texts:?}");
    assert_covered(&table, &texts);
}
