//! licd's own license: install by paste with the checks named, capacity from staff
//! counts, and read-only mode with its allow-list.

use crate::harness::*;
use chrono::Duration;
use licd::domain::license::{LICENSE_TYP, LicenseClaims};
use licd::domain::permissions::Role;
use licd::pki::KeyPair;
use serde_json::{Value, json};

pub(crate) struct Vendor {
    pub(crate) key: KeyPair,
    _dir: tempfile::TempDir,
    pub(crate) jwks: std::path::PathBuf,
}

pub(crate) fn vendor() -> Vendor {
    let key = KeyPair::generate().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let jwks = dir.path().join("vendor.jwks.json");
    let set = licd::pki::keys::Jwks {
        keys: vec![key.public().to_jwk()],
    };
    std::fs::write(&jwks, serde_json::to_string(&set).unwrap()).unwrap();
    Vendor {
        key,
        _dir: dir,
        jwks,
    }
}

pub(crate) fn key_for(
    signer: &KeyPair,
    install_id: &str,
    internal: u32,
    from: chrono::DateTime<chrono::Utc>,
    days: i64,
) -> String {
    let claims = LicenseClaims {
        iss: "vendor".into(),
        sub: uuid::Uuid::new_v4().to_string(),
        jti: uuid::Uuid::new_v4().to_string(),
        aud: format!("licd:install:{install_id}"),
        iat: from.timestamp(),
        nbf: from.timestamp(),
        exp: (from + Duration::days(days)).timestamp(),
        name: "licd for Acme".into(),
        org: "Acme".into(),
        internal_users: internal,
        external_users: 0,
        features: vec![],
        flags: vec![],
        ver: 1,
    };
    licd::pki::jws::sign(signer, LICENSE_TYP, &claims).unwrap()
}

pub(crate) fn start(v: &Vendor) -> TestServer {
    let path = v.jwks.clone();
    TestServer::start_in(tempfile::tempdir().unwrap(), move |c| {
        c.licensing.trusted_issuers = vec![path]
    })
}

fn install(s: &TestServer, token: &str, key: &str) -> reqwest::blocking::Response {
    client()
        .post(s.url("/api/v1/enterprise/licenses"))
        .bearer_auth(token)
        .json(&json!({"license_key": key}))
        .send()
        .unwrap()
}

#[test]
fn keys_are_checked_for_issuer_install_id_and_expiry() {
    let v = vendor();
    let s = start(&v);
    let admin = s.admin_token();
    let own = s.app.tenants.public().unwrap().install_id.clone();
    let now = s.clock.now_utc();
    let stranger = KeyPair::generate().unwrap();
    let b = expect_problem(
        install(&s, &admin, &key_for(&stranger, &own, 10, now, 30)),
        422,
        "license_key_untrusted",
    );
    assert!(
        b["detail"]
            .as_str()
            .unwrap()
            .contains("not signed by a trusted issuer"),
        "{b}"
    );
    let b = expect_problem(
        install(&s, &admin, &key_for(&v.key, "someone-else", 10, now, 30)),
        403,
        "wrong_install_id",
    );
    assert!(b["detail"].as_str().unwrap().contains(&own), "{b}");
    let b = expect_problem(
        install(
            &s,
            &admin,
            &key_for(&v.key, &own, 10, now - Duration::days(60), 30),
        ),
        403,
        "license_expired",
    );
    assert!(b["detail"].as_str().unwrap().contains("expired"), "{b}");
    expect_problem(
        install(
            &s,
            &admin,
            &key_for(&v.key, &own, 10, now + Duration::days(2), 30),
        ),
        403,
        "license_not_yet_valid",
    );
    expect_problem(install(&s, &admin, "garbage"), 422, "validation_failed");

    let r = install(&s, &admin, &key_for(&v.key, &own, 25, now, 365));
    assert_eq!(r.status(), 201);
    let o: Value = r.json().unwrap();
    assert_eq!(o["capacity"]["internal_users"], 25);
    assert_eq!(
        o["usage"]["internal_users"], 1,
        "the one enabled staff account"
    );
    assert_eq!(o["stage"], "none");
    assert_eq!(o["licenses"][0]["internal_users"], 25);
    let id = o["licenses"][0]["id"].as_str().unwrap().to_owned();
    // Only settings.manage may install.
    let support = s.role_token(Role::Support);
    expect_problem(
        install(&s, &support, &key_for(&v.key, &own, 25, now, 365)),
        403,
        "forbidden",
    );
    let r = client()
        .delete(s.url(&format!("/api/v1/enterprise/licenses/{id}")))
        .bearer_auth(&admin)
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    let o: Value = client()
        .get(s.url("/api/v1/enterprise"))
        .bearer_auth(&admin)
        .send()
        .unwrap()
        .json()
        .unwrap();
    // Once licensed, having no license is a violation (starting now), not `unlicensed`.
    assert_eq!(
        (o["condition"].as_str(), o["stage"].as_str()),
        (Some("no_valid_license"), Some("none"))
    );
    assert!(o["violation_since"].is_string());
}

#[test]
fn removing_the_license_never_escapes_read_only() {
    let v = vendor();
    let s = start(&v);
    let admin = s.admin_token();
    let own = s.app.tenants.public().unwrap().install_id.clone();
    // A one-user license and three enabled staff: over the limit from now.
    s.create_staff("two@example.com", Role::Support, "second-password-1");
    s.create_staff("three@example.com", Role::Support, "third-password-12");
    assert_eq!(
        install(
            &s,
            &admin,
            &key_for(&v.key, &own, 1, s.clock.now_utc(), 365)
        )
        .status(),
        201
    );
    s.clock.advance(Duration::days(42));
    let overview = || -> Value {
        client()
            .get(s.url("/api/v1/enterprise"))
            .bearer_auth(&admin)
            .send()
            .unwrap()
            .json()
            .unwrap()
    };
    let sweep = || {
        let r = client()
            .post(s.url("/api/v1/licenses/health/sweep"))
            .bearer_auth(&admin)
            .json(&json!({}))
            .send()
            .unwrap();
        assert_eq!(r.status(), 200);
    };
    sweep();
    let o = overview();
    assert_eq!(o["stage"], "read_only");
    let id = o["licenses"][0]["id"].as_str().unwrap().to_owned();
    let write_refused = || {
        let r = client()
            .post(s.url("/api/v1/tokens"))
            .bearer_auth(&admin)
            .json(&json!({"name": "escape"}))
            .send()
            .unwrap();
        expect_problem(r, 403, "license_read_only");
    };

    // Removing the only valid license is refused, by the API and by the console form.
    let r = client()
        .delete(s.url(&format!("/api/v1/enterprise/licenses/{id}")))
        .bearer_auth(&admin)
        .send()
        .unwrap();
    let b = expect_problem(r, 409, "license_removal_refused");
    assert!(
        b["detail"]
            .as_str()
            .unwrap()
            .contains("Install a replacement")
    );
    let r = client()
        .post(s.url(&format!("/enterprise/licenses/{id}/remove")))
        .bearer_auth(&admin)
        .form(&[("x", "y")])
        .send()
        .unwrap();
    assert_ne!(r.status(), 303, "the form does not remove it either");
    assert_eq!(overview()["licenses"].as_array().unwrap().len(), 1);
    write_refused();

    // Once it has expired it adds nothing and may go, but the tenant stays read-only:
    // `no_valid_license`, with the clock still running from the original violation.
    s.clock.advance(Duration::days(365));
    sweep();
    let since = overview()["violation_since"].clone();
    let r = client()
        .delete(s.url(&format!("/api/v1/enterprise/licenses/{id}")))
        .bearer_auth(&admin)
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    sweep();
    let o = overview();
    assert_eq!(
        (o["condition"].as_str(), o["stage"].as_str()),
        (Some("no_valid_license"), Some("read_only"))
    );
    assert_eq!(o["violation_since"], since);
    write_refused();
}

#[test]
fn read_only_allows_exactly_the_allow_list() {
    let v = vendor();
    let s = start(&v);
    let admin = s.admin_token();
    let own = s.app.tenants.public().unwrap().install_id.clone();
    let now = s.clock.now_utc();
    // One licensed user, two staff: over the limit from now.
    let uid = s.create_staff("second@example.com", Role::Support, "second-password-1");
    assert_eq!(
        install(&s, &admin, &key_for(&v.key, &own, 1, now, 365)).status(),
        201
    );
    // A license and an activation to try the appliance endpoints with later.
    let api = crate::licensing::Api::new(&s);
    let lic = api.issue("appliance-1", 365);
    let act = api.ok(crate::licensing::activate(&s, &lic, "fp"));
    let secret = act["activation_secret"].as_str().unwrap().to_owned();
    let prov: Value = api.ok(api.post(
        "/api/v1/provisioning-tokens",
        json!({"name": "line", "max_uses": 5, "template": {"internal_users": 1, "duration_days": 30}}),
    ));
    let prov_token = prov["secret"].as_str().unwrap().to_owned();
    let sweep = || {
        client()
            .post(s.url("/api/v1/licenses/health/sweep"))
            .bearer_auth(&admin)
            .json(&json!({}))
            .send()
            .unwrap()
    };
    s.clock.advance(Duration::days(42));
    assert_eq!(sweep().status(), 200);
    let o: Value = client()
        .get(s.url("/api/v1/enterprise"))
        .bearer_auth(&admin)
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(o["stage"], "read_only");

    // Refused: a sample of every other write route.
    let refused = [
        (
            "POST",
            "/api/v1/licenses",
            json!({"name": "x", "install_id": "y", "internal_users": 1, "expires_at": "2030-01-01T00:00:00Z"}),
        ),
        ("POST", "/api/v1/tokens", json!({"name": "x"})),
        (
            "POST",
            "/api/v1/users",
            json!({"email": "new@example.com", "role": "support"}),
        ),
        ("PUT", "/api/v1/licensing/settings", json!({})),
        ("POST", "/api/v1/signing-keys", json!({})),
        (
            "POST",
            &format!("/api/v1/licenses/{}/suspend", lic["id"].as_str().unwrap()),
            json!({"reason": "x"}),
        ),
        ("POST", "/api/v1/provisioning-tokens", json!({})),
    ];
    for (method, path, body) in refused {
        let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let r = client()
            .request(m, s.url(path))
            .bearer_auth(&admin)
            .json(&body)
            .send()
            .unwrap();
        let b = expect_problem(r, 403, "license_read_only");
        assert!(
            b["detail"]
                .as_str()
                .unwrap()
                .contains("Enterprise > Licenses"),
            "{path}"
        );
    }
    // Reading works.
    assert_eq!(
        client()
            .get(s.url("/api/v1/licenses"))
            .bearer_auth(&admin)
            .send()
            .unwrap()
            .status(),
        200
    );

    // Every allow-list entry works.
    // (The second account changes its password: a change revokes the account's API
    // tokens, and `admin` is needed below.)
    let (c, csrf) = api_login(&s, "second@example.com", "second-password-1");
    let r = c
        .post(s.url("/api/v1/auth/password"))
        .header("x-csrf-token", &csrf)
        .json(&json!({"current_password": "second-password-1", "new_password": "another-long-password"}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(
        c.post(s.url("/api/v1/auth/logout"))
            .header("x-csrf-token", &csrf)
            .send()
            .unwrap()
            .status(),
        204
    );
    let patch = client()
        .patch(s.url(&format!("/api/v1/users/{uid}")))
        .bearer_auth(&admin)
        .json(&json!({"display_name": "Second"}))
        .send()
        .unwrap();
    assert_eq!(patch.status(), 200);
    let reset = client()
        .post(s.url(&format!("/api/v1/users/{uid}/reset-password")))
        .bearer_auth(&admin)
        .send()
        .unwrap();
    assert_eq!(reset.status(), 200);
    let hb = crate::licensing::heartbeat(&s, lic["id"].as_str().unwrap(), &secret, "fp", 1);
    assert_eq!(hb.status(), 200, "appliances keep working");
    assert_eq!(crate::licensing::activate(&s, &lic, "fp").status(), 200);
    assert_eq!(sweep().status(), 200);
    // The console's allow-listed forms (bearer-authenticated here, so no CSRF token).
    let form = |path: &str, fields: &[(&str, &str)]| {
        client()
            .post(s.url(path))
            .bearer_auth(&admin)
            .form(fields)
            .send()
            .unwrap()
            .status()
            .as_u16()
    };
    assert_eq!(
        form(
            &format!("/users/{uid}/role"),
            &[("role", "support"), ("confirmed", "1")]
        ),
        303
    );
    assert_eq!(form(&format!("/users/{uid}/reset-password"), &[]), 303);
    assert_eq!(form(&format!("/users/{uid}/enable"), &[]), 303);
    // Installing and removing licd's own licenses works: install a bigger one through
    // the form, which lifts read-only, then remove the one-seat license. (Removing the
    // last valid license first is refused while in violation: see
    // `removing_the_license_never_escapes_read_only`.)
    let o: Value = client()
        .get(s.url("/api/v1/enterprise"))
        .bearer_auth(&admin)
        .send()
        .unwrap()
        .json()
        .unwrap();
    let old_id = o["licenses"][0]["id"].as_str().unwrap().to_owned();
    let bigger = key_for(&v.key, &own, 5, s.clock.now_utc(), 365);
    assert_eq!(
        form("/enterprise/licenses", &[("license_key", bigger.as_str())]),
        303
    );
    assert_eq!(
        form(&format!("/enterprise/licenses/{old_id}/remove"), &[]),
        303
    );
    let o: Value = client()
        .get(s.url("/api/v1/enterprise"))
        .bearer_auth(&admin)
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(o["stage"], "none");
    // Back over the limit and read-only again, for the last entries.
    let r = client()
        .delete(s.url(&format!(
            "/api/v1/enterprise/licenses/{}",
            o["licenses"][0]["id"].as_str().unwrap()
        )))
        .bearer_auth(&admin)
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        install(
            &s,
            &admin,
            &key_for(&v.key, &own, 1, s.clock.now_utc() - Duration::days(50), 365)
        )
        .status(),
        201
    );
    s.clock.advance(Duration::days(43));
    assert_eq!(sweep().status(), 200);
    let o: Value = client()
        .get(s.url("/api/v1/enterprise"))
        .bearer_auth(&admin)
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(o["stage"], "read_only");
    // Appliances can still be provisioned.
    let r = client()
        .post(s.url("/api/v1/provision"))
        .json(&json!({"token": prov_token, "install_id": "appliance-2", "fingerprint": "fp-2"}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 201);
    // Credentials can always be revoked: the provisioning token (then it provisions no
    // more), an API token, a license (its appliance locks) and a signing key.
    let prov_id = prov["token"]["id"].as_i64().unwrap();
    let r = client()
        .delete(s.url(&format!("/api/v1/provisioning-tokens/{prov_id}")))
        .bearer_auth(&admin)
        .send()
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    let r = client()
        .post(s.url("/api/v1/provision"))
        .json(&json!({"token": prov_token, "install_id": "appliance-3", "fingerprint": "fp-3"}))
        .send()
        .unwrap();
    expect_problem(r, 401, "provisioning_token_invalid");
    let spare = s.admin_token();
    let tokens: Value = client()
        .get(s.url("/api/v1/tokens"))
        .bearer_auth(&spare)
        .send()
        .unwrap()
        .json()
        .unwrap();
    let spare_id = tokens
        .as_array()
        .or_else(|| tokens["items"].as_array())
        .unwrap()
        .iter()
        .map(|t| t["id"].as_i64().unwrap())
        .max()
        .unwrap();
    let r = client()
        .delete(s.url(&format!("/api/v1/tokens/{spare_id}")))
        .bearer_auth(&admin)
        .send()
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    let r = client()
        .post(s.url(&format!(
            "/api/v1/licenses/{}/revoke",
            lic["id"].as_str().unwrap()
        )))
        .bearer_auth(&admin)
        .json(&json!({"reason": "leaked"}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    let revoke_form = form(
        &format!("/licensing/licenses/{}/revoke", lic["id"].as_str().unwrap()),
        &[("reason", "again")],
    );
    assert_ne!(revoke_form, 403, "the console's revoke form is not refused");
    // The console's sign-in, password change and sign-out forms work.
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
            ("email", "second@example.com"),
            ("password", "second-password-1"),
        ])
        .send()
        .unwrap();
    assert_eq!(
        r.status(),
        401,
        "wrong password (it was reset): the form answers, it is not refused"
    );
    let r = c
        .post(s.url("/login"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("email", ADMIN_EMAIL),
            ("password", ADMIN_PASSWORD),
        ])
        .send()
        .unwrap();
    assert_eq!(r.status(), 303);
    let page = c.get(s.url("/password")).send().unwrap().text().unwrap();
    let csrf = page
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    let r = c
        .post(s.url("/password"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("current_password", ADMIN_PASSWORD),
            ("new_password", "a-third-long-password"),
            ("confirm_password", "a-third-long-password"),
        ])
        .send()
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(
        c.post(s.url("/logout"))
            .form(&[("csrf", csrf.as_str())])
            .send()
            .unwrap()
            .status(),
        303
    );
    // The password change revoked the admin's API tokens: a new one.
    let admin = s.admin_token();
    // Installing a license through the API works too (and adds a seat: compliant again).
    let r = install(
        &s,
        &admin,
        &key_for(&v.key, &own, 1, s.clock.now_utc(), 365),
    );
    assert_eq!(r.status(), 201);
    // Disabling the second user brings usage back to the limit: read-only lifts.
    let r = client()
        .patch(s.url(&format!("/api/v1/users/{uid}")))
        .bearer_auth(&admin)
        .json(&json!({"disabled": true}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    let o: Value = client()
        .get(s.url("/api/v1/enterprise"))
        .bearer_auth(&admin)
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(
        (o["stage"].as_str(), o["condition"].as_str()),
        (Some("none"), Some("compliant"))
    );
    let r = client()
        .post(s.url("/api/v1/tokens"))
        .bearer_auth(&admin)
        .json(&json!({"name": "x"}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 201, "writes work again");
    // Install and remove stay allowed in read-only mode too (checked by the route table).
    for r in licd::http::routing::registered() {
        if r.read_only == licd::http::routing::ReadOnly::AllowedInReadOnly {
            let path = r.path.replace("{id}", "x").replace("{kid}", "x");
            assert!(licd::http::middleware::read_only::allowed(r.method, &path));
        }
    }
}

/// An unreadable stored violation state is an error, never read as "no violation"
/// (that would be a way out of enforcement): the overview answers `internal`.
#[test]
fn an_unreadable_stored_violation_state_is_an_error() {
    let s = TestServer::start();
    let admin = s.admin_token();
    let db = rusqlite::Connection::open(s.data_dir().join("tenants/public.db")).unwrap();
    db.execute(
        "INSERT INTO settings (key, value) VALUES ('enterprise.state', '{\"stage\": \"read_')
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        [],
    )
    .unwrap();
    drop(db);
    let r = client()
        .get(s.url("/api/v1/enterprise"))
        .bearer_auth(&admin)
        .send()
        .unwrap();
    expect_problem(r, 500, "internal");
}
