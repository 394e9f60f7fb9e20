use super::*;
use crate::formats::{LEASE_TYP, LeaseClaims, RevocationClaims};
use crate::store::HeldLease;
use crate::verify::tests::{lease_claims, license_claims, now};

/// A store holding a fresh online lease (14 days offline time) and the license key.
fn held() -> StoreState {
    held_with(|_| {})
}

fn held_with(edit: impl FnOnce(&mut LeaseClaims)) -> StoreState {
    let mut claims = lease_claims(1, "", now());
    claims.stage = "admin_warning".into();
    claims.banner = "admins".into();
    edit(&mut claims);
    StoreState {
        license_id: Some("L-1".into()),
        head: Some(HeldLease {
            token: format!("{LEASE_TYP}-not-checked-here"),
            claims,
        }),
        license: Some(license_claims("inst-1")),
        last_contact: Some(now()),
        ..Default::default()
    }
}

fn at(state: &StoreState, when: DateTime<Utc>) -> State {
    status(state, when, &Policy::default(), None).state
}

fn rollback() -> Rollback {
    Rollback {
        by: Duration::days(1),
        signal: ClockSignal::LeaseTime,
    }
}

#[test]
fn not_activated_without_a_lease() {
    let s = status(&StoreState::default(), now(), &Policy::default(), None);
    assert_eq!(s.state, State::NotActivated);
    assert_eq!((s.stage.as_str(), s.lease_seq), ("none", 0));
}

#[test]
fn valid_when_in_touch_and_everything_else_from_the_lease_and_key() {
    let s = status(
        &held(),
        now() + Duration::hours(2),
        &Policy::default(),
        None,
    );
    assert_eq!(s.state, State::Valid);
    assert_eq!(s.stage, "admin_warning");
    assert_eq!(s.banner, "admins");
    assert_eq!((s.internal_users, s.external_users), (50, 5));
    assert_eq!(s.features, vec!["reports".to_owned()]);
    assert_eq!(s.lease_seq, 1);
    assert_eq!(s.license_id.as_deref(), Some("L-1"));
    let json = serde_json::to_value(&s).expect("json");
    assert_eq!(json["state"], "valid");
    let back: Status = serde_json::from_value(json).expect("round trip");
    assert_eq!(back, s);
}

#[test]
fn grace_when_out_of_touch_until_the_lease_ends_then_locked() {
    let state = held();
    // Exactly fresh_for after contact: still valid; one second later: grace.
    assert_eq!(at(&state, now() + Duration::hours(3)), State::Valid);
    let later = now() + Duration::hours(3) + Duration::seconds(1);
    let until = now() + Duration::days(14);
    assert_eq!(
        at(&state, later),
        State::Grace {
            remaining_secs: (until - later).num_seconds(),
            until
        }
    );
    let json = serde_json::to_value(status(&state, later, &Policy::default(), None)).expect("json");
    assert_eq!(json["state"], "grace");
    assert!(json["remaining_secs"].as_i64().is_some());
    assert_eq!(
        at(&state, until),
        State::Locked {
            reason: "offline_too_long".into()
        }
    );
}

#[test]
fn offline_mode_is_valid_until_the_lease_ends() {
    let mut state = held();
    state.mode = Mode::Offline;
    state.last_contact = None;
    assert_eq!(at(&state, now() + Duration::days(13)), State::Valid);
    assert_eq!(
        at(&state, now() + Duration::days(14)),
        State::Locked {
            reason: "offline_too_long".into()
        }
    );
}

#[test]
fn locked_by_lease_reason_state_or_directive() {
    for reason in ["rebound", "suspended"] {
        let state = held_with(|c| {
            c.lock_reason = Some(reason.into());
            c.state = "locked".into();
        });
        assert_eq!(
            at(&state, now()),
            State::Locked {
                reason: reason.into()
            }
        );
    }
    let mut state = held();
    state.locked_by_directive = Some("pay the invoice".into());
    assert_eq!(
        at(&state, now()),
        State::Locked {
            reason: "directive: pay the invoice".into()
        }
    );
    let state = held_with(|c| c.state = "issued".into());
    assert_eq!(
        at(&state, now()),
        State::Locked {
            reason: "issued".into()
        }
    );
}

#[test]
fn revoked_by_bundle_or_lease() {
    let state = held_with(|c| c.lock_reason = Some("revoked".into()));
    assert_eq!(at(&state, now()), State::Revoked);
    let mut state = held();
    state.revoked = Some(RevocationClaims {
        iss: "i".into(),
        sub: "L-1".into(),
        aud: "licd:install:inst-1".into(),
        iat: now().timestamp(),
        license_id: "L-1".into(),
        install_id: "inst-1".into(),
        bundle_seq: 1,
        revoked_at: now(),
        reason: "".into(),
    });
    assert_eq!(at(&state, now()), State::Revoked);
}

#[test]
fn expired_by_key_or_lease() {
    let state = held_with(|c| c.lock_reason = Some("expired".into()));
    assert_eq!(at(&state, now()), State::Expired);
    let mut state = held();
    state.mode = Mode::Offline;
    let exp = state.license.as_ref().map_or(0, |l| l.exp);
    assert_eq!(
        at(&state, DateTime::from_timestamp(exp, 0).unwrap_or_default()),
        State::Expired
    );
}

#[test]
fn clock_rollback_locks_or_warns_by_policy() {
    let state = held();
    let s = status(&state, now(), &Policy::default(), Some(rollback()));
    assert_eq!(
        s.state,
        State::ClockRollback {
            by_secs: 86_400,
            signal: ClockSignal::LeaseTime
        }
    );
    assert_eq!(s.clock_warning, None);
    let json = serde_json::to_value(&s).expect("json");
    assert_eq!(json["signal"], "lease_time");
    let warn = Policy {
        on_clock_rollback: OnClockRollback::Warn,
        ..Policy::default()
    };
    let s = status(&state, now(), &warn, Some(rollback()));
    assert_eq!(s.state, State::Valid);
    assert_eq!(
        s.clock_warning,
        Some(ClockWarning {
            by_secs: 86_400,
            signal: ClockSignal::LeaseTime
        })
    );
}

#[test]
fn policy_follows_the_heartbeat_interval() {
    assert_eq!(
        Policy::for_heartbeat_interval(600).fresh_for,
        Duration::minutes(30)
    );
    assert_eq!(Policy::default().on_clock_rollback, OnClockRollback::Lock);
    assert_eq!(Policy::default().clock.tolerance, Duration::hours(4));
}
