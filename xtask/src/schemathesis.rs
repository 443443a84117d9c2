//! Schemathesis (from PyPI) against a live backend: `wns serve` on SQLite in a temporary folder
//! with an operator key holding every capability, fuzzed from its own `/api/v1/openapi.json` for a
//! bounded time. Every check must pass: no 5xx, every status, content type, header and body as
//! the document says, schema-valid requests accepted and schema-violating ones refused.
//!
//! The tool is installed once, pinned, into a virtual environment under `target/`.

use std::{
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use anyhow::{Context, Result, bail};

use crate::{pg, run, say, setup};

const VERSION: &str = "4.32.5";

/// How long the fuzzing runs; `WNS_SCHEMATHESIS_SECS` changes it (e.g. 600 before a release).
fn budget_secs() -> u64 {
    std::env::var("WNS_SCHEMATHESIS_SECS").ok().and_then(|s| s.parse().ok()).unwrap_or(60)
}

/// The seed of the generated requests. `cargo xtask test` (and so CI) fuzzes from a fixed seed so
/// that a run is repeatable and a change cannot be refused for a case an earlier change let in;
/// `cargo xtask fuzz-api` draws a new seed each time to find new cases, and a case it finds is
/// fixed and gets a test of its own. `WNS_SCHEMATHESIS_SEED` overrides both.
#[derive(Clone, Copy)]
pub enum Seed {
    Fixed,
    Fresh,
}

const FIXED_SEED: &str = "20261202";

fn seed_arg(seed: Seed) -> Option<String> {
    std::env::var("WNS_SCHEMATHESIS_SEED").ok().filter(|s| !s.trim().is_empty()).or(match seed {
        Seed::Fixed => Some(FIXED_SEED.to_string()),
        Seed::Fresh => None,
    })
}

fn installed() -> Result<PathBuf> {
    let venv = pg::target_dir().join("tools").join(format!("schemathesis-{VERSION}"));
    let bin = venv.join("bin").join("schemathesis");
    if bin.is_file() {
        return Ok(bin);
    }
    let venv_works = Command::new("python3")
        .args(["-m", "venv", "--help"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !venv_works {
        setup::apt_install(&["python3-venv", "python3-pip"], "the API fuzzing (schemathesis)")?;
    }
    say(&format!("installing schemathesis {VERSION} from PyPI into {} (once)", venv.display()));
    run(Command::new("python3").arg("-m").arg("venv").arg(&venv))?;
    run(Command::new(venv.join("bin").join("pip"))
        .args(["install", "--quiet", "--disable-pip-version-check"])
        .arg(format!("schemathesis=={VERSION}")))?;
    Ok(bin)
}

/// The server, stopped when dropped.
struct Serve(Child);

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn run_against_live_backend(seed: Seed) -> Result<()> {
    let tool = installed()?;
    run(crate::cargo().args(["build", "--quiet", "--package", "wns", "--bin", "wns"]))?;
    let wns = pg::target_dir().join("debug").join("wns");
    let dir = tempdir()?;
    let port = pg::free_port()?;
    let env = |c: &mut Command| {
        c.env("DATABASE_URL", format!("sqlite://{}", dir.join("wns.db").display()))
            .env("WNS_SERVER__BIND", format!("127.0.0.1:{port}"))
            // The fuzzer sends thousands of requests a minute from one key.
            .env("WNS_API__REQUESTS_PER_MINUTE", "1000000")
            .env("WNS_API__BURST", "1000000")
            .env("RUST_LOG", "warn");
    };
    let mut keys = Command::new(&wns);
    env(&mut keys);
    let out = keys
        .args(["keys", "create", "--name", "schemathesis", "--caps", "view,map_skus,replay,resolve"])
        .output()
        .context("running wns keys create")?;
    if !out.status.success() {
        bail!("wns keys create failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    let key = String::from_utf8(out.stdout)?.trim().to_string();
    // Something for the mapping routes to find.
    let mut map = Command::new(&wns);
    env(&mut map);
    run(map.args(["map", "MUG-RED", "1001"]).stdout(Stdio::null()))?;

    let mut serve = Command::new(&wns);
    env(&mut serve);
    let log = std::fs::File::create(dir.join("serve.log"))?;
    let _server = Serve(serve.arg("serve").stdout(log.try_clone()?).stderr(log).spawn().context("starting wns serve")?);
    let started = Instant::now();
    while !pg::tcp_open(port) {
        if started.elapsed() > Duration::from_secs(20) {
            bail!("wns serve did not listen on {port} within 20 s; its log: {}", dir.join("serve.log").display());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let secs = budget_secs();
    say(&format!("fuzzing /api/v1 with schemathesis for {secs} s against its OpenAPI document (every check)"));
    let status = Command::new(&tool)
        .arg("run")
        .arg(format!("http://127.0.0.1:{port}/api/v1/openapi.json"))
        .args(["--checks", "all", "--workers", "1", "--max-time", &secs.to_string()])
        .args(["--header", &format!("Authorization: Bearer {key}")])
        .args(["--no-color"])
        .args(seed_arg(seed).map(|s| ["--seed".to_string(), s]).into_iter().flatten())
        // Its cache of crashes goes with the server's files, not into the checkout.
        .current_dir(&dir)
        .status()
        .context("running schemathesis")?;
    if !status.success() {
        bail!(
            "schemathesis found answers that contradict the OpenAPI document (above; `st replay <id>` needs the \
             server, the log is {})",
            dir.join("serve.log").display()
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

fn tempdir() -> Result<PathBuf> {
    let dir = pg::target_dir().join("tmp").join(format!("schemathesis-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(Path::new(&dir).to_path_buf())
}
