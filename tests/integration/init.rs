//! `restoreplan init` through the real binary against the emulator seeded
//! with 60 tables over two accounts: the flags select exactly the right
//! tables, the plan validates live with no error and applies, and the
//! `--selectors` form expands to the same restores.

use std::collections::BTreeSet;

use aws_sdk_dynamodb::types::Tag;
use serde_json::Value;

use crate::apply::{World, events, fast, ids_with};
use crate::support::aws::Aws;

async fn tag(aws: &Aws, arn: &str, key: &str, value: &str) {
    aws.ddb
        .tag_resource()
        .resource_arn(arn)
        .tags(Tag::builder().key(key).value(value).build().expect("tag"))
        .send()
        .await
        .expect("TagResource");
}

/// The tables an `init` plan restores, in explicit form.
fn tables(plan: &str) -> BTreeSet<String> {
    plan.lines()
        .filter_map(|l| l.trim().strip_prefix("- table: "))
        .map(|t| {
            let t = t.split("   #").next().unwrap_or(t).trim();
            serde_json::from_str::<String>(t).unwrap_or_else(|_| t.to_owned())
        })
        .collect()
}

#[tokio::test]
async fn init_selects_exactly_the_right_tables_and_its_plan_validates_and_applies() {
    let w = World::new(fast(), "0.002").await;
    // 40 tables in this account: orders-0..14 (even ones `env: prod`),
    // ledger-0..9 (all prod), archive-0..9 (prod), scratch-0..4 (prod, no backup).
    let mut seeded = 0;
    for i in 0..15 {
        let t = format!("orders-{i}");
        w.source(&t, 0).await;
        if i % 2 == 0 {
            tag(&w.aws, &arn(&w.acct, &t), "env", "prod").await;
        }
        seeded += 1;
    }
    for (prefix, n) in [("ledger", 10), ("archive", 10)] {
        for i in 0..n {
            let t = format!("{prefix}-{i}");
            w.source(&t, 0).await;
            tag(&w.aws, &arn(&w.acct, &t), "env", "prod").await;
            seeded += 1;
        }
    }
    for i in 0..5 {
        let t = format!("scratch-{i}");
        let a = w.aws.table(&t, None, 1).await;
        tag(&w.aws, &a, "env", "prod").await;
        seeded += 1;
    }
    // 20 tables of the same names in another account: never listed.
    let other = w.em.fresh_account();
    let other_aws = Aws::new(w.em, &other, "us-east-1").await;
    for i in 0..20 {
        let t = format!("orders-{i}");
        let a = other_aws.table(&t, None, 1).await;
        tag(&other_aws, &a, "env", "prod").await;
        seeded += 1;
    }
    assert_eq!(seeded, 60);

    let acct = w.acct.clone();
    let base = [
        "init",
        "--source-account",
        acct.as_str(),
        "--source-region",
        "us-east-1",
        "--vault",
        "dr",
        "--match",
        "orders-*",
        "--match",
        "ledger-*",
        "--match",
        "scratch-*",
        "--exclude",
        "ledger-9",
        "--tag",
        "env=prod",
    ];
    let out = w.run(&base, 0);
    let plan = out.stdout;
    assert!(
        plan.starts_with("# yaml-language-server: $schema="),
        "{plan}"
    );
    assert!(plan.contains("# Written by `restoreplan init"), "{plan}");
    assert!(
        plan.contains("after_restore: { from_source: all }"),
        "{plan}"
    );
    assert!(plan.contains("depends_on: []"), "{plan}");
    let mut want: BTreeSet<String> = (0..15)
        .filter(|i| i % 2 == 0)
        .map(|i| format!("orders-{i}"))
        .collect();
    want.extend((0..9).map(|i| format!("ledger-{i}")));
    assert_eq!(tables(&plan), want, "{plan}");
    // The scratch tables have no recovery point: said, not restored.
    for i in 0..5 {
        assert!(
            plan.contains(&format!("#   scratch-{i}: no COMPLETED recovery point")),
            "{plan}"
        );
    }

    // --out never overwrites without --force.
    let mut with_out: Vec<&str> = base.to_vec();
    with_out.extend(["--out", "plan.yaml"]);
    w.run(&with_out, 0);
    let written = std::fs::read_to_string(w.dir.path().join("plan.yaml")).expect("written");
    assert_eq!(written, plan);
    std::fs::write(w.dir.path().join("plan.yaml"), "keep me").expect("write");
    let refused = w.run(&with_out, 2);
    assert!(
        refused.stderr.contains("pass --force"),
        "{}",
        refused.stderr
    );
    assert_eq!(
        std::fs::read_to_string(w.dir.path().join("plan.yaml")).unwrap(),
        "keep me"
    );
    with_out.push("--force");
    w.run(&with_out, 0);

    // It validates live with no error.
    let v = w.run(&["validate", "--live", "plan.yaml"], 0);
    assert!(!v.stderr.contains("error"), "{}", v.stderr);

    // The --selectors form expands to the same restores.
    let mut sel: Vec<&str> = base.to_vec();
    sel.extend(["--selectors", "--out", "selected.yaml"]);
    w.run(&sel, 0);
    let selected = std::fs::read_to_string(w.dir.path().join("selected.yaml")).expect("written");
    assert!(selected.contains("- select:"), "{selected}");
    let dry = w.run(&["plan", "selected.yaml", "--format", "json"], 0);
    let dry: Value = serde_json::from_str(&dry.stdout).expect("plan JSON");
    let ids: BTreeSet<String> = dry["restores"]
        .as_array()
        .expect("restores")
        .iter()
        .filter_map(|r| r["id"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(ids, want);

    // And the plan applies.
    let out = w.run(&["apply", "plan.yaml", "--yes", "--format", "json"], 0);
    assert_eq!(
        ids_with(&events(&out), "restore-completed"),
        want,
        "{}",
        out.stderr
    );
}

fn arn(acct: &str, table: &str) -> String {
    format!("arn:aws:dynamodb:us-east-1:{acct}:table/{table}")
}
