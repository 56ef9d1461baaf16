//! The committed JSON Schema matches the Rust types.

use crate::test::{Test, root};

#[test]
fn committed_schema_is_up_to_date() {
    let committed = std::fs::read_to_string(root().join("schemas/restore-plan.schema.json"))
        .expect("schemas/restore-plan.schema.json exists");
    let generated = Test::new().args(["schema"]).run().stdout;
    assert!(
        committed == generated,
        "schemas/restore-plan.schema.json is stale; regenerate it with\n\n    cargo run -q -- schema > schemas/restore-plan.schema.json\n"
    );
}

#[test]
fn schema_describes_keys_for_editors() {
    let schema: serde_json::Value =
        serde_json::from_str(&Test::new().args(["schema"]).run().stdout).expect("JSON");
    let restore = &schema["$defs"]["Restore"]["properties"];
    for key in [
        "table",
        "id",
        "depends_on",
        "name",
        "recovery_point",
        "encryption",
        "indexes",
        "after_restore",
        "source",
        "target",
    ] {
        assert!(
            restore[key]["description"].is_string(),
            "{key} lacks a description"
        );
    }
    assert_eq!(schema["$defs"]["Restore"]["additionalProperties"], false);
}
