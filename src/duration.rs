//! The restore-duration model: how long one restore takes, shared by the
//! live checks (the estimates `plan` shows and `apply` schedules and polls
//! by) and the simulator. How long a whole plan takes (the predicted RTO)
//! is [`crate::diff::predict`], which schedules these durations with
//! [`crate::schedule`].
//!
//! A restore takes a fixed overhead plus its size over a throughput, times a
//! random factor: `overhead + bytes / throughput`, scaled by a factor drawn
//! uniformly from `[1 - jitter, 1 + jitter]`. It is a model, not a
//! measurement: calibrate it from a real run's report (`docs/simulate.md`).

use std::path::Path;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Parameters of the duration model (a YAML file can override any of them).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DurationModel {
    /// Fixed time of an AWS Backup restore job, in seconds.
    pub backup_overhead_seconds: f64,
    /// Fixed time of a DynamoDB-native restore (backup or point in time), in seconds.
    pub native_overhead_seconds: f64,
    /// Restore throughput in bytes per second.
    pub bytes_per_second: f64,
    /// Relative spread of actual durations around the model, 0..1.
    pub jitter: f64,
    /// Size assumed for a table the sizes file does not list, in bytes.
    pub default_table_bytes: u64,
}

impl Default for DurationModel {
    fn default() -> Self {
        Self {
            backup_overhead_seconds: 900.0,
            native_overhead_seconds: 600.0,
            bytes_per_second: 25.0 * 1024.0 * 1024.0,
            jitter: 0.15,
            default_table_bytes: 1024 * 1024 * 1024,
        }
    }
}

/// Errors reading a model file.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// The file could not be read.
    #[error("failed to read the duration model {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The error.
        source: std::io::Error,
    },
    /// The file is not a valid model.
    #[error("failed to parse the duration model {path}: {message}")]
    Parse {
        /// The file.
        path: String,
        /// What is wrong.
        message: String,
    },
}

impl DurationModel {
    /// Reads a YAML file of overrides (any subset of the fields).
    pub fn from_file(path: &Path) -> Result<Self, ModelError> {
        let text = std::fs::read_to_string(path).map_err(|source| ModelError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Self::from_yaml(&text).map_err(|message| ModelError::Parse {
            path: path.display().to_string(),
            message,
        })
    }

    /// Parses YAML overrides and checks the values.
    pub fn from_yaml(text: &str) -> Result<Self, String> {
        let m: Self = serde_yaml::from_str(text).map_err(|e| e.to_string())?;
        m.validate()?;
        Ok(m)
    }

    fn validate(&self) -> Result<(), String> {
        let finite_nonneg = |v: f64| v.is_finite() && v >= 0.0;
        if !finite_nonneg(self.backup_overhead_seconds)
            || !finite_nonneg(self.native_overhead_seconds)
        {
            return Err("overheads must be non-negative numbers of seconds".to_owned());
        }
        if !(self.bytes_per_second.is_finite() && self.bytes_per_second > 0.0) {
            return Err("bytes_per_second must be a positive number".to_owned());
        }
        if !(0.0..1.0).contains(&self.jitter) {
            return Err("jitter must be at least 0 and below 1".to_owned());
        }
        Ok(())
    }

    /// The expected duration in seconds (no jitter).
    pub fn estimate(&self, bytes: u64, native: bool) -> f64 {
        let overhead = if native {
            self.native_overhead_seconds
        } else {
            self.backup_overhead_seconds
        };
        overhead + bytes as f64 / self.bytes_per_second
    }

    /// The actual duration of a restore in a simulation: the estimate times
    /// a factor drawn from `[1 - jitter, 1 + jitter]`, deterministic for a
    /// given seed and table so that every scheduler sees the same durations.
    pub fn sample(&self, bytes: u64, native: bool, seed: u64, table: &str) -> f64 {
        let mut h = Sha256::new();
        h.update(seed.to_le_bytes());
        h.update(table.as_bytes());
        let d = h.finalize();
        let mut b = [0u8; 8];
        b.copy_from_slice(&d[..8]);
        let u = (u64::from_le_bytes(b) >> 11) as f64 / (1u64 << 53) as f64;
        let factor = 1.0 + self.jitter * (2.0 * u - 1.0);
        self.estimate(bytes, native) * factor
    }
}

/// Read units per second an on-demand table is read at by verification,
/// before `verify.max_read_fraction` (DynamoDB's initial on-demand
/// throughput).
pub const ON_DEMAND_READ_UNITS: f64 = 4000.0;

/// The window verification paces its reads over: the pages answered in
/// any window this long consume at most the read rate (a metered second
/// plus a margin for where DynamoDB's second boundaries fall).
pub const PACING_WINDOW_SECONDS: f64 = 1.05;

/// Read units of the largest `Scan` page: 1 MB, eventually consistent.
pub const MAX_PAGE_UNITS: f64 = 128.0;

/// Seconds a `Scan` of `size_bytes` takes at `rate` read units per second
/// (eventually consistent: half a unit per 4 KB).
pub fn scan_seconds(size_bytes: u64, rate: f64) -> f64 {
    let units = size_bytes.div_ceil(4096) as f64 * 0.5;
    units / rate.max(0.5)
}

/// Seconds the data checks of a restore of `size_bytes` take, as the
/// estimates count them: the paced item count (`verify.items`, at the
/// on-demand rate times `max_read_fraction`, as many whole pages of at
/// most 1 MB as fit in the rate per pacing window); `GetItem` of each key and the user command are not
/// counted (one read each; a command's time is its own).
pub fn verify_seconds(v: &crate::plan::verify::Verify, size_bytes: u64) -> f64 {
    if v.items.is_none() {
        return 0.0;
    }
    let rate = (ON_DEMAND_READ_UNITS * v.max_read_fraction).max(0.5);
    // Whole pages of at most 1 MB fit in a window's rate.
    let page = MAX_PAGE_UNITS - 0.5;
    let filled = if rate > page {
        (rate / page).floor() * page
    } else {
        rate
    };
    let secs = scan_seconds(size_bytes, filled) * PACING_WINDOW_SECONDS;
    match v.timeout_seconds {
        Some(t) => secs.min(t as f64),
        None => secs,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scan_takes_its_units_over_the_rate() {
        // 1 GiB: 262144 pages of 4 KB, half a unit each, at 100 units/s.
        assert!((scan_seconds(1 << 30, 100.0) - 1310.72).abs() < 1e-6);
    }

    #[test]
    fn verification_time_is_the_paced_count_bounded_by_the_timeout() {
        let mut v = crate::plan::verify::Verify::default();
        assert_eq!(verify_seconds(&v, 1 << 30), 0.0);
        v.items = Some(Default::default());
        // 131072 units, 15 pages of 127.5 units per 1.05 s window.
        let want = 131072.0 / (15.0 * 127.5) * 1.05;
        assert!((verify_seconds(&v, 1 << 30) - want).abs() < 1e-6);
        v.timeout_seconds = Some(30);
        assert_eq!(verify_seconds(&v, 1 << 30), 30.0);
    }

    #[test]
    fn duration_is_overhead_plus_size_over_throughput() {
        let m = DurationModel {
            backup_overhead_seconds: 100.0,
            bytes_per_second: 10.0,
            jitter: 0.0,
            ..DurationModel::default()
        };
        assert_eq!(m.estimate(1000, false), 200.0);
        assert_eq!(m.sample(1000, false, 1, "t"), 200.0);
    }

    #[test]
    fn jitter_stays_within_bounds_and_is_deterministic() {
        let m = DurationModel::default();
        let est = m.estimate(1 << 30, false);
        for t in 0..200 {
            let name = format!("t{t}");
            let s = m.sample(1 << 30, false, 9, &name);
            assert!((s / est - 1.0).abs() <= m.jitter + 1e-9);
            assert_eq!(s, m.sample(1 << 30, false, 9, &name));
        }
    }

    #[test]
    fn overrides_are_partial_and_checked() {
        let m = DurationModel::from_yaml("bytes_per_second: 1000\n").unwrap_or_default();
        assert_eq!(m.bytes_per_second, 1000.0);
        assert_eq!(m.jitter, DurationModel::default().jitter);
        assert!(DurationModel::from_yaml("bytes_per_secnd: 1\n").is_err());
        assert!(DurationModel::from_yaml("jitter: 2\n").is_err());
    }
}
