//! The daily exception report: what was open at the end of a day (UTC) and what closed during it,
//! grouped by owner and ordered by impact (orders held back, then how often it happened), as HTML
//! that finance and operations read without an engineer, or as CSV for a spreadsheet.

use chrono::{NaiveDate, TimeZone, Utc};

use crate::store::Store;

/// One exception as the report lists it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Line {
    pub owner: String,
    pub kind: String,
    pub entity_key: String,
    pub message: String,
    pub fix: String,
    pub first_seen: i64,
    pub last_seen: i64,
    pub seen: i64,
    pub resolved_at: Option<i64>,
    pub resolution: Option<String>,
    /// Orders held back by it now (blocked `woo.order` jobs on its entity).
    pub orders_blocked: i64,
}

/// The day before `now_ms`'s (UTC): the day a report is made for by default.
pub fn yesterday(now_ms: i64) -> NaiveDate {
    chrono::DateTime::<Utc>::from_timestamp_millis(now_ms - 86_400_000).unwrap_or_default().date_naive()
}

/// The report of `day`: open at its end, or closed during it.
pub async fn daily(store: &Store, day: NaiveDate) -> Result<Vec<Line>, sqlx::Error> {
    let start = Utc.from_utc_datetime(&day.and_hms_opt(0, 0, 0).expect("midnight exists")).timestamp_millis();
    let end = start + 86_400_000;
    let mut lines: Vec<Line> = sqlx::query_as(
        "select e.owner, e.kind, e.entity_key, e.message, e.fix, e.first_seen, e.last_seen, e.seen, e.resolved_at, \
                e.resolution, (select count(*) from jobs j where j.kind = 'woo.order' and j.state = 'blocked' \
                  and (j.blocked_cause = e.entity_key or j.blocked_cause like e.entity_key || ':%' \
                       or j.blocked_cause = 'tax:' || e.entity_key)) as orders_blocked \
         from exceptions e where e.first_seen < $2 and (e.resolved_at is null or e.resolved_at >= $1)",
    )
    .bind(start)
    .bind(end)
    .fetch_all(store.pool())
    .await?;
    lines.sort_by(|a, b| {
        (owner_rank(&a.owner), b.orders_blocked, b.seen, &a.kind).cmp(&(
            owner_rank(&b.owner),
            a.orders_blocked,
            a.seen,
            &b.kind,
        ))
    });
    Ok(lines)
}

fn owner_rank(owner: &str) -> usize {
    ["finance", "operations", "ecommerce", "customer_service"].iter().position(|o| *o == owner).unwrap_or(9)
}

pub(crate) fn owner_title(owner: &str) -> &str {
    match owner {
        "finance" => "Finance",
        "operations" => "Operations",
        "ecommerce" => "E-commerce",
        "customer_service" => "Customer service",
        other => other,
    }
}

fn when(ms: i64) -> String {
    chrono::DateTime::<Utc>::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_default()
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

fn state(l: &Line) -> String {
    match (&l.resolved_at, &l.resolution) {
        (None, _) => "open".into(),
        (Some(t), r) => format!("closed {} ({})", when(*t), r.as_deref().unwrap_or("resolved")),
    }
}

/// The report as an HTML page.
pub fn html(day: NaiveDate, lines: &[Line]) -> String {
    let open = lines.iter().filter(|l| l.resolved_at.is_none()).count();
    let mut out = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>wns exceptions {day}</title>\
         <style>body{{font:15px/1.4 system-ui,sans-serif;margin:2rem;color:#1d2327}}table{{border-collapse:collapse;margin-bottom:2rem}}\
         td,th{{padding:.3rem .6rem;border-bottom:1px solid #ddd;text-align:left;vertical-align:top}}.n{{text-align:right}}</style></head><body>\
         <h1>wns exceptions, {day}</h1><p>{open} open at the end of the day, {} closed during it. Ordered by owner, then by the orders each holds back.</p>",
        lines.len() - open
    );
    if lines.is_empty() {
        out.push_str("<p>Nothing to report: no exception was open.</p>");
    }
    let mut owner = "";
    for l in lines {
        if l.owner != owner {
            if !owner.is_empty() {
                out.push_str("</tbody></table>");
            }
            owner = &l.owner;
            out.push_str(&format!(
                "<h2>{}</h2><table><thead><tr><th>what happened</th><th>what to do</th><th class=\"n\">orders held</th>\
                 <th class=\"n\">times</th><th>first seen</th><th>state</th></tr></thead><tbody>",
                escape(owner_title(owner))
            ));
        }
        out.push_str(&format!(
            "<tr><td>{}<br><small>{} · {}</small></td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td>{}</td><td>{}</td></tr>",
            escape(&l.message),
            escape(&l.kind),
            escape(&l.entity_key),
            escape(&l.fix),
            l.orders_blocked,
            l.seen,
            when(l.first_seen),
            escape(&state(l))
        ));
    }
    if !owner.is_empty() {
        out.push_str("</tbody></table>");
    }
    out.push_str("</body></html>\n");
    out
}

/// The report as CSV (RFC 4180: every field quoted, quotes doubled).
pub fn csv(lines: &[Line]) -> String {
    let field = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
    let mut out = String::from("owner,kind,entity,message,fix,orders_blocked,times,first_seen,last_seen,state\r\n");
    for l in lines {
        let row = [
            field(&l.owner),
            field(&l.kind),
            field(&l.entity_key),
            field(&l.message),
            field(&l.fix),
            l.orders_blocked.to_string(),
            l.seen.to_string(),
            field(&when(l.first_seen)),
            field(&when(l.last_seen)),
            field(&state(l)),
        ];
        out.push_str(&row.join(","));
        out.push_str("\r\n");
    }
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// An open `unmapped_sku` line, for this module's tests and the poster's.
    pub(crate) fn line(owner: &str, message: &str, orders: i64) -> Line {
        Line {
            owner: owner.into(),
            kind: "unmapped_sku".into(),
            entity_key: "sku:A".into(),
            message: message.into(),
            fix: "Map it.".into(),
            first_seen: 0,
            last_seen: 0,
            seen: 1,
            resolved_at: None,
            resolution: None,
            orders_blocked: orders,
        }
    }

    #[test]
    fn csv_quotes_every_text_field_and_html_escapes_what_it_shows() {
        let l = line("ecommerce", "SKU \"A\" <b>", 2);
        let csv = csv(std::slice::from_ref(&l));
        assert!(csv.contains("\"SKU \"\"A\"\" <b>\""), "{csv}");
        let html = html(NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(), &[l]);
        assert!(html.contains("SKU &quot;A&quot; &lt;b&gt;") && html.contains("<h2>E-commerce</h2>"), "{html}");
    }
}
