#![allow(clippy::disallowed_methods)] // Instant::now: these tests await real `licd` processes.
//! What the command line says: exit codes, times, the limits of an offline check, the
//! trusted-issuer files named by `check-config` and `serve`, and quiet logs. Every test
//! runs the real `licd` binary. (That every flag has a help text is a unit test beside
//! the parser, in src/cli/mod.rs, since it walks `Cli::command()`.)

use crate::harness::*;
use crate::licensing::{Api, INSTALL};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

/// A wrong command line exits 64 (EX_USAGE), never 2: `license verify` uses 2 for a
/// malformed key.
const USAGE: i32 = 64;

fn key_file(dir: &std::path::Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let pair = licd::pki::KeyPair::generate().unwrap();
    let private = dir.join("signing.pem");
    std::fs::write(&private, pair.to_pkcs8_pem().unwrap().as_bytes()).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&private, std::fs::Permissions::from_mode(0o600)).unwrap();
    let public = dir.join("public.pem");
    std::fs::write(&public, pair.public().to_pem().unwrap()).unwrap();
    (private, public)
}

#[test]
fn verify_without_keys_is_a_usage_error_naming_what_is_missing() {
    let out = run(licd().args(["license", "verify", "eyJhbGciOiJFUzI1NiJ9.e30.c2ln"]));
    let t = text(&out);
    assert_eq!(out.status.code(), Some(USAGE), "{t}");
    assert!(t.contains("--jwks") && t.contains("--public-key"), "{t}");
    assert!(!t.contains("INVALID"), "{t}");
    // Any other wrong command line is a usage error too, not "malformed".
    let out = run(licd().args(["license", "verify", "--jwk", "x.json", "KEY"]));
    assert_eq!(out.status.code(), Some(USAGE), "{}", text(&out));
    let out = run(licd().args(["admin", "create", "--email"]));
    assert_eq!(out.status.code(), Some(USAGE), "{}", text(&out));
    // Help and version still exit 0.
    for args in [&["license", "verify", "--help"][..], &["--version"][..]] {
        let out = run(licd().args(args));
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    }
}

#[test]
fn verify_shows_rfc3339_times_and_says_revocation_is_not_checked() {
    let s = TestServer::start();
    let api = Api::new(&s);
    let license = api.issue(INSTALL, 365);
    let id = license["id"].as_str().unwrap().to_owned();
    let key = license["license_key"].as_str().unwrap().to_owned();
    api.ok(api.post(
        &format!("/api/v1/licenses/{id}/revoke"),
        json!({"reason": "stolen"}),
    ));
    let jwks: Value = client()
        .get(s.url("/.well-known/jwks.json"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let jwks_file = dir.path().join("jwks.json");
    std::fs::write(&jwks_file, jwks.to_string()).unwrap();
    let verify = |extra: &[&str], k: &str| -> Output {
        run(licd()
            .args(["license", "verify", "--jwks"])
            .arg(&jwks_file)
            .args(extra)
            .arg(k))
    };
    // Issued on the test clock (t0) for a year.
    let issued = t0();
    let expires = issued + chrono::Duration::days(365);
    let rfc =
        |t: chrono::DateTime<chrono::Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);

    let out = verify(&["--install-id", INSTALL], &key);
    let t = text(&out);
    assert_eq!(out.status.code(), Some(0), "{t}");
    assert!(t.contains(&rfc(issued)) && t.contains(&rfc(expires)), "{t}");
    assert!(
        !t.contains(&expires.timestamp().to_string()),
        "raw epoch: {t}"
    );
    assert!(t.contains("VALID"), "{t}");
    assert!(
        t.contains("revocation is not visible offline: ask the server"),
        "{t}"
    );
    assert!(t.contains(&id), "{t}");
    // Without --install-id the output says the Install ID was not checked.
    let t = text(&verify(&[], &key));
    assert!(t.contains("Install ID not checked"), "{t}");

    // --json: one JSON document with the verdict, the raw claims and RFC 3339 times.
    let out = verify(&["--json", "--install-id", INSTALL], &key);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["verdict"], "valid");
    assert_eq!(v["claims"]["exp"], expires.timestamp());
    assert_eq!(v["expires_at"], rfc(expires));
    assert_eq!(v["issued_at"], rfc(issued));
    assert_eq!(v["revocation_checked"], false);
    assert!(v["note"].as_str().unwrap().contains("revocation"), "{v}");
    let out = verify(&["--json"], "not-a-key");
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["verdict"], "malformed");
    assert!(v["detail"].as_str().is_some(), "{v}");
}

#[test]
fn sign_requires_a_user_count_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let (private, public) = key_file(dir.path());
    let sign = |extra: &[&str]| -> Output {
        run(licd()
            .args(["license", "sign", "--key"])
            .arg(&private)
            .args(["--install-id", INSTALL, "--name", "Offline", "--days", "30"])
            .args(extra))
    };
    let out = sign(&[]);
    let t = text(&out);
    assert_eq!(out.status.code(), Some(USAGE), "{t}");
    assert!(
        t.contains("--internal-users") && t.contains("--external-users"),
        "{t}"
    );
    // One of the two is enough; the other is 0.
    let out = sign(&["--external-users", "3"]);
    assert!(out.status.success(), "{}", text(&out));
    let signed = String::from_utf8(out.stdout).unwrap();
    let out = run(licd()
        .args(["license", "verify", "--json", "--public-key"])
        .arg(&public)
        .arg(signed.trim()));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["claims"]["internal_users"], 0, "{v}");
    assert_eq!(v["claims"]["external_users"], 3, "{v}");
}

#[test]
fn check_config_and_serve_name_a_bad_trusted_issuer_file() {
    let dir = tempfile::tempdir().unwrap();
    let (_, public) = key_file(dir.path());
    let config = |issuer: &std::path::Path| {
        let file = dir.path().join("licd.toml");
        std::fs::write(
            &file,
            format!(
                "[licensing]\ntrusted_issuers = [{:?}]\n",
                issuer.to_str().unwrap()
            ),
        )
        .unwrap();
        file
    };
    let missing = dir.path().join("vendor.jwks");
    let file = config(&missing);
    let out = run(licd().arg("check-config").arg(&file));
    let t = text(&out);
    assert!(!out.status.success(), "{t}");
    assert!(
        t.contains("licensing.trusted_issuers") && t.contains("vendor.jwks"),
        "{t}"
    );
    assert!(!t.contains("configuration is valid"), "{t}");

    // serve names the file as a configuration problem, not the data directory.
    let data = dir.path().join("data");
    let out = run(licd()
        .args(["serve", "--config"])
        .arg(&file)
        .arg("--data-dir")
        .arg(&data)
        .args(["--listen", "127.0.0.1:0", "--listen-https", "127.0.0.1:0"]));
    let t = text(&out);
    assert!(!out.status.success(), "{t}");
    assert!(t.contains("vendor.jwks"), "{t}");
    assert!(!t.contains("opening the data directory"), "{t}");

    // A file that is neither a JWKS nor a PEM public key is named too.
    std::fs::write(&missing, "{\"keys\": 7}").unwrap();
    let out = run(licd().arg("check-config").arg(&file));
    let t = text(&out);
    assert!(!out.status.success(), "{t}");
    assert!(t.contains("vendor.jwks is not a JWKS"), "{t}");
    let garbage = dir.path().join("vendor.pem");
    std::fs::write(&garbage, "not a key").unwrap();
    let out = run(licd().arg("check-config").arg(config(&garbage)));
    let t = text(&out);
    assert!(!out.status.success(), "{t}");
    assert!(t.contains("vendor.pem is not a PEM public key"), "{t}");

    // A good one passes and is listed.
    let out = run(licd().arg("check-config").arg(config(&public)));
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    assert!(t.contains("public.pem (1 key)"), "{t}");
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Runs `licd serve` (plain HTTP) with the `LICD_LOG` filter, asks for a static file and
/// /healthz, stops it with SIGTERM and returns what it logged.
fn serve_log(data: &std::path::Path, filter: &str) -> String {
    let port = free_port();
    let mut child = licd()
        .arg("serve")
        .arg("--data-dir")
        .arg(data)
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .env("LICD_TLS__ENABLED", "false")
        .env("LICD_LOG", filter)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        BufReader::new(stderr)
            .lines()
            .map(|l| l.unwrap_or_default() + "\n")
            .collect::<String>()
    });
    let c = client();
    let base = format!("http://127.0.0.1:{port}");
    let started = Instant::now();
    while c
        .get(format!("{base}/readyz"))
        .send()
        .map(|r| r.status() != 200)
        .unwrap_or(true)
    {
        assert!(started.elapsed() < Duration::from_secs(20), "no /readyz");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(
        c.get(format!("{base}/static/app.css"))
            .send()
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        c.get(format!("{base}/healthz")).send().unwrap().status(),
        200
    );
    let kill = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    assert!(child.wait().unwrap().success());
    reader.join().unwrap()
}

#[test]
fn info_logs_leave_out_template_databases_static_files_and_workers() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let out = run(licd()
        .arg("init")
        .arg("--data-dir")
        .arg(&data)
        .env("LICD_LOG", "info")
        .env("LICD_ADMIN_PASSWORD", "a-long-enough-password"));
    assert!(out.status.success(), "{}", text(&out));
    // Later commands rebuild template.db quietly.
    let out = run(licd()
        .args([
            "admin",
            "create",
            "--email",
            "x@example.com",
            "--role",
            "support",
        ])
        .arg("--data-dir")
        .arg(&data)
        .env("LICD_LOG", "info"));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(!err.contains("template.db"), "{err}");
    assert!(!err.contains("INFO"), "{err}");

    let log = serve_log(&data, "info");
    assert!(log.contains("path=/healthz"), "{log}");
    assert!(!log.contains("path=/static/"), "{log}");
    assert!(!log.contains("template.db"), "{log}");
    assert!(!log.contains("actix_server"), "{log}");
    assert!(log.contains("licd is listening"), "{log}");
    // They are still there at debug.
    let log = serve_log(&data, "debug");
    assert!(log.contains("path=/static/app.css"), "{log}");
    assert!(log.contains("actix_server"), "{log}");
    assert!(log.contains("template.db"), "{log}");
}
