//! The console's page pattern (`licd::http::ui::form`): a refused form is shown again
//! with the message and what was typed; success redirects (post-redirect-get) with a
//! fixed notice, and a new secret is shown once; every refusal on a console route is an
//! HTML page with a way back, never the API's problem+json.

use crate::harness::*;
use reqwest::blocking::{Client, Response};
use serde_json::json;

/// A browser-like session: the cookie client and the CSRF token its forms carry.
fn session(s: &TestServer) -> (Client, String) {
    api_login(s, ADMIN_EMAIL, ADMIN_PASSWORD)
}

fn post(c: &Client, s: &TestServer, path: &str, fields: &[(&str, &str)]) -> Response {
    c.post(s.url(path)).form(fields).send().unwrap()
}

fn location(r: &Response) -> String {
    r.headers()["location"].to_str().unwrap().to_owned()
}

#[test]
fn a_refused_form_comes_back_with_the_message_and_what_was_typed() {
    let s = TestServer::start();
    let (c, csrf) = session(&s);
    let r = post(
        &c,
        &s,
        "/tokens",
        &[
            ("csrf", &csrf),
            ("name", "deploy <script>"),
            ("expires_in_days", "0"),
        ],
    );
    assert_eq!(r.status(), 422);
    let page = r.text().unwrap();
    assert!(
        page.contains("expires_in_days: a whole number of days"),
        "{page}"
    );
    assert!(page.contains("value=\"deploy &lt;script&gt;\""), "{page}");
    assert!(page.contains("value=\"0\""), "{page}");

    // The license page's action forms: the one that failed is refilled.
    let api = crate::licensing::Api::new(&s);
    let id = api.issue(crate::licensing::INSTALL, 365)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = post(
        &c,
        &s,
        &format!("/licensing/licenses/{id}/subscription"),
        &[
            ("csrf", &csrf),
            ("status", "canceled"),
            ("period_end", "31.12.2026"),
        ],
    );
    assert_eq!(r.status(), 422);
    let page = r.text().unwrap();
    assert!(page.contains("period_end: must be a date"), "{page}");
    assert!(page.contains("value=\"31.12.2026\""), "{page}");
    assert!(
        page.contains("<option value=\"canceled\" selected>"),
        "{page}"
    );
}

#[test]
fn success_redirects_with_a_notice_and_a_secret_is_shown_once() {
    let s = TestServer::start();
    let (c, csrf) = session(&s);
    let r = post(&c, &s, "/tokens", &[("csrf", &csrf), ("name", "ci")]);
    assert_eq!(r.status(), 303, "post-redirect-get");
    let to = location(&r);
    assert!(to.starts_with("/tokens?shown="), "{to}");
    let page = c.get(s.url(&to)).send().unwrap().text().unwrap();
    let secret = page
        .split("id=\"token-secret\">")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .to_owned();
    assert!(secret.starts_with("licd_"), "{page}");
    // A reload shows the page, not the secret again, and creates nothing.
    let again = c.get(s.url(&to)).send().unwrap().text().unwrap();
    assert!(!again.contains(&secret));
    assert_eq!(again.matches("<td>ci</td>").count(), 1, "{again}");
    // Another account cannot take it either.
    let (other, _) = {
        s.create_staff(
            "other@example.com",
            licd::domain::permissions::Role::SuperAdmin,
            "other-password-1",
        );
        api_login(&s, "other@example.com", "other-password-1")
    };
    let r = post(&c, &s, "/tokens", &[("csrf", &csrf), ("name", "ci-2")]);
    let to = location(&r);
    let theirs = other.get(s.url(&to)).send().unwrap().text().unwrap();
    assert!(!theirs.contains("id=\"token-secret\""), "{theirs}");

    // Revoking redirects with a fixed notice.
    let id = licd::service::tokens::list(
        &s.app.tenants.public().unwrap(),
        s.clock.now_utc(),
        licd::service::staff::id_by_email(&s.app.tenants.public().unwrap(), ADMIN_EMAIL).unwrap(),
    )
    .unwrap()[0]
        .id;
    let r = post(&c, &s, &format!("/tokens/{id}/revoke"), &[("csrf", &csrf)]);
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r), "/tokens?notice=token_revoked");
    let page = c.get(s.url("/tokens?notice=token_revoked")).send().unwrap();
    assert!(page.text().unwrap().contains("The token has been revoked."));
    // Unknown notices show nothing (nothing in a link is reflected).
    let r = c.get(s.url("/tokens?notice=%3Cscript%3E")).send().unwrap();
    assert_eq!(r.status(), 200);
    assert!(!r.text().unwrap().contains("class=\"notice\""));
}

#[test]
fn console_refusals_are_pages_with_a_way_back() {
    let s = TestServer::start();
    let admin = s.admin_token();
    let c = client();
    // A form that cannot be read (no password fields).
    let r = c
        .post(s.url("/password"))
        .bearer_auth(&admin)
        .form(&[("x", "y")])
        .send()
        .unwrap();
    expect_console_refusal(r, 400, "new_password", "/password");
    // An id that is not one.
    let r = c
        .post(s.url("/users/abc/role"))
        .bearer_auth(&admin)
        .form(&[("role", "support")])
        .send()
        .unwrap();
    expect_console_refusal(r, 404, "nothing exists", "/users");
    // A method the page does not take.
    let r = c.put(s.url("/tokens")).bearer_auth(&admin).send().unwrap();
    assert_eq!(r.headers()["allow"], "GET, POST");
    expect_console_refusal(r, 405, "GET, POST", "/");
    // The API keeps answering problem+json.
    let r = c
        .put(s.url("/api/v1/tokens"))
        .bearer_auth(&admin)
        .json(&json!({}))
        .send()
        .unwrap();
    expect_problem(r, 405, "method_not_allowed");
}

#[test]
fn a_form_posted_after_the_session_ended_leads_to_sign_in_and_back_to_its_page() {
    let s = TestServer::start();
    let (c, csrf) = session(&s);
    assert_eq!(c.get(s.url("/tokens")).send().unwrap().status(), 200);
    s.clock.advance(chrono::Duration::hours(13));
    let r = post(&c, &s, "/tokens", &[("csrf", &csrf), ("name", "late")]);
    assert_eq!(r.status(), 303);
    let to = location(&r);
    assert_eq!(to, "/login?next=%2Ftokens&notice=session_ended");
    let page = c.get(s.url(&to)).send().unwrap().text().unwrap();
    assert!(page.contains("Your session has ended, so nothing was changed."));
    assert!(
        page.contains("name=\"next\" value=\"&#x2f;tokens\""),
        "{page}"
    );
    // A page visit with the ended session says so too; a first visit does not.
    let r = c.get(s.url("/audit")).send().unwrap();
    assert_eq!(location(&r), "/login?next=%2Faudit&notice=session_ended");
    let r = client().get(s.url("/audit")).send().unwrap();
    assert_eq!(location(&r), "/login?next=%2Faudit");
}

#[test]
fn the_sweep_report_is_shown_on_the_licenses_page_once() {
    let s = TestServer::start();
    let api = crate::licensing::Api::new(&s);
    api.issue(crate::licensing::INSTALL, 1);
    s.clock.advance(chrono::Duration::days(2));
    let (c, csrf) = session(&s);
    let r = post(
        &c,
        &s,
        "/licensing/sweep",
        &[("csrf", &csrf), ("dry_run", "on")],
    );
    assert_eq!(r.status(), 303);
    let to = location(&r);
    let page = c.get(s.url(&to)).send().unwrap().text().unwrap();
    assert!(page.contains("id=\"sweep-report\""), "{page}");
    assert!(page.contains("dry run: nothing was changed"), "{page}");
    assert!(page.contains("would move 1"), "{page}");
    let again = c.get(s.url(&to)).send().unwrap().text().unwrap();
    assert!(!again.contains("id=\"sweep-report\""));
}
