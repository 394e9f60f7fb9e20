//! Rules for outgoing email: when a failed delivery is tried again, and when licd gives
//! up on it.

use chrono::Duration;

/// Attempts before a message is given up (`failed`); staff can still mark it sent
/// after handing it over by other means. With the backoff below the last attempt comes
/// about four hours after the first.
pub const MAX_ATTEMPTS: u32 = 10;

/// The wait after the first failed attempt; each later one doubles it.
pub const FIRST_RETRY: Duration = Duration::minutes(1);

/// The longest wait between two attempts.
pub const MAX_RETRY: Duration = Duration::hours(1);

/// How long to wait after attempt number `attempt` (1 for the first) before the next:
/// 1, 2, 4, 8, ... minutes, never more than an hour.
pub fn retry_delay(attempt: u32) -> Duration {
    let doublings = attempt.saturating_sub(1).min(16);
    let delay = FIRST_RETRY * (1_i32 << doublings);
    delay.min(MAX_RETRY)
}

/// Whether attempt number `attempt` was the last one.
pub fn is_last_attempt(attempt: u32) -> bool {
    attempt >= MAX_ATTEMPTS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_exponentially_up_to_the_cap() {
        let minutes: Vec<i64> = (1..=9).map(|a| retry_delay(a).num_minutes()).collect();
        assert_eq!(minutes, [1, 2, 4, 8, 16, 32, 60, 60, 60]);
        assert_eq!(retry_delay(0), FIRST_RETRY);
        assert_eq!(retry_delay(u32::MAX), MAX_RETRY);
        let total: i64 = (1..MAX_ATTEMPTS)
            .map(|a| retry_delay(a).num_minutes())
            .sum();
        assert_eq!(
            total, 243,
            "the last attempt comes about four hours after the first"
        );
    }

    #[test]
    fn the_tenth_attempt_is_the_last() {
        assert!(!is_last_attempt(9));
        assert!(is_last_attempt(10));
        assert!(is_last_attempt(11));
    }
}
