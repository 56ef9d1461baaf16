//! A teardown killed (SIGKILL) at several moments, each before one of its
//! AWS calls is answered: the next `teardown RUN` finishes what the killed
//! one left, from the run's journal, and removes nothing else. The emulator
//! holds the chosen operation (`delay_operations`), the test kills the
//! process while it waits, and the held request is then dropped unserved.

use std::collections::BTreeSet;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::apply::{World, events, run_id};
use crate::support::emulator::Emulator;
use crate::support::settings::{Extra, alarm, alarms, auto_scale, scaling_of};

const TIME_SCALE: &str = "0.002";

/// An emulator of each test's own: an operation one test holds must not
/// hold (or be released for) another's.
fn emulator() -> &'static Emulator {
    static EM: OnceLock<Emulator> = OnceLock::new();
    EM.get_or_init(|| Emulator::start(&["--time-scale", TIME_SCALE]))
}

fn second_emulator() -> &'static Emulator {
    static EM: OnceLock<Emulator> = OnceLock::new();
    EM.get_or_init(|| Emulator::start(&["--time-scale", TIME_SCALE]))
}

fn records(w: &World, run: &str) -> Vec<Value> {
    let path = w
        .dir
        .path()
        .join(".restoreplan/runs")
        .join(run)
        .join("journal.jsonl");
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

async fn exists(aws: &crate::support::aws::Aws, table: &str) -> bool {
    aws.ddb
        .describe_table()
        .table_name(table)
        .send()
        .await
        .is_ok()
}

fn count(recs: &[Value], record: &str) -> usize {
    recs.iter().filter(|r| r["record"] == record).count()
}

/// Starts `teardown RUN --yes` with `operation` held, waits until `ready`
/// says the process is at that call, kills it, and drops the held request.
fn kill_teardown_at(w: &World, run: &str, operation: &str, ready: impl Fn(&[Value]) -> bool) {
    w.em.post(
        "/_restoreplan/config",
        &serde_json::json!({ "delay_operations": { operation: 60 } }),
    );
    let log = w.dir.path().join(format!("teardown-{operation}.log"));
    let mut child = w.command(&["teardown", run, "--yes"]).spawn(&log);
    let deadline = Instant::now() + Duration::from_secs(60);
    while !ready(&records(w, run)) {
        assert!(
            Instant::now() < deadline,
            "teardown never reached {operation}: {}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        assert!(
            matches!(child.try_wait(), Ok(None)),
            "teardown ended before {operation}: {}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // The call is sent right after the record; let it reach the emulator.
    std::thread::sleep(Duration::from_millis(400));
    assert!(matches!(child.try_wait(), Ok(None)), "held at {operation}");
    let _ = child.kill();
    let _ = child.wait();
    w.em.post(
        "/_restoreplan/config",
        &serde_json::json!({ "delay_operations": {} }),
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_teardown_killed_at_any_moment_is_finished_by_the_next_one() {
    let w = World::new(emulator(), TIME_SCALE).await;
    let arn = w.aws.table("orders", None, 2).await;
    let x = Extra::of(&w.aws);
    auto_scale(
        &x,
        "table/orders",
        "dynamodb:table:ReadCapacityUnits",
        "DynamoDBReadCapacityUtilization",
        70.0,
    )
    .await;
    alarm(&x, "orders-throttles", "orders", "ReadThrottleEvents", &[]).await;
    // Not the run's: stays whatever teardown does.
    alarm(&x, "unrelated", "elsewhere", "ReadThrottleEvents", &[]).await;
    w.aws.vault("prod").await;
    w.aws.backup("prod", &arn).await;
    let acct = &w.acct;
    let mut plan = w.header("crash", 1, None);
    plan = plan.replace(
        "defaults:\n",
        &format!("defaults:\n  copy: {{ vault: prod, role: \"arn:aws:iam::{acct}:role/service-role/AWSBackupDefaultServiceRole\" }}\n"),
    );
    plan.push_str("  - table: orders\n    after_restore: { auto_scaling: copy, alarms: copy }\n");
    w.write("plan.yaml", &plan);
    let applied = w.run(&["apply", "plan.yaml", "--yes", "--format", "json"], 0);
    let run = run_id(&events(&applied));
    let copies_of = |recs: &[Value]| -> BTreeSet<String> {
        recs.iter()
            .filter(|r| r["record"] == "copy-completed")
            .filter_map(|r| r["recovery_point_arn"].as_str().map(str::to_owned))
            .collect()
    };
    let copies = copies_of(&records(&w, &run));
    assert_eq!(copies.len(), 1, "one copy");
    let dr_points = || async {
        w.aws
            .backup
            .list_recovery_points_by_backup_vault()
            .backup_vault_name("dr")
            .send()
            .await
            .expect("ListRecoveryPointsByBackupVault")
            .recovery_points()
            .iter()
            .filter_map(|p| p.recovery_point_arn().map(str::to_owned))
            .collect::<BTreeSet<_>>()
    };
    assert!(copies.is_subset(&dr_points().await));
    let run_resources = ["table/orders-dr".to_owned()];
    assert_eq!(scaling_of(&x, &run_resources).await.0.len(), 1);
    assert!(alarms(&x).await.contains_key("orders-dr-throttles"));

    // 1. Killed after its intent, before DeleteTable is answered.
    kill_teardown_at(&w, &run, "DeleteTable", |r| count(r, "delete-intent") == 1);
    assert_eq!(count(&records(&w, &run), "deleted"), 0);
    assert!(
        exists(&w.aws, "orders-dr").await,
        "the held DeleteTable was dropped"
    );

    // 2. Killed after deleting the table, before its scalable target goes.
    kill_teardown_at(&w, &run, "DeregisterScalableTarget", |r| {
        count(r, "deleted") == 1
    });
    assert!(!exists(&w.aws, "orders-dr").await);
    assert_eq!(
        scaling_of(&x, &run_resources).await.0.len(),
        1,
        "target left"
    );
    assert!(alarms(&x).await.contains_key("orders-dr-throttles"));

    // 3. Killed with the table and its target gone, before its alarm goes.
    kill_teardown_at(&w, &run, "DeleteAlarms", |r| count(r, "deleted") == 2);
    let (targets, policies) = scaling_of(&x, &run_resources).await;
    assert!(
        targets.is_empty() && policies.is_empty(),
        "{targets:?} {policies:?}"
    );
    assert!(
        alarms(&x).await.contains_key("orders-dr-throttles"),
        "alarm left"
    );

    // 4. Killed with every setting gone, before the copy is deleted.
    kill_teardown_at(&w, &run, "DeleteRecoveryPoint", |r| {
        count(r, "settings-removed") == 1
    });
    assert!(!alarms(&x).await.contains_key("orders-dr-throttles"));
    assert!(copies.is_subset(&dr_points().await), "copy left");

    // 5. The next teardown deletes the copy, and then nothing is left to do.
    let done = w.run(&["teardown", &run, "--yes"], 0);
    for arn in &copies {
        assert!(
            done.stdout.contains(&format!("deleted {arn}")),
            "{}",
            done.stdout
        );
    }
    assert!(dr_points().await.is_disjoint(&copies));
    let again = w.run(&["teardown", &run, "--yes"], 0);
    assert!(
        again.stdout.contains("no table to delete"),
        "{}",
        again.stdout
    );

    // Nothing else was touched: the original, its target, its alarm, the
    // unrelated alarm and the original's recovery point stay.
    assert!(exists(&w.aws, "orders").await);
    assert_eq!(
        scaling_of(&x, &["table/orders".to_owned()]).await.0.len(),
        1
    );
    // (Auto scaling's own `TargetTracking-…` alarms are the original's policy's.)
    let left: Vec<String> = alarms(&x)
        .await
        .into_keys()
        .filter(|a| !a.starts_with("TargetTracking-"))
        .collect();
    assert_eq!(left, ["orders-throttles", "unrelated"]);
    let prod = w
        .aws
        .backup
        .list_recovery_points_by_backup_vault()
        .backup_vault_name("prod")
        .send()
        .await
        .expect("ListRecoveryPointsByBackupVault");
    assert_eq!(prod.recovery_points().len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn leftovers_of_a_deleted_table_are_shown_before_they_are_removed() {
    let w = World::new(second_emulator(), TIME_SCALE).await;
    let arn = w.aws.table("carts", None, 1).await;
    let x = Extra::of(&w.aws);
    alarm(&x, "carts-throttles", "carts", "ReadThrottleEvents", &[]).await;
    w.aws.backup("dr", &arn).await;
    let mut plan = w.header("crash-shown", 1, None);
    plan.push_str("  - table: carts\n    after_restore: { alarms: copy }\n");
    w.write("plan.yaml", &plan);
    let applied = w.run(&["apply", "plan.yaml", "--yes", "--format", "json"], 0);
    let run = run_id(&events(&applied));
    kill_teardown_at(&w, &run, "DeleteAlarms", |r| count(r, "deleted") == 1);
    assert!(!exists(&w.aws, "carts-dr").await);
    let shown = w.run(&["teardown", &run, "--yes"], 0);
    assert!(
        shown.stdout.contains("an earlier teardown of run")
            && shown.stdout.contains("carts-dr")
            && shown.stdout.contains("PutMetricAlarm"),
        "{}",
        shown.stdout
    );
    assert!(
        shown
            .stdout
            .contains("removed for carts-dr: DeleteAlarms carts-dr-throttles"),
        "{}",
        shown.stdout
    );
    assert!(
        !shown.stdout.contains("deleted carts-dr"),
        "{}",
        shown.stdout
    );
    let left: Vec<String> = alarms(&x).await.into_keys().collect();
    assert_eq!(left, ["carts-throttles"]);
}
