//! Air-gapped appliances at the server (issue 16): offline activation from a request
//! file, release, renewal and revocation bundles, and true-up usage reports, over the
//! real API, the console's form and the CLI on a data dir. The appliance here is a
//! `licd::pki::KeyPair` signing `licd_client::formats` claims, as the agent does.

use crate::harness::*;
use crate::licensing::{Api, INSTALL, activate};
use chrono::{DateTime, Duration, Utc};
use licd::pki::KeyPair;
use licd::pki::jws;
use licd_client::formats::{
    self, ChainHead, ClockObservations, DailyPeak, LeaseClaims, OfflineRequestClaims,
    OfflineResponseClaims, ReleaseClaims, RenewalClaims, RevocationClaims, RollbackSeen, Transfer,
    UsageAckClaims, UsageReportClaims, UserCounts,
};
use reqwest::blocking::Response;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

/// A box that never reaches licd: its own key and fingerprint.
pub(crate) struct Appliance {
    pub(crate) key: KeyPair,
    pub(crate) fingerprint: String,
}

fn nonce() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

impl Appliance {
    pub(crate) fn new(fingerprint: &str) -> Self {
        Appliance {
            key: KeyPair::generate().unwrap(),
            fingerprint: fingerprint.into(),
        }
    }

    pub(crate) fn jwk(&self) -> formats::Jwk {
        serde_json::from_value(serde_json::to_value(self.key.public().to_jwk()).unwrap()).unwrap()
    }

    pub(crate) fn file<T: Serialize>(&self, kind: &str, typ: &str, claims: &T) -> Transfer {
        Transfer::new(kind, "", vec![jws::sign(&self.key, typ, claims).unwrap()])
    }

    pub(crate) fn request_claims(
        &self,
        license: &Value,
        now: DateTime<Utc>,
    ) -> OfflineRequestClaims {
        OfflineRequestClaims {
            license_id: license["id"].as_str().unwrap().into(),
            install_id: license["install_id"].as_str().unwrap().into(),
            fingerprint: self.fingerprint.clone(),
            appliance_key: self.jwk(),
            nonce: nonce(),
            iat: now.timestamp(),
            lease_head: ChainHead::default(),
            hostname: Some("box-air".into()),
        }
    }

    pub(crate) fn request(&self, license: &Value, now: DateTime<Utc>) -> Transfer {
        let c = self.request_claims(license, now);
        self.file("offline-request", formats::OFFLINE_REQUEST_TYP, &c)
    }

    pub(crate) fn release(&self, license: &Value, now: DateTime<Utc>) -> Transfer {
        let c = ReleaseClaims {
            license_id: license["id"].as_str().unwrap().into(),
            install_id: license["install_id"].as_str().unwrap().into(),
            fingerprint: self.fingerprint.clone(),
            nonce: nonce(),
            iat: now.timestamp(),
            lease_head: ChainHead {
                seq: 1,
                hash: "h".into(),
            },
            final_usage: UserCounts {
                internal_users: 7,
                external_users: 2,
            },
        };
        self.file("release", formats::RELEASE_TYP, &c)
    }

    /// A usage report of `days` daily peaks ending at `now`.
    pub(crate) fn report(
        &self,
        license: &Value,
        now: DateTime<Utc>,
        seq: i64,
        prev: &str,
        days: i64,
        internal: u32,
    ) -> (Transfer, String) {
        let start = now - Duration::days(days);
        let daily = (0..days)
            .map(|d| DailyPeak {
                date: (start + Duration::days(d)).format("%Y-%m-%d").to_string(),
                internal_users: internal,
                external_users: 1,
            })
            .collect();
        let c = UsageReportClaims {
            license_id: license["id"].as_str().unwrap().into(),
            install_id: license["install_id"].as_str().unwrap().into(),
            fingerprint: self.fingerprint.clone(),
            report_seq: seq,
            prev_report: prev.into(),
            period_start: start,
            period_end: now,
            daily,
            peak: UserCounts {
                internal_users: internal,
                external_users: 1,
            },
            lease_head: ChainHead {
                seq: 1,
                hash: "h".into(),
            },
            clock: ClockObservations {
                server_time_high_water: Some(now),
                rollbacks: vec![RollbackSeen {
                    detected_at: now,
                    by_secs: 86_400,
                    signal: "lease_time".into(),
                }],
            },
            iat: now.timestamp(),
        };
        let file = self.file("usage-report", formats::USAGE_REPORT_TYP, &c);
        let hash = jws::chain_hash(&file.tokens[0]);
        (file, hash)
    }
}

pub(crate) fn post_file(api: &Api<'_>, path: &str, file: &Transfer) -> Response {
    api.post(path, serde_json::to_value(file).unwrap())
}

/// The answer file of a successful upload, checked to be a download.
pub(crate) fn answer(r: Response) -> Transfer {
    let status = r.status();
    let disposition = r
        .headers()
        .get("content-disposition")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let text = r.text().unwrap();
    assert_eq!(status, 200, "{text}");
    assert!(
        disposition.starts_with("attachment; filename=\""),
        "{disposition}"
    );
    let file: Transfer = serde_json::from_str(&text).unwrap();
    assert_eq!(file.format, formats::TRANSFER_FORMAT);
    file
}

/// Claims of a licd-signed token of `typ`, verified with the tenant's keys.
fn verified<T: DeserializeOwned>(s: &TestServer, token: &str, typ: &str) -> T {
    let p = jws::parse(token).unwrap();
    assert_eq!(p.header.typ, typ);
    let ring = s.app.tenants.public().unwrap().keyring().unwrap();
    assert!(
        ring.verifying
            .iter()
            .any(|k| k.kid() == p.header.kid && licd::pki::jws::verify(&p, k)),
        "{typ} does not verify with the tenant's keys"
    );
    serde_json::from_slice(&p.payload).unwrap()
}

/// The token of `typ` in a file.
fn token_of<'a>(file: &'a Transfer, typ: &str) -> Option<&'a str> {
    file.tokens
        .iter()
        .find(|t| jws::parse(t).unwrap().header.typ == typ)
        .map(String::as_str)
}

fn db(s: &TestServer) -> rusqlite::Connection {
    rusqlite::Connection::open(s.data_dir().join("tenants/public.db")).unwrap()
}

pub(crate) fn count(s: &TestServer, sql: &str) -> i64 {
    db(s).query_row(sql, [], |r| r.get(0)).unwrap()
}

fn id_of(license: &Value) -> String {
    license["id"].as_str().unwrap().to_owned()
}

/// Activates `license` offline for `box_` and returns the response's claims.
pub(crate) fn activate_offline(
    s: &TestServer,
    api: &Api<'_>,
    license: &Value,
    box_: &Appliance,
) -> OfflineResponseClaims {
    let id = id_of(license);
    let file = answer(post_file(
        api,
        &format!("/api/v1/licenses/{id}/offline-activations"),
        &box_.request(license, s.clock.now_utc()),
    ));
    assert_eq!(file.kind, "offline-response");
    verified(s, &file.tokens[0], formats::OFFLINE_RESPONSE_TYP)
}

#[test]
fn an_offline_request_is_answered_once_and_binds_the_box_like_an_activation() {
    let s = TestServer::start();
    let api = Api::new(&s);
    let license = api.issue(INSTALL, 365);
    let id = id_of(&license);
    let now = s.clock.now_utc();
    let box_ = Appliance::new("fp-air-1");
    let request = box_.request(&license, now);
    let claims = match serde_json::from_slice::<OfflineRequestClaims>(
        &jws::parse(&request.tokens[0]).unwrap().payload,
    ) {
        Ok(c) => c,
        Err(e) => panic!("{e}"),
    };
    let path = format!("/api/v1/licenses/{id}/offline-activations");
    let file = answer(post_file(&api, &path, &request));
    let response: OfflineResponseClaims =
        verified(&s, &file.tokens[0], formats::OFFLINE_RESPONSE_TYP);
    assert_eq!(response.fingerprint, "fp-air-1");
    assert_eq!(response.nonce, claims.nonce);
    assert_eq!(response.appliance_kid, box_.key.kid());
    assert_eq!(response.license_key, license["license_key"]);
    assert_eq!(response.aud, format!("licd:install:{INSTALL}"));
    // Defaults: apply within 14 days, run offline for 90.
    assert_eq!(response.exp, (now + Duration::days(14)).timestamp());
    let lease: LeaseClaims = verified(&s, &response.lease, formats::LEASE_TYP);
    assert_eq!(lease.seq, 1);
    assert_eq!(lease.prev, "");
    assert_eq!(lease.state, "active");
    assert_eq!(lease.fingerprint, "fp-air-1");
    assert_eq!(lease.lease_expires_at, now + Duration::days(90));

    // Bound like an activation: the license's detail, page and installation show it.
    let detail = api.ok(api.get(&format!("/api/v1/licenses/{id}")));
    assert_eq!(detail["state"], "active");
    assert_eq!(detail["bound_fingerprint"], "fp-air-1");
    assert_eq!(detail["activations"][0]["fingerprint"], "fp-air-1");
    assert_eq!(detail["activations"][0]["hostname"], "box-air");
    let inst = api.ok(api.get(&format!("/api/v1/installations/{INSTALL}")));
    assert_eq!(inst["licenses"][0]["state"], "active", "{inst}");
    let (c, _) = api_login(&s, ADMIN_EMAIL, ADMIN_PASSWORD);
    let page = c
        .get(s.url(&format!("/licensing/licenses/{id}")))
        .send()
        .unwrap()
        .text()
        .unwrap();
    let section = page
        .split("id=\"air-gap-boxes\"")
        .nth(1)
        .expect("the offline box is listed");
    assert!(
        section.contains("fp-air-1") && section.contains("holds the license"),
        "{section}"
    );

    // Past the grace window with no heartbeat, the license stays active: the offline
    // lease decides, and the sweep agrees.
    s.clock.advance(Duration::days(30));
    api.ok(api.post("/api/v1/licenses/health/sweep", json!({})));
    assert_eq!(
        api.ok(api.get(&format!("/api/v1/licenses/{id}")))["state"],
        "active"
    );

    // The same request again: refused, nothing new bound.
    let r = post_file(&api, &path, &request);
    let b = expect_problem(r, 409, "offline_request_replayed");
    assert!(
        b["detail"].as_str().unwrap().contains("answered already"),
        "{b}"
    );
    assert_eq!(count(&s, "SELECT count(*) FROM offline_activations"), 1);
}

#[test]
fn altered_foreign_and_mistaken_files_are_refused() {
    let s = TestServer::start();
    let api = Api::new(&s);
    let license = api.issue(INSTALL, 365);
    let other = api.issue("6c0e4f1b-2d3e-4f5a-9b0c-1d2e3f4a5b6c", 365);
    let id = id_of(&license);
    let path = format!("/api/v1/licenses/{id}/offline-activations");
    let now = s.clock.now_utc();
    let box_ = Appliance::new("fp-air-2");

    // Altered: the claims changed after signing (a different fingerprint).
    let mut c = box_.request_claims(&license, now);
    let signed = jws::sign(&box_.key, formats::OFFLINE_REQUEST_TYP, &c).unwrap();
    c.fingerprint = "fp-stolen".into();
    let forged = jws::sign(
        &KeyPair::generate().unwrap(),
        formats::OFFLINE_REQUEST_TYP,
        &c,
    )
    .unwrap();
    let parts: Vec<&str> = signed.split('.').collect();
    let forged_parts: Vec<&str> = forged.split('.').collect();
    let altered = format!("{}.{}.{}", parts[0], forged_parts[1], parts[2]);
    let r = post_file(
        &api,
        &path,
        &Transfer::new("offline-request", "", vec![altered]),
    );
    let b = expect_problem(r, 422, "appliance_signature_invalid");
    assert!(b["detail"].as_str().unwrap().contains("altered"), "{b}");
    // Signed by another key than the one it carries.
    let r = post_file(
        &api,
        &path,
        &Transfer::new("offline-request", "", vec![forged]),
    );
    expect_problem(r, 422, "appliance_signature_invalid");

    // For another license, or another Install ID.
    let r = post_file(&api, &path, &box_.request(&other, now));
    let b = expect_problem(r, 422, "offline_license_mismatch");
    assert!(
        b["detail"].as_str().unwrap().contains(&id_of(&other)),
        "{b}"
    );
    let mut c = box_.request_claims(&license, now);
    c.install_id = "6c0e4f1b-2d3e-4f5a-9b0c-1d2e3f4a5b6c".into();
    let r = post_file(
        &api,
        &path,
        &box_.file("offline-request", formats::OFFLINE_REQUEST_TYP, &c),
    );
    let b = expect_problem(r, 422, "offline_license_mismatch");
    assert!(b["detail"].as_str().unwrap().contains("Install ID"), "{b}");

    // Not a request at all: a usage report, a file of another format, garbage.
    let (report, _) = box_.report(&license, now, 1, "", 1, 1);
    let b = expect_problem(post_file(&api, &path, &report), 422, "transfer_invalid");
    assert!(
        b["detail"]
            .as_str()
            .unwrap()
            .contains("holds a usage report, not an offline activation request"),
        "{b}"
    );
    let mut wrong = box_.request(&license, now);
    wrong.format = "licd-transfer/9".into();
    expect_problem(post_file(&api, &path, &wrong), 422, "transfer_invalid");
    let r = post_file(
        &api,
        &path,
        &Transfer::new("offline-request", "", vec!["not a token".into()]),
    );
    expect_problem(r, 422, "transfer_invalid");
    // A license that does not exist.
    let r = post_file(
        &api,
        "/api/v1/licenses/nope/offline-activations",
        &box_.request(&license, now),
    );
    expect_problem(r, 404, "not_found");
    // Nothing was bound by any of them.
    assert_eq!(count(&s, "SELECT count(*) FROM activations"), 0);
}

#[test]
fn the_settings_give_the_response_deadline_and_the_lease() {
    let s = TestServer::start();
    let api = Api::new(&s);
    let mut settings = api.ok(api.get("/api/v1/licensing/settings"));
    assert_eq!(settings["offline_lease_days"], 90);
    assert_eq!(settings["offline_response_days"], 14);
    settings["offline_lease_days"] = json!(30);
    settings["offline_response_days"] = json!(3);
    let r = s
        .client()
        .put(s.url("/api/v1/licensing/settings"))
        .bearer_auth(&api.token)
        .json(&settings)
        .send()
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().unwrap());
    let license = api.issue(INSTALL, 365);
    let now = s.clock.now_utc();
    let response = activate_offline(&s, &api, &license, &Appliance::new("fp-air-3"));
    assert_eq!(response.exp, (now + Duration::days(3)).timestamp());
    let lease: LeaseClaims = verified(&s, &response.lease, formats::LEASE_TYP);
    assert_eq!(lease.lease_expires_at, now + Duration::days(30));
}

#[test]
fn a_release_frees_the_license_and_only_its_box_can_give_it() {
    let s = TestServer::start();
    let api = Api::new(&s);
    let license = api.issue(INSTALL, 365);
    let id = id_of(&license);
    let box_ = Appliance::new("fp-air-4");
    activate_offline(&s, &api, &license, &box_);
    // Another box can not activate while it is bound.
    assert_eq!(activate(&s, &license, "fp-online").status(), 409);

    let path = format!("/api/v1/licenses/{id}/offline-releases");
    let now = s.clock.now_utc();
    // Signed by another key (the same fingerprint claimed): refused.
    let impostor = Appliance {
        key: KeyPair::generate().unwrap(),
        fingerprint: "fp-air-4".into(),
    };
    let b = expect_problem(
        post_file(&api, &path, &impostor.release(&license, now)),
        422,
        "appliance_signature_invalid",
    );
    assert!(b["detail"].as_str().unwrap().contains("recorded"), "{b}");
    // From a box that never held it.
    let stranger = Appliance::new("fp-never");
    expect_problem(
        post_file(&api, &path, &stranger.release(&license, now)),
        409,
        "offline_activation_unknown",
    );

    let proof = box_.release(&license, now);
    let released = api.ok(post_file(&api, &path, &proof));
    assert_eq!(released["license"]["state"], "issued", "{released}");
    assert_eq!(released["license"]["bound_fingerprint"], Value::Null);
    assert_eq!(released["final_internal_users"], 7);
    let detail = api.ok(api.get(&format!("/api/v1/licenses/{id}")));
    assert_eq!(
        detail["activations"][0]["superseded_reason"], "released",
        "{detail}"
    );
    assert_eq!(detail["history"][0]["event"], "release", "{detail}");
    let inst = api.ok(api.get(&format!("/api/v1/installations/{INSTALL}")));
    assert_eq!(inst["usage"]["internal_users"], 7, "{inst}");
    // Replayed: refused, nothing recorded twice.
    expect_problem(
        post_file(&api, &path, &proof),
        409,
        "offline_release_replayed",
    );
    // Free: another box activates.
    let act = api.ok(activate(&s, &license, "fp-online"));
    assert_eq!(act["state"], "active");
    assert_eq!(
        count(
            &s,
            "SELECT count(*) FROM audit_log WHERE action = 'license.offline_release'"
        ),
        1
    );
}

#[test]
fn renewal_bundles_chain_the_lease_and_carry_the_current_key_and_revocation_follows_revoke() {
    let s = TestServer::start();
    let api = Api::new(&s);
    let license = api.issue(INSTALL, 365);
    let id = id_of(&license);
    let path = format!("/api/v1/licenses/{id}/bundles");
    // No offline box yet: nothing to renew; not revoked: nothing to revoke.
    expect_problem(
        api.post(&path, json!({"kind": "renewal"})),
        409,
        "bundle_not_available",
    );
    expect_problem(
        api.post(&path, json!({"kind": "revocation"})),
        409,
        "bundle_not_available",
    );
    expect_problem(
        api.post(&path, json!({"kind": "both"})),
        422,
        "validation_failed",
    );

    let response = activate_offline(&s, &api, &license, &Appliance::new("fp-air-5"));
    let first: LeaseClaims = verified(&s, &response.lease, formats::LEASE_TYP);
    s.clock.advance(Duration::days(20));
    let file = answer(api.post(&path, json!({"kind": "renewal"})));
    assert_eq!(file.kind, "renewal");
    let one: RenewalClaims = verified(&s, &file.tokens[0], formats::RENEWAL_TYP);
    assert_eq!(one.bundle_seq, 1);
    assert_eq!(one.fingerprint, "fp-air-5");
    assert_eq!(one.license_key, license["license_key"]);
    let lease: LeaseClaims = verified(&s, &one.lease, formats::LEASE_TYP);
    assert_eq!(lease.seq, first.seq + 1);
    assert_eq!(lease.prev, jws::chain_hash(&response.lease));
    assert_eq!(
        lease.lease_expires_at,
        s.clock.now_utc() + Duration::days(90)
    );
    assert!(lease.directives.is_empty());

    // The key is renewed: the next bundle carries the new one, with a higher seq.
    let renewed = api.ok(api.post(
        &format!("/api/v1/licenses/{id}/renew"),
        json!({"expires_at": (s.clock.now_utc() + Duration::days(700)).to_rfc3339()}),
    ));
    assert_ne!(renewed["license_key"], license["license_key"]);
    let two: RenewalClaims = verified(
        &s,
        &answer(api.post(&path, json!({"kind": "renewal"}))).tokens[0],
        formats::RENEWAL_TYP,
    );
    assert_eq!(two.bundle_seq, 2);
    assert_eq!(two.license_key, renewed["license_key"]);
    let lease2: LeaseClaims = verified(&s, &two.lease, formats::LEASE_TYP);
    assert_eq!(lease2.prev, jws::chain_hash(&one.lease));

    // Revoked: a revocation bundle, after the renewals; no renewal any more.
    api.ok(api.post(
        &format!("/api/v1/licenses/{id}/revoke"),
        json!({"reason": "contract ended"}),
    ));
    let file = answer(api.post(&path, json!({"kind": "revocation"})));
    let rev: RevocationClaims = verified(&s, &file.tokens[0], formats::REVOCATION_TYP);
    assert_eq!(rev.bundle_seq, 3);
    assert_eq!(rev.reason, "contract ended");
    assert_eq!(rev.license_id, id);
    let b = expect_problem(
        api.post(&path, json!({"kind": "renewal"})),
        409,
        "bundle_not_available",
    );
    assert!(
        b["detail"].as_str().unwrap().contains("revocation bundle"),
        "{b}"
    );
}

#[test]
fn usage_reports_are_recorded_once_flag_gaps_and_breaks_and_set_the_stage() {
    let s = TestServer::start();
    let api = Api::new(&s);
    let license = api.issue(INSTALL, 365); // 50 internal users
    let id = id_of(&license);
    let box_ = Appliance::new("fp-air-6");
    activate_offline(&s, &api, &license, &box_);
    let path = format!("/api/v1/licenses/{id}/usage-reports");

    // Report 1: within capacity.
    s.clock.advance(Duration::days(10));
    let (r1, h1) = box_.report(&license, s.clock.now_utc(), 1, "", 10, 40);
    let ack_file = answer(post_file(&api, &path, &r1));
    let ack: UsageAckClaims = verified(&s, &ack_file.tokens[0], formats::USAGE_ACK_TYP);
    assert_eq!((ack.report_seq, ack.outcome.as_str()), (1, "recorded"));
    assert_eq!(ack.report_hash, h1);
    assert!(!ack.chain_break && ack.missing_seqs.is_empty());
    assert_eq!(ack_file.tokens.len(), 1, "no bundle due yet");

    // Report 2: 60 internal users (over 50) for the last 20 days: the stage is assessed
    // from when the box first went over, not from today.
    s.clock.advance(Duration::days(20));
    let (r2, h2) = box_.report(&license, s.clock.now_utc(), 2, &h1, 20, 60);
    let ack: UsageAckClaims = verified(
        &s,
        &answer(post_file(&api, &path, &r2)).tokens[0],
        formats::USAGE_ACK_TYP,
    );
    assert_eq!(ack.outcome, "recorded");
    assert!(!ack.chain_break);
    let inst = api.ok(api.get(&format!("/api/v1/installations/{INSTALL}")));
    assert_eq!(inst["condition"], "over_limit", "{inst}");
    assert_eq!(inst["stage"], "admin_warning", "{inst}");
    assert_eq!(inst["usage"]["internal_users"], 60);

    // A replay: `duplicate`, nothing recorded twice.
    let ack: UsageAckClaims = verified(
        &s,
        &answer(post_file(&api, &path, &r2)).tokens[0],
        formats::USAGE_ACK_TYP,
    );
    assert_eq!(ack.outcome, "duplicate");
    assert_eq!(count(&s, "SELECT count(*) FROM usage_reports"), 2);

    // Report 4 (3 never arrived): a gap. Report 5 naming a hash that is not report 4's:
    // a chain break.
    let (r4, _) = box_.report(&license, s.clock.now_utc(), 4, "whatever", 1, 10);
    let ack: UsageAckClaims = verified(
        &s,
        &answer(post_file(&api, &path, &r4)).tokens[0],
        formats::USAGE_ACK_TYP,
    );
    assert_eq!(ack.missing_seqs, vec![3]);
    assert!(!ack.chain_break, "unknown: report 3 is missing");
    let (r5, _) = box_.report(&license, s.clock.now_utc(), 5, &h2, 1, 10);
    let ack: UsageAckClaims = verified(
        &s,
        &answer(post_file(&api, &path, &r5)).tokens[0],
        formats::USAGE_ACK_TYP,
    );
    assert!(ack.chain_break);
    assert_eq!(ack.missing_seqs, vec![3]);

    // The list and the page show them with their flags.
    let list = api.ok(api.get(&path));
    let seqs: Vec<i64> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["report_seq"].as_i64().unwrap())
        .collect();
    assert_eq!(seqs, [5, 4, 2, 1]);
    assert_eq!(list[0]["chain_break"], true);
    assert_eq!(list[1]["missing_seqs"], json!([3]));
    assert_eq!(list[3]["rollbacks"], 1);
    let (c, _) = api_login(&s, ADMIN_EMAIL, ADMIN_PASSWORD);
    let page = c
        .get(s.url(&format!("/licensing/licenses/{id}")))
        .send()
        .unwrap()
        .text()
        .unwrap();
    let table = page.split("id=\"usage-reports\"").nth(1).unwrap();
    assert!(
        table.contains("chain break") && table.contains("gap: 3 missing"),
        "{table}"
    );

    // A report signed by another key: refused.
    let impostor = Appliance {
        key: KeyPair::generate().unwrap(),
        fingerprint: "fp-air-6".into(),
    };
    let (r6, _) = impostor.report(&license, s.clock.now_utc(), 6, "", 1, 1);
    expect_problem(
        post_file(&api, &path, &r6),
        422,
        "appliance_signature_invalid",
    );

    // Late in the lease (a third of 90 days left), the acknowledgement brings a renewal;
    // once revoked, a revocation.
    s.clock.advance(Duration::days(35));
    let (r7, _) = box_.report(&license, s.clock.now_utc(), 6, "", 1, 10);
    let file = answer(post_file(&api, &path, &r7));
    assert_eq!(file.tokens.len(), 2, "{:?}", file.summary);
    let renewal: RenewalClaims = verified(
        &s,
        token_of(&file, formats::RENEWAL_TYP).unwrap(),
        formats::RENEWAL_TYP,
    );
    assert_eq!(renewal.bundle_seq, 1);
    api.ok(api.post(
        &format!("/api/v1/licenses/{id}/revoke"),
        json!({"reason": "unpaid"}),
    ));
    let (r8, _) = box_.report(&license, s.clock.now_utc(), 7, "", 1, 10);
    let file = answer(post_file(&api, &path, &r8));
    let rev: RevocationClaims = verified(
        &s,
        token_of(&file, formats::REVOCATION_TYP).unwrap(),
        formats::REVOCATION_TYP,
    );
    assert_eq!(rev.bundle_seq, 2);
    assert!(token_of(&file, formats::RENEWAL_TYP).is_none());
}

/// The commands on a data dir beside the running server.
#[test]
fn the_cli_answers_files_on_a_data_dir() {
    let s = TestServer::start();
    let api = Api::new(&s);
    let license = api.issue(INSTALL, 365);
    let id = id_of(&license);
    let dir = s.data_dir();
    let work = tempfile::tempdir().unwrap();
    let box_ = Appliance::new("fp-air-cli");
    let now = licd::clock::Clock::now(&licd::clock::SystemClock);
    let write = |name: &str, file: &Transfer| {
        let p = work.path().join(name);
        std::fs::write(&p, serde_json::to_string(file).unwrap()).unwrap();
        p
    };

    let req = write("req.json", &box_.request(&license, now));
    let resp = work.path().join("resp.json");
    let out = run(licd()
        .args(["license", "offline-activate", "--data-dir"])
        .arg(&dir)
        .arg(&req)
        .arg("--out")
        .arg(&resp));
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("fp-air-cli"), "{}", text(&out));
    let file: Transfer = serde_json::from_str(&std::fs::read_to_string(&resp).unwrap()).unwrap();
    let response: OfflineResponseClaims =
        verified(&s, &file.tokens[0], formats::OFFLINE_RESPONSE_TYP);
    assert_eq!(response.fingerprint, "fp-air-cli");
    // Again: refused, naming the file and the problem.
    let out = run(licd()
        .args(["license", "offline-activate", "--data-dir"])
        .arg(&dir)
        .arg(&req)
        .arg("--out")
        .arg(&resp));
    assert!(!out.status.success());
    assert!(
        text(&out).contains("answered already") && text(&out).contains("req.json"),
        "{}",
        text(&out)
    );

    let (report, _) = box_.report(&license, now, 1, "", 2, 5);
    let report = write("report.json", &report);
    let ack = work.path().join("ack.json");
    let out = run(licd()
        .args(["license", "usage-report", "--data-dir"])
        .arg(&dir)
        .arg(&report)
        .arg("--out")
        .arg(&ack));
    assert!(out.status.success(), "{}", text(&out));
    let file: Transfer = serde_json::from_str(&std::fs::read_to_string(&ack).unwrap()).unwrap();
    let claims: UsageAckClaims = verified(&s, &file.tokens[0], formats::USAGE_ACK_TYP);
    assert_eq!(claims.outcome, "recorded");

    let bundle = work.path().join("bundle.json");
    let out = run(licd()
        .args(["license", "bundle", "--kind", "renewal", "--data-dir"])
        .arg(&dir)
        .arg(&id)
        .arg("--out")
        .arg(&bundle));
    assert!(out.status.success(), "{}", text(&out));
    let file: Transfer = serde_json::from_str(&std::fs::read_to_string(&bundle).unwrap()).unwrap();
    let renewal: RenewalClaims = verified(&s, &file.tokens[0], formats::RENEWAL_TYP);
    assert_eq!(renewal.bundle_seq, 1);

    let proof = write("release.json", &box_.release(&license, now));
    let out = run(licd()
        .args(["license", "offline-release", "--data-dir"])
        .arg(&dir)
        .arg(&proof));
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("now issued"), "{}", text(&out));
    // Audited as cli:<user>.
    assert_eq!(
        count(
            &s,
            "SELECT count(*) FROM audit_log WHERE actor LIKE 'cli:%' AND action IN ('license.offline_activate', 'license.usage_report', 'license.bundle', 'license.offline_release')"
        ),
        4
    );
    // A file that is no transfer file: named.
    let junk = work.path().join("junk.json");
    std::fs::write(&junk, "{}").unwrap();
    let out = run(licd()
        .args(["license", "offline-release", "--data-dir"])
        .arg(&dir)
        .arg(&junk));
    assert!(!out.status.success());
    assert!(
        text(&out).contains("junk.json") && text(&out).contains("not a licd transfer file"),
        "{}",
        text(&out)
    );
}

/// The console's upload: a plain form post, the answer as a download.
#[test]
fn the_license_page_uploads_a_file_and_downloads_the_answer() {
    let s = TestServer::start();
    let api = Api::new(&s);
    let license = api.issue(INSTALL, 365);
    let id = id_of(&license);
    let (c, csrf) = api_login(&s, ADMIN_EMAIL, ADMIN_PASSWORD);
    let page = c
        .get(s.url(&format!("/licensing/licenses/{id}")))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(page.contains("Air-gapped appliance") && page.contains("id=\"air-gap-upload-form\""));
    let box_ = Appliance::new("fp-air-ui");
    let upload = |file: &str| {
        c.post(s.url(&format!("/licensing/licenses/{id}/air-gap")))
            .form(&[("csrf", csrf.as_str()), ("file", file)])
            .send()
            .unwrap()
    };
    let request_file = box_.request(&license, s.clock.now_utc());
    let request = serde_json::to_string_pretty(&request_file).unwrap();
    let file = answer(upload(&request));
    assert_eq!(file.kind, "offline-response");
    let response: OfflineResponseClaims =
        verified(&s, &file.tokens[0], formats::OFFLINE_RESPONSE_TYP);
    assert_eq!(response.fingerprint, "fp-air-ui");

    // A refusal: the page again, with the message and what was pasted.
    let r = upload(&request);
    assert_eq!(r.status(), 409);
    let page = r.text().unwrap();
    assert!(page.contains("answered already"), "{page}");
    assert!(
        page.contains(&request_file.tokens[0][..60]),
        "what was pasted is shown again"
    );
    let r = upload("hello");
    assert_eq!(r.status(), 422);
    assert!(r.text().unwrap().contains("not a licd transfer file"));

    // A usage report: the acknowledgement comes back.
    let (report, _) = box_.report(&license, s.clock.now_utc(), 1, "", 3, 4);
    let file = answer(upload(&serde_json::to_string(&report).unwrap()));
    assert_eq!(file.kind, "usage-ack");
    let ack: UsageAckClaims = verified(&s, &file.tokens[0], formats::USAGE_ACK_TYP);
    assert_eq!(ack.outcome, "recorded");
    // Something an appliance never uploads (a bundle licd made): refused by name.
    let r = upload(&serde_json::to_string(&file).unwrap());
    assert_eq!(r.status(), 422);
    assert!(
        r.text()
            .unwrap()
            .contains("a usage report acknowledgement cannot be uploaded here"),
        "refused by name"
    );

    // A bundle from its form.
    let r = c
        .post(s.url(&format!("/licensing/licenses/{id}/bundle")))
        .form(&[("csrf", csrf.as_str()), ("kind", "renewal")])
        .send()
        .unwrap();
    let file = answer(r);
    let _: RenewalClaims = verified(&s, &file.tokens[0], formats::RENEWAL_TYP);

    // A release proof: recorded, back to the page with a notice.
    let proof = serde_json::to_string(&box_.release(&license, s.clock.now_utc())).unwrap();
    let r = c
        .post(s.url(&format!("/licensing/licenses/{id}/air-gap")))
        .form(&[("csrf", csrf.as_str()), ("file", proof.as_str())])
        .send()
        .unwrap();
    assert_eq!(r.status(), 303);
    let to = r.headers()["location"].to_str().unwrap().to_owned();
    assert!(to.contains("notice=offline_released"), "{to}");
    let page = c.get(s.url(&to)).send().unwrap().text().unwrap();
    assert!(
        page.contains("free to activate on another appliance"),
        "{page}"
    );
    assert!(page.contains("released"), "{page}");
}
