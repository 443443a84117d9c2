//! A throwaway WordPress 6.1 (Debian's `wordpress` package) + WooCommerce 7.9 (`vendor/`) + the
//! `wns-sync` plugin on MariaDB, served by `php -S` on a free port: `cargo xtask wp` for trying by
//! hand, [`TestStore`] for `cargo xtask test`.
//!
//! Each store gets its own folder under `target/xtask-wp/`, its own database and MariaDB user.
//! Cleaning up is the job of a small guard shell in its own process group that waits for xtask's
//! end (its stdin closes, whether xtask returns, fails or is stopped by Ctrl-C) and then stops the
//! php server's whole process group, drops the database and the user, removes the folder and
//! stops MariaDB when xtask started it.

use std::{
    fs,
    io::{Read, Write},
    net::TcpStream,
    os::unix::{fs::symlink, process::CommandExt},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use anyhow::{Context, Result, bail};

use crate::{
    pg::{free_port, target_dir},
    say,
    setup::{apt_install, is_root},
};

const WOOCOMMERCE: &str = "woocommerce-7.9.0";
const WOOCOMMERCE_SHA256: &str = "4b6339f799fc37ed1888a8321c96fa82c9d1e03408caf5a0f9b19eabe1770254";
const PACKAGES: &[&str] = &[
    "wordpress",
    "wordpress-theme-twentytwentythree",
    "mariadb-server",
    "mariadb-client",
    "php-cli",
    "php-mysql",
    "php-xml",
    "php-mbstring",
    "php-curl",
    "php-gd",
    "php-intl",
    "php-zip",
    "php-bcmath",
    "phpunit",
    // The widget's end-to-end test: headless Chromium driven through chromedriver.
    "chromium",
    "chromium-driver",
];

const ROUTER: &str = include_str!("../wp/router.php");
const MU_PLUGIN: &str = include_str!("../wp/mu-test-site.php");
const SETUP: &str = include_str!("../wp/setup.php");

/// A running store; dropping it stops and removes everything it started.
pub struct TestStore {
    pub url: String,
    pub admin_url: String,
    pub admin_user: String,
    pub admin_password: String,
    pub consumer_key: String,
    pub consumer_secret: String,
    pub hpos: bool,
    /// The WordPress folder (wp-load.php, store.json, debug.log, server.log).
    pub dir: PathBuf,
    guard: Option<Child>,
}

impl TestStore {
    pub fn start(hpos: bool) -> Result<TestStore> {
        let started = Instant::now();
        packages()?;
        let woocommerce = unpacked_woocommerce()?;
        let started_mariadb = mariadb()?;
        let id = format!("{}_{}", std::process::id(), started.elapsed().as_nanos() % 100_000);
        let root = target_dir().join("xtask-wp");
        let dir = root.join(format!("site-{id}"));
        let db = format!("wns_wp_{id}");
        let db_password = random_hex(16)?;
        let port = free_port()?;
        let url = format!("http://127.0.0.1:{port}");

        // The guard first, so that whatever fails from here on is cleaned up.
        let guard = Command::new("sh")
            .arg("-c")
            .arg(GUARD)
            .arg("wns-wp-guard")
            .arg(&dir)
            .arg(&db)
            .arg(started_mariadb.map(|p| p.to_string()).unwrap_or_default())
            .stdin(Stdio::piped())
            .process_group(0)
            .spawn()
            .context("starting the cleanup guard (sh)")?;
        let mut store = TestStore {
            url: url.clone(),
            admin_url: format!("{url}/wp-admin/"),
            admin_user: String::new(),
            admin_password: String::new(),
            consumer_key: String::new(),
            consumer_secret: String::new(),
            hpos,
            dir: dir.clone(),
            guard: None,
        };
        let announce = |guard: &mut Child, line: String| -> Result<()> {
            let stdin = guard.stdin.as_mut().context("the guard's stdin")?;
            writeln!(stdin, "{line}").context("telling the cleanup guard")
        };
        store.guard = Some(guard);
        let guard = store.guard.as_mut().expect("just set");

        mysql(&format!(
            "CREATE DATABASE `{db}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci; \
             CREATE USER '{db}'@'127.0.0.1' IDENTIFIED BY '{db_password}'; \
             GRANT ALL PRIVILEGES ON `{db}`.* TO '{db}'@'127.0.0.1';"
        ))?;

        fs::create_dir_all(&root)?;
        copy(Path::new("/usr/share/wordpress"), &dir)?;
        fs::remove_file(dir.join("wp-config.php")).ok();
        fs::remove_file(dir.join(".htaccess")).ok();
        let content = dir.join("wp-content");
        let themes = Path::new("/usr/share/wordpress/wp-content/themes");
        if themes.is_dir() && fs::read_dir(themes)?.next().is_none() {
            // Debian's theme packages put their themes in /var/lib/wordpress/wp-content/themes.
            copy(Path::new("/var/lib/wordpress/wp-content/themes"), &content.join("themes")).ok();
        }
        fs::create_dir_all(content.join("plugins"))?;
        fs::create_dir_all(content.join("mu-plugins"))?;
        fs::create_dir_all(content.join("uploads"))?;
        symlink(&woocommerce, content.join("plugins/woocommerce"))?;
        symlink(repo_dir().join("wp-plugin/wns-sync"), content.join("plugins/wns-sync"))?;
        fs::write(content.join("mu-plugins/wns-test-site.php"), MU_PLUGIN)?;
        fs::write(dir.join("router.php"), ROUTER)?;
        fs::write(dir.join("setup.php"), SETUP)?;
        fs::write(dir.join("wp-config.php"), wp_config(&db, &db_password, &url)?)?;

        let server = Command::new("php")
            .args(["-S", &format!("127.0.0.1:{port}"), "router.php"])
            .current_dir(&dir)
            .env("PHP_CLI_SERVER_WORKERS", "4")
            .stdin(Stdio::null())
            .stdout(fs::File::create(dir.join("server.log"))?)
            .stderr(fs::File::create(dir.join("server.err.log"))?)
            .process_group(0)
            .spawn()
            .context("starting php -S")?;
        announce(guard, format!("server {}", server.id()))?;

        let core = store.php_setup(&["core"])?;
        store.admin_user = field(&core, "admin_user")?;
        store.admin_password = field(&core, "admin_password")?;
        store.php_setup(&["plugins"])?;
        let mut seed = vec!["seed"];
        if hpos {
            seed.push("hpos");
        }
        let seeded = store.php_setup(&seed)?;
        store.consumer_key = field(&seeded, "consumer_key")?;
        store.consumer_secret = field(&seeded, "consumer_secret")?;
        store.wait_until_serving(Duration::from_secs(30))?;
        say(&format!(
            "WordPress + WooCommerce 7.9 ({} orders) ready at {url} in {:.1} s",
            if hpos { "HPOS" } else { "posts-stored" },
            started.elapsed().as_secs_f64()
        ));
        Ok(store)
    }

    /// `store.json`: everything PHP tests need (URL, users, keys, product ids by SKU).
    pub fn info_file(&self) -> PathBuf {
        self.dir.join("store.json")
    }

    fn php_setup(&self, args: &[&str]) -> Result<String> {
        let out = Command::new("php")
            .arg("setup.php")
            .args(args)
            .current_dir(&self.dir)
            .env("WNS_WP_URL", &self.url)
            .env("WNS_WP_ADMIN_PASSWORD", &self.admin_password)
            .output()
            .context("running php")?;
        if !out.status.success() {
            bail!(
                "setting up the store failed in phase `{}`: {}{}\n(WordPress's log: {})",
                args.join(" "),
                String::from_utf8_lossy(&out.stderr),
                String::from_utf8_lossy(&out.stdout),
                self.dir.join("debug.log").display()
            );
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    fn wait_until_serving(&self, limit: Duration) -> Result<()> {
        let deadline = Instant::now() + limit;
        let port: u16 = self.url.rsplit(':').next().and_then(|p| p.parse().ok()).context("port")?;
        loop {
            if let Ok(status) = http_status(port, "/wp-json/wc/v3") {
                // 200 (index) or 401: WordPress and WooCommerce answer.
                if status == 200 || status == 401 {
                    return Ok(());
                }
            }
            if Instant::now() > deadline {
                bail!(
                    "php -S on {} did not answer /wp-json/wc/v3 within {} s; see {}",
                    self.url,
                    limit.as_secs(),
                    self.dir.join("server.err.log").display()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for TestStore {
    fn drop(&mut self) {
        if let Some(mut guard) = self.guard.take() {
            drop(guard.stdin.take());
            let _ = guard.wait();
        }
    }
}

/// Waits for its stdin to close, then stops and removes what xtask started. Arguments: the site
/// folder, the database (also the MariaDB user's name), MariaDB's pid when xtask started it.
/// xtask writes `server <pid>` once php -S runs.
const GUARD: &str = r#"
server=""
while read -r what value; do
  [ "$what" = server ] && server="$value"
done
if [ -n "$server" ]; then
  kill -TERM "-$server" 2>/dev/null
  for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "-$server" 2>/dev/null || break; sleep 0.2; done
  kill -KILL "-$server" 2>/dev/null
fi
mysql -u root -e "DROP DATABASE IF EXISTS \`$2\`; DROP USER IF EXISTS '$2'@'127.0.0.1';" 2>/dev/null
# Removing a few thousand files can take seconds on a busy disk; nothing waits for it.
rm -rf -- "$1" &
if [ -n "$3" ]; then mysqladmin -u root shutdown 2>/dev/null || kill "$3" 2>/dev/null; fi
"#;

/// `cargo xtask wp [--hpos]`: a store to try by hand, until Ctrl-C.
pub fn serve(args: &[String]) -> Result<()> {
    let mut hpos = false;
    for a in args.iter().filter(|a| *a != "--") {
        match a.as_str() {
            "--hpos" => hpos = true,
            other => bail!("unknown option {other:?}; use `cargo xtask wp [--hpos]`"),
        }
    }
    let store = TestStore::start(hpos)?;
    println!("WordPress admin: {}", store.admin_url);
    println!("user:            {}", store.admin_user);
    println!("password:        {}", store.admin_password);
    println!("REST keys:       {} / {}", store.consumer_key, store.consumer_secret);
    println!("orders stored:   {}", if store.hpos { "HPOS tables" } else { "posts (HPOS off; --hpos turns it on)" });
    println!("store details:   {} (WordPress's log: debug.log beside it)", store.info_file().display());
    println!("Ctrl-C stops the server and drops its database.");
    loop {
        std::thread::sleep(Duration::from_secs(3600));
    }
}

fn repo_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask lives in the repository").to_path_buf()
}

fn installed(package: &str) -> bool {
    Command::new("dpkg-query")
        .args(["-W", "-f=${Status}", package])
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("install ok installed"))
}

fn packages() -> Result<()> {
    let missing: Vec<&str> = PACKAGES.iter().copied().filter(|p| !installed(p)).collect();
    if !missing.is_empty() {
        apt_install(&missing, "the WordPress + WooCommerce test store")?;
    }
    Ok(())
}

/// `vendor/woocommerce-7.9.0.tar.xz`, its checksum verified, unpacked once under `target/`.
fn unpacked_woocommerce() -> Result<PathBuf> {
    let cache = target_dir().join("xtask-wp").join(WOOCOMMERCE);
    let plugin = cache.join("wp-content/plugins/woocommerce");
    if cache.join(".verified").is_file() && plugin.join("woocommerce.php").is_file() {
        return Ok(plugin);
    }
    let tarball = repo_dir().join("vendor").join(format!("{WOOCOMMERCE}.tar.xz"));
    if !tarball.is_file() {
        bail!("{} is missing; it is part of the repository (git checkout -- vendor/)", tarball.display());
    }
    let out = Command::new("sha256sum").arg(&tarball).output().context("running sha256sum")?;
    let sum = String::from_utf8_lossy(&out.stdout).split_whitespace().next().unwrap_or_default().to_string();
    if sum != WOOCOMMERCE_SHA256 {
        bail!(
            "{} has sha256 {sum}, expected {WOOCOMMERCE_SHA256}: the file is damaged or not WooCommerce 7.9.0; restore it with `git checkout -- vendor/`",
            tarball.display()
        );
    }
    say(&format!("unpacking {} (sha256 verified) into {}", tarball.display(), cache.display()));
    let _ = fs::remove_dir_all(&cache);
    fs::create_dir_all(&cache)?;
    let status = Command::new("tar").arg("-xJf").arg(&tarball).arg("-C").arg(&cache).status()?;
    if !status.success() || !plugin.join("woocommerce.php").is_file() {
        bail!("unpacking {} did not give wp-content/plugins/woocommerce/", tarball.display());
    }
    fs::write(cache.join(".verified"), WOOCOMMERCE_SHA256)?;
    Ok(plugin)
}

/// Makes sure MariaDB answers; starts it when it does not. Returns its pid when xtask started it.
fn mariadb() -> Result<Option<u32>> {
    let ping = || {
        Command::new("mysqladmin")
            .args(["-u", "root", "--connect-timeout=2", "ping"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    if ping() {
        return Ok(None);
    }
    if !is_root() {
        bail!("MariaDB is not running; start it (sudo service mariadb start) and run this command again");
    }
    say("MariaDB is not running: starting /usr/sbin/mariadbd (stopped again at the end)");
    fs::create_dir_all("/run/mysqld")?;
    crate::run(Command::new("chown").args(["mysql:mysql", "/run/mysqld"]))?;
    let child = Command::new("/usr/sbin/mariadbd")
        .arg("--user=mysql")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .context("starting mariadbd")?;
    let deadline = Instant::now() + Duration::from_secs(30);
    while !ping() {
        if Instant::now() > deadline {
            bail!("mariadbd did not answer `mysqladmin ping` within 30 s; see /var/log/mysql/ or journalctl");
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    Ok(Some(child.id()))
}

fn mysql(sql: &str) -> Result<()> {
    let out = Command::new("mysql").args(["-u", "root", "-e", sql]).output().context("running mysql")?;
    if !out.status.success() {
        bail!(
            "MariaDB refused `{sql}`: {}\n(xtask talks to MariaDB as root over its unix socket; run as root)",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(())
}

/// `cp -a`.
fn copy(from: &Path, to: &Path) -> Result<()> {
    let mut cmd = Command::new("cp");
    cmd.arg("-a").arg(from).arg(to);
    let status = cmd.status().context("running cp")?;
    if !status.success() {
        bail!("copying {} to {} failed", from.display(), to.display());
    }
    Ok(())
}

fn random_hex(bytes: usize) -> Result<String> {
    let mut buf = vec![0u8; bytes];
    fs::File::open("/dev/urandom")?.read_exact(&mut buf)?;
    Ok(buf.iter().map(|b| format!("{b:02x}")).collect())
}

fn wp_config(db: &str, password: &str, url: &str) -> Result<String> {
    let mut salts = String::new();
    for name in [
        "AUTH_KEY",
        "SECURE_AUTH_KEY",
        "LOGGED_IN_KEY",
        "NONCE_KEY",
        "AUTH_SALT",
        "SECURE_AUTH_SALT",
        "LOGGED_IN_SALT",
        "NONCE_SALT",
    ] {
        salts.push_str(&format!("define( '{name}', '{}' );\n", random_hex(32)?));
    }
    Ok(format!(
        r#"<?php
// Written by `cargo xtask wp` for a throwaway test store; removed with it.
define( 'DB_NAME', '{db}' );
define( 'DB_USER', '{db}' );
define( 'DB_PASSWORD', '{password}' );
define( 'DB_HOST', '127.0.0.1:3306' );
define( 'DB_CHARSET', 'utf8mb4' );
define( 'DB_COLLATE', '' );
{salts}$table_prefix = 'wp_';
define( 'WP_HOME', '{url}' );
define( 'WP_SITEURL', '{url}' );
define( 'WP_CONTENT_DIR', __DIR__ . '/wp-content' );
define( 'WP_CONTENT_URL', '{url}/wp-content' );
define( 'DISABLE_WP_CRON', true );
define( 'DISALLOW_FILE_MODS', true );
define( 'AUTOMATIC_UPDATER_DISABLED', true );
define( 'WP_ENVIRONMENT_TYPE', 'local' );
define( 'WP_DEBUG', true );
define( 'WP_DEBUG_LOG', __DIR__ . '/debug.log' );
define( 'WP_DEBUG_DISPLAY', false );
@ini_set( 'display_errors', '0' );
if ( ! defined( 'ABSPATH' ) ) {{
	define( 'ABSPATH', __DIR__ . '/' );
}}
require_once ABSPATH . 'wp-settings.php';
"#
    ))
}

fn field(output: &str, name: &str) -> Result<String> {
    output
        .lines()
        .find_map(|l| l.strip_prefix(name).and_then(|r| r.strip_prefix('=')))
        .map(str::to_string)
        .with_context(|| format!("the store's setup printed no `{name}`: {output}"))
}

/// A bare HTTP/1.0 GET on 127.0.0.1 (xtask has no HTTP client); the status code.
fn http_status(port: u16, path: &str) -> Result<u16> {
    let mut s = TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_millis(500))?;
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\n\r\n")?;
    let mut head = [0u8; 12];
    s.read_exact(&mut head)?;
    let text = String::from_utf8_lossy(&head);
    text.get(9..12).and_then(|c| c.parse().ok()).context("not an HTTP answer")
}

/// `cargo xtask plugin`: `target/wns-sync.zip`, installable from WordPress's "Upload Plugin", with
/// the widget's files when `wp-plugin/wns-sync/assets/pkg/` holds them (else the plugin shows its
/// notice on its screens).
pub fn zip() -> Result<()> {
    if !crate::setup::have("zip") {
        apt_install(&["zip"], "packing the WordPress plugin")?;
    }
    let plugin = repo_dir().join("wp-plugin");
    let out = target_dir().join("wns-sync.zip");
    fs::create_dir_all(target_dir())?;
    let _ = fs::remove_file(&out);
    crate::run(
        Command::new("zip")
            .args(["-q", "-r", "-X"])
            .arg(&out)
            .arg("wns-sync")
            .args(["-x", "*/.*", "*~"])
            .current_dir(&plugin),
    )?;
    let widget = plugin.join("wns-sync/assets/pkg").join("wns_widget_bg.wasm").is_file();
    say(&format!(
        "{} written{}",
        out.display(),
        if widget {
            " with the widget"
        } else {
            " without the widget (not built yet: wp-plugin/wns-sync/assets/pkg/ is empty); its screens show a notice"
        }
    ));
    Ok(())
}
