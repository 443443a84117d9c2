//! The container image without a container engine (none runs on the development machines or in
//! CI): build its binary exactly as `deploy/Dockerfile` does, then check what the image relies on.
//! The binary is static, carries no simulator, its health check follows `WNS_SERVER__BIND`, and
//! the Dockerfile's stages and the ignore file are what this check and the docs say they are.

use std::{
    io::{BufRead, BufReader},
    net::TcpListener,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::mpsc,
    time::{Duration, Instant},
};

use anyhow::{Context, Result, bail};

use crate::{cargo, say, setup};

pub const TARGET: &str = "x86_64-unknown-linux-musl";
const PROFILE: &str = "production";
/// The build command, as the Dockerfile's last `cargo build` must spell it.
const BUILD_ARGS: &[&str] =
    &["build", "--profile", PROFILE, "--locked", "-p", "wns", "--no-default-features", "--target", TARGET];

/// Checks the container with its binary built in `profile`: `production` (what the Dockerfile
/// builds, for `cargo xtask container` and its size) or `container-check` (the same features and
/// target unoptimised, for `cargo xtask test`).
pub fn check(root: &Path, profile: &str) -> Result<()> {
    say("checking deploy/Dockerfile and .dockerignore");
    dockerfile(&std::fs::read_to_string(root.join("deploy/Dockerfile")).context("reading deploy/Dockerfile")?)
        .context("deploy/Dockerfile")?;
    dockerignore(&std::fs::read_to_string(root.join(".dockerignore")).context("reading .dockerignore")?)
        .context(".dockerignore")?;
    setup::musl_toolchain()?;
    let args: Vec<&str> = BUILD_ARGS.iter().map(|a| if *a == PROFILE { profile } else { a }).collect();
    say(&format!("building the container's binary: cargo {}", args.join(" ")));
    let started = Instant::now();
    crate::run(cargo().current_dir(root).args(&args).arg("--quiet"))?;
    let target_dir = std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from);
    let binary = target_dir.join(TARGET).join(profile).join("wns");
    let size = std::fs::metadata(&binary).with_context(|| format!("{} was not built", binary.display()))?.len();
    say(&format!(
        "built {} ({:.1} MB) in {} s",
        binary.strip_prefix(root).unwrap_or(&binary).display(),
        size as f64 / 1e6,
        started.elapsed().as_secs()
    ));
    is_static(&binary)?;
    has_no_simulator(&binary)?;
    healthcheck_follows_the_bind_address(&binary)?;
    say("the container's binary is static, carries no simulator and its health check follows WNS_SERVER__BIND");
    Ok(())
}

/// One instruction per logical line (continuations joined), comments dropped: (keyword, rest).
fn instructions(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        let trimmed = line.trim();
        if current.is_empty() && (trimmed.is_empty() || trimmed.starts_with('#')) {
            continue;
        }
        if let Some(head) = trimmed.strip_suffix('\\') {
            current.push_str(head);
            current.push(' ');
            continue;
        }
        current.push_str(trimmed);
        let (keyword, rest) = current.split_once(char::is_whitespace).unwrap_or((&current, ""));
        out.push((keyword.to_ascii_uppercase(), rest.trim().to_string()));
        current.clear();
    }
    out
}

fn dockerfile(text: &str) -> Result<()> {
    let all = instructions(text);
    let stages: Vec<&String> = all.iter().filter(|(k, _)| k == "FROM").map(|(_, rest)| rest).collect();
    let Some(last) = stages.last() else { bail!("no FROM line") };
    let base = last.split_whitespace().next().unwrap_or_default();
    if !(base == "scratch" || base.starts_with("gcr.io/distroless/static")) {
        bail!(
            "the final stage is FROM {base}; it must be scratch or gcr.io/distroless/static* (a static binary needs nothing else)"
        );
    }
    if stages.len() < 2 {
        bail!("one stage only; the binary is built in a build stage and copied into the final one");
    }
    let builds: Vec<&String> =
        all.iter().filter(|(k, rest)| k == "RUN" && rest.contains("cargo build")).map(|(_, rest)| rest).collect();
    let wanted = format!("cargo {}", BUILD_ARGS.join(" "));
    if !builds.iter().any(|rest| rest.contains(&wanted)) {
        bail!(
            "no `RUN {wanted}`: the image must be built as `cargo xtask test` builds and checks it (found {builds:?})"
        );
    }
    if !all.iter().any(|(k, rest)| k == "RUN" && rest.contains("cargo chef cook")) {
        bail!("no `RUN cargo chef cook …`: without a dependency layer every source change rebuilds every crate");
    }
    let final_stage = &all[all.iter().rposition(|(k, _)| k == "FROM").unwrap_or(0)..];
    let copied = format!("/src/target/{TARGET}/{PROFILE}/wns");
    if !final_stage.iter().any(|(k, rest)| k == "COPY" && rest.contains(&copied)) {
        bail!("the final stage does not COPY {copied}");
    }
    let Some((_, health)) = final_stage.iter().find(|(k, _)| k == "HEALTHCHECK") else {
        bail!("the final stage has no HEALTHCHECK");
    };
    // Exec form: neither scratch nor distroless has a shell to run the shell form.
    if !health.contains(r#"CMD ["/wns", "healthcheck"]"#) {
        bail!(
            "HEALTHCHECK {health}: use CMD [\"/wns\", \"healthcheck\"] (it follows WNS_SERVER__BIND; no shell in the image)"
        );
    }
    if !final_stage.iter().any(|(k, rest)| k == "ENTRYPOINT" && rest == r#"["/wns"]"#) {
        bail!("the final stage's ENTRYPOINT is not [\"/wns\"]");
    }
    Ok(())
}

fn dockerignore(text: &str) -> Result<()> {
    let patterns: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| l.trim_matches('/'))
        .collect();
    for (what, why) in [
        ("target", "a used clone's build output is gigabytes"),
        (".git", "the history is not needed to build"),
        ("*.db", "a local SQLite database must not reach an image layer"),
        ("node_modules", "the widget's JavaScript tools are not needed to build"),
    ] {
        if !patterns.contains(&what) {
            bail!("does not exclude {what} ({why}); add a line `{what}`");
        }
    }
    Ok(())
}

fn is_static(binary: &Path) -> Result<()> {
    let out = Command::new("ldd").arg(binary).output().context("running ldd (Debian package libc-bin)")?;
    let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    if !(said.contains("not a dynamic executable") || said.contains("statically linked")) {
        bail!("{} is dynamically linked; scratch and distroless/static have no libc:\n{said}", binary.display());
    }
    Ok(())
}

/// Stripping removes symbol names, not text: the simulators' crate name (in tracing targets and
/// type names) and their source paths (in panic locations) stay in the binary when they are linked.
fn has_no_simulator(binary: &Path) -> Result<()> {
    let bytes = std::fs::read(binary).with_context(|| format!("reading {}", binary.display()))?;
    for needle in ["wns_sim", "sim/src/"] {
        if let Some(at) = bytes.windows(needle.len()).position(|w| w == needle.as_bytes()) {
            let context =
                String::from_utf8_lossy(&bytes[at.saturating_sub(40)..(at + 80).min(bytes.len())]).into_owned();
            bail!(
                "{} contains simulator code ({needle:?} near {context:?}); the production build must not enable wns's `sim` feature",
                binary.display()
            );
        }
    }
    Ok(())
}

/// Kills `wns serve` when the check ends, however it ends.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// `wns` with only the environment given: a developer's WNS_* or DATABASE_URL must not leak in.
fn wns(binary: &Path, dir: &Path, bind: &str) -> Command {
    let mut c = Command::new(binary);
    c.current_dir(dir).env_clear().env("WNS_SERVER__BIND", bind);
    c
}

fn healthcheck_follows_the_bind_address(binary: &Path) -> Result<()> {
    let dir = std::env::temp_dir().join(format!("wns-xtask-container-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    let result = serve_and_ask(binary, &dir);
    let _ = std::fs::remove_dir_all(&dir);
    result
}

fn serve_and_ask(binary: &Path, dir: &Path) -> Result<()> {
    let port = free_port()?;
    let bind = format!("0.0.0.0:{port}");
    // As in the image: all interfaces, which wns allows once something can authenticate.
    let out = wns(binary, dir, &bind)
        .args(["keys", "create", "--name", "xtask", "--caps", "view"])
        .output()
        .context("running wns keys create")?;
    if !out.status.success() {
        bail!("`wns keys create` failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    let mut child = wns(binary, dir, &bind)
        .args(["serve", "--log-format", "json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("starting {} serve", binary.display()))?;
    let stdout = child.stdout.take().expect("piped stdout");
    let mut stderr = child.stderr.take().expect("piped stderr");
    let mut server = Server(child);
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if line.contains("listening on http://") {
                let _ = tx.send(());
            }
        }
    });
    if rx.recv_timeout(Duration::from_secs(30)).is_err() {
        let _ = server.0.kill();
        let mut err = String::new();
        let _ = std::io::Read::read_to_string(&mut stderr, &mut err);
        bail!("the production wns did not start serving on {bind} within 30 s (SQLite in {}): {err}", dir.display());
    }
    let ask = |bind: &str| -> Result<(bool, String)> {
        let out = wns(binary, dir, bind).arg("healthcheck").output().context("running wns healthcheck")?;
        let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        Ok((out.status.success(), said.trim().to_string()))
    };
    let (ok, said) = ask(&bind)?;
    if !ok {
        bail!("`wns healthcheck` with WNS_SERVER__BIND={bind} failed against a wns serving there: {said}");
    }
    let other = free_port()?;
    let (ok, said) = ask(&format!("0.0.0.0:{other}"))?;
    if ok {
        bail!("`wns healthcheck` with WNS_SERVER__BIND=0.0.0.0:{other} passed though wns serves on {port}: {said}");
    }
    if !said.contains(&format!(":{other}")) {
        bail!("`wns healthcheck` failed on port {other} without naming the address it asked: {said}");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");

    #[test]
    fn the_repository_dockerfile_and_ignore_file_pass() {
        dockerfile(&std::fs::read_to_string(format!("{ROOT}/deploy/Dockerfile")).unwrap()).unwrap();
        dockerignore(&std::fs::read_to_string(format!("{ROOT}/.dockerignore")).unwrap()).unwrap();
    }

    #[test]
    fn a_dockerfile_on_a_full_distribution_with_a_port_in_its_health_check_fails() {
        let text = std::fs::read_to_string(format!("{ROOT}/deploy/Dockerfile")).unwrap();
        let debian = text.replace("gcr.io/distroless/static-debian12:nonroot", "debian:bookworm-slim");
        assert!(format!("{:#}", dockerfile(&debian).unwrap_err()).contains("FROM debian:bookworm-slim"));
        let wired = text
            .replace(r#"CMD ["/wns", "healthcheck"]"#, r#"CMD ["/bin/bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/8080"]"#);
        assert!(format!("{:#}", dockerfile(&wired).unwrap_err()).contains("HEALTHCHECK"));
        let glibc = text.replace("--target x86_64-unknown-linux-musl \\", "\\");
        assert!(format!("{:#}", dockerfile(&glibc).unwrap_err()).contains("no `RUN cargo build"));
        let continued = "FROM a AS b\nRUN cargo \\\n  build\nFROM scratch\n";
        assert_eq!(instructions(continued)[1], ("RUN".into(), "cargo  build".into()));
    }

    #[test]
    fn a_dynamic_binary_or_one_with_simulator_text_fails() {
        let err = is_static(Path::new("/bin/sh")).unwrap_err().to_string();
        assert!(err.contains("dynamically linked"), "{err}");
        let fake = std::env::temp_dir().join(format!("wns-xtask-fake-binary-{}", std::process::id()));
        std::fs::write(&fake, b"\0\0panicked at sim/src/netsuite/records.rs:12:5\0").unwrap();
        let err = has_no_simulator(&fake).unwrap_err().to_string();
        std::fs::remove_file(&fake).unwrap();
        assert!(err.contains("contains simulator code") && err.contains("sim/src/"), "{err}");
    }

    #[test]
    fn an_ignore_file_without_target_fails() {
        let err = dockerignore(".git\n*.db\nnode_modules/\n").unwrap_err();
        assert!(err.to_string().contains("does not exclude target"), "{err}");
        dockerignore("/target/\n.git\n*.db\nnode_modules/\n").unwrap();
    }
}
