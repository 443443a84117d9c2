//! `cargo xtask demo | test | bench <name> | container | wp | widget | plugin`: the one entry point for people and CI.
//!
//! Each command first brings in what the machine lacks (Debian packages with apt-get when
//! running as root, otherwise it stops and prints the exact command), saying so in one line
//! per step, then runs cargo. Plain std: this must build before anything else works.

mod container;
mod pg;
mod schemathesis;
mod setup;
mod widget;
mod wp;

use std::process::{Command, ExitCode};

use anyhow::{Context, Result, bail};

const BENCHES: &[(&str, &str)] = &[
    ("queue", "enqueue + claim + complete throughput, 1 and 4 workers, SQLite and PostgreSQL"),
    ("netsuite", "requests/s through the governor as a share of the account limit C/L, C in {5,15}, L in {50,200} ms"),
    ("ingest", "webhook deliveries/s and p50/p99 latency of the receiver, SQLite and PostgreSQL"),
    ("flash-sale", "10,000 orders in 60 s through the order flow: time until all are in NetSuite vs the ideal"),
    ("oversell", "flash sale on 500 SKUs: units oversold with absolute writes (reservation off/on) and with deltas"),
    ("stock-scale", "100,000 SKUs x 3 locations, 1 % changing a minute: staleness, requests per cycle, CPU and RSS"),
    ("api", "batched order and product status and item search with 100,000 of each in the store: p50/p99"),
];
const LATER_BENCHES: &[(&str, &str)] = &[];

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("demo") => demo(&args[1..]),
        Some("test") => test(&args[1..]),
        Some("bench") => bench(args.get(1).map(String::as_str), &args[2.min(args.len())..]),
        Some("fuzz-api") => schemathesis::run_against_live_backend(schemathesis::Seed::Fresh),
        Some("container") => setup::build_tools().and_then(|()| container::check(&root(), "production")),
        Some("wp") => wp::serve(&args[1..]),
        Some("test-php") => php_tests(true),
        Some("plugin") => widget::build().and_then(|_| wp::zip()),
        Some("widget") => widget::build().map(|_| ()),
        _ => {
            eprintln!(
                "usage: cargo xtask demo [-- --duration SECS] | test | bench <name> | fuzz-api | container | wp [--hpos] | test-php | widget | plugin"
            );
            eprintln!("benchmarks: {}", BENCHES.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", "));
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn demo(extra: &[String]) -> Result<()> {
    setup::build_tools()?;
    // The dashboard at `/` is the widget; without it the demo still runs, showing the queue only.
    if let Err(e) = widget::build() {
        say(&format!("the widget did not build, so the demo's dashboard shows the queue only: {e:#}"));
    }
    say("building and starting the demo (SQLite file wns-demo.db in this folder; Ctrl-C stops it)");
    let extra: Vec<&String> = extra.iter().filter(|a| *a != "--").collect();
    run(cargo().args(["run", "--quiet", "--package", "wns", "--bin", "wns", "--", "demo"]).args(extra))
}

fn test(extra: &[String]) -> Result<()> {
    setup::build_tools()?;
    setup::rust_components(&["rustfmt", "clippy"])?;
    let pg = pg::Postgres::for_tests()?;
    say("checking formatting (cargo fmt --check)");
    run(cargo().args(["fmt", "--all", "--", "--check"])).context("formatting differs: run `cargo fmt --all`")?;
    say("linting (cargo clippy, warnings are errors)");
    run(cargo().args(["clippy", "--workspace", "--all-targets", "--quiet", "--", "-D", "warnings"]))?;
    production_build_ships_no_simulators()?;
    container::check(&root(), "container-check")?;
    widget::build()?;
    say("linting the widget's browser code (cargo clippy --target wasm32-unknown-unknown)");
    run(cargo().args([
        "clippy",
        "--quiet",
        "-p",
        "wns-widget",
        "--target",
        "wasm32-unknown-unknown",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]))?;
    widget::browser_tests()?;
    say(&format!("running every test on SQLite and on PostgreSQL ({})", pg.describe()));
    let (passed, failed) =
        run_counting(cargo().args(["test", "--workspace", "--no-fail-fast"]).args(extra).env("WNS_TEST_PG", pg.url()))?;
    drop(pg);
    let php = php_tests(false);
    let fuzzed = schemathesis::run_against_live_backend(schemathesis::Seed::Fixed);
    // One closing line over every test binary (cargo's own last line is only the last binary's).
    println!("tests: {passed} passed, {failed} failed");
    if failed > 0 || passed == 0 {
        bail!("{failed} tests failed, {passed} passed");
    }
    php?;
    fuzzed?;
    say("all tests passed, the PHP tests against the real WooCommerce too, and schemathesis found nothing");
    Ok(())
}

/// The `wns-sync` plugin's PHPUnit tests and the backend's `real_store` tests against a real
/// WordPress + WooCommerce 7.9, once with posts-stored orders and once with HPOS. They run `wns verify-token` (the backend's own token
/// check) and `woo-sim` (to compare answers): inside `cargo xtask test` the binaries that
/// `cargo test --workspace` has just built, for `cargo xtask test-php` built here.
fn php_tests(build: bool) -> Result<()> {
    let started = std::time::Instant::now();
    let wns = pg::target_dir().join("debug").join("wns");
    let woo_sim = pg::target_dir().join("debug").join("woo-sim");
    if build || !wns.is_file() || !woo_sim.is_file() {
        say("building wns and woo-sim for the PHP tests (cargo build)");
        run(cargo().args([
            "build",
            "--quiet",
            "--package",
            "wns",
            "--bin",
            "wns",
            "--package",
            "wns-sim",
            "--bin",
            "woo-sim",
        ]))?;
    }
    let phpunit_xml = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../wp-plugin/tests/phpunit.xml");
    for hpos in [false, true] {
        let store = wp::TestStore::start(hpos)?;
        say(&format!(
            "against {} ({} orders): the backend's WooCommerce client (cargo test --test woo_contract -- --ignored), then the wns-sync PHP tests (phpunit)",
            store.url,
            if hpos { "HPOS" } else { "posts-stored" }
        ));
        let rust = run(cargo()
            .args(["test", "--quiet", "--workspace", "--test", "woo_contract", "--", "--ignored"])
            .env("WNS_REAL_WOO", store.info_file()));
        let result = rust.and_then(|()| {
            run(Command::new("phpunit")
                .arg("-c")
                .arg(&phpunit_xml)
                .env("WNS_WP_STORE", store.info_file())
                .env("WNS_BIN", &wns)
                .env("WNS_WOO_SIM", &woo_sim))
        });
        if result.is_err() {
            let kept = pg::target_dir()
                .join("xtask-wp")
                .join(format!("failed-{}-debug.log", if hpos { "hpos" } else { "posts" }));
            if std::fs::copy(store.dir.join("debug.log"), &kept).is_ok() {
                say(&format!("WordPress's log of that store is kept in {}", kept.display()));
            }
        }
        drop(store);
        result.with_context(|| {
            format!(
                "the tests against the real {} store failed; run them by hand: `cargo xtask wp{}`, then `WNS_REAL_WOO=<its store.json> cargo test --workspace --test woo_contract -- --ignored` and `WNS_WP_STORE=<its store.json> WNS_BIN={} WNS_WOO_SIM={} phpunit -c wp-plugin/tests/phpunit.xml`",
                if hpos { "HPOS" } else { "posts-stored" },
                if hpos { " --hpos" } else { "" },
                wns.display(),
                woo_sim.display()
            )
        })?;
    }
    say(&format!(
        "the tests against the real WordPress + WooCommerce (two stores) added {:.0} s",
        started.elapsed().as_secs_f64()
    ));
    Ok(())
}

fn bench(name: Option<&str>, extra: &[String]) -> Result<()> {
    let Some(name) = name else {
        bail!("name a benchmark: {}", BENCHES.iter().map(|(n, d)| format!("\n  {n}: {d}")).collect::<String>());
    };
    if let Some((_, issue)) = LATER_BENCHES.iter().find(|(n, _)| *n == name) {
        bail!("benchmark `{name}` does not exist yet; it arrives with {issue}");
    }
    if !BENCHES.iter().any(|(n, _)| *n == name) {
        bail!(
            "unknown benchmark `{name}`; available: {}",
            BENCHES.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
        );
    }
    setup::build_tools()?;
    let pg = pg::Postgres::for_tests()?;
    say(&format!("running benchmark `{name}` (release build; PostgreSQL: {})", pg.describe()));
    run(cargo()
        .args(["bench", "--quiet", "--package", "wns", "--bench", name])
        .args(extra)
        .env("WNS_TEST_PG", pg.url()))
}

/// The container image is built with `--no-default-features`: nothing of the simulators, the
/// demo or the test helpers may be linked into it. `cargo tree` answers without building.
fn production_build_ships_no_simulators() -> Result<()> {
    say("checking that a production build (--no-default-features) links no simulator");
    let out = cargo()
        .args(["tree", "--quiet", "--package", "wns", "--no-default-features", "--edges", "normal,build"])
        .output()
        .context("running cargo tree")?;
    let tree = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() || !tree.contains("wns v") {
        bail!("cargo tree failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    if let Some(line) = tree.lines().find(|l| l.contains("wns-sim")) {
        bail!("a production build of wns depends on the simulators: {}", line.trim());
    }
    Ok(())
}

/// The workspace root, wherever xtask is run from.
pub(crate) fn root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask lives in the workspace").to_path_buf()
}

pub fn say(msg: &str) {
    eprintln!("xtask: {msg}");
}

pub fn cargo() -> Command {
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
}

/// Runs `cargo test`, passing its output through, and adds up its `test result:` lines.
fn run_counting(cmd: &mut Command) -> Result<(u64, u64)> {
    use std::io::{BufRead, BufReader};
    let mut child = cmd.stdout(std::process::Stdio::piped()).spawn().with_context(|| format!("starting {cmd:?}"))?;
    let (mut passed, mut failed) = (0, 0);
    for line in BufReader::new(child.stdout.take().expect("piped stdout")).lines() {
        let line = line?;
        println!("{line}");
        if let Some(rest) = line.strip_prefix("test result: ") {
            passed += count_before(rest, " passed");
            failed += count_before(rest, " failed");
        }
    }
    let status = child.wait()?;
    if !status.success() && failed == 0 {
        bail!("cargo test failed ({status})");
    }
    Ok((passed, failed))
}

/// `ok. 22 passed; 0 failed; …` → the number before `word`.
fn count_before(s: &str, word: &str) -> u64 {
    s.find(word)
        .and_then(|i| s[..i].rsplit(|c: char| !c.is_ascii_digit()).next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

pub fn run(cmd: &mut Command) -> Result<()> {
    let status = cmd.status().with_context(|| format!("starting {cmd:?}"))?;
    if !status.success() {
        bail!("{:?} failed ({status})", cmd.get_program());
    }
    Ok(())
}
