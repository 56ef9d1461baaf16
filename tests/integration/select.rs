//! `select:` restores through the real binary against the emulator: the
//! expansion in `plan` (text, JSON, Markdown), the journal, and each rule
//! reported at the selector's line.

use std::collections::BTreeSet;

use aws_sdk_dynamodb::types::Tag;
use serde_json::Value;

use crate::apply::{World, events, fast, ids_with, run_id};

/// Tables `orders-eu`, `orders-us` (tagged `env: prod`), `orders-archive`,
/// `ledger` and `payments`, each backed up into the vault.
async fn seeded() -> World {
    let w = World::new(fast(), "0.002").await;
    for t in [
        "orders-eu",
        "orders-us",
        "orders-archive",
        "ledger",
        "payments",
    ] {
        w.source(t, 0).await;
    }
    for t in ["orders-eu", "orders-us"] {
        let arn = format!("arn:aws:dynamodb:us-east-1:{}:table/{t}", w.acct);
        w.aws
            .ddb
            .tag_resource()
            .resource_arn(arn)
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
    w
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// The 1-based line of the first line of `plan` containing `needle`.
fn line(plan: &str, needle: &str) -> usize {
    plan.lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("`{needle}` not in the plan"))
        + 1
}

#[tokio::test]
async fn a_selector_expands_in_plan_and_apply_and_an_own_restore_wins() {
    let w = seeded().await;
    let mut plan = w.header("selected", 4, None);
    plan.push_str(
        "  - select:\n      names: [\"orders-*\"]\n      exclude: [\"*-archive\"]\n    id: orders\n\
         \x20 - table: orders-us\n    name: orders-us-own\n\
         \x20 - table: ledger\n    depends_on: [orders]\n",
    );
    w.write("plan.yaml", &plan);
    let select_line = line(&plan, "- select:");
    let out = w.run(&["plan", "plan.yaml", "--format", "json"], 0);
    let dry = json(&out.stdout);
    let ids: BTreeSet<&str> = dry["restores"]
        .as_array()
        .expect("restores")
        .iter()
        .filter_map(|r| r["id"].as_str())
        .collect();
    assert_eq!(ids, BTreeSet::from(["orders-eu", "orders-us", "ledger"]));
    let sel = &dry["selections"][0];
    assert_eq!(sel["id"], "orders");
    assert_eq!(sel["restores"], serde_json::json!(["orders-eu"]));
    assert_eq!(sel["overridden"][0]["table"], "orders-us");
    assert_eq!(sel["line"], select_line);
    let ledger = dry["restores"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "ledger")
        .unwrap();
    let deps: BTreeSet<&str> = ledger["depends_on"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(
        deps,
        BTreeSet::from(["orders-eu", "orders-us"]),
        "depends_on a group waits for all of it, its own restore of orders-us included"
    );
    // The override is said, at the selector's line.
    assert!(
        out.stderr.contains("has its own restore `orders-us`"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains(&format!("plan.yaml:{select_line}")),
        "{}",
        out.stderr
    );
    let text = w.run(&["plan", "plan.yaml"], 0).stdout;
    assert!(
        text.contains("selector orders (line") && text.contains("1 table: orders-eu"),
        "{text}"
    );
    assert!(
        text.contains("restored by its own restore `orders-us`"),
        "{text}"
    );
    let md = w
        .run(&["plan", "plan.yaml", "--format", "markdown"], 0)
        .stdout;
    assert!(
        md.contains("**Selectors**") && md.contains("`orders-eu`"),
        "{md}"
    );

    // Offline, the group is one node of the graph.
    let graph = w.local(&["graph", "plan.yaml"], 0).stdout;
    assert!(
        graph.contains("orders -> ledger") && !graph.contains("orders-eu"),
        "{graph}"
    );

    // apply restores exactly the expansion and journals it.
    let out = w.run(&["apply", "plan.yaml", "--yes", "--format", "json"], 0);
    let ev = events(&out);
    assert_eq!(
        ids_with(&ev, "restore-completed"),
        BTreeSet::from(["orders-eu".into(), "orders-us".into(), "ledger".into()]),
        "{}",
        out.stderr
    );
    let journal = std::fs::read_to_string(
        w.dir
            .path()
            .join(".restoreplan/runs")
            .join(run_id(&ev))
            .join("journal.jsonl"),
    )
    .expect("journal");
    let header = json(journal.lines().next().expect("a first record"));
    assert_eq!(
        header["selections"][0]["restores"],
        serde_json::json!(["orders-eu"])
    );
    let restored: BTreeSet<String> = w.restores().keys().cloned().collect();
    assert_eq!(
        restored,
        BTreeSet::from([
            "orders-eu-dr".to_owned(),
            "orders-us-own".to_owned(),
            "ledger-dr".to_owned()
        ])
    );
}

#[tokio::test]
async fn selector_rules_point_at_the_selectors_line() {
    let w = seeded().await;
    let header = w.header("rules", 4, None);
    let case = |name: &str, body: &str| {
        let plan = format!("{header}{body}");
        w.write(name, &plan);
        plan
    };

    // A selector that matches nothing.
    let plan = case(
        "nothing.yaml",
        "  - table: ledger\n  - select: { names: [\"ghost-*\"] }\n    id: ghosts\n",
    );
    let out = w.run(&["validate", "--live", "nothing.yaml"], 1);
    assert!(
        out.stderr.contains("selector `ghosts` matches no table"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains(&format!("nothing.yaml:{}", line(&plan, "ghost-*"))),
        "{}",
        out.stderr
    );
    // Offline the shape is fine: nothing was listed.
    w.local(&["validate", "nothing.yaml"], 0);

    // A table matched by two selectors.
    let plan = case(
        "twice.yaml",
        "  - select: { names: [\"orders-*\"] }\n    id: orders\n  - select: { tags: { env: prod } }\n    id: prod\n",
    );
    let out = w.run(&["plan", "twice.yaml"], 1);
    let e = &out.stderr;
    assert!(
        e.contains("table `orders-eu` is matched by selector `orders` (line")
            && e.contains("and by selector `prod`"),
        "{e}"
    );
    assert!(
        e.contains(&format!("twice.yaml:{}", line(&plan, "env: prod"))),
        "{e}"
    );

    // A group id that is a table's restore id (offline already).
    let plan = case(
        "collide.yaml",
        "  - table: ledger\n  - select: { names: [\"orders-*\"] }\n    id: ledger\n",
    );
    let out = w.local(&["validate", "collide.yaml"], 1);
    assert!(
        out.stderr
            .contains("group id `ledger` is also the id of the restore on line"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains(&format!("collide.yaml:{}", line(&plan, "id: ledger"))),
        "{}",
        out.stderr
    );
    // … and a group id that is a selected table's name (live).
    let plan = case(
        "collide2.yaml",
        "  - select: { names: [\"orders-*\"] }\n    id: orders-eu\n",
    );
    let out = w.run(&["validate", "--live", "collide2.yaml"], 1);
    assert!(
        out.stderr
            .contains("group id `orders-eu` is also the id of a selected table's restore"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains(&format!("collide2.yaml:{}", line(&plan, "- select"))),
        "{}",
        out.stderr
    );

    // depends_on naming the group itself.
    let plan = case(
        "self.yaml",
        "  - select: { names: [\"orders-*\"] }\n    id: orders\n    depends_on: [orders]\n",
    );
    let out = w.local(&["validate", "self.yaml"], 1);
    assert!(
        out.stderr.contains("group `orders` depends on itself"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains(&format!(
            "self.yaml:{}",
            line(&plan, "depends_on: [orders]")
        )),
        "{}",
        out.stderr
    );
}

#[tokio::test]
async fn simulate_and_diff_show_selectors() {
    let w = seeded().await;
    let mut old = w.header("sim", 4, None);
    old.push_str("  - select: { names: [\"orders-*\"] }\n    id: orders\n");
    let new = old.replace("\"orders-*\"", "\"orders-*\", \"payments\"");
    w.write("old.yaml", &old);
    w.write("new.yaml", &new);
    w.write(
        "sizes.yaml",
        "orders-eu: 10GiB\norders-us: 20GiB\npayments: 1GiB\n",
    );
    let sim = w
        .local(&["simulate", "new.yaml", "--sizes", "sizes.yaml"], 0)
        .stdout;
    for t in ["orders-eu", "orders-us", "payments"] {
        assert!(sim.contains(t), "{sim}");
    }
    let d = w.local(&["diff", "old.yaml", "new.yaml"], 0).stdout;
    assert!(
        d.contains("~ selector orders: names orders-* -> names orders-*, payments"),
        "{d}"
    );
    let json = w
        .local(&["diff", "old.yaml", "new.yaml", "--format", "json"], 0)
        .stdout;
    let v: serde_json::Value = serde_json::from_str(&json).expect("diff --format json");
    assert_eq!(
        v["selectors"],
        serde_json::json!([{
            "id": "orders",
            "old": "names orders-*",
            "new": "names orders-*, payments"
        }]),
        "{json}"
    );
    let md = w
        .local(&["diff", "old.yaml", "new.yaml", "--format", "markdown"], 0)
        .stdout;
    assert!(md.contains("#### Selectors"), "{md}");
    // A selector change is a change: `--exit-code` says so.
    w.local(&["diff", "old.yaml", "new.yaml", "--exit-code"], 1);
    let live = w.run(&["diff", "old.yaml", "new.yaml", "--live"], 0).stdout;
    assert!(live.contains("payments"), "{live}");
}
