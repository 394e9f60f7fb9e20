#![allow(clippy::disallowed_methods)] // Instant::now: these tests await real `licd agent` processes.
//! `licd agent` as a real process against a real licd on loopback: activation and
//! heartbeats, the grace window and the lock after it, a clock set back, directives
//! (lock, unlock, message, a renewed key), the status API while licd is down, and the
//! agent living through a server that answers garbage, never answers, or is not TLS.
//! The server runs at the real time (the agent reads the system clock, shifted by
//! `clock_offset_secs` where a test needs another time). Heartbeats are one second
//! apart (`max_interval_secs = 1`: licd's own lease interval is at least a minute).

use crate::harness::*;
use crate::licensing::{Api, INSTALL};
use chrono::{DateTime, Duration as Days, Utc};
use serde_json::{Value, json};
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

/// A licd server that runs at the real time.
pub fn real_time_server() -> TestServer {
    let now = licd::clock::Clock::now(&licd::clock::SystemClock);
    TestServer::start_at(tempfile::tempdir().unwrap(), Some(now), |_| {})
}

/// An appliance: a temp dir with the agent's config, key file and state, and the
/// running `licd agent run` child (killed on drop).
pub struct Appliance {
    dir: tempfile::TempDir,
    pub fingerprint: String,
    child: Option<Child>,
}

impl Appliance {
    pub fn new(license_key: &str) -> Appliance {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("license.key"), format!("{license_key}\n")).unwrap();
        Appliance {
            dir,
            fingerprint: format!("BOX-{}", uuid::Uuid::new_v4().simple()),
            child: None,
        }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn socket(&self) -> PathBuf {
        self.path("run/status.sock")
    }

    pub fn config_path(&self) -> PathBuf {
        self.path("agent.toml")
    }

    /// Writes the config for `server_url` with `extra` lines.
    pub fn configure(&self, server_url: &str, extra: &str) {
        let toml = format!(
            r#"server_url = "{server_url}"
license_key_file = "{key}"
state_dir = "{state}"
product_id = "acme-test"
fingerprint = "{fp}"
heartbeat_interval_secs = 1
max_interval_secs = 1
jitter_percent = 0
backoff_max_secs = 1
request_timeout_secs = 2
socket = "{socket}"
{extra}
"#,
            key = self.path("license.key").display(),
            state = self.path("state").display(),
            fp = self.fingerprint,
            socket = self.socket().display(),
        );
        std::fs::write(self.config_path(), toml).unwrap();
    }

    /// Writes the config of a box that never reaches licd (no `server_url`).
    pub fn configure_offline(&self, extra: &str) {
        self.configure("http://unused", extra);
        let toml = std::fs::read_to_string(self.config_path())
            .unwrap()
            .replace("server_url = \"http://unused\"\n", "");
        std::fs::write(self.config_path(), toml).unwrap();
    }

    /// Runs a one-shot `licd agent ARGS --config <this box's config>`.
    pub fn cli(&self, args: &[&str]) -> std::process::Output {
        run(licd()
            .arg("agent")
            .args(args)
            .arg("--config")
            .arg(self.config_path()))
    }

    /// Starts `licd agent run` with the current config (stopping a running one).
    pub fn start(&mut self) {
        self.stop();
        let _ = std::fs::remove_file(self.socket());
        let child = licd()
            .args(["agent", "run", "--config"])
            .arg(self.config_path())
            .env("LICD_LOG", "info")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(self.path("agent.log")).unwrap())
            .spawn()
            .expect("start licd agent run");
        self.child = Some(child);
        self.wait("the status socket", |_| true);
    }

    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.path("agent.log")).unwrap_or_default()
    }

    /// Whether the agent process is still running.
    pub fn alive(&mut self) -> bool {
        matches!(self.child.as_mut().map(|c| c.try_wait()), Some(Ok(None)))
    }

    /// The status from the Unix socket, or None while it does not answer.
    pub fn try_status(&self) -> Option<Value> {
        let body = licd::agent::status_api::fetch(&self.socket()).ok()?;
        Some(serde_json::from_str(&body).expect("the status is JSON"))
    }

    /// Polls the status until `ok` holds (60 s at most: the whole suite shares the
    /// machine); returns it.
    #[track_caller]
    pub fn wait(&mut self, what: &str, ok: impl Fn(&Value) -> bool) -> Value {
        let start = Instant::now();
        let mut last = Value::Null;
        while start.elapsed() < Duration::from_secs(60) {
            if let Some(s) = self.try_status() {
                if ok(&s) {
                    return s;
                }
                last = s;
            }
            assert!(self.alive(), "the agent exited: {}", self.log());
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!(
            "waited 60 s for {what}; last status {last}\nagent log:\n{}",
            self.log()
        );
    }

    #[track_caller]
    pub fn wait_state(&mut self, state: &str) -> Value {
        self.wait(state, |s| s["state"] == state)
    }
}

impl Drop for Appliance {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Whether the product may run: valid, or grace (a heartbeat slower than three
/// intervals on a loaded machine is grace for a moment).
fn running(status: &Value) -> bool {
    status["state"] == "valid" || status["state"] == "grace"
}

fn seq(status: &Value) -> i64 {
    status["lease_seq"].as_i64().unwrap_or(0)
}

fn time(v: &Value) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(v.as_str().unwrap())
        .unwrap()
        .with_timezone(&Utc)
}

/// A license and an appliance configured for it, running and activated.
fn activated(s: &TestServer, api: &Api, extra: &str) -> (String, Appliance) {
    let license = api.issue(INSTALL, 365);
    let id = license["id"].as_str().unwrap().to_owned();
    let mut a = Appliance::new(license["license_key"].as_str().unwrap());
    a.configure(&s.base, extra);
    a.start();
    a.wait("activation and two heartbeats", |st| {
        st["state"] == "valid" && seq(st) >= 3
    });
    (id, a)
}

#[test]
fn the_agent_activates_and_heartbeats_and_says_so() {
    let s = real_time_server();
    let api = Api::new(&s);
    let usage = r#"usage_command = "echo '{\"internal_users\": 7, \"external_users\": 2}'""#;
    let (id, mut a) = activated(&s, &api, usage);
    let first = a.wait_state("valid");
    assert_eq!(first["license_id"], id.as_str(), "{first}");
    assert_eq!(
        first["internal_users"], 50,
        "granted, from the key: {first}"
    );
    assert_eq!(first["features"], json!(["sso"]));
    // The lease chain keeps growing.
    let later = a.wait("more heartbeats", |st| seq(st) >= seq(&first) + 2);
    assert!(
        time(&later["lease_expires_at"]) > Utc::now() + Days::days(13),
        "{later}"
    );
    // licd sees the box active, bound to its fingerprint, with its user counts.
    let detail = api.ok(api.get(&format!("/api/v1/licenses/{id}")));
    assert_eq!(detail["state"], "active", "{detail}");
    assert_eq!(detail["bound_fingerprint"], a.fingerprint.as_str());
    let overview = api.ok(api.get("/api/v1/licensing/heartbeats"));
    let ours: Vec<&Value> = overview["heartbeats"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| h["license_id"] == id.as_str())
        .collect();
    let counted = ours
        .iter()
        .filter(|h| h["internal_users"] == 7 && h["external_users"] == 2)
        .count();
    assert!(
        counted >= 2,
        "the usage_command's counts go with the heartbeats: {ours:?}"
    );

    // `licd agent status`, for a person and as JSON.
    let out = run(licd()
        .args(["agent", "status", "--config"])
        .arg(a.config_path()));
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    assert!(
        (t.contains("valid: licensed") || t.contains("grace: licd not reached")) && t.contains(&id),
        "{t}"
    );
    assert!(
        t.contains("50 internal, 10 external") && t.contains("sso"),
        "{t}"
    );
    let out = run(licd()
        .args(["agent", "status", "--json", "--config"])
        .arg(a.config_path()));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|_| panic!("{}", text(&out)));
    assert!(running(&v), "{v}");
    assert_eq!(v["license_id"], id.as_str());
}

#[test]
fn with_licd_gone_the_status_says_grace_then_locked_after_the_window() {
    let s = real_time_server();
    let api = Api::new(&s);
    let (_id, mut a) = activated(&s, &api, "");
    let lease_end = time(&a.wait_state("valid")["lease_expires_at"]);
    drop(s.stop());
    // The status API answers while licd is down, and counts down the grace window.
    let grace = a.wait_state("grace");
    let remaining = grace["remaining_secs"].as_i64().unwrap();
    let expected = (lease_end - Utc::now()).num_seconds();
    assert!((remaining - expected).abs() < 60, "{grace}");
    assert!(remaining > 13 * 86_400, "{grace}");
    // The last lease may have come a heartbeat or two after the one seen above.
    let until = time(&grace["until"]);
    assert!(
        until >= lease_end && until - lease_end < Days::seconds(10),
        "{grace}"
    );
    let t = text(&run(licd()
        .args(["agent", "status", "--config"])
        .arg(a.config_path())));
    assert!(t.contains("grace: licd not reached; 13d"), "{t}");

    // Fifteen days later (by the agent's clock) the window is over.
    a.configure("http://127.0.0.1:9", "clock_offset_secs = 1296000");
    a.start();
    let locked = a.wait_state("locked");
    assert_eq!(locked["reason"], "offline_too_long", "{locked}");
}

#[test]
fn a_clock_set_back_a_day_is_a_rollback_or_a_warning_as_the_vendor_chose() {
    let s = real_time_server();
    let api = Api::new(&s);
    let (_id, mut a) = activated(&s, &api, "");
    let base = s.base.clone();
    a.configure(&base, "clock_offset_secs = -86400");
    a.start();
    let rolled = a.wait_state("clock_rollback");
    let by = rolled["by_secs"].as_i64().unwrap();
    assert!((80_000..=90_000).contains(&by), "{rolled}");
    assert!(rolled["signal"].is_string(), "{rolled}");

    // With on_clock_rollback = "warn" the box keeps running, with a warning.
    a.configure(
        &base,
        "clock_offset_secs = -86400\non_clock_rollback = \"warn\"",
    );
    a.start();
    let warned = a.wait("a warning", |st| !st["clock_warning"].is_null());
    assert_ne!(warned["state"], "clock_rollback", "{warned}");
    // (valid; grace only if a heartbeat was slow on a loaded machine)
    assert!(running(&warned), "{warned}");
}

#[test]
fn lock_unlock_and_message_directives_reach_the_box() {
    let s = real_time_server();
    let api = Api::new(&s);
    let (id, mut a) = activated(&s, &api, "");
    let directives = format!("/api/v1/licenses/{id}/directives");
    api.ok(api.post(
        &directives,
        json!({"kind": "lock", "message": "invoice unpaid"}),
    ));
    let locked = a.wait_state("locked");
    assert_eq!(locked["reason"], "directive: invoice unpaid", "{locked}");
    api.ok(api.post(&directives, json!({"kind": "unlock", "message": ""})));
    a.wait_state("valid");
    api.ok(api.post(
        &directives,
        json!({"kind": "message", "message": "maintenance at 6"}),
    ));
    let told = a.wait("the message", |st| {
        st["messages"].to_string().contains("maintenance at 6")
    });
    assert!(running(&told), "{told}");
    // Repeated leases do not repeat the message.
    let later = a.wait("more heartbeats", |st| seq(st) >= seq(&told) + 3);
    assert_eq!(
        later["messages"]
            .to_string()
            .matches("maintenance at 6")
            .count(),
        1,
        "{later}"
    );
}

#[test]
fn a_renewed_key_arrives_by_directive_and_is_installed() {
    let s = real_time_server();
    let api = Api::new(&s);
    let (id, mut a) = activated(&s, &api, "");
    let before = a.wait_state("valid");
    let new_expiry = (Utc::now() + Days::days(730)).with_nanosecond_zero();
    let renewed = api.ok(api.post(
        &format!("/api/v1/licenses/{id}/renew"),
        json!({"expires_at": new_expiry.to_rfc3339()}),
    ));
    let new_key = renewed["license_key"].as_str().unwrap().to_owned();
    let key_path = a.path("license.key");
    let after = a.wait("the renewed key", |st| {
        st["license_expires_at"] != before["license_expires_at"]
    });
    assert_eq!(time(&after["license_expires_at"]), new_expiry, "{after}");
    assert_eq!(std::fs::read_to_string(&key_path).unwrap().trim(), new_key);
    assert!(
        !a.path("license.key.previous").exists(),
        "the old key is dropped once the new one verified"
    );
    assert!(
        a.log().contains("installed a renewed license key"),
        "{}",
        a.log()
    );
    assert!(running(&after), "{after}");
}

trait WholeSeconds {
    fn with_nanosecond_zero(self) -> Self;
}

impl WholeSeconds for DateTime<Utc> {
    fn with_nanosecond_zero(self) -> Self {
        DateTime::from_timestamp(self.timestamp(), 0).unwrap()
    }
}

/// A listener that answers every connection with `junk` (or never, when None).
fn fake_server(junk: Option<&'static [u8]>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            match junk {
                Some(bytes) => {
                    let mut buf = [0u8; 4096];
                    let _ = conn.set_read_timeout(Some(Duration::from_millis(200)));
                    let _ = conn.read(&mut buf);
                    let _ = conn.write_all(bytes);
                }
                // Accepts and never answers (the connection is held open).
                None => held.push(conn),
            }
        }
    });
    addr.to_string()
}

#[test]
fn the_agent_survives_garbage_silence_and_a_server_that_is_not_tls() {
    let s = real_time_server();
    let api = Api::new(&s);
    let (_id, mut a) = activated(&s, &api, "");
    drop(s.stop());
    let plain_http = fake_server(Some(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}"));
    for (name, url) in [
        (
            "garbage",
            format!("http://{}", fake_server(Some(b"\x00\xffnot http at all\r\n\r\n"))),
        ),
        (
            "garbage JSON",
            format!(
                "http://{}",
                fake_server(Some(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 9\r\n\r\n{\"lease\":"
                ))
            ),
        ),
        ("silence", format!("http://{}", fake_server(None))),
        ("not TLS", format!("https://{plain_http}")),
    ] {
        a.configure(&url, "");
        a.start();
        // Several failed contacts (timeouts are 2 s), and the agent is still there.
        let grace = a.wait(&format!("grace with {name}"), |st| st["state"] == "grace");
        std::thread::sleep(Duration::from_secs(5));
        assert!(a.alive(), "{name}: the agent died: {}", a.log());
        let still = a.try_status().expect("the status API answers");
        assert_eq!(still["state"], "grace", "{name}: {still}");
        assert!(grace["remaining_secs"].as_i64().unwrap() > 13 * 86_400);
        assert!(a.log().contains("licd not reached"), "{name}: {}", a.log());
    }
}

#[test]
fn the_status_api_answers_on_the_loopback_port_too_and_a_failing_usage_command_is_logged() {
    let s = real_time_server();
    let api = Api::new(&s);
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    // A usage_command that fails: logged, and the heartbeats go on without counts.
    let extra = format!("listen = \"127.0.0.1:{port}\"\nusage_command = \"echo oops >&2; exit 3\"");
    let (id, mut a) = activated(&s, &api, &extra);
    a.wait_state("valid");
    assert!(
        a.log().contains("no user counts for this heartbeat"),
        "{}",
        a.log()
    );
    assert!(a.log().contains("oops"), "{}", a.log());
    let overview = api.ok(api.get("/api/v1/licensing/heartbeats"));
    let ours: Vec<&Value> = overview["heartbeats"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| h["license_id"] == id.as_str())
        .collect();
    assert!(!ours.is_empty(), "{overview}");
    assert!(
        ours.iter().all(|h| h["internal_users"].is_null()),
        "{ours:?}"
    );
    let r = client()
        .get(format!("http://127.0.0.1:{port}/status"))
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = r.json().unwrap();
    assert!(running(&v), "{v}");
    let r = client()
        .get(format!("http://127.0.0.1:{port}/other"))
        .send()
        .unwrap();
    assert_eq!(r.status(), 404);
    // The socket is for the product's group only.
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(a.socket()).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o660);
}

#[test]
fn a_bad_agent_config_is_refused_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("agent.toml");
    std::fs::write(&path, "product_id = \"acme\"\nheartbeat_every = 5\n").unwrap();
    let out = run(licd().args(["agent", "run", "--config"]).arg(&path));
    assert!(!out.status.success());
    assert!(text(&out).contains("heartbeat_every"), "{}", text(&out));
    std::fs::write(&path, "product_id = \"acme\"\nlisten = \"0.0.0.0:7424\"\n").unwrap();
    let out = run(licd().args(["agent", "run", "--config"]).arg(&path));
    assert!(!out.status.success());
    assert!(
        text(&out).contains("listen must be a loopback address"),
        "{}",
        text(&out)
    );
    let out = run(licd()
        .args(["agent", "status", "--config"])
        .arg(dir.path().join("none.toml")));
    assert!(text(&out).contains("does not exist"), "{}", text(&out));
}

/// The activation's status before licd was ever reached, with no server at all.
#[test]
fn an_agent_that_never_reached_licd_is_not_activated_and_keeps_running() {
    let mut a = Appliance::new("not-a-key-yet");
    a.configure("http://127.0.0.1:9", "");
    a.start();
    let st = a.wait_state("not_activated");
    assert!(st["lease_seq"].is_null() || st["lease_seq"] == 0, "{st}");
    std::thread::sleep(Duration::from_secs(3));
    assert!(a.alive(), "{}", a.log());
}

/// The token of a transfer file, its typ checked and its claims decoded (unverified).
fn only_token(path: &std::path::Path, typ: &str) -> (String, Value) {
    let file: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert_eq!(file["format"], "licd-transfer/1", "{file}");
    let tokens = file["tokens"].as_array().unwrap();
    assert_eq!(tokens.len(), 1, "{file}");
    let token = tokens[0].as_str().unwrap().to_owned();
    let parsed = licd_client::jose::parse(&token).unwrap();
    assert_eq!(parsed.header.typ, typ);
    let claims = serde_json::from_slice(&parsed.payload).unwrap();
    (token, claims)
}

/// The air-gap commands write signed files from the box's store; what cannot be
/// imported is refused with a message naming the problem, and an edited lease store
/// is never used.
#[test]
fn the_air_gap_commands_write_signed_files_and_refuse_what_they_cannot_use() {
    use licd_client::formats::{OFFLINE_REQUEST_TYP, RELEASE_TYP, USAGE_REPORT_TYP};
    let s = real_time_server();
    let api = Api::new(&s);
    let jwks = client()
        .get(s.url("/.well-known/jwks.json"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    let license = api.issue(INSTALL, 365);
    let id = license["id"].as_str().unwrap().to_owned();
    let mut a = Appliance::new(license["license_key"].as_str().unwrap());
    std::fs::write(a.path("jwks.json"), &jwks).unwrap();
    let offline_only = format!(
        "jwks_file = \"{}\"\nusage_command = \"echo '{{\\\"internal_users\\\": 9, \\\"external_users\\\": 1}}'\"",
        a.path("jwks.json").display()
    );
    // An offline-only box (no server_url): its request names the license, the box and
    // the appliance key that signed it.
    let toml = std::fs::read_to_string({
        a.configure("http://unused", &offline_only);
        a.config_path()
    })
    .unwrap()
    .replace("server_url = \"http://unused\"\n", "");
    std::fs::write(a.config_path(), toml).unwrap();
    let config = a.config_path();
    let agent = |args: &[&str]| run(licd().arg("agent").args(args).arg("--config").arg(&config));
    // Nothing to report or release before an activation.
    let out = agent(&["usage-report", "--out", a.path("r.json").to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(text(&out).contains("no activation"), "{}", text(&out));
    let req = a.path("req.json");
    let out = agent(&["offline-request", "--out", req.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains(&id), "{}", text(&out));
    let (token, claims) = only_token(&req, OFFLINE_REQUEST_TYP);
    assert_eq!(claims["license_id"], id.as_str());
    assert_eq!(claims["fingerprint"], a.fingerprint.as_str());
    let jwk: licd_client::formats::Jwk =
        serde_json::from_value(claims["appliance_key"].clone()).unwrap();
    let key = licd_client::keys::PublicKey::from_jwk(&jwk).unwrap();
    let verified: Value = licd_client::jose::verify_typed(&token, OFFLINE_REQUEST_TYP, &[key])
        .expect("signed by the appliance key it carries");
    assert_eq!(verified, claims);

    // What the box cannot import: its own request, something that is not a transfer file.
    let out = agent(&["offline-import", req.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(
        text(&out).contains("a licd-offline-request+jwt cannot be imported here"),
        "{}",
        text(&out)
    );
    std::fs::write(a.path("junk.json"), "{\"hello\": 1}").unwrap();
    let out = agent(&["offline-import", a.path("junk.json").to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(
        text(&out).contains("not a licd transfer file"),
        "{}",
        text(&out)
    );
    // `status` without a running agent says where it asked.
    let out = agent(&["status"]);
    assert!(!out.status.success());
    assert!(
        text(&out).contains("is `licd agent run` running?"),
        "{}",
        text(&out)
    );

    // The same box online: activated, with user counts, then a usage report and a
    // release proof from its store.
    a.configure(&s.base, &offline_only);
    a.start();
    a.wait("activation and heartbeats", |st| {
        st["state"] == "valid" && seq(st) >= 2
    });
    a.stop();
    let report = a.path("report.json");
    let out = agent(&["usage-report", "--out", report.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    let (_, claims) = only_token(&report, USAGE_REPORT_TYP);
    assert_eq!(claims["report_seq"], 1);
    assert_eq!(claims["peak"]["internal_users"], 9, "{claims}");
    let human = std::fs::read_to_string(a.path("report.json.txt")).unwrap();
    assert!(human.contains(&id), "{human}");
    let release = a.path("release.json");
    let out = agent(&["release", "--out", release.to_str().unwrap()]);
    assert!(
        text(&out).contains("release is for air-gapped boxes"),
        "an agent with server_url would activate again: {}",
        text(&out)
    );
    let toml = std::fs::read_to_string(&config).unwrap();
    let without_server: String = toml
        .lines()
        .filter(|l| !l.starts_with("server_url"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&config, without_server).unwrap();
    let out = agent(&["release", "--out", release.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    let (_, claims) = only_token(&release, RELEASE_TYP);
    assert_eq!(claims["license_id"], id.as_str());
    assert_eq!(claims["final_usage"]["internal_users"], 9, "{claims}");
    let out = agent(&["release", "--out", release.to_str().unwrap()]);
    assert!(
        text(&out).contains("no activation"),
        "released once: {}",
        text(&out)
    );

    // A lease store edited by hand is never used: commands refuse it, the status says
    // locked and why.
    let store = a.path("state/leases.json");
    let original = std::fs::read_to_string(&store).unwrap();
    let edited = original.replacen("\"bundle_seq\": 0", "\"bundle_seq\": 7", 1);
    assert_ne!(edited, original, "the edit changes the store: {original}");
    std::fs::write(&store, edited).unwrap();
    let out = agent(&["usage-report", "--out", report.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(text(&out).contains("MAC does not match"), "{}", text(&out));
    a.configure("http://127.0.0.1:9", &offline_only);
    a.start();
    let locked = a.wait_state("locked");
    assert!(
        locked["reason"]
            .as_str()
            .unwrap()
            .contains("MAC does not match"),
        "{locked}"
    );
}

/// Over TLS the agent trusts the site CA it is given, and only it: with another CA
/// licd's certificate is refused, and the box goes to grace rather than anywhere else.
#[test]
fn over_tls_the_agent_trusts_the_site_ca_and_nothing_else() {
    let s = TestServer::start_at(tempfile::tempdir().unwrap(), None, |c| {
        c.tls.enabled = true;
    });
    assert!(s.base.starts_with("https://"), "{}", s.base);
    let api = Api::new(&s);
    let license = api.issue(INSTALL, 365);
    let mut a = Appliance::new(license["license_key"].as_str().unwrap());
    std::fs::write(a.path("ca.pem"), s.app.ca.cert_pem()).unwrap();
    a.configure(
        &s.base,
        &format!("ca_file = \"{}\"", a.path("ca.pem").display()),
    );
    a.start();
    a.wait("activation over TLS", |st| {
        st["state"] == "valid" && seq(st) >= 2
    });

    let other = rcgen::generate_simple_self_signed(vec!["other.example".into()]).unwrap();
    std::fs::write(a.path("other-ca.pem"), other.cert.pem()).unwrap();
    a.configure(
        &s.base,
        &format!("ca_file = \"{}\"", a.path("other-ca.pem").display()),
    );
    a.start();
    let grace = a.wait_state("grace");
    assert!(
        grace["remaining_secs"].as_i64().unwrap() > 13 * 86_400,
        "{grace}"
    );
    std::thread::sleep(Duration::from_secs(2));
    assert!(a.alive(), "{}", a.log());
    assert!(a.log().contains("licd not reached"), "{}", a.log());
}
