//! Customer accounts and the portal's sign-in side, against a real server and a real
//! SMTP sink on loopback (`smtp_sink`): open sign-up and verification by the emailed
//! link, invite-only sign-up refused, password reset by email, throttled wrong
//! passwords, disabled accounts, customer and staff credentials never crossing, and the
//! staff Customers pages and API.

use crate::harness::*;
use crate::smtp_sink::{Received, SmtpSink};
use base64::Engine;
use chrono::Duration;
use licd::config::{Config, Signup};
use licd::domain::permissions::Role;
use licd::service::portal_auth;
use reqwest::blocking::{Client, Response};
use serde_json::{Value, json};

const EMAIL: &str = "ada@customer.example";
pub(crate) const PASSWORD: &str = "ada-portal-password";

/// A server with open sign-up (or not) whose email goes to `sink`.
pub(crate) fn server(sink: &SmtpSink, signup: Signup) -> TestServer {
    server_with(sink, |c| c.portal.signup = signup)
}

pub(crate) fn server_with(sink: &SmtpSink, tweak: impl FnOnce(&mut Config)) -> TestServer {
    let url = sink.url();
    TestServer::start_in(tempfile::tempdir().unwrap(), move |c| {
        c.email.smtp_url = Some(url);
        c.email.from = Some("Acme Licensing <licensing@acme.test>".into());
        c.portal.product_name = "Acme Portal".into();
        tweak(c);
    })
}

/// The hidden `csrf` field of a page.
pub(crate) fn csrf_of(page: &str) -> String {
    page.split("name=\"csrf\" value=\"")
        .nth(1)
        .unwrap_or_else(|| panic!("the page has a csrf field: {page}"))
        .split('"')
        .next()
        .unwrap()
        .to_owned()
}

pub(crate) fn location(r: &Response) -> String {
    r.headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

fn set_cookies(r: &Response) -> Vec<String> {
    r.headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect()
}

/// One browser: a client that keeps its cookies.
pub(crate) struct Browser<'a> {
    s: &'a TestServer,
    c: Client,
}

impl<'a> Browser<'a> {
    pub(crate) fn new(s: &'a TestServer) -> Self {
        Browser { s, c: s.client() }
    }

    pub(crate) fn get(&self, path: &str) -> Response {
        self.c.get(self.s.url(path)).send().unwrap()
    }

    /// A page that must answer 200.
    #[track_caller]
    pub(crate) fn page(&self, path: &str) -> String {
        let r = self.get(path);
        let status = r.status().as_u16();
        let text = r.text().unwrap();
        assert_eq!(status, 200, "GET {path}: {text}");
        text
    }

    /// Posts a form from the page at `from` (its CSRF token) to `to`.
    pub(crate) fn post(&self, from: &str, to: &str, fields: &[(&str, &str)]) -> Response {
        let csrf = csrf_of(&self.page(from));
        let mut all: Vec<(&str, &str)> = vec![("csrf", &csrf)];
        all.extend_from_slice(fields);
        self.c.post(self.s.url(to)).form(&all).send().unwrap()
    }

    /// Posts the fields as they are: no CSRF token is added.
    pub(crate) fn post_raw(&self, to: &str, fields: &[(&str, &str)]) -> Response {
        self.c.post(self.s.url(to)).form(fields).send().unwrap()
    }

    pub(crate) fn sign_in(&self, email: &str, password: &str) -> Response {
        self.post(
            "/portal/login",
            "/portal/login",
            &[("email", email), ("password", password)],
        )
    }
}

/// Signs up through the form (open sign-up); the browser is then signed in.
#[track_caller]
fn sign_up(b: &Browser<'_>, email: &str) {
    let r = b.post(
        "/portal/signup",
        "/portal/signup",
        &[
            ("email", email),
            ("display_name", "Ada"),
            ("password", PASSWORD),
            ("confirm_password", PASSWORD),
        ],
    );
    assert_eq!(r.status(), 303, "{}", r.text().unwrap());
    assert_eq!(location(&r), "/portal/");
}

/// A verified, enabled customer made by the service (as an accepted invitation would).
pub(crate) fn customer(s: &TestServer, email: &str, verified: bool) -> i64 {
    let t = s.app.tenants.public().unwrap();
    portal_auth::create(&s.app, &t, s.clock.now_utc(), email, "", PASSWORD, verified).unwrap()
}

/// Runs the jobs (email delivery) and returns what the sink got for `to` since `seen`.
pub(crate) fn mail_for(s: &TestServer, sink: &SmtpSink, to: &str) -> Vec<Received> {
    s.clock.advance(Duration::seconds(5));
    licd::jobs::run_due(&s.app);
    sink.messages()
        .into_iter()
        .filter(|m| m.rcpt_to.iter().any(|r| r == to))
        .collect()
}

/// The text/plain body of a message, decoded.
pub(crate) fn text_body(m: &Received) -> String {
    let part = m
        .data
        .split("Content-Type: text/plain")
        .nth(1)
        .unwrap_or_else(|| panic!("a text part: {}", m.data));
    let (head, rest) = part.split_once("\r\n\r\n").unwrap();
    let body = rest.split("\r\n--").next().unwrap();
    if head.contains("Content-Transfer-Encoding: base64") {
        let joined: String = body.split("\r\n").collect();
        String::from_utf8(
            base64::engine::general_purpose::STANDARD
                .decode(joined)
                .unwrap(),
        )
        .unwrap()
    } else if head.contains("Content-Transfer-Encoding: quoted-printable") {
        let soft = body.replace("=\r\n", "");
        let mut out = Vec::new();
        let bytes = soft.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'=' && i + 2 < bytes.len() {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap();
                out.push(u8::from_str_radix(hex, 16).unwrap());
                i += 3;
            } else {
                out.push(bytes[i]);
                i += 1;
            }
        }
        String::from_utf8(out).unwrap()
    } else {
        body.to_owned()
    }
}

/// The link in a message whose path starts with `path`: (its origin, its path and query).
pub(crate) fn link_in(m: &Received, path: &str) -> (String, String) {
    let text = text_body(m);
    let url = text
        .split_whitespace()
        .find(|w| w.starts_with("http") && w.contains(path))
        .unwrap_or_else(|| panic!("a link to {path} in {text}"))
        .to_owned();
    let at = url.find(path).unwrap();
    (url[..at].to_owned(), url[at..].to_owned())
}

/// The audit actions recorded for `target`, oldest first.
pub(crate) fn audited(s: &TestServer, target: &str) -> Vec<(String, String)> {
    let token = s.admin_token();
    let page: Value = s
        .client()
        .get(s.url(&format!("/api/v1/audit?target={target}&limit=500")))
        .bearer_auth(token)
        .send()
        .unwrap()
        .json()
        .unwrap();
    let mut out: Vec<(String, String)> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap().to_owned(),
                e["actor"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    out.reverse();
    out
}

#[test]
fn open_signup_works_only_after_the_emailed_link_verifies_the_address() {
    let sink = SmtpSink::start();
    let s = server(&sink, Signup::Open);
    let b = Browser::new(&s);
    let r = b.post(
        "/portal/signup",
        "/portal/signup",
        &[
            ("email", "Ada@Customer.Example"),
            ("display_name", "Ada"),
            ("password", PASSWORD),
            ("confirm_password", PASSWORD),
        ],
    );
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r), "/portal/");
    let cookie = set_cookies(&r)
        .into_iter()
        .find(|c| c.starts_with("licd_portal="))
        .expect("the portal session cookie");
    for attr in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(cookie.contains(attr), "{cookie}");
    }

    // Signed in, but nothing works before the address is verified.
    let home = b.page("/portal/");
    assert!(home.contains("id=\"check-email\""), "{home}");
    assert!(home.contains(EMAIL), "{home}");
    let r = b.get("/portal/account");
    assert_eq!(
        (r.status().as_u16(), location(&r)),
        (303, "/portal/".into())
    );
    let r = b.post("/portal/", "/portal/account/name", &[("display_name", "X")]);
    expect_console_refusal(r, 403, "Verify your email address first", "/portal/");

    // The message, sent through the outbox to the real SMTP sink.
    let got = mail_for(&s, &sink, EMAIL);
    assert_eq!(got.len(), 1, "{got:#?}");
    assert_eq!(
        got[0].header("Subject").as_deref(),
        Some("Verify your email address for Acme Portal")
    );
    let (origin, link) = link_in(&got[0], "/portal/verify?token=");
    assert_eq!(
        origin,
        format!("http://localhost:{}", s.app.config.server.listen.port()),
        "links come from configuration, never from the request's Host"
    );

    // Opening the link uses nothing up (mail scanners fetch links): twice, same page.
    for _ in 0..2 {
        let page = b.page(&link);
        assert!(
            page.contains("id=\"verify-form\"") && page.contains(EMAIL),
            "{page}"
        );
    }
    let r = b.post(
        &link,
        "/portal/verify",
        &[("token", link.split('=').nth(1).unwrap())],
    );
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r), "/portal/?notice=email_verified");
    let home = b.page("/portal/?notice=email_verified");
    assert!(home.contains("id=\"my-organizations\""), "{home}");
    assert!(home.contains("Your email address is verified"), "{home}");
    let account = b.page("/portal/account");
    assert!(account.contains(EMAIL), "{account}");

    // The link works once.
    let r = b.get(&link);
    assert_eq!(r.status(), 404);
    assert!(
        r.text()
            .unwrap()
            .contains("data-code=\"email_link_invalid\"")
    );
    let r = b.post(
        "/portal/",
        "/portal/verify",
        &[("token", link.split('=').nth(1).unwrap())],
    );
    assert_eq!(r.status(), 404);

    // A name change now works, and every step is in the tenant's audit chain.
    let r = b.post(
        "/portal/account",
        "/portal/account/name",
        &[("display_name", "Ada L.")],
    );
    assert_eq!(location(&r), "/portal/account?notice=name_changed");
    let actions = audited(&s, "customer:1");
    let names: Vec<&str> = actions.iter().map(|(a, _)| a.as_str()).collect();
    assert_eq!(
        names,
        [
            "customer.create",
            "customer.login",
            "customer.email_verified",
            "customer.rename"
        ]
    );
    assert!(
        actions
            .iter()
            .all(|(_, actor)| actor == &format!("customer:{EMAIL}"))
    );
}

#[test]
fn the_verification_link_can_be_sent_again_once_a_minute_and_only_the_newest_works() {
    let sink = SmtpSink::start();
    let s = server(&sink, Signup::Open);
    let b = Browser::new(&s);
    sign_up(&b, EMAIL);
    let r = b.post("/portal/", "/portal/verify/resend", &[]);
    assert_eq!(r.status(), 429, "within the minute");
    assert!(r.headers().contains_key("retry-after"));
    s.clock.advance(Duration::seconds(61));
    let r = b.post("/portal/", "/portal/verify/resend", &[]);
    assert_eq!(location(&r), "/portal/?notice=verification_sent");
    let got = mail_for(&s, &sink, EMAIL);
    assert_eq!(got.len(), 2);
    let (_, first) = link_in(&got[0], "/portal/verify?token=");
    let (_, second) = link_in(&got[1], "/portal/verify?token=");
    assert_eq!(b.get(&first).status(), 404, "replaced by the newer link");
    // The newest works, from another browser too (not signed in: on to sign-in).
    let other = Browser::new(&s);
    let r = other.post(
        &second,
        "/portal/verify",
        &[("token", second.split('=').nth(1).unwrap())],
    );
    assert_eq!(location(&r), "/portal/login?notice=email_verified");
    assert!(b.page("/portal/").contains("id=\"my-organizations\""));
}

#[test]
fn invite_only_refuses_a_plain_signup() {
    let sink = SmtpSink::start();
    let s = server(&sink, Signup::InviteOnly);
    let b = Browser::new(&s);
    let page = b.page("/portal/signup");
    assert!(page.contains("id=\"signup-invite-only\""), "{page}");
    assert!(!page.contains("id=\"signup-form\""));
    assert!(!b.page("/portal/login").contains("id=\"signup-link\""));
    // A form posted all the same (the page has none: the sign-in page's token).
    let r = b.post(
        "/portal/login",
        "/portal/signup",
        &[
            ("email", EMAIL),
            ("password", PASSWORD),
            ("confirm_password", PASSWORD),
        ],
    );
    assert_eq!(r.status(), 403);
    let page = r.text().unwrap();
    assert!(page.contains("data-code=\"signup_invite_only\""), "{page}");
    let t = s.app.tenants.public().unwrap();
    assert!(
        licd::service::customers::list(&t, "", 10)
            .unwrap()
            .is_empty()
    );
    assert!(mail_for(&s, &sink, EMAIL).is_empty());
}

#[test]
fn a_password_reset_by_email_ends_every_session_and_its_link_works_once() {
    let sink = SmtpSink::start();
    let s = server(&sink, Signup::InviteOnly);
    customer(&s, EMAIL, true);
    let signed_in = Browser::new(&s);
    assert_eq!(location(&signed_in.sign_in(EMAIL, PASSWORD)), "/portal/");
    assert_eq!(signed_in.get("/portal/account").status(), 200);

    // Known and unknown addresses get the same answer; only the known one gets mail.
    let b = Browser::new(&s);
    let known = b.post(
        "/portal/password/forgot",
        "/portal/password/forgot",
        &[("email", EMAIL)],
    );
    let unknown = b.post(
        "/portal/password/forgot",
        "/portal/password/forgot",
        &[("email", "nobody@customer.example")],
    );
    assert_eq!(
        (known.status(), location(&known)),
        (unknown.status(), location(&unknown))
    );
    assert_eq!(
        location(&known),
        "/portal/password/forgot?notice=reset_requested"
    );
    assert!(mail_for(&s, &sink, "nobody@customer.example").is_empty());
    let got = mail_for(&s, &sink, EMAIL);
    assert_eq!(got.len(), 1);
    let (_, link) = link_in(&got[0], "/portal/password/reset?token=");
    let token = link.split('=').nth(1).unwrap().to_owned();

    // Opening the link shows the form; a mismatch or a weak password uses nothing up.
    let page = b.page(&link);
    assert!(
        page.contains("id=\"reset-form\"") && page.contains(EMAIL),
        "{page}"
    );
    let new = "a-brand-new-password";
    let r = b.post(
        &link,
        "/portal/password/reset",
        &[
            ("token", &token),
            ("new_password", new),
            ("confirm_password", "other"),
        ],
    );
    assert_eq!(r.status(), 422);
    let r = b.post(
        &link,
        "/portal/password/reset",
        &[
            ("token", &token),
            ("new_password", "short"),
            ("confirm_password", "short"),
        ],
    );
    assert_eq!(r.status(), 422);
    let r = b.post(
        &link,
        "/portal/password/reset",
        &[
            ("token", &token),
            ("new_password", new),
            ("confirm_password", new),
        ],
    );
    assert_eq!(location(&r), "/portal/login?notice=password_reset");

    // The old session ended; the link is used up; the old password is gone.
    let r = signed_in.get("/portal/account");
    assert_eq!(r.status(), 303);
    assert!(location(&r).starts_with("/portal/login?next=%2Fportal%2Faccount"));
    let r = b.post(
        "/portal/login",
        "/portal/password/reset",
        &[
            ("token", &token),
            ("new_password", new),
            ("confirm_password", new),
        ],
    );
    assert_eq!(r.status(), 404);
    assert!(
        r.text()
            .unwrap()
            .contains("data-code=\"email_link_invalid\"")
    );
    assert_eq!(b.sign_in(EMAIL, PASSWORD).status(), 401);
    assert_eq!(location(&b.sign_in(EMAIL, new)), "/portal/");

    // An expired link is refused, and says so.
    s.clock.advance(Duration::seconds(61));
    let r = b.post(
        "/portal/password/forgot",
        "/portal/password/forgot",
        &[("email", EMAIL)],
    );
    assert_eq!(r.status(), 303);
    let got = mail_for(&s, &sink, EMAIL);
    let (_, link) = link_in(&got[1], "/portal/password/reset?token=");
    s.clock.advance(Duration::hours(24));
    let r = b.get(&link);
    assert_eq!(r.status(), 410);
    assert!(
        r.text()
            .unwrap()
            .contains("data-code=\"email_link_expired\"")
    );
    let names: Vec<String> = audited(&s, "customer:1")
        .into_iter()
        .map(|(a, _)| a)
        .collect();
    assert!(
        names.contains(&"customer.password_reset_requested".to_owned()),
        "{names:?}"
    );
    assert!(
        names.contains(&"customer.password_reset".to_owned()),
        "{names:?}"
    );
}

#[test]
fn wrong_passwords_are_throttled_apart_from_staff() {
    let sink = SmtpSink::start();
    let s = server(&sink, Signup::InviteOnly);
    customer(&s, EMAIL, true);
    // Staff with the same address: its own counter.
    s.create_staff(EMAIL, Role::Support, "staff-password-123");
    let b = Browser::new(&s);
    for _ in 0..2 {
        let r = b.sign_in(EMAIL, "wrong-password");
        assert_eq!(r.status(), 401);
        assert!(
            r.text()
                .unwrap()
                .contains("data-code=\"invalid_credentials\"")
        );
    }
    let r = b.sign_in(EMAIL, "wrong-password");
    assert_eq!(r.status(), 429, "the third failure locks the account");
    assert!(r.headers().contains_key("retry-after"));
    let r = b.sign_in(EMAIL, PASSWORD);
    assert_eq!(r.status(), 429, "even the right password waits");
    // The staff account with the same email signs in.
    let r = s
        .client()
        .post(s.url("/api/v1/auth/login"))
        .json(&json!({"email": EMAIL, "password": "staff-password-123"}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    s.clock.advance(Duration::minutes(16));
    assert_eq!(location(&b.sign_in(EMAIL, PASSWORD)), "/portal/");
    let failed: Vec<(String, String)> = audited(&s, "customer:1")
        .into_iter()
        .filter(|(a, _)| a == "customer.login_failed")
        .collect();
    assert_eq!(failed.len(), 3, "{failed:?}");
}

#[test]
fn a_disabled_customer_is_signed_out_and_cannot_sign_in() {
    let sink = SmtpSink::start();
    let s = server(&sink, Signup::InviteOnly);
    let id = customer(&s, EMAIL, true);
    let b = Browser::new(&s);
    b.sign_in(EMAIL, PASSWORD);
    assert_eq!(b.get("/portal/account").status(), 200);
    let admin = s.admin_token();
    let patch = |disabled: bool| {
        s.client()
            .patch(s.url(&format!("/api/v1/customers/{id}")))
            .bearer_auth(&admin)
            .json(&json!({"disabled": disabled}))
            .send()
            .unwrap()
    };
    let r = patch(true);
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().unwrap()["disabled"], true);
    let r = b.get("/portal/account");
    assert_eq!(r.status(), 303, "the session stopped working");
    assert!(location(&r).starts_with("/portal/login?"));
    let r = b.sign_in(EMAIL, PASSWORD);
    assert_eq!(r.status(), 403);
    assert!(r.text().unwrap().contains("data-code=\"account_disabled\""));
    // No reset link for a disabled account, and no mail either.
    b.post(
        "/portal/password/forgot",
        "/portal/password/forgot",
        &[("email", EMAIL)],
    );
    assert!(mail_for(&s, &sink, EMAIL).is_empty());
    assert_eq!(patch(false).status(), 200);
    assert_eq!(location(&b.sign_in(EMAIL, PASSWORD)), "/portal/");
    let actions = audited(&s, &format!("customer:{id}"));
    assert!(actions.contains(&("customer.disable".into(), "staff:admin@example.com".into())));
    assert!(actions.contains(&("customer.enable".into(), "staff:admin@example.com".into())));
}

#[test]
fn customer_and_staff_credentials_never_cross() {
    let sink = SmtpSink::start();
    let s = server(&sink, Signup::InviteOnly);
    customer(&s, EMAIL, true);
    let customer = Browser::new(&s);
    let secret = cookie_value(&customer.sign_in(EMAIL, PASSWORD), "licd_portal");
    assert_eq!(customer.get("/portal/account").status(), 200);

    // The customer's cookie on the console and the API: nobody.
    let r = customer.get("/");
    assert_eq!(r.status(), 303);
    assert!(location(&r).starts_with("/login?next="));
    let r = customer.get("/api/v1/me");
    expect_problem(r, 401, "unauthenticated");
    let r = customer.get("/customers/accounts");
    assert!(location(&r).starts_with("/login?"));
    // Its secret under the staff cookie's name: no staff session either.
    let r = client()
        .get(s.url("/api/v1/me"))
        .header("cookie", format!("licd_session={secret}"))
        .send()
        .unwrap();
    expect_problem(r, 401, "unauthenticated");

    // A staff session cookie and an API token on the portal: nobody.
    let staff = s.client();
    let r = staff
        .post(s.url("/api/v1/auth/login"))
        .json(&json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}))
        .send()
        .unwrap();
    let staff_secret = cookie_value(&r, "licd_session");
    let csrf = r.json::<Value>().unwrap()["csrf_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(staff.get(s.url("/api/v1/me")).send().unwrap().status(), 200);
    let r = staff.get(s.url("/portal/account")).send().unwrap();
    assert!(location(&r).starts_with("/portal/login?next="));
    let r = staff
        .post(s.url("/portal/account/name"))
        .header("x-csrf-token", &csrf)
        .form(&[("display_name", "x"), ("csrf", &csrf)])
        .send()
        .unwrap();
    expect_console_refusal(
        r,
        403,
        "Your session has ended",
        "/portal/login?next=%2Fportal%2Faccount",
    );
    let token = s.admin_token();
    for path in ["/portal/", "/portal/account"] {
        let r = client()
            .get(s.url(path))
            .bearer_auth(&token)
            .send()
            .unwrap();
        assert_eq!(r.status(), 303, "{path}");
        assert!(location(&r).starts_with("/portal/login?next="));
    }
    let r = client()
        .get(s.url("/portal/account"))
        .header("cookie", format!("licd_portal={staff_secret}"))
        .send()
        .unwrap();
    assert!(
        location(&r).starts_with("/portal/login?"),
        "a staff session is no portal session"
    );
}

/// The value a response sets for cookie `name`.
fn cookie_value(r: &Response, name: &str) -> String {
    set_cookies(r)
        .iter()
        .find_map(|c| c.strip_prefix(&format!("{name}=")))
        .map(|rest| rest.split(';').next().unwrap().to_owned())
        .unwrap_or_else(|| panic!("no {name} cookie set"))
}

#[test]
fn staff_manage_customer_accounts_on_the_console_and_the_api() {
    let sink = SmtpSink::start();
    let s = server(&sink, Signup::InviteOnly);
    let ada = customer(&s, EMAIL, true);
    let bob = customer(&s, "bob@customer.example", false);
    let t = s.app.tenants.public().unwrap();
    let by = licd::service::organizations::CustomerActor {
        id: ada,
        email: EMAIL.into(),
    };
    licd::service::organizations::create(&t, s.clock.now_utc(), &by, "Acme", "ops@acme.example")
        .unwrap();
    let token = s.role_token(Role::Onboarding);
    let api = |method: reqwest::Method, path: &str| {
        s.client().request(method, s.url(path)).bearer_auth(&token)
    };

    // The API: list, search, show with organizations.
    let list: Value = api(reqwest::Method::GET, "/api/v1/customers")
        .send()
        .unwrap()
        .json()
        .unwrap();
    let emails: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["email"].as_str().unwrap())
        .collect();
    assert_eq!(emails, [EMAIL, "bob@customer.example"]);
    assert!(list["items"][0].get("password_hash").is_none());
    let found: Value = api(reqwest::Method::GET, "/api/v1/customers?search=BOB")
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(found["items"].as_array().unwrap().len(), 1);
    assert_eq!(found["items"][0]["email_verified"], false);
    let r = api(reqwest::Method::GET, "/api/v1/customers?limit=0")
        .send()
        .unwrap();
    expect_problem(r, 422, "validation_failed");
    let shown: Value = api(reqwest::Method::GET, &format!("/api/v1/customers/{ada}"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(shown["email"], EMAIL);
    assert_eq!(
        shown["organizations"],
        json!([{"organization_id": 1, "name": "Acme", "role": "owner"}])
    );

    // Links by email: a reset for Ada (its link opens the reset form), the verification
    // again for Bob only (Ada is verified).
    let r = api(
        reqwest::Method::POST,
        &format!("/api/v1/customers/{ada}/reset-password"),
    )
    .send()
    .unwrap();
    assert_eq!(r.status(), 200);
    let sent: Value = r.json().unwrap();
    assert_eq!(sent["to"], EMAIL);
    assert!(sent["outbox_id"].is_i64());
    let got = mail_for(&s, &sink, EMAIL);
    let (_, link) = link_in(&got[0], "/portal/password/reset?token=");
    assert!(Browser::new(&s).page(&link).contains("id=\"reset-form\""));
    let r = api(
        reqwest::Method::POST,
        &format!("/api/v1/customers/{ada}/resend-verification"),
    )
    .send()
    .unwrap();
    expect_problem(r, 409, "email_already_verified");
    let r = api(
        reqwest::Method::POST,
        &format!("/api/v1/customers/{bob}/resend-verification"),
    )
    .send()
    .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(mail_for(&s, &sink, "bob@customer.example").len(), 1);
    let r = api(reqwest::Method::GET, "/api/v1/customers/999")
        .send()
        .unwrap();
    expect_problem(r, 404, "not_found");

    // The console: the list, a search, the account page with its organization.
    let (c, csrf) = api_login(&s, ADMIN_EMAIL, ADMIN_PASSWORD);
    let page = c
        .get(s.url("/customers/accounts"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(
        page.contains(&format!("href=\"/customers/accounts/{ada}\"")),
        "{page}"
    );
    assert!(
        page.contains(">Customer accounts</a>"),
        "in the navigation: {page}"
    );
    let page = c
        .get(s.url("/customers/accounts?search=bob"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(
        page.contains("bob@customer.example") && !page.contains(EMAIL),
        "{page}"
    );
    assert!(page.contains("unverified"));
    let page = c
        .get(s.url(&format!("/customers/accounts/{ada}")))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(page.contains("<td>Acme</td><td>owner</td>"), "{page}");

    // Disable from the console: Ada's session ends; a reset link is refused while
    // disabled; enable again; a reset link from the console shows its outbox message.
    let portal = Browser::new(&s);
    portal.sign_in(EMAIL, PASSWORD);
    let post = |path: &str| {
        c.post(s.url(path))
            .form(&[("csrf", csrf.as_str())])
            .send()
            .unwrap()
    };
    let r = post(&format!("/customers/accounts/{ada}/disable"));
    assert_eq!(
        location(&r),
        format!("/customers/accounts/{ada}?notice=customer_disabled")
    );
    assert_eq!(portal.get("/portal/").status(), 303);
    let r = post(&format!("/customers/accounts/{ada}/reset-password"));
    assert_eq!(r.status(), 403);
    assert!(
        r.text()
            .unwrap()
            .contains("is disabled: enable the account first")
    );
    let r = post(&format!("/customers/accounts/{ada}/enable"));
    assert_eq!(
        location(&r),
        format!("/customers/accounts/{ada}?notice=customer_enabled")
    );
    let r = post(&format!("/customers/accounts/{ada}/reset-password"));
    let to = location(&r);
    assert!(to.contains("notice=customer_reset_sent&shown="), "{to}");
    let page = c.get(s.url(&to)).send().unwrap().text().unwrap();
    assert!(page.contains("id=\"sent-outbox-link\""), "{page}");
    let r = post(&format!("/customers/accounts/{bob}/resend-verification"));
    assert!(location(&r).contains("notice=customer_verification_sent"));

    let actions = audited(&s, &format!("customer:{ada}"));
    for (action, actor) in [
        ("customer.password_reset_sent", "staff:onboarding-"),
        ("customer.disable", "staff:admin@example.com"),
        ("customer.enable", "staff:admin@example.com"),
        ("customer.password_reset_sent", "staff:admin@example.com"),
    ] {
        assert!(
            actions
                .iter()
                .any(|(a, by)| a == action && by.starts_with(actor)),
            "{action} by {actor}: {actions:?}"
        );
    }
}

#[test]
fn under_tls_the_portal_cookie_is_host_prefixed_and_secure() {
    let s = TestServer::start_in(tempfile::tempdir().unwrap(), |c| c.tls.enabled = true);
    customer(&s, EMAIL, true);
    let b = Browser::new(&s);
    let r = b.sign_in(EMAIL, PASSWORD);
    assert_eq!(r.status(), 303);
    let cookie = set_cookies(&r)
        .into_iter()
        .find(|c| c.starts_with("__Host-licd_portal="))
        .expect("__Host-licd_portal");
    for attr in ["; Secure", "; Path=/", "HttpOnly", "SameSite=Lax"] {
        assert!(cookie.contains(attr), "{cookie}");
    }
    assert!(!cookie.to_ascii_lowercase().contains("domain="), "{cookie}");
    assert!(
        set_cookies(&r)
            .iter()
            .any(|c| c.starts_with("__Host-licd_portal_device=")),
        "the portal device cookie"
    );
    assert_eq!(b.get("/portal/account").status(), 200);
    // The bare name is not read under TLS.
    let secret = cookie_value(&r, "__Host-licd_portal");
    let bare = tls_client_builder(s.app.ca.cert_pem())
        .cookie_store(false)
        .build()
        .unwrap();
    let r = bare
        .get(s.url("/portal/account"))
        .header("cookie", format!("licd_portal={secret}"))
        .send()
        .unwrap();
    assert_eq!(r.status(), 303);
}

#[test]
fn portal_pages_carry_the_security_headers_and_the_vendors_logo() {
    let sink = SmtpSink::start();
    let dir = tempfile::tempdir().unwrap();
    let logo = dir.path().join("logo.svg");
    std::fs::write(
        &logo,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"10\" height=\"10\"/>",
    )
    .unwrap();
    let s = server_with(&sink, |c| c.portal.logo_file = Some(logo.clone()));
    let b = Browser::new(&s);
    let r = b.get("/portal/login");
    let csp = r.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"));
    assert_eq!(r.headers()["x-frame-options"], "DENY");
    assert_eq!(r.headers()["cache-control"], "no-store");
    let page = r.text().unwrap();
    assert!(
        page.contains("<img class=\"portal-logo\" src=\"/portal/logo\""),
        "{page}"
    );
    assert!(page.contains("Acme Portal"), "{page}");
    assert!(
        !page.contains("style=") && !page.contains("<script>"),
        "no inline style or script"
    );
    let r = b.get("/portal/logo");
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "image/svg+xml");
    let etag = r.headers()["etag"].to_str().unwrap().to_owned();
    let r =
        b.c.get(s.url("/portal/logo"))
            .header("if-none-match", &etag)
            .send()
            .unwrap();
    assert_eq!(r.status(), 304);
    // `/portal` goes home; unknown portal pages say so in HTML with a way back there.
    let r = b.get("/portal");
    assert_eq!(
        (r.status().as_u16(), location(&r)),
        (303, "/portal/".into())
    );
    let r =
        b.c.get(s.url("/portal/nowhere"))
            .header("accept", "text/html")
            .send()
            .unwrap();
    expect_console_refusal(r, 404, "There is no page at this address.", "/portal/");

    // Without a logo configured, none is shown or served.
    let plain = server(&sink, Signup::InviteOnly);
    let b = Browser::new(&plain);
    assert!(!b.page("/portal/login").contains("portal-logo"));
    assert_eq!(b.get("/portal/logo").status(), 404);
}

/// Each sign-up sends an email: one address makes at most
/// `auth.max_failures_per_address` (6 in the tests) per window; refused ones do not
/// count.
#[test]
fn sign_ups_from_one_address_are_limited() {
    let sink = SmtpSink::start();
    let s = server(&sink, Signup::Open);
    let b = Browser::new(&s);
    let r = b.post(
        "/portal/signup",
        "/portal/signup",
        &[
            ("email", "not an address"),
            ("password", PASSWORD),
            ("confirm_password", PASSWORD),
        ],
    );
    assert_eq!(r.status(), 422);
    for i in 0..6 {
        Browser::new(&s).post(
            "/portal/signup",
            "/portal/signup",
            &[
                ("email", &format!("c{i}@customer.example")),
                ("password", PASSWORD),
                ("confirm_password", PASSWORD),
            ],
        );
    }
    let r = Browser::new(&s).post(
        "/portal/signup",
        "/portal/signup",
        &[
            ("email", "c6@customer.example"),
            ("password", PASSWORD),
            ("confirm_password", PASSWORD),
        ],
    );
    assert_eq!(r.status(), 429);
    assert!(r.headers().contains_key("retry-after"));
    let t = s.app.tenants.public().unwrap();
    assert_eq!(licd::service::customers::list(&t, "", 50).unwrap().len(), 6);
    s.clock.advance(Duration::minutes(16));
    sign_up(&Browser::new(&s), "c6@customer.example");
}
