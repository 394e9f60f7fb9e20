//! Limits on what requests may carry (issue 10, items 13, 14d, 14e): times outside the
//! years 0000-9999, slow bodies, control and bidi characters in free text. Each is a
//! 422 naming the field (or a 408 for a body that does not arrive), never a 500 or a
//! silently empty answer.

use crate::harness::*;
use crate::licensing::{Api, INSTALL, activate};
use licd::domain::permissions::Role;
use serde_json::{Value, json};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

const FAR: &str = "+10000-01-01T00:00:00Z";
const NEGATIVE: &str = "-0001-01-01T00:00:00Z";
const ABSURD: &str = "+999999999-01-01T00:00:00Z";

/// Asserts a 422 `validation_failed` whose detail starts with the field's name.
#[track_caller]
fn refused_naming(resp: reqwest::blocking::Response, field: &str) {
    let body = expect_problem(resp, 422, "validation_failed");
    let detail = body["detail"].as_str().unwrap();
    assert!(detail.starts_with(&format!("{field}: ")), "{detail}");
}

#[test]
fn out_of_range_times_in_bodies_are_refused_naming_the_field() {
    let s = TestServer::start();
    let api = Api::new(&s);
    for t in [FAR, NEGATIVE, ABSURD] {
        refused_naming(
            api.post("/api/v1/tokens", json!({"name": "ci", "expires_at": t})),
            "expires_at",
        );
        let body = json!({
            "name": "fleet", "max_uses": 5, "expires_at": t,
            "template": {"internal_users": 5, "duration_days": 30},
        });
        refused_naming(api.post("/api/v1/provisioning-tokens", body), "expires_at");
    }
    let license = api.issue(INSTALL, 365);
    let id = license["id"].as_str().unwrap();
    for t in [FAR, NEGATIVE, ABSURD] {
        let body = json!({"status": "canceled", "period_end": t});
        refused_naming(
            api.post(&format!("/api/v1/licenses/{id}/subscription"), body),
            "period_end",
        );
    }
    let body = json!({
        "name": "far", "install_id": INSTALL, "internal_users": 5,
        "not_before": FAR, "expires_at": "2030-01-01T00:00:00Z",
    });
    refused_naming(api.post("/api/v1/licenses", body), "not_before");
    for t in [FAR, NEGATIVE, ABSURD] {
        let body = json!({
            "name": "far", "install_id": INSTALL, "internal_users": 5, "expires_at": t,
        });
        refused_naming(api.post("/api/v1/licenses", body), "expires_at");
    }
    // The console's date fields too.
    let (c, csrf) = api_login(&s, ADMIN_EMAIL, ADMIN_PASSWORD);
    let r = c
        .post(s.url(&format!("/licensing/licenses/{id}/subscription")))
        .form(&[
            ("csrf", csrf.as_str()),
            ("status", "canceled"),
            ("period_end", "+10000-01-01"),
        ])
        .send()
        .unwrap();
    assert_eq!(r.status(), 422);
    assert!(r.text().unwrap().contains("period_end"));
    // Nothing unreadable was stored: the lists still answer.
    for path in [
        "/api/v1/tokens",
        "/api/v1/provisioning-tokens",
        "/api/v1/licenses",
    ] {
        api.ok(api.get(path));
    }
    api.ok(api.get(&format!("/api/v1/licenses/{id}")));
}

#[test]
fn out_of_range_times_in_filters_are_refused_not_answered_empty() {
    let s = TestServer::start();
    let api = Api::new(&s);
    api.issue(INSTALL, 365);
    let get = |path: &str, key: &str, value: &str| {
        s.client()
            .get(s.url(path))
            .query(&[(key, value)])
            .bearer_auth(&api.token)
            .send()
            .unwrap()
    };
    for t in [FAR, NEGATIVE, ABSURD, "yesterday"] {
        refused_naming(get("/api/v1/audit", "since", t), "since");
        refused_naming(get("/api/v1/audit", "until", t), "until");
        refused_naming(
            get("/api/v1/licenses", "expiring_before", t),
            "expiring_before",
        );
    }
    // In range, the filters work as before.
    let r = get("/api/v1/audit", "since", "2000-01-01T00:00:00Z");
    assert!(!api.ok(r)["items"].as_array().unwrap().is_empty());
    let r = get(
        "/api/v1/licenses",
        "expiring_before",
        "9999-12-31T23:59:59Z",
    );
    assert_eq!(api.ok(r)["items"].as_array().unwrap().len(), 1);
}

/// Sends the head of a POST with a JSON body of `length` bytes, then `body_start`;
/// returns the stream.
fn start_post(s: &TestServer, length: usize, body_start: &str) -> TcpStream {
    let addr = s.base.trim_start_matches("http://");
    let mut stream = TcpStream::connect(addr).unwrap();
    let head = format!(
        "POST /api/v1/auth/login HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {length}\r\n\r\n{body_start}"
    );
    stream.write_all(head.as_bytes()).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    stream
}

/// Reads until the server closes the connection; returns what came and how long it
/// took.
fn wait_for_answer(mut stream: TcpStream, started: Instant) -> (String, Duration) {
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => break,
            Err(e) => panic!(
                "not closed after {:?}: {e} (got {:?})",
                started.elapsed(),
                String::from_utf8_lossy(&got)
            ),
        }
    }
    (
        String::from_utf8_lossy(&got).into_owned(),
        started.elapsed(),
    )
}

/// Asserts a 408 `request_timeout` that closed the connection, within a few seconds of
/// the 2 s deadline.
#[track_caller]
fn cut_off(answer: &str, took: Duration) {
    assert!(
        took >= Duration::from_secs(2) && took < Duration::from_secs(8),
        "took {took:?}"
    );
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("connection: close"), "{answer}");
    assert!(answer.contains("\"code\":\"request_timeout\""), "{answer}");
}

#[test]
// The server's body deadline is a real timer on a real socket: measured in real time.
#[allow(clippy::disallowed_methods)]
fn a_body_that_stops_or_trickles_is_cut_off() {
    let s = TestServer::start_in(tempfile::tempdir().unwrap(), |c| {
        c.server.request_timeout_secs = 2;
    });
    // Stops after a few bytes.
    let started = Instant::now();
    let stream = start_post(&s, 200, "{\"email\":");
    let (answer, took) = wait_for_answer(stream, started);
    cut_off(&answer, took);

    // Trickles a byte every 200 ms (200 bytes would take 40 s).
    let started = Instant::now();
    let stream = start_post(&s, 200, "");
    let mut writer = stream.try_clone().unwrap();
    let trickle = std::thread::spawn(move || {
        for _ in 0..200 {
            if writer.write_all(b" ").is_err() {
                return;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    });
    let (answer, took) = wait_for_answer(stream, started);
    cut_off(&answer, took);
    trickle.join().unwrap();

    // A body that arrives in time is read as always.
    let r = s
        .client()
        .post(s.url("/api/v1/auth/login"))
        .json(&json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[test]
fn free_text_refuses_control_and_bidi_characters() {
    let s = TestServer::start();
    let api = Api::new(&s);
    let license = api.issue(INSTALL, 365);
    let id = license["id"].as_str().unwrap();

    // Appliance host names, at activation and at provisioning.
    for bad in ["box\u{202e}1", "box\u{2066}1", "box\u{1b}[2J", "box\r\n1"] {
        let r = s
            .client()
            .post(s.url(&format!("/api/v1/licenses/{id}/activate")))
            .json(&json!({
                "license_key": license["license_key"], "fingerprint": "fp-1",
                "install_id": INSTALL, "hostname": bad,
            }))
            .send()
            .unwrap();
        refused_naming(r, "hostname");
    }
    assert_eq!(activate(&s, &license, "fp-1").status(), 200);
    let body = json!({"name": "fleet", "max_uses": 5, "template": {"internal_users": 5, "duration_days": 30}});
    let created = api.ok(api.post("/api/v1/provisioning-tokens", body));
    let r = s
        .client()
        .post(s.url("/api/v1/provision"))
        .json(&json!({
            "token": created["secret"], "install_id": INSTALL,
            "fingerprint": "fp-2", "hostname": "b\u{202d}01",
        }))
        .send()
        .unwrap();
    refused_naming(r, "hostname");

    // License name and organization.
    let issue = |name: &str, org: &str| {
        api.post(
            "/api/v1/licenses",
            json!({
                "name": name, "organization": org, "install_id": INSTALL,
                "internal_users": 5, "expires_at": "2030-01-01T00:00:00Z",
            }),
        )
    };
    refused_naming(issue("Plant\u{202e}7", "Acme"), "name");
    refused_naming(issue("Plant 7", "Acme\u{2069}"), "organization");
    refused_naming(issue("Plant\u{7}7", "Acme"), "name");
    // Token names, display names, emails.
    refused_naming(
        api.post("/api/v1/tokens", json!({"name": "ci\u{202a}"})),
        "name",
    );
    refused_naming(
        api.post(
            "/api/v1/provisioning-tokens",
            json!({"name": "fleet\u{2068}", "max_uses": 1, "template": {"internal_users": 5, "duration_days": 30}}),
        ),
        "name",
    );
    let uid = s.create_staff("eve@example.com", Role::Support, "eve-password-123");
    let r = s
        .client()
        .patch(s.url(&format!("/api/v1/users/{uid}")))
        .bearer_auth(&api.token)
        .json(&json!({"display_name": "Eve\u{202e}nimdA"}))
        .send()
        .unwrap();
    refused_naming(r, "display_name");
    refused_naming(
        api.post(
            "/api/v1/users",
            json!({"email": "x\u{202e}@example.com", "role": "support"}),
        ),
        "email",
    );
    // Directive messages and reasons (lines are fine there).
    refused_naming(
        api.post(
            &format!("/api/v1/licenses/{id}/directives"),
            json!({"kind": "message", "message": "hello\u{2067}"}),
        ),
        "message",
    );
    api.ok(api.post(
        &format!("/api/v1/licenses/{id}/directives"),
        json!({"kind": "message", "message": "maintenance tonight\nplease save your work"}),
    ));
    refused_naming(
        api.post(
            &format!("/api/v1/licenses/{id}/suspend"),
            json!({"reason": "unpaid\u{202b}"}),
        ),
        "reason",
    );
    // Ordinary non-ASCII text is welcome.
    let v: Value = api.ok(issue("Werk 7 – Zürich", "Ærø Øl ApS"));
    assert_eq!(v["name"], "Werk 7 – Zürich");
}
