//! The daily report, posted once a day to a chat webhook (`[report]`): Slack's incoming-webhook
//! JSON (`text` for notifications and clients without blocks, `blocks` for the message), which
//! Mattermost, Rocket.Chat, Discord's `/slack` endpoint and Microsoft Teams' workflow connectors
//! also take.
//!
//! After `hour_utc` each day, yesterday's report (UTC) is posted by exactly one replica: the day is
//! claimed in `watermarks` (`report.daily.posted`, as `yyyymmdd`) with a conditional update before
//! the POST, and given back when the POST fails, so the next tick tries again. A webhook that keeps
//! failing is a `report_undelivered` exception (operations) that closes when a post gets through.
//! Readiness does not depend on the chat service: the loop counts as healthy when it ran.

use std::time::Duration;

use chrono::{NaiveDate, Timelike};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{
    exceptions::{Exception, ExceptionKind, Resolution, resolve},
    report::{Line, daily},
};
use crate::store::{Store, watermarks};

const CLAIM: &str = "report.daily.posted";
const ENTITY: &str = "report";
/// Lines per owner in the chat message; the rest are counted and left to the full report.
const PER_OWNER: usize = 5;

/// `[report]`: where and when the daily report is posted.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ReportSettings {
    /// A Slack-compatible incoming webhook URL (it carries its own secret: keep it in the environment,
    /// `WNS_REPORT__WEBHOOK_URL`).
    #[serde(serialize_with = "crate::secrets::serialize_secret")]
    pub webhook_url: SecretString,
    /// Post yesterday's report at the first check after this hour, UTC (0–23).
    #[serde(default = "default_hour")]
    pub hour_utc: u32,
    /// Where people open the full report (the wns status page's address), linked from the message.
    #[serde(default)]
    pub link: Option<String>,
}

fn default_hour() -> u32 {
    7
}

impl ReportSettings {
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        let url = self.webhook_url.expose_secret();
        if url::Url::parse(url).map(|u| !matches!(u.scheme(), "https" | "http")).unwrap_or(true) {
            return Err((
                "report.webhook_url",
                "must be an http(s) URL, e.g. https://hooks.slack.com/services/…".into(),
            ));
        }
        if self.hour_utc > 23 {
            return Err(("report.hour_utc", format!("must be 0 to 23 (it is {})", self.hour_utc)));
        }
        Ok(())
    }
}

/// The chat message for `day`.
pub fn message(day: NaiveDate, lines: &[Line], link: Option<&str>) -> Value {
    let open: Vec<&Line> = lines.iter().filter(|l| l.resolved_at.is_none()).collect();
    let closed = lines.len() - open.len();
    let mut per_owner: Vec<(&str, Vec<&Line>)> = Vec::new();
    for l in &open {
        match per_owner.iter_mut().find(|(o, _)| *o == l.owner) {
            Some((_, v)) => v.push(l),
            None => per_owner.push((&l.owner, vec![l])),
        }
    }
    let counts: Vec<String> =
        per_owner.iter().map(|(o, v)| format!("{} {}", super::report::owner_title(o), v.len())).collect();
    let text = if open.is_empty() {
        format!("wns exceptions for {day}: nothing open, {closed} closed during the day.")
    } else {
        format!(
            "wns exceptions for {day}: {} open ({}), {closed} closed during the day.",
            open.len(),
            counts.join(", ")
        )
    };
    let mut blocks = vec![
        json!({ "type": "header", "text": { "type": "plain_text", "text": format!("wns exceptions, {day}") } }),
        json!({ "type": "section", "text": { "type": "mrkdwn", "text": escape(&text) } }),
    ];
    for (owner, items) in &per_owner {
        let mut body = format!("*{}*", escape(super::report::owner_title(owner)));
        for l in items.iter().take(PER_OWNER) {
            let held = if l.orders_blocked > 0 {
                format!(" — {} orders held back", l.orders_blocked)
            } else {
                String::new()
            };
            body.push_str(&format!("\n• {}{held}\n    _{}_", escape(&l.message), escape(&l.fix)));
        }
        if items.len() > PER_OWNER {
            body.push_str(&format!("\n…and {} more in the full report", items.len() - PER_OWNER));
        }
        // Slack refuses a section text over 3000 characters.
        let body: String = body.chars().take(2900).collect();
        blocks.push(json!({ "type": "section", "text": { "type": "mrkdwn", "text": body } }));
    }
    if let Some(link) = link {
        let url = format!("{}/api/v1/reports/daily?date={day}", link.trim_end_matches('/'));
        blocks.push(json!({ "type": "context", "elements": [
            { "type": "mrkdwn", "text": format!("<{url}|The full report> (HTML; add &format=csv for a spreadsheet)") }
        ] }));
    }
    json!({ "text": text, "blocks": blocks })
}

/// Slack's mrkdwn: `&`, `<` and `>` are its control characters.
fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// Posts the daily report when it is due.
#[derive(Clone)]
pub struct ReportPoster {
    store: Store,
    settings: ReportSettings,
    http: reqwest::Client,
}

/// What one tick did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tick {
    /// Before `hour_utc`, or the day's report is posted already (by this or another replica).
    NotDue,
    Posted(NaiveDate),
}

impl ReportPoster {
    pub fn new(store: Store, settings: ReportSettings) -> ReportPoster {
        let http =
            reqwest::Client::builder().timeout(Duration::from_secs(20)).build().expect("a TLS backend is built in");
        ReportPoster { store, settings, http }
    }

    /// Posts yesterday's report if `now` (ms since the epoch) is past the hour and no replica has.
    pub async fn tick(&self, now: i64) -> anyhow::Result<Tick> {
        let Some(at) = chrono::DateTime::<chrono::Utc>::from_timestamp_millis(now) else { return Ok(Tick::NotDue) };
        if at.hour() < self.settings.hour_utc {
            return Ok(Tick::NotDue);
        }
        let day = super::report::yesterday(now);
        let key = day_key(day);
        let Some(before) = self.claim(key, now).await? else { return Ok(Tick::NotDue) };
        match self.post(day).await {
            Ok(()) => {
                resolve(&self.store, ExceptionKind::ReportUndelivered, ENTITY, Resolution::ReportDelivered, now)
                    .await?;
                tracing::info!(%day, "daily report posted");
                Ok(Tick::Posted(day))
            }
            Err(e) => {
                // Give the day back so the next tick (here or on another replica) tries again.
                sqlx::query("update watermarks set value = $1, updated_at = $2 where name = $3 and value = $4")
                    .bind(before)
                    .bind(now)
                    .bind(CLAIM)
                    .bind(key)
                    .execute(self.store.pool())
                    .await?;
                Exception::new(
                    ExceptionKind::ReportUndelivered,
                    ENTITY,
                    format!("The daily report for {day} could not be posted to report.webhook_url: {e:#}"),
                    "Check report.webhook_url (is the webhook still installed in the chat workspace?) and that wns can \
                     reach it; wns tries again every few minutes. The report is also at /api/v1/reports/daily.",
                )
                .raise(&self.store, now)
                .await?;
                Err(e)
            }
        }
    }

    /// Claims `key` for this process; `Some(previous value)` when it did.
    async fn claim(&self, key: i64, now: i64) -> Result<Option<i64>, sqlx::Error> {
        sqlx::query(
            "insert into watermarks (name, value, updated_at) values ($1, 0, $2) on conflict (name) do nothing",
        )
        .bind(CLAIM)
        .bind(now)
        .execute(self.store.pool())
        .await?;
        let before = watermarks::get(&self.store, CLAIM).await?.unwrap_or(0);
        if before >= key {
            return Ok(None);
        }
        let won = sqlx::query("update watermarks set value = $1, updated_at = $2 where name = $3 and value = $4")
            .bind(key)
            .bind(now)
            .bind(CLAIM)
            .bind(before)
            .execute(self.store.pool())
            .await?;
        Ok((won.rows_affected() == 1).then_some(before))
    }

    async fn post(&self, day: NaiveDate) -> anyhow::Result<()> {
        let lines = daily(&self.store, day).await?;
        let body = message(day, &lines, self.settings.link.as_deref());
        let res = self.http.post(self.settings.webhook_url.expose_secret()).json(&body).send().await.map_err(|e| {
            // reqwest's error text carries the URL, and the URL carries the webhook's secret.
            anyhow::anyhow!(
                "{}",
                if e.is_timeout() { "no answer within 20 s" } else { "the request failed (connection)" }
            )
        })?;
        let status = res.status();
        if !status.is_success() {
            let text: String = res.text().await.unwrap_or_default().chars().take(200).collect();
            anyhow::bail!("the webhook answered {status}: {text}");
        }
        Ok(())
    }

    /// Checks every `every` until shutdown.
    pub async fn run(
        self,
        clock: crate::clock::SharedClock,
        every: Duration,
        shutdown: tokio_util::sync::CancellationToken,
        heartbeat: crate::supervise::Heartbeat,
    ) {
        loop {
            match self.tick(clock.now()).await {
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(error = %format!("{e:#}"), "posting the daily report failed; trying again later")
                }
            }
            // The loop ran; whether the chat service answered is the exception's business.
            heartbeat.ok();
            tokio::select! { _ = shutdown.cancelled() => return, _ = tokio::time::sleep(every) => {} }
        }
    }
}

fn day_key(day: NaiveDate) -> i64 {
    day.format("%Y%m%d").to_string().parse().expect("a date's digits are a number")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(owner: &str, message: &str) -> Line {
        super::super::report::tests::line(owner, message, 0)
    }

    #[test]
    fn the_message_escapes_slacks_control_characters_and_keeps_five_per_owner() {
        let day = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        let mut lines: Vec<Line> = (0..7).map(|i| line("ecommerce", &format!("SKU <b>{i}</b> & co"))).collect();
        lines.push(Line { resolved_at: Some(1), ..line("finance", "closed") });
        let m = message(day, &lines, None);
        assert_eq!(m["text"], "wns exceptions for 2026-12-01: 7 open (E-commerce 7), 1 closed during the day.");
        let section = m["blocks"][2]["text"]["text"].as_str().unwrap();
        assert!(section.contains("SKU &lt;b&gt;0&lt;/b&gt; &amp; co") && !section.contains("<b>"), "{section}");
        assert_eq!(section.matches('•').count(), 5, "{section}");
        assert!(section.ends_with("…and 2 more in the full report"), "{section}");
        assert_eq!(m["blocks"].as_array().unwrap().len(), 3, "no link block without a link");
        let quiet = message(day, &[], None);
        assert_eq!(quiet["text"], "wns exceptions for 2026-12-01: nothing open, 0 closed during the day.");
    }

    #[test]
    fn settings_refuse_a_url_that_is_not_http_and_an_hour_past_23() {
        let s = |url: &str, hour| ReportSettings { webhook_url: url.into(), hour_utc: hour, link: None };
        assert!(s("https://hooks.slack.com/services/T/B/X", 7).validate().is_ok());
        assert_eq!(s("hooks.slack.com/x", 7).validate().unwrap_err().0, "report.webhook_url");
        assert_eq!(s("https://hooks.slack.com/x", 24).validate().unwrap_err().0, "report.hour_utc");
    }
}
