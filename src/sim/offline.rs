//! Offline resolution for simulation: turns a plan's restores into
//! [`RestoreSpec`]s without asking AWS, with synthesized recovery points
//! (only their sizes matter for timing) and sizes from a sizes file.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use chrono::{DateTime, Utc};

use crate::exec::spec::RestoreSpec;
pub use crate::exec::spec::synthesize_recovery_point;
use crate::plan::model::Restore;

use crate::duration::DurationModel;

/// Table sizes in bytes by original table name (or restore id).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sizes(pub BTreeMap<String, u64>);

/// Errors reading a sizes file.
#[derive(Debug, thiserror::Error)]
pub enum SizesError {
    /// The file could not be read.
    #[error("failed to read the sizes file {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The error.
        source: std::io::Error,
    },
    /// A line or entry is not `table: size`.
    #[error("failed to parse the sizes file {path}: {message}")]
    Parse {
        /// The file.
        path: String,
        /// What is wrong, with the line.
        message: String,
    },
}

impl Sizes {
    /// Reads a sizes file: YAML (`table: 120GiB`) or, for a `.csv` file,
    /// lines of `table,bytes` (a header line is allowed).
    pub fn from_file(path: &Path) -> Result<Self, SizesError> {
        let text = std::fs::read_to_string(path).map_err(|source| SizesError::Io {
            path: path.display().to_string(),
            source,
        })?;
        let csv = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("csv"));
        let parsed = if csv {
            Self::from_csv(&text)
        } else {
            Self::from_yaml(&text)
        };
        parsed.map_err(|message| SizesError::Parse {
            path: path.display().to_string(),
            message,
        })
    }

    /// Parses `table,size` lines.
    pub fn from_csv(text: &str) -> Result<Self, String> {
        let mut m = BTreeMap::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let Some((table, size)) = line.split_once(',') else {
                return Err(format!("line {}: expected `table,bytes`", n + 1));
            };
            match parse_size(size.trim()) {
                Some(b) => {
                    m.insert(table.trim().to_owned(), b);
                }
                // A header line such as `table,bytes`.
                None if n == 0 => {}
                None => return Err(format!("line {}: `{}` is not a size", n + 1, size.trim())),
            }
        }
        Ok(Self(m))
    }

    /// Parses a YAML map of table to size (a number of bytes or `120GiB`).
    pub fn from_yaml(text: &str) -> Result<Self, String> {
        let raw: BTreeMap<String, serde_yaml::Value> =
            serde_yaml::from_str(text).map_err(|e| e.to_string())?;
        let mut m = BTreeMap::new();
        for (table, v) in raw {
            let bytes = match &v {
                serde_yaml::Value::Number(n) => n.as_u64(),
                serde_yaml::Value::String(s) => parse_size(s),
                _ => None,
            }
            .ok_or_else(|| format!("`{table}`: expected a size such as 5368709120 or 5GiB"))?;
            m.insert(table, bytes);
        }
        Ok(Self(m))
    }

    /// Recognises a sizes file among plan files: by its name
    /// (`*.sizes.yaml`, `*.sizes.yml`, `*.sizes.csv`) or by its content (a
    /// mapping of names to sizes, without `version` or `restores`). `None`
    /// for anything else; otherwise the file checked against its own
    /// format.
    pub fn recognise(path: &Path) -> Option<Result<Self, String>> {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().to_ascii_lowercase())
            .unwrap_or_default();
        let by_name = [".sizes.yaml", ".sizes.yml", ".sizes.csv"]
            .iter()
            .any(|suffix| name.ends_with(suffix));
        // Sizes files are small; a large file is a plan or garbage.
        let small = std::fs::metadata(path).is_ok_and(|m| m.len() <= 1 << 20);
        if !by_name && !small {
            return None;
        }
        let text = std::fs::read_to_string(path).ok()?;
        if by_name {
            return Some(if name.ends_with(".csv") {
                Self::from_csv(&text)
            } else {
                Self::from_yaml(&text)
            });
        }
        // A plan names its version and restores at the top level: no need
        // to parse it twice to see it is not a sizes file.
        if text
            .lines()
            .any(|l| l.starts_with("version:") || l.starts_with("restores:"))
        {
            return None;
        }
        let raw: BTreeMap<String, serde_yaml::Value> = serde_yaml::from_str(&text).ok()?;
        if raw.is_empty() || raw.contains_key("version") || raw.contains_key("restores") {
            return None;
        }
        Self::from_yaml(&text).ok().map(Ok)
    }

    /// The size of a restore's table, if listed (by id first, then table).
    pub fn get(&self, restore: &Restore) -> Option<u64> {
        self.0
            .get(&restore.id)
            .or_else(|| self.0.get(&restore.table))
            .copied()
    }
}

/// Parses `123`, `1.5GB`, `20 GiB`, `700MiB`, `2TB` into bytes.
pub fn parse_size(s: &str) -> Option<u64> {
    let s = s.trim();
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let num: f64 = num.parse().ok()?;
    let mult: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "kb" => 1e3,
        "mb" => 1e6,
        "gb" => 1e9,
        "tb" => 1e12,
        "kib" => 1024.0,
        "mib" => 1024.0 * 1024.0,
        "gib" => 1024.0 * 1024.0 * 1024.0,
        "tib" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        _ => return None,
    };
    let v = num * mult;
    (v.is_finite() && v >= 0.0 && v < u64::MAX as f64).then_some(v as u64)
}

/// Restores resolved offline, with the size each restore's model assumed.
#[derive(Debug, Clone, PartialEq)]
pub struct OfflinePlan {
    /// One spec per restore, in plan order.
    pub specs: Vec<RestoreSpec>,
    /// Bytes per target table name (what the simulated cloud restores).
    pub sizes: HashMap<String, u64>,
}

/// Resolves the restores of plan `plan` without AWS: synthesized recovery
/// points, sizes from `sizes` (else the model's default), estimates from
/// `model` (see [`RestoreSpec::offline`]).
pub fn resolve_offline(
    plan: &str,
    restores: &[Restore],
    sizes: &Sizes,
    model: &DurationModel,
    now: DateTime<Utc>,
) -> OfflinePlan {
    let mut by_target = HashMap::with_capacity(restores.len());
    let specs = restores
        .iter()
        .map(|r| {
            let bytes = sizes.get(r).unwrap_or(model.default_table_bytes);
            by_target.insert(r.target_name.clone(), bytes);
            RestoreSpec::offline(plan, r, bytes, model, now)
        })
        .collect();
    OfflinePlan {
        specs,
        sizes: by_target,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::changes::RUN_TAG;
    use crate::check::live::{LiveOptions, check};
    use crate::cloud::TableChange;
    use crate::cloud::sim::SimCloud;
    use crate::exec::TokioClock;

    /// `plan` shows the settings of the live resolution, `apply` runs the
    /// spec made from it, `simulate` runs the offline spec: the same calls
    /// in the same order, the run tag in the first.
    #[tokio::test]
    async fn plan_simulate_and_apply_make_the_same_settings_calls_in_the_same_order() {
        let text = "version: 1\nname: payments-dr\nsource: { account: \"210987654321\", region: eu-west-1 }\n\
                    restores:\n  - table: orders\n    name: orders-copy\n    after_restore:\n      \
                    deletion_protection: true\n      stream: new-image\n      ttl: { attribute: expires_at }\n      \
                    tags: { team: payments }\n      point_in_time_recovery: true\n  \
                    - table: ledger\n    name: ledger-copy\n";
        let opts = crate::plan::CompileOptions::new(
            chrono::NaiveDate::from_ymd_opt(2026, 11, 20).unwrap_or_default(),
        );
        let loaded =
            crate::plan::compile(crate::plan::source::SourceFile::new("p.yaml", text), &opts)
                .unwrap_or_else(|e| panic!("the plan compiles: {e:?}"));
        let plan = &loaded.plan;
        let model = DurationModel::default();
        let now = crate::clock::parse("2026-11-24T08:30:00Z").unwrap_or_default();
        let cloud = SimCloud::new(model, 1, TokioClock::system());
        let live = check(plan, &cloud, &LiveOptions::default()).await;
        let offline = resolve_offline(plan.name(), plan.restores(), &Sizes::default(), &model, now);
        for (i, rr) in live.resolved.iter().enumerate() {
            let reviewed = &rr.changes;
            let applied = RestoreSpec::from_resolved(rr).changes_for_run(plan.name(), "run-1");
            let simulated = offline.specs[i].changes_for_run(plan.name(), "run-1");
            assert_eq!(reviewed, &offline.specs[i].changes, "restore {}", rr.id);
            assert_eq!(applied, simulated, "restore {}", rr.id);
            assert_eq!(applied.len(), reviewed.len());
            assert_eq!(applied[1..], reviewed[1..]);
            let TableChange::Tags { tags } = &applied[0] else {
                panic!("the run tags come first: {applied:?}");
            };
            assert_eq!(tags.get(RUN_TAG).map(String::as_str), Some("run-1"));
        }
        let steps: Vec<&str> = live.resolved[0]
            .changes
            .iter()
            .map(crate::exec::runner::change_operation)
            .collect();
        assert_eq!(
            steps,
            [
                "TagResource",
                "UpdateContinuousBackups",
                "UpdateTimeToLive",
                "UpdateTable",
                "UpdateTable"
            ]
        );
        assert!(matches!(
            live.resolved[0].changes.last(),
            Some(TableChange::DeletionProtection { enabled: true })
        ));
    }

    #[test]
    fn sizes_parse_with_units() {
        assert_eq!(parse_size("123"), Some(123));
        assert_eq!(parse_size("2GiB"), Some(2 << 30));
        assert_eq!(parse_size("1.5 GB"), Some(1_500_000_000));
        assert_eq!(parse_size("5 parsecs"), None);
        let s = Sizes::from_yaml("accounts: 10GiB\nledger: 1000\n").unwrap_or_default();
        assert_eq!(s.0.get("accounts"), Some(&(10u64 << 30)));
        let c = Sizes::from_csv("table,bytes\naccounts,10\nledger,2KiB\n").unwrap_or_default();
        assert_eq!(c.0.get("ledger"), Some(&2048));
        assert!(Sizes::from_csv("a,1\nb,x\n").is_err());
    }
}
