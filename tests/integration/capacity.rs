//! Capacity and class (`billing_mode`, `throughput`, `on_demand_throughput`,
//! `table_class`) and DynamoDB backups restored into another Region, through
//! the real binary against the emulator; every restored table is read back
//! with `DescribeTable`.

use aws_sdk_dynamodb::types::{BillingMode, TableClass, TableDescription};

use crate::apply::{World, fast};
use crate::support::aws::Aws;
use crate::support::snapshot;
use crate::test::Test;

const EAST: &str = "us-east-1";
const WEST: &str = "us-west-2";
const TIME_SCALE: &str = "0.002";

/// The table `name` as DynamoDB describes it.
pub(crate) async fn describe(aws: &Aws, name: &str) -> TableDescription {
    aws.ddb
        .describe_table()
        .table_name(name)
        .send()
        .await
        .unwrap_or_else(|e| panic!("DescribeTable {name}: {e:?}"))
        .table()
        .cloned()
        .expect("a table description")
}

fn throughput(t: &TableDescription) -> (i64, i64) {
    let p = t.provisioned_throughput().expect("ProvisionedThroughput");
    (
        p.read_capacity_units().unwrap_or_default(),
        p.write_capacity_units().unwrap_or_default(),
    )
}

fn index_throughput(t: &TableDescription, index: &str) -> (i64, i64) {
    let g = t
        .global_secondary_indexes()
        .iter()
        .find(|g| g.index_name() == Some(index))
        .unwrap_or_else(|| panic!("index {index}"));
    let p = g.provisioned_throughput().expect("ProvisionedThroughput");
    (
        p.read_capacity_units().unwrap_or_default(),
        p.write_capacity_units().unwrap_or_default(),
    )
}

fn billing(t: &TableDescription) -> Option<&BillingMode> {
    t.billing_mode_summary().and_then(|b| b.billing_mode())
}

fn class(t: &TableDescription) -> Option<&TableClass> {
    t.table_class_summary().and_then(|c| c.table_class())
}

/// A plan over `w`'s account: `orders` from a DynamoDB backup as a
/// provisioned table (table and GSI), `events` from a DynamoDB backup as
/// on-demand with a maximum, `ledger` from the vault (AWS Backup) in the
/// infrequent-access class, switched to provisioned after ACTIVE.
async fn seeded(w: &World) -> String {
    w.aws.table("orders", None, 3).await;
    w.aws.table("events", None, 2).await;
    let orders = w.aws.on_demand_backup("orders").await;
    let events = w.aws.on_demand_backup("events").await;
    w.source("ledger", 0).await;
    let mut plan = w.header("capacity", 4, None);
    plan.push_str(&format!(
        "  - table: orders\n    recovery_point: {orders}\n    billing_mode: provisioned\n    throughput: {{ read: 7, write: 3 }}\n\
         \x20 - table: events\n    recovery_point: {events}\n    on_demand_throughput: {{ max_read: 4000, max_write: 1000 }}\n\
         \x20 - table: ledger\n    table_class: standard-infrequent-access\n    billing_mode: provisioned\n    throughput: {{ read: 5, write: 4 }}\n"
    ));
    plan
}

#[tokio::test]
async fn capacity_and_class_are_restore_overrides_or_updates_and_are_read_back() {
    let w = World::new(fast(), TIME_SCALE).await;
    let plan = seeded(&w).await;
    w.write("plan.yaml", &plan);

    // The dry run shows the overrides in the requests and the updates after ACTIVE.
    let shown = w.run(&["plan", "plan.yaml"], 0);
    snapshot::settings(&[(&w.acct, "ACCOUNT")]).bind(|| {
        insta::assert_snapshot!("capacity_plan", shown.stdout);
    });
    let json = w.run(&["plan", "plan.yaml", "--format", "json"], 0);
    let doc: serde_json::Value = serde_json::from_str(&json.stdout).expect("plan JSON");
    let text = doc.to_string();
    for needle in [
        r#""BillingModeOverride":"PROVISIONED""#,
        r#""ProvisionedThroughputOverride":{"ReadCapacityUnits":7,"WriteCapacityUnits":3}"#,
        r#""OnDemandThroughputOverride":{"MaxReadRequestUnits":4000,"MaxWriteRequestUnits":1000}"#,
    ] {
        assert!(text.contains(needle), "plan JSON lacks {needle}: {text}");
    }

    w.run(&["apply", "plan.yaml", "--yes"], 0);

    let orders = describe(&w.aws, "orders-dr").await;
    assert_eq!(billing(&orders), Some(&BillingMode::Provisioned));
    assert_eq!(throughput(&orders), (7, 3));
    assert_eq!(index_throughput(&orders, "by-user"), (7, 3));
    assert_eq!(class(&orders), Some(&TableClass::Standard));

    let events = describe(&w.aws, "events-dr").await;
    assert_eq!(billing(&events), Some(&BillingMode::PayPerRequest));
    let od = events.on_demand_throughput().expect("OnDemandThroughput");
    assert_eq!(
        (od.max_read_request_units(), od.max_write_request_units()),
        (Some(4000), Some(1000))
    );
    let index_od = events.global_secondary_indexes()[0]
        .on_demand_throughput()
        .expect("the index's OnDemandThroughput");
    assert_eq!(index_od.max_read_request_units(), Some(4000));

    let ledger = describe(&w.aws, "ledger-dr").await;
    assert_eq!(class(&ledger), Some(&TableClass::StandardInfrequentAccess));
    assert_eq!(billing(&ledger), Some(&BillingMode::Provisioned));
    assert_eq!(throughput(&ledger), (5, 4));
    assert_eq!(index_throughput(&ledger, "by-user"), (5, 4));

    // The originals were not touched.
    let original = describe(&w.aws, "ledger").await;
    assert_eq!(billing(&original), Some(&BillingMode::PayPerRequest));
    assert_eq!(class(&original), Some(&TableClass::Standard));

    // AWS Backup takes no capacity overrides: the ledger's capacity and
    // class were UpdateTable calls, after the restore job.
    let updates: Vec<serde_json::Value> = w
        .requests()
        .into_iter()
        .filter(|r| r["operation"] == "UpdateTable")
        .collect();
    let ledger_updates: Vec<&serde_json::Value> = updates
        .iter()
        .filter(|r| r.to_string().contains("ledger-dr"))
        .collect();
    assert_eq!(
        ledger_updates.len(),
        2,
        "one UpdateTable for capacity, one for the class: {ledger_updates:?}"
    );
    assert!(
        !updates.iter().any(|r| r.to_string().contains("orders-dr")),
        "the DynamoDB restores carried their capacity as overrides: {updates:?}"
    );
}

#[tokio::test]
async fn live_checks_refuse_capacity_the_original_cannot_supply() {
    let w = World::new(fast(), TIME_SCALE).await;
    w.aws.table("orders", None, 1).await;
    let backup = w.aws.on_demand_backup("orders").await;
    let mut plan = w.header("capacity-live", 2, None);
    plan.push_str(&format!(
        "  - table: orders\n    recovery_point: {backup}\n    billing_mode: provisioned\n\
         \x20 - id: orders-2\n    table: orders\n    name: orders-two\n    recovery_point: {backup}\n    throughput: {{ read: 1, write: 1 }}\n"
    ));
    w.write("plan.yaml", &plan);
    let out = w.run(&["validate", "--live", "plan.yaml"], 1);
    let all = format!("{}{}", out.stdout, out.stderr);
    assert!(
        all.contains("restoreplan::capacity::needs_throughput"),
        "{all}"
    );
    assert!(
        all.contains("restoreplan::capacity::original_billing_mode"),
        "{all}"
    );
    assert!(all.contains("billing_mode: provisioned"), "{all}");
}

#[tokio::test]
async fn a_dynamodb_backup_restores_into_another_region_of_its_account() {
    let w = World::new(fast(), TIME_SCALE).await;
    w.aws.table("orders", None, 3).await;
    let backup = w.aws.on_demand_backup("orders").await;
    let acct = &w.acct;
    let plan = format!(
        "version: 1\nname: west\nsource: {{ account: \"{acct}\", region: {EAST} }}\n\
         target: {{ account: \"{acct}\", region: {WEST} }}\n\
         restores:\n  - table: orders\n    recovery_point: {backup}\n    billing_mode: provisioned\n    throughput: {{ read: 2, write: 2 }}\n"
    );
    w.write("plan.yaml", &plan);
    w.run(&["validate", "plan.yaml"], 0);
    let shown = w.run(&["plan", "plan.yaml", "--format", "json"], 0);
    let text = shown.stdout;
    assert!(text.contains("RestoreTableFromBackup"), "{text}");
    assert!(
        text.contains(r#""SSESpecificationOverride""#),
        "a cross-Region restore names its encryption: {text}"
    );
    w.run(&["apply", "plan.yaml", "--yes"], 0);
    let west = Aws::new(w.em, acct, WEST).await;
    let t = describe(&west, "orders").await;
    assert_eq!(t.item_count(), Some(3));
    assert_eq!(throughput(&t), (2, 2));
    assert_eq!(
        t.restore_summary().and_then(|r| r.source_backup_arn()),
        Some(backup.as_str())
    );
}

#[test]
fn validate_accepts_a_cross_region_dynamodb_backup_and_refuses_another_accounts() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let same = "version: 1\nname: west\nsource: { account: \"111122223333\", region: us-east-1 }\n\
        target: { account: \"111122223333\", region: us-west-2 }\nrestores:\n  - table: orders\n    \
        recovery_point: arn:aws:dynamodb:us-east-1:111122223333:table/orders/backup/01700000000000-abcdef12\n";
    std::fs::write(dir.path().join("same.yaml"), same).expect("write");
    Test::new()
        .current_dir(dir.path())
        .args(["validate", "--date", "2026-11-20", "same.yaml"])
        .status(0)
        .run();
    let other = same.replace(
        "target: { account: \"111122223333\"",
        "target: { account: \"444455556666\"",
    );
    std::fs::write(dir.path().join("other.yaml"), other).expect("write");
    let out = Test::new()
        .current_dir(dir.path())
        .args(["validate", "--date", "2026-11-20", "other.yaml"])
        .status(1)
        .run();
    let all = format!("{}{}", out.stdout, out.stderr)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        all.contains("restoreplan::recovery_point::arn_location"),
        "{all}"
    );
    assert!(
        all.contains("`copy:`"),
        "the fix names the copy step: {all}"
    );
    assert!(all.contains("advanced DynamoDB backup"), "{all}");
}
