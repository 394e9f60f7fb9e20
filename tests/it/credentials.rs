//! Credentials after a change of password or status (issue 10, items 5, 6, 14a-c):
//! API tokens die with a reset, a change of one's own password and a disable (and stay
//! dead after re-enabling); a pending one-time password gates tokens like sessions;
//! one-time passwords expire; `next` after sign-in stays on the console; cookies use the
//! `__Host-` prefix under TLS and behind an HTTPS proxy (`server.public_url`).

use crate::harness::*;
use chrono::Duration;
use licd::domain::permissions::Role;
use reqwest::blocking::{Client, Response};
use serde_json::{Value, json};

const SUP_EMAIL: &str = "sup@example.com";
const SUP_PASSWORD: &str = "support-password-1";

/// The hidden `csrf` field of a console page.
fn csrf_of(page: &str) -> String {
    page.split("name=\"csrf\" value=\"")
        .nth(1)
        .expect("the page has a csrf field")
        .split('"')
        .next()
        .unwrap()
        .to_owned()
}

/// Signs in through the console's login form; returns the client (holding the session)
/// and the answer to the form post.
fn console_login(s: &TestServer, email: &str, password: &str, next: &str) -> (Client, Response) {
    let c = s.client();
    let page = c.get(s.url("/login")).send().unwrap().text().unwrap();
    let r = c
        .post(s.url("/login"))
        .form(&[
            ("csrf", csrf_of(&page).as_str()),
            ("email", email),
            ("password", password),
            ("next", next),
        ])
        .send()
        .unwrap();
    (c, r)
}

/// The status a bearer token gets on `GET path`.
fn token_status(s: &TestServer, token: &str, path: &str) -> u16 {
    s.client()
        .get(s.url(path))
        .bearer_auth(token)
        .send()
        .unwrap()
        .status()
        .as_u16()
}

/// Asserts the token reads the audit log and may mint a new token.
#[track_caller]
fn token_works(s: &TestServer, token: &str) {
    assert_eq!(token_status(s, token, "/api/v1/audit"), 200);
    let r = s
        .client()
        .post(s.url("/api/v1/tokens"))
        .bearer_auth(token)
        .json(&json!({"name": "minted"}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().unwrap());
}

/// Asserts the token is dead: no audit log, no new tokens.
#[track_caller]
fn token_is_dead(s: &TestServer, token: &str) {
    expect_problem(
        s.client()
            .get(s.url("/api/v1/audit"))
            .bearer_auth(token)
            .send()
            .unwrap(),
        401,
        "unauthenticated",
    );
    let r = s
        .client()
        .post(s.url("/api/v1/tokens"))
        .bearer_auth(token)
        .json(&json!({"name": "minted"}))
        .send()
        .unwrap();
    expect_problem(r, 401, "unauthenticated");
}

/// The newest audit entry with this action.
fn last_audit(s: &TestServer, action: &str) -> Value {
    let page: Value = s
        .client()
        .get(s.url("/api/v1/audit"))
        .query(&[("action", action)])
        .bearer_auth(s.admin_token())
        .send()
        .unwrap()
        .json()
        .unwrap();
    page["items"][0].clone()
}

/// A support user (audit.read) with two working tokens (one of them expiring).
fn support_with_tokens(s: &TestServer) -> (i64, String, String) {
    let id = s.create_staff(SUP_EMAIL, Role::Support, SUP_PASSWORD);
    let plain = s.token_for(id);
    let t = s.app.tenants.public().unwrap();
    let expiring = licd::service::tokens::create(
        &t,
        s.clock.now_utc(),
        &licd::service::Actor::Cli,
        id,
        "expiring",
        Some(s.clock.now_utc() + Duration::days(30)),
    )
    .unwrap()
    .secret;
    token_works(s, &plain);
    token_works(s, &expiring);
    (id, plain, expiring)
}

#[test]
fn api_password_reset_revokes_every_token_of_the_user() {
    let s = TestServer::start();
    let (id, plain, expiring) = support_with_tokens(&s);
    let r = s
        .client()
        .post(s.url(&format!("/api/v1/users/{id}/reset-password")))
        .bearer_auth(s.admin_token())
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    token_is_dead(&s, &plain);
    token_is_dead(&s, &expiring);
    let entry = last_audit(&s, "user.password_reset");
    // The two made above and the two they minted.
    assert_eq!(entry["details"]["tokens_revoked"], 4, "{entry}");
    let listed =
        licd::service::tokens::list(&s.app.tenants.public().unwrap(), s.clock.now_utc(), id)
            .unwrap();
    assert!(listed.iter().all(|t| !t.active && t.revoked_at.is_some()));
}

#[test]
fn console_password_reset_revokes_tokens_and_says_so() {
    let s = TestServer::start();
    let (id, plain, _) = support_with_tokens(&s);
    let (admin, r) = console_login(&s, ADMIN_EMAIL, ADMIN_PASSWORD, "/users");
    assert_eq!(r.status(), 303);
    let page = admin.get(s.url("/users")).send().unwrap().text().unwrap();
    assert!(page.contains("revokes all of its API tokens"), "{page}");
    let r = admin
        .post(s.url(&format!("/users/{id}/reset-password")))
        .form(&[("csrf", csrf_of(&page))])
        .send()
        .unwrap();
    // Post-redirect-get: the users page shows the one-time password once.
    assert_eq!(r.status(), 303);
    let to = r.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        to.starts_with("/users?notice=password_reset&shown="),
        "{to}"
    );
    let page = admin.get(s.url(&to)).send().unwrap().text().unwrap();
    assert!(page.contains("API tokens are revoked"), "{page}");
    let otp = page
        .split("<code class=\"big\">")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .to_owned();
    assert_eq!(otp.len(), 24, "{page}");
    let again = admin.get(s.url(&to)).send().unwrap().text().unwrap();
    assert!(!again.contains(&otp), "a reload does not show it again");
    token_is_dead(&s, &plain);
}

#[test]
fn cli_password_reset_revokes_tokens() {
    let s = TestServer::start();
    let (_, plain, _) = support_with_tokens(&s);
    let dir = s.stop();
    let out = run(licd()
        .args([
            "admin",
            "reset-password",
            "--email",
            SUP_EMAIL,
            "--data-dir",
        ])
        .arg(dir.path()));
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("API tokens are revoked"),
        "{}",
        text(&out)
    );
    let s = TestServer::start_in(dir, |_| {});
    token_is_dead(&s, &plain);
}

#[test]
fn changing_ones_own_password_revokes_ones_tokens() {
    let s = TestServer::start();
    let (_, plain, expiring) = support_with_tokens(&s);
    let (c, csrf) = api_login(&s, SUP_EMAIL, SUP_PASSWORD);
    let r = c
        .post(s.url("/api/v1/auth/password"))
        .header("x-csrf-token", &csrf)
        .json(&json!({"current_password": SUP_PASSWORD, "new_password": "a-brand-new-password"}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 204);
    token_is_dead(&s, &plain);
    token_is_dead(&s, &expiring);
    // The session that changed it goes on.
    assert_eq!(c.get(s.url("/api/v1/me")).send().unwrap().status(), 200);
    let entry = last_audit(&s, "user.password_change");
    assert_eq!(entry["details"]["tokens_revoked"], 4, "{entry}");

    // Changing it with a token revokes that token too.
    let t = s.app.tenants.public().unwrap();
    let id = licd::service::staff::id_by_email(&t, SUP_EMAIL).unwrap();
    let token = s.token_for(id);
    let r = s
        .client()
        .post(s.url("/api/v1/auth/password"))
        .bearer_auth(&token)
        .json(&json!({"current_password": "a-brand-new-password", "new_password": "yet-another-password"}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 204);
    token_is_dead(&s, &token);
}

#[test]
fn console_password_change_revokes_tokens_and_says_so() {
    let s = TestServer::start();
    let (_, plain, _) = support_with_tokens(&s);
    let (c, r) = console_login(&s, SUP_EMAIL, SUP_PASSWORD, "/password");
    assert_eq!(r.headers()["location"], "/password");
    let page = c.get(s.url("/password")).send().unwrap().text().unwrap();
    assert!(page.contains("revokes all of your API tokens"), "{page}");
    let r = c
        .post(s.url("/password"))
        .form(&[
            ("csrf", csrf_of(&page).as_str()),
            ("current_password", SUP_PASSWORD),
            ("new_password", "a-brand-new-password"),
            ("confirm_password", "a-brand-new-password"),
        ])
        .send()
        .unwrap();
    assert_eq!(r.status(), 303);
    token_is_dead(&s, &plain);
}

#[test]
fn disabling_revokes_tokens_and_enabling_does_not_revive_them() {
    let s = TestServer::start();
    let (id, plain, expiring) = support_with_tokens(&s);
    let admin = s.admin_token();
    for disabled in [true, false] {
        let r = s
            .client()
            .patch(s.url(&format!("/api/v1/users/{id}")))
            .bearer_auth(&admin)
            .json(&json!({"disabled": disabled}))
            .send()
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    token_is_dead(&s, &plain);
    token_is_dead(&s, &expiring);
    assert_eq!(
        last_audit(&s, "user.disable")["details"]["tokens_revoked"],
        4
    );
    // The account itself works again, with new tokens.
    api_login(&s, SUP_EMAIL, SUP_PASSWORD);
    token_works(&s, &s.token_for(id));

    // The same from the console.
    let fresh = s.token_for(id);
    let (c, _) = console_login(&s, ADMIN_EMAIL, ADMIN_PASSWORD, "/users");
    let page = c.get(s.url("/users")).send().unwrap().text().unwrap();
    for action in ["disable", "enable"] {
        let r = c
            .post(s.url(&format!("/users/{id}/{action}")))
            .form(&[("csrf", csrf_of(&page))])
            .send()
            .unwrap();
        assert_eq!(r.status(), 303, "{action}");
    }
    token_is_dead(&s, &fresh);
}

#[test]
fn a_pending_one_time_password_gates_tokens_too() {
    let s = TestServer::start();
    let r = s
        .client()
        .post(s.url("/api/v1/users"))
        .bearer_auth(s.admin_token())
        .json(&json!({"email": SUP_EMAIL, "role": "support"}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 201);
    let created: Value = r.json().unwrap();
    let otp = created["one_time_password"].as_str().unwrap().to_owned();
    let id = created["user"]["id"].as_i64().unwrap();
    // A token made while the password is pending (as `licd admin token create` would).
    let token = s.token_for(id);
    for path in ["/api/v1/audit", "/api/v1/tokens", "/api/v1/licenses"] {
        let r = s
            .client()
            .get(s.url(path))
            .bearer_auth(&token)
            .send()
            .unwrap();
        expect_problem(r, 403, "password_change_required");
    }
    let r = s
        .client()
        .post(s.url("/api/v1/tokens"))
        .bearer_auth(&token)
        .json(&json!({"name": "sneaky"}))
        .send()
        .unwrap();
    expect_problem(r, 403, "password_change_required");
    // The routes that let the owner change it still pass.
    assert_eq!(token_status(&s, &token, "/api/v1/me"), 200);
    let r = s
        .client()
        .post(s.url("/api/v1/auth/password"))
        .bearer_auth(&token)
        .json(&json!({"current_password": otp, "new_password": "my-own-good-password"}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 204);
    // ... which revokes the token; a new one works.
    token_is_dead(&s, &token);
    token_works(&s, &s.token_for(id));
}

#[test]
fn next_after_sign_in_stays_on_the_console() {
    let s = TestServer::start();
    // (as sent in the query string, as the login page would hand it back in the form)
    let evil = [
        "/\t/evil.example/x",
        "/\t\\evil.example",
        "//evil.example",
        "/\r\nSet-Cookie:x",
        "https://evil.example",
        "/\\evil.example",
        "/api/v1/users",
    ];
    for next in evil.iter().copied().chain(["/licensing"]) {
        let want = if next == "/licensing" { next } else { "/" };
        let c = s.client();
        let r = c
            .get(s.url("/login"))
            .query(&[("next", next)])
            .send()
            .unwrap();
        assert_eq!(r.status(), 200, "{next:?}");
        let page = r.text().unwrap();
        let hidden = page
            .split("name=\"next\" value=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .replace("&#x2f;", "/");
        assert_eq!(hidden, want, "the form carries {next:?} as");
        // A crafted form post carries it whatever the page said.
        let r = c
            .post(s.url("/login"))
            .form(&[
                ("csrf", csrf_of(&page).as_str()),
                ("email", ADMIN_EMAIL),
                ("password", ADMIN_PASSWORD),
                ("next", next),
            ])
            .send()
            .unwrap();
        assert_eq!(
            r.status(),
            303,
            "{next:?}: {}",
            r.text().unwrap_or_default()
        );
        assert_eq!(r.headers()["location"], want, "after {next:?}");
    }
}

#[test]
fn one_time_passwords_expire() {
    let s = TestServer::start();
    let create = |email: &str| -> String {
        let r = s
            .client()
            .post(s.url("/api/v1/users"))
            .bearer_auth(s.admin_token())
            .json(&json!({"email": email, "role": "support"}))
            .send()
            .unwrap();
        assert_eq!(r.status(), 201);
        r.json::<Value>().unwrap()["one_time_password"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let login = |email: &str, password: &str| {
        s.client()
            .post(s.url("/api/v1/auth/login"))
            .json(&json!({"email": email, "password": password}))
            .send()
            .unwrap()
    };
    let early = create("early@example.com");
    s.clock.advance(Duration::hours(71));
    let late = create("late@example.com");
    // 71 hours: still good (the default is 72).
    assert_eq!(login("early@example.com", &early).status(), 200);
    s.clock.advance(Duration::hours(2));
    let body = expect_problem(
        login("early@example.com", &early),
        401,
        "one_time_password_expired",
    );
    assert!(body["detail"].as_str().unwrap().contains("reset"), "{body}");
    assert_eq!(login("late@example.com", &late).status(), 200);
    // The console says the same.
    let (_, r) = console_login(&s, "early@example.com", &early, "/");
    assert_eq!(r.status(), 401);
    assert!(r.text().unwrap().contains("ask an administrator"));
    // A reset gives a fresh one.
    let t = s.app.tenants.public().unwrap();
    let id = licd::service::staff::id_by_email(&t, "early@example.com").unwrap();
    let fresh =
        licd::service::staff::reset_password(&t, s.clock.now_utc(), &licd::service::Actor::Cli, id)
            .unwrap();
    assert_eq!(login("early@example.com", &fresh).status(), 200);
    // A password the user chose does not expire.
    s.clock.advance(Duration::days(400));
    assert_eq!(login(ADMIN_EMAIL, ADMIN_PASSWORD).status(), 200);
}

/// The `Set-Cookie` header for cookie `name` (prefix match on `name=`).
fn set_cookie(r: &Response, name: &str) -> String {
    r.headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with(&format!("{name}=")))
        .unwrap_or_else(|| panic!("no {name} cookie in {:?}", r.headers()))
}

#[track_caller]
fn is_host_cookie(cookie: &str) {
    assert!(cookie.starts_with("__Host-"), "{cookie}");
    assert!(cookie.contains("; Secure"), "{cookie}");
    assert!(cookie.contains("; Path=/"), "{cookie}");
    assert!(!cookie.to_ascii_lowercase().contains("domain="), "{cookie}");
}

#[test]
fn cookies_use_the_host_prefix_under_tls() {
    let s = TestServer::start_in(tempfile::tempdir().unwrap(), |c| c.tls.enabled = true);
    let c = s.client();
    let r = c.get(s.url("/login")).send().unwrap();
    is_host_cookie(&set_cookie(&r, "__Host-licd_prelogin"));
    let csrf = csrf_of(&r.text().unwrap());
    // The console's form sign-in works with the prefixed pre-login cookie.
    let r = c
        .post(s.url("/login"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("email", ADMIN_EMAIL),
            ("password", ADMIN_PASSWORD),
            ("next", "/audit"),
        ])
        .send()
        .unwrap();
    assert_eq!(r.status(), 303);
    let session = set_cookie(&r, "__Host-licd_session");
    is_host_cookie(&session);
    assert!(session.contains("HttpOnly"), "{session}");
    assert_eq!(c.get(s.url("/audit")).send().unwrap().status(), 200);

    // The API sign-in too; the unprefixed name is not read under TLS.
    let r = s
        .client()
        .post(s.url("/api/v1/auth/login"))
        .json(&json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}))
        .send()
        .unwrap();
    let cookie = set_cookie(&r, "__Host-licd_session");
    is_host_cookie(&cookie);
    let secret = cookie
        .split(';')
        .next()
        .unwrap()
        .trim_start_matches("__Host-licd_session=")
        .to_owned();
    let bare = tls_client_builder(s.app.ca.cert_pem())
        .cookie_store(false)
        .build()
        .unwrap();
    let me = |cookie: String| {
        bare.get(s.url("/api/v1/me"))
            .header("cookie", cookie)
            .send()
            .unwrap()
            .status()
    };
    assert_eq!(me(format!("__Host-licd_session={secret}")), 200);
    assert_eq!(me(format!("licd_session={secret}")), 401);
}

#[test]
fn an_https_public_url_keeps_cookies_secure_and_sends_hsts_behind_a_proxy() {
    let s = TestServer::start_in(tempfile::tempdir().unwrap(), |c| {
        c.server.public_url = Some("https://licd.plant.example".into());
    });
    assert!(s.base.starts_with("http://"));
    let r = client().get(s.url("/login")).send().unwrap();
    assert_eq!(r.headers()["strict-transport-security"], "max-age=31536000");
    is_host_cookie(&set_cookie(&r, "__Host-licd_prelogin"));
    let r = client()
        .post(s.url("/api/v1/auth/login"))
        .json(&json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    let cookie = set_cookie(&r, "__Host-licd_session");
    is_host_cookie(&cookie);
    // The proxy passes the browser's cookie on over plain HTTP.
    let pair = cookie.split(';').next().unwrap().to_owned();
    let bare = Client::builder().build().unwrap();
    let r = bare
        .get(s.url("/api/v1/me"))
        .header("cookie", pair)
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    // Without public_url, plain HTTP stays as it was: no HSTS, no prefix.
    let plain = TestServer::start();
    let r = client().get(plain.url("/login")).send().unwrap();
    assert!(r.headers().get("strict-transport-security").is_none());
    assert!(!set_cookie(&r, "licd_prelogin").contains("Secure"));
}

#[test]
fn public_url_is_checked_by_check_config() {
    let dir = tempfile::tempdir().unwrap();
    let check = |value: &str, tls: bool| {
        let p = dir.path().join("licd.toml");
        std::fs::write(
            &p,
            format!("[server]\npublic_url = {value:?}\n[tls]\nenabled = {tls}\n"),
        )
        .unwrap();
        run(licd().arg("check-config").arg(&p))
    };
    let ok = check("https://licd.plant.example", false);
    assert!(ok.status.success(), "{}", text(&ok));
    assert!(
        text(&ok).contains("https://licd.plant.example"),
        "{}",
        text(&ok)
    );
    assert!(
        check("https://licd.plant.example:8443/", false)
            .status
            .success()
    );
    assert!(check("http://licd.plant.example", false).status.success());
    for (bad, tls) in [
        ("ftp://licd.plant.example", false),
        ("licd.plant.example", false),
        ("https://", false),
        ("https://user@licd.plant.example", false),
        ("https://licd.plant.example/sub/path", false),
        ("https://licd.plant.example/?x=1", false),
        ("http://licd.plant.example", true),
    ] {
        let out = check(bad, tls);
        assert!(!out.status.success(), "{bad} accepted");
        assert!(text(&out).contains("server.public_url"), "{}", text(&out));
    }
}
