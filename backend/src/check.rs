//! `wns check`: one line per thing that must work, each with a plain verdict and, when it fails,
//! what to do. Exit status 0 only when everything passed.

use std::{path::Path, process::ExitCode};

use secrecy::ExposeSecret;

use crate::{
    config::{Settings, redact_url},
    netsuite::{AuthSettings, Governor, NetSuiteClient, NetSuiteSettings},
    store::Store,
    sync::inventory::{StockSettings, WriteMode},
    woo::{WooClient, WooError, WooSettings, health},
};

pub async fn run(config: Option<&Path>, env: impl IntoIterator<Item = (String, String)>) -> ExitCode {
    let mut failed = false;
    let mut verdict = |ok: bool, what: &str, detail: String| {
        failed |= !ok;
        println!("{} {what}: {detail}", if ok { "ok  " } else { "FAIL" });
    };
    let settings = match Settings::load(config, env) {
        Ok((s, p)) => {
            let from = p.file.clone().unwrap_or_else(|| "built-in defaults".into());
            let env = if p.env_keys.is_empty() { String::new() } else { format!(" + {}", p.env_keys.join(", ")) };
            verdict(true, "configuration", format!("{from}{env}"));
            s
        }
        Err(e) => {
            verdict(false, "configuration", e.to_string());
            return ExitCode::FAILURE;
        }
    };
    let url = settings.database.url.expose_secret();
    match Store::connect(url, 1).await {
        Ok(store) => match store.ping().await {
            Ok(()) => verdict(true, "database", format!("{} answers at {}", store.backend().name(), redact_url(url))),
            Err(e) => verdict(false, "database", format!("connected but a query failed: {e}")),
        },
        Err(e) => verdict(false, "database", format!("{e}; check database.url (WNS_DATABASE__URL or DATABASE_URL)")),
    }
    match &settings.netsuite {
        None => println!("skip netsuite: not configured (add a [netsuite] section to wns.toml; see docs/runbook.md)"),
        Some(ns) => {
            let (ok, detail) = check_netsuite(ns).await;
            verdict(ok, "netsuite", detail);
        }
    }
    match &settings.woocommerce {
        None => {
            println!(
                "skip woocommerce: not configured (add a [woocommerce] section to wns.toml; see docs/runbook.md); until then webhook deliveries cannot be verified and are kept unprocessed"
            )
        }
        Some(woo) => {
            for (ok, what, detail) in check_woocommerce(woo, settings.stock.as_ref()).await {
                verdict(ok, what, detail);
            }
        }
    }
    if failed { ExitCode::FAILURE } else { ExitCode::SUCCESS }
}

/// The store answers and accepts the keys (one authenticated GET), wns's webhooks are there and
/// active, and (with `[stock]`) how stock will be written.
async fn check_woocommerce(woo: &WooSettings, stock: Option<&StockSettings>) -> Vec<(bool, &'static str, String)> {
    let client = match WooClient::new(woo) {
        Ok(c) => c,
        Err(e) => return vec![(false, "woocommerce", e)],
    };
    let hooks = match client.webhooks().await {
        Ok(h) => h,
        Err(e) => {
            let hint = match &e {
                WooError::Api { status: 401, .. } => {
                    " — check woocommerce.consumer_key/consumer_secret and that the key has read_write permission"
                }
                WooError::Transport { .. } if e.to_string().contains("certificate") => {
                    " — the store's TLS certificate is not trusted here: if a private CA signed it, set woocommerce.ca_file to that CA (PEM)"
                }
                WooError::Transport { .. } => " — is woocommerce.base_url right and reachable from here?",
                _ => "",
            };
            return vec![(false, "woocommerce", format!("{e}{hint}"))];
        }
    };
    let mut out = vec![(true, "woocommerce", format!("{} answers and accepts the keys", woo.base_url))];
    let url = woo.delivery_url();
    let problems: Vec<String> = health::TOPICS
        .iter()
        .filter_map(|t| match hooks.iter().find(|h| h.topic == *t && h.delivery_url == url) {
            None => Some(format!("{t} missing")),
            Some(h) if h.status != "active" => Some(format!("{t} {} (id {})", h.status, h.id)),
            Some(_) => None,
        })
        .collect();
    if problems.is_empty() {
        out.push((true, "webhooks", format!("all {} active, delivering to {url}", health::TOPICS.len())));
    } else {
        out.push((
            false,
            "webhooks",
            format!("{}; `wns serve` creates and re-enables them at start", problems.join(", ")),
        ));
    }
    if let Some(stock) = stock {
        out.push(check_stock_writes(&client, stock).await);
    }
    out
}

/// Whether stock goes out as deltas (wns's plugin in the store) or as absolute figures, which
/// can oversell when a checkout races a write: a warning in words, not a failure.
async fn check_stock_writes(client: &WooClient, stock: &StockSettings) -> (bool, &'static str, String) {
    if stock.write == WriteMode::Absolute {
        return (true, "stock writes", ABSOLUTE_RISK.replace("{why}", "stock.write = \"absolute\""));
    }
    match client.has_stock_adjust_route().await {
        Ok(true) => (true, "stock writes", "deltas through wns's plugin route: a checkout never races a write".into()),
        Ok(false) => (
            true,
            "stock writes",
            ABSOLUTE_RISK.replace(
                "{why}",
                "the store does not offer wns's plugin route (install and activate the wns-sync plugin)",
            ),
        ),
        Err(e) => (false, "stock writes", format!("could not tell whether wns's plugin is active: {e}")),
    }
}

const ABSOLUTE_RISK: &str = "absolute figures, because {why}: a checkout that lands while wns writes can be overwritten and its units sold twice (the oversell benchmark saw up to 2 units on 1 of 500 SKUs in a minute of 40 checkouts/s); keep stock.buffer = 2, or per-SKU buffers on fast sellers, until the plugin is active";

/// One cheap authenticated SuiteQL query; NetSuite's own words when it refuses.
async fn check_netsuite(ns: &NetSuiteSettings) -> (bool, String) {
    let governor = Governor::local(&ns.governor);
    let client = match NetSuiteClient::new(ns, governor) {
        Ok(c) => c,
        Err(e) => return (false, e.to_string()),
    };
    let url = ns.base_url().map(|u| u.to_string()).unwrap_or_default();
    let method = match ns.auth {
        AuthSettings::Tba(_) => "token-based auth",
        AuthSettings::OAuth2(_) => "OAuth 2.0 client credentials",
    };
    match client.check().await {
        Ok(()) => (true, format!("account {} answers at {url} and accepts the credentials ({method})", ns.account_id)),
        Err(e) if e.is_invalid_login() => (
            false,
            format!(
                "account {} refused the credentials ({method}): {} — check the account id (as issued, e.g. 1234567_SB1), the keys, and that the role has the REST Web Services and Log in using Access Tokens permissions",
                ns.account_id,
                e.netsuite_message()
            ),
        ),
        Err(e) => (false, format!("{url}: {e}")),
    }
}
