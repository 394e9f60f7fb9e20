//! How licd forecasts a user count (seed 000: "how we forecast the number of users"):
//! a least-squares straight line through the daily counts of the last 90 days, projected
//! 12 months ahead, one point a month, never below today's count and never negative.
//! With fewer than 2 distinct days of history the forecast stays flat at today's count
//! (docs/billing.md).

use chrono::{Months, NaiveDate};

/// Days of history the fit looks at, today included.
pub const WINDOW_DAYS: i64 = 90;
/// Months projected ahead.
pub const HORIZON_MONTHS: u32 = 12;

/// One projected month.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct ForecastPoint {
    pub date: NaiveDate,
    pub count: i64,
}

/// The forecast of one count.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct Forecast {
    /// The latest count on or before today (0 without history).
    pub today_count: i64,
    /// The fitted trend in users per day; `None` when the forecast is flat for lack of
    /// history.
    pub per_day: Option<f64>,
    /// `HORIZON_MONTHS` points, one month apart, the first one month after today.
    pub points: Vec<ForecastPoint>,
}

/// Forecasts a count from its history `(day, count)` (any order; several counts on one
/// day count as that day's highest; days after `today` are ignored).
pub fn forecast(history: &[(NaiveDate, i64)], today: NaiveDate) -> Forecast {
    let mut daily: std::collections::BTreeMap<NaiveDate, i64> = Default::default();
    for &(day, count) in history.iter().filter(|(day, _)| *day <= today) {
        let c = count.max(0);
        daily
            .entry(day)
            .and_modify(|e| *e = (*e).max(c))
            .or_insert(c);
    }
    let today_count = daily.values().next_back().copied().unwrap_or(0);
    let window_start = today - chrono::Duration::days(WINDOW_DAYS - 1);
    let points: Vec<(f64, f64)> = daily
        .range(window_start..)
        .map(|(day, c)| ((*day - today).num_days() as f64, *c as f64))
        .collect();
    let fit = fit_line(&points);
    let projected = (1..=HORIZON_MONTHS)
        .map(|m| {
            let date = today
                .checked_add_months(Months::new(m))
                .unwrap_or(NaiveDate::MAX);
            let count = match fit {
                Some(line) => {
                    let x = (date - today).num_days() as f64;
                    let y = line.at(x).round();
                    // Saturating float-to-int conversion, then the floors.
                    (y as i64).max(today_count).max(0)
                }
                None => today_count,
            };
            ForecastPoint { date, count }
        })
        .collect();
    Forecast {
        today_count,
        per_day: fit.map(|l| l.slope),
        points: projected,
    }
}

#[derive(Debug, Clone, Copy)]
struct Line {
    mean_x: f64,
    mean_y: f64,
    slope: f64,
}

impl Line {
    fn at(&self, x: f64) -> f64 {
        self.mean_y + self.slope * (x - self.mean_x)
    }
}

/// Ordinary least squares; `None` with fewer than 2 distinct x.
fn fit_line(points: &[(f64, f64)]) -> Option<Line> {
    if points.len() < 2 {
        return None;
    }
    let n = points.len() as f64;
    let mean_x = points.iter().map(|p| p.0).sum::<f64>() / n;
    let mean_y = points.iter().map(|p| p.1).sum::<f64>() / n;
    let sxx: f64 = points.iter().map(|p| (p.0 - mean_x).powi(2)).sum();
    if sxx == 0.0 {
        return None;
    }
    let sxy: f64 = points.iter().map(|p| (p.0 - mean_x) * (p.1 - mean_y)).sum();
    Some(Line {
        mean_x,
        mean_y,
        slope: sxy / sxx,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn counts(f: &Forecast) -> Vec<i64> {
        f.points.iter().map(|p| p.count).collect()
    }

    fn days_back(today: NaiveDate, n: i64) -> NaiveDate {
        today - chrono::Duration::days(n)
    }

    #[test]
    fn flat_history_stays_flat() {
        let today = d(2026, 4, 1);
        let h: Vec<_> = (0..90).map(|k| (days_back(today, k), 42)).collect();
        let f = forecast(&h, today);
        assert_eq!(f.today_count, 42);
        assert_eq!(f.per_day, Some(0.0));
        assert_eq!(counts(&f), vec![42; 12]);
        assert_eq!(f.points[0].date, d(2026, 5, 1));
        assert_eq!(f.points[11].date, d(2027, 4, 1));
    }

    #[test]
    fn growing_history_is_projected() {
        // docs/billing.md "The forecast rule": one more user a day for 90 days, 189 today.
        let today = d(2026, 4, 1);
        let h: Vec<_> = (0..90).map(|k| (days_back(today, k), 189 - k)).collect();
        let f = forecast(&h, today);
        assert_eq!(f.today_count, 189);
        assert!((f.per_day.unwrap() - 1.0).abs() < 1e-9);
        // 1 May is 30 days on, 1 Jun 61, ..., 1 Apr 2027 365.
        assert_eq!(f.points[0].count, 219);
        assert_eq!(f.points[1].count, 250);
        assert_eq!(f.points[11].count, 554);
        // Older history than 90 days does not weigh in.
        let mut with_old = h.clone();
        with_old.push((days_back(today, 200), 5_000));
        assert_eq!(forecast(&with_old, today), f);
    }

    #[test]
    fn shrinking_history_is_floored_at_today() {
        let today = d(2026, 4, 1);
        let h: Vec<_> = (0..90)
            .map(|k| (days_back(today, k), 100 + 2 * k))
            .collect();
        let f = forecast(&h, today);
        assert_eq!(f.today_count, 100);
        assert!(f.per_day.unwrap() < 0.0);
        assert_eq!(counts(&f), vec![100; 12]);
    }

    #[test]
    fn sparse_history_fits_what_there_is() {
        // Two reports 60 days apart: 40 then 100, one user a day.
        let today = d(2026, 4, 1);
        let h = [
            (days_back(today, 60), 40),
            (today, 100),
            (days_back(today, 60), 10),
        ];
        let f = forecast(&h, today);
        assert_eq!(f.today_count, 100);
        assert_eq!(f.points[0].count, 130);
        // The latest report may be older than today: it is still today's count.
        let h = [(days_back(today, 30), 70), (days_back(today, 10), 90)];
        let f = forecast(&h, today);
        assert_eq!(f.today_count, 90);
        assert_eq!(f.points[0].count, 130);
    }

    #[test]
    fn empty_or_single_day_history_is_flat_at_today() {
        let today = d(2026, 4, 1);
        let f = forecast(&[], today);
        assert_eq!((f.today_count, f.per_day), (0, None));
        assert_eq!(counts(&f), vec![0; 12]);
        let f = forecast(&[(today, 7), (today, 9)], today);
        assert_eq!((f.today_count, f.per_day), (9, None));
        assert_eq!(counts(&f), vec![9; 12]);
        // One day inside the window and one long before: still one day to fit.
        let f = forecast(
            &[(days_back(today, 300), 1), (days_back(today, 3), 12)],
            today,
        );
        assert_eq!((f.today_count, f.per_day), (12, None));
        assert_eq!(counts(&f), vec![12; 12]);
        // Reports after today are ignored, negative counts count as 0.
        let f = forecast(&[(d(2026, 5, 1), 500), (today, -3)], today);
        assert_eq!(counts(&f), vec![0; 12]);
    }
}
