//! When an organization is told about its licenses (issue 14, seed 000 "License
//! violation notifications"): a license expiring in 30 days and in 7 days, a license
//! that expired, and an installation entering a violation stage. Pure: `now` is a
//! parameter. Each notice is one event with its own key, so it is written at most once
//! (`outbox.dedupe_key`) however often the sweep looks.

use super::violation::Stage;
use chrono::{DateTime, Duration, Utc};

/// Days before its expiry an organization hears about a license, longest first.
pub const EXPIRY_NOTICE_DAYS: [i64; 2] = [30, 7];

/// How long after its expiry a license's "expired" notice may still go out (a sweep
/// that ran late, a tenant that opened after a while). Older expiries are not announced
/// (after an upgrade, say: nobody wants news of last year).
pub const EXPIRED_NOTICE_DAYS: i64 = 7;

/// A notice about one license's expiry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpiryNotice {
    /// It expires within this many days (one of `EXPIRY_NOTICE_DAYS`).
    Within(i64),
    /// It has expired.
    Expired,
}

impl ExpiryNotice {
    /// The notice's part of its event key (`expiring-30`, `expiring-7`, `expired`).
    pub fn key(self) -> String {
        match self {
            ExpiryNotice::Within(days) => format!("expiring-{days}"),
            ExpiryNotice::Expired => "expired".to_owned(),
        }
    }
}

/// The expiry notice due at `now` for a license issued at `issued_at` that expires at
/// `expires_at`, if any: `Expired` from its expiry for `EXPIRED_NOTICE_DAYS`; before it,
/// the shortest window of `EXPIRY_NOTICE_DAYS` it is in, unless the license was issued
/// inside that window already (its expiry was known when it was issued; the issue
/// notice said so). One that was missed (a license first seen inside the 7-day window)
/// is not sent late: only the window it is in counts.
pub fn expiry_notice(
    issued_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Option<ExpiryNotice> {
    if expires_at <= now {
        return (now - expires_at < Duration::days(EXPIRED_NOTICE_DAYS))
            .then_some(ExpiryNotice::Expired);
    }
    let days = EXPIRY_NOTICE_DAYS
        .into_iter()
        .filter(|d| expires_at - now <= Duration::days(*d))
        .min()?;
    (issued_at <= expires_at - Duration::days(days)).then_some(ExpiryNotice::Within(days))
}

/// Whether an installation entering `stage` is news for the organizations whose
/// licenses cover it: the three violation stages (the expiry warning before them is
/// covered by the expiry notices).
pub fn stage_is_notified(stage: Stage) -> bool {
    matches!(
        stage,
        Stage::AdminWarning | Stage::UsersWarning | Stage::ReadOnly
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn notices_by_time_left() {
        let issued = t("2026-01-01T00:00:00Z");
        let exp = t("2026-12-31T00:00:00Z");
        let at =
            |days_left: i64, hours: i64| exp - Duration::days(days_left) + Duration::hours(hours);
        let cases = [
            (at(31, 0), None),
            (at(30, -1), None),
            (at(30, 0), Some(ExpiryNotice::Within(30))),
            (at(30, 1), Some(ExpiryNotice::Within(30))),
            (at(8, 0), Some(ExpiryNotice::Within(30))),
            (at(7, 0), Some(ExpiryNotice::Within(7))),
            (at(0, -1), Some(ExpiryNotice::Within(7))),
            (exp, Some(ExpiryNotice::Expired)),
            (exp + Duration::days(6), Some(ExpiryNotice::Expired)),
            (exp + Duration::days(7), None),
        ];
        for (now, want) in cases {
            assert_eq!(expiry_notice(issued, exp, now), want, "at {now}");
        }
    }

    #[test]
    fn a_license_issued_inside_a_window_skips_that_window() {
        let exp = t("2026-12-31T00:00:00Z");
        let issued = exp - Duration::days(20);
        assert_eq!(expiry_notice(issued, exp, issued), None);
        let week = exp - Duration::days(7);
        assert_eq!(
            expiry_notice(issued, exp, week),
            Some(ExpiryNotice::Within(7))
        );
        let short = exp - Duration::days(3);
        assert_eq!(expiry_notice(short, exp, short), None);
        assert_eq!(expiry_notice(short, exp, exp), Some(ExpiryNotice::Expired));
    }

    #[test]
    fn keys_and_stages() {
        assert_eq!(ExpiryNotice::Within(30).key(), "expiring-30");
        assert_eq!(ExpiryNotice::Within(7).key(), "expiring-7");
        assert_eq!(ExpiryNotice::Expired.key(), "expired");
        let notified: Vec<Stage> = Stage::ALL
            .into_iter()
            .filter(|s| stage_is_notified(*s))
            .collect();
        assert_eq!(
            notified,
            [Stage::AdminWarning, Stage::UsersWarning, Stage::ReadOnly]
        );
    }
}
