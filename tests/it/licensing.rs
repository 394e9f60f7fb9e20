//! The licensing core against the real server: seed 002's story end to end, every
//! refusal's problem code, leases, directives, rebind, provisioning, sweep, keys.

use crate::harness::*;
use chrono::Duration;
use licd::domain::permissions::Role;
use reqwest::blocking::Response;
use serde_json::{Value, json};

pub const INSTALL: &str = "5b9e3f0a-1c2d-4e5f-8a9b-0c1d2e3f4a5b";

pub struct Api<'a> {
    pub s: &'a TestServer,
    pub token: String,
}

impl<'a> Api<'a> {
    pub fn new(s: &'a TestServer) -> Self {
        Api {
            s,
            token: s.admin_token(),
        }
    }

    pub fn get(&self, path: &str) -> Response {
        self.s
            .client()
            .get(self.s.url(path))
            .bearer_auth(&self.token)
            .send()
            .unwrap()
    }

    pub fn post(&self, path: &str, body: Value) -> Response {
        self.s
            .client()
            .post(self.s.url(path))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .unwrap()
    }

    pub fn ok(&self, resp: Response) -> Value {
        let status = resp.status();
        let text = resp.text().unwrap();
        assert!(status.is_success(), "{status}: {text}");
        serde_json::from_str(&text).unwrap()
    }

    /// Issues a license valid from the clock's now for `days`.
    pub fn issue(&self, install: &str, days: i64) -> Value {
        let body = json!({
            "name": "Plant 7", "install_id": install, "organization": "Acme",
            "internal_users": 50, "external_users": 10, "features": ["sso"], "flags": ["trial"],
            "expires_at": (self.s.clock.now_utc() + Duration::days(days)).to_rfc3339(),
        });
        let r = self.post("/api/v1/licenses", body);
        assert_eq!(r.status(), 201);
        r.json().unwrap()
    }
}

/// The appliance side: anonymous calls with the license key or activation secret.
pub fn activate(s: &TestServer, license: &Value, fingerprint: &str) -> Response {
    let id = license["id"].as_str().unwrap();
    s.client()
        .post(s.url(&format!("/api/v1/licenses/{id}/activate")))
        .json(&json!({
            "license_key": license["license_key"], "fingerprint": fingerprint,
            "install_id": license["install_id"], "hostname": "box-1",
        }))
        .send()
        .unwrap()
}

pub fn heartbeat(s: &TestServer, id: &str, secret: &str, fingerprint: &str, seq: i64) -> Response {
    s.client()
        .post(s.url(&format!("/api/v1/licenses/{id}/heartbeat")))
        .bearer_auth(secret)
        .json(&json!({"fingerprint": fingerprint, "seq": seq, "internal_users": 12, "external_users": 3}))
        .send()
        .unwrap()
}

/// Issues `n` licenses in-process (one transaction, the real issuing code), on Install
/// IDs `{prefix}-0`, `{prefix}-1`, ..., each for 5 users and a year, valid from
/// `not_before` (or now).
pub fn issue_in_process(
    s: &TestServer,
    prefix: &str,
    n: usize,
    not_before: Option<chrono::DateTime<chrono::Utc>>,
) -> Vec<licd::service::licenses::LicenseView> {
    let tenant = s.app.tenants.public().unwrap();
    let now = s.clock.now_utc();
    let requests: Vec<licd::domain::license::LicenseRequest> = (0..n)
        .map(|i| licd::domain::license::LicenseRequest {
            name: "batch".into(),
            install_id: format!("{prefix}-{i}"),
            organization: "Batch Corp".into(),
            organization_id: None,
            internal_users: 5,
            external_users: 0,
            features: vec![],
            flags: vec![],
            not_before,
            expires_at: now + Duration::days(365),
        })
        .collect();
    licd::service::licenses::issue_many(&s.app, &tenant, now, &licd::service::Actor::Cli, &requests)
        .unwrap()
}

pub fn lease_of(v: &Value) -> Value {
    v["claims"].clone()
}

pub fn directive_kinds(lease: &Value) -> Vec<String> {
    lease["directives"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["kind"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn seed_002_story_end_to_end() {
    let s = TestServer::start();
    let api = Api::new(&s);
    let license = api.issue(INSTALL, 365);
    let id = license["id"].as_str().unwrap().to_owned();
    assert_eq!(license["state"], "issued");
    assert!(license["license_key"].as_str().unwrap().split('.').count() == 3);

    // Activate: binds the fingerprint, returns a secret and a signed lease.
    let r = activate(&s, &license, "fp-box-1");
    let act = api.ok(r);
    assert_eq!(act["state"], "active");
    let secret = act["activation_secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("lact_"));
    let lease = lease_of(&act);
    assert_eq!(lease["seq"], 1);
    assert_eq!(lease["prev"], "");
    assert_eq!(lease["fingerprint"], "fp-box-1");
    assert_eq!(lease["stage"], "none");
    let detail = api.ok(api.get(&format!("/api/v1/licenses/{id}")));
    assert_eq!(detail["bound_fingerprint"], "fp-box-1");
    assert_eq!(detail["state"], "active");

    // Heartbeats keep it active; the lease chain advances and names its predecessor.
    let mut seq = 1;
    let mut prev_lease = act["lease"].as_str().unwrap().to_owned();
    for _ in 0..3 {
        s.clock.advance(Duration::days(5));
        let hb = api.ok(heartbeat(&s, &id, &secret, "fp-box-1", seq));
        let claims = lease_of(&hb);
        assert_eq!(claims["state"], "active");
        assert_eq!(claims["seq"], seq + 1);
        assert_eq!(claims["prev"], licd::pki::jws::chain_hash(&prev_lease));
        let expires =
            chrono::DateTime::parse_from_rfc3339(claims["lease_expires_at"].as_str().unwrap())
                .unwrap();
        assert_eq!(
            expires.with_timezone(&chrono::Utc),
            s.clock.now_utc() + Duration::days(14)
        );
        prev_lease = hb["lease"].as_str().unwrap().to_owned();
        seq += 1;
    }

    // No heartbeat past the grace window: the sweep locks it.
    s.clock.advance(Duration::days(15));
    let report = api.ok(api.post("/api/v1/licenses/health/sweep", json!({})));
    assert_eq!(report["transitions"][0]["to"], "locked");
    assert_eq!(report["transitions"][0]["license_id"], id.as_str());
    // Idempotent: the same instant again changes nothing.
    let again = api.ok(api.post("/api/v1/licenses/health/sweep", json!({})));
    assert!(again["transitions"].as_array().unwrap().is_empty());
    assert_eq!(
        api.ok(api.get(&format!("/api/v1/licenses/{id}")))["state"],
        "locked"
    );

    // A heartbeat from the bound box unlocks.
    let hb = api.ok(heartbeat(&s, &id, &secret, "fp-box-1", seq));
    seq += 1;
    assert_eq!(hb["state"], "active");

    // Subscription past due -> suspended (lease says lock); restored -> active again.
    let v = api.ok(api.post(
        &format!("/api/v1/licenses/{id}/subscription"),
        json!({"status": "past_due"}),
    ));
    assert_eq!(v["state"], "suspended");
    assert_eq!(v["suspend_reason"], "subscription");
    let hb = api.ok(heartbeat(&s, &id, &secret, "fp-box-1", seq));
    seq += 1;
    assert_eq!(hb["state"], "suspended");
    assert!(directive_kinds(&lease_of(&hb)).contains(&"lock".to_owned()));
    expect_problem(activate(&s, &license, "fp-box-1"), 403, "license_suspended");
    let v = api.ok(api.post(
        &format!("/api/v1/licenses/{id}/subscription"),
        json!({"status": "active"}),
    ));
    assert_eq!(v["state"], "active");
    let hb = api.ok(heartbeat(&s, &id, &secret, "fp-box-1", seq));
    seq += 1;
    assert_eq!(hb["state"], "active");
    assert!(directive_kinds(&lease_of(&hb)).is_empty());

    // Revoke: activation denied, next heartbeat carries a lock directive.
    expect_problem(
        api.post(&format!("/api/v1/licenses/{id}/revoke"), json!({})),
        422,
        "validation_failed",
    );
    let v = api.ok(api.post(
        &format!("/api/v1/licenses/{id}/revoke"),
        json!({"reason": "stolen appliance"}),
    ));
    assert_eq!(v["state"], "revoked");
    assert_eq!(v["revoke_reason"], "stolen appliance");
    expect_problem(activate(&s, &license, "fp-box-1"), 403, "license_revoked");
    let hb = api.ok(heartbeat(&s, &id, &secret, "fp-box-1", seq));
    assert_eq!(hb["state"], "revoked");
    let lease = lease_of(&hb);
    assert_eq!(lease["directives"][0]["kind"], "lock");
    assert!(
        lease["directives"][0]["message"]
            .as_str()
            .unwrap()
            .contains("revoked")
    );

    // Every step is audited with its actor.
    let audit = api.ok(api.get(&format!("/api/v1/audit?target=license:{id}&limit=100")));
    let actions: Vec<&str> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for a in [
        "license.issue",
        "license.activate",
        "license.state_change",
        "license.subscription",
        "license.revoke",
    ] {
        assert!(actions.contains(&a), "{a} missing from {actions:?}");
    }
    let revoke = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "license.revoke")
        .unwrap();
    assert_eq!(revoke["actor"], format!("staff:{ADMIN_EMAIL}"));
    // And the history shows the transitions.
    let detail = api.ok(api.get(&format!("/api/v1/licenses/{id}")));
    let history: Vec<&str> = detail["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["to_state"].as_str().unwrap())
        .collect();
    assert_eq!(history.first(), Some(&"revoked"));
    assert!(history.contains(&"locked") && history.contains(&"suspended"));
    assert!(!detail["heartbeats"].as_array().unwrap().is_empty());
}

/// A license's heartbeat history, newest first: (fingerprint, seq, state answered).
fn history(api: &Api, license: &str) -> Vec<(String, i64, String)> {
    api.ok(api.get(&format!("/api/v1/licenses/{license}")))["heartbeats"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["fingerprint"].as_str().unwrap().to_owned(),
                h["seq"].as_i64().unwrap(),
                h["state"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn row(fingerprint: &str, seq: i64, state: &str) -> (String, i64, String) {
    (fingerprint.to_owned(), seq, state.to_owned())
}

#[test]
fn rebind_moves_the_license_to_new_hardware() {
    let s = TestServer::start();
    let api = Api::new(&s);
    let license = api.issue(INSTALL, 365);
    let id = license["id"].as_str().unwrap();
    let old = api.ok(activate(&s, &license, "fp-old"));
    let old_secret = old["activation_secret"].as_str().unwrap();
    expect_problem(
        activate(&s, &license, "fp-new"),
        409,
        "license_bound_elsewhere",
    );

    let v = api.ok(api.post(
        &format!("/api/v1/licenses/{id}/rebind"),
        json!({"fingerprint": "fp-new"}),
    ));
    assert_eq!(v["bound_fingerprint"], "fp-new");
    assert_eq!(v["state"], "issued");
    // The old box's next heartbeat locks it.
    let hb = api.ok(heartbeat(&s, id, old_secret, "fp-old", 1));
    assert_eq!(lease_of(&hb)["directives"][0]["kind"], "lock");
    assert!(
        lease_of(&hb)["directives"][0]["message"]
            .as_str()
            .unwrap()
            .contains("moved")
    );
    // Another license's heartbeat in between.
    let other = api.issue(INSTALL, 365);
    let other_id = other["id"].as_str().unwrap();
    let o = api.ok(activate(&s, &other, "fp-other"));
    let o_secret = o["activation_secret"].as_str().unwrap();
    api.ok(heartbeat(&s, other_id, o_secret, "fp-other", 1));
    // Only the new box can activate now.
    expect_problem(
        activate(&s, &license, "fp-old"),
        409,
        "license_bound_elsewhere",
    );
    let new = api.ok(activate(&s, &license, "fp-new"));
    assert_eq!(new["state"], "active");
    let secret = new["activation_secret"].as_str().unwrap();
    assert_eq!(
        api.ok(heartbeat(&s, id, secret, "fp-new", 1))["state"],
        "active"
    );
    // The license's heartbeats, newest first, across both activations and without the
    // other license's (each history is a chain of its own: tenant schema step 14).
    let beats = |license: &str| history(&api, license);
    assert_eq!(
        beats(id),
        [row("fp-new", 2, "active"), row("fp-old", 2, "locked")]
    );
    assert_eq!(beats(other_id), [row("fp-other", 2, "active")]);
    // Re-activation from the same fingerprint is idempotent: same state, a fresh
    // secret, and the replaced secret stops working.
    let again = api.ok(activate(&s, &license, "fp-new"));
    assert_eq!(again["state"], "active");
    expect_problem(
        heartbeat(&s, id, secret, "fp-new", 1),
        401,
        "activation_invalid",
    );
    let audit = api.ok(api.get(&format!(
        "/api/v1/audit?action=license.rebind&target=license:{id}"
    )));
    assert_eq!(audit["items"][0]["details"]["to"], "fp-new");
}

/// A heartbeat finds its activation by a digest of its credential kept in the license's
/// state row (tenant schema step 18). After a rebind the old box and the new one take
/// turns with that row; each must still get its own chain, and the old box its lock.
#[test]
fn the_old_box_and_the_new_one_keep_their_own_chains_after_a_rebind() {
    let s = TestServer::start();
    let api = Api::new(&s);
    let license = api.issue(INSTALL, 365);
    let id = license["id"].as_str().unwrap();
    let old = api.ok(activate(&s, &license, "fp-old"));
    let old_secret = old["activation_secret"].as_str().unwrap();
    // A heartbeat's lease: its seq and lock reason.
    let beat = |secret: &str, fingerprint: &str, seq: i64| {
        let lease = lease_of(&api.ok(heartbeat(&s, id, secret, fingerprint, seq)));
        (lease["seq"].as_i64().unwrap(), lease["lock_reason"].clone())
    };
    assert_eq!(beat(old_secret, "fp-old", 1), (2, Value::Null));
    api.ok(api.post(
        &format!("/api/v1/licenses/{id}/rebind"),
        json!({"fingerprint": "fp-new"}),
    ));
    let new = api.ok(activate(&s, &license, "fp-new"));
    let new_secret = new["activation_secret"].as_str().unwrap();
    assert_eq!(beat(new_secret, "fp-new", 1), (2, Value::Null));
    // The old box, which last held the chain at seq 2 with a credential the license
    // accepted then, is told to lock.
    assert_eq!(beat(old_secret, "fp-old", 2), (3, json!("rebound")));
    // The new box goes on from its own chain, not the old box's.
    assert_eq!(beat(new_secret, "fp-new", 2), (3, Value::Null));
    assert_eq!(beat(new_secret, "fp-new", 3), (4, Value::Null));
    assert_eq!(beat(old_secret, "fp-old", 3), (4, json!("rebound")));
    // Each heartbeat is in the license's history, newest first (a chain from the state
    // row's head, which the lease's own write moves).
    assert_eq!(
        history(&api, id),
        [
            row("fp-old", 4, "locked"),
            row("fp-new", 4, "active"),
            row("fp-new", 3, "active"),
            row("fp-old", 3, "locked"),
            row("fp-new", 2, "active"),
            row("fp-old", 2, "active")
        ]
    );
    // A credential the license accepted, with another box's fingerprint, is refused.
    expect_problem(
        heartbeat(&s, id, new_secret, "fp-old", 4),
        409,
        "license_bound_elsewhere",
    );
    // The new box activates again: its former secret stops working at once.
    api.ok(activate(&s, &license, "fp-new"));
    expect_problem(
        heartbeat(&s, id, new_secret, "fp-new", 4),
        401,
        "activation_invalid",
    );
}

#[test]
fn provisioning_issues_and_activates_in_one_call() {
    let s = TestServer::start();
    let api = Api::new(&s);
    let body = json!({
        "name": "Line B appliances", "max_uses": 1,
        "template": {"organization": "Acme", "internal_users": 25, "duration_days": 30, "features": ["sso"]},
    });
    let created = api.ok(api.post("/api/v1/provisioning-tokens", body));
    let token = created["secret"].as_str().unwrap().to_owned();
    assert!(token.starts_with("lprov_"));
    let provision = |fp: &str| {
        client()
            .post(s.url("/api/v1/provision"))
            .json(&json!({"token": token, "install_id": INSTALL, "fingerprint": fp, "hostname": "b-01"}))
            .send()
            .unwrap()
    };
    let r = provision("fp-b01");
    assert_eq!(r.status(), 201);
    let p: Value = r.json().unwrap();
    assert_eq!(p["state"], "active");
    let id = p["license_id"].as_str().unwrap();
    let key = p["license_key"].as_str().unwrap();
    let claims = licd::pki::verify::inspect(key).unwrap().1;
    assert_eq!(claims["internal_users"], 25);
    assert_eq!(claims["aud"], format!("licd:install:{INSTALL}"));
    let secret = p["activation_secret"].as_str().unwrap();
    assert_eq!(
        api.ok(heartbeat(&s, id, secret, "fp-b01", 1))["state"],
        "active"
    );
    // The use limit holds.
    expect_problem(provision("fp-b02"), 401, "provisioning_token_invalid");
    let tokens = api.ok(api.get("/api/v1/provisioning-tokens"));
    assert_eq!(tokens["items"][0]["uses"], 1);
    assert_eq!(tokens["items"][0]["usable"], false);
    let audit = api.ok(api.get("/api/v1/audit?action=provisioning.redeem"));
    assert_eq!(audit["items"][0]["actor"], "appliance:fp-b01");
    // A bad template is refused when the token is made.
    let bad = json!({"name": "x", "max_uses": 1, "template": {"duration_days": 30}});
    expect_problem(
        api.post("/api/v1/provisioning-tokens", bad),
        422,
        "validation_failed",
    );
}

#[test]
fn each_refusal_has_its_problem_code() {
    let s = TestServer::start();
    let api = Api::new(&s);
    let license = api.issue(INSTALL, 30);
    let id = license["id"].as_str().unwrap().to_owned();
    let key = license["license_key"].as_str().unwrap().to_owned();
    let post_activate = |body: Value| {
        client()
            .post(s.url(&format!("/api/v1/licenses/{id}/activate")))
            .json(&body)
            .send()
            .unwrap()
    };

    // Issue validation names the field.
    for (body, field) in [
        (
            json!({"name": "", "install_id": INSTALL, "internal_users": 1, "expires_at": "2027-01-01T00:00:00Z"}),
            "name",
        ),
        (
            json!({"name": "x", "install_id": "bad id", "internal_users": 1, "expires_at": "2027-01-01T00:00:00Z"}),
            "install_id",
        ),
        (
            json!({"name": "x", "install_id": INSTALL, "expires_at": "2027-01-01T00:00:00Z"}),
            "internal_users",
        ),
        (
            json!({"name": "x", "install_id": INSTALL, "internal_users": 1, "expires_at": "2020-01-01T00:00:00Z"}),
            "expires_at",
        ),
        (
            json!({"name": "x", "install_id": INSTALL, "internal_users": 1, "flags": ["free"], "expires_at": "2027-01-01T00:00:00Z"}),
            "flags",
        ),
    ] {
        let b = expect_problem(api.post("/api/v1/licenses", body), 422, "validation_failed");
        assert!(b["detail"].as_str().unwrap().starts_with(field), "{b}");
    }
    expect_problem(
        api.post("/api/v1/licenses", json!({"name": "x"})),
        422,
        "validation_failed",
    );
    expect_problem(
        api.get("/api/v1/licenses/no-such-license"),
        404,
        "not_found",
    );
    expect_problem(
        api.get("/api/v1/licenses?state=bogus"),
        422,
        "validation_failed",
    );
    expect_problem(
        api.get("/api/v1/licenses?cursor=zzz"),
        422,
        "validation_failed",
    );

    // Activation refusals.
    let b = expect_problem(
        post_activate(json!({"license_key": "garbage", "fingerprint": "f", "install_id": INSTALL})),
        401,
        "license_key_invalid",
    );
    assert!(b["detail"].as_str().unwrap().contains("malformed"));
    let other = api.issue(INSTALL, 30);
    expect_problem(
        post_activate(
            json!({"license_key": other["license_key"], "fingerprint": "f", "install_id": INSTALL}),
        ),
        422,
        "license_key_mismatch",
    );
    expect_problem(
        post_activate(
            json!({"license_key": key, "fingerprint": "f", "install_id": "another-install"}),
        ),
        403,
        "wrong_install_id",
    );
    expect_problem(
        post_activate(json!({"license_key": key, "fingerprint": "", "install_id": INSTALL})),
        422,
        "validation_failed",
    );
    expect_problem(
        post_activate(json!({"license_key": key})),
        422,
        "validation_failed",
    );
    let mut tampered: Vec<String> = key.split('.').map(str::to_owned).collect();
    tampered[2] = crate::harness::flip_char(&tampered[2]);
    let b = expect_problem(
        post_activate(
            json!({"license_key": tampered.join("."), "fingerprint": "f", "install_id": INSTALL}),
        ),
        401,
        "license_key_invalid",
    );
    assert!(
        b["detail"]
            .as_str()
            .unwrap()
            .contains("signature is not valid"),
        "{b}"
    );

    let future = api.ok(api.post(
        "/api/v1/licenses",
        json!({
            "name": "later", "install_id": INSTALL, "internal_users": 1,
            "not_before": (s.clock.now_utc() + Duration::days(3)).to_rfc3339(),
            "expires_at": (s.clock.now_utc() + Duration::days(30)).to_rfc3339(),
        }),
    ));
    expect_problem(activate(&s, &future, "f"), 403, "license_not_yet_valid");

    // Heartbeat refusals.
    let act = api.ok(activate(&s, &license, "fp-1"));
    let secret = act["activation_secret"].as_str().unwrap();
    expect_problem(
        heartbeat(&s, &id, "lact_nope", "fp-1", 1),
        401,
        "activation_invalid",
    );
    expect_problem(
        heartbeat(&s, &id, "no-prefix", "fp-1", 1),
        401,
        "activation_invalid",
    );
    let r = client()
        .post(s.url(&format!("/api/v1/licenses/{id}/heartbeat")))
        .json(&json!({"fingerprint": "fp-1"}))
        .send()
        .unwrap();
    expect_problem(r, 401, "activation_invalid");
    expect_problem(
        heartbeat(&s, other["id"].as_str().unwrap(), secret, "fp-1", 1),
        401,
        "activation_invalid",
    );
    expect_problem(
        heartbeat(&s, &id, secret, "fp-2", 1),
        409,
        "license_bound_elsewhere",
    );
    expect_problem(
        heartbeat(&s, &id, secret, "fp-1", 7),
        409,
        "lease_seq_ahead",
    );

    // Staff action refusals.
    expect_problem(
        api.post(
            &format!("/api/v1/licenses/{id}/rebind"),
            json!({"fingerprint": ""}),
        ),
        422,
        "validation_failed",
    );
    expect_problem(
        api.post("/api/v1/licenses/nope/revoke", json!({"reason": "x"})),
        404,
        "not_found",
    );
    expect_problem(
        api.post(
            &format!("/api/v1/licenses/{id}/revoke"),
            json!({"reason": 5}),
        ),
        422,
        "validation_failed",
    );
}

#[test]
fn expired_licenses_refuse_activation_and_lock_on_heartbeat() {
    let s = TestServer::start();
    let api = Api::new(&s);
    let license = api.issue(INSTALL, 10);
    let id = license["id"].as_str().unwrap();
    let act = api.ok(activate(&s, &license, "fp"));
    let secret = act["activation_secret"].as_str().unwrap();
    s.clock.advance(Duration::days(11));
    expect_problem(activate(&s, &license, "fp"), 403, "license_expired");
    let hb = api.ok(heartbeat(&s, id, secret, "fp", 1));
    assert_eq!(hb["state"], "expired");
    assert_eq!(lease_of(&hb)["directives"][0]["kind"], "lock");
    // The staff view says expired even before any sweep ran.
    let other = api.issue(INSTALL, 5);
    s.clock.advance(Duration::days(6));
    assert_eq!(
        api.ok(api.get(&format!(
            "/api/v1/licenses/{}",
            other["id"].as_str().unwrap()
        )))["state"],
        "expired"
    );
}

/// The token's payload, as text.
fn payload_text(token: &str) -> String {
    String::from_utf8(licd_client::jose::parse(token).unwrap().payload).unwrap()
}

#[test]
fn a_lease_reply_carries_the_claims_as_the_token_signs_them() {
    let s = TestServer::start();
    let api = Api::new(&s);
    let license = api.issue(INSTALL, 365);
    let id = license["id"].as_str().unwrap();
    let act = activate(&s, &license, "fp").text().unwrap();
    let act: Value = serde_json::from_str(&act).unwrap();
    let secret = act["activation_secret"].as_str().unwrap();
    api.ok(api.post(
        &format!("/api/v1/licenses/{id}/directives"),
        json!({"kind": "message", "message": "quote \" and \u{e9}"}),
    ));
    let text = heartbeat(&s, id, secret, "fp", 1).text().unwrap();
    let reply: Value = serde_json::from_str(&text).unwrap();
    let keys: Vec<&str> = reply
        .as_object()
        .unwrap()
        .keys()
        .map(|k| k.as_str())
        .collect();
    assert_eq!(keys, ["claims", "lease", "license_id", "state"], "{text}");
    let signed = payload_text(reply["lease"].as_str().unwrap());
    assert!(
        text.contains(&format!(r#""claims":{signed}"#)),
        "the claims are the signed payload's bytes:\n{text}\n{signed}"
    );
    assert_eq!(
        reply["claims"]["directives"][0]["message"],
        "quote \" and \u{e9}"
    );
    assert_eq!(reply["license_id"], id);
    assert_eq!(reply["state"], "active");
    // The activation's first lease too (its reply holds the lease's fields).
    assert_eq!(
        act["claims"],
        serde_json::from_str::<Value>(&payload_text(act["lease"].as_str().unwrap())).unwrap()
    );
    assert_eq!(act["claims"]["seq"], 1);
}

#[test]
fn directives_ride_leases_until_acknowledged() {
    let s = TestServer::start();
    let api = Api::new(&s);
    let license = api.issue(INSTALL, 365);
    let id = license["id"].as_str().unwrap();
    let act = api.ok(activate(&s, &license, "fp"));
    let secret = act["activation_secret"].as_str().unwrap();
    let d = api.ok(api.post(
        &format!("/api/v1/licenses/{id}/directives"),
        json!({"kind": "message", "message": "maintenance at 22:00"}),
    ));
    assert!(d["id"].as_i64().unwrap() > 0);
    expect_problem(
        api.post(
            &format!("/api/v1/licenses/{id}/directives"),
            json!({"kind": "explode"}),
        ),
        422,
        "validation_failed",
    );
    // Delivered in lease 2; the appliance has not confirmed it yet (seq 1), so lease 3
    // carries it again; once the appliance reports seq 3, it is acknowledged.
    let l2 = api.ok(heartbeat(&s, id, secret, "fp", 1));
    assert_eq!(
        lease_of(&l2)["directives"][0]["message"],
        "maintenance at 22:00"
    );
    let l3 = api.ok(heartbeat(&s, id, secret, "fp", 1));
    assert_eq!(lease_of(&l3)["directives"].as_array().unwrap().len(), 1);
    let l4 = api.ok(heartbeat(&s, id, secret, "fp", 3));
    assert!(lease_of(&l4)["directives"].as_array().unwrap().is_empty());
    let hb = api.ok(api.get("/api/v1/licensing/heartbeats"));
    assert!(hb["heartbeats"].as_array().unwrap().len() >= 3);
}

#[test]
fn suspend_and_reinstate_by_staff() {
    let s = TestServer::start();
    let api = Api::new(&s);
    let license = api.issue(INSTALL, 365);
    let id = license["id"].as_str().unwrap();
    api.ok(activate(&s, &license, "fp"));
    let v = api.ok(api.post(
        &format!("/api/v1/licenses/{id}/suspend"),
        json!({"reason": "audit"}),
    ));
    assert_eq!(
        (v["state"].as_str(), v["suspend_reason"].as_str()),
        (Some("suspended"), Some("staff"))
    );
    // A staff suspension does not lift by itself.
    api.ok(api.post("/api/v1/licenses/health/sweep", json!({})));
    assert_eq!(
        api.ok(api.get(&format!("/api/v1/licenses/{id}")))["state"],
        "suspended"
    );
    let v = api.ok(api.post(&format!("/api/v1/licenses/{id}/reinstate"), json!({})));
    assert_eq!(v["state"], "active");
    // Reinstating with a lapsed subscription is refused.
    api.ok(api.post(
        &format!("/api/v1/licenses/{id}/subscription"),
        json!({"status": "past_due"}),
    ));
    expect_problem(
        api.post(&format!("/api/v1/licenses/{id}/reinstate"), json!({})),
        409,
        "subscription_invalid",
    );
    expect_problem(
        api.post(
            &format!("/api/v1/licenses/{id}/subscription"),
            json!({"status": "canceled"}),
        ),
        422,
        "validation_failed",
    );
    expect_problem(
        api.post(
            &format!("/api/v1/licenses/{id}/subscription"),
            json!({"status": "gone"}),
        ),
        422,
        "validation_failed",
    );
}

#[test]
fn sweep_dry_run_writes_nothing_and_counts() {
    let s = TestServer::start();
    let api = Api::new(&s);
    for _ in 0..3 {
        let l = api.issue(INSTALL, 365);
        api.ok(activate(&s, &l, &format!("fp-{}", l["id"])));
    }
    api.issue(INSTALL, 5);
    s.clock.advance(Duration::days(20));
    let audit_before = api.ok(api.get("/api/v1/audit?limit=500"))["items"]
        .as_array()
        .unwrap()
        .len();
    let dry = api.ok(api.post("/api/v1/licenses/health/sweep", json!({"dry_run": true})));
    assert_eq!(dry["dry_run"], true);
    assert_eq!(dry["counts"]["locked"], 3);
    assert_eq!(dry["counts"]["expired"], 1);
    let audit_after = api.ok(api.get("/api/v1/audit?limit=500"))["items"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(audit_before, audit_after, "a dry run writes nothing");
    let real = api.ok(api.post("/api/v1/licenses/health/sweep", json!({})));
    assert_eq!(real["transitions"], dry["transitions"]);
    let again = api.ok(api.post("/api/v1/licenses/health/sweep", json!({})));
    assert_eq!(again["transitions"].as_array().unwrap().len(), 0);
    let audit_final = api.ok(api.get("/api/v1/audit?limit=500"))["items"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(
        audit_final,
        audit_after + 4,
        "4 transitions; the second run writes nothing"
    );
    let locked = api.ok(api.get("/api/v1/licenses?state=locked"));
    assert_eq!(locked["items"].as_array().unwrap().len(), 3);
}

#[test]
fn licenses_list_filters_and_pages() {
    let s = TestServer::start();
    let api = Api::new(&s);
    for i in 0..5 {
        s.clock.advance(Duration::seconds(1));
        api.issue(if i % 2 == 0 { INSTALL } else { "other-install" }, 10 + i);
    }
    let page1 = api.ok(api.get("/api/v1/licenses?limit=2"));
    assert_eq!(page1["items"].as_array().unwrap().len(), 2);
    let c = page1["next_cursor"].as_str().unwrap();
    let page2 = api.ok(api.get(&format!("/api/v1/licenses?limit=2&cursor={c}")));
    let page3 = api.ok(api.get(&format!(
        "/api/v1/licenses?limit=2&cursor={}",
        page2["next_cursor"].as_str().unwrap()
    )));
    assert_eq!(page3["items"].as_array().unwrap().len(), 1);
    assert!(page3["next_cursor"].is_null());
    let mut ids: Vec<String> = [&page1, &page2, &page3]
        .iter()
        .flat_map(|p| {
            p["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|l| l["id"].as_str().unwrap().to_owned())
        })
        .collect();
    ids.dedup();
    assert_eq!(ids.len(), 5);
    let by_install = api.ok(api.get(&format!("/api/v1/licenses?install_id={INSTALL}")));
    assert_eq!(by_install["items"].as_array().unwrap().len(), 3);
    let soon = (s.clock.now_utc() + Duration::days(12) - Duration::hours(1))
        .to_rfc3339()
        .replace('+', "%2B");
    let expiring = api.ok(api.get(&format!("/api/v1/licenses?expiring_before={soon}")));
    assert_eq!(expiring["items"].as_array().unwrap().len(), 2);
}

/// Licenses issued in one instant (one batch) page newest-written first, each once.
#[test]
fn licenses_issued_in_one_instant_page_in_the_order_they_were_written() {
    let s = TestServer::start();
    let api = Api::new(&s);
    let written: Vec<String> = issue_in_process(&s, "tie", 5, None)
        .into_iter()
        .map(|l| l.id)
        .collect();
    let mut seen = Vec::new();
    let mut cursor = String::new();
    loop {
        let page = api.ok(api.get(&format!("/api/v1/licenses?limit=2{cursor}")));
        for l in page["items"].as_array().unwrap() {
            assert_eq!(l["issued_at"], page["items"][0]["issued_at"], "one instant");
            seen.push(l["id"].as_str().unwrap().to_owned());
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = format!("&cursor={c}"),
            None => break,
        }
    }
    let newest_first: Vec<String> = written.into_iter().rev().collect();
    assert_eq!(seen, newest_first);
}

#[test]
fn settings_are_validated_and_change_the_grace_window() {
    let s = TestServer::start();
    let api = Api::new(&s);
    let cur = api.ok(api.get("/api/v1/licensing/settings"));
    assert_eq!(cur["grace_days"], 14);
    let put = |body: Value| {
        client()
            .put(s.url("/api/v1/licensing/settings"))
            .bearer_auth(&api.token)
            .json(&body)
            .send()
            .unwrap()
    };
    let b = expect_problem(
        put(
            json!({"grace_days": 0, "heartbeat_interval_secs": 3600, "sweep_interval_secs": 300, "heartbeat_retention_days": 30}),
        ),
        422,
        "validation_failed",
    );
    assert!(b["detail"].as_str().unwrap().starts_with("grace_days"));
    expect_problem(
        put(json!({"grace_days": 1, "heartbeat_interval_secs": 86400})),
        422,
        "validation_failed",
    );
    let r = put(
        json!({"grace_days": 3, "heartbeat_interval_secs": 600, "sweep_interval_secs": 300, "heartbeat_retention_days": 30}),
    );
    assert_eq!(r.status(), 200);
    let license = api.issue(INSTALL, 365);
    let act = api.ok(activate(&s, &license, "fp"));
    assert_eq!(lease_of(&act)["heartbeat_interval_secs"], 600);
    s.clock.advance(Duration::days(4));
    let report = api.ok(api.post("/api/v1/licenses/health/sweep", json!({})));
    assert_eq!(report["counts"]["locked"], 1);
}

#[test]
fn scheduled_sweep_runs_on_its_interval() {
    let s = TestServer::start();
    let api = Api::new(&s);
    let r = client()
        .put(s.url("/api/v1/licensing/settings"))
        .bearer_auth(&api.token)
        .json(&json!({"grace_days": 14, "heartbeat_interval_secs": 3600, "sweep_interval_secs": 10, "heartbeat_retention_days": 30}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    let license = api.issue(INSTALL, 365);
    let id = license["id"].as_str().unwrap();
    api.ok(activate(&s, &license, "fp"));
    s.clock.advance(Duration::days(15));
    assert!(licd::jobs::run_due(&s.app).contains(&"licensing-sweep"));
    let audit = api.ok(api.get(&format!(
        "/api/v1/audit?action=license.state_change&target=license:{id}"
    )));
    let e = &audit["items"][0];
    assert_eq!(e["actor"], "system");
    assert_eq!(e["details"]["to"], "locked");
    // Not due again until its interval has passed on the clock.
    s.clock.advance(Duration::seconds(5));
    let licensing_due = |s: &TestServer| licd::jobs::run_due(&s.app).contains(&"licensing-sweep");
    assert!(licensing_due(&s), "the job looks every 5 s");
    let book = s.app.jobs.snapshot();
    assert!(book.iter().all(|j| j.ok), "{book:?}");
}

#[test]
fn onboarding_can_issue_but_not_revoke() {
    let s = TestServer::start();
    let onboarding = Api {
        s: &s,
        token: s.role_token(Role::Onboarding),
    };
    let license = onboarding.issue(INSTALL, 30);
    let id = license["id"].as_str().unwrap();
    expect_problem(
        onboarding.post(
            &format!("/api/v1/licenses/{id}/revoke"),
            json!({"reason": "x"}),
        ),
        403,
        "forbidden",
    );
    let support = Api {
        s: &s,
        token: s.role_token(Role::Support),
    };
    support.ok(support.post(
        &format!("/api/v1/licenses/{id}/revoke"),
        json!({"reason": "x"}),
    ));
}

/// Item C: rebinding to the fingerprint the license is already bound to is refused (409
/// `rebind_same_fingerprint`); the bound box is not told it moved and keeps running.
#[test]
fn rebinding_to_the_bound_fingerprint_is_refused() {
    let s = TestServer::start();
    let api = Api::new(&s);
    let license = api.issue(INSTALL, 365);
    let id = license["id"].as_str().unwrap();
    let act = api.ok(activate(&s, &license, "fp-box"));
    let secret = act["activation_secret"].as_str().unwrap();
    let b = expect_problem(
        api.post(
            &format!("/api/v1/licenses/{id}/rebind"),
            json!({"fingerprint": " fp-box "}),
        ),
        409,
        "rebind_same_fingerprint",
    );
    assert!(b["detail"].as_str().unwrap().contains("fp-box"), "{b}");
    let hb = api.ok(heartbeat(&s, id, secret, "fp-box", 1));
    assert_eq!(hb["state"], "active");
    assert!(directive_kinds(&lease_of(&hb)).is_empty(), "{hb}");
    let audit = api.ok(api.get(&format!(
        "/api/v1/audit?action=license.rebind&target=license:{id}"
    )));
    assert!(audit["items"].as_array().unwrap().is_empty());
    // Pre-bound to new hardware that has not activated yet: the same again is refused too.
    api.ok(api.post(
        &format!("/api/v1/licenses/{id}/rebind"),
        json!({"fingerprint": "fp-new"}),
    ));
    expect_problem(
        api.post(
            &format!("/api/v1/licenses/{id}/rebind"),
            json!({"fingerprint": "fp-new"}),
        ),
        409,
        "rebind_same_fingerprint",
    );
}

/// Item F: a lease is signed by the same key with the same `aud` as a license key; only
/// `typ` tells them apart. licd refuses a lease where a license key is expected
/// (activation, `licd license verify`), and so does the README's Rust example, while a
/// JOSE check that skips `typ` would accept it.
#[test]
fn a_lease_is_never_taken_for_a_license_key() {
    use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header, jwk::JwkSet};
    let s = TestServer::start();
    let api = Api::new(&s);
    let license = api.issue(INSTALL, 365);
    let id = license["id"].as_str().unwrap();
    let act = api.ok(activate(&s, &license, "fp"));
    let lease = act["lease"].as_str().unwrap().to_owned();

    // Activation with the lease in the license key's place.
    let r = client()
        .post(s.url(&format!("/api/v1/licenses/{id}/activate")))
        .json(&json!({"license_key": lease, "fingerprint": "fp", "install_id": INSTALL}))
        .send()
        .unwrap();
    let b = expect_problem(r, 401, "license_key_invalid");
    assert!(
        b["detail"].as_str().unwrap().contains("licd-lease+jwt"),
        "{b}"
    );

    // `licd license verify` with the tenant's JWKS.
    let jwks: Value = client()
        .get(s.url("/.well-known/jwks.json"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let jwks_file = dir.path().join("jwks.json");
    std::fs::write(&jwks_file, jwks.to_string()).unwrap();
    let verify = |token: &str| {
        run(licd()
            .args(["license", "verify", "--jwks"])
            .arg(&jwks_file)
            .args(["--install-id", INSTALL])
            .arg(token))
    };
    let key_ok = verify(license["license_key"].as_str().unwrap());
    assert_eq!(key_ok.status.code(), Some(0), "{}", text(&key_ok));
    let out = verify(&lease);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("licd-lease+jwt"), "{}", text(&out));

    // The README's Rust example: check `typ`, then verify ES256 and `aud`.
    let set: JwkSet = serde_json::from_value(jwks).unwrap();
    let readme_verify = |token: &str| -> Result<Value, String> {
        let header = decode_header(token).map_err(|e| e.to_string())?;
        if header.typ.as_deref() != Some("licd-license+jwt") {
            return Err(format!("not a license key (typ {:?})", header.typ));
        }
        let jwk = set
            .find(header.kid.as_deref().unwrap_or_default())
            .ok_or("unknown kid")?;
        let mut v = Validation::new(Algorithm::ES256);
        v.set_audience(&[format!("licd:install:{INSTALL}")]);
        v.validate_exp = false; // the test clock is not the wall clock
        let key = DecodingKey::from_jwk(jwk).map_err(|e| e.to_string())?;
        decode::<Value>(token, &key, &v)
            .map(|d| d.claims)
            .map_err(|e| e.to_string())
    };
    assert!(readme_verify(license["license_key"].as_str().unwrap()).is_ok());
    let err = readme_verify(&lease).unwrap_err();
    assert!(err.contains("licd-lease+jwt"), "{err}");
    // Without the typ check the same library accepts the lease: why the README insists.
    let h = decode_header(&lease).unwrap();
    let mut v = Validation::new(Algorithm::ES256);
    v.set_audience(&[format!("licd:install:{INSTALL}")]);
    v.validate_exp = false;
    let key = DecodingKey::from_jwk(set.find(h.kid.as_deref().unwrap()).unwrap()).unwrap();
    assert!(decode::<Value>(&lease, &key, &v).is_ok());
}

/// Heartbeat history past retention goes a bounded batch at a time, each batch a job of
/// the heartbeats' own group commit. Plain back-to-back transactions took the writer
/// back each time before a waiting heartbeat group could: heartbeats stalled for the
/// whole pruning (3,000,000 rows: about 2 s with almost none answered; docs/benchmarks.md,
/// twelfth pass).
#[test]
fn heartbeat_history_is_pruned_in_batches_that_take_turns_with_heartbeats() {
    let s = TestServer::start();
    let tenant = s.app.tenants.public().unwrap();
    let now = s.clock.now_utc();
    let old = (now - Duration::days(31)).to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let recent = now.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let db = rusqlite::Connection::open(s.data_dir().join("tenants/public.db")).unwrap();
    db.busy_timeout(std::time::Duration::from_secs(5)).unwrap();
    let add = |at: &str, n: usize| {
        db.execute(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?2)
             INSERT INTO heartbeats (license_id, at, fingerprint, seq, state)
             SELECT 'lic', ?1, 'fp', i, 'active' FROM n",
            rusqlite::params![at, n as i64],
        )
        .unwrap();
    };
    let batch = licd::service::licenses::PRUNED_PER_TRANSACTION;
    add(&old, batch * 2 + 1);
    add(&recent, 10);
    let (_, jobs) = tenant.group_commit_stats();
    let pruned = licd::service::licenses::prune_heartbeats(&tenant, now).unwrap();
    let (_, after) = tenant.group_commit_stats();
    assert_eq!(pruned, batch * 2 + 1);
    assert!(after - jobs >= 3, "{} group jobs", after - jobs);
    let left: i64 = db
        .query_row("SELECT count(*) FROM heartbeats", [], |r| r.get(0))
        .unwrap();
    assert_eq!(left, 10);
}
