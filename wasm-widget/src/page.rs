//! The "NetSuite sync" page (`#wns-sync-app`): the SKU fixer for users with `map_skus`, and the
//! open exceptions.
//!
//! The page is built once and then refreshed in place: the exceptions table every refresh, the
//! fixer's list only while nobody is typing in it or saving, so a refresh never takes a half-typed
//! search away. The fixer searches NetSuite's items as the user types (300 ms after the last key,
//! against wns's local item index, so typing spends nothing of NetSuite's concurrency), offers the
//! hits as buttons (Tab and Enter work), saves the pick and says how many orders it released; the
//! orders' badges beside the SKU then update every 2 s until NetSuite has them, without a reload.

use std::{cell::Cell, rc::Rc};

use wasm_bindgen::{JsCast, prelude::*};
use web_sys::{Element, HtmlInputElement};
use wns_api_types::{
    ExceptionState, ExceptionView, IgnoreRequest, ItemHit, MappingSaved, OrderSyncState, OwnerCount,
    SaveMappingRequest, UnmappedSku,
};

use crate::{
    dom::{App, clear, now_ms, say, sleep, spawn, tr},
    session::Problem,
    view,
};

const DEBOUNCE_MS: i32 = 300;

thread_local! {
    /// Numbers the fixer's fields (`id`s for their labels), never reusing one on the page.
    static NEXT_LINE: Cell<u32> = const { Cell::new(0) };
}

impl App {
    fn page(&self) -> Option<Element> {
        self.placeholders("#wns-sync-app").into_iter().next()
    }

    /// The page's notice line: `Some(words)` shows them (the backend is down), `None` clears it.
    pub(crate) fn page_notice(&self, words: Option<&str>) {
        let Some(root) = self.page() else { return };
        let notice = match root.query_selector(".wns-sync-notice").ok().flatten() {
            Some(n) => n,
            None => {
                let n = self.el("div");
                let _ = n.set_attribute("role", "status");
                let _ = root.prepend_with_node_1(&n);
                n
            }
        };
        match words {
            Some(w) => {
                let _ = notice.set_attribute("class", "wns-sync-notice notice notice-warning inline");
                notice.set_text_content(None);
                let _ = notice.append_child(&self.text_el("p", w, ""));
                let _ = root.set_attribute("data-wns-state", "unreachable");
            }
            None => {
                let _ = notice.set_attribute("class", "wns-sync-notice");
                notice.set_text_content(None);
                let _ = root.remove_attribute("data-wns-state");
            }
        }
    }

    pub(crate) async fn sync_page(self: &Rc<Self>) -> Result<(), Problem> {
        let Some(root) = self.page() else { return Ok(()) };
        // The token first: what the page offers depends on its capabilities.
        self.bearer().await?;
        if root.get_attribute("data-wns-built").is_none() {
            clear(&root);
            if self.may("map_skus") {
                let fixer = self.section("wns-sync-fixer", "SKUs without a NetSuite item");
                let _ = fixer.append_child(&self.text_el(
                    "p",
                    "Orders with these SKUs wait for a NetSuite item. Search NetSuite's items by name, number or UPC, pick one, and the orders continue by themselves.",
                    "wns-sync-detail",
                ));
                let list = self.el("ul");
                let _ = list.set_attribute("class", "wns-sync-unmapped");
                let _ = fixer.append_child(&list);
                let _ = root.append_child(&fixer);
            }
            let board = self.section("wns-sync-board", "Exceptions");
            self.board_filters(&board);
            let _ = root.append_child(&board);
            let _ = root.set_attribute("data-wns-built", "1");
        }
        self.page_notice(None);
        if let Some(list) = root.query_selector(".wns-sync-unmapped").ok().flatten()
            && !self.fixer_busy(&list)
        {
            let unmapped: Vec<UnmappedSku> = self.api("GET", "/api/v1/skus/unmapped", None::<&()>).await?;
            self.render_unmapped(&list, &unmapped);
            // The blocked orders' badges at once, not at the next refresh.
            let spans = self.placeholders(".wns-sync-unmapped span.wns-sync-status[data-wns-order]");
            self.render_order_badges(&spans).await?;
        }
        self.refresh_board().await
    }

    /// The board with its current filters: the owners' counts, then the rows. Skipped while
    /// someone writes a reason to ignore one.
    async fn refresh_board(self: &Rc<Self>) -> Result<(), Problem> {
        let Some(board) = self.page().and_then(|p| p.query_selector(".wns-sync-board").ok().flatten()) else {
            return Ok(());
        };
        if board.query_selector("[data-wns-busy]").ok().flatten().is_some() {
            return Ok(());
        }
        let counts: Vec<OwnerCount> = self.api("GET", "/api/v1/exceptions/counts", None::<&()>).await?;
        let owner = board.get_attribute("data-owner").unwrap_or_default();
        let state = board.get_attribute("data-state").unwrap_or_else(|| "open".into());
        let text = board.get_attribute("data-q").unwrap_or_default();
        let kind = board.get_attribute("data-kind").unwrap_or_default();
        let mut path = format!("/api/v1/exceptions?state={state}");
        if !owner.is_empty() {
            path.push_str(&format!("&owner={owner}"));
        }
        if !kind.is_empty() {
            path.push_str(&format!("&kind={}", encode(&kind)));
        }
        if !text.trim().is_empty() {
            path.push_str(&format!("&q={}", encode(&text)));
        }
        let rows: Vec<ExceptionView> = self.api("GET", &path, None::<&()>).await?;
        self.render_counts(&board, &counts, &owner);
        self.render_board(&board, &rows);
        if kind.is_empty() {
            self.kind_options(&board, &rows);
        }
        Ok(())
    }

    /// The filters, made once: owner buttons (filled by [`App::render_counts`]), state, kind
    /// (filled by [`App::kind_options`]), text. The board's buttons and selects are handled by one
    /// listener each on the board, made here once: rows and buttons redrawn on every refresh add
    /// no listener (nothing accumulates in a tab left open all day).
    fn board_filters(self: &Rc<Self>, board: &Element) {
        let owners = self.el("div");
        let _ = owners.set_attribute("class", "wns-sync-owners");
        let _ = owners.set_attribute("role", "group");
        let _ = owners.set_attribute("aria-label", &tr("Whose exceptions"));
        let _ = board.append_child(&owners);
        let bar = self.el("p");
        let _ = bar.set_attribute("class", "wns-sync-filters");
        let label = self.text_el("label", "State ", "");
        let select = self.el("select");
        let _ = select.set_attribute("class", "wns-sync-state");
        let _ = select.set_attribute("name", "state");
        for (value, words) in [("open", "Open"), ("resolved", "Resolved"), ("ignored", "Ignored"), ("all", "All")] {
            self.option(&select, value, words);
        }
        let _ = label.append_child(&select);
        let _ = bar.append_child(&label);
        let label = self.text_el("label", " Kind ", "");
        let select = self.el("select");
        let _ = select.set_attribute("class", "wns-sync-kind");
        let _ = select.set_attribute("name", "kind");
        // Until the first answer (or while wns is down) the filter still reads as one.
        self.option(&select, "", "All kinds");
        let _ = label.append_child(&select);
        let _ = bar.append_child(&label);
        let search = self.text_el("label", " Words ", "");
        let input = self.el("input");
        let _ = input.set_attribute("type", "search");
        let _ = input.set_attribute("class", "wns-sync-q");
        let _ = search.append_child(&input);
        let _ = bar.append_child(&search);
        let _ = board.append_child(&bar);

        let (app, b) = (self.clone(), board.clone());
        let changed = Closure::<dyn FnMut(web_sys::Event)>::new(move |e: web_sys::Event| {
            let Some(field) = e.target().and_then(|t| t.dyn_into::<web_sys::HtmlSelectElement>().ok()) else { return };
            let _ = b.set_attribute(&format!("data-{}", field.name()), &field.value());
            let app = app.clone();
            spawn(Box::pin(async move { app.board_or_notice().await }));
        });
        let _ = bar.add_event_listener_with_callback("change", changed.as_ref().unchecked_ref());
        changed.forget();

        let (app, b) = (self.clone(), board.clone());
        let clicked = Closure::<dyn FnMut(web_sys::Event)>::new(move |e: web_sys::Event| {
            let Some(button) = e.target().and_then(|t| t.dyn_into::<Element>().ok()) else { return };
            let app = app.clone();
            if let Some(owner) = button.get_attribute("data-owner") {
                let _ = b.set_attribute("data-owner", &owner);
                spawn(Box::pin(async move { app.board_or_notice().await }));
                return;
            }
            let (Some(verb), Some(td)) = (button.get_attribute("data-verb"), button.parent_element()) else { return };
            let Some(id) = td.parent_element().and_then(|tr| tr.get_attribute("data-wns-exception")?.parse().ok())
            else {
                return;
            };
            if verb == "ask" {
                return app.reason_form(&td, id);
            }
            // Ignoring takes the reason written in the cell's field.
            let reason =
                td.query_selector("input").ok().flatten().map(|f| f.unchecked_into::<HtmlInputElement>().value());
            spawn(Box::pin(async move { app.close(id, &verb, reason).await }));
        });
        let _ = board.add_event_listener_with_callback("click", clicked.as_ref().unchecked_ref());
        clicked.forget();

        let generation = Rc::new(Cell::new(0u32));
        let (app, b) = (self.clone(), board.clone());
        let field: HtmlInputElement = input.unchecked_into();
        let typed = Closure::<dyn FnMut()>::new(move || {
            let mine = generation.get().wrapping_add(1);
            generation.set(mine);
            let (app, b, field, generation) = (app.clone(), b.clone(), field.clone(), generation.clone());
            spawn(Box::pin(async move {
                sleep(DEBOUNCE_MS).await;
                if generation.get() == mine {
                    let _ = b.set_attribute("data-q", &field.value());
                    app.board_or_notice().await;
                }
            }));
        });
        let _ = bar.add_event_listener_with_callback("input", typed.as_ref().unchecked_ref());
        typed.forget();
    }

    async fn board_or_notice(self: &Rc<Self>) {
        if let Err(p) = self.refresh_board().await {
            self.page_notice(Some(&p.words()));
        }
    }

    fn render_counts(self: &Rc<Self>, board: &Element, counts: &[OwnerCount], chosen: &str) {
        let Some(owners) = board.query_selector(".wns-sync-owners").ok().flatten() else { return };
        clear(&owners);
        let total: u64 = counts.iter().map(|c| c.open).sum();
        let mut choices = vec![(String::new(), format!("All ({total})"))];
        for c in counts {
            choices.push((c.owner.as_str().to_string(), format!("{} ({})", view::owner_title(c.owner), c.open)));
        }
        for (value, words) in choices {
            let button = self.text_el("button", &words, "button wns-sync-owner");
            let _ = button.set_attribute("type", "button");
            let _ = button.set_attribute("data-owner", &value);
            let _ = button.set_attribute("aria-pressed", if value == chosen { "true" } else { "false" });
            let _ = owners.append_child(&button);
        }
    }

    fn option(&self, select: &Element, value: &str, words: &str) {
        let option = self.text_el("option", words, "");
        let _ = option.set_attribute("value", value);
        let _ = select.append_child(&option);
    }

    /// The kind filter offers the kinds among the exceptions shown (while it is set to all kinds).
    fn kind_options(&self, board: &Element, rows: &[ExceptionView]) {
        let Some(select) = board.query_selector(".wns-sync-kind").ok().flatten() else { return };
        clear(&select);
        self.option(&select, "", "All kinds");
        let mut kinds: Vec<&str> = Vec::new();
        for e in rows {
            if !kinds.contains(&e.kind.as_str()) {
                kinds.push(&e.kind);
                self.option(&select, &e.kind, &view::kind_words(&e.kind));
            }
        }
    }

    fn section(&self, class: &str, title: &str) -> Element {
        let section = self.el("section");
        let _ = section.set_attribute("class", class);
        let id = format!("{class}-title");
        let _ = section.set_attribute("aria-labelledby", &id);
        let h = self.text_el("h2", title, "");
        let _ = h.set_attribute("id", &id);
        let _ = section.append_child(&h);
        section
    }

    /// Someone is typing in the fixer or a save is on its way.
    fn fixer_busy(&self, list: &Element) -> bool {
        let typing = self.doc.active_element().is_some_and(|a| list.contains(Some(a.unchecked_ref())));
        typing || list.query_selector("[data-wns-busy]").ok().flatten().is_some()
    }

    fn render_board(self: &Rc<Self>, board: &Element, rows: &[ExceptionView]) {
        if let Some(old) = board.query_selector(".wns-sync-exceptions, .wns-sync-none").ok().flatten() {
            old.remove();
        }
        if rows.is_empty() {
            let words = if board.get_attribute("data-state").is_none_or(|s| s == "open") {
                "Nothing needs a person: every order and SKU is in sync."
            } else {
                "No exception matches these filters."
            };
            let _ = board.append_child(&self.text_el("p", words, "wns-sync-none"));
            return;
        }
        let may_resolve = self.may("resolve");
        let now = now_ms();
        let table = self.el("table");
        let _ = table.set_attribute("class", "widefat striped wns-sync-exceptions");
        let head = self.el("tr");
        let mut titles = vec!["Owner", "What happened", "Holds back", "What to do", "State"];
        if may_resolve {
            titles.push("Action");
        }
        for h in titles {
            let th = self.text_el("th", h, "");
            let _ = th.set_attribute("scope", "col");
            let _ = head.append_child(&th);
        }
        let _ = table.append_child(&head);
        for e in rows {
            let row = view::exception_row(e, now);
            let tr = self.el("tr");
            let _ = tr.set_attribute("class", &format!("wns-sync-tone-{}", row.tone.class()));
            let _ = tr.set_attribute("data-wns-exception", &e.id.to_string());
            for cell in [row.owner, &row.what, &row.impact, &row.fix, &row.state] {
                let _ = tr.append_child(&self.text_el("td", cell, ""));
            }
            if may_resolve {
                let td = self.el("td");
                if matches!(e.state, ExceptionState::Open) {
                    self.action(&td, "Resolve", "button wns-sync-resolve", "resolve");
                    // "Ignore…" opens a field for the reason (the API wants one) and a button to confirm.
                    self.action(&td, "Ignore…", "button-link wns-sync-ignore", "ask");
                } else {
                    self.action(&td, "Reopen", "button wns-sync-reopen", "reopen");
                }
                let _ = tr.append_child(&td);
            }
            let _ = table.append_child(&tr);
        }
        let _ = board.append_child(&table);
    }

    /// A button for the board's listener: `verb` is posted to `/api/v1/exceptions/{id}/{verb}`
    /// (`ask` opens the field for a reason to ignore).
    fn action(&self, td: &Element, words: &str, class: &str, verb: &str) {
        let button = self.text_el("button", words, class);
        let _ = button.set_attribute("type", "button");
        let _ = button.set_attribute("data-verb", verb);
        let _ = td.append_child(&button);
    }

    fn reason_form(&self, td: &Element, id: i64) {
        clear(td);
        let _ = td.set_attribute("data-wns-busy", "1");
        let field_id = format!("wns-sync-reason-{id}");
        let label = self.text_el("label", "Why is it ignored?", "");
        let _ = label.set_attribute("for", &field_id);
        let input = self.el("input");
        for (k, v) in [("type", "text"), ("id", field_id.as_str()), ("class", "wns-sync-reason"), ("maxlength", "500")]
        {
            let _ = input.set_attribute(k, v);
        }
        for e in [&label, &input] {
            let _ = td.append_child(e);
        }
        self.action(td, "Ignore", "button wns-sync-ignore-confirm", "ignore");
        if let Some(field) = input.dyn_ref::<web_sys::HtmlElement>() {
            let _ = field.focus();
        }
    }

    async fn close(self: &Rc<Self>, id: i64, verb: &str, reason: Option<String>) {
        let path = format!("/api/v1/exceptions/{id}/{verb}");
        let done: Result<ExceptionView, Problem> = match reason {
            Some(reason) => self.api("POST", &path, Some(&IgnoreRequest { reason })).await,
            None => self.api("POST", &path, None::<&()>).await,
        };
        if let Some(board) = self.page().and_then(|p| p.query_selector(".wns-sync-board").ok().flatten())
            && let Ok(busy) = board.query_selector_all("[data-wns-busy]")
        {
            for i in 0..busy.length() {
                if let Some(e) = busy.item(i).and_then(|n| n.dyn_into::<Element>().ok()) {
                    let _ = e.remove_attribute("data-wns-busy");
                }
            }
        }
        match done {
            Ok(_) => self.board_or_notice().await,
            Err(p) => self.page_notice(Some(&p.words())),
        }
    }

    /// The unmapped SKUs. A line still unmapped is updated in place (its field, listener and
    /// focus stay); a line mapped on this page stays (with its orders' badges and what the save
    /// said) until the page is left; the others go.
    fn render_unmapped(self: &Rc<Self>, list: &Element, unmapped: &[UnmappedSku]) {
        let now = now_ms();
        let mut kept = Vec::new();
        if let Ok(lines) = list.query_selector_all("li") {
            for line in (0..lines.length()).filter_map(|i| lines.item(i)?.dyn_into::<Element>().ok()) {
                let sku = line.get_attribute("data-wns-sku").unwrap_or_default();
                let still = unmapped.iter().find(|u| u.sku == sku);
                if let (Some(u), false) = (still, line.has_attribute("data-wns-mapped")) {
                    self.sku_facts(&line, u, now);
                } else if !line.has_attribute("data-wns-mapped") {
                    line.remove();
                    continue;
                }
                kept.push(sku);
            }
        }
        let fresh: Vec<&UnmappedSku> = unmapped.iter().filter(|u| !kept.contains(&u.sku)).collect();
        if fresh.is_empty() && kept.is_empty() {
            let _ = list.append_child(&self.text_el("li", "Every SKU on an order has its NetSuite item.", ""));
            return;
        }
        for u in fresh {
            let n = NEXT_LINE.with(|c| c.replace(c.get() + 1));
            let li = self.el("li");
            let _ = li.set_attribute("class", "wns-sync-sku");
            let _ = li.set_attribute("data-wns-sku", &u.sku);
            let _ = li.append_child(&self.text_el("p", "", "wns-sync-sku-line"));
            let _ = li.append_child(&self.text_el("p", "", "wns-sync-sku-orders"));
            self.sku_facts(&li, u, now);
            let input_id = format!("wns-sync-fix-{n}");
            let label = self.text_el("label", &format!("NetSuite item for {}", u.sku), "");
            let _ = label.set_attribute("for", &input_id);
            let _ = li.append_child(&label);
            let input = self.el("input");
            for (k, v) in [
                ("type", "search"),
                ("id", input_id.as_str()),
                ("class", "regular-text wns-sync-search"),
                ("autocomplete", "off"),
                ("placeholder", &tr("Name, number or UPC")),
                ("aria-describedby", &format!("{input_id}-status")),
            ] {
                let _ = input.set_attribute(k, v);
            }
            let _ = li.append_child(&input);
            let hits = self.el("div");
            let _ = hits.set_attribute("class", "wns-sync-hits");
            let _ = li.append_child(&hits);
            let status = self.text_el("p", "", "wns-sync-detail wns-sync-fix-status");
            let _ = status.set_attribute("id", &format!("{input_id}-status"));
            let _ = status.set_attribute("role", "status");
            let _ = li.append_child(&status);
            let _ = list.append_child(&li);
            self.on_typing(&input, &hits, &status, &li, &u.sku);
        }
    }

    /// A fixer line's facts, redrawn every refresh: how much waits, and the orders' badges.
    fn sku_facts(&self, li: &Element, u: &UnmappedSku, now: i64) {
        let (Some(line), Some(orders)) = (
            li.query_selector(".wns-sync-sku-line").ok().flatten(),
            li.query_selector(".wns-sync-sku-orders").ok().flatten(),
        ) else {
            return;
        };
        say(&line, &view::unmapped_line(u, now));
        clear(&orders);
        for id in &u.order_ids {
            let _ = orders.append_child(&self.text_el("span", &format!("#{id} "), "wns-sync-order-number"));
            let span = self.text_el("span", "", "wns-sync-status");
            let _ = span.set_attribute("data-wns-order", &id.to_string());
            let _ = orders.append_child(&span);
        }
    }

    /// Searches 300 ms after the last key; an older search's answer never replaces a newer one's.
    fn on_typing(self: &Rc<Self>, input: &Element, hits: &Element, status: &Element, li: &Element, sku: &str) {
        let generation = Rc::new(Cell::new(0u32));
        let (app, hits, status, li, sku) = (self.clone(), hits.clone(), status.clone(), li.clone(), sku.to_string());
        let field: HtmlInputElement = input.clone().unchecked_into();
        let typed = Closure::<dyn FnMut()>::new(move || {
            let mine = generation.get().wrapping_add(1);
            generation.set(mine);
            let (app, hits, status, li, sku, field, generation) =
                (app.clone(), hits.clone(), status.clone(), li.clone(), sku.clone(), field.clone(), generation.clone());
            spawn(Box::pin(async move {
                sleep(DEBOUNCE_MS).await;
                if generation.get() != mine {
                    return;
                }
                let text = field.value();
                if text.trim().is_empty() {
                    clear(&hits);
                    return;
                }
                let path = format!("/api/v1/items/search?q={}&limit=8", encode(&text));
                let found: Result<Vec<ItemHit>, Problem> = app.api("GET", &path, None::<&()>).await;
                if generation.get() != mine {
                    return;
                }
                match found {
                    Ok(found) => app.render_hits(&hits, &status, &li, &sku, &found),
                    Err(p) => say(&status, &p.words()),
                }
            }));
        });
        let _ = input.add_event_listener_with_callback("input", typed.as_ref().unchecked_ref());
        typed.forget();
    }

    fn render_hits(self: &Rc<Self>, hits: &Element, status: &Element, li: &Element, sku: &str, found: &[ItemHit]) {
        clear(hits);
        if found.is_empty() {
            say(status, "No NetSuite item matches; try part of its name or its UPC.");
            return;
        }
        say(
            status,
            &format!(
                "{} NetSuite {} found; pick one to map {sku}.",
                found.len(),
                if found.len() == 1 { "item" } else { "items" }
            ),
        );
        for hit in found {
            let mut words = hit.itemid.clone();
            if !hit.displayname.is_empty() && hit.displayname != hit.itemid {
                words.push_str(&format!(" — {}", hit.displayname));
            }
            if !hit.upc.is_empty() {
                words.push_str(&format!(" (UPC {})", hit.upc));
            }
            let button = self.text_el("button", &words, "button wns-sync-pick");
            let words = hit.itemid.clone();
            let _ = button.set_attribute("type", "button");
            let _ = button.set_attribute("data-wns-item", &hit.netsuite_item_id);
            let (app, status, li, sku, item, name) =
                (self.clone(), status.clone(), li.clone(), sku.to_string(), hit.netsuite_item_id.clone(), words);
            let pick = Closure::<dyn FnMut()>::new(move || {
                let (app, status, li) = (app.clone(), status.clone(), li.clone());
                let (sku, item, name) = (sku.clone(), item.clone(), name.clone());
                spawn(Box::pin(async move { app.save_mapping(&status, &li, &sku, &item, &name).await }));
            });
            let _ = button.add_event_listener_with_callback("click", pick.as_ref().unchecked_ref());
            pick.forget();
            let _ = hits.append_child(&button);
        }
    }

    async fn save_mapping(self: &Rc<Self>, status: &Element, li: &Element, sku: &str, item: &str, name: &str) {
        let _ = li.set_attribute("data-wns-busy", "1");
        say(status, "Saving…");
        let body = SaveMappingRequest { netsuite_item_id: item.to_string() };
        let path = format!("/api/v1/skus/{}/mapping", encode(sku));
        let saved: Result<MappingSaved, Problem> = self.api("PUT", &path, Some(&body)).await;
        match saved {
            Ok(s) => {
                let orders = match s.orders_released {
                    0 => "no order was waiting on it".to_string(),
                    1 => "1 order continues to NetSuite".to_string(),
                    n => format!("{n} orders continue to NetSuite"),
                };
                say(status, &format!("Mapped {} to NetSuite item {name}: {orders}.", s.sku));
                if let Some(hits) = li.query_selector(".wns-sync-hits").ok().flatten() {
                    clear(&hits);
                }
                let _ = li.set_attribute("data-wns-mapped", &s.netsuite_item_id);
                self.watch_orders(li).await;
                // The SKU's exception has closed by itself: the board says so now, not in 30 s.
                let _ = self.refresh_board().await;
            }
            Err(p) => say(status, &p.words()),
        }
        let _ = li.remove_attribute("data-wns-busy");
    }

    /// The released orders' badges every 2 s, for a minute at most, until none is waiting.
    async fn watch_orders(&self, li: &Element) {
        let spans: Vec<Element> = {
            let Ok(list) = li.query_selector_all("span.wns-sync-status[data-wns-order]") else { return };
            (0..list.length()).filter_map(|i| list.item(i)?.dyn_into::<Element>().ok()).collect()
        };
        for _ in 0..30 {
            let Ok(states) = self.render_order_badges(&spans).await else { return };
            let moving = states.iter().any(|s| matches!(s.state, OrderSyncState::Waiting | OrderSyncState::Retrying));
            if !moving {
                return;
            }
            sleep(2_000).await;
        }
    }
}

/// A query or path component, percent-encoded as JavaScript's `encodeURIComponent` does.
fn encode(text: &str) -> String {
    js_sys::encode_uri_component(text).into()
}
