//! Date arithmetic that never panics. Wherever a stored or user-given duration meets a
//! date, the result is kept within the years 0001 to 9999: the range licd stores (as
//! fixed-width text that sorts in time order) and accepts as input.

use chrono::{DateTime, Duration, Utc};

/// The latest moment licd stores: 9999-12-31T23:59:59Z.
pub fn latest() -> DateTime<Utc> {
    DateTime::from_timestamp(253_402_300_799, 0).unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// The earliest moment licd stores: 0001-01-01T00:00:00Z.
pub fn earliest() -> DateTime<Utc> {
    DateTime::from_timestamp(-62_135_596_800, 0).unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// Whether `t` lies in the range licd stores and accepts.
pub fn in_range(t: DateTime<Utc>) -> bool {
    (earliest()..=latest()).contains(&t)
}

/// `t + d`, held within the stored range instead of overflowing.
pub fn later(t: DateTime<Utc>, d: Duration) -> DateTime<Utc> {
    match t.checked_add_signed(d) {
        Some(x) => x.clamp(earliest(), latest()),
        None if d > Duration::zero() => latest(),
        None => earliest(),
    }
}

/// `t - d`, held within the stored range instead of overflowing.
pub fn earlier(t: DateTime<Utc>, d: Duration) -> DateTime<Utc> {
    match t.checked_sub_signed(d) {
        Some(x) => x.clamp(earliest(), latest()),
        None if d > Duration::zero() => earliest(),
        None => latest(),
    }
}

/// `n` whole days, for any `u32` a setting or an argument can hold.
pub fn days(n: u32) -> Duration {
    // u32::MAX days is about 3.7e14 seconds: well inside what a Duration holds.
    Duration::seconds(i64::from(n) * 86_400)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic_saturates_at_the_stored_range() {
        let now = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        assert_eq!(later(now, days(u32::MAX)), latest());
        assert_eq!(earlier(now, days(u32::MAX)), earliest());
        assert_eq!(later(now, Duration::MAX), latest());
        assert_eq!(earlier(now, Duration::MAX), earliest());
        assert_eq!(later(now, Duration::MIN), earliest());
        assert_eq!(later(now, days(1)), now + Duration::days(1));
        assert_eq!(earlier(now, days(1)), now - Duration::days(1));
        assert!(in_range(now) && !in_range(DateTime::<Utc>::MAX_UTC));
        assert_eq!(latest().to_rfc3339(), "9999-12-31T23:59:59+00:00");
        assert_eq!(earliest().to_rfc3339(), "0001-01-01T00:00:00+00:00");
    }
}
