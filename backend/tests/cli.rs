//! The `wns` binary as a person runs it: check, serve and stop, demo, and clear errors.

use std::{
    io::{BufRead, BufReader, Read, Write},
    net::TcpStream,
    path::PathBuf,
    process::{Command, Stdio},
};

const WNS: &str = env!("CARGO_BIN_EXE_wns");

fn empty_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("wns-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn wns(dir: &PathBuf) -> Command {
    let mut c = Command::new(WNS);
    c.current_dir(dir).env_remove("DATABASE_URL").env_remove("RUST_LOG");
    c
}

fn http_get(port: u16, path: &str) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(s, "GET {path} HTTP/1.0\r\nHost: localhost\r\n\r\n").unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

#[test]
fn check_with_no_configuration_uses_the_embedded_default_and_says_so() {
    let dir = empty_dir("check");
    let out = wns(&dir).arg("check").output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(stdout.contains("ok   configuration: built-in defaults"), "{stdout}");
    assert!(stdout.contains("ok   database: sqlite answers at sqlite://wns.db"), "{stdout}");
    assert!(dir.join("wns.db").exists(), "the SQLite file is created when missing");
}

#[test]
fn verify_token_accepts_the_plugins_token_and_says_why_it_refuses_others() {
    let dir = empty_dir("verify-token");
    let secret = "a-shared-secret-of-32-characters-or-more";
    std::fs::write(
        dir.join("wns.toml"),
        format!("[api]\njwt_secret = \"{secret}\"\nsites = [\"https://shop.example\"]\n"),
    )
    .unwrap();
    let sign = |secret: &str, iat: u64, life: u64| {
        let claims = serde_json::json!({
            "iss": "https://shop.example", "sub": "7", "name": "Sam", "aud": "wns",
            "caps": ["view", "map_skus"], "iat": iat, "exp": iat + life,
        });
        jsonwebtoken::encode(
            &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
            &claims,
            &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
        )
        .unwrap()
    };
    let verify = |token: &str, at: u64| {
        let mut child = wns(&dir)
            .args(["verify-token", "--at", &at.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(token.as_bytes()).unwrap();
        let out = child.wait_with_output().unwrap();
        (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned())
    };
    let now = 1_800_000_000;
    let (ok, out) = verify(&sign(secret, now, 900), now + 10);
    assert!(ok, "{out}");
    assert_eq!(out.trim(), "accepted: user:https://shop.example#7 (Sam) may view,map_skus");
    let (ok, out) = verify(&sign("another-secret-of-32-characters-or-more", now, 900), now + 10);
    assert!(!ok && out.contains("signature does not verify"), "{out}");
    let (ok, out) = verify(&sign(secret, now, 900), now + 900 + 31);
    assert!(!ok && out.contains("expired"), "{out}");
    let (ok, out) = verify(&sign(secret, now, 3600), now + 10);
    assert!(!ok && out.contains("longer than 900 s"), "{out}");
}

#[test]
fn a_bad_configuration_fails_with_the_key_and_how_to_fix_it() {
    let dir = empty_dir("badconfig");
    std::fs::write(dir.join("wns.toml"), "[queue]\nworkers = 0\n").unwrap();
    let out = wns(&dir).arg("serve").output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("`queue.workers`") && stderr.contains("at least 1"), "{stderr}");
    let out = wns(&dir).args(["serve", "--config", "nope.toml"]).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("nope.toml does not exist"));
}

#[test]
fn serve_answers_health_and_metrics_and_stops_cleanly_on_sigterm() {
    let dir = empty_dir("serve");
    let mut child = wns(&dir)
        .args(["serve", "--log-format", "json"])
        .env("WNS_SERVER__BIND", "127.0.0.1:0")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut port = None;
    for line in lines.by_ref() {
        let line = line.unwrap();
        let v: serde_json::Value = serde_json::from_str(&line).unwrap_or_else(|_| panic!("not JSON: {line}"));
        if let Some(addr) = v["message"].as_str().and_then(|m| m.strip_prefix("listening on http://")) {
            port = Some(addr.rsplit(':').next().unwrap().parse::<u16>().unwrap());
            break;
        }
    }
    let port = port.expect("a `listening on` line");
    assert!(http_get(port, "/healthz").starts_with("HTTP/1.0 200"));
    assert!(http_get(port, "/metrics").contains("# TYPE wns_job_attempts counter"));
    Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    let status = child.wait().unwrap();
    assert!(status.success(), "exit status {status}");
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    assert!(rest.iter().any(|l| l.contains("worker stopped")), "{rest:?}");
}

/// The demo is the real order flow against both simulators: orders reach NetSuite, the unmapped
/// SKU's orders block with an exception and post after the mapping; checkouts go on until the
/// planned end, no exception is raised that the demo did not cause, and nothing warns at the end.
#[test]
fn demo_with_a_duration_posts_orders_to_netsuite_prints_a_summary_and_exits_zero() {
    let dir = empty_dir("demo");
    // 30 s: long enough for the mapping (at 15 s), the stock write that follows it and the next
    // checkouts with the mapped SKU, which is where checkouts used to stall for good.
    let out = wns(&dir).args(["demo", "--duration", "30"]).env("WNS_DEMO_BIND", "127.0.0.1:0").output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("open http://127.0.0.1:"), "{stdout}");
    assert!(stdout.contains("wns created its 5 webhooks in the store"), "{stdout}");
    assert!(stdout.contains("SKU mapping saved: DEMO-UNMAPPED"), "{stdout}");
    let summary = stdout.lines().find(|l| l.starts_with("wns demo summary:")).expect("a summary line");
    let count = |what: &str| -> u64 {
        let part = summary
            .split("; ")
            .find(|p| p.ends_with(what) || p.starts_with(what))
            .unwrap_or_else(|| panic!("{what}: {summary}"));
        let number = if part.starts_with(what) {
            part.rsplit(' ').next()
        } else {
            part.rsplit(": ").next().unwrap().split(' ').next()
        };
        number.unwrap().parse().unwrap()
    };
    assert!(count("sales orders in NetSuite") > 0, "orders reached NetSuite: {summary}");
    assert!(count("customers in NetSuite") > 0, "{summary}");
    assert!(count("orders checked out") >= count("sales orders in NetSuite"), "{summary}");
    assert!(stdout.contains("the orders that waited for DEMO-UNMAPPED are sales orders now: #"), "{stdout}");
    assert_eq!(count("blocked"), 0, "{summary}");
    assert_eq!(count("unexplained exceptions:"), 0, "{summary}");
    let stock = stdout.lines().find(|l| l.starts_with("wns demo: stock: ")).expect("a stock line");
    let written: u64 = stock["wns demo: stock: ".len()..].split_whitespace().next().unwrap().parse().unwrap();
    assert!(written > 200, "the stock flow wrote the catalogue to WooCommerce: {stock}");
    assert!(
        summary.contains("unmapped_sku 1 (0 open)"),
        "the unmapped SKU raised its exception, then the mapping resolved it: {summary}"
    );
    // Checkouts go on until they are planned to stop (30 s − 5 s), not only until the product of
    // the unmapped SKU is first refused.
    let ran = stdout.lines().find(|l| l.starts_with("wns demo: checkouts ran until ")).expect("a checkouts line");
    let secs = |after: &str| -> f64 { ran.split(after).nth(1).unwrap().split('s').next().unwrap().parse().unwrap() };
    assert!(secs("ran until ") >= secs("planned to stop at ") - 2.0, "{ran}");
    // No warning at all: the unmapped SKU the demo causes on purpose is the shop's exception (on
    // the board, logged at info), creating the webhooks in a new store is routine, and nothing
    // warns about the database closing under a loop.
    let both = format!("{stdout}{stderr}");
    assert!(!both.contains("closed pool"), "{both}");
    assert!(both.contains("SKU DEMO-UNMAPPED has no NetSuite item"), "the exception is still logged: {both}");
    let warnings: Vec<&str> = both.lines().filter(|l| l.contains("WARN") || l.contains("ERROR")).collect();
    assert!(warnings.is_empty(), "{warnings:#?}");
}

/// With 8080 taken the demo says which port it took instead; an address asked for with
/// WNS_DEMO_BIND is that address or an error; a configuration file that is missing fails as for
/// `wns serve`.
#[test]
fn demo_says_which_port_it_takes_and_fails_on_a_taken_wns_demo_bind_or_a_missing_file() {
    let dir = empty_dir("demo-port");
    // Held by this test, or by someone else already: taken either way.
    let _held = std::net::TcpListener::bind("127.0.0.1:8080");
    let out = wns(&dir).args(["demo", "--duration", "2"]).env_remove("WNS_DEMO_BIND").output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    let said =
        stdout.lines().find(|l| l.starts_with("wns demo: 127.0.0.1:8080 is taken (")).expect("one line about 8080");
    assert!(said.contains("; using 127.0.0.1:") && said.contains("set WNS_DEMO_BIND to choose"), "{said}");

    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = busy.local_addr().unwrap().to_string();
    let out = wns(&dir).args(["demo", "--duration", "2"]).env("WNS_DEMO_BIND", &addr).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains(&format!("WNS_DEMO_BIND={addr}: cannot listen there; choose a free address")), "{stderr}");

    let out = wns(&dir).args(["demo", "--config", "/nope.toml"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("/nope.toml does not exist"), "{stderr}");
    assert!(out.stdout.is_empty(), "nothing started: {}", String::from_utf8_lossy(&out.stdout));
}

/// `wns migrate` against `url`: (stderr, seconds it took).
fn migrate_against(url: &str) -> (String, f64) {
    let dir = empty_dir("pg-unreachable");
    let started = std::time::Instant::now();
    let out = wns(&dir).arg("migrate").env("DATABASE_URL", url).output().unwrap();
    assert!(!out.status.success());
    (String::from_utf8_lossy(&out.stderr).into_owned(), started.elapsed().as_secs_f64())
}

/// An unreachable PostgreSQL is named with its cause and its URL (password masked) within
/// seconds, once — not after the pool's 30 s as "pool timed out".
#[test]
fn an_unreachable_database_is_named_with_its_cause_within_seconds() {
    let (stderr, took) = migrate_against("postgres://wns:secret@127.0.0.1:1/wns");
    assert!(took < 10.0, "{took} s: {stderr}");
    assert!(
        stderr.contains("cannot open the database at postgres://wns:***@127.0.0.1:1/wns: connection refused"),
        "{stderr}"
    );
    assert!(stderr.contains("is PostgreSQL running"), "{stderr}");
    assert_eq!(stderr.matches("connection refused").count(), 1, "said once: {stderr}");
    assert!(!stderr.contains("secret") && !stderr.contains("pool timed out"), "{stderr}");

    let (stderr, took) = migrate_against("postgres://x@nonexistent.invalid/db");
    assert!(took < 10.0, "{took} s: {stderr}");
    assert!(
        stderr.contains("cannot open the database at postgres://x@nonexistent.invalid/db: unknown host"),
        "{stderr}"
    );

    // A role the server does not know (the local server trusts the roles it has).
    let Ok(pg) = std::env::var("WNS_TEST_PG") else {
        eprintln!("WNS_TEST_PG is not set: the authentication case is not tried");
        return;
    };
    let mut url = url::Url::parse(&pg).unwrap();
    url.set_username("nosuchuser").unwrap();
    url.set_password(None).unwrap();
    let (stderr, took) = migrate_against(url.as_str());
    assert!(took < 10.0, "{took} s: {stderr}");
    assert!(stderr.contains("authentication failed: role \"nosuchuser\" does not exist"), "{stderr}");
}

/// Managed PostgreSQL services require TLS: `?sslmode=require` connects (the test server, Debian's,
/// has TLS on with its snakeoil certificate; a throwaway cluster has it off, and then the server's
/// refusal is reported). Without sqlx's TLS feature this failed with "SQLx was built without TLS
/// support" whatever the server.
#[test]
fn postgresql_over_tls_connects() {
    let pg = std::env::var("WNS_TEST_PG").expect("WNS_TEST_PG: `cargo xtask test` sets it");
    let sep = if pg.contains('?') { '&' } else { '?' };
    let dir = empty_dir("pg-tls");
    let out = wns(&dir).arg("check").env("DATABASE_URL", format!("{pg}{sep}sslmode=require")).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(!text.contains("without TLS support"), "{text}");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let ssl: String = rt.block_on(async {
        use sqlx::Connection;
        let mut c = sqlx::PgConnection::connect(&pg).await.unwrap();
        sqlx::query_scalar("show ssl").fetch_one(&mut c).await.unwrap()
    });
    if ssl == "on" {
        assert!(text.contains("ok   database: postgres answers"), "{text}");
    } else {
        // A throwaway cluster without a certificate: the server's refusal is what is reported.
        assert!(!text.contains("ok   database"), "{text}");
    }
}

/// `wns check` against the two simulators: NetSuite answers and accepts the credentials (or says in
/// NetSuite's words why not), the store accepts the keys, and the missing webhooks are named.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_asks_netsuite_and_the_store_and_names_what_is_wrong() {
    let ns = wns_sim::netsuite::NetSuiteSim::spawn(wns_sim::netsuite::NetSuiteConfig::for_tests()).await.unwrap();
    let woo = wns_sim::woo::WooSim::spawn(wns_sim::woo::WooConfig::for_tests()).await.unwrap();
    let dir = empty_dir("check-remote");
    // `wns check` against NetSuite with `token_secret` and the store at `store`, plus `extra`.
    let run = |token_secret: &str, store: &str, extra: &[(&str, &str)]| {
        let mut c = wns(&dir);
        c.arg("check")
            .env("WNS_NETSUITE__ACCOUNT_ID", "1234567_SB1")
            .env("WNS_NETSUITE__BASE_URL", &ns.base_url)
            .env("WNS_NETSUITE__AUTH__METHOD", "tba")
            .env("WNS_NETSUITE__AUTH__CONSUMER_KEY", wns_sim::netsuite::TEST_CONSUMER_KEY)
            .env("WNS_NETSUITE__AUTH__CONSUMER_SECRET", wns_sim::netsuite::TEST_CONSUMER_SECRET)
            .env("WNS_NETSUITE__AUTH__TOKEN_ID", wns_sim::netsuite::TEST_TOKEN_ID)
            .env("WNS_NETSUITE__AUTH__TOKEN_SECRET", token_secret)
            .env("WNS_WOOCOMMERCE__BASE_URL", store)
            .env("WNS_WOOCOMMERCE__CONSUMER_KEY", wns_sim::woo::TEST_CONSUMER_KEY)
            .env("WNS_WOOCOMMERCE__CONSUMER_SECRET", wns_sim::woo::TEST_CONSUMER_SECRET)
            .env("WNS_WOOCOMMERCE__WEBHOOK_SECRET", "check-test-webhook-secret")
            .env("WNS_WOOCOMMERCE__PUBLIC_URL", "http://127.0.0.1:8080")
            .envs(extra.iter().copied());
        // The simulators run on this test's runtime: wait for the process without blocking it.
        tokio::process::Command::from(c).output()
    };
    let out = run(wns_sim::netsuite::TEST_TOKEN_SECRET, &woo.base_url, &[]).await.unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(stdout.contains("ok   netsuite: account 1234567_SB1 answers"), "{stdout}");
    assert!(stdout.contains("ok   woocommerce:"), "{stdout}");
    assert!(stdout.contains("FAIL webhooks: order.created missing"), "{stdout}");
    assert!(!out.status.success(), "missing webhooks fail the check");

    // With [stock], check says how stock will be written: this store has no wns plugin.
    let bare = wns_sim::woo::WooSim::spawn(wns_sim::woo::WooConfig {
        wns_plugin: false,
        ..wns_sim::woo::WooConfig::for_tests()
    })
    .await
    .unwrap();
    let stock = [("WNS_STOCK__LOCATIONS", "[\"1\"]")];
    let out = run(wns_sim::netsuite::TEST_TOKEN_SECRET, &bare.base_url, &stock).await.unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        stdout.contains("ok   stock writes: absolute figures, because the store does not offer wns's plugin route"),
        "{stdout}"
    );
    assert!(stdout.contains("stock.buffer"), "says what covers the race: {stdout}");

    let out = run("a-wrong-token-secret", &woo.base_url, &[]).await.unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(stdout.contains("FAIL netsuite: account 1234567_SB1 refused the credentials"), "{stdout}");
    assert!(stdout.contains("Invalid login attempt"), "NetSuite's own words: {stdout}");
    assert!(!stdout.contains("a-wrong-token-secret"), "no secret in the output: {stdout}");
}

/// `wns serve` with human-readable logs, its stdout read line by line: the process, the lines
/// read up to `listening on` and the rest.
fn serve_human(
    dir: &PathBuf,
    bind: &str,
) -> (std::process::Child, Vec<String>, std::io::Lines<BufReader<std::process::ChildStdout>>) {
    let mut child = wns(dir)
        .args(["serve", "--log-format", "human"])
        .env("WNS_SERVER__BIND", bind)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut head: Vec<String> = Vec::new();
    for line in lines.by_ref() {
        head.push(line.unwrap());
        if head.last().is_some_and(|l| l.contains("listening on http://")) {
            break;
        }
    }
    if !head.last().is_some_and(|l| l.contains("listening on http://")) {
        let _ = child.kill();
        let _ = child.wait();
        panic!("wns serve stopped before `listening on`: {head:?}");
    }
    (child, head, lines)
}

fn stop(child: &mut std::process::Child) {
    Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    let status = child.wait().unwrap();
    assert!(status.success(), "exit status {status}");
}

/// A port nobody listens on (bound and released at once).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Log lines written to a pipe or a file are plain text: colour codes are for a terminal.
#[test]
fn logs_written_to_a_pipe_carry_no_colour_codes() {
    let dir = empty_dir("plainlog");
    let (mut child, head, rest) = serve_human(&dir, "127.0.0.1:0");
    let port = head.last().and_then(|l| l.rsplit(':').next()).and_then(|p| p.trim().parse().ok()).expect("a port");
    // Serving (and so listening for SIGTERM) before it is stopped.
    assert!(http_get(port, "/livez").starts_with("HTTP/1.0 200"));
    stop(&mut child);
    let all: Vec<String> = head.into_iter().chain(rest.map_while(Result::ok)).collect();
    assert!(all.iter().any(|l| l.contains("INFO") && l.contains("listening on")), "human-readable lines: {all:?}");
    let coloured: Vec<&String> = all.iter().filter(|l| l.contains('\x1b')).collect();
    assert!(coloured.is_empty(), "escape codes in a log written to a pipe: {coloured:?}");
}

/// `wns healthcheck` (the container's HEALTHCHECK) asks the address `server.bind` names: it
/// passes against the running server and fails, naming the address, on a port nobody serves.
#[test]
fn healthcheck_follows_the_configured_bind_address() {
    let dir = empty_dir("healthcheck");
    let port = free_port();
    let (mut child, _, _rest) = serve_human(&dir, &format!("127.0.0.1:{port}"));
    let check = |bind: String| wns(&dir).arg("healthcheck").env("WNS_SERVER__BIND", bind).output().unwrap();
    let same = check(format!("127.0.0.1:{port}"));
    let any = check(format!("0.0.0.0:{port}"));
    let other_port = free_port();
    let other = check(format!("0.0.0.0:{other_port}"));
    stop(&mut child);
    let text = |o: &std::process::Output| {
        format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
    };
    assert!(same.status.success(), "{}", text(&same));
    assert!(text(&same).contains(&format!("http://127.0.0.1:{port}/livez")), "{}", text(&same));
    assert!(any.status.success(), "0.0.0.0 is asked on 127.0.0.1: {}", text(&any));
    assert!(!other.status.success(), "nobody serves port {other_port}: {}", text(&other));
    let said = text(&other);
    assert!(said.contains(&format!("127.0.0.1:{other_port}")) && said.contains("refused"), "{said}");
}
