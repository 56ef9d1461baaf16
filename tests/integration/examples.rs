//! Every plan under `plans/` validates. Files named `*.sizes.yaml` beside a
//! plan are table sizes for `simulate`, not plans.

use crate::test::{Test, root};

fn plans() -> Vec<String> {
    let mut out = Vec::new();
    let mut dirs = vec![root().join("plans")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("plans/ exists").flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml")
                && !path.to_string_lossy().ends_with(".sizes.yaml")
            {
                out.push(path.display().to_string());
            }
        }
    }
    out.sort();
    out
}

#[test]
fn every_plan_validates() {
    let plans = plans();
    assert!(plans.len() >= 3, "{plans:?}");
    let out = Test::new()
        .args(["validate"])
        .args(plans.iter().cloned())
        .run();
    for plan in &plans {
        assert!(
            out.stdout.contains(&format!("{plan}: valid")),
            "{}",
            out.stdout
        );
    }
}

#[test]
fn examples_point_editors_at_the_schema() {
    for plan in plans() {
        let text = std::fs::read_to_string(&plan).expect("readable");
        assert!(
            text.starts_with(
                "# yaml-language-server: $schema=../../schemas/restore-plan.schema.json"
            ),
            "{plan}"
        );
    }
}

#[test]
fn the_ecommerce_example_has_forty_tables_and_mixed_encryption() {
    let path = root().join("plans/examples/ecommerce-environment.yaml");
    let opts = restoreplan::plan::CompileOptions::new(
        chrono::NaiveDate::from_ymd_opt(2026, 11, 20).expect("date"),
    );
    let loaded = restoreplan::plan::load_file(&path, &opts).expect("the example is valid");
    let plan = &loaded.plan;
    assert_eq!(plan.restores().len(), 40);
    assert!(plan.graph().layers().len() >= 5);
    let kinds: std::collections::BTreeSet<String> = plan
        .restores()
        .iter()
        .map(|r| serde_json::to_value(&r.encryption).expect("serializable")["type"].to_string())
        .collect();
    assert!(kinds.len() >= 3, "{kinds:?}");
    let orders = plan
        .restores()
        .iter()
        .find(|r| r.id == "orders")
        .expect("orders");
    assert_eq!(orders.target_name, "orders-shop-staging-gameday");
    assert_eq!(orders.target.location.region.as_str(), "eu-central-1");
    assert_eq!(
        orders.source_table_arn(),
        "arn:aws:dynamodb:eu-central-1:123456789012:table/orders"
    );
}
