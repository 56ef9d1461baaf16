//! Timing policies of the executor: adaptive polling, retry backoff with
//! jitter, the request-rate cap, and the stop signal. Pure arithmetic plus
//! `tokio::time` waits, so they behave the same in virtual time.

use std::sync::Mutex;
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tokio::sync::watch;
use tokio::time::Instant;

/// How often a running restore is polled.
///
/// The next poll is scheduled at a fraction of the expected remaining time
/// (from AWS Backup's `ExpectedCompletionTimeMinutes`/`PercentDone`, else the
/// plan's estimate), clamped to `[min, max]`; once a restore is overdue it is
/// polled every `overdue_fraction` of its elapsed time, again clamped.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PollPolicy {
    /// Shortest wait between polls.
    pub min: Duration,
    /// Longest wait between polls.
    pub max: Duration,
    /// Fraction of the expected remaining time to wait.
    pub fraction: f64,
    /// Fraction of the elapsed time to wait once the estimate has passed.
    pub overdue_fraction: f64,
    /// Longest wait once overdue.
    pub overdue_max: Duration,
    /// When set, poll at this fixed interval instead (the baseline for comparisons).
    pub fixed: Option<Duration>,
    /// Multiplies every wait and divides elapsed time: `0.002` matches an
    /// emulator that runs restores 500 times faster than AWS.
    pub time_scale: f64,
}

impl Default for PollPolicy {
    fn default() -> Self {
        Self {
            min: Duration::from_secs(5),
            max: Duration::from_secs(300),
            fraction: 0.5,
            overdue_fraction: 0.02,
            overdue_max: Duration::from_secs(60),
            fixed: None,
            time_scale: 1.0,
        }
    }
}

/// What is known about a running restore when choosing the next poll.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct PollInput {
    /// Seconds since the restore started.
    pub elapsed: f64,
    /// The plan's estimate of the whole restore, in seconds.
    pub estimate: f64,
    /// AWS's percent done.
    pub percent: Option<f64>,
    /// AWS's expected duration of the whole job, in seconds.
    pub expected_total: Option<f64>,
}

impl PollPolicy {
    /// A policy that polls every `interval`, whatever the progress.
    pub fn fixed(interval: Duration) -> Self {
        Self {
            fixed: Some(interval),
            ..Self::default()
        }
    }

    /// The wait before the next poll.
    pub fn next_delay(&self, input: PollInput) -> Duration {
        let scale = if self.time_scale.is_finite() && self.time_scale > 0.0 {
            self.time_scale
        } else {
            1.0
        };
        if let Some(f) = self.fixed {
            return f.mul_f64(scale);
        }
        // Work in AWS time, then scale the wait back.
        let elapsed = input.elapsed.max(0.0) / scale;
        let from_percent = input
            .percent
            .filter(|p| *p > 0.0 && *p < 100.0)
            .map(|p| elapsed * (100.0 - p) / p);
        let remaining = match (input.expected_total, from_percent) {
            (Some(total), Some(p)) => (total - elapsed).min(p),
            (Some(total), None) => total - elapsed,
            (None, Some(p)) => p,
            (None, None) => input.estimate - elapsed,
        };
        let min = self.min.as_secs_f64();
        let secs = if remaining > min {
            (remaining * self.fraction).clamp(min, self.max.as_secs_f64())
        } else {
            (elapsed * self.overdue_fraction).clamp(min, self.overdue_max.as_secs_f64().max(min))
        };
        Duration::from_secs_f64(secs * scale)
    }
}

/// Retry backoff: exponential with full jitter, separately for throttling
/// and 5xx errors and for quota waits (`LimitExceeded`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// First backoff for throttling and transient errors.
    pub base: Duration,
    /// Largest backoff for throttling and transient errors.
    pub cap: Duration,
    /// Attempts before a `Conflict` (a table still updating) fails a setting.
    pub max_attempts: u32,
    /// Shortest time throttling and transient errors (network, 5xx,
    /// expired credentials) are retried before a call gives up; a restore
    /// expected to take longer gets twice its expected duration.
    pub outage: Duration,
    /// First wait for a restore slot after `LimitExceeded`.
    pub slot_base: Duration,
    /// Largest wait for a restore slot.
    pub slot_cap: Duration,
    /// Attempts before waiting for a slot fails the restore.
    pub slot_max_attempts: u32,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            base: Duration::from_secs(1),
            cap: Duration::from_secs(30),
            max_attempts: 10,
            outage: Duration::from_secs(3600),
            slot_base: Duration::from_secs(30),
            slot_cap: Duration::from_secs(300),
            slot_max_attempts: 200,
        }
    }
}

impl RetryPolicy {
    /// The same policy with every wait multiplied by `f` (for emulators
    /// that run faster than AWS).
    pub fn scaled(mut self, f: f64) -> Self {
        if f.is_finite() && f > 0.0 {
            self.base = self.base.mul_f64(f);
            self.cap = self.cap.mul_f64(f);
            self.outage = self.outage.mul_f64(f);
            self.slot_base = self.slot_base.mul_f64(f);
            self.slot_cap = self.slot_cap.mul_f64(f);
        }
        self
    }

    /// The backoff after failed attempt `attempt` (1-based), before jitter.
    pub fn ceiling(&self, attempt: u32, waiting_for_slot: bool) -> Duration {
        let (base, cap) = if waiting_for_slot {
            (self.slot_base, self.slot_cap)
        } else {
            (self.base, self.cap)
        };
        let factor = 2f64.powi(attempt.saturating_sub(1).min(30) as i32);
        Duration::from_secs_f64((base.as_secs_f64() * factor).min(cap.as_secs_f64()))
    }
}

/// A seeded source of jitter shared by the tasks of a run.
#[derive(Debug)]
pub struct Jitter(Mutex<StdRng>);

impl Jitter {
    /// Jitter from a seed (deterministic runs in simulation).
    pub fn seeded(seed: u64) -> Self {
        Self(Mutex::new(StdRng::seed_from_u64(seed)))
    }

    /// `d` scaled by a random factor in `[0.5, 1.0)`.
    pub fn apply(&self, d: Duration) -> Duration {
        let f = match self.0.lock() {
            Ok(mut r) => r.random_range(0.5..1.0),
            Err(_) => 0.75,
        };
        d.mul_f64(f)
    }
}

/// Spaces API calls so that at most `per_second` start each second.
#[derive(Debug)]
pub struct RateLimiter {
    interval: Option<Duration>,
    next: Mutex<Option<Instant>>,
}

impl RateLimiter {
    /// A limiter; `None` or a non-positive rate disables it.
    pub fn new(per_second: Option<f64>) -> Self {
        Self {
            interval: per_second
                .filter(|r| *r > 0.0 && r.is_finite())
                .map(|r| Duration::from_secs_f64(1.0 / r)),
            next: Mutex::new(None),
        }
    }

    /// Waits for this call's turn.
    pub async fn acquire(&self) {
        let Some(interval) = self.interval else {
            return;
        };
        let now = Instant::now();
        let slot = match self.next.lock() {
            Ok(mut next) => {
                let slot = next.map_or(now, |n| n.max(now));
                *next = Some(slot + interval);
                slot
            }
            Err(_) => now,
        };
        if slot > now {
            tokio::time::sleep_until(slot).await;
        }
    }
}

/// Tells a run to start nothing new (first Ctrl-C).
#[derive(Debug, Clone)]
pub struct StopHandle(watch::Sender<bool>);

/// What the executor watches to know it must stop starting work.
#[derive(Debug, Clone)]
pub struct StopSignal(watch::Receiver<bool>);

/// A connected stop handle and signal.
pub fn stop_pair() -> (StopHandle, StopSignal) {
    let (tx, rx) = watch::channel(false);
    (StopHandle(tx), StopSignal(rx))
}

impl StopHandle {
    /// Asks the run to stop.
    pub fn stop(&self) {
        self.0.send_replace(true);
    }
}

impl StopSignal {
    /// A signal that never fires.
    pub fn never() -> Self {
        let (tx, rx) = watch::channel(false);
        // Keep the sender alive for the program's lifetime so `stopped` pends.
        std::mem::forget(tx);
        Self(rx)
    }

    /// True once stop was asked for.
    pub fn is_stopped(&self) -> bool {
        *self.0.borrow()
    }

    /// Resolves when stop is asked for.
    pub async fn stopped(&self) {
        let mut rx = self.0.clone();
        // An error means the handle is gone: nobody can ask to stop any more.
        if rx.wait_for(|s| *s).await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn polls_sparsely_early_and_densely_near_the_end() {
        let p = PollPolicy::default();
        let first = p.next_delay(PollInput {
            elapsed: 0.0,
            estimate: 3600.0,
            ..Default::default()
        });
        assert_eq!(first, p.max);
        let late = p.next_delay(PollInput {
            elapsed: 3590.0,
            estimate: 3600.0,
            ..Default::default()
        });
        assert_eq!(late, p.min);
    }

    #[test]
    fn aws_progress_overrides_the_estimate() {
        let p = PollPolicy::default();
        // The plan guessed an hour, AWS says the job is 90 % done after 9 minutes.
        let d = p.next_delay(PollInput {
            elapsed: 540.0,
            estimate: 3600.0,
            percent: Some(90.0),
            expected_total: None,
        });
        assert!(d.as_secs_f64() <= 30.0, "{d:?}");
        let d = p.next_delay(PollInput {
            elapsed: 60.0,
            estimate: 3600.0,
            percent: None,
            expected_total: Some(120.0),
        });
        assert!((d.as_secs_f64() - 30.0).abs() < 1e-9, "{d:?}");
    }

    #[test]
    fn overdue_restores_are_polled_in_proportion_to_their_age() {
        let p = PollPolicy::default();
        let d = p.next_delay(PollInput {
            elapsed: 2000.0,
            estimate: 1000.0,
            ..Default::default()
        });
        assert!((d.as_secs_f64() - 40.0).abs() < 1e-9, "{d:?}");
    }

    #[test]
    fn backoff_doubles_up_to_its_cap() {
        let r = RetryPolicy::default();
        assert_eq!(r.ceiling(1, false), Duration::from_secs(1));
        assert_eq!(r.ceiling(3, false), Duration::from_secs(4));
        assert_eq!(r.ceiling(20, false), r.cap);
        assert_eq!(r.ceiling(1, true), r.slot_base);
        let j = Jitter::seeded(7);
        for _ in 0..100 {
            let d = j.apply(Duration::from_secs(10));
            assert!(d >= Duration::from_secs(5) && d < Duration::from_secs(10));
        }
    }

    #[tokio::test(start_paused = true)]
    async fn rate_limiter_spaces_calls() {
        let l = RateLimiter::new(Some(10.0));
        let t0 = Instant::now();
        for _ in 0..21 {
            l.acquire().await;
        }
        let e = t0.elapsed().as_secs_f64();
        assert!((e - 2.0).abs() < 0.01, "{e}");
    }
}
