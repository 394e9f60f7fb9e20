//! License renewal, change and reissue (issue 12, item 5) and the console's safe
//! actions (item 3, and the license-page bits of item 8), against the real server: a new
//! key for the same license id, its history, the `install_key` directive the appliance
//! gets with its next lease, the key verifying with the JWKS, "reissue them all" from the
//! signing-keys page, and the confirmation step (a console POST without `confirmed=1`
//! changes nothing).

use crate::harness::*;
use crate::licensing::{
    Api, INSTALL, activate, directive_kinds, heartbeat, issue_in_process, lease_of,
};
use chrono::{DateTime, Duration, Utc};
use reqwest::blocking::{Client, Response};
use serde_json::{Value, json};

fn when(days: i64, s: &TestServer) -> String {
    (s.clock.now_utc() + Duration::days(days)).to_rfc3339()
}

fn time(v: &Value) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(v.as_str().unwrap())
        .unwrap()
        .with_timezone(&Utc)
}

/// The `install_key` directives a lease carries.
fn install_keys(lease: &Value) -> Vec<Value> {
    lease["directives"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["kind"] == "install_key")
        .cloned()
        .collect()
}

/// Verifies a license key with nothing but the published JWKS (an independent JOSE
/// library); returns its claims.
pub fn verify_with_jwks(s: &TestServer, key: &str) -> Value {
    use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header, jwk::JwkSet};
    let set: JwkSet = client()
        .get(s.url("/.well-known/jwks.json"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let header = decode_header(key).unwrap();
    assert_eq!(header.typ.as_deref(), Some("licd-license+jwt"));
    let jwk = set
        .find(header.kid.as_deref().unwrap())
        .expect("the key's kid is in the JWKS");
    let mut v = Validation::new(Algorithm::ES256);
    v.set_audience(&[format!("licd:install:{INSTALL}")]);
    v.validate_exp = false; // licd's test clock is not the wall clock
    decode::<Value>(key, &DecodingKey::from_jwk(jwk).unwrap(), &v)
        .unwrap()
        .claims
}

/// Renew → a new key for the same id, the old one kept in the history, and the bound
/// appliance's next lease carries the new key (until it confirms that lease).
#[test]
fn renewal_makes_a_new_key_that_the_next_lease_carries() {
    let s = TestServer::start();
    let api = Api::new(&s);
    let license = api.issue(INSTALL, 365);
    let id = license["id"].as_str().unwrap().to_owned();
    let old_key = license["license_key"].as_str().unwrap().to_owned();
    let act = api.ok(activate(&s, &license, "BOX-A"));
    let secret = act["activation_secret"].as_str().unwrap().to_owned();

    let new_exp = s.clock.now_utc() + Duration::days(730);
    let renewed = api.ok(api.post(
        &format!("/api/v1/licenses/{id}/renew"),
        json!({"expires_at": new_exp.to_rfc3339()}),
    ));
    assert_eq!(renewed["id"], id);
    assert_eq!(
        time(&renewed["expires_at"]).timestamp(),
        new_exp.timestamp()
    );
    let new_key = renewed["license_key"].as_str().unwrap().to_owned();
    assert_ne!(new_key, old_key);
    assert_eq!(renewed["state"], "active", "renewing changes no state");

    // The new key verifies with the JWKS and says what the license now grants.
    let claims = verify_with_jwks(&s, &new_key);
    assert_eq!(claims["jti"], id);
    assert_eq!(claims["exp"], new_exp.timestamp());
    assert_eq!(claims["internal_users"], 50);

    // The appliance's next lease carries it.
    let l2 = lease_of(&api.ok(heartbeat(&s, &id, &secret, "BOX-A", 1)));
    let keys = install_keys(&l2);
    assert_eq!(keys.len(), 1, "{l2}");
    assert_eq!(keys[0]["license_key"], new_key.as_str());
    assert!(keys[0]["message"].as_str().unwrap().contains("renewed"));
    // Until the appliance confirms a lease that carried it.
    let l3 = lease_of(&api.ok(heartbeat(&s, &id, &secret, "BOX-A", 1)));
    assert_eq!(install_keys(&l3).len(), 1, "not confirmed yet: {l3}");
    let l4 = lease_of(&api.ok(heartbeat(&s, &id, &secret, "BOX-A", 3)));
    assert!(directive_kinds(&l4).is_empty(), "{l4}");

    // History keeps every key: the new one current, the first superseded.
    let detail = api.ok(api.get(&format!("/api/v1/licenses/{id}")));
    let keys = detail["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 2, "{detail}");
    assert_eq!(keys[0]["reason"], "renew");
    assert_eq!(keys[0]["license_key"], new_key.as_str());
    assert_eq!(keys[0]["superseded_at"], Value::Null);
    assert_eq!(keys[0]["issued_by"], format!("staff:{ADMIN_EMAIL}"));
    assert_eq!(keys[1]["reason"], "issue");
    assert_eq!(keys[1]["license_key"], old_key.as_str());
    assert!(keys[1]["superseded_at"].is_string());
    assert_eq!(detail["history"][0]["event"], "renew");
    assert_eq!(detail["directives"][0]["kind"], "install_key");
    assert_eq!(detail["directives"][0]["status"], "acknowledged");
    let audit = api.ok(api.get(&format!(
        "/api/v1/audit?action=license.renew&target=license:{id}"
    )));
    let entry = &audit["items"][0];
    assert_eq!(
        entry["details"]["to"]["expires_at"], renewed["expires_at"],
        "{audit}"
    );
}

/// Change and reissue sign new keys too; a later key replaces one the appliance has not
/// confirmed (it only ever gets the newest); reissue signs with the active key.
#[test]
fn change_and_reissue_and_only_the_newest_key_is_delivered() {
    let s = TestServer::start();
    let api = Api::new(&s);
    let license = api.issue(INSTALL, 365);
    let id = license["id"].as_str().unwrap().to_owned();
    let act = api.ok(activate(&s, &license, "BOX-A"));
    let secret = act["activation_secret"].as_str().unwrap().to_owned();

    let changed = api.ok(api.post(
        &format!("/api/v1/licenses/{id}/change"),
        json!({"internal_users": 80, "features": ["sso", "audit-export"], "name": "Plant 7b"}),
    ));
    assert_eq!(changed["internal_users"], 80);
    assert_eq!(
        changed["external_users"], 10,
        "absent fields keep their value"
    );
    let claims = verify_with_jwks(&s, changed["license_key"].as_str().unwrap());
    assert_eq!(
        (&claims["internal_users"], &claims["name"]),
        (&json!(80), &json!("Plant 7b"))
    );
    assert_eq!(claims["features"], json!(["sso", "audit-export"]));
    assert_eq!(claims["flags"], json!(["trial"]), "flags stay");

    // Rotate, then reissue: the same grant, signed by the new active key.
    let rotated = api.ok(api.post("/api/v1/signing-keys", json!({})));
    let reissued = api.ok(api.post(&format!("/api/v1/licenses/{id}/reissue"), json!({})));
    assert_eq!(reissued["kid"], rotated["kid"]);
    assert_eq!(reissued["internal_users"], 80);
    let key = reissued["license_key"].as_str().unwrap();
    assert_eq!(verify_with_jwks(&s, key)["internal_users"], 80);

    // The appliance gets only the newest key, once.
    let lease = lease_of(&api.ok(heartbeat(&s, &id, &secret, "BOX-A", 1)));
    let keys = install_keys(&lease);
    assert_eq!(keys.len(), 1, "{lease}");
    assert_eq!(keys[0]["license_key"], key);
    let detail = api.ok(api.get(&format!("/api/v1/licenses/{id}")));
    let statuses: Vec<&str> = detail["directives"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["sent", "superseded"], "{detail}");
    let reasons: Vec<&str> = detail["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["reason"].as_str().unwrap())
        .collect();
    assert_eq!(reasons, ["reissue", "change", "issue"]);
}

/// A superseded key of the license still identifies it: an appliance that activates
/// with it is activated, and its first lease carries the current key.
#[test]
fn activating_with_a_superseded_key_hands_out_the_current_one() {
    let s = TestServer::start();
    let api = Api::new(&s);
    let license = api.issue(INSTALL, 365);
    let id = license["id"].as_str().unwrap().to_owned();
    let renewed = api.ok(api.post(
        &format!("/api/v1/licenses/{id}/renew"),
        json!({"expires_at": when(800, &s)}),
    ));
    // Not activated yet: nothing was queued by the renewal itself.
    let detail = api.ok(api.get(&format!("/api/v1/licenses/{id}")));
    assert!(detail["directives"].as_array().unwrap().is_empty());
    // The old key (as handed out before the renewal) activates...
    let act = api.ok(activate(&s, &license, "BOX-A"));
    assert_eq!(act["state"], "active");
    // ...and the first lease carries the current key.
    let keys = install_keys(&lease_of(&act));
    assert_eq!(keys.len(), 1, "{act}");
    assert_eq!(keys[0]["license_key"], renewed["license_key"]);
    // Activating with the current key hands out nothing more.
    let mut current = license.clone();
    current["license_key"] = renewed["license_key"].clone();
    let other = api.issue(INSTALL, 365);
    let fresh = api.ok(activate(&s, &other, "BOX-B"));
    assert!(install_keys(&lease_of(&fresh)).is_empty());
    let again = api.ok(activate(&s, &current, "BOX-A"));
    // The unconfirmed install_key of the replaced activation moves to the new one.
    assert_eq!(install_keys(&lease_of(&again)).len(), 1, "{again}");
}

/// Bad input is refused with a stable problem code, and nothing changes.
#[test]
fn bad_renewals_and_changes_are_refused_with_problem_codes() {
    let s = TestServer::start();
    let api = Api::new(&s);
    let license = api.issue(INSTALL, 365);
    let id = license["id"].as_str().unwrap().to_owned();
    let renew = |body: Value| api.post(&format!("/api/v1/licenses/{id}/renew"), body);
    let change = |body: Value| api.post(&format!("/api/v1/licenses/{id}/change"), body);

    let p = expect_problem(
        renew(json!({"expires_at": when(-1, &s)})),
        422,
        "validation_failed",
    );
    assert!(
        p["detail"].as_str().unwrap().starts_with("expires_at"),
        "{p}"
    );
    let p = expect_problem(
        renew(json!({"expires_at": when(100, &s)})),
        422,
        "validation_failed",
    );
    assert!(
        p["detail"]
            .as_str()
            .unwrap()
            .contains("later than the current expiry"),
        "{p}"
    );
    expect_problem(
        renew(json!({"expires_at": "next year"})),
        422,
        "validation_failed",
    );
    expect_problem(renew(json!({})), 422, "validation_failed");
    expect_problem(
        change(json!({"internal_users": -5})),
        422,
        "validation_failed",
    );
    expect_problem(
        change(json!({"internal_users": 0, "external_users": 0})),
        422,
        "validation_failed",
    );
    expect_problem(
        change(json!({"features": ["Not A Feature"]})),
        422,
        "validation_failed",
    );
    let p = expect_problem(change(json!({})), 422, "validation_failed");
    assert!(
        p["detail"].as_str().unwrap().contains("nothing to change"),
        "{p}"
    );
    expect_problem(
        change(json!({"expires_at": when(900, &s)})),
        422,
        "validation_failed",
    );
    expect_problem(
        api.post("/api/v1/licenses/nope/reissue", json!({})),
        404,
        "not_found",
    );
    // Nothing changed: one key, the first.
    let detail = api.ok(api.get(&format!("/api/v1/licenses/{id}")));
    assert_eq!(detail["keys"].as_array().unwrap().len(), 1);
    assert_eq!(detail["license_key"], license["license_key"]);

    // A revoked license gets no new key.
    api.ok(api.post(
        &format!("/api/v1/licenses/{id}/revoke"),
        json!({"reason": "left"}),
    ));
    expect_problem(
        renew(json!({"expires_at": when(900, &s)})),
        403,
        "license_revoked",
    );
    expect_problem(
        api.post(&format!("/api/v1/licenses/{id}/reissue"), json!({})),
        403,
        "license_revoked",
    );
    // An expired one neither.
    let short = api.issue(INSTALL, 2);
    s.clock.advance(Duration::days(3));
    expect_problem(
        api.post(
            &format!("/api/v1/licenses/{}/reissue", short["id"].as_str().unwrap()),
            json!({}),
        ),
        403,
        "license_expired",
    );
}

/// A browser-like session: the cookie client and its CSRF token.
fn session(s: &TestServer) -> (Client, String) {
    api_login(s, ADMIN_EMAIL, ADMIN_PASSWORD)
}

fn post(c: &Client, s: &TestServer, path: &str, fields: &[(&str, &str)]) -> Response {
    c.post(s.url(path)).form(fields).send().unwrap()
}

fn page(c: &Client, s: &TestServer, path: &str) -> String {
    let r = c.get(s.url(path)).send().unwrap();
    assert_eq!(r.status(), 200, "{path}");
    r.text().unwrap()
}

/// The signing-keys page lists the live licenses a rotated-out key still signs and
/// reissues them all in one action; then the key retires without stopping them.
#[test]
fn reissue_them_all_from_the_signing_keys_page() {
    let s = TestServer::start();
    let api = Api::new(&s);
    let a = api.issue(INSTALL, 365);
    let b = api.issue(INSTALL, 365);
    let act = api.ok(activate(&s, &a, "BOX-A"));
    let secret = act["activation_secret"].as_str().unwrap().to_owned();
    let revoked = api.issue(INSTALL, 365);
    let rid = revoked["id"].as_str().unwrap();
    api.ok(api.post(
        &format!("/api/v1/licenses/{rid}/revoke"),
        json!({"reason": "x"}),
    ));
    let old_kid = a["kid"].as_str().unwrap().to_owned();
    let new_kid = api.ok(api.post("/api/v1/signing-keys", json!({})))["kid"]
        .as_str()
        .unwrap()
        .to_owned();

    let (c, csrf) = session(&s);
    let html = page(&c, &s, "/licensing/signing");
    let section = html
        .split(&format!("id=\"signed-by-{old_kid}\""))
        .nth(1)
        .expect("a section for the old key");
    for l in [&a, &b] {
        let link = format!("/licensing/licenses/{}", l["id"].as_str().unwrap());
        assert!(section.contains(&link), "{section}");
    }
    assert!(!section.contains(rid), "a revoked license is not listed");
    assert!(section.contains("Reissue them all"), "{section}");

    let r = post(
        &c,
        &s,
        &format!("/licensing/signing/{old_kid}/reissue"),
        &[("csrf", &csrf)],
    );
    assert_eq!(r.status(), 303);
    let html = page(&c, &s, "/licensing/signing");
    assert!(
        !html.contains(&format!("id=\"signed-by-{old_kid}\"")),
        "{html}"
    );
    for l in [&a, &b] {
        let id = l["id"].as_str().unwrap();
        let now = api.ok(api.get(&format!("/api/v1/licenses/{id}")));
        assert_eq!(now["kid"], new_kid.as_str());
        assert_eq!(now["keys"][0]["reason"], "reissue");
        // Each key names the signing key that signed it (read from its header).
        assert_eq!(now["keys"][0]["kid"], new_kid.as_str());
        assert_eq!(now["keys"][1]["kid"], old_kid.as_str());
    }
    let audit = api.ok(api.get(&format!(
        "/api/v1/audit?action=signing_key.reissue_all&target=key:{old_kid}"
    )));
    assert_eq!(audit["items"][0]["details"]["reissued"], 2, "{audit}");
    // The bound appliance gets its new key; then the old key can go.
    let lease = lease_of(&api.ok(heartbeat(
        &s,
        a["id"].as_str().unwrap(),
        &secret,
        "BOX-A",
        1,
    )));
    let keys = install_keys(&lease);
    assert_eq!(keys.len(), 1, "{lease}");
    let r = api.post(&format!("/api/v1/signing-keys/{old_kid}/retire"), json!({}));
    assert_eq!(r.status(), 204);
    let claims = verify_with_jwks(&s, keys[0]["license_key"].as_str().unwrap());
    assert_eq!(claims["jti"], a["id"]);
    // The active key's own licenses are not "reissued them all".
    expect_problem(
        api.post(
            &format!("/api/v1/signing-keys/{new_kid}/reissue"),
            json!({}),
        ),
        422,
        "validation_failed",
    );
}

/// Renew, change and reissue from the license page; a bad date comes back with the
/// message and what was typed.
#[test]
fn the_license_page_renews_changes_and_reissues() {
    let s = TestServer::start();
    let api = Api::new(&s);
    let license = api.issue(INSTALL, 365);
    let id = license["id"].as_str().unwrap().to_owned();
    let (c, csrf) = session(&s);
    let at = |what: &str| format!("/licensing/licenses/{id}/{what}");

    let r = post(
        &c,
        &s,
        &at("renew"),
        &[("csrf", &csrf), ("expires_on", "31.12.2030")],
    );
    assert_eq!(r.status(), 422);
    let html = r.text().unwrap();
    assert!(
        html.contains("YYYY-MM-DD") && html.contains("value=\"31.12.2030\""),
        "{html}"
    );

    let r = post(
        &c,
        &s,
        &at("renew"),
        &[("csrf", &csrf), ("expires_on", "2030-12-31")],
    );
    assert_eq!(r.status(), 303);
    assert!(
        r.headers()["location"]
            .to_str()
            .unwrap()
            .contains("notice=license_renewed")
    );
    let now = api.ok(api.get(&format!("/api/v1/licenses/{id}")));
    assert_eq!(now["expires_at"], "2030-12-31T23:59:59Z");

    let r = post(
        &c,
        &s,
        &at("change"),
        &[
            ("csrf", &csrf),
            ("name", "Plant 9"),
            ("internal_users", "-3"),
            ("external_users", "10"),
            ("features", "sso"),
        ],
    );
    assert_eq!(r.status(), 422);
    assert!(r.text().unwrap().contains("internal_users"));
    let r = post(
        &c,
        &s,
        &at("change"),
        &[
            ("csrf", &csrf),
            ("name", "Plant 9"),
            ("internal_users", "60"),
            ("external_users", "10"),
            ("features", "sso, audit"),
        ],
    );
    assert_eq!(r.status(), 303);
    let r = post(&c, &s, &at("reissue"), &[("csrf", &csrf)]);
    assert_eq!(r.status(), 303);
    let now = api.ok(api.get(&format!("/api/v1/licenses/{id}")));
    assert_eq!(
        (&now["name"], &now["internal_users"]),
        (&json!("Plant 9"), &json!(60))
    );
    assert_eq!(now["features"], json!(["sso", "audit"]));
    let html = page(&c, &s, &format!("/licensing/licenses/{id}"));
    let keys = html.split("id=\"license-keys\"").nth(1).unwrap();
    for reason in ["reissue", "change", "renew", "issue"] {
        assert!(
            keys.contains(&format!("<code>{reason}</code>")),
            "{reason}: {keys}"
        );
    }
}

/// Every dangerous console action asks first: without `confirmed=1` the answer is a
/// page saying what will happen to which appliance or person, carrying the fields, and
/// nothing changes; with it, the action runs.
#[test]
fn dangerous_console_actions_ask_first_and_do_nothing_until_confirmed() {
    let s = TestServer::start();
    let api = Api::new(&s);
    let license = api.issue(INSTALL, 365);
    let id = license["id"].as_str().unwrap().to_owned();
    api.ok(activate(&s, &license, "BOX-A"));
    let (c, csrf) = session(&s);
    let at = |what: &str| format!("/licensing/licenses/{id}/{what}");
    let state = || api.ok(api.get(&format!("/api/v1/licenses/{id}")));

    /// (path, fields, words the page must say, the confirming button)
    type Case<'a> = (String, Vec<(&'a str, &'a str)>, Vec<&'a str>, &'a str);
    let cases: Vec<Case<'_>> = vec![
        (
            at("directives"),
            vec![("kind", "lock"), ("message", "pay up")],
            vec!["BOX-A", "Lock the appliance", "pay up"],
            "Yes, lock it",
        ),
        (
            at("suspend"),
            vec![("reason", "unpaid invoice 42")],
            vec!["BOX-A", "Suspend the license"],
            "Yes, suspend it",
        ),
        (
            at("subscription"),
            vec![("status", "past_due"), ("period_end", "")],
            vec!["BOX-A", "suspended at once"],
            "Yes, suspend it",
        ),
        (
            at("rebind"),
            vec![("fingerprint", "BOX-B")],
            vec!["BOX-A", "BOX-B"],
            "Yes, rebind it",
        ),
        (
            at("revoke"),
            vec![("reason", "customer left")],
            vec!["BOX-B", "final", "customer left"],
            "Yes, revoke it",
        ),
    ];
    for (path, fields, says, yes) in &cases {
        let mut form = vec![("csrf", csrf.as_str())];
        form.extend(fields.iter().copied());
        let before = state();
        let r = post(&c, &s, path, &form);
        assert_eq!(r.status(), 200, "{path}");
        let html = r.text().unwrap();
        assert!(html.contains("id=\"confirm-form\""), "{path}: {html}");
        // minijinja escapes `/` in attribute values (browsers read it back as `/`).
        let esc = |p: &str| p.replace('/', "&#x2f;");
        assert!(
            html.contains(&format!("action=\"{}\"", esc(path))),
            "{path}: {html}"
        );
        assert!(html.contains(yes), "{path}: {html}");
        for word in says {
            assert!(html.contains(word), "{path} should say {word}: {html}");
        }
        for (name, value) in fields {
            let hidden = format!("type=\"hidden\" name=\"{name}\" value=\"{value}\"");
            assert!(html.contains(&hidden), "{path} carries {name}: {html}");
        }
        assert!(html.contains("name=\"confirmed\" value=\"1\""));
        let back = esc(&format!("/licensing/licenses/{id}"));
        assert!(
            html.contains(&format!("id=\"confirm-cancel\" href=\"{back}\"")),
            "{html}"
        );
        // Nothing happened.
        let after = state();
        for field in [
            "state",
            "bound_fingerprint",
            "subscription",
            "directives",
            "history",
        ] {
            assert_eq!(before[field], after[field], "{path} changed {field}");
        }
        // Confirmed, it runs.
        form.push(("confirmed", "1"));
        let r = post(&c, &s, path, &form);
        assert_eq!(r.status(), 303, "{path}: {}", r.text().unwrap());
        if path.ends_with("/suspend") {
            // Reinstate so the next cases start from a live, unsuspended license.
            let html = page(&c, &s, &format!("/licensing/licenses/{id}"));
            assert!(
                html.contains("unpaid invoice 42"),
                "the suspend reason shows: {html}"
            );
            api.ok(api.post(&format!("/api/v1/licenses/{id}/reinstate"), json!({})));
        }
        if path.ends_with("/subscription") {
            api.ok(api.post(
                &format!("/api/v1/licenses/{id}/subscription"),
                json!({"status": "active"}),
            ));
        }
    }
    assert_eq!(state()["state"], "revoked");

    // A message directive needs no confirmation.
    let other = api.issue(INSTALL, 365);
    let oid = other["id"].as_str().unwrap();
    let r = post(
        &c,
        &s,
        &format!("/licensing/licenses/{oid}/directives"),
        &[("csrf", &csrf), ("kind", "message"), ("message", "hello")],
    );
    assert_eq!(r.status(), 303);

    // A role change names the person and what they gain and lose.
    let uid = s.create_staff(
        "ops@example.com",
        licd::domain::permissions::Role::Onboarding,
        "ops-password-123",
    );
    let path = format!("/users/{uid}/role");
    let r = post(&c, &s, &path, &[("csrf", &csrf), ("role", "super_admin")]);
    assert_eq!(r.status(), 200);
    let html = r.text().unwrap();
    assert!(
        html.contains("ops@example.com") && html.contains("users.manage"),
        "{html}"
    );
    assert!(html.contains("Yes, make them super_admin"), "{html}");
    let role = || {
        api.ok(api.get(&format!("/api/v1/users/{uid}")))["role"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(role(), "onboarding");
    let r = post(
        &c,
        &s,
        &path,
        &[("csrf", &csrf), ("role", "super_admin"), ("confirmed", "1")],
    );
    assert_eq!(r.status(), 303);
    assert_eq!(role(), "super_admin");

    // Shortening the grace window from 14 to 3 days asks first.
    let mut settings: Vec<(String, String)> = serde_json::from_value::<
        serde_json::Map<String, Value>,
    >(api.ok(api.get("/api/v1/licensing/settings")))
    .unwrap()
    .into_iter()
    .map(|(k, v)| (k, v.to_string()))
    .collect();
    for (k, v) in settings.iter_mut() {
        if k == "grace_days" {
            *v = "3".into();
        }
        if k == "heartbeat_interval_secs" {
            *v = "3600".into();
        }
    }
    let mut form: Vec<(&str, &str)> = vec![("csrf", &csrf)];
    form.extend(settings.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let r = post(&c, &s, "/licensing/settings", &form);
    assert_eq!(r.status(), 200);
    let html = r.text().unwrap();
    assert!(html.contains("3 days instead of 14"), "{html}");
    assert_eq!(
        api.ok(api.get("/api/v1/licensing/settings"))["grace_days"],
        14
    );
    form.push(("confirmed", "1"));
    assert_eq!(post(&c, &s, "/licensing/settings", &form).status(), 303);
    assert_eq!(
        api.ok(api.get("/api/v1/licensing/settings"))["grace_days"],
        3
    );
}

/// History names the real cause: staff changing the subscription is a `subscription`
/// event by that staff member, not a `sweep`.
#[test]
fn a_subscription_change_is_recorded_as_such_with_its_actor() {
    let s = TestServer::start();
    let api = Api::new(&s);
    let license = api.issue(INSTALL, 365);
    let id = license["id"].as_str().unwrap().to_owned();
    api.ok(activate(&s, &license, "BOX-A"));
    let l = api.ok(api.post(
        &format!("/api/v1/licenses/{id}/subscription"),
        json!({"status": "past_due"}),
    ));
    assert_eq!(l["state"], "suspended");
    let detail = api.ok(api.get(&format!("/api/v1/licenses/{id}")));
    let last = &detail["history"][0];
    assert_eq!(last["event"], "subscription", "{detail}");
    assert_eq!(last["to_state"], "suspended");
    assert_eq!(last["actor"], format!("staff:{ADMIN_EMAIL}"));
}

/// The license page: safe defaults, the suspend reason, the Install ID linking to its
/// installation; the users page starts a new account on the least-privileged role.
#[test]
fn license_and_users_pages_show_safe_defaults_and_links() {
    let s = TestServer::start();
    let api = Api::new(&s);
    let license = api.issue(INSTALL, 365);
    let id = license["id"].as_str().unwrap().to_owned();
    api.ok(api.post(
        &format!("/api/v1/licenses/{id}/suspend"),
        json!({"reason": "unpaid invoice 42"}),
    ));
    let (c, _) = session(&s);
    let html = page(&c, &s, &format!("/licensing/licenses/{id}"));
    assert!(html.contains("unpaid invoice 42"), "{html}");
    assert!(
        html.contains(&format!("href=\"/installations/{INSTALL}\"")),
        "{html}"
    );
    let select = html
        .split("<select name=\"kind\">")
        .nth(1)
        .unwrap()
        .split("</select>")
        .next()
        .unwrap();
    assert!(
        select.trim_start().starts_with("<option value=\"message\""),
        "{select}"
    );
    assert!(!select.contains("selected"), "{select}");
    let html = page(&c, &s, "/users");
    let create = html.split("id=\"create-user\"").nth(1).unwrap();
    assert!(
        create.contains("<option value=\"onboarding\" selected>"),
        "{create}"
    );
}

/// "Reissue them all" signs a batch of licenses per transaction, each a job of the
/// group commit, so heartbeats commit between them: 10,000 in one transaction held
/// every heartbeat 1.7 s. Each license still gets its key and its audit entry, and the
/// whole one entry at the end.
#[test]
fn reissue_them_all_goes_a_batch_at_a_time() {
    let s = TestServer::start();
    let api = Api::new(&s);
    let tenant = s.app.tenants.public().unwrap();
    let issued = issue_in_process(&s, "inst-reissue", 120, None);
    let old_kid = issued[0].kid.clone();
    let new_kid = api.ok(api.post("/api/v1/signing-keys", json!({})))["kid"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, jobs) = tenant.group_commit_stats();
    let done = api.ok(api.post(
        &format!("/api/v1/signing-keys/{old_kid}/reissue"),
        json!({}),
    ));
    let (_, after) = tenant.group_commit_stats();
    assert_eq!(done["reissued"].as_array().unwrap().len(), 120);
    assert!(after - jobs >= 3, "{} group jobs", after - jobs);
    for l in [&issued[0], &issued[119]] {
        let now = api.ok(api.get(&format!("/api/v1/licenses/{}", l.id)));
        assert_eq!(now["kid"], new_kid.as_str());
    }
    let audit = api.ok(api.get(&format!(
        "/api/v1/audit?action=signing_key.reissue_all&target=key:{old_kid}"
    )));
    assert_eq!(audit["items"][0]["details"]["reissued"], 120, "{audit}");
    // Nothing is left to reissue: a second call reissues none.
    let again = api.ok(api.post(
        &format!("/api/v1/signing-keys/{old_kid}/reissue"),
        json!({}),
    ));
    assert_eq!(again["reissued"].as_array().unwrap().len(), 0);
}
