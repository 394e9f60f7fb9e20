//! An installation's user counts day by day, from its usage reports (which licd records
//! only when a count changes): each day carries the highest count in effect during it,
//! so a day's peak is never lost between two reports. The purchase and upgrade pages
//! chart it and forecast from it (seed 000: "how we forecast the number of users").

use super::violation::Usage;
use chrono::{DateTime, Duration, NaiveDate, Utc};

/// The counts of one day: the highest in effect during it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct DailyUsage {
    pub day: NaiveDate,
    pub internal_users: u32,
    pub external_users: u32,
}

/// The `days` days up to and including `today`, from `reports` (oldest first; the last
/// one before the window included, as the count in effect at its start). Days before
/// the first report are left out.
pub fn daily(reports: &[(DateTime<Utc>, Usage)], today: NaiveDate, days: u32) -> Vec<DailyUsage> {
    let first = today - Duration::days(i64::from(days.max(1)) - 1);
    let mut out = Vec::new();
    let mut i = 0;
    // The count in effect when the day starts.
    let mut current: Option<Usage> = None;
    let mut day = first;
    while day <= today {
        while i < reports.len() && reports[i].0.date_naive() < day {
            current = Some(reports[i].1);
            i += 1;
        }
        let mut peak = current;
        while i < reports.len() && reports[i].0.date_naive() == day {
            let u = reports[i].1;
            peak = Some(match peak {
                Some(p) => Usage {
                    internal_users: p.internal_users.max(u.internal_users),
                    external_users: p.external_users.max(u.external_users),
                },
                None => u,
            });
            current = Some(u);
            i += 1;
        }
        if let Some(p) = peak {
            out.push(DailyUsage {
                day,
                internal_users: p.internal_users,
                external_users: p.external_users,
            });
        }
        day += Duration::days(1);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(d: u32, h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, d, h, 0, 0).unwrap()
    }

    fn u(i: u32, e: u32) -> Usage {
        Usage {
            internal_users: i,
            external_users: e,
        }
    }

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 3, d).unwrap()
    }

    #[test]
    fn counts_carry_forward_and_a_day_keeps_its_peak() {
        let reports = [
            (at(1, 9), u(10, 2)),
            (at(3, 9), u(14, 2)),
            (at(3, 17), u(12, 5)),
        ];
        let got = daily(&reports, day(5), 5);
        let counts: Vec<(u32, u32, u32)> = got
            .iter()
            .map(|d| (d.day.day0() + 1, d.internal_users, d.external_users))
            .collect();
        assert_eq!(
            counts,
            [(1, 10, 2), (2, 10, 2), (3, 14, 5), (4, 12, 5), (5, 12, 5)]
        );
    }

    #[test]
    fn a_report_before_the_window_is_the_count_at_its_start() {
        let got = daily(&[(at(1, 9), u(7, 1))], day(10), 3);
        assert_eq!(got.len(), 3);
        assert_eq!(got[0].day, day(8));
        assert!(got.iter().all(|d| d.internal_users == 7));
    }

    #[test]
    fn nothing_before_the_first_report() {
        assert!(daily(&[], day(10), 30).is_empty());
        let got = daily(&[(at(9, 23), u(3, 0))], day(10), 30);
        assert_eq!(got.len(), 2);
    }

    use chrono::Datelike;
}
