#![allow(clippy::unwrap_used)]

use super::*;
use crate::formats::{LEASE_TYP, LeaseDirective};
use crate::jose::{chain_hash, sign};
use crate::verify::tests::{lease_claims, licd, now};
use chrono::Duration;

pub(crate) fn activation(mode: Mode) -> Activation {
    Activation {
        license_id: "L-1".into(),
        install_id: "inst-1".into(),
        fingerprint: "fp-1".into(),
        activation_secret: Some("lact_x".into()),
        mode,
    }
}

fn lease(k: &ApplianceKey, seq: i64, prev: &str, at: DateTime<Utc>) -> String {
    sign(k, LEASE_TYP, &lease_claims(seq, prev, at)).unwrap()
}

fn fresh(dir: &tempfile::TempDir) -> (ApplianceKey, LeaseStore) {
    let key = ApplianceKey::generate().unwrap();
    let store = LeaseStore::open(&dir.path().join("store.json"), &key).unwrap();
    (key, store)
}

#[test]
fn missing_file_is_empty_and_a_save_reads_back_private() {
    let dir = tempfile::tempdir().unwrap();
    let (key, mut store) = fresh(&dir);
    assert_eq!(store.state(), &StoreState::default());
    store.begin_activation(activation(Mode::Online), now());
    store.save(now()).unwrap();
    let again = LeaseStore::open(store.path(), &key).unwrap();
    assert_eq!(again.state(), store.state());
    assert_eq!(again.state().last_written, Some(now()));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(store.path())
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}

#[test]
fn an_edited_file_is_tampered_and_never_used() {
    let dir = tempfile::tempdir().unwrap();
    let (key, mut store) = fresh(&dir);
    store.begin_activation(activation(Mode::Online), now());
    store.save(now()).unwrap();
    let path = store.path().to_owned();
    let original = std::fs::read_to_string(&path).unwrap();

    let edited = original.replace("\"fp-1\"", "\"fp-2\"");
    assert_ne!(edited, original);
    std::fs::write(&path, &edited).unwrap();
    let err = LeaseStore::open(&path, &key).unwrap_err();
    assert_eq!(err.kind(), "tampered", "{err}");

    // A field removed (it would read back as its default): still tampered.
    let mut value: serde_json::Value = serde_json::from_str(&original).unwrap();
    value["body"]
        .as_object_mut()
        .unwrap()
        .remove("activation_secret");
    std::fs::write(&path, value.to_string()).unwrap();
    assert_eq!(
        LeaseStore::open(&path, &key).unwrap_err().kind(),
        "tampered"
    );

    // Another appliance key: its MAC key differs.
    std::fs::write(&path, &original).unwrap();
    let other = ApplianceKey::generate().unwrap();
    assert_eq!(
        LeaseStore::open(&path, &other).unwrap_err().kind(),
        "tampered"
    );

    // A MAC that is not even base64url.
    let mut value: serde_json::Value = serde_json::from_str(&original).unwrap();
    value["mac"] = "!!".into();
    std::fs::write(&path, value.to_string()).unwrap();
    assert_eq!(
        LeaseStore::open(&path, &key).unwrap_err().kind(),
        "tampered"
    );

    // Reformatting the file (whitespace) is not an edit of its content.
    let value: serde_json::Value = serde_json::from_str(&original).unwrap();
    std::fs::write(&path, value.to_string()).unwrap();
    assert!(LeaseStore::open(&path, &key).is_ok());
}

#[test]
fn garbage_and_newer_versions_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (key, store) = fresh(&dir);
    let path = store.path().to_owned();
    for garbage in ["", "not json", "{}", "[1,2]", "{\"version\":1,\"body\":{}}"] {
        std::fs::write(&path, garbage).unwrap();
        let err = LeaseStore::open(&path, &key).unwrap_err();
        assert_eq!(err.kind(), "unreadable", "{garbage}: {err}");
    }
    std::fs::write(&path, r#"{"version":2,"body":{},"mac":""}"#).unwrap();
    assert_eq!(
        LeaseStore::open(&path, &key).unwrap_err().kind(),
        "unsupported_version"
    );
}

#[test]
fn a_failed_save_leaves_the_old_file() {
    let dir = tempfile::tempdir().unwrap();
    let (key, mut store) = fresh(&dir);
    store.begin_activation(activation(Mode::Online), now());
    store.save(now()).unwrap();
    let before = std::fs::read(store.path()).unwrap();
    std::fs::create_dir(crate::atomic_file::temp_path(store.path())).unwrap();
    store.record_contact(now());
    let err = store.save(now() + Duration::hours(1)).unwrap_err();
    assert_eq!(err.kind(), "io");
    assert_eq!(std::fs::read(store.path()).unwrap(), before);
    assert_eq!(
        LeaseStore::open(store.path(), &key)
            .unwrap()
            .state()
            .last_contact,
        None
    );
}

#[test]
fn last_written_never_goes_back() {
    let dir = tempfile::tempdir().unwrap();
    let (_key, mut store) = fresh(&dir);
    store.save(now()).unwrap();
    store.save(now() - Duration::days(1)).unwrap();
    assert_eq!(store.state().last_written, Some(now()));
}

#[test]
fn the_chain_rules() {
    let dir = tempfile::tempdir().unwrap();
    let (_key, mut store) = fresh(&dir);
    let (k, keys) = licd();
    let t1 = lease(&k, 1, "", now());
    assert_eq!(
        store.accept_lease(&t1, &keys, now()).unwrap_err().kind(),
        "not_activated"
    );
    store.begin_activation(activation(Mode::Online), now());
    // The first lease held must start a chain.
    let stray = lease(&k, 4, "x", now());
    assert_eq!(
        store.accept_lease(&stray, &keys, now()).unwrap_err().kind(),
        "chain_gap"
    );
    store.accept_lease(&t1, &keys, now()).unwrap();
    let t2 = lease(&k, 2, &chain_hash(&t1), now() + Duration::hours(1));
    store.accept_lease(&t2, &keys, now()).unwrap();
    assert_eq!(store.state().chain.len(), 2);
    assert_eq!(store.state().chain_head().hash, chain_hash(&t2));

    // The same lease again, and an older one: replays.
    assert_eq!(
        store.accept_lease(&t2, &keys, now()).unwrap_err().kind(),
        "replay"
    );
    let t2_again = lease(&k, 2, &chain_hash(&t1), now() + Duration::hours(2));
    assert_eq!(
        store
            .accept_lease(&t2_again, &keys, now())
            .unwrap_err()
            .kind(),
        "replay"
    );
    // The activation's first lease again: signed earlier, refused.
    assert_eq!(
        store.accept_lease(&t1, &keys, now()).unwrap_err().kind(),
        "older_than_head"
    );
    // The right seq but not chained to the head.
    let t3_broken = lease(&k, 3, &chain_hash(&t1), now() + Duration::hours(3));
    assert_eq!(
        store
            .accept_lease(&t3_broken, &keys, now())
            .unwrap_err()
            .kind(),
        "chain_broken"
    );
    // The right place in the chain but signed before the head.
    let t3_old = lease(&k, 3, &chain_hash(&t2), now());
    assert_eq!(
        store
            .accept_lease(&t3_old, &keys, now())
            .unwrap_err()
            .kind(),
        "older_than_head"
    );
    let t3 = lease(&k, 3, &chain_hash(&t2), now() + Duration::hours(3));
    store.accept_lease(&t3, &keys, now()).unwrap();
    assert_eq!(
        store.state().server_time_high_water,
        Some(now() + Duration::hours(3))
    );
    // A gap: lease 4's answer was lost on the way; licd's lease 5 is taken (its `prev`
    // names lease 4, which the box never saw).
    let t5 = lease(&k, 5, "hash-of-lease-4", now() + Duration::minutes(210));
    store.accept_lease(&t5, &keys, now()).unwrap();
    assert_eq!(store.state().chain_head().seq, 5);
    // ... and lease 4, should it turn up late, is older than the head.
    let t4 = lease(&k, 4, &chain_hash(&t3), now() + Duration::minutes(200));
    assert_eq!(
        store.accept_lease(&t4, &keys, now()).unwrap_err().kind(),
        "older_than_head"
    );
    // A new activation's first lease starts a new chain.
    let n1 = lease(&k, 1, "", now() + Duration::hours(4));
    store.accept_lease(&n1, &keys, now()).unwrap();
    assert_eq!(store.state().chain_head().seq, 1);
    // Bound to another box, another license, or not licd's: refused.
    let mut other_box = lease_claims(2, &chain_hash(&n1), now() + Duration::hours(5));
    other_box.fingerprint = "fp-2".into();
    let t = sign(&k, LEASE_TYP, &other_box).unwrap();
    assert_eq!(
        store.accept_lease(&t, &keys, now()).unwrap_err().kind(),
        "wrong_fingerprint"
    );
    let mut other_license = lease_claims(2, &chain_hash(&n1), now() + Duration::hours(5));
    other_license.license_id = "L-2".into();
    let t = sign(&k, LEASE_TYP, &other_license).unwrap();
    assert_eq!(
        store.accept_lease(&t, &keys, now()).unwrap_err().kind(),
        "wrong_license"
    );
    let (not_licd, _) = licd();
    let t = lease(&not_licd, 2, &chain_hash(&n1), now() + Duration::hours(5));
    assert_eq!(
        store.accept_lease(&t, &keys, now()).unwrap_err().kind(),
        "unknown_key"
    );
    assert_eq!(
        store
            .accept_lease("garbage", &keys, now())
            .unwrap_err()
            .kind(),
        "malformed"
    );
}

#[test]
fn directives_apply_once_and_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let (_key, mut store) = fresh(&dir);
    let (k, keys) = licd();
    store.begin_activation(activation(Mode::Online), now());
    let directive = |id: Option<i64>, kind: &str, message: &str| LeaseDirective {
        id,
        kind: kind.into(),
        message: message.into(),
        license_key: None,
    };
    let mut c1 = lease_claims(1, "", now());
    c1.directives = vec![
        directive(Some(1), "message", "hello"),
        directive(Some(2), "lock", "pay the invoice"),
        directive(None, "lock", "licd's own lock"),
        directive(Some(3), "future_kind", ""),
    ];
    let t1 = sign(&k, LEASE_TYP, &c1).unwrap();
    store.accept_lease(&t1, &keys, now()).unwrap();
    assert_eq!(
        store.state().locked_by_directive.as_deref(),
        Some("pay the invoice")
    );
    assert_eq!(store.state().messages.len(), 1);
    // Carried again until confirmed: not applied twice; then unlocked.
    let mut c2 = lease_claims(2, &chain_hash(&t1), now());
    c2.directives = vec![
        directive(Some(1), "message", "hello"),
        directive(Some(2), "lock", "pay the invoice"),
        directive(Some(4), "unlock", ""),
    ];
    let t2 = sign(&k, LEASE_TYP, &c2).unwrap();
    store.accept_lease(&t2, &keys, now()).unwrap();
    assert_eq!(store.state().locked_by_directive, None);
    assert_eq!(store.state().messages.len(), 1);
    assert_eq!(store.state().last_directive_id, 4);
}

#[test]
fn daily_peaks_keep_the_highest_of_each_day() {
    let dir = tempfile::tempdir().unwrap();
    let (_key, mut store) = fresh(&dir);
    let counts = |i, e| UserCounts {
        internal_users: i,
        external_users: e,
    };
    store.record_usage(counts(5, 1), now());
    store.record_usage(counts(3, 4), now() + Duration::hours(1));
    store.record_usage(counts(1, 1), now() + Duration::days(1));
    store.record_usage(counts(2, 0), now() - Duration::days(3));
    let peaks = &store.state().daily_peaks;
    assert_eq!(peaks.len(), 3);
    assert_eq!(peaks[0].date, "2027-01-12");
    assert_eq!((peaks[1].internal_users, peaks[1].external_users), (5, 4));
}

#[test]
fn a_license_key_is_verified_before_it_is_installed() {
    let dir = tempfile::tempdir().unwrap();
    let (_key, mut store) = fresh(&dir);
    let (k, keys) = licd();
    let token = sign(
        &k,
        crate::formats::LICENSE_TYP,
        &crate::verify::tests::license_claims("inst-1"),
    )
    .unwrap();
    assert_eq!(
        store
            .install_license(&token, &keys, now())
            .unwrap_err()
            .kind(),
        "not_activated"
    );
    store.begin_activation(activation(Mode::Online), now());
    store.install_license(&token, &keys, now()).unwrap();
    assert_eq!(store.state().license.as_ref().unwrap().internal_users, 50);
    let other = sign(
        &k,
        crate::formats::LICENSE_TYP,
        &crate::verify::tests::license_claims("inst-2"),
    )
    .unwrap();
    assert_eq!(
        store
            .install_license(&other, &keys, now())
            .unwrap_err()
            .kind(),
        "wrong_install_id"
    );
    store.forget_activation();
    assert!(store.state().license.is_none() && store.state().head.is_none());
}
