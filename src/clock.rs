//! The process's one notion of the current time.
//!
//! Every age, RPO, `{date}`, point-in-time window and "expires" that
//! restoreplan computes starts from [`now`]. By default that is the wall
//! clock; `RESTOREPLAN_NOW=2026-11-24T09:00:00Z` sets the time the process
//! starts at instead, and the clock then advances in real time from there.
//! Tests use it so that nothing they check depends on the day they run on;
//! an operator can use it to review a saved plan as of a given moment.
//!
//! The engine reads time through a [`Clock`] instead: [`TokioClock`]
//! derives wall-clock time from `tokio::time::Instant`, so the same code
//! runs in real time and under tokio's paused clock, where virtual time
//! jumps forward whenever every task is waiting. Every timestamp the engine
//! records (journal lines, events, the measured RTO) comes from a `Clock`,
//! and every wait goes through `tokio::time`.
//!
//! Must not: be read by pure planning code (loading and static checks take
//! their date as an argument), or be bypassed with `Utc::now()` elsewhere.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDate, Utc};

/// The environment variable that sets the start time of the process clock.
pub const NOW_VAR: &str = "RESTOREPLAN_NOW";

/// Where the process clock started: a time and the instant it was read.
#[derive(Debug, Clone, Copy)]
struct Origin {
    at: DateTime<Utc>,
    instant: Instant,
}

/// `None` when the wall clock is used; `Err` when `RESTOREPLAN_NOW` is malformed.
static ORIGIN: OnceLock<Result<Option<Origin>, String>> = OnceLock::new();

fn origin() -> &'static Result<Option<Origin>, String> {
    ORIGIN.get_or_init(|| match std::env::var(NOW_VAR) {
        Ok(text) if !text.trim().is_empty() => parse(text.trim()).map(|at| {
            Some(Origin {
                at,
                instant: Instant::now(),
            })
        }),
        _ => Ok(None),
    })
}

/// Parses an RFC 3339 time (`2026-11-24T09:00:00Z`) or a date (midnight UTC).
pub fn parse(text: &str) -> Result<DateTime<Utc>, String> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t.with_timezone(&Utc));
    }
    if let Ok(d) = NaiveDate::parse_from_str(text, "%Y-%m-%d")
        && let Some(t) = d.and_hms_opt(0, 0, 0)
    {
        return Ok(t.and_utc());
    }
    Err(format!(
        "{NOW_VAR}=`{text}` is not a time like 2026-11-24T09:00:00Z (RFC 3339) or a date like 2026-11-24"
    ))
}

/// Checks `RESTOREPLAN_NOW` once, at start-up, so a malformed value is a
/// usage error rather than a silent fall-back to the wall clock.
pub fn check_environment() -> Result<(), String> {
    origin().as_ref().map(|_| ()).map_err(Clone::clone)
}

/// The current time: the wall clock, or `RESTOREPLAN_NOW` advanced by the
/// time elapsed since the process first read it.
pub fn now() -> DateTime<Utc> {
    match origin() {
        Ok(Some(o)) => {
            let elapsed = chrono::Duration::from_std(o.instant.elapsed()).unwrap_or_default();
            o.at.checked_add_signed(elapsed).unwrap_or(o.at)
        }
        // A malformed value is refused by `check_environment` before any
        // command runs; library callers that skip it get the wall clock.
        _ => Utc::now(),
    }
}

/// Today's date in UTC, by [`now`].
pub fn today() -> NaiveDate {
    now().date_naive()
}

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
        Self::starting_at(now())
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

    #[test]
    fn parses_times_and_dates() {
        assert_eq!(
            parse("2026-11-24T09:00:00Z").map(|t| t.to_rfc3339()),
            Ok("2026-11-24T09:00:00+00:00".to_owned())
        );
        assert_eq!(
            parse("2026-11-24T10:00:00+01:00").map(|t| t.to_rfc3339()),
            Ok("2026-11-24T09:00:00+00:00".to_owned())
        );
        assert_eq!(
            parse("2026-11-24").map(|t| t.to_rfc3339()),
            Ok("2026-11-24T00:00:00+00:00".to_owned())
        );
        let err = parse("tomorrow").unwrap_err();
        assert!(err.contains("RESTOREPLAN_NOW=`tomorrow`"), "{err}");
    }

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
