//! licd's range of times. licd stores times as RFC 3339 text and compares them as text,
//! which is right only for four-digit years; so every time that arrives from outside
//! (request bodies, query strings, forms, the command line) is checked to lie between
//! 0000-01-01 and 9999-12-31, and a bad one is refused naming its field; and wherever a
//! stored or user-given duration meets a date, the arithmetic saturates at that range
//! instead of overflowing (`later`, `earlier`).

use super::DomainError;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::Deserialize;

/// What every refusal says about the accepted range.
const RANGE: &str =
    "must be an RFC 3339 time between 0000-01-01T00:00:00Z and 9999-12-31T23:59:59Z";

/// The earliest time licd accepts: 0000-01-01T00:00:00Z.
pub fn earliest() -> DateTime<Utc> {
    NaiveDate::from_ymd_opt(0, 1, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// The latest time licd accepts: the last microsecond of 9999-12-31.
pub fn latest() -> DateTime<Utc> {
    NaiveDate::from_ymd_opt(9999, 12, 31)
        .and_then(|d| d.and_hms_micro_opt(23, 59, 59, 999_999))
        .map(|t| t.and_utc())
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// Checks that a time lies in licd's range; the refusal names `field`.
pub fn check(field: &'static str, t: DateTime<Utc>) -> Result<DateTime<Utc>, DomainError> {
    if t < earliest() || t > latest() {
        return Err(DomainError::invalid(
            field,
            format!("{} is out of range; {RANGE}", t.to_rfc3339()),
        ));
    }
    Ok(t)
}

/// `t + d`, held within licd's range instead of overflowing.
pub fn later(t: DateTime<Utc>, d: Duration) -> DateTime<Utc> {
    match t.checked_add_signed(d) {
        Some(x) => x.clamp(earliest(), latest()),
        None if d > Duration::zero() => latest(),
        None => earliest(),
    }
}

/// `t - d`, held within licd's range instead of overflowing.
pub fn earlier(t: DateTime<Utc>, d: Duration) -> DateTime<Utc> {
    match t.checked_sub_signed(d) {
        Some(x) => x.clamp(earliest(), latest()),
        None if d > Duration::zero() => earliest(),
        None => latest(),
    }
}

/// `n` whole days, for any `u32` a setting or an argument can hold (`Duration::days`
/// would panic past its range; u32::MAX days is far inside what a Duration holds).
pub fn days(n: u32) -> Duration {
    Duration::seconds(i64::from(n) * 86_400)
}

/// Parses an RFC 3339 time and checks its range; the refusal names `field`.
pub fn parse(field: &'static str, s: &str) -> Result<DateTime<Utc>, DomainError> {
    let shown: String = s.chars().take(64).collect();
    // The same parser serde uses for `DateTime`, so every format accepted before still is.
    let t = s
        .trim()
        .parse::<DateTime<Utc>>()
        .map_err(|_| DomainError::invalid(field, format!("{shown:?} {RANGE}")))?;
    check(field, t)
}

/// Which end of a time range a bare date stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DayEnd {
    /// The day's first instant (`from 2026-06-01` includes that day).
    Start,
    /// The next day's first instant (`to 2026-06-01`, an exclusive end, includes that day).
    End,
}

/// Parses an RFC 3339 time, or a date (`YYYY-MM-DD`, what a date input sends) read as
/// UTC and as the `end` of a range; the refusal names `field`.
pub fn parse_time_or_day(
    field: &'static str,
    s: &str,
    end: DayEnd,
) -> Result<DateTime<Utc>, DomainError> {
    let trimmed = s.trim();
    match NaiveDate::parse_from_str(trimmed, "%Y-%m-%d") {
        Ok(d) if trimmed.len() == 10 => {
            let start = d.and_hms_opt(0, 0, 0).map(|t| t.and_utc());
            let t = start.ok_or_else(|| DomainError::invalid(field, RANGE.to_owned()))?;
            check(
                field,
                match end {
                    DayEnd::Start => t,
                    DayEnd::End => later(t, Duration::days(1)),
                },
            )
        }
        _ => parse(field, s).map_err(|_| {
            let shown: String = s.chars().take(64).collect();
            DomainError::invalid(
                field,
                format!("{shown:?} must be a date (YYYY-MM-DD) or an RFC 3339 time"),
            )
        }),
    }
}

/// A time as a request gives it, read as text so that a bad value is refused by
/// `parse` naming its field (a failed deserialisation could not say which field).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct InputTime(String);

impl InputTime {
    pub fn parse(&self, field: &'static str) -> Result<DateTime<Utc>, DomainError> {
        parse(field, &self.0)
    }
}

/// Parses an optional input time.
pub fn parse_opt(
    field: &'static str,
    t: Option<&InputTime>,
) -> Result<Option<DateTime<Utc>>, DomainError> {
    t.map(|t| t.parse(field)).transpose()
}

/// `deserialize_with` helpers for `DateTime` fields of request types that other code
/// builds too (so they stay `DateTime`): a bad value is refused naming the field.
pub mod named {
    use super::{DateTime, Utc, parse};
    use serde::de::Error;
    use serde::{Deserialize, Deserializer};

    fn one<'de, D: Deserializer<'de>>(
        field: &'static str,
        d: D,
    ) -> Result<DateTime<Utc>, D::Error> {
        let s = String::deserialize(d)?;
        parse(field, &s).map_err(D::Error::custom)
    }

    pub fn expires_at<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        one("expires_at", d)
    }

    pub fn not_before_opt<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<DateTime<Utc>>, D::Error> {
        Option::<String>::deserialize(d)?
            .map(|s| parse("not_before", &s).map_err(D::Error::custom))
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic_saturates_at_the_range() {
        let now = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        assert_eq!(later(now, days(u32::MAX)), latest());
        assert_eq!(earlier(now, days(u32::MAX)), earliest());
        assert_eq!(later(now, Duration::MAX), latest());
        assert_eq!(earlier(now, Duration::MAX), earliest());
        assert_eq!(later(now, Duration::MIN), earliest());
        assert_eq!(later(now, days(1)), now + Duration::days(1));
        assert_eq!(earlier(now, days(1)), now - Duration::days(1));
    }

    #[test]
    fn the_four_digit_years_are_accepted() {
        for ok in [
            "0000-01-01T00:00:00Z",
            "1970-01-01T00:00:00Z",
            "2026-06-01T09:00:00+02:00",
            "9999-12-31T23:59:59.999999Z",
        ] {
            assert!(parse("t", ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn a_day_stands_for_its_start_or_the_next_days_start() {
        let at = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        let day = "2026-06-01";
        assert_eq!(
            parse_time_or_day("from", day, DayEnd::Start).unwrap(),
            at("2026-06-01T00:00:00Z")
        );
        assert_eq!(
            parse_time_or_day("to", day, DayEnd::End).unwrap(),
            at("2026-06-02T00:00:00Z")
        );
        assert_eq!(
            parse_time_or_day("to", "2026-06-01T10:00:00+02:00", DayEnd::End).unwrap(),
            at("2026-06-01T08:00:00Z")
        );
        let e = parse_time_or_day("from", "yesterday", DayEnd::Start)
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("from: "), "{e}");
        assert!(parse_time_or_day("to", "9999-12-31", DayEnd::End).is_ok());
    }

    #[test]
    fn other_years_and_junk_are_refused_naming_the_field() {
        for bad in [
            "+10000-01-01T00:00:00Z",
            "10000-01-01T00:00:00Z",
            "-0001-12-31T00:00:00Z",
            "+262143-01-01T00:00:00Z",
            "+999999999-01-01T00:00:00Z",
            "9999-12-31T23:59:59-01:00",
            "2026-13-01T00:00:00Z",
            "tomorrow",
            "",
        ] {
            let e = parse("expires_at", bad).unwrap_err().to_string();
            assert!(e.starts_with("expires_at: "), "{bad}: {e}");
        }
        assert!(check("t", DateTime::<Utc>::MAX_UTC).is_err());
        assert!(check("t", DateTime::<Utc>::MIN_UTC).is_err());
    }
}
