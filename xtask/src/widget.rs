//! `cargo xtask widget`: the wasm widget built, bound, optimised and checked against its size
//! budget, into `wp-plugin/wns-sync/assets/pkg/` where the plugin (and `cargo xtask plugin`'s zip)
//! pick it up.
//!
//! Steps, each bringing in what the machine lacks and saying so in one line:
//! 1. the Rust target `wasm32-unknown-unknown` (rustup);
//! 2. `cargo build --profile widget` (opt-level z, LTO, one codegen unit, panic = abort; debug
//!    information off but the `target_features` section kept, which wasm-opt needs);
//! 3. `wasm-bindgen --target web`, the CLI at exactly the version `Cargo.lock` holds for the
//!    crate (installed once with `cargo install --locked`; when the crates.io mirror lacks a
//!    version the CLI's lock file names, the newest version the mirror has is pinned instead);
//! 4. `wasm-opt -Oz --converge` from npm's `binaryen` (pinned; Debian's binaryen 108 cannot read what
//!    wasm-bindgen 0.2.130 writes), installed once under `target/tools/`;
//! 5. a loader appended to wasm-bindgen's module: inside WordPress the plugin sets
//!    `window.wnsSync`, and the module starts itself with it; then the module minified with npm's
//!    `terser` (pinned), as shipped JavaScript is;
//! 6. the budget: the `.wasm` and the JavaScript ≤ 150 KB raw and ≤ 60 KB gzipped (gzip -9). Past
//!    it the build fails; either way it prints the figures.

use std::{
    fs,
    path::{Path, PathBuf},
    process::Command,
};

use anyhow::{Context, Result, bail};

use crate::{cargo, pg::target_dir, run, say, setup};

const TARGET: &str = "wasm32-unknown-unknown";
const BINARYEN: &str = "132.0.0";
const TERSER: &str = "5.36.0";
const RAW_BUDGET: u64 = 150_000;
const GZIP_BUDGET: u64 = 60_000;

/// What wasm-bindgen's module ends with; the loader needs its init function's name.
const INIT_EXPORT: &str = "__wbg_init as default";

const LOADER: &str = r#"
// Added by `cargo xtask widget`: inside WordPress the wns-sync plugin sets window.wnsSync on the
// screens that show the widget; there the module starts itself. A failure to load leaves the
// WooCommerce screen as it was. The widget's words go through wnsSync.t (the plugin's translator),
// the identity where none is given.
if (typeof window !== 'undefined' && window.wnsSync) {
    window.wnsSync.t = window.wnsSync.t || function (s) { return s; };
    __wbg_init({ module_or_path: window.wnsSync.wasmUrl }).then(() => start(window.wnsSync), () => {});
}
"#;

pub fn build() -> Result<PathBuf> {
    wasm_target()?;
    let bindgen = wasm_bindgen_cli()?;
    let wasm_opt = binaryen()?;
    say("building the widget (cargo build --profile widget --target wasm32-unknown-unknown)");
    run(cargo().args(["build", "--quiet", "--locked", "-p", "wns-widget", "--profile", "widget", "--target", TARGET]))?;
    let built = target_dir().join(TARGET).join("widget").join("wns_widget.wasm");
    let out = crate::root().join("wp-plugin/wns-sync/assets/pkg");
    let _ = fs::remove_dir_all(&out);
    fs::create_dir_all(&out)?;
    run(Command::new(&bindgen)
        .args(["--target", "web", "--no-typescript", "--remove-name-section", "--remove-producers-section"])
        .args(["--out-name", "wns_widget", "--out-dir"])
        .arg(&out)
        .arg(&built))?;
    let wasm = out.join("wns_widget_bg.wasm");
    // `--low-memory-unused`: addresses below 1 KiB are never data here (rustc lays the 1 MiB stack
    // out first, growing down from 1 MiB, and the heap above the data), which lets wasm-opt fold
    // constant offsets into loads and stores. `--strip-target-features` drops a section only tools
    // read, after the passes that read it. Together about 500 bytes gzipped.
    run(Command::new(&wasm_opt)
        .args(["--low-memory-unused", "-Oz", "--converge", "--strip-target-features"])
        .arg(&wasm)
        .arg("-o")
        .arg(&wasm))?;
    let js = out.join("wns_widget.js");
    let glue = fs::read_to_string(&js).with_context(|| format!("reading {}", js.display()))?;
    if !glue.contains(INIT_EXPORT) || !glue.contains("export function start(") {
        bail!(
            "{} has no `{INIT_EXPORT}` or no `start`: this wasm-bindgen writes its module differently; update the loader in xtask/src/widget.rs",
            js.display()
        );
    }
    fs::write(&js, format!("{glue}{LOADER}"))?;
    // wasm-bindgen's JavaScript as written is half comments and long names; shipped JavaScript is
    // minified (exports and the loader's names stay: terser keeps a module's exports).
    run(Command::new(npm_tool("terser", TERSER, "terser")?)
        .arg(&js)
        .args(["--module", "--compress", "--mangle", "-o"])
        .arg(&js))?;
    budget(&[&wasm, &js])?;
    Ok(out)
}

/// The widget's in-browser tests (`wasm-widget/tests/browser.rs`) in headless Chromium, through
/// the `wasm-bindgen-test-runner` installed with the CLI and Debian's chromedriver.
pub fn browser_tests() -> Result<()> {
    wasm_bindgen_cli()?;
    if !setup::have("chromedriver") {
        setup::apt_install(&["chromium", "chromium-driver"], "the widget's tests in headless Chromium")?;
    }
    say("the widget's tests in headless Chromium (wasm-bindgen-test)");
    run(cargo()
        // No `--quiet`: cargo passes it on to wasm-bindgen-test-runner, which refuses it.
        .args(["test", "-p", "wns-widget", "--target", TARGET, "--test", "browser"])
        .env("CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER", cargo_home().join("bin").join("wasm-bindgen-test-runner"))
        .env("CHROMEDRIVER", "/usr/bin/chromedriver"))
}

fn wasm_target() -> Result<()> {
    let libdir = Command::new("rustc").args(["--print", "target-libdir", "--target", TARGET]).output();
    let installed =
        libdir.is_ok_and(|o| o.status.success() && Path::new(String::from_utf8_lossy(&o.stdout).trim()).is_dir());
    if !installed {
        if !setup::have("rustup") {
            bail!("the Rust target {TARGET} is missing and rustup is not available to add it");
        }
        say(&format!("adding the Rust target {TARGET} for the widget (rustup target add {TARGET})"));
        run(Command::new("rustup").args(["target", "add", TARGET]))?;
    }
    Ok(())
}

/// The version of `name` in the workspace's `Cargo.lock`.
fn locked_version(name: &str) -> Result<String> {
    let lock = fs::read_to_string(crate::root().join("Cargo.lock"))?;
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line == format!("name = \"{name}\"")
            && let Some(v) = lines.next().and_then(|l| l.strip_prefix("version = \""))
        {
            return Ok(v.trim_end_matches('"').to_string());
        }
    }
    bail!("{name} is not in Cargo.lock")
}

fn cargo_home() -> PathBuf {
    std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cargo"))
}

/// `wasm-bindgen` at the crate's version, installed into cargo's own `bin/` (so a CI cache of
/// `$CARGO_HOME/bin` keeps it) when it is not there.
fn wasm_bindgen_cli() -> Result<PathBuf> {
    let version = locked_version("wasm-bindgen")?;
    let bin = cargo_home().join("bin").join("wasm-bindgen");
    let current = Command::new(&bin).arg("--version").output().ok().filter(|o| o.status.success());
    if current.is_some_and(|o| String::from_utf8_lossy(&o.stdout).trim() == format!("wasm-bindgen {version}")) {
        return Ok(bin);
    }
    say(&format!("installing wasm-bindgen-cli {version} to match the crate (once; about 4 minutes on 2 cores)"));
    let locked = cargo()
        // --force: cargo's record may say installed while the binary is gone or another version.
        .args(["install", "--quiet", "--force", "--locked", "wasm-bindgen-cli", "--version", &version])
        .output()
        .context("running cargo install")?;
    if locked.status.success() {
        return Ok(bin);
    }
    let error = String::from_utf8_lossy(&locked.stderr).to_string();
    // The mirror may lack a version the CLI's lock file names: pin the newest it has, from the
    // CLI's own sources (which the failed install left in cargo's cache), and install from there.
    let crate_file = fs::read_dir(cargo_home().join("registry/cache"))?
        .filter_map(|d| d.ok())
        .map(|d| d.path().join(format!("wasm-bindgen-cli-{version}.crate")))
        .find(|p| p.is_file())
        .with_context(|| format!("cargo install wasm-bindgen-cli {version} failed before downloading it:\n{error}"))?;
    // Outside the checkout: inside it, cargo would take the CLI for a member of this workspace.
    let src = std::env::temp_dir().join("wns-wasm-bindgen-cli-src");
    fs::create_dir_all(&src)?;
    run(Command::new("tar").arg("-xzf").arg(&crate_file).arg("-C").arg(&src))?;
    let dir = src.join(format!("wasm-bindgen-cli-{version}"));
    let mut last = error;
    for _ in 0..8 {
        let Some((krate, newest)) = missing_version(&last) else {
            bail!("cargo install wasm-bindgen-cli {version} --locked failed:\n{last}");
        };
        say(&format!("the crates.io mirror lacks a version of {krate} wasm-bindgen-cli locks; pinning {newest}"));
        run(cargo().args(["update", "--quiet", "-p", &krate, "--precise", &newest]).current_dir(&dir))?;
        let out =
            cargo().args(["install", "--quiet", "--force", "--locked", "--path", "."]).current_dir(&dir).output()?;
        if out.status.success() {
            return Ok(bin);
        }
        last = String::from_utf8_lossy(&out.stderr).to_string();
    }
    bail!("cargo install wasm-bindgen-cli {version} failed:\n{last}")
}

/// From cargo's "failed to select a version for the requirement `krate = "^1.0.10"` (locked to
/// 1.0.11) … candidate versions found which didn't match: 1.0.10, 1.0.9": the crate and the
/// newest candidate.
fn missing_version(error: &str) -> Option<(String, String)> {
    let req = error.split("failed to select a version for the requirement `").nth(1)?;
    let krate = req.split(' ').next()?.to_string();
    let candidates = error.split("candidate versions found which didn't match: ").nth(1)?;
    let newest = candidates.split([',', '\n']).next()?.trim().to_string();
    (!newest.is_empty()).then_some((krate, newest))
}

/// npm's binaryen (for `wasm-opt`), pinned, under `target/tools/`.
fn binaryen() -> Result<PathBuf> {
    npm_tool("binaryen", BINARYEN, "wasm-opt")
}

/// `bin` of npm package `package` at `version`, installed once under `target/tools/`.
fn npm_tool(package: &str, version: &str, bin: &str) -> Result<PathBuf> {
    let dir = target_dir().join("tools").join(format!("{package}-{version}"));
    let path = dir.join("node_modules/.bin").join(bin);
    if path.is_file() {
        return Ok(path);
    }
    if !setup::have("npm") {
        setup::apt_install(&["nodejs", "npm"], "the widget's build tools (npm packages)")?;
    }
    say(&format!("installing {bin} (npm {package}@{version}, once) into {}", dir.display()));
    fs::create_dir_all(&dir)?;
    run(Command::new("npm")
        .args(["install", "--silent", "--no-audit", "--no-fund", "--prefix"])
        .arg(&dir)
        .arg(format!("{package}@{version}")))?;
    Ok(path)
}

fn gzip_size(file: &Path) -> Result<u64> {
    let out = Command::new("gzip").args(["-9", "-c"]).arg(file).output().context("running gzip")?;
    if !out.status.success() {
        bail!("gzip {} failed", file.display());
    }
    Ok(out.stdout.len() as u64)
}

fn budget(files: &[&Path]) -> Result<()> {
    let (mut raw, mut gz) = (0, 0);
    println!("| file | raw bytes | gzip -9 bytes |");
    println!("|---|---:|---:|");
    for f in files {
        let (r, g) = (fs::metadata(f)?.len(), gzip_size(f)?);
        println!("| {} | {r} | {g} |", f.file_name().unwrap_or_default().to_string_lossy());
        raw += r;
        gz += g;
    }
    println!("| **total** (budget {RAW_BUDGET} / {GZIP_BUDGET}) | **{raw}** | **{gz}** |");
    if raw > RAW_BUDGET || gz > GZIP_BUDGET {
        bail!(
            "the widget is over its size budget: {raw} bytes raw (at most {RAW_BUDGET}), {gz} gzipped (at most {GZIP_BUDGET})"
        );
    }
    say(&format!("the widget is within its budget: {raw} bytes raw, {gz} gzipped"));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_missing_version_is_read_from_cargos_error() {
        let error = "error: failed to select a version for the requirement `webpki-roots = \"^1.0.10\"` (locked to 1.0.11)\ncandidate versions found which didn't match: 1.0.10, 1.0.9, 1.0.8\nlocation searched: crates.io index";
        assert_eq!(missing_version(error), Some(("webpki-roots".into(), "1.0.10".into())));
        assert_eq!(missing_version("error: something else"), None);
    }
}
