//! A real licd server in-process: bound to 127.0.0.1:0, with a temp data dir, a manual
//! clock, and real HTTP clients. Also helpers to run the real `licd` binary.

use chrono::{DateTime, Utc};
use licd::clock::{Clock, ManualClock, SystemClock};
use licd::config::Config;
use licd::domain::license::LicenseRequest;
use licd::domain::permissions::Role;
use licd::service::appliance::{self, ActivateRequest};
use licd::service::bootstrap::{AdminSeed, ensure_first_admin};
use licd::service::staff::NewStaffInput;
use licd::service::{Actor, App, licenses, staff, tokens};
use reqwest::blocking::{Client, Response};
use serde_json::Value;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

pub const ADMIN_EMAIL: &str = "admin@example.com";
pub const ADMIN_PASSWORD: &str = "correct-horse-battery";

/// A fixed, round starting time for tests that move the clock.
pub fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-06-01T09:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

pub struct TestServer {
    /// `http://127.0.0.1:PORT`, or `https://localhost:PORT` when the config turns TLS on.
    pub base: String,
    /// With TLS on: the plain HTTP listener (which redirects), when there is one.
    pub http_base: Option<String>,
    pub app: Arc<App>,
    pub clock: ManualClock,
    dir: Option<tempfile::TempDir>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

pub fn test_config(data_dir: &Path) -> Config {
    let mut c = Config::default();
    c.storage.data_dir = data_dir.to_owned();
    c.storage.readers = 2;
    c.server.workers = 2;
    c.server.shutdown_timeout_secs = 5;
    c.auth.max_failures_per_account = 3;
    c.auth.max_failures_per_address = 6;
    // Most tests speak plain HTTP; TLS tests turn it back on in their tweak.
    c.tls.enabled = false;
    c
}

impl TestServer {
    /// A new server with a fresh data dir and an admin whose password is already set.
    pub fn start() -> TestServer {
        Self::start_in(tempfile::tempdir().unwrap(), |_| {})
    }

    /// A server on an existing data dir (restarts), with a config tweak.
    pub fn start_in(dir: tempfile::TempDir, tweak: impl FnOnce(&mut Config)) -> TestServer {
        Self::start_at(dir, None, tweak)
    }

    /// A server whose clock starts at `start` (default: `t0()`, or the real time when
    /// the config turns TLS on, since TLS clients check certificates against it).
    pub fn start_at(
        dir: tempfile::TempDir,
        start: Option<DateTime<Utc>>,
        tweak: impl FnOnce(&mut Config),
    ) -> TestServer {
        // Server errors show up in a failing test's output.
        let _ = tracing_subscriber::fmt()
            .with_test_writer()
            .with_env_filter(std::env::var("LICD_LOG").unwrap_or_else(|_| "error".into()))
            .try_init();
        let mut config = test_config(dir.path());
        tweak(&mut config);
        // Certificates are checked against the real time, so TLS servers start now.
        let start = start.unwrap_or_else(|| {
            if config.tls.enabled {
                licd::clock::Clock::now(&licd::clock::SystemClock)
            } else {
                t0()
            }
        });
        let clock = ManualClock::new(start);
        let tls = config.tls.clone();
        let mut app = App::open(config, Arc::new(clock.clone())).expect("open app");
        // Jobs run when a test calls `licd::jobs::run_due` after moving the clock.
        let mut sockets = licd::server::Sockets {
            redirect_plain: true,
            manual_jobs: true,
            ..Default::default()
        };
        let (base, http_base) = if tls.enabled {
            app.enable_tls().expect("prepare TLS");
            let https = TcpListener::bind("127.0.0.1:0").unwrap();
            let base = format!("https://localhost:{}", https.local_addr().unwrap().port());
            sockets.https = Some(https);
            let http_base = (tls.http == licd::config::PlainHttp::Redirect).then(|| {
                let http = TcpListener::bind("127.0.0.1:0").unwrap();
                let url = format!("http://{}", http.local_addr().unwrap());
                sockets.http = Some(http);
                url
            });
            (base, http_base)
        } else {
            let http = TcpListener::bind("127.0.0.1:0").unwrap();
            let base = format!("http://{}", http.local_addr().unwrap());
            sockets.http = Some(http);
            (base, None)
        };
        let app = Arc::new(app);
        let seed = AdminSeed {
            email: Some(ADMIN_EMAIL.into()),
            password: Some(ADMIN_PASSWORD.into()),
        };
        ensure_first_admin(&app.tenants.public().unwrap(), clock.now_utc(), &seed, 12).unwrap();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let run_app = app.clone();
        let thread = std::thread::spawn(move || {
            actix_web::rt::System::new()
                .block_on(licd::server::run(run_app, sockets, async {
                    let _ = rx.await;
                }))
                .expect("server run");
        });
        let server = TestServer {
            base,
            http_base,
            app,
            clock,
            dir: Some(dir),
            shutdown: Some(tx),
            thread: Some(thread),
        };
        server.wait_ready();
        server
    }

    /// A client for this server: plain, or trusting only this server's local CA.
    pub fn client(&self) -> Client {
        if self.base.starts_with("https") {
            tls_client(self.app.ca.cert_pem())
        } else {
            client()
        }
    }

    fn wait_ready(&self) {
        // Over plain HTTP when there is a listener (a bring-your-own certificate may not
        // name localhost). The socket is bound and listening before the server starts, so
        // one request waits in the backlog until the server answers it: no polling.
        let (c, url) = match &self.http_base {
            Some(http) => (client(), format!("{http}/readyz")),
            None => (self.client(), self.url("/readyz")),
        };
        let r = c
            .get(&url)
            .timeout(Duration::from_secs(60))
            .send()
            .unwrap_or_else(|e| panic!("server did not become ready: {e}"));
        assert_eq!(
            r.status(),
            200,
            "server not ready: {}",
            r.text().unwrap_or_default()
        );
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.as_ref().unwrap().path().to_owned()
    }

    /// Stops the server gracefully and hands back its data dir.
    pub fn stop(mut self) -> tempfile::TempDir {
        self.shutdown_now();
        self.dir.take().unwrap()
    }

    fn shutdown_now(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            t.join().expect("server thread panicked");
        }
    }

    /// Creates a staff user with a set password (no forced change) and returns its id.
    pub fn create_staff(&self, email: &str, role: Role, password: &str) -> i64 {
        let t = self.app.tenants.public().unwrap();
        let input = NewStaffInput {
            email: email.into(),
            display_name: String::new(),
            role,
            password: Some(password.into()),
        };
        staff::create(&t, self.clock.now_utc(), &Actor::Cli, input, 12)
            .unwrap()
            .user
            .id
    }

    /// A bearer token for a user.
    pub fn token_for(&self, user_id: i64) -> String {
        let t = self.app.tenants.public().unwrap();
        tokens::create(&t, self.clock.now_utc(), &Actor::Cli, user_id, "test", None)
            .unwrap()
            .secret
    }

    /// A token for a new user of `role`.
    pub fn role_token(&self, role: Role) -> String {
        let email = format!(
            "{}-{}@example.com",
            role.as_str(),
            uuid::Uuid::new_v4().simple()
        );
        let id = self.create_staff(&email, role, "a-good-long-password");
        self.token_for(id)
    }

    pub fn admin_token(&self) -> String {
        let t = self.app.tenants.public().unwrap();
        let id = staff::id_by_email(&t, ADMIN_EMAIL).unwrap();
        self.token_for(id)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.shutdown_now();
    }
}

/// The clock as the tests see it.
pub trait ClockExt {
    fn now_utc(&self) -> DateTime<Utc>;
}

impl ClockExt for ManualClock {
    fn now_utc(&self) -> DateTime<Utc> {
        licd::clock::Clock::now(self)
    }
}

/// A client that keeps cookies and does not follow redirects.
pub fn client() -> Client {
    Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

/// A client that trusts only the CA in `ca_pem` (no system roots).
pub fn tls_client(ca_pem: &str) -> Client {
    tls_client_builder(ca_pem).build().unwrap()
}

pub fn tls_client_builder(ca_pem: &str) -> reqwest::blocking::ClientBuilder {
    Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(ca_pem.as_bytes()).unwrap())
}

/// Asserts a problem+json body with this status and code; returns the body.
#[track_caller]
pub fn expect_problem(resp: Response, status: u16, code: &str) -> Value {
    let got = resp.status().as_u16();
    let ct = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let text = resp.text().unwrap();
    assert_eq!(got, status, "status for body {text}");
    assert_eq!(
        ct, "application/problem+json",
        "content type for body {text}"
    );
    let body: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(body["code"], code, "code in {body}");
    assert_eq!(body["status"], status);
    assert!(
        body["title"].is_string() && body["detail"].is_string(),
        "{body}"
    );
    body
}

/// Asserts a console refusal: an HTML error page (never problem+json) with this status,
/// a message containing `says`, and a link back to `back`. Returns the page.
#[track_caller]
pub fn expect_console_refusal(resp: Response, status: u16, says: &str, back: &str) -> String {
    let got = resp.status().as_u16();
    let ct = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let html = resp.text().unwrap();
    assert_eq!(got, status, "status for page {html}");
    assert!(ct.starts_with("text/html"), "content type {ct} for {html}");
    assert!(
        html.contains("id=\"error-title\"") && html.contains(says),
        "{html}"
    );
    let link = format!("id=\"error-back\" href=\"{}\"", back.replace('&', "&amp;"));
    assert!(
        html.contains(&link),
        "the way back should be {back}: {html}"
    );
    html
}

/// Signs in over the JSON API; returns the client (holding the cookie) and CSRF token.
pub fn api_login(server: &TestServer, email: &str, password: &str) -> (Client, String) {
    let c = server.client();
    let r = c
        .post(server.url("/api/v1/auth/login"))
        .json(&serde_json::json!({"email": email, "password": password}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 200, "login failed: {}", r.text().unwrap());
    let body: Value = r.json().unwrap();
    (c, body["csrf_token"].as_str().unwrap().to_owned())
}

/// The real `licd` binary.
pub fn licd() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_licd"));
    c.env_remove("LICD_ADMIN_PASSWORD")
        .env_remove("LICD_ADMIN_EMAIL")
        .env_remove("LICD_ADMIN_PASSWORD_FILE")
        .env_remove("LICD_CONFIG")
        .env("LICD_LOG", "warn");
    c
}

pub fn run(cmd: &mut Command) -> Output {
    cmd.output().expect("run licd")
}

pub fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Changes one character in the middle of a base64url string (still valid base64url).
pub fn flip_char(s: &str) -> String {
    let mut chars: Vec<char> = s.chars().collect();
    let i = chars.len() / 2;
    chars[i] = if chars[i] == 'A' { 'B' } else { 'A' };
    chars.into_iter().collect()
}

/// (license id, activation secret, fingerprint) for `count` appliances, seeded through the
/// issuing and activation code on a closed data directory.
pub fn seed_appliances(data_dir: &Path, count: usize) -> Vec<(String, String, String)> {
    let app = App::open(test_config(data_dir), Arc::new(SystemClock)).unwrap();
    let tenant = app.tenants.public().unwrap();
    let now = SystemClock.now();
    let reqs: Vec<LicenseRequest> = (0..count)
        .map(|i| LicenseRequest {
            name: "seeded".into(),
            install_id: format!("seeded-{i}"),
            organization: "Acme".into(),
            organization_id: None,
            internal_users: 50,
            external_users: 5,
            features: vec![],
            flags: vec![],
            not_before: None,
            expires_at: now + chrono::Duration::days(30),
        })
        .collect();
    licenses::issue_many(&app, &tenant, now, &Actor::Cli, &reqs)
        .unwrap()
        .into_iter()
        .enumerate()
        .map(|(i, l)| {
            let fingerprint = format!("box-{i}");
            let req = ActivateRequest {
                license_key: l.license_key.clone(),
                fingerprint: fingerprint.clone(),
                install_id: l.install_id.clone(),
                hostname: None,
                csr: None,
            };
            let a = appliance::activate(&tenant, now, &l.id, &req, None).unwrap();
            (l.id, a.activation_secret, fingerprint)
        })
        .collect()
}

/// The real `licd serve` on `data_dir` on a free loopback port, plain HTTP, logging at
/// `log` to `stderr`; returned once `/readyz` answers.
pub fn serve_process(data_dir: &Path, log: &str, stderr: Stdio) -> (Child, String) {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = licd()
        .args(["serve", "--data-dir", data_dir.to_str().unwrap()])
        .env("LICD_TLS__ENABLED", "false")
        .env("LICD_SERVER__LISTEN", format!("127.0.0.1:{port}"))
        .env("LICD_LOG", log)
        .stdout(Stdio::null())
        .stderr(stderr)
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let c = client();
    for _ in 0..400 {
        if c.get(format!("{base}/readyz"))
            .send()
            .is_ok_and(|r| r.status() == 200)
        {
            return (child, base);
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("licd serve never became ready");
}
