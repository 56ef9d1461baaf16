//! Live validation of a 200-restore plan against the local emulator.
//!
//! Seeds (through AWS APIs) 200 tables in a source account, backs each up,
//! copies the recovery points into a DR vault of another account and Region,
//! and shares four multi-Region keys; then runs the live checks with and
//! without the per-run cache and prints wall time and API calls (from the
//! emulator's request log).
//!
//! Run: `cargo bench --bench live_validate`

// Test and benchmark code: its items are shared between its own modules,
// it reports on stdout and stderr, and a benchmark that misses its target
// ends with a failing status.
#![allow(
    unreachable_pub,
    clippy::print_stdout,
    clippy::print_stderr,
    clippy::exit
)]

#[path = "../tests/integration/support/aws.rs"]
#[allow(dead_code)]
mod aws;
#[path = "../tests/integration/support/emulator.rs"]
#[allow(dead_code)]
mod emulator;
#[path = "../tests/integration/support/plans.rs"]
#[allow(dead_code)]
mod plans;

use std::collections::BTreeMap;
use std::time::Instant;

use restoreplan::aws::{AccountAccess, AwsCloud, AwsOptions};
use restoreplan::check::live;
use restoreplan::cloud::cache::Cached;
use restoreplan::plan::model::Encryption;

const KEYS: usize = 4;

/// `cargo bench` passes `--bench`; `cargo test --all-targets` runs this
/// binary too (unoptimised), and then it only proves the measurement runs,
/// on a small input, and measures nothing worth reading.
fn benching() -> bool {
    std::env::args().any(|a| a == "--bench")
}

fn main() {
    let rt = tokio::runtime::Runtime::new().expect("a tokio runtime");
    rt.block_on(run());
}

async fn run() {
    let tables: usize = if benching() { 200 } else { 12 };
    let em = emulator::shared();
    let src = em.fresh_account();
    let dst = em.fresh_account();
    let s = aws::Aws::new(em, &src, "us-east-1").await;
    let d = aws::Aws::new(em, &dst, "us-west-2").await;
    let s_west = aws::Aws::new(em, &src, "us-west-2").await;
    let seeding = Instant::now();
    s.vault("primary").await;
    d.vault("dr").await;
    let mut keys = Vec::new();
    for _ in 0..KEYS {
        let k = s.key(true).await;
        let replica = s.replicate(&k, "us-west-2").await;
        // A replica has its own key policy: share both.
        s.share_key(&k, &dst).await;
        s_west.share_key(&replica, &dst).await;
        keys.push(k);
    }
    let mut restores = Vec::new();
    for i in 0..tables {
        let table = format!("table-{i:03}");
        let arn = s.table(&table, Some(&keys[i % KEYS]), 0).await;
        let rp = s.backup("primary", &arn).await;
        s.copy("primary", &rp, &d.vault_arn("dr")).await;
        let mut r = plans::restore(&table, (&src, "us-east-1"), (&dst, "us-west-2"), &table);
        r.target.vault = Some("dr".into());
        r.encryption = Encryption::SameAsSource;
        if i > 0 {
            r.depends_on = vec![format!("table-{:03}", i / 2)];
        }
        restores.push(r);
    }
    let plan = plans::plan(restores, Some(86_400));
    println!(
        "seeded {tables} tables, {KEYS} shared multi-Region keys, {tables} cross-account cross-Region copies in {:.1} s",
        seeding.elapsed().as_secs_f64()
    );

    let options = AwsOptions {
        accounts: [&src, &dst]
            .iter()
            .map(|a| {
                (
                    a.to_string(),
                    AccountAccess {
                        profile: None,
                        role_arn: Some(emulator::Emulator::role(a)),
                    },
                )
            })
            .collect::<BTreeMap<_, _>>(),
        default: AccountAccess::default(),
        endpoint: Some(em.endpoint.clone()),
    };

    println!(
        "{:<10} {:>10} {:>10} {:>14}",
        "mode", "wall ms", "API calls", "calls/restore"
    );
    let mut results = Vec::new();
    for cached in [true, false] {
        let mut best = (f64::MAX, 0usize);
        for _ in 0..3 {
            em.delete("/_restoreplan/requests");
            let start = Instant::now();
            let report = if cached {
                let cloud = Cached::new(AwsCloud::new(options.clone()));
                live::check(&plan, &cloud, &em.live_options()).await
            } else {
                let cloud = AwsCloud::new(options.clone());
                live::check(&plan, &cloud, &em.live_options()).await
            };
            let wall = start.elapsed().as_secs_f64() * 1000.0;
            assert!(
                report.passed(),
                "the seeded plan must pass: {:#?}",
                report.findings.first()
            );
            let calls = em.control("/_restoreplan/requests")["requests"]
                .as_array()
                .map(|a| a.len())
                .unwrap_or(0);
            if wall < best.0 {
                best = (wall, calls);
            }
        }
        let mode = if cached { "cached" } else { "uncached" };
        println!(
            "{mode:<10} {:>10.0} {:>10} {:>14.2}",
            best.0,
            best.1,
            best.1 as f64 / tables as f64
        );
        results.push(best);
    }
    println!(
        "cache saves {:.1}x API calls and {:.1}x wall time",
        results[1].1 as f64 / results[0].1.max(1) as f64,
        results[1].0 / results[0].0
    );
}
