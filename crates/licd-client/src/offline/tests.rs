#![allow(clippy::unwrap_used)]

use super::*;
use crate::formats::{
    LEASE_TYP, LICENSE_TYP, OFFLINE_RESPONSE_TYP, OfflineResponseClaims, RENEWAL_TYP,
    REVOCATION_TYP, RenewalClaims, RevocationClaims, USAGE_ACK_TYP, USAGE_REPORT_TYP,
    UsageAckClaims, UsageReportClaims, audience,
};
use crate::jose::chain_hash;
use crate::keys::PublicKey;
use crate::status::{Policy, State, status};
use crate::store::Mode;
use crate::verify::tests::{lease_claims, licd, license_claims, now};
use chrono::Duration;

/// An appliance (its key and store in a temp dir) and a stand-in for licd (its key).
struct Site {
    _dir: tempfile::TempDir,
    key: ApplianceKey,
    store: LeaseStore,
    licd: ApplianceKey,
    keys: Vec<PublicKey>,
}

fn site() -> Site {
    let dir = tempfile::tempdir().unwrap();
    let key = ApplianceKey::generate().unwrap();
    let store = LeaseStore::open(&dir.path().join("store.json"), &key).unwrap();
    let (licd, keys) = licd();
    Site {
        _dir: dir,
        key,
        store,
        licd,
        keys,
    }
}

fn fp() -> Fingerprint {
    Fingerprint::explicit("fp-1").unwrap()
}

impl Site {
    fn request(&mut self) -> Transfer {
        offline_request(
            &mut self.store,
            &self.key,
            &license_claims("inst-1"),
            &fp(),
            Some("box-1"),
            now(),
        )
        .unwrap()
    }

    /// What licd does with a request: check its own signature with the key it
    /// carries, answer with a response for its fingerprint and nonce.
    fn respond(
        &self,
        request: &Transfer,
        edit: impl FnOnce(&mut OfflineResponseClaims),
    ) -> Transfer {
        let parsed = jose::parse(&request.tokens[0]).unwrap();
        let unverified: OfflineRequestClaims = serde_json::from_slice(&parsed.payload).unwrap();
        let carried = PublicKey::from_jwk(&unverified.appliance_key).unwrap();
        let req: OfflineRequestClaims = jose::verify_typed(
            &request.tokens[0],
            OFFLINE_REQUEST_TYP,
            std::slice::from_ref(&carried),
        )
        .unwrap();
        let mut lease = lease_claims(1, "", now());
        lease.lease_expires_at = now() + Duration::days(90);
        lease.fingerprint = req.fingerprint.clone();
        let mut claims = OfflineResponseClaims {
            iss: "https://licd.test/t".into(),
            sub: req.license_id.clone(),
            aud: audience(&req.install_id),
            iat: now().timestamp(),
            exp: (now() + Duration::days(14)).timestamp(),
            license_id: req.license_id.clone(),
            install_id: req.install_id.clone(),
            fingerprint: req.fingerprint.clone(),
            nonce: req.nonce.clone(),
            appliance_kid: carried.kid().to_owned(),
            license_key: self.sign(LICENSE_TYP, &license_claims("inst-1")),
            lease: self.sign(LEASE_TYP, &lease),
        };
        edit(&mut claims);
        self.file(
            "offline-response",
            vec![self.sign(OFFLINE_RESPONSE_TYP, &claims)],
        )
    }

    fn sign<T: serde::Serialize>(&self, typ: &str, claims: &T) -> String {
        jose::sign(&self.licd, typ, claims).unwrap()
    }

    fn file(&self, kind: &str, tokens: Vec<String>) -> Transfer {
        Transfer::new(kind, "", tokens)
    }

    fn import(&mut self, file: &Transfer) -> Result<Vec<Imported>, OfflineError> {
        import(&mut self.store, file, &self.keys, now())
    }

    fn activated(&mut self) {
        let request = self.request();
        let response = self.respond(&request, |_| {});
        self.import(&response).unwrap();
    }

    fn renewal(&self, bundle_seq: i64, lease_seq: i64) -> String {
        let head = self.store.state().chain_head();
        let at = now() + Duration::days(lease_seq);
        let mut lease = lease_claims(lease_seq, &head.hash, at);
        lease.lease_expires_at = at + Duration::days(90);
        let claims = RenewalClaims {
            iss: "i".into(),
            sub: "L-1".into(),
            aud: audience("inst-1"),
            iat: at.timestamp(),
            license_id: "L-1".into(),
            install_id: "inst-1".into(),
            fingerprint: "fp-1".into(),
            bundle_seq,
            license_key: self.sign(LICENSE_TYP, &license_claims("inst-1")),
            lease: self.sign(LEASE_TYP, &lease),
        };
        self.sign(RENEWAL_TYP, &claims)
    }

    fn revocation(&self, bundle_seq: i64) -> String {
        let claims = RevocationClaims {
            iss: "i".into(),
            sub: "L-1".into(),
            aud: audience("inst-1"),
            iat: now().timestamp(),
            license_id: "L-1".into(),
            install_id: "inst-1".into(),
            bundle_seq,
            revoked_at: now(),
            reason: "contract ended".into(),
        };
        self.sign(REVOCATION_TYP, &claims)
    }

    fn state(&self) -> State {
        status(self.store.state(), now(), &Policy::default(), None).state
    }
}

fn kind(r: Result<Vec<Imported>, OfflineError>) -> &'static str {
    r.unwrap_err().kind()
}

#[test]
fn the_sneakernet_round_trip() {
    let mut s = site();
    let request = s.request();
    assert_eq!(request.kind, "offline-request");
    assert_eq!(s.store.state().pending_nonces.len(), 1);
    // The pending nonce survives a restart (the store was saved).
    let reopened = LeaseStore::open(s.store.path(), &s.key).unwrap();
    assert_eq!(reopened.state().pending_nonces.len(), 1);

    let response = s.respond(&request, |_| {});
    let text = serde_json::to_string(&response).unwrap();
    let carried: Transfer = serde_json::from_str(&text).unwrap();
    let done = s.import(&carried).unwrap();
    assert!(matches!(
        done[0],
        Imported::OfflineActivation { lease_seq: 1, .. }
    ));
    assert!(done[0].to_string().contains("activated offline"));
    let state = s.store.state();
    assert_eq!(state.mode, Mode::Offline);
    assert!(state.pending_nonces.is_empty());
    assert_eq!(state.used_nonces.len(), 1);
    assert_eq!(state.license.as_ref().unwrap().internal_users, 50);
    assert_eq!(s.state(), State::Valid);
    let reopened = LeaseStore::open(s.store.path(), &s.key).unwrap();
    assert_eq!(reopened.state(), s.store.state());

    // Applied once only.
    assert_eq!(kind(s.import(&carried)), "already_applied");
    let err = s.import(&carried).unwrap_err().to_string();
    assert_eq!(err, "this response was already applied");
}

#[test]
fn responses_that_are_refused() {
    let mut s = site();
    let request = s.request();

    let other_box = s.respond(&request, |c| c.fingerprint = "fp-2".into());
    let err = s.import(&other_box).unwrap_err();
    assert_eq!(err.kind(), "other_appliance");
    assert!(
        err.to_string()
            .contains("for another appliance (fingerprint fp-2)"),
        "{err}"
    );

    let unknown_nonce = s.respond(&request, |c| c.nonce = "bm90LWFza2Vk".into());
    let err = s.import(&unknown_nonce).unwrap_err();
    assert_eq!(
        err.to_string(),
        "this response was not requested by this appliance"
    );

    let late = s.respond(&request, |c| c.exp = now().timestamp());
    assert_eq!(kind(s.import(&late)), "response_expired");

    // Altered after licd signed it: the fingerprint swapped in the payload.
    let good = s.respond(&request, |_| {});
    let parts: Vec<&str> = good.tokens[0].split('.').collect();
    let payload = B64.decode(parts[1]).unwrap();
    let altered_payload = String::from_utf8(payload)
        .unwrap()
        .replace("\"L-1\"", "\"L-2\"");
    let altered = format!("{}.{}.{}", parts[0], B64.encode(altered_payload), parts[2]);
    let file = s.file("offline-response", vec![altered]);
    assert_eq!(kind(s.import(&file)), "bad_signature");

    // Not licd's key.
    let (stranger, _) = licd();
    let forged = jose::sign(&stranger, OFFLINE_RESPONSE_TYP, &serde_json::json!({})).unwrap();
    assert_eq!(kind(s.import(&s.file("x", vec![forged]))), "unknown_key");

    // Kinds that are not imported here, and garbage.
    let lease = s.sign(LEASE_TYP, &lease_claims(1, "", now()));
    let err = s
        .import(&s.file("offline-response", vec![lease]))
        .unwrap_err();
    assert_eq!(err.to_string(), "a licd-lease+jwt cannot be imported here");
    assert_eq!(kind(s.import(&request)), "cannot_import");
    assert_eq!(
        kind(s.import(&s.file("x", vec!["garbage".into()]))),
        "malformed"
    );
    assert_eq!(kind(s.import(&s.file("x", vec![]))), "format");
    let mut wrong_format = good.clone();
    wrong_format.format = "something/2".into();
    assert_eq!(kind(s.import(&wrong_format)), "format");

    // None of that changed anything: the good response still applies.
    assert_eq!(s.store.state().pending_nonces.len(), 1);
    s.import(&good).unwrap();
}

#[test]
fn a_response_without_a_request_is_refused() {
    let mut s = site();
    let mut other = site();
    let request = other.request();
    let response = s.respond(&request, |_| {});
    assert_eq!(kind(s.import(&response)), "not_requested");
}

#[test]
fn bundles_apply_in_order_and_a_revocation_sticks() {
    let mut s = site();
    s.activated();
    let r2 = s.renewal(2, 2);
    let done = s.import(&s.file("renewal", vec![r2.clone()])).unwrap();
    assert!(matches!(
        done[0],
        Imported::Renewal {
            bundle_seq: 2,
            lease_seq: 2,
            ..
        }
    ));
    assert_eq!(s.store.state().bundle_seq, 2);
    assert_eq!(
        kind(s.import(&s.file("renewal", vec![r2]))),
        "bundle_applied"
    );
    let r1 = s.renewal(1, 3);
    let err = s.import(&s.file("renewal", vec![r1])).unwrap_err();
    assert_eq!(
        err.to_string(),
        "bundle 1 is older than bundle 2 already applied"
    );

    let revoke = s.revocation(5);
    let done = s.import(&s.file("revocation", vec![revoke])).unwrap();
    assert!(matches!(
        done[0],
        Imported::Revocation { bundle_seq: 5, .. }
    ));
    assert_eq!(s.state(), State::Revoked);
    // An older renewal cannot undo it.
    let r3 = s.renewal(3, 3);
    let err = s.import(&s.file("renewal", vec![r3])).unwrap_err();
    assert_eq!(
        err.to_string(),
        "bundle 3 is older than bundle 5 already applied"
    );
    assert_eq!(s.state(), State::Revoked);
    let reopened = LeaseStore::open(s.store.path(), &s.key).unwrap();
    assert!(reopened.state().revoked.is_some());
}

#[test]
fn a_bundle_for_another_box_or_license_is_refused() {
    let mut s = site();
    s.activated();
    let mut claims: RenewalClaims = {
        let t = s.renewal(2, 2);
        serde_json::from_slice(&jose::parse(&t).unwrap().payload).unwrap()
    };
    claims.fingerprint = "fp-9".into();
    let t = s.sign(RENEWAL_TYP, &claims);
    assert_eq!(
        kind(s.import(&s.file("renewal", vec![t]))),
        "other_appliance"
    );
    claims.fingerprint = "fp-1".into();
    claims.license_id = "L-9".into();
    let t = s.sign(RENEWAL_TYP, &claims);
    assert_eq!(kind(s.import(&s.file("renewal", vec![t]))), "other_license");
    claims.license_id = "L-1".into();
    claims.aud = audience("inst-9");
    let t = s.sign(RENEWAL_TYP, &claims);
    assert_eq!(
        kind(s.import(&s.file("renewal", vec![t]))),
        "wrong_install_id"
    );
}

#[test]
fn usage_reports_chain_and_their_acks_import() {
    let mut s = site();
    s.activated();
    let counts = UserCounts {
        internal_users: 12,
        external_users: 3,
    };
    s.store.record_usage(counts, now());
    s.store.record_rollback(
        &crate::clock::Rollback {
            by: Duration::days(1),
            signal: crate::clock::ClockSignal::StateFile,
        },
        now(),
    );
    let (file, text) = usage_report(&mut s.store, &s.key, now() + Duration::days(1)).unwrap();
    let first: UsageReportClaims =
        jose::verify_typed(&file.tokens[0], USAGE_REPORT_TYP, &[s.key.public().clone()]).unwrap();
    assert_eq!((first.report_seq, first.prev_report.as_str()), (1, ""));
    assert_eq!(first.peak, counts);
    assert_eq!(first.daily.len(), 1);
    assert_eq!(first.clock.rollbacks.len(), 1);
    assert_eq!(first.lease_head.seq, 1);
    assert!(text.contains("12 internal, 3 external"), "{text}");
    assert!(s.store.state().daily_peaks.is_empty());

    let (file2, _) = usage_report(&mut s.store, &s.key, now() + Duration::days(2)).unwrap();
    let second: UsageReportClaims = jose::verify_typed(
        &file2.tokens[0],
        USAGE_REPORT_TYP,
        &[s.key.public().clone()],
    )
    .unwrap();
    assert_eq!(second.report_seq, 2);
    assert_eq!(second.prev_report, chain_hash(&file.tokens[0]));
    assert_eq!(second.period_start, first.period_end);
    assert!(second.clock.rollbacks.is_empty());

    let ack = |seq: i64, hash: String| UsageAckClaims {
        iss: "i".into(),
        sub: "L-1".into(),
        aud: audience("inst-1"),
        iat: now().timestamp(),
        license_id: "L-1".into(),
        fingerprint: "fp-1".into(),
        report_seq: seq,
        report_hash: hash,
        outcome: "recorded".into(),
        missing_seqs: vec![],
        chain_break: false,
    };
    let good = s.sign(USAGE_ACK_TYP, &ack(2, chain_hash(&file2.tokens[0])));
    let done = s.import(&s.file("usage-ack", vec![good.clone()])).unwrap();
    assert!(matches!(done[0], Imported::UsageAck { report_seq: 2, .. }));
    let unknown = s.sign(USAGE_ACK_TYP, &ack(3, "x".into()));
    assert_eq!(
        kind(s.import(&s.file("usage-ack", vec![unknown]))),
        "unknown_report"
    );
    let wrong_hash = s.sign(USAGE_ACK_TYP, &ack(2, "x".into()));
    assert_eq!(
        kind(s.import(&s.file("usage-ack", vec![wrong_hash]))),
        "unknown_report"
    );

    // All or nothing: a good ack with an older bundle changes nothing.
    let before = s.store.state().clone();
    let r = s.renewal(0, 2);
    assert_eq!(
        kind(s.import(&s.file("usage-ack", vec![good, r]))),
        "bundle_applied"
    );
    assert_eq!(s.store.state(), &before);
}

#[test]
fn release_frees_the_box() {
    let mut s = site();
    let counts = UserCounts {
        internal_users: 1,
        external_users: 0,
    };
    assert_eq!(
        release(&mut s.store, &s.key, counts, now())
            .unwrap_err()
            .kind(),
        "not_activated"
    );
    s.activated();
    let file = release(&mut s.store, &s.key, counts, now()).unwrap();
    let proof: ReleaseClaims =
        jose::verify_typed(&file.tokens[0], RELEASE_TYP, &[s.key.public().clone()]).unwrap();
    assert_eq!(proof.final_usage, counts);
    assert_eq!(proof.lease_head.seq, 1);
    assert_eq!(s.state(), State::NotActivated);
    let reopened = LeaseStore::open(s.store.path(), &s.key).unwrap();
    assert!(reopened.state().head.is_none());
    assert_eq!(reopened.state().used_nonces.len(), 1);
    assert_eq!(
        usage_report(&mut s.store, &s.key, now())
            .unwrap_err()
            .kind(),
        "not_activated"
    );
}

#[test]
fn transfer_files_round_trip_and_garbage_is_named() {
    let mut s = site();
    let request = s.request();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("req.json");
    write_file(&path, &request).unwrap();
    assert_eq!(read_file(&path).unwrap(), request);
    std::fs::write(&path, "PK\u{3}\u{4} not json").unwrap();
    let err = read_file(&path).unwrap_err();
    assert_eq!(err.kind(), "file");
    assert!(
        err.to_string().contains("not a licd transfer file"),
        "{err}"
    );
    std::fs::write(&path, r#"{"format":"other/1","kind":"x","tokens":[]}"#).unwrap();
    assert_eq!(read_file(&path).unwrap_err().kind(), "file");
    assert_eq!(
        read_file(&dir.path().join("missing.json"))
            .unwrap_err()
            .kind(),
        "file"
    );
}
