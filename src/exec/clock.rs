//! The engine's notion of "now".
//!
//! Every timestamp the engine records (journal lines, events, the measured
//! RTO) comes from a [`Clock`], and every wait goes through `tokio::time`.
//! [`TokioClock`] derives wall-clock time from `tokio::time::Instant`, so the
//! same code runs in real time and under tokio's paused clock, where virtual
//! time jumps forward whenever every task is waiting.

use std::time::Duration;

use chrono::{DateTime, Utc};

/// A source of the current time.
pub trait Clock: Send + Sync {
    /// The current time.
    fn now(&self) -> DateTime<Utc>;
}

/// Wall-clock time anchored at creation and advanced by tokio's clock.
///
/// Under a paused runtime (`start_paused`), time advances only when tokio
/// auto-advances it, so an hours-long run finishes in milliseconds with
/// consistent timestamps.
#[derive(Debug, Clone)]
pub struct TokioClock {
    origin: DateTime<Utc>,
    origin_instant: tokio::time::Instant,
}

impl TokioClock {
    /// A clock that reads `origin` now and advances with tokio's clock.
    pub fn starting_at(origin: DateTime<Utc>) -> Self {
        Self {
            origin,
            origin_instant: tokio::time::Instant::now(),
        }
    }

    /// A clock that starts at the current wall-clock time.
    pub fn system() -> Self {
        Self::starting_at(crate::clock::now())
    }

    /// Time elapsed on tokio's clock since the clock was created.
    pub fn elapsed(&self) -> Duration {
        self.origin_instant.elapsed()
    }
}

impl Clock for TokioClock {
    fn now(&self) -> DateTime<Utc> {
        let elapsed = chrono::Duration::from_std(self.elapsed()).unwrap_or(chrono::TimeDelta::MAX);
        self.origin
            .checked_add_signed(elapsed)
            .unwrap_or(DateTime::<Utc>::MAX_UTC)
    }
}

/// Seconds from `a` to `b` as a float (negative when `b` is earlier).
pub fn seconds_between(a: DateTime<Utc>, b: DateTime<Utc>) -> f64 {
    (b - a).num_milliseconds() as f64 / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn paused_clock_advances_with_virtual_sleeps() {
        let origin = DateTime::parse_from_rfc3339("2026-11-24T00:00:00Z")
            .map(|d| d.with_timezone(&Utc))
            .unwrap_or_default();
        let clock = TokioClock::starting_at(origin);
        tokio::time::sleep(Duration::from_secs(3600)).await;
        let now = clock.now();
        assert_eq!(seconds_between(origin, now).round() as i64, 3600);
    }
}
