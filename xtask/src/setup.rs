//! Bringing in what a fresh Debian 12 machine with Rust lacks.

use std::process::Command;

use anyhow::{Result, bail};

use crate::{run, say};

/// True when `program` is on the PATH.
pub fn have(program: &str) -> bool {
    std::env::var_os("PATH").is_some_and(|paths| std::env::split_paths(&paths).any(|d| d.join(program).is_file()))
}

pub fn is_root() -> bool {
    Command::new("id").arg("-u").output().map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0").unwrap_or(false)
}

/// Installs Debian packages with apt-get when root; otherwise stops with the command to run.
pub fn apt_install(packages: &[&str], why: &str) -> Result<()> {
    let list = packages.join(" ");
    if !is_root() {
        bail!(
            "{why} needs Debian packages that are missing; run:\n  sudo apt-get update && sudo apt-get install -y {list}\nthen run this command again"
        );
    }
    say(&format!("installing Debian packages for {why}: {list}"));
    run(Command::new("apt-get").args(["update", "-q"]))?;
    run(Command::new("apt-get")
        .args(["install", "-y", "-q", "--no-install-recommends"])
        .args(packages)
        .env("DEBIAN_FRONTEND", "noninteractive"))
}

/// A C compiler: the bundled SQLite is compiled from C.
pub fn build_tools() -> Result<()> {
    if !have("cc") {
        apt_install(&["build-essential"], "compiling the bundled SQLite (a C compiler)")?;
    }
    Ok(())
}

pub fn rust_components(components: &[&str]) -> Result<()> {
    for c in components {
        let sub = if *c == "rustfmt" { "fmt" } else { *c };
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let found = Command::new(&cargo).args([sub, "--version"]).output().is_ok_and(|o| o.status.success());
        if !found {
            if !have("rustup") {
                bail!("the Rust component `{c}` is missing and rustup is not available to add it");
            }
            say(&format!("adding the Rust component {c} (rustup component add {c})"));
            run(Command::new("rustup").args(["component", "add", c]))?;
        }
    }
    Ok(())
}

/// The container's binary is static: Rust's musl target and musl-gcc for the C in it (SQLite, ring).
pub fn musl_toolchain() -> Result<()> {
    let target = crate::container::TARGET;
    let installed = Command::new("rustc")
        .args(["--print", "target-libdir", "--target", target])
        .output()
        .is_ok_and(|o| o.status.success() && std::path::Path::new(String::from_utf8_lossy(&o.stdout).trim()).is_dir());
    if !installed {
        if !have("rustup") {
            bail!("the Rust target {target} is missing and rustup is not available to add it");
        }
        say(&format!("adding the Rust target {target} for the container's static binary (rustup target add {target})"));
        run(Command::new("rustup").args(["target", "add", target]))?;
    }
    if !have("musl-gcc") {
        apt_install(&["musl-tools"], "the container's static binary (musl-gcc compiles its C code)")?;
    }
    Ok(())
}
