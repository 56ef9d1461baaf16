//! Live selection: `select:` restores expanded against 2,000 tables in the
//! local emulator.
//!
//! Seeds (through AWS APIs) 2,000 tables in a source account, a quarter
//! tagged `env: prod`; then expands a plan with a name selector and a tag
//! selector (one paginated `ListTables`, `ListTagsOfResource` only for the
//! tables a tag selector still matches by name, 16 at once, behind the
//! per-run cache), and prints wall time and API calls from the emulator's
//! request log.
//!
//! Run: `cargo bench --bench live_select`

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

use std::collections::BTreeMap;
use std::time::Instant;

use aws_sdk_dynamodb::types::Tag;
use restoreplan::aws::{AccountAccess, AwsCloud, AwsOptions};
use restoreplan::check::inventory::expand_live;
use restoreplan::cloud::cache::Cached;
use restoreplan::plan::{CompileOptions, SourceFile, compile};

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
    let tables: usize = if benching() { 2_000 } else { 40 };
    let em = emulator::shared();
    let src = em.fresh_account();
    let s = aws::Aws::new(em, &src, "us-east-1").await;
    let seeding = Instant::now();
    for i in 0..tables {
        let prefix = if i % 2 == 0 { "orders" } else { "events" };
        let name = format!("{prefix}-{i:04}");
        let arn = s.table(&name, None, 0).await;
        if i % 4 == 1 {
            s.ddb
                .tag_resource()
                .resource_arn(&arn)
                .tags(
                    Tag::builder()
                        .key("env")
                        .value("prod")
                        .build()
                        .expect("tag"),
                )
                .send()
                .await
                .expect("TagResource");
        }
    }
    println!(
        "seeded {tables} tables in {:.1} s",
        seeding.elapsed().as_secs_f64()
    );
    let text = format!(
        "version: 1\nname: selection\nsource: {{ account: \"{src}\", region: us-east-1 }}\n\
         target: {{ account: \"{src}\", region: us-east-1 }}\ndefaults:\n  name: \"{{table}}-dr\"\n\
         restores:\n  - select: {{ names: [\"orders-*\"] }}\n    id: orders\n\
         \x20 - select: {{ names: [\"events-*\"], tags: {{ env: prod }} }}\n    id: prod-events\n"
    );
    let opts = CompileOptions::new(chrono::NaiveDate::from_ymd_opt(2026, 11, 23).expect("date"));
    let loaded = compile(SourceFile::new("selection.yaml", text), &opts).expect("compiles");
    let options = AwsOptions {
        accounts: BTreeMap::from([(
            src.clone(),
            AccountAccess {
                profile: None,
                role_arn: Some(emulator::Emulator::role(&src)),
            },
        )]),
        default: AccountAccess::default(),
        endpoint: Some(em.endpoint.clone()),
    };
    let mut best = (f64::MAX, 0usize, 0usize);
    let mut by_op: BTreeMap<String, usize> = BTreeMap::new();
    for _ in 0..3 {
        em.delete("/_restoreplan/requests");
        let cloud = Cached::new(AwsCloud::new(options.clone()));
        let start = Instant::now();
        let expanded = expand_live(loaded.clone(), &opts, &cloud)
            .await
            .unwrap_or_else(|e| panic!("expansion failed: {e:?}"));
        let wall = start.elapsed().as_secs_f64() * 1000.0;
        let calls = em.control("/_restoreplan/requests")["requests"]
            .as_array()
            .map(|a| a.len())
            .unwrap_or(0);
        let restores = expanded.plan.restores().len();
        assert_eq!(
            restores,
            tables / 2 + tables / 4,
            "1,000 orders + 500 prod events"
        );
        if wall < best.0 {
            best = (wall, calls, restores);
            by_op.clear();
            for r in em.control("/_restoreplan/requests")["requests"]
                .as_array()
                .into_iter()
                .flatten()
            {
                let op = r["operation"].as_str().unwrap_or("?").to_owned();
                *by_op.entry(op).or_default() += 1;
            }
        }
    }
    println!(
        "{:<8} {:>8} {:>10} {:>10}",
        "tables", "wall ms", "API calls", "restores"
    );
    println!("{tables:<8} {:>8.0} {:>10} {:>10}", best.0, best.1, best.2);
    for (op, n) in &by_op {
        println!("  {op}: {n}");
    }
}
