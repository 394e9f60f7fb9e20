//! Sign-in under attack: concurrent guesses against the throttle, a flood of bad logins
//! against the password-hashing capacity (heartbeats keep working), and the account
//! lockout that must not lock out the owner's known browser (device cookies).

use crate::harness::*;
use crate::licensing::{Api, INSTALL, activate, heartbeat};
use licd::domain::permissions::Role;
use reqwest::blocking::{Client, Response};
use serde_json::{Value, json};
use std::sync::{Arc, Barrier};

/// What a sign-in attempt was answered with: status, problem code, `Retry-After`.
#[derive(Debug, Clone)]
struct Outcome {
    status: u16,
    code: String,
    retry_after: Option<String>,
}

fn outcome(r: Response) -> Outcome {
    let status = r.status().as_u16();
    let retry_after = r
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_owned());
    let body: Value = r.json().unwrap_or(Value::Null);
    Outcome {
        status,
        code: body["code"].as_str().unwrap_or_default().to_owned(),
        retry_after,
    }
}

fn login(c: &Client, s: &TestServer, email: &str, password: &str) -> Response {
    c.post(s.url("/api/v1/auth/login"))
        .json(&json!({"email": email, "password": password}))
        .send()
        .unwrap()
}

/// `n` wrong-password sign-ins sent at the same moment, each from a fresh client.
fn at_once(s: &TestServer, n: usize, email: impl Fn(usize) -> String) -> Vec<Outcome> {
    let barrier = Arc::new(Barrier::new(n));
    let url = s.url("/api/v1/auth/login");
    let threads: Vec<_> = (0..n)
        .map(|i| {
            let (barrier, url, email) = (barrier.clone(), url.clone(), email(i));
            std::thread::spawn(move || {
                let c = client();
                barrier.wait();
                outcome(
                    c.post(&url)
                        .json(&json!({"email": email, "password": format!("guess-{i}")}))
                        .send()
                        .unwrap(),
                )
            })
        })
        .collect();
    threads.into_iter().map(|t| t.join().unwrap()).collect()
}

fn count(outcomes: &[Outcome], status: u16, code: &str) -> usize {
    outcomes
        .iter()
        .filter(|o| o.status == status && o.code == code)
        .count()
}

#[test]
fn concurrent_guesses_never_pass_the_throttle() {
    // Enough password workers that none is refused for capacity: this is about the
    // throttle (max_failures_per_account = 3, per_address = 6 in the test config).
    let s = TestServer::start_in(tempfile::tempdir().unwrap(), |c| {
        c.auth.password_workers = 16;
    });
    let got = at_once(&s, 40, |_| ADMIN_EMAIL.to_owned());
    let checked = count(&got, 401, "invalid_credentials");
    let throttled = count(&got, 429, "too_many_attempts");
    assert!(
        checked <= 3,
        "{checked} of 40 concurrent guesses at one account were checked: {got:?}"
    );
    assert_eq!(checked + throttled, 40, "{got:?}");

    // One address, many accounts: the address limit holds the same way.
    s.clock.advance(chrono::Duration::hours(1));
    let got = at_once(&s, 40, |i| format!("user{i}@example.com"));
    let checked = count(&got, 401, "invalid_credentials");
    let throttled = count(&got, 429, "too_many_attempts");
    assert!(
        checked <= 6,
        "{checked} of 40 concurrent guesses from one address were checked: {got:?}"
    );
    assert_eq!(checked + throttled, 40, "{got:?}");
}

#[test]
fn a_login_flood_is_refused_at_capacity_while_heartbeats_go_on() {
    // One password worker; throttle limits out of the way (rotating addresses and
    // accounts would get past them anyway).
    let s = TestServer::start_in(tempfile::tempdir().unwrap(), |c| {
        c.auth.password_workers = 1;
        c.auth.max_failures_per_account = 10_000;
        c.auth.max_failures_per_address = 10_000;
    });
    let api = Api::new(&s);
    let license = api.issue(INSTALL, 365);
    let id = license["id"].as_str().unwrap().to_owned();
    let activated = api.ok(activate(&s, &license, "fp-flood"));
    let secret = activated["activation_secret"].as_str().unwrap().to_owned();

    let flooders = 24;
    let barrier = Arc::new(Barrier::new(flooders + 1));
    let url = s.url("/api/v1/auth/login");
    let threads: Vec<_> = (0..flooders)
        .map(|i| {
            let (barrier, url) = (barrier.clone(), url.clone());
            std::thread::spawn(move || {
                let c = client();
                barrier.wait();
                (0..4)
                    .map(|k| {
                        outcome(
                            c.post(&url)
                                .json(&json!({"email": format!("flood{i}-{k}@example.com"), "password": "guess"}))
                                .send()
                                .unwrap(),
                        )
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    barrier.wait();
    // Heartbeats while the flood is in flight.
    let mut seq = 0;
    let mut beats = 0;
    while beats < 3 || threads.iter().any(|t| !t.is_finished()) {
        let r = heartbeat(&s, &id, &secret, "fp-flood", seq);
        assert_eq!(r.status(), 200, "heartbeat during the flood");
        let lease: Value = r.json().unwrap();
        seq = lease["claims"]["seq"].as_i64().unwrap();
        beats += 1;
    }
    let got: Vec<Outcome> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    let busy: Vec<&Outcome> = got.iter().filter(|o| o.status == 503).collect();
    assert!(
        !busy.is_empty(),
        "a flood of {} sign-ins on one password worker got no busy answer: {got:?}",
        got.len()
    );
    for o in &busy {
        assert_eq!(o.code, "password_check_busy", "{o:?}");
        assert_eq!(o.retry_after.as_deref(), Some("1"), "{o:?}");
    }
    assert_eq!(
        busy.len() + count(&got, 401, "invalid_credentials"),
        got.len(),
        "{got:?}"
    );
}

/// The `licd_device` cookie a successful sign-in set, as sent back (`name=value`).
fn device_cookie(r: &Response) -> String {
    let set = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.contains("licd_device="))
        .expect("a device cookie");
    assert!(set.contains("HttpOnly"), "{set}");
    assert!(set.contains("SameSite=Strict"), "{set}");
    assert!(set.contains("Path=/"), "{set}");
    assert!(!set.contains("Secure"), "plain HTTP: {set}");
    set.split(';').next().unwrap().to_owned()
}

/// A sign-in from a client that holds a session cookie (so it sends the CSRF token).
fn again(s: &TestServer, c: &Client, csrf: &str, password: &str) -> Response {
    c.post(s.url("/api/v1/auth/login"))
        .header("x-csrf-token", csrf)
        .json(&json!({"email": ADMIN_EMAIL, "password": password}))
        .send()
        .unwrap()
}

/// Five wrong guesses from anonymous clients: the account is locked for them.
fn lock_out(s: &TestServer, email: &str) {
    let got: Vec<Outcome> = (0..5)
        .map(|i| outcome(login(&client(), s, email, &format!("guess-{i}"))))
        .collect();
    let last = got.last().unwrap();
    assert_eq!(
        (last.status, last.code.as_str()),
        (429, "too_many_attempts")
    );
    let fresh = outcome(login(&client(), s, email, ADMIN_PASSWORD));
    assert_eq!(fresh.status, 429, "a fresh client is locked out: {fresh:?}");
}

#[test]
fn the_owners_device_cookie_gets_past_an_account_lockout() {
    let s = TestServer::start();
    // The owner signed in from this client before: it holds a device cookie.
    let owner = client();
    let r = login(&owner, &s, ADMIN_EMAIL, ADMIN_PASSWORD);
    assert_eq!(r.status(), 200);
    let cookie = device_cookie(&r);
    let csrf = r.json::<Value>().unwrap()["csrf_token"]
        .as_str()
        .unwrap()
        .to_owned();
    // Another account's client, with that account's device cookie.
    s.create_staff("sup@example.com", Role::Support, "support-password-1");
    let other = client();
    let r = login(&other, &s, "sup@example.com", "support-password-1");
    let other_csrf = r.json::<Value>().unwrap()["csrf_token"]
        .as_str()
        .unwrap()
        .to_owned();

    lock_out(&s, ADMIN_EMAIL);

    // The owner's client still signs in (its session cookie needs the CSRF token).
    let r = again(&s, &owner, &csrf, ADMIN_PASSWORD);
    assert_eq!(r.status(), 200);
    // A new session: its CSRF token replaces the old one.
    let csrf = r.json::<Value>().unwrap()["csrf_token"]
        .as_str()
        .unwrap()
        .to_owned();
    // Another account's device cookie is no exemption.
    let o = outcome(again(&s, &other, &other_csrf, ADMIN_PASSWORD));
    assert_eq!((o.status, o.code.as_str()), (429, "too_many_attempts"));
    // Nor is a forged one.
    let forged = format!(
        "licd_device={}",
        flip_char(cookie.split_once('=').unwrap().1)
    );
    for fake in [forged.as_str(), "licd_device=v1.1780000000.AAAA.BBBB"] {
        let o = outcome(
            client()
                .post(s.url("/api/v1/auth/login"))
                .header("cookie", fake)
                .json(&json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}))
                .send()
                .unwrap(),
        );
        assert_eq!(
            (o.status, o.code.as_str()),
            (429, "too_many_attempts"),
            "{fake}"
        );
    }
    // A fresh client that presents the owner's cookie is the owner's device.
    let r = client()
        .post(s.url("/api/v1/auth/login"))
        .header("cookie", &cookie)
        .json(&json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);

    // The device has its own limit (3, as per account): then it waits too.
    let stolen = |password: &str| {
        outcome(
            client()
                .post(s.url("/api/v1/auth/login"))
                .header("cookie", &cookie)
                .json(&json!({"email": ADMIN_EMAIL, "password": password}))
                .send()
                .unwrap(),
        )
    };
    assert_eq!(stolen("guess-a").status, 401);
    assert_eq!(stolen("guess-b").status, 401);
    assert_eq!(stolen("guess-c").status, 429);
    let o = stolen(ADMIN_PASSWORD);
    assert_eq!((o.status, o.code.as_str()), (429, "too_many_attempts"));
    assert!(o.retry_after.is_some());

    // The cookie's key survives a restart (it is derived from the data dir's keys).
    let dir = s.stop();
    let s = TestServer::start_in(dir, |_| {});
    lock_out(&s, ADMIN_EMAIL);
    let fresh_cookie = device_cookie(&again(&s, &owner, &csrf, ADMIN_PASSWORD));
    assert_ne!(
        fresh_cookie, cookie,
        "each sign-in renews the device cookie"
    );
}

#[test]
fn the_console_login_sets_and_honours_the_device_cookie() {
    let s = TestServer::start();
    let browser = client();
    let sign_in = |password: &str| {
        let page = browser.get(s.url("/login")).send().unwrap().text().unwrap();
        let csrf = page
            .split("name=\"csrf\" value=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .to_owned();
        browser
            .post(s.url("/login"))
            .form(&[
                ("csrf", csrf.as_str()),
                ("email", ADMIN_EMAIL),
                ("password", password),
            ])
            .send()
            .unwrap()
    };
    let r = sign_in(ADMIN_PASSWORD);
    assert_eq!(r.status(), 303);
    device_cookie(&r);
    lock_out(&s, ADMIN_EMAIL);
    let r = sign_in(ADMIN_PASSWORD);
    assert_eq!(
        r.status(),
        303,
        "the known browser signs in during the lockout"
    );
    assert_eq!(r.headers()["location"], "/");
}

#[test]
fn the_device_cookie_is_secure_over_tls() {
    let s = TestServer::start_in(tempfile::tempdir().unwrap(), |c| c.tls.enabled = true);
    let r = login(&s.client(), &s, ADMIN_EMAIL, ADMIN_PASSWORD);
    assert_eq!(r.status(), 200);
    let set = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.contains("licd_device="))
        .expect("a device cookie");
    for attr in ["HttpOnly", "SameSite=Strict", "Secure", "Path=/"] {
        assert!(set.contains(attr), "{attr} missing: {set}");
    }
}
