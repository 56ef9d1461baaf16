//! `after_restore.verify` through the real binary against the emulator:
//! `items` and `keys` fail exactly the restores whose data does not hold,
//! with their evidence, dependents follow `on_failure`, and a provisioned
//! table is counted within half of its read capacity per second.

use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType,
    ProvisionedThroughput, ScalarAttributeType,
};
use serde_json::Value;

use crate::apply::{World, events, fast, ids_with};

const EAST: &str = "us-east-1";
const TIME_SCALE: &str = "0.002";

/// The checks of the `verified` event of restore `id`.
fn checks(ev: &[Value], id: &str) -> Vec<Value> {
    ev.iter()
        .find(|e| e["event"] == "verified" && e["id"] == id)
        .and_then(|e| e["checks"].as_array().cloned())
        .unwrap_or_else(|| panic!("a verified event for {id}"))
}

fn check<'a>(all: &'a [Value], name: &str) -> &'a Value {
    all.iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("a `{name}` check in {all:?}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn failed_data_checks_fail_exactly_their_restores_with_evidence() {
    let w = World::new(fast(), TIME_SCALE).await;
    for t in ["good", "nokey", "few", "after-nokey", "after-few"] {
        w.aws.table(t, None, 3).await;
        w.aws.on_demand_backup(t).await;
    }
    let acct = &w.acct;
    w.write(
        "plan.yaml",
        &format!(
            "version: 1\nname: checks\nsource: {{ account: \"{acct}\", region: {EAST} }}\n\
             target: {{ account: \"{acct}\", region: {EAST} }}\n\
             defaults:\n  name: \"{{table}}-copy\"\n  after_restore:\n    verify:\n      items: {{ min: 1 }}\n\
             execution: {{ on_failure: continue }}\n\
             restores:\n\
             \x20 - table: good\n    after_restore:\n      verify:\n        keys: [{{ pk: k0 }}, {{ pk: k2 }}]\n\
             \x20 - table: nokey\n    after_restore:\n      verify:\n        keys: [{{ pk: k0 }}, {{ pk: k9 }}]\n\
             \x20 - table: few\n    after_restore:\n      verify:\n        items: {{ min: 100, max: 1000 }}\n\
             \x20 - table: after-nokey\n    depends_on: [nokey]\n\
             \x20 - table: after-few\n    depends_on: [few]\n"
        ),
    );
    let out = w.run(&["apply", "plan.yaml", "--yes", "--format", "json"], 1);
    let ev = events(&out);
    assert_eq!(
        ids_with(&ev, "restore-completed"),
        ["good".to_owned()].into(),
        "{}",
        out.stdout
    );
    assert_eq!(
        ids_with(&ev, "restore-failed"),
        ["few".to_owned(), "nokey".to_owned()].into()
    );
    assert_eq!(
        ids_with(&ev, "restore-skipped"),
        ["after-few".to_owned(), "after-nokey".to_owned()].into()
    );

    let good = checks(&ev, "good");
    let items = check(&good, "items");
    assert_eq!(items["passed"], true, "{items}");
    let detail = items["detail"].as_str().unwrap();
    assert!(
        detail.contains("3 items counted") && detail.contains("read units consumed"),
        "{detail}"
    );
    let keys: Vec<&Value> = good.iter().filter(|c| c["name"] == "key").collect();
    assert_eq!(keys.len(), 2);
    assert!(keys.iter().all(|k| k["passed"] == true), "{keys:?}");

    let nokey = checks(&ev, "nokey");
    let missing: Vec<&Value> = nokey
        .iter()
        .filter(|c| c["name"] == "key" && c["passed"] == false)
        .collect();
    assert_eq!(missing.len(), 1, "{nokey:?}");
    assert!(
        missing[0]["detail"]
            .as_str()
            .unwrap()
            .contains("{pk: \"k9\"} is not in the table"),
        "{}",
        missing[0]
    );
    assert_eq!(check(&nokey, "items")["passed"], true);

    let few = checks(&ev, "few");
    let items = check(&few, "items");
    assert_eq!(items["passed"], false);
    let detail = items["detail"].as_str().unwrap();
    assert!(
        detail.contains("expected between 100 and 1000") && detail.contains("3 items counted"),
        "{detail}"
    );
    let failed = ev
        .iter()
        .find(|e| e["event"] == "restore-failed" && e["id"] == "few")
        .unwrap();
    assert!(
        failed["cause"]
            .as_str()
            .unwrap()
            .contains("items: expected"),
        "{failed}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_provisioned_table_is_counted_within_half_its_read_capacity() {
    let w = World::new(fast(), TIME_SCALE).await;
    let (name, items, payload) = ("paced", 24usize, 3000usize);
    w.aws
        .ddb
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::Provisioned)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("pk")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .unwrap(),
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("pk")
                .key_type(KeyType::Hash)
                .build()
                .unwrap(),
        )
        .provisioned_throughput(
            ProvisionedThroughput::builder()
                .read_capacity_units(5)
                .write_capacity_units(5)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .expect("CreateTable");
    for i in 0..items {
        w.aws
            .ddb
            .put_item()
            .table_name(name)
            .item("pk", AttributeValue::S(format!("k{i:04}")))
            .item("data", AttributeValue::S("x".repeat(payload)))
            .send()
            .await
            .expect("PutItem");
    }
    w.aws.on_demand_backup(name).await;
    let acct = &w.acct;
    w.write(
        "plan.yaml",
        &format!(
            "version: 1\nname: paced\nsource: {{ account: \"{acct}\", region: {EAST} }}\n\
             target: {{ account: \"{acct}\", region: {EAST} }}\n\
             restores:\n  - table: {name}\n    name: {name}-copy\n    after_restore:\n      verify:\n        items: {{ min: {items}, max: {items} }}\n"
        ),
    );
    let out = w.run(&["apply", "plan.yaml", "--yes", "--format", "json"], 0);
    let ev = events(&out);
    let items_check = check(&checks(&ev, name), "items").clone();
    assert_eq!(items_check["passed"], true, "{items_check}");
    let detail = items_check["detail"].as_str().unwrap();
    assert!(
        detail.contains(&format!("{items} items counted")) && detail.contains("5 RCU"),
        "{detail}"
    );
    let ledger =
        w.em.control(&format!("/_restoreplan/capacity?table={name}-copy"));
    let entry = &ledger["tables"][0];
    assert_eq!(entry["provisioned_read_capacity_units"], 5, "{ledger}");
    let max = entry["max_read_units_per_second"].as_f64().unwrap();
    assert!(max > 0.0 && max <= 2.5, "{ledger}");
    // 24 items of 3 KB: 9 units or more, at most 2.5 a second.
    assert!(entry["seconds"].as_array().unwrap().len() >= 3, "{ledger}");
}
