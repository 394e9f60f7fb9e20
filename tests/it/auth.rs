use crate::harness::*;
use licd::domain::permissions::Role;
use serde_json::json;

#[test]
fn login_success_and_failure() {
    let s = TestServer::start();
    let (c, csrf) = api_login(&s, ADMIN_EMAIL, ADMIN_PASSWORD);
    let me: serde_json::Value = c.get(s.url("/api/v1/me")).send().unwrap().json().unwrap();
    assert_eq!(me["user"]["email"], ADMIN_EMAIL);
    assert_eq!(me["user"]["role"], "super_admin");
    assert!(me["install_id"].as_str().unwrap().len() == 36);

    let r = client()
        .post(s.url("/api/v1/auth/login"))
        .json(&json!({"email": ADMIN_EMAIL, "password": "wrong-password"}))
        .send()
        .unwrap();
    expect_problem(r, 401, "invalid_credentials");
    let r = client()
        .post(s.url("/api/v1/auth/login"))
        .json(&json!({"email": "nobody@example.com", "password": "whatever"}))
        .send()
        .unwrap();
    expect_problem(r, 401, "invalid_credentials");

    // Logout ends the session.
    let r = c
        .post(s.url("/api/v1/auth/logout"))
        .header("x-csrf-token", &csrf)
        .send()
        .unwrap();
    assert_eq!(r.status(), 204);
    expect_problem(
        c.get(s.url("/api/v1/me")).send().unwrap(),
        401,
        "unauthenticated",
    );
}

#[test]
fn session_cookie_is_httponly_and_strict() {
    let s = TestServer::start();
    let r = client()
        .post(s.url("/api/v1/auth/login"))
        .json(&json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}))
        .send()
        .unwrap();
    let cookie = r
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(cookie.starts_with("licd_session="), "{cookie}");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Strict"), "{cookie}");
    assert!(cookie.contains("Max-Age="), "{cookie}");
    assert!(
        !cookie.contains("Secure"),
        "plain HTTP must not set Secure: {cookie}"
    );
}

#[test]
fn repeated_failures_are_throttled_with_retry_after() {
    let s = TestServer::start();
    let attempt = |email: &str, pw: &str| {
        client()
            .post(s.url("/api/v1/auth/login"))
            .json(&json!({"email": email, "password": pw}))
            .send()
            .unwrap()
    };
    // max_failures_per_account = 3 in the test config.
    expect_problem(attempt(ADMIN_EMAIL, "bad-1"), 401, "invalid_credentials");
    expect_problem(attempt(ADMIN_EMAIL, "bad-2"), 401, "invalid_credentials");
    let r = attempt(ADMIN_EMAIL, "bad-3");
    let retry: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry > 0 && retry <= 900, "{retry}");
    expect_problem(r, 429, "too_many_attempts");
    // Even the right password waits now.
    let r = attempt(ADMIN_EMAIL, ADMIN_PASSWORD);
    assert!(r.headers().contains_key("retry-after"));
    expect_problem(r, 429, "too_many_attempts");
    // After the lockout, the account works again.
    s.clock.advance(chrono::Duration::seconds(901));
    assert_eq!(attempt(ADMIN_EMAIL, ADMIN_PASSWORD).status(), 200);

    // The address limit (6) catches spraying across accounts.
    let mut last = None;
    for i in 0..6 {
        last = Some(attempt(&format!("u{i}@example.com"), "nope"));
    }
    expect_problem(last.unwrap(), 429, "too_many_attempts");
}

#[test]
fn disabled_user_is_locked_out_at_once() {
    let s = TestServer::start();
    let id = s.create_staff("ops@example.com", Role::Support, "ops-password-123");
    let (c, _) = api_login(&s, "ops@example.com", "ops-password-123");
    let token = s.token_for(id);
    assert_eq!(c.get(s.url("/api/v1/me")).send().unwrap().status(), 200);
    assert_eq!(
        client()
            .get(s.url("/api/v1/me"))
            .bearer_auth(&token)
            .send()
            .unwrap()
            .status(),
        200
    );

    // Disabled through the API by the admin.
    let admin = s.admin_token();
    let r = client()
        .patch(s.url(&format!("/api/v1/users/{id}")))
        .bearer_auth(&admin)
        .json(&json!({"disabled": true}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);

    expect_problem(
        c.get(s.url("/api/v1/me")).send().unwrap(),
        401,
        "unauthenticated",
    );
    expect_problem(
        client()
            .get(s.url("/api/v1/me"))
            .bearer_auth(&token)
            .send()
            .unwrap(),
        401,
        "unauthenticated",
    );
    let r = client()
        .post(s.url("/api/v1/auth/login"))
        .json(&json!({"email": "ops@example.com", "password": "ops-password-123"}))
        .send()
        .unwrap();
    expect_problem(r, 403, "account_disabled");
}

#[test]
fn api_tokens_work_until_revoked_and_are_stored_hashed() {
    let s = TestServer::start();
    let (c, csrf) = api_login(&s, ADMIN_EMAIL, ADMIN_PASSWORD);
    let r = c
        .post(s.url("/api/v1/tokens"))
        .header("x-csrf-token", &csrf)
        .json(&json!({"name": "ci", "expires_at": "2027-01-01T00:00:00Z"}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 201);
    let created: serde_json::Value = r.json().unwrap();
    let secret = created["secret"].as_str().unwrap().to_owned();
    let id = created["token"]["id"].as_i64().unwrap();
    assert!(secret.starts_with("licd_"));

    let r = client()
        .get(s.url("/api/v1/users"))
        .bearer_auth(&secret)
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);

    // The list never shows the secret.
    let list = c
        .get(s.url("/api/v1/tokens"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(!list.contains(&secret));
    assert!(list.contains(&secret[..11]));

    // The database holds only a hash.
    let db = rusqlite::Connection::open(s.data_dir().join("tenants/public.db")).unwrap();
    let stored: Vec<u8> = db
        .query_row(
            "SELECT token_hash FROM api_tokens WHERE id = ?1",
            [id],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(stored.len(), 32);
    assert!(!String::from_utf8_lossy(&stored).contains(&secret[5..]));

    let r = c
        .delete(s.url(&format!("/api/v1/tokens/{id}")))
        .header("x-csrf-token", &csrf)
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    expect_problem(
        client()
            .get(s.url("/api/v1/users"))
            .bearer_auth(&secret)
            .send()
            .unwrap(),
        401,
        "unauthenticated",
    );
    // Expired tokens stop working too.
    let r = c
        .post(s.url("/api/v1/tokens"))
        .header("x-csrf-token", &csrf)
        .json(&json!({"name": "short", "expires_at": "2026-06-02T00:00:00Z"}))
        .send()
        .unwrap();
    let short: serde_json::Value = r.json().unwrap();
    let short = short["secret"].as_str().unwrap();
    assert_eq!(
        client()
            .get(s.url("/api/v1/me"))
            .bearer_auth(short)
            .send()
            .unwrap()
            .status(),
        200
    );
    s.clock.advance(chrono::Duration::days(2));
    assert_eq!(
        client()
            .get(s.url("/api/v1/me"))
            .bearer_auth(short)
            .send()
            .unwrap()
            .status(),
        401
    );
}

#[test]
fn csrf_is_required_for_cookie_requests_and_forms() {
    let s = TestServer::start();
    let (c, csrf) = api_login(&s, ADMIN_EMAIL, ADMIN_PASSWORD);
    // JSON API with the session cookie but no header.
    let r = c
        .post(s.url("/api/v1/tokens"))
        .json(&json!({"name": "x"}))
        .send()
        .unwrap();
    expect_problem(r, 403, "csrf_failed");
    // A wrong header.
    let r = c
        .post(s.url("/api/v1/tokens"))
        .header("x-csrf-token", "forged")
        .json(&json!({"name": "x"}))
        .send()
        .unwrap();
    expect_problem(r, 403, "csrf_failed");
    // Every UI form route refuses a post without the token, and with a wrong one: with
    // an HTML page that says nothing was changed and links back to the form's page.
    for (path, back) in [
        ("/logout", "/"),
        ("/password", "/password"),
        ("/users", "/users"),
        ("/users/1/role", "/users"),
        ("/users/1/disable", "/users"),
        ("/users/1/enable", "/users"),
        ("/users/1/reset-password", "/users"),
        ("/tokens", "/tokens"),
        ("/tokens/1/revoke", "/tokens"),
    ] {
        let r = c.post(s.url(path)).form(&[("name", "x")]).send().unwrap();
        expect_console_refusal(r, 403, "Nothing was changed", back);
        let r = c
            .post(s.url(path))
            .form(&[("csrf", "forged")])
            .send()
            .unwrap();
        expect_console_refusal(r, 403, "Nothing was changed", back);
    }
    // The login form without a pre-login cookie (a cross-site post) is refused.
    let r = client()
        .post(s.url("/login"))
        .form(&[("email", ADMIN_EMAIL), ("password", ADMIN_PASSWORD)])
        .send()
        .unwrap();
    expect_console_refusal(r, 403, "Nothing was changed", "/login");
    // With the right token the same request works.
    let r = c
        .post(s.url("/api/v1/tokens"))
        .header("x-csrf-token", &csrf)
        .json(&json!({"name": "x"}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 201);
}

#[test]
fn ui_login_form_flow_sets_a_session() {
    let s = TestServer::start();
    let c = client();
    let page = c.get(s.url("/login")).send().unwrap().text().unwrap();
    let csrf = page
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    let r = c
        .post(s.url("/login"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("email", ADMIN_EMAIL),
            ("password", "wrong"),
            ("next", "/audit"),
        ])
        .send()
        .unwrap();
    assert_eq!(r.status(), 401);
    assert!(r.text().unwrap().contains("email or password is wrong"));
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
    assert_eq!(r.headers()["location"], "/audit");
    let r = c.get(s.url("/audit")).send().unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.text().unwrap().contains("auth.login"));
    // Unauthenticated page visits go to the login page, remembering where they were going.
    let r = client().get(s.url("/users")).send().unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/login?next=%2Fusers");
}

#[test]
fn last_super_admin_cannot_be_removed() {
    let s = TestServer::start();
    let admin = s.admin_token();
    let users: serde_json::Value = client()
        .get(s.url("/api/v1/users"))
        .bearer_auth(&admin)
        .send()
        .unwrap()
        .json()
        .unwrap();
    let id = users["items"][0]["id"].as_i64().unwrap();
    for body in [json!({"disabled": true}), json!({"role": "support"})] {
        let r = client()
            .patch(s.url(&format!("/api/v1/users/{id}")))
            .bearer_auth(&admin)
            .json(&body)
            .send()
            .unwrap();
        expect_problem(r, 409, "last_super_admin");
    }
}

#[test]
fn reset_password_forces_a_change_and_ends_sessions() {
    let s = TestServer::start();
    let id = s.create_staff("sup@example.com", Role::Support, "support-password-1");
    let (c, _) = api_login(&s, "sup@example.com", "support-password-1");
    let admin = s.admin_token();
    let r = client()
        .post(s.url(&format!("/api/v1/users/{id}/reset-password")))
        .bearer_auth(&admin)
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    let otp = r.json::<serde_json::Value>().unwrap()["one_time_password"]
        .as_str()
        .unwrap()
        .to_owned();
    expect_problem(
        c.get(s.url("/api/v1/me")).send().unwrap(),
        401,
        "unauthenticated",
    );
    let (c, csrf) = api_login(&s, "sup@example.com", &otp);
    expect_problem(
        c.get(s.url("/api/v1/audit")).send().unwrap(),
        403,
        "password_change_required",
    );
    let r = c
        .post(s.url("/api/v1/auth/password"))
        .header("x-csrf-token", &csrf)
        .json(&json!({"current_password": otp, "new_password": "short"}))
        .send()
        .unwrap();
    expect_problem(r, 422, "validation_failed");
    let r = c
        .post(s.url("/api/v1/auth/password"))
        .header("x-csrf-token", &csrf)
        .json(&json!({"current_password": otp, "new_password": "a-brand-new-password"}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(c.get(s.url("/api/v1/audit")).send().unwrap().status(), 200);
}

/// Authorization headers that are not a licd API token: none of them may skip the CSRF
/// check, and none may let the session cookie authenticate in their stead.
const FOREIGN_AUTHORIZATIONS: [&str; 5] = [
    "Basic Zm9vOmJhcg==",
    "Negotiate abc",
    "Bearer ",
    "",
    "Bearer lact_not-a-staff-token",
];

fn token_rows(s: &TestServer) -> i64 {
    let db = rusqlite::Connection::open(s.data_dir().join("tenants/public.db")).unwrap();
    db.query_row("SELECT count(*) FROM api_tokens", [], |r| r.get(0))
        .unwrap()
}

#[test]
fn other_authorization_headers_neither_skip_csrf_nor_use_the_cookie() {
    let s = TestServer::start();
    let (c, csrf) = api_login(&s, ADMIN_EMAIL, ADMIN_PASSWORD);
    // The console form needs its page's token; fetch the page so the session is in use.
    assert_eq!(c.get(s.url("/tokens")).send().unwrap().status(), 200);
    for auth in FOREIGN_AUTHORIZATIONS {
        // Session cookie, no CSRF token: refused, whatever the Authorization header says.
        let r = c
            .post(s.url("/api/v1/tokens"))
            .header("authorization", auth)
            .json(&json!({"name": "csrf-bypass"}))
            .send()
            .unwrap();
        expect_problem(r, 403, "csrf_failed");
        let r = c
            .post(s.url("/tokens"))
            .header("authorization", auth)
            .form(&[("name", "csrf-bypass")])
            .send()
            .unwrap();
        assert_eq!(r.status(), 403, "console form with {auth:?}");
        // With the right CSRF token the request is still not the cookie's: the header
        // was sent as the credential and it is not one (no fallback to the cookie).
        let r = c
            .post(s.url("/api/v1/tokens"))
            .header("authorization", auth)
            .header("x-csrf-token", &csrf)
            .json(&json!({"name": "csrf-bypass"}))
            .send()
            .unwrap();
        expect_problem(r, 401, "unauthenticated");
    }
    assert_eq!(token_rows(&s), 0, "no token may have been created");

    // A licd API token authenticates on its own: no CSRF token needed, and the session
    // cookie of another account riding along is ignored.
    let ops = s.create_staff("ops@example.com", Role::Support, "ops-password-123");
    let ops_token = s.token_for(ops);
    let r = c
        .post(s.url("/api/v1/tokens"))
        .bearer_auth(&ops_token)
        .json(&json!({"name": "by-token"}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 201);
    let created: serde_json::Value = r.json().unwrap();
    assert_eq!(created["token"]["name"], "by-token");
    let mine: serde_json::Value = client()
        .get(s.url("/api/v1/tokens"))
        .bearer_auth(&ops_token)
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert!(mine.to_string().contains("by-token"), "{mine}");
    // A licd-looking token that is not valid never falls back to the cookie.
    let r = c
        .post(s.url("/api/v1/tokens"))
        .bearer_auth("licd_not-a-real-token")
        .header("x-csrf-token", &csrf)
        .json(&json!({"name": "fallback"}))
        .send()
        .unwrap();
    expect_problem(r, 401, "unauthenticated");
    let r = c
        .get(s.url("/api/v1/me"))
        .header("authorization", "Basic Zm9vOmJhcg==")
        .send()
        .unwrap();
    expect_problem(r, 401, "unauthenticated");
}

/// The console page's CSRF token (the hidden `csrf` field).
fn page_csrf(html: &str) -> String {
    html.split("name=\"csrf\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned()
}

#[test]
fn wrong_current_passwords_are_throttled_per_account() {
    let s = TestServer::start();
    // The API: max_failures_per_account = 3 in the test config, as for sign-in.
    let (c, csrf) = api_login(&s, ADMIN_EMAIL, ADMIN_PASSWORD);
    let change = |current: &str| {
        c.post(s.url("/api/v1/auth/password"))
            .header("x-csrf-token", &csrf)
            .json(&json!({"current_password": current, "new_password": "a-brand-new-password"}))
            .send()
            .unwrap()
    };
    expect_problem(change("guess-1"), 422, "validation_failed");
    expect_problem(change("guess-2"), 422, "validation_failed");
    let r = change("guess-3");
    assert!(r.headers().contains_key("retry-after"));
    expect_problem(r, 429, "too_many_attempts");
    for guess in ["guess-4", ADMIN_PASSWORD] {
        let r = change(guess);
        assert!(r.headers().contains_key("retry-after"));
        expect_problem(r, 429, "too_many_attempts");
    }
    // After the lockout the right password works.
    s.clock.advance(chrono::Duration::seconds(901));
    assert_eq!(change(ADMIN_PASSWORD).status(), 204);

    // The console's password form, for another account.
    s.create_staff("sup@example.com", Role::Support, "support-password-1");
    let (c, _) = api_login(&s, "sup@example.com", "support-password-1");
    let csrf = page_csrf(&c.get(s.url("/password")).send().unwrap().text().unwrap());
    let submit = |current: &str| {
        c.post(s.url("/password"))
            .form(&[
                ("csrf", csrf.as_str()),
                ("current_password", current),
                ("new_password", "another-new-password"),
                ("confirm_password", "another-new-password"),
            ])
            .send()
            .unwrap()
    };
    assert_eq!(submit("guess-1").status(), 422);
    assert_eq!(submit("guess-2").status(), 422);
    for guess in ["guess-3", "support-password-1"] {
        let r = submit(guess);
        assert_eq!(r.status(), 429);
        assert!(r.headers().contains_key("retry-after"));
    }
}
