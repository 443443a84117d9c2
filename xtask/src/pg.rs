//! A PostgreSQL server for tests and benchmarks, in this order: the one named by `WNS_TEST_PG`
//! (or a `postgres://` `DATABASE_URL`); one already running on 127.0.0.1:5432 that lets the
//! `postgres` user in; otherwise a private throwaway cluster (`initdb` under `target/`, a free
//! port; forced with `WNS_TEST_PG_THROWAWAY=1`), stopped and removed when the command ends. The tests create and drop a database each.

use std::{
    net::TcpListener,
    path::{Path, PathBuf},
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use anyhow::{Context, Result, bail};

use crate::{
    run, say,
    setup::{apt_install, have, is_root},
};

pub struct Postgres {
    url: String,
    origin: String,
    throwaway: Option<Throwaway>,
}

struct Throwaway {
    bin: PathBuf,
    dir: PathBuf,
}

impl Postgres {
    pub fn for_tests() -> Result<Postgres> {
        for var in ["WNS_TEST_PG", "DATABASE_URL"] {
            if let Ok(url) = std::env::var(var)
                && url.starts_with("postgres")
            {
                say(&format!("PostgreSQL: using {var}"));
                return Ok(Postgres { url, origin: var.into(), throwaway: None });
            }
        }
        if std::env::var_os("WNS_TEST_PG_THROWAWAY").is_some() {
            return Postgres::throwaway();
        }
        let local = "postgres://postgres@127.0.0.1:5432/postgres";
        if have("psql") && answers(local) {
            say("PostgreSQL: using the server already running on 127.0.0.1:5432");
            return Ok(Postgres { url: local.into(), origin: "local server on 5432".into(), throwaway: None });
        }
        Postgres::throwaway()
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn describe(&self) -> String {
        self.origin.clone()
    }

    fn throwaway() -> Result<Postgres> {
        let bin = match pg_bin_dir() {
            Some(b) => b,
            None => {
                apt_install(&["postgresql", "postgresql-client"], "a throwaway PostgreSQL for the tests")?;
                pg_bin_dir().context("PostgreSQL was installed but initdb was not found under /usr/lib/postgresql")?
            }
        };
        let root = target_dir().join("xtask-pg");
        let dir = root.join(format!("cluster-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir)?;
        let port = free_port()?;
        say(&format!(
            "PostgreSQL: starting a throwaway server from {} on port {port} (data in {})",
            bin.display(),
            dir.display()
        ));
        // initdb refuses to run as root; the Debian package's `postgres` user owns the cluster.
        let as_owner = |program: &Path| -> Command {
            if is_root() {
                let mut c = Command::new("runuser");
                c.args(["-u", "postgres", "--"]).arg(program);
                c
            } else {
                Command::new(program)
            }
        };
        if is_root() {
            run(Command::new("chown").args(["-R", "postgres:postgres"]).arg(&dir))?;
            // Every folder above the cluster must be traversable by that user.
            let mut p = dir.parent();
            while let Some(d) = p {
                let _ = Command::new("chmod").arg("o+x").arg(d).status();
                p = d.parent();
            }
        }
        let data = dir.join("data");
        run(as_owner(&bin.join("initdb"))
            .args(["-D"])
            .arg(&data)
            .args(["-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8"])
            .stdout(Stdio::null()))?;
        let opts =
            format!("-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200", dir.display());
        run(as_owner(&bin.join("pg_ctl"))
            .arg("-D")
            .arg(&data)
            .args(["-o", &opts, "-l"])
            .arg(dir.join("log"))
            .args(["-w", "start"])
            .stdout(Stdio::null()))?;
        let pg = Postgres {
            url: format!("postgres://postgres@127.0.0.1:{port}/postgres"),
            origin: format!("throwaway server on port {port}"),
            throwaway: Some(Throwaway { bin, dir }),
        };
        let start = Instant::now();
        while !tcp_open(port) {
            if start.elapsed() > Duration::from_secs(30) {
                bail!(
                    "the throwaway PostgreSQL did not start; see {}",
                    pg.throwaway.as_ref().unwrap().dir.join("log").display()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Ok(pg)
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        if let Some(t) = self.throwaway.take() {
            let mut stop = if is_root() {
                let mut c = Command::new("runuser");
                c.args(["-u", "postgres", "--"]).arg(t.bin.join("pg_ctl"));
                c
            } else {
                Command::new(t.bin.join("pg_ctl"))
            };
            let _ = stop
                .arg("-D")
                .arg(t.dir.join("data"))
                .args(["-m", "fast", "-w", "stop"])
                .stdout(Stdio::null())
                .status();
            let _ = std::fs::remove_dir_all(&t.dir);
            say("PostgreSQL: throwaway server stopped and removed");
        }
    }
}

fn answers(url: &str) -> bool {
    Command::new("psql")
        .args([url, "-Atqc", "select 1"])
        .env("PGCONNECT_TIMEOUT", "3")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// The newest `/usr/lib/postgresql/<version>/bin` with initdb, or initdb on the PATH.
fn pg_bin_dir() -> Option<PathBuf> {
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|b| b.join("initdb").is_file())
        .collect();
    versions.sort();
    versions.pop()
}

pub fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

pub fn tcp_open(port: u16) -> bool {
    std::net::TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_millis(200)).is_ok()
}

pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().join("target"))
}
