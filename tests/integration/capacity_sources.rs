//! Capacity beyond the table's own keys, through the real binary against
//! the emulator: a GSI's own `throughput` (`indexes: [{name, throughput}]`),
//! capacity read from the backup's table description when the original
//! table is gone, and the contributor-insights mode.

use aws_sdk_dynamodb::types::{
    BillingMode, ContributorInsightsAction, ContributorInsightsMode, GlobalSecondaryIndexUpdate,
    ProvisionedThroughput, TableDescription, UpdateGlobalSecondaryIndexAction,
};

use crate::apply::{World, fast};
use crate::capacity::describe;
use crate::support::aws::Aws;

const TIME_SCALE: &str = "0.002";

fn units(p: Option<&aws_sdk_dynamodb::types::ProvisionedThroughputDescription>) -> (i64, i64) {
    let p = p.expect("ProvisionedThroughput");
    (
        p.read_capacity_units().unwrap_or_default(),
        p.write_capacity_units().unwrap_or_default(),
    )
}

fn table_units(t: &TableDescription) -> (i64, i64) {
    units(t.provisioned_throughput())
}

fn index_units(t: &TableDescription, index: &str) -> (i64, i64) {
    let g = t
        .global_secondary_indexes()
        .iter()
        .find(|g| g.index_name() == Some(index))
        .unwrap_or_else(|| panic!("index {index}"));
    units(g.provisioned_throughput())
}

fn spec(read: i64, write: i64) -> ProvisionedThroughput {
    ProvisionedThroughput::builder()
        .read_capacity_units(read)
        .write_capacity_units(write)
        .build()
        .expect("throughput")
}

/// Switches `name` (with its GSI `by-user`) to provisioned capacity.
async fn provision(aws: &Aws, name: &str, table: (i64, i64), index: (i64, i64)) {
    aws.ddb
        .update_table()
        .table_name(name)
        .billing_mode(BillingMode::Provisioned)
        .provisioned_throughput(spec(table.0, table.1))
        .global_secondary_index_updates(
            GlobalSecondaryIndexUpdate::builder()
                .update(
                    UpdateGlobalSecondaryIndexAction::builder()
                        .index_name("by-user")
                        .provisioned_throughput(spec(index.0, index.1))
                        .build()
                        .expect("an index update"),
                )
                .build(),
        )
        .send()
        .await
        .expect("UpdateTable");
}

#[tokio::test]
async fn an_index_of_its_own_gets_its_throughput_in_the_override_and_after_active() {
    let w = World::new(fast(), TIME_SCALE).await;
    w.aws.table("orders", None, 2).await;
    let backup = w.aws.on_demand_backup("orders").await;
    // `ledger` is restored by AWS Backup, which takes no overrides.
    w.source("ledger", 0).await;
    let mut plan = w.header("index-capacity", 2, None);
    plan.push_str(&format!(
        "  - table: orders\n    recovery_point: {backup}\n    billing_mode: provisioned\n    throughput: {{ read: 7, write: 3 }}\n    indexes: [{{ name: by-user, throughput: {{ read: 2, write: 1 }} }}]\n\
         \x20 - table: ledger\n    billing_mode: provisioned\n    throughput: {{ read: 5, write: 4 }}\n    indexes: [{{ name: by-user, throughput: {{ read: 3, write: 2 }} }}]\n"
    ));
    w.write("plan.yaml", &plan);
    w.run(&["validate", "plan.yaml"], 0);

    // The dry run shows the index's own capacity in the request and in the
    // UpdateTable after ACTIVE.
    let json = w.run(&["plan", "plan.yaml", "--format", "json"], 0);
    let dry: serde_json::Value = serde_json::from_str(&json.stdout).expect("plan JSON");
    let orders = &dry["restores"][0];
    let gsi = &orders["request"]["parameters"]["GlobalSecondaryIndexOverride"][0];
    assert_eq!(gsi["IndexName"], "by-user", "{orders}");
    assert_eq!(
        gsi["ProvisionedThroughput"],
        serde_json::json!({"ReadCapacityUnits": 2, "WriteCapacityUnits": 1})
    );
    assert_eq!(
        orders["request"]["parameters"]["ProvisionedThroughputOverride"],
        serde_json::json!({"ReadCapacityUnits": 7, "WriteCapacityUnits": 3})
    );
    assert_eq!(orders["capacity_from"], "original-table");
    let ledger_steps = dry["restores"][1]["after_restore"].to_string();
    assert!(ledger_steps.contains("UpdateTable"), "{ledger_steps}");
    let text = w.run(&["plan", "plan.yaml"], 0).stdout;
    assert!(
        text.contains("capacity of the original from the original table (DescribeTable)"),
        "{text}"
    );

    w.run(&["apply", "plan.yaml", "--yes"], 0);
    let orders = describe(&w.aws, "orders-dr").await;
    assert_eq!(table_units(&orders), (7, 3));
    assert_eq!(index_units(&orders, "by-user"), (2, 1));
    let ledger = describe(&w.aws, "ledger-dr").await;
    assert_eq!(table_units(&ledger), (5, 4));
    assert_eq!(index_units(&ledger, "by-user"), (3, 2));
    let update = w
        .requests()
        .into_iter()
        .filter(|r| r["operation"] == "UpdateTable" && r.to_string().contains("ledger-dr"))
        .count();
    assert_eq!(update, 1, "one UpdateTable gives the ledger its capacity");
}

#[tokio::test]
async fn unknown_index_names_and_an_index_without_throughput_are_found_live() {
    let w = World::new(fast(), TIME_SCALE).await;
    w.aws.table("orders", None, 1).await;
    provision(&w.aws, "orders", (6, 6), (3, 3)).await;
    let backup = w.aws.on_demand_backup("orders").await;
    // The original no longer has the index the backup holds.
    w.aws
        .ddb
        .update_table()
        .table_name("orders")
        .global_secondary_index_updates(
            GlobalSecondaryIndexUpdate::builder()
                .delete(
                    aws_sdk_dynamodb::types::DeleteGlobalSecondaryIndexAction::builder()
                        .index_name("by-user")
                        .build()
                        .expect("a delete"),
                )
                .build(),
        )
        .send()
        .await
        .expect("UpdateTable delete the index");
    let mut plan = w.header("index-rules", 2, None);
    plan.push_str(&format!(
        "  - table: orders\n    recovery_point: {backup}\n    billing_mode: provisioned\n\
         \x20 - id: typo\n    table: orders\n    name: orders-typo\n    recovery_point: {backup}\n    indexes: [{{ name: by-usr, throughput: {{ read: 1, write: 1 }} }}]\n"
    ));
    w.write("plan.yaml", &plan);
    let out = w.run(&["validate", "--live", "plan.yaml", "--format", "json"], 1);
    let doc: serde_json::Value = serde_json::from_str(&out.stdout).expect("findings JSON");
    let text = doc.to_string();
    assert!(
        text.contains("restoreplan::capacity::index_needs_throughput"),
        "{text}"
    );
    assert!(text.contains("name: by-user, throughput"), "{text}");
    assert!(text.contains("restoreplan::plan::unknown_index"), "{text}");
    assert!(text.contains("did you mean `by-user`?"), "{text}");
    // Offline: an index's throughput with on-demand billing.
    let mut plan = w.header("index-static", 1, None);
    plan.push_str(
        "  - table: orders\n    billing_mode: on-demand\n    indexes: [{ name: by-user, throughput: { read: 2, write: 1 } }]\n\
         \x20 - table: events\n    indexes: [{ name: by-user, throughput: { read: 0, write: 1 } }]\n",
    );
    w.write("static.yaml", &plan);
    let out = w.run(&["validate", "static.yaml"], 1);
    let all = format!("{}{}", out.stdout, out.stderr);
    assert!(
        all.contains("restoreplan::capacity::throughput_on_demand"),
        "{all}"
    );
    assert!(all.contains("restoreplan::capacity::range"), "{all}");
}

#[tokio::test]
async fn a_deleted_original_gives_its_capacity_through_the_backups_description() {
    let w = World::new(fast(), TIME_SCALE).await;
    w.aws.table("orders", None, 3).await;
    provision(&w.aws, "orders", (12, 6), (4, 2)).await;
    let backup = w.aws.on_demand_backup("orders").await;
    w.aws
        .ddb
        .delete_table()
        .table_name("orders")
        .send()
        .await
        .expect("DeleteTable");
    let mut plan = w.header("gone", 1, None);
    plan.push_str(&format!(
        "  - table: orders\n    recovery_point: {backup}\n    billing_mode: provisioned\n    table_class: standard\n"
    ));
    w.write("plan.yaml", &plan);
    let text = w.run(&["plan", "plan.yaml"], 0).stdout;
    assert!(
        text.contains("capacity of the original from the recovery point's table description (DescribeBackup SourceTableDetails): the original table cannot be read"),
        "{text}"
    );
    let json = w.run(&["plan", "plan.yaml", "--format", "json"], 0);
    let dry: serde_json::Value = serde_json::from_str(&json.stdout).expect("plan JSON");
    let r = &dry["restores"][0];
    assert_eq!(r["capacity_from"], "recovery-point");
    assert_eq!(
        r["request"]["parameters"]["ProvisionedThroughputOverride"],
        serde_json::json!({"ReadCapacityUnits": 12, "WriteCapacityUnits": 6}),
        "{r}"
    );
    // The class is unknown from a backup: it is set after ACTIVE.
    assert!(
        r["after_restore"].to_string().contains("UpdateTable"),
        "{r}"
    );

    w.run(&["apply", "plan.yaml", "--yes"], 0);
    let t = describe(&w.aws, "orders-dr").await;
    assert_eq!(table_units(&t), (12, 6));
    assert_eq!(index_units(&t, "by-user"), (4, 2));
    assert_eq!(t.item_count(), Some(3));
}

async fn insights_mode(aws: &Aws, table: &str) -> Option<ContributorInsightsMode> {
    let d = aws
        .ddb
        .describe_contributor_insights()
        .table_name(table)
        .send()
        .await
        .expect("DescribeContributorInsights");
    assert_eq!(
        d.contributor_insights_status().map(|s| s.as_str()),
        Some("ENABLED"),
        "{table}: {d:?}"
    );
    d.contributor_insights_mode().cloned()
}

#[tokio::test]
async fn contributor_insights_keep_their_mode_copied_or_written() {
    let w = World::new(fast(), TIME_SCALE).await;
    w.aws.table("orders", None, 1).await;
    w.aws.table("events", None, 1).await;
    w.aws
        .ddb
        .update_contributor_insights()
        .table_name("orders")
        .contributor_insights_action(ContributorInsightsAction::Enable)
        .contributor_insights_mode(ContributorInsightsMode::ThrottledKeys)
        .send()
        .await
        .expect("UpdateContributorInsights");
    let orders = w.aws.on_demand_backup("orders").await;
    let events = w.aws.on_demand_backup("events").await;
    let mut plan = w.header("insights", 2, None);
    plan.push_str(&format!(
        "  - table: orders\n    recovery_point: {orders}\n    after_restore: {{ contributor_insights: copy }}\n\
         \x20 - table: events\n    recovery_point: {events}\n    after_restore: {{ contributor_insights: {{ mode: throttled-keys }} }}\n"
    ));
    w.write("plan.yaml", &plan);
    let text = w.run(&["plan", "plan.yaml"], 0).stdout;
    assert!(
        text.contains("contributor insights on (THROTTLED_KEYS)"),
        "{text}"
    );
    assert!(text.contains("on (table THROTTLED_KEYS)"), "{text}");
    w.run(&["apply", "plan.yaml", "--yes"], 0);
    for t in ["orders-dr", "events-dr"] {
        assert_eq!(
            insights_mode(&w.aws, t).await,
            Some(ContributorInsightsMode::ThrottledKeys),
            "{t}"
        );
    }
}
