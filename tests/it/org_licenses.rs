//! Licenses for customer organizations (issue 14, part C) against a real server and a
//! real SMTP sink on loopback: issuing for an organization and moving a license, the
//! staff's organization pages and API (search, detail, delete refused while licenses are
//! valid), external users in the tenant's own usage, service accounts, and each license
//! notice sent once across sweeps and restarts. Customers and organizations are made
//! with SQL on the tenant database (their portal sign-up is another part of the issue).

use crate::harness::*;
use crate::licensing::Api;
use crate::smtp_sink::{Received, SmtpSink};
use chrono::{DateTime, Duration, Utc};
use licd::domain::permissions::Role;
use reqwest::blocking::{Client, Response};
use serde_json::{Value, json};

const INSTALL: &str = "I-acme-plant-7";

/// A server whose outbox goes to `sink`.
fn server_in(dir: tempfile::TempDir, sink: &SmtpSink, at: Option<DateTime<Utc>>) -> TestServer {
    let url = sink.url();
    TestServer::start_at(dir, at, move |c| {
        c.email.smtp_url = Some(url);
        c.email.from = Some("Acme Licensing <licensing@vendor.test>".into());
        c.portal.product_name = "Vendor Licensing".into();
    })
}

fn server(sink: &SmtpSink) -> TestServer {
    server_in(tempfile::tempdir().unwrap(), sink, None)
}

fn stamp(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

fn db(s: &TestServer) -> rusqlite::Connection {
    rusqlite::Connection::open(s.data_dir().join("tenants/public.db")).unwrap()
}

fn count(s: &TestServer, sql: &str) -> i64 {
    db(s).query_row(sql, [], |r| r.get(0)).unwrap()
}

/// An organization, as the portal makes one.
fn organization(s: &TestServer, name: &str, email: &str) -> i64 {
    let now = stamp(s.clock.now_utc());
    let c = db(s);
    c.execute(
        "INSERT INTO organizations (name, notification_email, created_at, updated_at) VALUES (?1, ?2, ?3, ?3)",
        rusqlite::params![name, email, now],
    )
    .unwrap();
    c.last_insert_rowid()
}

/// A customer account (verified unless `verified` is false).
fn customer(s: &TestServer, email: &str, verified: bool) -> i64 {
    let now = stamp(s.clock.now_utc());
    let c = db(s);
    c.execute(
        "INSERT INTO customers (email, display_name, password_hash, email_verified_at, created_at, updated_at)
         VALUES (?1, 'Someone', '$argon2id$x', ?2, ?3, ?3)",
        rusqlite::params![email, verified.then(|| now.clone()), now],
    )
    .unwrap();
    c.last_insert_rowid()
}

fn member(s: &TestServer, org: i64, customer: i64, role: &str) {
    db(s)
        .execute(
            "INSERT INTO memberships (organization_id, customer_id, role, created_at) VALUES (?1, ?2, ?3, ?4)",
            rusqlite::params![org, customer, role, stamp(s.clock.now_utc())],
        )
        .unwrap();
}

fn invitation(s: &TestServer, org: i64, email: &str, by: &str) {
    let now = s.clock.now_utc();
    db(s)
        .execute(
            "INSERT INTO invitations (organization_id, email, role, token_hash, invited_by, created_at, sent_at, expires_at)
             VALUES (?1, ?2, 'member', randomblob(32), ?3, ?4, ?4, ?5)",
            rusqlite::params![org, email, by, stamp(now), stamp(now + Duration::days(7))],
        )
        .unwrap();
}

fn issue(api: &Api<'_>, body: Value) -> Response {
    api.post("/api/v1/licenses", body)
}

fn license_body(org: Option<i64>, days: i64, now: DateTime<Utc>) -> Value {
    json!({
        "name": "Plant 7", "install_id": INSTALL, "organization_id": org,
        "internal_users": 50, "external_users": 10,
        "expires_at": (now + Duration::days(days)).to_rfc3339(),
    })
}

/// The claims a license key carries.
fn claims(key: &str) -> Value {
    serde_json::from_slice(&licd::pki::jws::parse(key).unwrap().payload).unwrap()
}

fn send(api: &Api<'_>, method: reqwest::Method, path: &str, body: Option<Value>) -> Response {
    let mut r = api
        .s
        .client()
        .request(method, api.s.url(path))
        .bearer_auth(&api.token);
    if let Some(b) = body {
        r = r.json(&b);
    }
    r.send().unwrap()
}

/// Moves the clock and runs what is due (the sweep, then email delivery).
fn run_jobs(s: &TestServer, after: Duration) {
    s.clock.advance(after);
    licd::jobs::run_due(&s.app);
    s.clock.advance(Duration::seconds(5));
    licd::jobs::run_due(&s.app);
}

fn form(c: &Client, s: &TestServer, path: &str, fields: &[(&str, &str)]) -> Response {
    c.post(s.url(path)).form(fields).send().unwrap()
}

fn body_text(m: &Received) -> String {
    // Quoted-printable soft line breaks and `=3D` aside, the text is plain.
    m.data.replace("=\r\n", "").replace("=3D", "=")
}

#[test]
fn licenses_are_issued_for_organizations_and_moved_between_them() {
    let sink = SmtpSink::start();
    let s = server(&sink);
    let api = Api::new(&s);
    let now = s.clock.now_utc();
    let acme = organization(&s, "Acme Ltd", "ops@acme.example");
    let beta = organization(&s, "Beta GmbH", "it@beta.example");

    // For an organization, with no organization text: the key names the organization.
    let l = api.ok(issue(&api, license_body(Some(acme), 365, now)));
    assert_eq!(l["organization_id"], acme);
    assert_eq!(l["organization"], "Acme Ltd");
    assert_eq!(
        claims(l["license_key"].as_str().unwrap())["org"],
        "Acme Ltd"
    );
    let id = l["id"].as_str().unwrap().to_owned();
    // With a text of its own, the key says that.
    let mut body = license_body(Some(acme), 365, now);
    body["organization"] = json!("Acme Plant Division");
    let own = api.ok(issue(&api, body));
    assert_eq!(
        claims(own["license_key"].as_str().unwrap())["org"],
        "Acme Plant Division"
    );
    assert_eq!(own["organization_id"], acme);
    // Without one, it belongs to none.
    let none = api.ok(issue(&api, license_body(None, 365, now)));
    assert_eq!(none["organization_id"], Value::Null);

    // An unknown organization is refused with its own code; 0 is not an id at all.
    let r = issue(&api, license_body(Some(999_999), 365, now));
    let p = expect_problem(r, 422, "unknown_organization");
    assert!(p["detail"].as_str().unwrap().contains("999999"), "{p}");
    expect_problem(
        issue(&api, license_body(Some(0), 365, now)),
        422,
        "validation_failed",
    );
    assert_eq!(
        count(&s, "SELECT count(*) FROM licenses"),
        3,
        "nothing issued by a refusal"
    );

    // Listed by organization.
    let listed = api.ok(api.get(&format!("/api/v1/licenses?organization_id={acme}")));
    assert_eq!(listed["items"].as_array().unwrap().len(), 2);

    // Moved to another organization, to none, and not to one that does not exist.
    let path = format!("/api/v1/licenses/{id}/organization");
    let moved = api.ok(api.post(&path, json!({"organization_id": beta})));
    assert_eq!(moved["organization_id"], beta);
    assert_eq!(
        moved["organization"], "Acme Ltd",
        "the signed key is unchanged"
    );
    expect_problem(
        api.post(&path, json!({"organization_id": 424_242})),
        422,
        "unknown_organization",
    );
    let detached = api.ok(api.post(&path, json!({"organization_id": null})));
    assert_eq!(detached["organization_id"], Value::Null);
    expect_problem(
        api.post("/api/v1/licenses/no-such-license/organization", json!({})),
        404,
        "not_found",
    );
    let audit = api.ok(api.get(&format!(
        "/api/v1/audit?action=license.organization_change&target=license:{id}"
    )));
    let entries = audit["items"].as_array().unwrap();
    assert_eq!(entries.len(), 2, "{audit}");

    // The console: the issue form's select, the license page's link and Move form.
    let (c, csrf) = api_login(&s, ADMIN_EMAIL, ADMIN_PASSWORD);
    let page = c
        .get(s.url("/licensing/license-new"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(
        page.contains(&format!("<option value=\"{acme}\">Acme Ltd</option>")),
        "{page}"
    );
    let r = form(
        &c,
        &s,
        "/licensing/license-new",
        &[
            ("csrf", &csrf),
            ("name", "Console license"),
            ("install_id", INSTALL),
            ("organization_id", &beta.to_string()),
            ("internal_users", "5"),
            ("external_users", "0"),
            ("expires", "2027-06-30"),
        ],
    );
    assert_eq!(r.status(), 303, "{}", r.text().unwrap());
    let at = r.headers()["location"].to_str().unwrap().to_owned();
    let page = c.get(s.url(&at)).send().unwrap().text().unwrap();
    assert!(
        page.contains(&format!(
            "href=\"/customers/organizations/{beta}\">Beta GmbH</a>"
        )),
        "{page}"
    );
    assert!(page.contains("id=\"organization-form\""), "{page}");
    let r = form(
        &c,
        &s,
        &format!("/licensing/licenses/{id}/organization"),
        &[("csrf", &csrf), ("organization_id", &acme.to_string())],
    );
    assert_eq!(r.status(), 303);
    assert!(
        r.headers()["location"]
            .to_str()
            .unwrap()
            .ends_with("notice=license_moved")
    );
    assert_eq!(
        api.ok(api.get(&format!("/api/v1/licenses/{id}")))["organization_id"],
        acme
    );
    // A refused move shows the page again with the reason.
    let r = form(
        &c,
        &s,
        &format!("/licensing/licenses/{id}/organization"),
        &[("csrf", &csrf), ("organization_id", "777777")],
    );
    assert_eq!(r.status(), 422);
    assert!(
        r.text()
            .unwrap()
            .contains("no organization has the id 777777")
    );

    // Each organization is told about its new licenses, once each.
    run_jobs(&s, Duration::seconds(5));
    run_jobs(&s, Duration::minutes(10));
    let got = sink.messages();
    let to = |addr: &str| -> Vec<&Received> {
        got.iter()
            .filter(|m| m.rcpt_to == [addr.to_owned()])
            .collect()
    };
    assert_eq!(to("ops@acme.example").len(), 2, "{got:#?}");
    assert_eq!(to("it@beta.example").len(), 1, "{got:#?}");
    let m = to("ops@acme.example")[0];
    assert_eq!(
        m.header("Subject").as_deref(),
        Some("New license for Acme Ltd: Plant 7")
    );
    let text = body_text(m);
    for part in [
        "Install ID: I-acme-plant-7",
        "Users: 50 internal, 10 external",
        "Enterprise > Licenses",
        "Vendor Licensing",
    ] {
        assert!(text.contains(part), "{part}: {text}");
    }
}

#[test]
fn the_cli_issues_for_an_organization() {
    let sink = SmtpSink::start();
    let s = server(&sink);
    let acme = organization(&s, "Acme Ltd", "ops@acme.example");
    let dir = s.data_dir();
    let out = run(licd()
        .args(["license", "issue", "--data-dir"])
        .arg(&dir)
        .args([
            "--install-id",
            INSTALL,
            "--name",
            "From the CLI",
            "--internal-users",
            "5",
            "--days",
            "30",
            "--organization-id",
        ])
        .arg(acme.to_string()));
    assert!(out.status.success(), "{}", text(&out));
    let key = String::from_utf8(out.stdout.clone()).unwrap();
    assert_eq!(claims(key.trim())["org"], "Acme Ltd");
    assert!(text(&out).contains("for organization"), "{}", text(&out));
    assert_eq!(
        count(
            &s,
            &format!("SELECT count(*) FROM licenses WHERE organization_id = {acme}")
        ),
        1
    );
    let out = run(licd()
        .args(["license", "issue", "--data-dir"])
        .arg(&dir)
        .args([
            "--install-id",
            INSTALL,
            "--name",
            "x",
            "--internal-users",
            "1",
            "--days",
            "30",
            "--organization-id",
            "4242",
        ]));
    assert!(!out.status.success());
    assert!(
        text(&out).contains("no organization has the id 4242"),
        "{}",
        text(&out)
    );
}

#[test]
fn staff_find_look_at_and_delete_organizations() {
    let sink = SmtpSink::start();
    let s = server(&sink);
    let api = Api::new(&s);
    let now = s.clock.now_utc();
    let acme = organization(&s, "Acme Ltd", "ops@acme.example");
    let _beta = organization(&s, "Beta GmbH", "it@beta.example");
    let owner = customer(&s, "owner@acme.example", true);
    let worker = customer(&s, "worker@acme.example", true);
    member(&s, acme, owner, "owner");
    member(&s, acme, worker, "member");
    invitation(&s, acme, "new@acme.example", "customer:owner@acme.example");
    let l1 = api.ok(issue(&api, license_body(Some(acme), 365, now)));
    let l2 = api.ok(issue(&api, license_body(Some(acme), 30, now)));

    // Search by name and by notification email, with counts.
    let all = api.ok(api.get("/api/v1/organizations"));
    assert_eq!(all["items"].as_array().unwrap().len(), 2);
    let found = api.ok(api.get("/api/v1/organizations?q=ACME"));
    let items = found["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{found}");
    assert_eq!(items[0]["members"], 2);
    assert_eq!(items[0]["licenses"], 2);
    let by_email = api.ok(api.get("/api/v1/organizations?q=beta.example"));
    assert_eq!(by_email["items"][0]["name"], "Beta GmbH");
    let none = api.ok(api.get("/api/v1/organizations?q=nobody"));
    assert!(none["items"].as_array().unwrap().is_empty());
    expect_problem(
        api.get("/api/v1/organizations?limit=0"),
        422,
        "validation_failed",
    );

    // The detail: members with roles (owners first), the invitation, the licenses.
    let d = api.ok(api.get(&format!("/api/v1/organizations/{acme}")));
    assert_eq!(d["name"], "Acme Ltd");
    assert_eq!(d["members"][0]["email"], "owner@acme.example");
    assert_eq!(d["members"][0]["role"], "owner");
    assert_eq!(d["members"][1]["role"], "member");
    assert_eq!(d["invitations"][0]["email"], "new@acme.example");
    assert_eq!(
        d["invitations"][0]["invited_by"],
        "customer:owner@acme.example"
    );
    assert_eq!(d["licenses"].as_array().unwrap().len(), 2);
    assert_eq!(d["licenses"][0]["state"], "issued");
    assert_eq!(d["valid_licenses"], 2);
    expect_problem(api.get("/api/v1/organizations/999999"), 404, "not_found");

    // The console: the list with its search and the deletion-request badge, the page.
    db(&s)
        .execute(
            "UPDATE organizations SET deletion_requested_at = ?2, deletion_requested_by = 'customer:owner@acme.example' WHERE id = ?1",
            rusqlite::params![acme, stamp(now)],
        )
        .unwrap();
    let (c, csrf) = api_login(&s, ADMIN_EMAIL, ADMIN_PASSWORD);
    let list = c
        .get(s.url("/customers/organizations?q=acme"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(
        list.contains(&format!("id=\"organization-{acme}\"")),
        "{list}"
    );
    assert!(!list.contains("Beta GmbH"), "{list}");
    assert!(list.contains("deletion requested"), "{list}");
    let page = c
        .get(s.url(&format!("/customers/organizations/{acme}")))
        .send()
        .unwrap()
        .text()
        .unwrap();
    for part in [
        "worker@acme.example",
        "new@acme.example",
        "customer:owner@acme.example",
        "id=\"deletion-request\"",
        &format!("/licensing/licenses/{}", l1["id"].as_str().unwrap()),
    ] {
        assert!(page.contains(part), "{part}: {page}");
    }

    // Deleting is refused while licenses are valid, naming how many and what to do.
    let path = format!("/api/v1/organizations/{acme}");
    let p = expect_problem(
        send(&api, reqwest::Method::DELETE, &path, None),
        409,
        "organization_has_valid_licenses",
    );
    let detail = p["detail"].as_str().unwrap();
    assert!(detail.contains("2 licenses"), "{detail}");
    assert!(detail.contains("revoke them or move them"), "{detail}");
    // The console asks first, then shows the refusal on the organization's page.
    let r = form(
        &c,
        &s,
        &format!("/customers/organizations/{acme}/delete"),
        &[("csrf", &csrf)],
    );
    assert_eq!(r.status(), 200);
    let confirm = r.text().unwrap();
    assert!(
        confirm.contains("Delete the organization Acme Ltd?"),
        "{confirm}"
    );
    assert!(confirm.contains("2 valid license(s)"), "{confirm}");
    let r = form(
        &c,
        &s,
        &format!("/customers/organizations/{acme}/delete"),
        &[("csrf", &csrf), ("confirmed", "1")],
    );
    assert_eq!(r.status(), 409);
    assert!(r.text().unwrap().contains("revoke them or move them"));

    // One revoked, the other moved away: then it goes, with its memberships and
    // invitations; the revoked license stays, belonging to none.
    let id1 = l1["id"].as_str().unwrap();
    api.ok(api.post(
        &format!("/api/v1/licenses/{id1}/revoke"),
        json!({"reason": "customer left"}),
    ));
    let id2 = l2["id"].as_str().unwrap();
    api.ok(api.post(
        &format!("/api/v1/licenses/{id2}/organization"),
        json!({"organization_id": null}),
    ));
    let r = form(
        &c,
        &s,
        &format!("/customers/organizations/{acme}/delete"),
        &[("csrf", &csrf), ("confirmed", "1")],
    );
    assert_eq!(r.status(), 303);
    assert_eq!(
        r.headers()["location"].to_str().unwrap(),
        "/customers/organizations?notice=organization_deleted"
    );
    expect_problem(api.get(&path), 404, "not_found");
    assert_eq!(count(&s, "SELECT count(*) FROM memberships"), 0);
    assert_eq!(count(&s, "SELECT count(*) FROM invitations"), 0);
    assert_eq!(count(&s, "SELECT count(*) FROM licenses"), 2);
    assert_eq!(
        count(
            &s,
            "SELECT count(*) FROM licenses WHERE organization_id IS NOT NULL"
        ),
        0
    );
    assert_eq!(
        count(&s, "SELECT count(*) FROM customers"),
        2,
        "accounts stay"
    );
    let audit = api.ok(api.get("/api/v1/audit?action=organization.delete"));
    let entry = &audit["items"][0];
    assert_eq!(entry["actor"], "staff:admin@example.com");
    assert_eq!(entry["details"]["licenses_detached"], 1, "{entry}");
    assert_eq!(entry["details"]["members_removed"], 2, "{entry}");

    // An expired license does not hold an organization back either.
    let gamma = organization(&s, "Gamma", "g@gamma.example");
    api.ok(issue(&api, license_body(Some(gamma), 1, s.clock.now_utc())));
    s.clock.advance(Duration::days(2));
    let deleted = api.ok(send(
        &api,
        reqwest::Method::DELETE,
        &format!("/api/v1/organizations/{gamma}"),
        None,
    ));
    assert_eq!(deleted["licenses_detached"], 1);
}

fn usage(api: &Api<'_>) -> (i64, i64) {
    let e = api.ok(api.get("/api/v1/enterprise"));
    (
        e["usage"]["internal_users"].as_i64().unwrap(),
        e["usage"]["external_users"].as_i64().unwrap(),
    )
}

#[test]
fn enabled_customers_are_the_tenants_external_users_and_service_accounts_no_users() {
    let sink = SmtpSink::start();
    let s = server(&sink);
    let api = Api::new(&s);
    assert_eq!(usage(&api), (1, 0), "the admin only");

    let c = customer(&s, "buyer@acme.example", true);
    assert_eq!(usage(&api), (1, 1), "an enabled customer counts");
    customer(&s, "unverified@acme.example", false);
    assert_eq!(usage(&api), (1, 1), "an address never verified does not");
    db(&s)
        .execute(
            "UPDATE customers SET disabled_at = ?2 WHERE id = ?1",
            rusqlite::params![c, stamp(s.clock.now_utc())],
        )
        .unwrap();
    assert_eq!(usage(&api), (1, 0), "a disabled customer does not");

    let svc = api.ok(api.post(
        "/api/v1/users",
        json!({"email": "ci@vendor.example", "role": "support", "kind": "service"}),
    ));
    assert_eq!(svc["user"]["kind"], "service");
    assert_eq!(usage(&api), (1, 0), "a service account is no internal user");
    s.create_staff(
        "second@vendor.example",
        Role::Support,
        "a-good-long-password",
    );
    assert_eq!(usage(&api), (2, 0), "a person is");
}

#[test]
fn a_service_account_calls_with_tokens_staff_make_and_never_signs_in() {
    let sink = SmtpSink::start();
    let s = server(&sink);
    let api = Api::new(&s);
    let created = api.post(
        "/api/v1/users",
        json!({"email": "CI@vendor.example", "role": "support", "kind": "service"}),
    );
    assert_eq!(created.status(), 201);
    let created: Value = created.json().unwrap();
    assert_eq!(created["user"]["kind"], "service");
    assert_eq!(created["user"]["must_change_password"], false);
    assert!(created.get("one_time_password").is_none(), "{created}");
    let id = created["user"]["id"].as_i64().unwrap();
    expect_problem(
        api.post(
            "/api/v1/users",
            json!({"email": "ci2@vendor.example", "role": "support", "kind": "service",
                   "password": "a-good-long-password"}),
        ),
        422,
        "validation_failed",
    );

    // No sign-in (whatever password), no password reset, no recovery of a password.
    for password in ["", "anything-at-all-long"] {
        let r = client()
            .post(s.url("/api/v1/auth/login"))
            .json(&json!({"email": "ci@vendor.example", "password": password}))
            .send()
            .unwrap();
        assert!(matches!(r.status().as_u16(), 401 | 422), "{}", r.status());
    }
    expect_problem(
        api.post(&format!("/api/v1/users/{id}/reset-password"), json!({})),
        409,
        "service_account_no_password",
    );

    // Staff make its tokens; they act with its role.
    let tokens_path = format!("/api/v1/users/{id}/tokens");
    let made = api.ok(api.post(&tokens_path, json!({"name": "pipeline"})));
    let secret = made["secret"].as_str().unwrap().to_owned();
    let me = client()
        .get(s.url("/api/v1/me"))
        .bearer_auth(&secret)
        .send()
        .unwrap();
    assert_eq!(me.status(), 200);
    let me: Value = me.json().unwrap();
    assert_eq!(me["user"]["email"], "ci@vendor.example");
    assert_eq!(me["user"]["kind"], "service");
    let ok = client()
        .get(s.url("/api/v1/licenses"))
        .bearer_auth(&secret)
        .send()
        .unwrap();
    assert_eq!(ok.status(), 200);
    let listed = api.ok(api.get(&tokens_path));
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);
    assert_eq!(listed["user"]["email"], "ci@vendor.example");

    // With its token it changes no password and makes no token for itself.
    let r = client()
        .post(s.url("/api/v1/auth/password"))
        .bearer_auth(&secret)
        .json(&json!({"current_password": "x", "new_password": "a-good-long-password"}))
        .send()
        .unwrap();
    expect_problem(r, 409, "service_account_no_password");
    let r = client()
        .post(s.url("/api/v1/tokens"))
        .bearer_auth(&secret)
        .json(&json!({"name": "more"}))
        .send()
        .unwrap();
    expect_problem(r, 403, "forbidden");

    // A person's tokens are their own.
    let admin =
        licd::service::staff::id_by_email(&s.app.tenants.public().unwrap(), ADMIN_EMAIL).unwrap();
    expect_problem(
        api.post(
            &format!("/api/v1/users/{admin}/tokens"),
            json!({"name": "x"}),
        ),
        409,
        "not_a_service_account",
    );

    // The console lists its kind and its tokens page makes one, shown once.
    let (c, csrf) = api_login(&s, ADMIN_EMAIL, ADMIN_PASSWORD);
    let users = c.get(s.url("/users")).send().unwrap().text().unwrap();
    assert!(users.contains("service account"), "{users}");
    assert!(
        users.contains(&format!("href=\"/users/{id}/tokens\"")),
        "{users}"
    );
    let r = form(
        &c,
        &s,
        &format!("/users/{id}/tokens"),
        &[("csrf", &csrf), ("name", "console token")],
    );
    assert_eq!(r.status(), 303);
    let at = r.headers()["location"].to_str().unwrap().to_owned();
    let page = c.get(s.url(&at)).send().unwrap().text().unwrap();
    assert!(page.contains("id=\"token-secret\""), "{page}");
    // A service account made from the console form.
    let r = form(
        &c,
        &s,
        "/users",
        &[
            ("csrf", &csrf),
            ("email", "bot@vendor.example"),
            ("role", "onboarding"),
            ("kind", "service"),
        ],
    );
    assert_eq!(r.status(), 303);
    let at = r.headers()["location"].to_str().unwrap().to_owned();
    let page = c.get(s.url(&at)).send().unwrap().text().unwrap();
    assert!(page.contains("make an API token for it"), "{page}");
    assert!(!page.contains("id=\"one-time-password\""), "{page}");

    // Revoking and disabling end its tokens.
    let token_id = made["token"]["id"].as_i64().unwrap();
    let revoked = api.ok(send(
        &api,
        reqwest::Method::DELETE,
        &format!("{tokens_path}/{token_id}"),
        None,
    ));
    assert_eq!(revoked["active"], false);
    let gone = client()
        .get(s.url("/api/v1/me"))
        .bearer_auth(&secret)
        .send()
        .unwrap();
    assert_eq!(gone.status(), 401);
    api.ok(send(
        &api,
        reqwest::Method::PATCH,
        &format!("/api/v1/users/{id}"),
        Some(json!({"disabled": true})),
    ));
    expect_problem(
        api.post(&tokens_path, json!({"name": "again"})),
        403,
        "account_disabled",
    );
}

/// Messages whose subject contains `part`.
fn with_subject<'a>(got: &'a [Received], part: &str) -> Vec<&'a Received> {
    got.iter()
        .filter(|m| m.header("Subject").is_some_and(|s| s.contains(part)))
        .collect()
}

#[test]
fn each_license_notice_goes_out_once_across_sweeps_and_restarts() {
    let sink = SmtpSink::start();
    let s = server(&sink);
    let start = s.clock.now_utc();
    let acme = organization(&s, "Acme Ltd", "ops@acme.example");
    let api = Api::new(&s);
    let l = api.ok(issue(&api, license_body(Some(acme), 40, start)));
    let expires: DateTime<Utc> = l["expires_at"].as_str().unwrap().parse().unwrap();
    drop(api);
    run_jobs(&s, Duration::seconds(5));
    let got = sink.messages();
    let issued = with_subject(&got, "New license");
    assert_eq!(issued.len(), 1);
    // The notice leads to the portal (its address is looked up only for a license of an
    // organization).
    let text = body_text(issued[0]);
    assert!(text.contains("Open the customer portal"), "{text}");
    assert!(text.contains("/portal/"), "{text}");

    // 30 days before it ends: one notice, however often the sweep runs.
    run_jobs(&s, Duration::days(9));
    assert!(
        with_subject(&sink.messages(), "expires").is_empty(),
        "not yet"
    );
    s.clock
        .set(expires - Duration::days(30) + Duration::minutes(1));
    for _ in 0..3 {
        run_jobs(&s, Duration::minutes(10));
    }
    let got = sink.messages();
    let thirty = with_subject(&got, "License Plant 7 expires in 30 days");
    assert_eq!(thirty.len(), 1, "{got:#?}");
    let text = body_text(thirty[0]);
    assert!(text.contains("Install ID: I-acme-plant-7"), "{text}");
    assert!(
        text.contains(&expires.format("%Y-%m-%d %H:%M UTC").to_string()),
        "{text}"
    );
    assert_eq!(thirty[0].rcpt_to, ["ops@acme.example"]);

    // A restart: the sweep runs at once and writes nothing again.
    let at = s.clock.now_utc();
    let dir = s.stop();
    let s = server_in(dir, &sink, Some(at));
    run_jobs(&s, Duration::minutes(10));
    assert_eq!(
        with_subject(&sink.messages(), "expires in 30 days").len(),
        1
    );

    // 7 days before, then expired.
    s.clock
        .set(expires - Duration::days(7) + Duration::minutes(1));
    run_jobs(&s, Duration::minutes(10));
    run_jobs(&s, Duration::minutes(10));
    assert_eq!(with_subject(&sink.messages(), "expires in 7 days").len(), 1);
    s.clock.set(expires + Duration::minutes(1));
    run_jobs(&s, Duration::minutes(10));
    run_jobs(&s, Duration::minutes(10));
    let got = sink.messages();
    let expired = with_subject(&got, "License Plant 7 has expired");
    assert_eq!(expired.len(), 1, "{got:#?}");
    assert!(body_text(expired[0]).contains("after 14 days"));

    // Its installation has no valid license: each violation stage is announced once,
    // with what comes next.
    for (days, subject, next) in [
        (14, "administrators are warned", Some(28)),
        (28, "all users are warned", Some(42)),
        (42, "read-only", None),
    ] {
        s.clock
            .set(expires + Duration::days(days) + Duration::minutes(1));
        run_jobs(&s, Duration::minutes(10));
        run_jobs(&s, Duration::minutes(10));
        let got = sink.messages();
        let stage = with_subject(&got, &format!("Installation {INSTALL}: {subject}"));
        assert_eq!(stage.len(), 1, "{subject}: {got:#?}");
        let text = body_text(stage[0]);
        assert!(text.contains("in violation of its license since"), "{text}");
        match next {
            Some(d) => {
                let when = (expires + Duration::days(d)).format("%Y-%m-%d").to_string();
                assert!(
                    text.contains(&format!(
                        "Next, unless the violation is corrected: on {when}"
                    )),
                    "{text}"
                );
            }
            None => assert!(text.contains("stays read-only"), "{text}"),
        }
    }

    // Another restart and more sweeps: still one of each.
    let at = s.clock.now_utc();
    let dir = s.stop();
    let s = server_in(dir, &sink, Some(at));
    for _ in 0..3 {
        run_jobs(&s, Duration::hours(1));
    }
    let got = sink.messages();
    for (subject, n) in [
        ("New license", 1),
        ("expires in 30 days", 1),
        ("expires in 7 days", 1),
        ("has expired", 1),
        ("administrators are warned", 1),
        ("all users are warned", 1),
        (": read-only", 1),
    ] {
        assert_eq!(with_subject(&got, subject).len(), n, "{subject}: {got:#?}");
    }
    assert_eq!(got.len(), 7, "{got:#?}");
    assert_eq!(
        count(&s, "SELECT count(*) FROM outbox WHERE state <> 'sent'"),
        0
    );
}
