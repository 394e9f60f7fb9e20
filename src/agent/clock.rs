//! The agent's one reading of time. `now()` is the system's wall clock shifted by
//! `clock_offset_secs` (zero outside tests and drills); `monotonic()` pairs the wall
//! time at start with how long the process has run by the monotonic clock, so a wall
//! clock set back while the agent runs shows.

use crate::clock::{Clock, SystemClock};
use chrono::{DateTime, Duration, Utc};
use licd_client::clock::MonotonicSample;
use std::time::Instant;

/// The agent's clock.
#[derive(Debug, Clone)]
pub struct AgentClock {
    offset: Duration,
    wall_at_start: DateTime<Utc>,
    mono_start: Instant,
}

impl AgentClock {
    /// A clock shifted by `offset_secs`, started now.
    #[allow(clippy::disallowed_methods)] // the agent's one monotonic reading
    pub fn start(offset_secs: i64) -> AgentClock {
        let offset = Duration::seconds(offset_secs);
        AgentClock {
            offset,
            wall_at_start: SystemClock.now() + offset,
            mono_start: Instant::now(),
        }
    }

    /// The agent's now: system time plus the configured offset.
    pub fn now(&self) -> DateTime<Utc> {
        SystemClock.now() + self.offset
    }

    /// The wall time at start and the monotonic time elapsed since.
    pub fn monotonic(&self) -> MonotonicSample {
        MonotonicSample {
            wall_at_start: self.wall_at_start,
            mono_elapsed: self.mono_start.elapsed(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_offset_shifts_now() {
        let plain = AgentClock::start(0);
        let shifted = AgentClock::start(-86_400);
        let gap = plain.now() - shifted.now();
        assert!((gap - Duration::days(1)).num_seconds().abs() <= 1, "{gap}");
    }
}
