//! The license life cycle (seed 002) as a pure function of (state, event, facts, now).
//!
//! ```text
//! issued --activate--> active --(no heartbeat > grace)--> locked --heartbeat--> active
//!    \                   |  \--(subscription invalid)--> suspended --(restored)--> active
//!     \-- rebind: back to issued, pre-bound to the new fingerprint
//! any --revoke--> revoked (final)       any --(now >= exp)--> expired (final)
//! ```

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LicenseState {
    Issued,
    Active,
    Locked,
    Suspended,
    Revoked,
    Expired,
}

impl LicenseState {
    pub const ALL: [LicenseState; 6] = [
        LicenseState::Issued,
        LicenseState::Active,
        LicenseState::Locked,
        LicenseState::Suspended,
        LicenseState::Revoked,
        LicenseState::Expired,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            LicenseState::Issued => "issued",
            LicenseState::Active => "active",
            LicenseState::Locked => "locked",
            LicenseState::Suspended => "suspended",
            LicenseState::Revoked => "revoked",
            LicenseState::Expired => "expired",
        }
    }

    /// Revoked and expired licenses never change again.
    pub fn is_final(self) -> bool {
        matches!(self, LicenseState::Revoked | LicenseState::Expired)
    }
}

impl fmt::Display for LicenseState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for LicenseState {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        LicenseState::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| format!("unknown license state {s:?}"))
    }
}

/// Why a license is suspended: staff did it, or its subscription lapsed. Only the
/// latter lifts by itself when the subscription is restored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SuspendReason {
    Staff,
    Subscription,
}

impl SuspendReason {
    pub fn as_str(self) -> &'static str {
        match self {
            SuspendReason::Staff => "staff",
            SuspendReason::Subscription => "subscription",
        }
    }
}

impl FromStr for SuspendReason {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "staff" => Ok(SuspendReason::Staff),
            "subscription" => Ok(SuspendReason::Subscription),
            _ => Err(format!("unknown suspend reason {s:?}")),
        }
    }
}

/// The billing status of the subscription behind a license.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SubscriptionStatus {
    /// No subscription is tracked (perpetual, trial, or billed elsewhere).
    None,
    Active,
    PastDue,
    /// Canceled: valid until the end of the paid period, then not.
    Canceled,
}

impl SubscriptionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            SubscriptionStatus::None => "none",
            SubscriptionStatus::Active => "active",
            SubscriptionStatus::PastDue => "past_due",
            SubscriptionStatus::Canceled => "canceled",
        }
    }
}

impl FromStr for SubscriptionStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "none" => Ok(SubscriptionStatus::None),
            "active" => Ok(SubscriptionStatus::Active),
            "past_due" => Ok(SubscriptionStatus::PastDue),
            "canceled" => Ok(SubscriptionStatus::Canceled),
            _ => Err(format!(
                "unknown subscription status {s:?}; expected active, past_due or canceled"
            )),
        }
    }
}

/// A subscription: status and the end of the current paid period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Subscription {
    pub status: SubscriptionStatus,
    pub period_end: Option<DateTime<Utc>>,
}

impl Subscription {
    pub const NONE: Subscription = Subscription {
        status: SubscriptionStatus::None,
        period_end: None,
    };

    /// Whether the subscription entitles the license to run at `now`.
    pub fn is_valid(&self, now: DateTime<Utc>) -> bool {
        match self.status {
            SubscriptionStatus::None | SubscriptionStatus::Active => true,
            SubscriptionStatus::PastDue => false,
            SubscriptionStatus::Canceled => self.period_end.is_some_and(|end| now < end),
        }
    }
}

/// Everything about a license, other than its state, that the rules look at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facts {
    pub not_before: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// The fingerprint the license is bound (or pre-bound by a rebind) to.
    pub bound_fingerprint: Option<String>,
    /// Last heartbeat, or activation, whichever is later.
    pub last_seen: Option<DateTime<Utc>>,
    pub grace: Duration,
    pub subscription: Subscription,
    pub suspend_reason: Option<SuspendReason>,
}

/// The current state with its suspension reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Status {
    pub state: LicenseState,
    pub suspend_reason: Option<SuspendReason>,
}

impl Status {
    pub fn new(state: LicenseState, suspend_reason: Option<SuspendReason>) -> Self {
        Status {
            state,
            suspend_reason: if state == LicenseState::Suspended {
                suspend_reason
            } else {
                None
            },
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// An appliance activates from this fingerprint.
    Activate {
        fingerprint: String,
    },
    /// An activated appliance reports in.
    Heartbeat {
        fingerprint: String,
    },
    /// The sweep (or any look at the license) applies what time alone changes.
    Sweep,
    /// Staff changed the subscription: what the new status means applies at once
    /// (the same rules as a sweep, recorded as its own cause).
    SubscriptionChanged,
    Suspend,
    Reinstate,
    Revoke,
    /// Move the license to new hardware.
    Rebind {
        fingerprint: String,
    },
    /// The bound appliance gave the license up (offline deactivation): it is free for
    /// another box to activate.
    Release {
        fingerprint: String,
    },
}

impl Event {
    pub fn name(&self) -> &'static str {
        match self {
            Event::Activate { .. } => "activate",
            Event::Heartbeat { .. } => "heartbeat",
            Event::Sweep => "sweep",
            Event::SubscriptionChanged => "subscription",
            Event::Suspend => "suspend",
            Event::Reinstate => "reinstate",
            Event::Revoke => "revoke",
            Event::Rebind { .. } => "rebind",
            Event::Release { .. } => "release",
        }
    }
}

/// Why an event is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    Revoked,
    Expired,
    NotYetValid,
    Suspended,
    /// The license is bound to another fingerprint.
    BoundElsewhere,
    /// A heartbeat for a license that was never activated.
    NotActivated,
    /// Reinstating while the subscription is still not valid.
    SubscriptionInvalid,
    /// A rebind to the fingerprint the license is already bound to: nothing would move,
    /// and the bound box must not be told it moved.
    AlreadyBound(String),
}

/// The result of an accepted event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub status: Status,
    pub bound_fingerprint: Option<String>,
    /// The appliance must lock (revoked, expired, suspended).
    pub lock: bool,
}

/// What time alone does to a license (expiry, lapsed grace, subscription changes).
pub fn settle(status: Status, facts: &Facts, now: DateTime<Utc>) -> Status {
    use LicenseState::*;
    if status.state.is_final() {
        return status;
    }
    if now >= facts.expires_at {
        return Status::new(Expired, None);
    }
    let valid = facts.subscription.is_valid(now);
    let mut st = status;
    if !valid && matches!(st.state, Issued | Active | Locked) {
        return Status::new(Suspended, Some(SuspendReason::Subscription));
    }
    if st.state == Suspended && st.suspend_reason == Some(SuspendReason::Subscription) && valid {
        st = Status::new(
            if facts.last_seen.is_some() {
                Active
            } else {
                Issued
            },
            None,
        );
    }
    if st.state == Active && facts.last_seen.is_none_or(|seen| now - seen > facts.grace) {
        st = Status::new(Locked, None);
    }
    st
}

/// The first moment after `now` at which `settle` may answer otherwise: the expiry, a
/// canceled subscription's period ending, or an active license's grace lapsing. `None`
/// when time alone changes nothing more (a final state, or none of those ahead).
pub fn next_settle(status: Status, facts: &Facts, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    if status.state.is_final() {
        return None;
    }
    let period_end = match facts.subscription.status {
        SubscriptionStatus::Canceled => facts.subscription.period_end,
        _ => None,
    };
    let grace_end = match status.state {
        LicenseState::Active => facts
            .last_seen
            .and_then(|seen| seen.checked_add_signed(facts.grace)),
        _ => None,
    };
    [Some(facts.expires_at), period_end, grace_end]
        .into_iter()
        .flatten()
        .filter(|t| *t > now)
        .min()
}

fn locks(state: LicenseState) -> bool {
    matches!(
        state,
        LicenseState::Revoked | LicenseState::Expired | LicenseState::Suspended
    )
}

/// Applies `event` to a license. Time-driven changes are applied first, so the answer
/// never depends on whether a sweep ran.
pub fn apply(
    status: Status,
    event: &Event,
    facts: &Facts,
    now: DateTime<Utc>,
) -> Result<Outcome, Refusal> {
    use LicenseState::*;
    let st = settle(status, facts, now);
    let bound = facts.bound_fingerprint.clone();
    let keep = |st: Status| Outcome {
        status: st,
        bound_fingerprint: bound.clone(),
        lock: locks(st.state),
    };
    match event {
        Event::Sweep | Event::SubscriptionChanged => Ok(keep(st)),
        Event::Activate { fingerprint } => match st.state {
            Revoked => Err(Refusal::Revoked),
            Expired => Err(Refusal::Expired),
            _ if now < facts.not_before => Err(Refusal::NotYetValid),
            Suspended => Err(Refusal::Suspended),
            _ if bound.as_ref().is_some_and(|b| b != fingerprint) => Err(Refusal::BoundElsewhere),
            Issued | Active | Locked => Ok(Outcome {
                status: Status::new(Active, None),
                bound_fingerprint: Some(fingerprint.clone()),
                lock: false,
            }),
        },
        Event::Heartbeat { fingerprint } => {
            if bound.as_ref().is_some_and(|b| b != fingerprint) && !st.state.is_final() {
                return Err(Refusal::BoundElsewhere);
            }
            match st.state {
                Revoked | Expired | Suspended => Ok(keep(st)),
                Issued => Err(Refusal::NotActivated),
                Active | Locked => Ok(keep(Status::new(Active, None))),
            }
        }
        Event::Suspend => match st.state {
            Revoked => Err(Refusal::Revoked),
            Expired => Err(Refusal::Expired),
            Suspended => Ok(keep(Status::new(Suspended, Some(SuspendReason::Staff)))),
            Issued | Active | Locked => {
                Ok(keep(Status::new(Suspended, Some(SuspendReason::Staff))))
            }
        },
        Event::Reinstate => match st.state {
            Revoked => Err(Refusal::Revoked),
            Expired => Err(Refusal::Expired),
            Suspended if !facts.subscription.is_valid(now) => Err(Refusal::SubscriptionInvalid),
            Suspended => {
                let back = Status::new(
                    if facts.last_seen.is_some() {
                        Active
                    } else {
                        Issued
                    },
                    None,
                );
                // Reinstating does not forgive a lapsed grace window.
                Ok(keep(settle(back, facts, now)))
            }
            Issued | Active | Locked => Ok(keep(st)),
        },
        Event::Revoke => Ok(Outcome {
            status: Status::new(Revoked, None),
            bound_fingerprint: bound,
            lock: true,
        }),
        Event::Rebind { fingerprint } => match st.state {
            Revoked => Err(Refusal::Revoked),
            Expired => Err(Refusal::Expired),
            _ if bound.as_ref() == Some(fingerprint) => {
                Err(Refusal::AlreadyBound(fingerprint.clone()))
            }
            Suspended => Ok(Outcome {
                status: st,
                bound_fingerprint: Some(fingerprint.clone()),
                lock: true,
            }),
            Issued | Active | Locked => Ok(Outcome {
                status: Status::new(Issued, None),
                bound_fingerprint: Some(fingerprint.clone()),
                lock: false,
            }),
        },
        // Only the box the license is bound to can give it up; a final license stays
        // as it is (the proof is still recorded), a suspended one stays suspended.
        Event::Release { fingerprint } => match st.state {
            Revoked | Expired => Ok(keep(st)),
            _ if bound.as_ref() != Some(fingerprint) => Err(Refusal::BoundElsewhere),
            Suspended => Ok(Outcome {
                status: st,
                bound_fingerprint: None,
                lock: true,
            }),
            Issued | Active | Locked => Ok(Outcome {
                status: Status::new(Issued, None),
                bound_fingerprint: None,
                lock: false,
            }),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::LicenseState::*;
    use super::*;

    fn t0() -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).unwrap()
    }

    fn facts() -> Facts {
        Facts {
            not_before: t0() - Duration::days(1),
            expires_at: t0() + Duration::days(365),
            bound_fingerprint: Some("fp-a".into()),
            last_seen: Some(t0() - Duration::hours(1)),
            grace: Duration::days(14),
            subscription: Subscription::NONE,
            suspend_reason: None,
        }
    }

    fn st(s: LicenseState) -> Status {
        Status::new(
            s,
            if s == Suspended {
                Some(SuspendReason::Staff)
            } else {
                None
            },
        )
    }

    fn events() -> Vec<Event> {
        vec![
            Event::Activate {
                fingerprint: "fp-a".into(),
            },
            Event::Activate {
                fingerprint: "fp-b".into(),
            },
            Event::Heartbeat {
                fingerprint: "fp-a".into(),
            },
            Event::Heartbeat {
                fingerprint: "fp-b".into(),
            },
            Event::Sweep,
            Event::Suspend,
            Event::Reinstate,
            Event::Revoke,
            Event::Rebind {
                fingerprint: "fp-c".into(),
            },
            Event::Release {
                fingerprint: "fp-a".into(),
            },
            Event::Release {
                fingerprint: "fp-b".into(),
            },
        ]
    }

    /// The license ends in `state`, bound to nobody.
    fn freed(state: LicenseState, lock: bool) -> Expect {
        Ok(Outcome {
            status: st(state),
            bound_fingerprint: None,
            lock,
        })
    }

    type Expect = Result<Outcome, Refusal>;

    /// The appliance may run: the license ends in `state`, bound to `fp`.
    fn runs(state: LicenseState, fp: &str) -> Expect {
        Ok(Outcome {
            status: st(state),
            bound_fingerprint: Some(fp.into()),
            lock: false,
        })
    }

    /// The appliance must lock: the license ends in `state`, bound to `fp`.
    fn stops(state: LicenseState, fp: &str) -> Expect {
        Ok(Outcome {
            status: st(state),
            bound_fingerprint: Some(fp.into()),
            lock: true,
        })
    }

    /// Every state x every event, with a license bound to fp-a, seen an hour ago: the
    /// whole outcome (state with its suspension reason, lock, binding) or the refusal.
    #[test]
    fn every_state_by_every_event() {
        use Refusal as R;
        let a = "fp-a";
        #[rustfmt::skip]
        let table: Vec<(LicenseState, [Expect; 11])> = vec![
            //           act fp-a                act fp-b               hb fp-a                  hb fp-b                sweep                    suspend                  reinstate             revoke                 rebind fp-c               release fp-a             release fp-b
            (Issued,    [runs(Active, a),        Err(R::BoundElsewhere), Err(R::NotActivated),    Err(R::BoundElsewhere), runs(Issued, a),         stops(Suspended, a),     runs(Issued, a),      stops(Revoked, a),     runs(Issued, "fp-c"),     freed(Issued, false),    Err(R::BoundElsewhere)]),
            (Active,    [runs(Active, a),        Err(R::BoundElsewhere), runs(Active, a),         Err(R::BoundElsewhere), runs(Active, a),         stops(Suspended, a),     runs(Active, a),      stops(Revoked, a),     runs(Issued, "fp-c"),     freed(Issued, false),    Err(R::BoundElsewhere)]),
            (Locked,    [runs(Active, a),        Err(R::BoundElsewhere), runs(Active, a),         Err(R::BoundElsewhere), runs(Locked, a),         stops(Suspended, a),     runs(Locked, a),      stops(Revoked, a),     runs(Issued, "fp-c"),     freed(Issued, false),    Err(R::BoundElsewhere)]),
            (Suspended, [Err(R::Suspended),      Err(R::Suspended),      stops(Suspended, a),     Err(R::BoundElsewhere), stops(Suspended, a),     stops(Suspended, a),     runs(Active, a),      stops(Revoked, a),     stops(Suspended, "fp-c"), freed(Suspended, true),  Err(R::BoundElsewhere)]),
            (Revoked,   [Err(R::Revoked),        Err(R::Revoked),        stops(Revoked, a),       stops(Revoked, a),      stops(Revoked, a),       Err(R::Revoked),         Err(R::Revoked),      stops(Revoked, a),     Err(R::Revoked),          stops(Revoked, a),       stops(Revoked, a)]),
            (Expired,   [Err(R::Expired),        Err(R::Expired),        stops(Expired, a),       stops(Expired, a),      stops(Expired, a),       Err(R::Expired),         Err(R::Expired),      stops(Revoked, a),     Err(R::Expired),          stops(Expired, a),       stops(Expired, a)]),
        ];
        assert_eq!(table.len(), LicenseState::ALL.len());
        for (state, expected) in table {
            for (event, want) in events().iter().zip(expected) {
                let got = apply(st(state), event, &facts(), t0());
                assert_eq!(got, want, "{state} + {event:?}");
            }
        }
    }

    #[test]
    fn time_expires_locks_and_follows_the_subscription() {
        let f = facts();
        let at = |d: i64| t0() + Duration::days(d);
        // Expiry beats everything that is not final.
        assert_eq!(settle(st(Active), &f, at(365)).state, Expired);
        assert_eq!(settle(st(Revoked), &f, at(365)).state, Revoked);
        // Grace: 14 days after the last heartbeat is still fine, a moment later is not.
        assert_eq!(
            settle(st(Active), &f, f.last_seen.unwrap() + Duration::days(14)).state,
            Active
        );
        assert_eq!(
            settle(
                st(Active),
                &f,
                f.last_seen.unwrap() + Duration::days(14) + Duration::seconds(1)
            )
            .state,
            Locked
        );
        // A past-due subscription suspends; restoring it reactivates.
        let mut past_due = f.clone();
        past_due.subscription = Subscription {
            status: SubscriptionStatus::PastDue,
            period_end: None,
        };
        let s = settle(st(Active), &past_due, t0());
        assert_eq!(s, Status::new(Suspended, Some(SuspendReason::Subscription)));
        assert_eq!(settle(s, &f, t0()).state, Active);
        // ... but a staff suspension stays until reinstated.
        assert_eq!(settle(st(Suspended), &f, t0()).state, Suspended);
        // Canceled runs to the end of the paid period.
        let mut canceled = f.clone();
        canceled.subscription = Subscription {
            status: SubscriptionStatus::Canceled,
            period_end: Some(at(10)),
        };
        assert_eq!(settle(st(Active), &canceled, at(9)).state, Active);
        assert_eq!(settle(st(Active), &canceled, at(10)).state, Suspended);
        // Reinstate is refused while the subscription is not valid.
        assert_eq!(
            apply(st(Suspended), &Event::Reinstate, &past_due, t0()),
            Err(Refusal::SubscriptionInvalid)
        );
    }

    #[test]
    fn rebinding_to_the_bound_fingerprint_is_refused_in_every_live_state() {
        let e = Event::Rebind {
            fingerprint: "fp-a".into(),
        };
        for s in [Issued, Active, Locked, Suspended] {
            assert_eq!(
                apply(st(s), &e, &facts(), t0()),
                Err(Refusal::AlreadyBound("fp-a".into())),
                "{s}"
            );
        }
        assert_eq!(
            apply(st(Revoked), &e, &facts(), t0()),
            Err(Refusal::Revoked)
        );
    }

    #[test]
    fn activation_before_not_before_is_refused() {
        let mut f = facts();
        f.not_before = t0() + Duration::days(1);
        f.bound_fingerprint = None;
        let e = Event::Activate {
            fingerprint: "fp-a".into(),
        };
        assert_eq!(apply(st(Issued), &e, &f, t0()), Err(Refusal::NotYetValid));
    }

    #[test]
    fn a_subscription_change_follows_the_sweep_rules_under_its_own_name() {
        let mut f = facts();
        f.subscription = Subscription {
            status: SubscriptionStatus::PastDue,
            period_end: None,
        };
        for s in LicenseState::ALL {
            assert_eq!(
                apply(st(s), &Event::SubscriptionChanged, &f, t0()),
                apply(st(s), &Event::Sweep, &f, t0()),
                "{s}"
            );
        }
        assert_eq!(Event::SubscriptionChanged.name(), "subscription");
    }

    #[test]
    fn leases_lock_exactly_when_the_appliance_must_stop() {
        let hb = Event::Heartbeat {
            fingerprint: "fp-a".into(),
        };
        for s in LicenseState::ALL {
            if let Ok(o) = apply(st(s), &hb, &facts(), t0()) {
                assert_eq!(o.lock, matches!(s, Suspended | Revoked | Expired), "{s}");
            }
        }
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        fn any_state() -> impl Strategy<Value = LicenseState> {
            prop::sample::select(LicenseState::ALL.to_vec())
        }

        fn any_facts() -> impl Strategy<Value = (Facts, DateTime<Utc>)> {
            (
                0i64..400,
                0i64..40,
                prop::option::of(0i64..40),
                0u8..4,
                prop::bool::ANY,
            )
                .prop_map(|(now_days, exp_days, seen_days_ago, sub, bound)| {
                    let now = t0() + Duration::days(now_days);
                    let f = Facts {
                        not_before: t0(),
                        expires_at: t0() + Duration::days(300 + exp_days),
                        bound_fingerprint: bound.then(|| "fp-a".to_owned()),
                        last_seen: seen_days_ago.map(|d| now - Duration::days(d)),
                        grace: Duration::days(14),
                        subscription: Subscription {
                            status: [
                                SubscriptionStatus::None,
                                SubscriptionStatus::Active,
                                SubscriptionStatus::PastDue,
                                SubscriptionStatus::Canceled,
                            ][sub as usize],
                            period_end: Some(t0() + Duration::days(200)),
                        },
                        suspend_reason: None,
                    };
                    (f, now)
                })
        }

        proptest! {
            /// A sweep at the same instant changes nothing the second time.
            #[test]
            fn sweep_is_idempotent(state in any_state(), (facts, now) in any_facts()) {
                let once = apply(st(state), &Event::Sweep, &facts, now).unwrap();
                let twice = apply(once.status, &Event::Sweep, &facts, now).unwrap();
                prop_assert_eq!(once, twice);
            }

            /// Replayed heartbeats change nothing: a heartbeat delivered twice (a retry,
            /// a replayed request) answers the second time exactly as the first (state,
            /// lock, binding, or the same refusal), and the whole series replayed from
            /// where it ended leaves the license there.
            #[test]
            fn replayed_heartbeats_give_the_same_state(
                state in any_state(),
                (facts, now) in any_facts(),
                fps in prop::collection::vec(prop::sample::select(vec!["fp-a", "fp-b"]), 1..8),
            ) {
                let heartbeat = |s: Status, fp: &str| {
                    apply(s, &Event::Heartbeat { fingerprint: fp.to_owned() }, &facts, now)
                };
                let run = |mut s: Status| {
                    for fp in &fps {
                        let first = heartbeat(s, fp);
                        if let Ok(o) = &first {
                            s = o.status;
                        }
                        let again = heartbeat(s, fp);
                        prop_assert_eq!(&again, &first, "{} delivered twice", fp);
                    }
                    Ok(s)
                };
                let end = run(st(state))?;
                prop_assert_eq!(run(end)?, end);
            }

            /// Final states stay final.
            #[test]
            fn final_states_never_leave(state in prop::sample::select(vec![Revoked, Expired]), (facts, now) in any_facts()) {
                for e in events() {
                    if let Ok(o) = apply(st(state), &e, &facts, now) {
                        prop_assert!(o.status.state.is_final(), "{:?} left {}", e, state);
                    }
                }
            }
        }
    }

    /// `settle` answers the same at every moment from `now` until `next_settle`, and
    /// otherwise right after it, for each state and each thing time changes.
    #[test]
    fn settle_holds_until_next_settle() {
        let canceled = |days: i64| Subscription {
            status: SubscriptionStatus::Canceled,
            period_end: Some(t0() + Duration::days(days)),
        };
        let cases = [
            (st(Active), facts()),
            (st(Issued), facts()),
            (st(Locked), facts()),
            (
                st(Active),
                Facts {
                    subscription: canceled(30),
                    ..facts()
                },
            ),
            (
                st(Issued),
                Facts {
                    subscription: canceled(30),
                    ..facts()
                },
            ),
            (
                st(Active),
                Facts {
                    expires_at: t0() + Duration::days(3),
                    ..facts()
                },
            ),
            (
                st(Active),
                Facts {
                    last_seen: None,
                    ..facts()
                },
            ),
        ];
        for (i, (status, f)) in cases.into_iter().enumerate() {
            let next = next_settle(status, &f, t0()).expect("something lies ahead");
            let at_now = settle(status, &f, t0());
            let span = next - t0();
            for k in 0..=16 {
                let t = t0() + span * k / 17;
                assert_eq!(settle(status, &f, t), at_now, "case {i}, {k}/17 of the way");
            }
            let after = next + Duration::microseconds(1);
            assert_ne!(
                settle(status, &f, after),
                at_now,
                "case {i}: changes at {next}"
            );
        }
        // Final states never change; nothing ahead once everything is past.
        assert_eq!(next_settle(st(Revoked), &facts(), t0()), None);
        let past = t0() + Duration::days(400);
        assert_eq!(next_settle(st(Issued), &facts(), past), None);
    }
}
