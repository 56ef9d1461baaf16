//! Random plans for benchmarks and property tests: DAGs of chains, fans and
//! diamonds with a heavy-tailed (log-normal) distribution of table sizes,
//! like real environments: many small tables, a few very large ones.

use std::collections::{BTreeMap, BTreeSet};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::plan::model::{
    AccountId, AfterRestore, Copyable, Encryption, Location, RecoveryPointSelector, Region,
    Restore, RestoreSpans, Target,
};

use super::offline::Sizes;

/// Shape of a generated plan.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Shape {
    /// Number of restores.
    pub restores: usize,
    /// Target accounts the restores spread over.
    pub accounts: usize,
    /// Median table size in bytes.
    pub median_bytes: f64,
    /// Spread of the log-normal size distribution (sigma of ln(size)).
    pub sigma: f64,
    /// Largest table in bytes.
    pub max_bytes: f64,
    /// Average number of dependencies per restore.
    pub mean_dependencies: f64,
}

impl Shape {
    /// A realistic default for `n` restores.
    pub fn realistic(n: usize) -> Self {
        Self {
            restores: n,
            accounts: 1,
            median_bytes: 2.0 * (1u64 << 30) as f64,
            sigma: 1.6,
            max_bytes: 2.0 * (1u64 << 40) as f64,
            mean_dependencies: 1.2,
        }
    }
}

/// DAG `k` of the benchmarks' common set (`schedule_quality` and
/// `sfn_engine` measure the same plans): its shape, seed and concurrency
/// cap. The full set spreads 50..=2,000 restores, denser at the small end,
/// over caps 5/10/25/50, 1–3 accounts and 0.6–2.0 dependencies a restore;
/// `small` (a smoke run) gives every DAG 60 restores.
pub fn benchmark_dag(k: usize, small: bool) -> (Shape, u64, u32) {
    let n = if small { 60 } else { 50 + ((k * 7919) % 1951) };
    let mut shape = Shape::realistic(n);
    shape.accounts = 1 + k % 3;
    shape.mean_dependencies = [0.6, 1.2, 2.0][k % 3];
    (shape, 1000 + k as u64, [5u32, 10, 25, 50][k % 4])
}

fn location(account: usize, region: &str) -> Location {
    let acct = format!("{:012}", 444_455_556_666u64 + account as u64);
    Location {
        // A zero-padded number below 10^12 is exactly twelve digits.
        account: AccountId::parse(&acct).expect("twelve digits"),
        // The callers pass literal, well-formed Region names.
        region: Region::parse(region).expect("a well-formed Region"),
    }
}

/// A standard normal sample (Box–Muller).
fn normal(rng: &mut StdRng) -> f64 {
    let u1: f64 = rng.random_range(f64::EPSILON..1.0);
    let u2: f64 = rng.random_range(0.0..1.0);
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

/// A random acyclic plan of `shape.restores` restores and their sizes.
pub fn random_plan(shape: Shape, seed: u64) -> (Vec<Restore>, Sizes) {
    let mut rng = StdRng::seed_from_u64(seed);
    let n = shape.restores;
    let source = location(0, "us-east-1");
    let mut restores = Vec::with_capacity(n);
    let mut sizes = BTreeMap::new();
    for i in 0..n {
        // Dependencies point to earlier restores, mostly nearby ones, so the
        // graph has chains, fans and diamonds rather than one flat layer.
        let mut deps = BTreeSet::new();
        if i > 0 {
            let k = (shape.mean_dependencies * rng.random_range(0.0..2.0)).round() as usize;
            for _ in 0..k {
                let back = (rng.random_range(0.0f64..1.0).powi(3) * i as f64) as usize;
                let d = i - 1 - back.min(i - 1);
                deps.insert(d);
            }
        }
        let table = format!("table-{i:05}");
        let bytes = (shape.median_bytes * (shape.sigma * normal(&mut rng)).exp())
            .clamp(1024.0, shape.max_bytes) as u64;
        sizes.insert(table.clone(), bytes);
        let account = if shape.accounts > 1 {
            rng.random_range(0..shape.accounts)
        } else {
            0
        };
        restores.push(Restore {
            id: table.clone(),
            target_name: format!("{table}-dr"),
            table,
            source: source.clone(),
            target: Target {
                location: location(account, "us-west-2"),
                vault: Some("dr".to_owned()),
                role: Some("arn:aws:iam::444455556666:role/restore".to_owned()),
            },
            recovery_point: RecoveryPointSelector::Latest,
            encryption: Encryption::DynamodbOwned,
            indexes: None,
            after_restore: AfterRestore {
                point_in_time_recovery: Some(Copyable::Set(true)),
                ..AfterRestore::default()
            },
            capacity: Default::default(),
            depends_on: deps.iter().map(|&d| format!("table-{d:05}")).collect(),
            spans: RestoreSpans::default(),
            copy: None,
        });
    }
    (restores, Sizes(sizes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::DependencyGraph;

    #[test]
    fn generated_plans_are_dags_with_dependencies_and_spread_sizes() {
        let (restores, sizes) = random_plan(Shape::realistic(500), 3);
        let g = DependencyGraph::build(&restores);
        assert!(g.is_ok());
        let edges: usize = restores.iter().map(|r| r.depends_on.len()).sum();
        assert!(edges > 300, "{edges}");
        let min = sizes.0.values().min().copied().unwrap_or(0);
        let max = sizes.0.values().max().copied().unwrap_or(0);
        assert!(
            max > min * 1000,
            "sizes should be heavy-tailed: {min}..{max}"
        );
    }
}
