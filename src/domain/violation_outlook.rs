//! What an installation's figures mean to an operator: how full each capacity is
//! (`Gauge`: within capacity, near it, over it, or no valid license at all) and which
//! stage comes next, and when (`next_stage`). Pure functions of an `Assessment`.

use super::timestamp;
use super::violation::{Assessment, Condition, Stage, Timeline};
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

/// "Near capacity" starts at this share of it: 90 %, i.e. within 10 % of the limit
/// (22 of 25 is near; 21 of 25 is not).
pub const NEAR_PERCENT: u64 = 90;

/// How full a capacity is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// Within capacity, below `NEAR_PERCENT`.
    Ok,
    /// Within capacity, at or above `NEAR_PERCENT` of it.
    Near,
    /// More users than licensed.
    Over,
    /// No valid license (expired, revoked, suspended, or never any): nothing counts.
    Void,
}

/// One capacity (internal or external users) against its usage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Gauge {
    pub used: u32,
    pub capacity: u32,
    pub level: Level,
    /// The bar's length in tens of percent (0 to 100); full when over or void.
    pub fill: u32,
    /// What the bar says, in words ("70 of 25 internal users: 45 over").
    pub words: String,
}

impl Gauge {
    /// `what` names the users ("internal users"); `valid` is whether any license counts.
    pub fn new(used: u32, capacity: u32, valid: bool, what: &str) -> Gauge {
        let (level, fill, words) = if !valid {
            (
                Level::Void,
                100,
                format!("{used} {what}: no valid license, so none are licensed"),
            )
        } else if used > capacity {
            (
                Level::Over,
                100,
                format!("{used} of {capacity} {what}: {} over", used - capacity),
            )
        } else if capacity > 0 && u64::from(used) * 100 >= u64::from(capacity) * NEAR_PERCENT {
            let fill = (u64::from(used) * 10 / u64::from(capacity)) as u32 * 10;
            (
                Level::Near,
                fill,
                format!("{used} of {capacity} {what}: {} left", capacity - used),
            )
        } else {
            let fill = match capacity {
                0 => 0,
                c => (u64::from(used) * 10 / u64::from(c)) as u32 * 10,
            };
            (Level::Ok, fill, format!("{used} of {capacity} {what}"))
        };
        Gauge {
            used,
            capacity,
            level,
            fill,
            words,
        }
    }
}

/// The stage an installation reaches next if nothing changes, and when.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
pub struct NextStage {
    pub stage: Stage,
    pub at: DateTime<Utc>,
}

/// The next stage and the moment it begins: in a violation, the next step of the
/// clock that started at `violation_since`; otherwise, when capacity ends, first the
/// expiry warning and then (the clock starting when the last license expires) the
/// administrators' warning. `None` when nothing is coming (read-only already, or no
/// license that ends).
pub fn next_stage(a: &Assessment, now: DateTime<Utc>, t: &Timeline) -> Option<NextStage> {
    let steps = |since: DateTime<Utc>| {
        [
            (Stage::AdminWarning, t.admin_warning_after),
            (Stage::UsersWarning, t.users_warning_after),
            (Stage::ReadOnly, t.read_only_after),
        ]
        .map(|(stage, after)| NextStage {
            stage,
            at: timestamp::later(since, after),
        })
    };
    let upcoming = |s: &NextStage| s.at > now;
    match (a.violation_since, a.condition) {
        (Some(since), _) => steps(since).into_iter().find(upcoming),
        (None, Condition::Unlicensed) => None,
        (None, _) => {
            let end = a.capacity_ends_at?;
            let warn = NextStage {
                stage: Stage::ExpirySoon,
                at: timestamp::earlier(end, t.expiry_warning),
            };
            std::iter::once(warn)
                .filter(|_| a.stage == Stage::None)
                .chain(steps(end))
                .find(upcoming)
        }
    }
}

/// Whether the violation clock runs although no warning is shown yet (the stage is
/// still `none`): the page then says so instead of showing `none` beside "over limit".
pub fn in_grace(a: &Assessment) -> bool {
    a.stage == Stage::None && a.violation_since.is_some()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    fn day(n: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).unwrap() + Duration::days(n)
    }

    fn assessment(
        condition: Condition,
        since: Option<i64>,
        stage: Stage,
        ends: Option<i64>,
    ) -> Assessment {
        Assessment {
            condition,
            capacity: Default::default(),
            violation_since: since.map(day),
            stage,
            capacity_drops_at: ends.map(day),
            capacity_ends_at: ends.map(day),
        }
    }

    #[test]
    fn gauges_say_what_the_colour_says() {
        let g = Gauge::new(70, 25, true, "internal users");
        assert_eq!((g.level, g.fill), (Level::Over, 100));
        assert_eq!(g.words, "70 of 25 internal users: 45 over");
        let g = Gauge::new(3, 0, true, "external users");
        assert_eq!(g.level, Level::Over);
        assert_eq!(g.words, "3 of 0 external users: 3 over");
        let g = Gauge::new(23, 25, true, "internal users");
        assert_eq!((g.level, g.fill), (Level::Near, 90));
        assert_eq!(g.words, "23 of 25 internal users: 2 left");
        assert_eq!(Gauge::new(25, 25, true, "u").level, Level::Near);
        assert_eq!(Gauge::new(21, 25, true, "u").level, Level::Ok, "84 %");
        assert_eq!(Gauge::new(9, 10, true, "u").level, Level::Near, "90 %");
        let g = Gauge::new(10, 25, true, "internal users");
        assert_eq!((g.level, g.fill), (Level::Ok, 40));
        assert_eq!(Gauge::new(0, 0, true, "u").level, Level::Ok);
        let g = Gauge::new(3, 0, false, "internal users");
        assert_eq!(g.level, Level::Void);
        assert!(g.words.contains("no valid license"), "{}", g.words);
        assert_eq!(
            Gauge::new(u32::MAX, u32::MAX - 1, true, "u").words,
            format!("{} of {} u: 1 over", u32::MAX, u32::MAX - 1)
        );
    }

    #[test]
    fn the_next_stage_follows_the_clock() {
        let t = Timeline::default();
        let over = assessment(Condition::OverLimit, Some(0), Stage::None, Some(100));
        assert_eq!(
            next_stage(&over, day(3), &t),
            Some(NextStage {
                stage: Stage::AdminWarning,
                at: day(14)
            })
        );
        assert!(in_grace(&over));
        let admin = assessment(
            Condition::OverLimit,
            Some(0),
            Stage::AdminWarning,
            Some(100),
        );
        assert_eq!(
            next_stage(&admin, day(20), &t).map(|n| n.stage),
            Some(Stage::UsersWarning)
        );
        let ro = assessment(Condition::NoValidLicense, Some(0), Stage::ReadOnly, None);
        assert_eq!(next_stage(&ro, day(50), &t), None);

        let fine = assessment(Condition::Compliant, None, Stage::None, Some(30));
        assert!(!in_grace(&fine));
        assert_eq!(
            next_stage(&fine, day(0), &t),
            Some(NextStage {
                stage: Stage::ExpirySoon,
                at: day(16)
            })
        );
        let soon = assessment(Condition::Compliant, None, Stage::ExpirySoon, Some(30));
        assert_eq!(
            next_stage(&soon, day(20), &t),
            Some(NextStage {
                stage: Stage::AdminWarning,
                at: day(44)
            })
        );
        let never = assessment(Condition::Unlicensed, None, Stage::None, None);
        assert_eq!(next_stage(&never, day(0), &t), None);
    }
}
