//! `plan`'s predicted RTO and `simulate`'s makespan come from one scheduler.
//!
//! The prediction (`diff::predict`, which `plan` and `apply` print) runs
//! `schedule::simulate_static` over the restores' durations; `simulate`
//! runs the real executor against the simulated cloud in virtual time. Under
//! the same durations the two must give the same number.
//!
//! Same durations means: the duration model without jitter (the simulated
//! cloud then takes exactly the model's estimate), no after-restore
//! allowance (the simulated cloud applies settings at once), and each
//! restore's duration rounded up to the millisecond — tokio's timer wheel
//! wakes a sleep at the first whole millisecond at or after its deadline,
//! so that is when the executor sees a table ACTIVE. The executor is given
//! a polling policy whose first poll lands on the estimate (fraction 1, no
//! minimum) and no request-rate cap (calls take no virtual time). With
//! those, the comparison is exact, in whole milliseconds.
//!
//! One thing is left to chance in the executor: two restores whose tables
//! are ACTIVE at the same millisecond are handled in the order tokio wakes
//! them, which the static schedule cannot know. The property therefore
//! draws plans whose events do not coincide (`prop_assume!`); the example
//! plans are checked as they are.

use std::time::Duration;

use chrono::{DateTime, Utc};
use proptest::prelude::*;
use restoreplan::diff::predict::{self, Prediction};
use restoreplan::duration::DurationModel;
use restoreplan::exec::policy::PollPolicy;
use restoreplan::plan::model::Plan;
use restoreplan::plan::{CompileOptions, SourceFile, compile};
use restoreplan::schedule::{Caps, Timing};
use restoreplan::sim::offline::{OfflinePlan, Sizes, resolve_offline};
use restoreplan::sim::run::{SimConfig, simulate};

fn start() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-24T09:00:00Z")
        .map(|d| d.with_timezone(&Utc))
        .unwrap_or_default()
}

fn load(name: &str, text: &str) -> Plan {
    let opts = CompileOptions::new(chrono::NaiveDate::from_ymd_opt(2026, 11, 24).expect("date"));
    match compile(SourceFile::new(name, text), &opts) {
        Ok(l) => l.plan,
        Err(r) => panic!("{name} does not compile: {:#?}\n{text}", r.findings),
    }
}

/// Tokio's timer granularity: a sleep of `secs` ends at this many whole
/// milliseconds.
fn millis(secs: f64) -> f64 {
    Duration::from_secs_f64(secs.max(0.0))
        .as_nanos()
        .div_ceil(1_000_000) as f64
}

/// What `plan`'s prediction gives for `offline`'s durations, in ms.
fn predicted(plan: &Plan, offline: &OfflinePlan, caps: Caps) -> Prediction {
    let timings: Vec<Timing> = offline
        .specs
        .iter()
        .map(|s| Timing {
            restore: millis(s.estimated_seconds),
            settle: 0.0,
            ..predict::timing(s.estimated_seconds, 0)
        })
        .collect();
    predict::predict_with(plan, &timings, caps)
}

/// What `simulate` measures for `offline` under `caps`, in ms.
fn simulated(plan: &Plan, offline: &OfflinePlan, model: &DurationModel, caps: Caps) -> f64 {
    let mut cfg = SimConfig::from_execution(&plan.header().execution, 1, start());
    cfg.concurrency = caps.concurrency;
    cfg.per_account = caps.per_account;
    cfg.requests_per_second = None;
    cfg.poll = PollPolicy {
        min: Duration::ZERO,
        max: Duration::from_secs(365 * 86_400),
        fraction: 1.0,
        ..PollPolicy::default()
    };
    let out = simulate(plan.graph(), offline, model, "agree", None, &cfg)
        .unwrap_or_else(|e| panic!("simulate: {e}"));
    assert_eq!(
        out.summary.completed,
        plan.restores().len(),
        "every restore completes: {:?}",
        out.summary
    );
    (out.makespan * 1000.0).round()
}

/// True when two different restores are ACTIVE at the same millisecond.
fn has_ties(p: &Prediction) -> bool {
    let mut times: Vec<f64> = p.schedule.active.clone();
    times.sort_by(f64::total_cmp);
    times.windows(2).any(|w| w[0] == w[1])
}

const ACCOUNTS: [&str; 3] = ["111122223333", "444455556666", "777788889999"];

/// A plan of `sizes.len()` restores: restore `i` depends on the earlier
/// restores `edges` name, goes to account `accounts[i]`, and is a
/// point-in-time restore (native) or an AWS Backup restore.
fn random_plan(
    concurrency: u32,
    restores: &[(u64, usize, bool, bool)],
    edges: &[(usize, usize)],
) -> (String, Sizes) {
    let mut text = format!(
        r#"version: 1
name: agree
source: {{ account: "{a}", region: us-east-1 }}
target:
  account: "{a}"
  region: us-east-1
  vault: dr
  role: arn:aws:iam::{a}:role/restore
defaults:
  name: "{{table}}-dr"
execution:
  concurrency: {concurrency}
restores:
"#,
        a = ACCOUNTS[0]
    );
    let mut sizes = Sizes::default();
    for (i, &(bytes, account, native, pitr)) in restores.iter().enumerate() {
        text.push_str(&format!("  - table: tbl{i}\n"));
        sizes.0.insert(format!("tbl{i}"), bytes);
        if native {
            // Point in time stays in the source account.
            text.push_str("    recovery_point: { point_in_time: latest }\n");
        } else if account != 0 {
            let b = ACCOUNTS[account];
            text.push_str(&format!(
                "    target: {{ account: \"{b}\", role: \"arn:aws:iam::{b}:role/restore\" }}\n"
            ));
        }
        if pitr {
            text.push_str("    after_restore: { point_in_time_recovery: true }\n");
        }
        let deps: Vec<String> = edges
            .iter()
            .filter(|&&(a, b)| b == i && a < b)
            .map(|&(a, _)| format!("tbl{a}"))
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        if !deps.is_empty() {
            text.push_str(&format!("    depends_on: [{}]\n", deps.join(", ")));
        }
    }
    (text, sizes)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn the_predicted_rto_is_the_simulated_makespan(
        restores in prop::collection::vec((1u64 << 20..64u64 << 30, 0usize..3, any::<bool>(), any::<bool>()), 1..12),
        edges in prop::collection::vec((0usize..12, 0usize..12), 0..20),
        concurrency in 1u32..6,
        per_account in 1u32..4,
        backup_overhead in 60.0f64..1800.0,
        native_overhead in 60.0f64..1200.0,
        mib_per_second in 1.0f64..200.0,
    ) {
        let (text, sizes) = random_plan(concurrency, &restores, &edges);
        let plan = load("agree.yaml", &text);
        let model = DurationModel {
            backup_overhead_seconds: backup_overhead,
            native_overhead_seconds: native_overhead,
            bytes_per_second: mib_per_second * 1024.0 * 1024.0,
            jitter: 0.0,
            ..DurationModel::default()
        };
        let offline = resolve_offline(plan.name(), plan.restores(), &sizes, &model, start());
        let caps = Caps { concurrency, per_account };
        let p = predicted(&plan, &offline, caps);
        prop_assume!(!has_ties(&p));
        let sim = simulated(&plan, &offline, &model, caps);
        prop_assert_eq!(p.makespan, sim, "plan:\n{}", text);
    }
}

fn example(name: &str) -> String {
    let path = format!("{}/plans/examples/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn the_example_plans_predict_what_they_simulate() {
    let model = DurationModel {
        jitter: 0.0,
        ..DurationModel::default()
    };
    for (name, sizes) in [
        ("dr-cross-account-cross-region.yaml", None),
        ("rehearsal-same-account.yaml", None),
        (
            "ecommerce-environment.yaml",
            Some("ecommerce-environment.sizes.yaml"),
        ),
    ] {
        let plan = load(name, &example(name));
        let sizes = sizes
            .map(|s| Sizes::from_yaml(&example(s)).unwrap_or_else(|e| panic!("{s}: {e}")))
            .unwrap_or_default();
        let offline = resolve_offline(plan.name(), plan.restores(), &sizes, &model, start());
        let caps = predict::caps(&plan);
        let p = predicted(&plan, &offline, caps);
        let sim = simulated(&plan, &offline, &model, caps);
        assert_eq!(p.makespan, sim, "{name}: predicted vs simulated, in ms");
        assert!(sim > 0.0, "{name}");
    }
}

/// A plan whose restores count their items (`verify.items`): `plan`'s
/// prediction counts the paced Scan's time after each restore's settings
/// (`duration::verify_seconds`), and `simulate` runs the same paced count
/// in virtual time; they agree within 5% of the counting time.
#[test]
fn verification_time_is_predicted_as_it_is_simulated() {
    let a = ACCOUNTS[0];
    let text = format!(
        "version: 1\nname: counted\nsource: {{ account: \"{a}\", region: us-east-1 }}\n\
         target: {{ account: \"{a}\", region: us-east-1, vault: dr, role: \"arn:aws:iam::{a}:role/restore\" }}\n\
         defaults:\n  name: \"{{table}}-dr\"\n\
         restores:\n\
         \x20 - table: big\n    after_restore:\n      verify:\n        items: {{ min: 1 }}\n\
         \x20 - table: after\n    depends_on: [big]\n    after_restore:\n      verify:\n        items: {{ min: 1 }}\n        max_read_fraction: 0.25\n"
    );
    let plan = load("counted.yaml", &text);
    let model = DurationModel {
        jitter: 0.0,
        ..DurationModel::default()
    };
    let mut sizes = Sizes::default();
    sizes.0.insert("big".to_owned(), 2 << 30);
    sizes.0.insert("after".to_owned(), 1 << 30);
    let offline = resolve_offline(plan.name(), plan.restores(), &sizes, &model, start());
    let caps = predict::caps(&plan);
    let verify: Vec<f64> = plan
        .restores()
        .iter()
        .map(|r| {
            let v = r.after_restore.verify.as_ref().expect("verify");
            restoreplan::duration::verify_seconds(v, sizes.0[&r.table])
        })
        .collect();
    // 2 GiB at 2000 units/s and 1 GiB at 1000 units/s: 144 s and 154 s
    // (whole 1 MB pages of a window).
    assert!(verify.iter().all(|&v| v > 130.0 && v < 160.0), "{verify:?}");
    let timings: Vec<Timing> = offline
        .specs
        .iter()
        .zip(&verify)
        .map(|(s, &v)| predict::verified_timing(s.estimated_seconds, 0, v))
        .collect();
    let p = predict::predict_with(&plan, &timings, caps);
    let bare: Vec<Timing> = offline
        .specs
        .iter()
        .map(|s| predict::timing(s.estimated_seconds, 0))
        .collect();
    let without = predict::predict_with(&plan, &bare, caps);
    assert!(
        p.makespan > without.makespan + 290.0,
        "verification is in the estimate"
    );
    let sim = simulated(&plan, &offline, &model, caps) / 1000.0;
    // Pages of at most 1 MB (DynamoDB's limit) fill a window's read rate
    // to within one page: within 5%, and two windows per count.
    let window = restoreplan::duration::PACING_WINDOW_SECONDS;
    let counted: f64 = verify.iter().sum();
    assert!(
        (p.makespan - sim).abs() <= 0.05 * counted + 4.0 * window,
        "predicted {} s, simulated {sim} s",
        p.makespan
    );
}
