//! Installations' user counts and the violation timeline (seed 000, "License violation
//! notifications"): when usage exceeds the summed capacity of the valid licenses, or no
//! valid license remains, a clock starts; after two weeks administrators see a warning,
//! after four all users do, after six the installation becomes read-only. Correcting
//! the violation stops and clears the clock.
//!
//! authentik's bugs avoided here: an expired (or revoked, suspended) license's users
//! never count; a license installed on an installation already over its limit starts
//! the clock then; an installation that never had a license is `unlicensed`, not in
//! violation, while one whose licenses were all removed is `no_valid_license` (removing
//! a license never lowers the stage); the assessment is computed from current counts
//! every time, and a heartbeat reuses one (`Reusable`) only until time
//! (`steady_until`) or any of those counts could change it.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use std::str::FromStr;
use utoipa::ToSchema;

/// What a license adds to its installation's capacity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contribution {
    pub internal_users: u32,
    pub external_users: u32,
    pub not_before: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// False for revoked and suspended licenses (expiry is judged from the dates).
    pub in_force: bool,
    /// The next moment time alone may change the license's state, and so whether it is
    /// in force (`lifecycle::next_settle`); `None` when nothing lies ahead.
    pub changes_at: Option<DateTime<Utc>>,
}

impl Contribution {
    pub fn valid_at(&self, t: DateTime<Utc>) -> bool {
        self.in_force && self.not_before <= t && t < self.expires_at
    }
}

/// Active users reported by the installation (disabled and service accounts excluded).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
pub struct Usage {
    pub internal_users: u32,
    pub external_users: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Condition {
    /// No license was ever issued for (or installed on) it.
    Unlicensed,
    Compliant,
    /// Usage exceeds the capacity of the valid licenses.
    OverLimit,
    /// It had licenses, but none is valid now (expired, revoked, suspended, removed).
    NoValidLicense,
}

impl Condition {
    pub const ALL: [Condition; 4] = [
        Condition::Unlicensed,
        Condition::Compliant,
        Condition::OverLimit,
        Condition::NoValidLicense,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Condition::Unlicensed => "unlicensed",
            Condition::Compliant => "compliant",
            Condition::OverLimit => "over_limit",
            Condition::NoValidLicense => "no_valid_license",
        }
    }
}

impl FromStr for Condition {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Condition::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| format!("unknown condition {s:?}"))
    }
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    None,
    /// Capacity drops to zero within the warning window.
    ExpirySoon,
    AdminWarning,
    UsersWarning,
    ReadOnly,
}

impl Stage {
    pub const ALL: [Stage; 5] = [
        Stage::None,
        Stage::ExpirySoon,
        Stage::AdminWarning,
        Stage::UsersWarning,
        Stage::ReadOnly,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Stage::None => "none",
            Stage::ExpirySoon => "expiry_soon",
            Stage::AdminWarning => "admin_warning",
            Stage::UsersWarning => "users_warning",
            Stage::ReadOnly => "read_only",
        }
    }

    /// Who sees a banner: nobody, administrators, or everyone.
    pub fn banner(self) -> Banner {
        match self {
            Stage::None => Banner::None,
            Stage::ExpirySoon | Stage::AdminWarning => Banner::Admins,
            Stage::UsersWarning | Stage::ReadOnly => Banner::Everyone,
        }
    }

    pub fn read_only(self) -> bool {
        self == Stage::ReadOnly
    }
}

impl FromStr for Stage {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Stage::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| format!("unknown stage {s:?}"))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Banner {
    None,
    Admins,
    Everyone,
}

/// The stage durations (licensing settings).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeline {
    pub admin_warning_after: Duration,
    pub users_warning_after: Duration,
    pub read_only_after: Duration,
    /// How long before capacity reaches zero `expiry_soon` shows.
    pub expiry_warning: Duration,
}

impl Default for Timeline {
    fn default() -> Self {
        Timeline {
            admin_warning_after: Duration::days(14),
            users_warning_after: Duration::days(28),
            read_only_after: Duration::days(42),
            expiry_warning: Duration::days(14),
        }
    }
}

/// An installation's situation at one moment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Assessment {
    pub condition: Condition,
    pub capacity: Usage,
    /// When the current violation began; `None` when there is none.
    pub violation_since: Option<DateTime<Utc>>,
    pub stage: Stage,
    /// The next moment the capacity drops (a valid license expires), if any.
    pub capacity_drops_at: Option<DateTime<Utc>>,
    /// The moment capacity reaches zero if nothing is renewed.
    pub capacity_ends_at: Option<DateTime<Utc>>,
}

/// What is remembered of an installation between assessments.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct History {
    /// When the current violation began, as recorded by the last assessment.
    pub violation_since: Option<DateTime<Utc>>,
    /// Whether it ever had a license, even one removed since: then having none is a
    /// violation, not `unlicensed`.
    pub ever_licensed: bool,
}

impl History {
    pub fn since(violation_since: Option<DateTime<Utc>>) -> History {
        History {
            violation_since,
            ever_licensed: false,
        }
    }
}

/// The first moment after `now` at which `assess` may answer otherwise for the same
/// licenses, usage and history: a license becoming valid, expiring, or stopping being in
/// force by time alone; capacity coming within the expiry warning; the violation
/// reaching a later stage. `None`: time alone changes nothing. (A superset of the moments
/// that matter: an earlier answer only costs an assessment.)
pub fn steady_until(
    licenses: &[Contribution],
    a: &Assessment,
    timeline: &Timeline,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let of_licenses = licenses.iter().flat_map(|c| {
        [
            Some(c.not_before),
            Some(c.expires_at),
            c.expires_at.checked_sub_signed(timeline.expiry_warning),
            c.changes_at,
        ]
    });
    let of_stages = a.violation_since.into_iter().flat_map(|since| {
        [
            timeline.admin_warning_after,
            timeline.users_warning_after,
            timeline.read_only_after,
        ]
        .map(|after| since.checked_add_signed(after))
    });
    of_licenses
        .chain(of_stages)
        .flatten()
        .filter(|t| *t > now)
        .min()
}

/// An installation's stage as a heartbeat may reuse it instead of assessing again
/// (tenant schema step 19 keeps it in each license's state row): it holds from `at`
/// until `until` (`steady_until`; `None`: no end) for the usage it was assessed with,
/// as long as nothing it was assessed from changes. The schema forgets it when
/// something does (the installation, a license of it, the licensing settings).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reusable {
    pub at: DateTime<Utc>,
    pub until: Option<DateTime<Utc>>,
    pub stage: Stage,
    /// The installation's usage when assessed.
    pub usage: Option<Usage>,
}

impl Reusable {
    /// Whether `stage` is what an assessment at `now` gives, with `reported` usage
    /// (`None`: the recorded usage stays).
    pub fn holds(&self, now: DateTime<Utc>, reported: Option<Usage>) -> bool {
        self.at <= now
            && self.until.is_none_or(|until| now < until)
            && reported.is_none_or(|u| self.usage == Some(u))
    }
}

/// Assesses an installation at `now` from its licenses, its latest usage, and what was
/// recorded so far.
pub fn assess(
    licenses: &[Contribution],
    usage: Option<Usage>,
    history: History,
    now: DateTime<Utc>,
    timeline: &Timeline,
) -> Assessment {
    let recorded_since = history.violation_since;
    let valid: Vec<&Contribution> = licenses.iter().filter(|c| c.valid_at(now)).collect();
    // Saturating: a thousand licenses of `MAX_USERS` each must not wrap around.
    let capacity = Usage {
        internal_users: valid
            .iter()
            .fold(0u32, |n, c| n.saturating_add(c.internal_users)),
        external_users: valid
            .iter()
            .fold(0u32, |n, c| n.saturating_add(c.external_users)),
    };
    let capacity_drops_at = valid.iter().map(|c| c.expires_at).min();
    let capacity_ends_at = valid.iter().map(|c| c.expires_at).max();
    let used = usage.unwrap_or_default();
    let condition = if licenses.is_empty() && !history.ever_licensed {
        Condition::Unlicensed
    } else if valid.is_empty() {
        Condition::NoValidLicense
    } else if used.internal_users > capacity.internal_users
        || used.external_users > capacity.external_users
    {
        Condition::OverLimit
    } else {
        Condition::Compliant
    };
    let violation_since = match condition {
        Condition::Unlicensed | Condition::Compliant => None,
        Condition::OverLimit => Some(recorded_since.unwrap_or(now)),
        // The moment the last license stopped being valid, when that is known from the
        // dates (expiry); otherwise (revoked, suspended) the moment it was noticed.
        Condition::NoValidLicense => Some(recorded_since.unwrap_or_else(|| {
            licenses
                .iter()
                .filter(|c| c.in_force && c.expires_at <= now)
                .map(|c| c.expires_at)
                .max()
                .unwrap_or(now)
        })),
    };
    let stage = match violation_since {
        Some(since) => {
            let elapsed = now - since;
            if elapsed >= timeline.read_only_after {
                Stage::ReadOnly
            } else if elapsed >= timeline.users_warning_after {
                Stage::UsersWarning
            } else if elapsed >= timeline.admin_warning_after {
                Stage::AdminWarning
            } else {
                Stage::None
            }
        }
        None if capacity_ends_at.is_some_and(|end| end - now <= timeline.expiry_warning) => {
            Stage::ExpirySoon
        }
        None => Stage::None,
    };
    Assessment {
        condition,
        capacity,
        violation_since,
        stage,
        capacity_drops_at,
        capacity_ends_at,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t0() -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).unwrap()
    }

    fn day(n: i64) -> DateTime<Utc> {
        t0() + Duration::days(n)
    }

    fn license(internal: u32, from: i64, to: i64) -> Contribution {
        Contribution {
            internal_users: internal,
            external_users: 0,
            not_before: day(from),
            expires_at: day(to),
            in_force: true,
            changes_at: None,
        }
    }

    fn usage(internal: u32) -> Option<Usage> {
        Some(Usage {
            internal_users: internal,
            external_users: 0,
        })
    }

    #[test]
    fn stored_names_match_the_api_names_and_parse_back() {
        for s in Stage::ALL {
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
            assert_eq!(s.as_str().parse::<Stage>().unwrap(), s);
        }
        for c in Condition::ALL {
            assert_eq!(serde_json::to_value(c).unwrap(), c.as_str());
            assert_eq!(c.as_str().parse::<Condition>().unwrap(), c);
        }
        assert!("read-only".parse::<Stage>().is_err());
        assert!("".parse::<Condition>().is_err());
    }

    const DAYS: [(i64, Stage); 7] = [
        (0, Stage::None),
        (13, Stage::None),
        (14, Stage::AdminWarning),
        (27, Stage::AdminWarning),
        (28, Stage::UsersWarning),
        (41, Stage::UsersWarning),
        (42, Stage::ReadOnly),
    ];

    /// Over the limit from day 0: the stages follow the days; correcting at any stage
    /// returns to none.
    #[test]
    fn over_limit_timeline_and_correction() {
        let tl = Timeline::default();
        let lic = [license(10, -1, 400)];
        for (d, want) in DAYS {
            let a = assess(&lic, usage(11), History::since(Some(day(0))), day(d), &tl);
            assert_eq!(a.condition, Condition::OverLimit, "day {d}");
            assert_eq!(a.stage, want, "day {d}");
            let fixed = assess(&lic, usage(10), History::since(Some(day(0))), day(d), &tl);
            assert_eq!(
                (fixed.stage, fixed.violation_since),
                (Stage::None, None),
                "corrected on day {d}"
            );
        }
    }

    /// The only license expires on day 0: the same timeline, counted from the expiry
    /// itself; renewing at any stage returns to none.
    #[test]
    fn expiry_timeline_and_renewal() {
        let tl = Timeline::default();
        let lic = [license(10, -30, 0)];
        for (d, want) in DAYS {
            let a = assess(&lic, usage(5), History::since(None), day(d), &tl);
            assert_eq!(a.condition, Condition::NoValidLicense, "day {d}");
            assert_eq!(a.violation_since, Some(day(0)), "day {d}");
            assert_eq!(a.stage, want, "day {d}");
            let renewed = [license(10, -30, 0), license(10, d, 400)];
            let r = assess(
                &renewed,
                usage(5),
                History::since(a.violation_since),
                day(d),
                &tl,
            );
            assert_eq!(
                (r.condition, r.stage, r.violation_since),
                (Condition::Compliant, Stage::None, None),
                "renewed on day {d}"
            );
        }
    }

    #[test]
    fn expired_licenses_add_no_users() {
        let tl = Timeline::default();
        let lic = [license(10, -30, 10), license(10, -30, 20)];
        assert_eq!(
            assess(&lic, usage(20), History::since(None), day(5), &tl).condition,
            Condition::Compliant
        );
        let later = assess(&lic, usage(20), History::since(None), day(15), &tl);
        assert_eq!(later.capacity.internal_users, 10);
        assert_eq!(later.condition, Condition::OverLimit);
        assert_eq!(later.violation_since, Some(day(15)));
        // Revoked or suspended licenses add nothing either.
        let mut off = license(100, -1, 400);
        off.in_force = false;
        assert_eq!(
            assess(
                &[off, license(5, -1, 400)],
                usage(6),
                History::since(None),
                day(0),
                &tl
            )
            .condition,
            Condition::OverLimit
        );
    }

    #[test]
    fn a_license_installed_while_over_the_limit_starts_the_clock_then() {
        let tl = Timeline::default();
        // No license for 60 days, 50 users: unlicensed, not in violation.
        let none = assess(&[], usage(50), History::since(None), day(60), &tl);
        assert_eq!(
            (none.condition, none.stage, none.violation_since),
            (Condition::Unlicensed, Stage::None, None)
        );
        // A 10-user license arrives on day 60: the violation starts on day 60.
        let lic = [license(10, 60, 400)];
        let a = assess(
            &lic,
            usage(50),
            History::since(none.violation_since),
            day(60),
            &tl,
        );
        assert_eq!(
            (a.condition, a.stage, a.violation_since),
            (Condition::OverLimit, Stage::None, Some(day(60)))
        );
        assert_eq!(
            assess(
                &lic,
                usage(50),
                History::since(a.violation_since),
                day(73),
                &tl
            )
            .stage,
            Stage::None
        );
        assert_eq!(
            assess(
                &lic,
                usage(50),
                History::since(a.violation_since),
                day(74),
                &tl
            )
            .stage,
            Stage::AdminWarning
        );
    }

    /// Removing every license never lowers the stage: the clock keeps running from the
    /// recorded start (or starts now), and an installation never licensed stays apart.
    #[test]
    fn removing_every_license_is_a_violation_not_unlicensed() {
        let tl = Timeline::default();
        let history = History {
            violation_since: Some(day(0)),
            ever_licensed: true,
        };
        let a = assess(&[], usage(3), history, day(42), &tl);
        assert_eq!(
            (a.condition, a.stage, a.violation_since),
            (Condition::NoValidLicense, Stage::ReadOnly, Some(day(0)))
        );
        let fresh = History {
            violation_since: None,
            ever_licensed: true,
        };
        let b = assess(&[], usage(3), fresh, day(42), &tl);
        assert_eq!(
            (b.condition, b.stage, b.violation_since),
            (Condition::NoValidLicense, Stage::None, Some(day(42)))
        );
        let never = assess(&[], usage(3), History::default(), day(42), &tl);
        assert_eq!(never.condition, Condition::Unlicensed);
    }

    #[test]
    fn summed_capacity_saturates_instead_of_wrapping() {
        let tl = Timeline::default();
        let lic: Vec<Contribution> = (0..430).map(|_| license(10_000_000, -1, 400)).collect();
        let a = assess(&lic, usage(5), History::default(), day(0), &tl);
        assert_eq!(a.capacity.internal_users, u32::MAX);
        assert_eq!(a.condition, Condition::Compliant);
    }

    #[test]
    fn licenses_add_up_and_expiry_soon_warns_before_capacity_ends() {
        let tl = Timeline::default();
        let lic = [license(10, -1, 100), license(15, -1, 50)];
        let a = assess(&lic, usage(25), History::since(None), day(0), &tl);
        assert_eq!(
            (a.condition, a.capacity.internal_users),
            (Condition::Compliant, 25)
        );
        assert_eq!(a.capacity_drops_at, Some(day(50)));
        assert_eq!(a.capacity_ends_at, Some(day(100)));
        assert_eq!(
            assess(&lic, usage(1), History::since(None), day(85), &tl).stage,
            Stage::None
        );
        assert_eq!(
            assess(&lic, usage(1), History::since(None), day(86), &tl).stage,
            Stage::ExpirySoon
        );
        assert_eq!(Stage::ExpirySoon.banner(), Banner::Admins);
        assert!(Stage::ReadOnly.read_only() && Stage::ReadOnly.banner() == Banner::Everyone);
    }

    /// What `assess` records holds from `now` until `steady_until`, and the stage or
    /// condition changes right after, in each kind of situation time moves.
    #[test]
    fn the_assessment_holds_until_steady_until() {
        let tl = Timeline::default();
        let mut lapsing = license(10, -30, 400);
        lapsing.changes_at = Some(day(20));
        let cases: [(&str, Vec<Contribution>, Option<Usage>, History); 6] = [
            (
                "over the limit",
                vec![license(10, -1, 400)],
                usage(11),
                History::since(Some(day(-3))),
            ),
            (
                "capacity ends",
                vec![license(10, -30, 20)],
                usage(5),
                History::since(None),
            ),
            (
                "expired",
                vec![license(10, -30, -2)],
                usage(5),
                History::since(None),
            ),
            (
                "not yet valid",
                vec![license(10, 9, 400)],
                usage(5),
                History::since(None),
            ),
            (
                "within the warning",
                vec![license(10, -30, 5), license(10, -30, 9)],
                usage(15),
                History::since(None),
            ),
            (
                "in force until",
                vec![lapsing.clone(), license(5, -30, 400)],
                usage(5),
                History::since(None),
            ),
        ];
        for (name, lic, used, history) in cases {
            let a = assess(&lic, used, history, day(0), &tl);
            let until = steady_until(&lic, &a, &tl, day(0)).expect("time changes something");
            let recorded = History::since(a.violation_since);
            let at = |t| {
                let b = assess(&lic, used, recorded, t, &tl);
                (b.condition, b.stage, b.violation_since)
            };
            let span = until - day(0);
            for k in 0..=16 {
                assert_eq!(
                    at(day(0) + span * k / 17),
                    (a.condition, a.stage, a.violation_since),
                    "{name}: {k}/17 of the way"
                );
            }
            // The license that lapses changes by its state, which `assess` reads from
            // `in_force`, not from the instant.
            if name != "in force until" {
                assert_ne!(
                    at(until),
                    (a.condition, a.stage, a.violation_since),
                    "{name} at {until}"
                );
            }
        }
        // Nothing ahead: no license, or only expired ones long past their violation's
        // last stage.
        let never = assess(&[], usage(3), History::default(), day(0), &tl);
        assert_eq!(steady_until(&[], &never, &tl, day(0)), None);
        let read_only = [license(10, -100, -60)];
        let a = assess(&read_only, usage(3), History::since(None), day(0), &tl);
        assert_eq!(a.stage, Stage::ReadOnly);
        assert_eq!(steady_until(&read_only, &a, &tl, day(0)), None);
    }

    #[test]
    fn a_reusable_stage_holds_in_its_window_for_its_usage() {
        let r = Reusable {
            at: day(0),
            until: Some(day(5)),
            stage: Stage::None,
            usage: usage(4),
        };
        assert!(r.holds(day(0), None) && r.holds(day(4), usage(4)));
        assert!(!r.holds(day(5), None), "at its end");
        assert!(
            !r.holds(day(-1), None),
            "before it was made (a clock set back)"
        );
        assert!(!r.holds(day(1), usage(5)), "another usage");
        let open = Reusable { until: None, ..r };
        assert!(open.holds(day(10_000), usage(4)));
    }
}
