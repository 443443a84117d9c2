//! `wns check`: one line per thing that must work, each with a plain verdict and, when it fails,
//! what to do. Exit status 0 only when everything passed.

use std::{path::Path, process::ExitCode};

use secrecy::ExposeSecret;

use crate::{
    config::{Settings, redact_url},
    store::Store,
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
    if failed { ExitCode::FAILURE } else { ExitCode::SUCCESS }
}
