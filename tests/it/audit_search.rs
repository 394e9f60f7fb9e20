//! Searching and exporting the audit log (issue 12 item 6) against the real server:
//! prefix and contains filters, a time range, CSV and JSON export from the API and the
//! console, and failed sign-ins audited with the email and address, never the password,
//! within what the sign-in throttle lets through; the chain still verifies.

use crate::harness::*;
use crate::licensing::{Api, INSTALL};
use reqwest::blocking::Client;
use serde_json::{Value, json};

fn get(s: &TestServer, token: &str, q: &str) -> Value {
    let r = client()
        .get(s.url(&format!("/api/v1/audit{q}")))
        .bearer_auth(token)
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    r.json().unwrap()
}

fn actions(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_owned())
        .collect()
}

/// An API token whose name needs CSV quoting, and a license.
fn seed(s: &TestServer) -> String {
    let token = s.admin_token();
    let r = client()
        .post(s.url("/api/v1/tokens"))
        .bearer_auth(&token)
        .json(&json!({"name": "Doe, \"J\""}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 201);
    Api::new(s).issue(INSTALL, 30);
    token
}

#[test]
fn action_prefix_actor_contains_target_prefix_and_time_range() {
    let s = TestServer::start();
    let token = seed(&s);

    let license = actions(&get(&s, &token, "?action=license"));
    assert!(!license.is_empty(), "`license` finds license.* entries");
    assert!(
        license.iter().all(|a| a.starts_with("license")),
        "{license:?}"
    );
    assert!(license.iter().any(|a| a == "license.issue"), "{license:?}");
    // Case does not matter; an exact action still finds itself.
    assert_eq!(
        actions(&get(&s, &token, "?action=LICENSE.Issue")),
        ["license.issue"]
    );

    // The staff actor without its `staff:` prefix.
    let mine = get(&s, &token, &format!("?actor={ADMIN_EMAIL}"));
    let items = mine["items"].as_array().unwrap();
    assert!(items.len() >= 2, "{mine}");
    assert!(
        items
            .iter()
            .all(|e| e["actor"] == format!("staff:{ADMIN_EMAIL}"))
    );
    assert!(actions(&get(&s, &token, "?actor=nobody@example.com")).is_empty());

    let targets = get(&s, &token, "?target=license:");
    assert!(
        targets["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["target"].as_str().unwrap().starts_with("license:"))
    );

    // A time range by dates (the day of the test clock) or RFC 3339 times.
    let today = s.clock.now_utc().format("%Y-%m-%d").to_string();
    let yesterday = (s.clock.now_utc() - chrono::Duration::days(1))
        .format("%Y-%m-%d")
        .to_string();
    let on_the_day = get(
        &s,
        &token,
        &format!("?action=license&since={today}&until={today}"),
    );
    assert_eq!(actions(&on_the_day), license);
    let before = get(&s, &token, &format!("?action=license&until={yesterday}"));
    assert!(actions(&before).is_empty(), "{before}");
    let r = client()
        .get(s.url("/api/v1/audit?since=last+week"))
        .bearer_auth(&token)
        .send()
        .unwrap();
    let p = expect_problem(r, 422, "validation_failed");
    assert!(p["detail"].as_str().unwrap().starts_with("since: "), "{p}");
    let r = client()
        .get(s.url(&format!("/api/v1/audit?since={today}&until={yesterday}")))
        .bearer_auth(&token)
        .send()
        .unwrap();
    expect_problem(r, 422, "validation_failed");
}

/// Splits CSV text (RFC 4180) into records of fields.
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let (mut rows, mut row, mut field) = (Vec::new(), Vec::new(), String::new());
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut field)),
            (false, '\r') => {}
            (false, '\n') => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => field.push(c),
        }
    }
    rows
}

#[test]
fn export_gives_the_filtered_view_as_csv_and_json_from_the_api_and_the_console() {
    let s = TestServer::start();
    let token = seed(&s);
    let r = client()
        .get(s.url("/api/v1/audit/export?format=csv&action=token.create&actor=admin"))
        .bearer_auth(&token)
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "text/csv; charset=utf-8");
    let cd = r.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        cd.starts_with("attachment; filename=\"licd-audit-") && cd.ends_with(".csv\""),
        "{cd}"
    );
    let text = r.text().unwrap();
    let rows = parse_csv(&text);
    assert_eq!(
        rows[0],
        ["id", "at", "actor", "action", "target", "details", "hash"]
    );
    assert_eq!(rows.len(), 2, "{text}");
    assert_eq!(rows[1][3], "token.create");
    // The details are JSON text, and the quotes and comma inside survive the round trip.
    let details: Value = serde_json::from_str(&rows[1][5]).unwrap();
    assert_eq!(details["name"], "Doe, \"J\"", "{text}");
    assert!(
        text.contains("\"\"Doe, \\\"\"J\\\"\"\"\""),
        "quotes doubled: {text}"
    );

    // JSON: the same search, the same entries as the list shows.
    let r = client()
        .get(s.url("/api/v1/audit/export?format=json&action=license"))
        .bearer_auth(&token)
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .ends_with(".json\"")
    );
    let all: Value = r.json().unwrap();
    let listed = get(&s, &token, "?action=license");
    assert_eq!(all, listed["items"]);

    // A bad search and a bad format are refused.
    let r = client()
        .get(s.url("/api/v1/audit/export?format=csv&until=nope"))
        .bearer_auth(&token)
        .send()
        .unwrap();
    expect_problem(r, 422, "validation_failed");
    let r = client()
        .get(s.url("/api/v1/audit/export?format=xml"))
        .bearer_auth(&token)
        .send()
        .unwrap();
    assert_eq!(r.status(), 400);

    // The console: the page links its export, which carries the same search.
    let (c, _) = api_login(&s, ADMIN_EMAIL, ADMIN_PASSWORD);
    let page = c
        .get(s.url("/audit?action=token&actor=admin"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(
        page.contains("export?format=csv&amp;action=token&amp;actor=admin\" id=\"export-csv\""),
        "{page}"
    );
    assert!(
        page.contains("<dt>name</dt><dd>Doe, &quot;J&quot;</dd>"),
        "details as key/value: {page}"
    );
    let r = c
        .get(s.url("/audit/export?format=json&action=token&actor=admin"))
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment")
    );
    let console: Value = r.json().unwrap();
    assert_eq!(
        console,
        get(&s, &token, "?action=token&actor=admin")["items"]
    );
    // An onboarding account has no audit.read.
    let onboarding = s.role_token(licd::domain::permissions::Role::Onboarding);
    let r = client()
        .get(s.url("/api/v1/audit/export?format=csv"))
        .bearer_auth(&onboarding)
        .send()
        .unwrap();
    expect_problem(r, 403, "forbidden");
}

/// Signs in through the console's form (pre-login cookie and its CSRF token).
fn console_sign_in(s: &TestServer, email: &str, password: &str) -> u16 {
    let c = Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = c.get(s.url("/login")).send().unwrap().text().unwrap();
    let csrf = page
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|t| t.split('"').next())
        .unwrap()
        .to_owned();
    c.post(s.url("/login"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("email", email),
            ("password", password),
        ])
        .send()
        .unwrap()
        .status()
        .as_u16()
}

#[test]
fn failed_sign_ins_are_audited_with_email_and_address_but_no_password() {
    let s = TestServer::start();
    let token = s.admin_token();
    let secret_guess = "not-the-Password-4711";
    let r = client()
        .post(s.url("/api/v1/auth/login"))
        .json(&json!({"email": ADMIN_EMAIL, "password": secret_guess}))
        .send()
        .unwrap();
    expect_problem(r, 401, "invalid_credentials");
    assert_eq!(console_sign_in(&s, "Nobody@Example.com", secret_guess), 401);

    let failed = get(&s, &token, "?action=auth.login_failed");
    let items = failed["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{failed}");
    let (console, api) = (&items[0], &items[1]);
    assert_eq!(api["actor"], "anonymous");
    assert_eq!(api["target"], "user:1");
    assert_eq!(api["details"]["email"], ADMIN_EMAIL);
    assert_eq!(api["details"]["address"], "127.0.0.1");
    assert_eq!(api["details"]["reason"], "wrong_password");
    assert_eq!(console["details"]["email"], "nobody@example.com");
    assert_eq!(console["details"]["reason"], "unknown_account");
    assert_eq!(console["details"]["address"], "127.0.0.1");

    // The password appears nowhere in the log.
    let all = client()
        .get(s.url("/api/v1/audit/export?format=json"))
        .bearer_auth(&token)
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(!all.contains(secret_guess));

    let dir = s.stop();
    let out = run(licd().args([
        "audit",
        "verify",
        "--data-dir",
        dir.path().to_str().unwrap(),
    ]));
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("audit chain intact"), "{}", text(&out));
}

#[test]
fn a_sign_in_flood_is_audited_only_as_far_as_the_throttle_lets_guesses_through() {
    let s = TestServer::start();
    let token = s.admin_token();
    let (mut refused, mut checked) = (0, 0);
    for i in 0..30 {
        let r = client()
            .post(s.url("/api/v1/auth/login"))
            .json(&json!({"email": ADMIN_EMAIL, "password": format!("guess-{i}")}))
            .send()
            .unwrap();
        match r.status().as_u16() {
            401 => checked += 1,
            429 => refused += 1,
            other => panic!("unexpected {other}"),
        }
    }
    assert!(
        refused > 0 && checked <= 5,
        "{checked} checked, {refused} refused"
    );
    // One entry per guess that reached the password check (the guess that used up the
    // account's allowance is checked, audited and answered 429); none for the rest.
    let failed = get(&s, &token, "?action=auth.login_failed&limit=500");
    let audited = failed["items"].as_array().unwrap().len();
    assert!(
        audited >= checked && audited <= 5,
        "{audited} audited, {checked} answered 401, of 30 tried"
    );
}
