#![allow(clippy::disallowed_methods)] // Instant::now: these tests await real `licd` processes.
use crate::harness::*;
use serde_json::json;
use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::{Duration, Instant};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn otp_from(output: &str) -> String {
    let line = output
        .lines()
        .skip_while(|l| !l.contains("One-time password"))
        .find(|l| l.trim().len() == 24 && l.trim().matches('-').count() == 4)
        .unwrap_or_else(|| panic!("no one-time password in: {output}"));
    line.trim().to_owned()
}

#[test]
fn init_with_generated_password_forces_a_change() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let out = run(licd().args([
        "init",
        "--data-dir",
        data.to_str().unwrap(),
        "--admin-email",
        "boss@example.com",
    ]));
    assert!(out.status.success(), "{}", text(&out));
    let otp = otp_from(&text(&out));
    assert!(data.join("registry.db").exists() && data.join("tenants/public.db").exists());
    assert!(data.join("template.db").exists());
    // A second init changes nothing.
    let again = run(licd().args(["init", "--data-dir", data.to_str().unwrap()]));
    assert!(again.status.success());
    assert!(text(&again).contains("already initialised"));

    let dir = tempfile::TempDir::new().unwrap();
    std::fs::remove_dir(dir.path()).unwrap();
    std::fs::rename(&data, dir.path()).unwrap();
    let s = TestServer::start_in(dir, |_| {});
    let (c, csrf) = api_login(&s, "boss@example.com", &otp);
    expect_problem(
        c.get(s.url("/api/v1/users")).send().unwrap(),
        403,
        "password_change_required",
    );
    let me: serde_json::Value = c.get(s.url("/api/v1/me")).send().unwrap().json().unwrap();
    assert_eq!(me["user"]["must_change_password"], true);
    let r = c
        .post(s.url("/api/v1/auth/password"))
        .header("x-csrf-token", &csrf)
        .json(&json!({"current_password": otp, "new_password": "my-own-good-password"}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(c.get(s.url("/api/v1/users")).send().unwrap().status(), 200);
}

#[test]
fn init_with_password_from_env_and_file() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("a");
    let out = run(licd()
        .args(["init", "--data-dir", data.to_str().unwrap()])
        .env("LICD_ADMIN_EMAIL", "env@example.com")
        .env("LICD_ADMIN_PASSWORD", "password-from-env"));
    assert!(out.status.success(), "{}", text(&out));
    assert!(!text(&out).contains("One-time password"));
    assert!(text(&out).contains("env@example.com"));

    let pw_file = dir.path().join("pw");
    std::fs::write(&pw_file, "password-from-file\n").unwrap();
    let data_b = dir.path().join("b");
    let out = run(licd()
        .args([
            "init",
            "--data-dir",
            data_b.to_str().unwrap(),
            "--admin-email",
            "file@example.com",
        ])
        .env("LICD_ADMIN_PASSWORD_FILE", &pw_file));
    assert!(out.status.success(), "{}", text(&out));

    // A password that breaks the policy is refused by name.
    let out = run(licd()
        .args(["init", "--data-dir", dir.path().join("c").to_str().unwrap()])
        .env("LICD_ADMIN_PASSWORD", "short"));
    assert!(!out.status.success());
    assert!(
        text(&out).contains("password: must be at least 12 characters"),
        "{}",
        text(&out)
    );

    for (d, email, pw) in [
        (data, "env@example.com", "password-from-env"),
        (data_b, "file@example.com", "password-from-file"),
    ] {
        let holder = tempfile::TempDir::new().unwrap();
        std::fs::remove_dir(holder.path()).unwrap();
        std::fs::rename(&d, holder.path()).unwrap();
        let s = TestServer::start_in(holder, |_| {});
        let (c, _) = api_login(&s, email, pw);
        assert_eq!(c.get(s.url("/api/v1/users")).send().unwrap().status(), 200);
    }
}

/// The real binary: first `serve` on an empty dir bootstraps and prints the one-time
/// password, answers /readyz, and stops cleanly on SIGTERM.
#[test]
fn serve_bootstraps_and_shuts_down_gracefully() {
    let dir = tempfile::tempdir().unwrap();
    let (port, https_port) = (free_port(), free_port());
    let mut child = licd()
        .args([
            "serve",
            "--data-dir",
            dir.path().to_str().unwrap(),
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--listen-https",
            &format!("127.0.0.1:{https_port}"),
        ])
        .env("LICD_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let _ = tx.send(line.unwrap_or_default());
        }
    });
    let started = Instant::now();
    // Plain HTTP answers the health checks; everything else is HTTPS with the local CA.
    let plain = client();
    while plain
        .get(format!("http://127.0.0.1:{port}/readyz"))
        .send()
        .map(|r| r.status() != 200)
        .unwrap_or(true)
    {
        assert!(started.elapsed() < Duration::from_secs(20), "no /readyz");
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut log = String::new();
    while let Ok(l) = rx.recv_timeout(Duration::from_millis(300)) {
        log.push_str(&l);
        log.push('\n');
    }
    let ca = std::fs::read_to_string(dir.path().join("ca/ca.pem")).unwrap();
    let c = crate::harness::tls_client(&ca);
    let url = format!("https://localhost:{https_port}");
    let otp = otp_from(&log);
    assert!(
        log.contains(&format!("https://localhost:{https_port}/")),
        "{log}"
    );
    assert!(log.contains("admin@localhost"), "{log}");
    let r = c
        .post(format!("{url}/api/v1/auth/login"))
        .json(&json!({"email": "admin@localhost", "password": otp}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    // One log line per request with method, path, status and latency.
    let _ = c.get(format!("{url}/healthz")).send().unwrap();
    std::thread::sleep(Duration::from_millis(200));
    while let Ok(l) = rx.recv_timeout(Duration::from_millis(300)) {
        log.push_str(&l);
        log.push('\n');
    }
    let line = log
        .lines()
        .find(|l| l.contains("path=/healthz"))
        .unwrap_or_else(|| panic!("{log}"));
    assert!(
        line.contains("method=GET") && line.contains("status=200") && line.contains("latency_ms="),
        "{line}"
    );

    let kill = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let status = child.wait().unwrap();
    assert!(status.success(), "exit status {status:?}");
    while let Ok(l) = rx.recv_timeout(Duration::from_millis(300)) {
        log.push_str(&l);
        log.push('\n');
    }
    assert!(log.contains("stopped"), "{log}");
    // Clean close: the WAL was checkpointed away.
    let wal = dir.path().join("tenants/public.db-wal");
    assert!(!wal.exists() || std::fs::metadata(&wal).unwrap().len() == 0);
}
