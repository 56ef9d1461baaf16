//! `recovery_point: { random_within: DURATION }` through the real binary
//! against the emulator: the point a saved plan drew is the one `apply
//! --plan-file` restores, and fresh draws spread over the window.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::apply::{World, events, fast, ids_with, run_id};

fn picked(json: &str) -> String {
    let v: Value = serde_json::from_str(json).expect("plan JSON");
    v["restores"][0]["recovery_point"]["arn"]
        .as_str()
        .unwrap_or_else(|| panic!("no recovery point chosen: {json}"))
        .to_owned()
}

#[tokio::test]
async fn the_point_plan_drew_is_the_point_apply_plan_file_restores() {
    let w = World::new(fast(), "0.002").await;
    let mut points = vec![w.source("ledger", 0).await];
    let table = format!("arn:aws:dynamodb:us-east-1:{}:table/ledger", w.acct);
    for _ in 0..7 {
        points.push(w.aws.backup("dr", &table).await);
    }
    let mut plan = w.header("drawn", 2, None);
    plan.push_str("  - table: ledger\n    recovery_point: { random_within: 7d }\n");
    w.write("plan.yaml", &plan);

    // Plain dry runs draw afresh: over a few of them, more than one point.
    let drawn: BTreeSet<String> = (0..6)
        .map(|_| picked(&w.run(&["plan", "plan.yaml", "--format", "json"], 0).stdout))
        .collect();
    assert!(drawn.len() > 1, "six draws all chose {drawn:?}");
    assert!(drawn.iter().all(|p| points.contains(p)), "{drawn:?}");

    let reviewed = w.run(
        &[
            "plan",
            "plan.yaml",
            "--out",
            "reviewed.json",
            "--format",
            "json",
        ],
        0,
    );
    let chosen = picked(&reviewed.stdout);
    let saved = std::fs::read_to_string(w.dir.path().join("reviewed.json")).expect("saved");
    assert_eq!(picked(&saved), chosen);
    let text = w.run(&["plan", "plan.yaml"], 0).stdout;
    assert!(text.contains("drawn at random within 7d"), "{text}");
    assert!(text.contains("random points drawn with seed"), "{text}");

    // Points backed up after the review do not change the reviewed pick.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    for _ in 0..3 {
        w.aws.backup("dr", &table).await;
    }
    let out = w.run(
        &[
            "apply",
            "plan.yaml",
            "--plan-file",
            "reviewed.json",
            "--yes",
            "--format",
            "json",
        ],
        0,
    );
    let ev = events(&out);
    assert_eq!(
        ids_with(&ev, "restore-completed"),
        BTreeSet::from(["ledger".to_owned()]),
        "{}",
        out.stderr
    );
    let run = run_id(&ev);
    let journal = std::fs::read_to_string(
        w.dir
            .path()
            .join(".restoreplan/runs")
            .join(&run)
            .join("journal.jsonl"),
    )
    .expect("journal");
    assert!(journal.contains(&chosen), "the run restored {chosen}");
    for other in points.iter().filter(|p| **p != chosen) {
        assert!(!journal.contains(other.as_str()), "the run used {other}");
    }
}
