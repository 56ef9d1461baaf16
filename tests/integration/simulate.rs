//! `simulate`: the embedded default, and sizes taken from AWS (read-only).

use crate::support::aws::Aws;
use crate::support::emulator::shared;
use crate::test::Test;

#[test]
fn the_embedded_example_predicts_an_rto_without_aws() {
    let out = Test::new().args(["simulate"]).run();
    assert!(out.stdout.contains("predicted RTO:"), "{}", out.stdout);
    assert!(out.stdout.contains("critical path"), "{}", out.stdout);
    assert!(out.stdout.contains("40 restores"), "{}", out.stdout);
}

fn estimates(json: &str) -> Vec<(String, f64)> {
    let doc: serde_json::Value = serde_json::from_str(json).expect("simulate --format json");
    doc["report"]["restores"]
        .as_array()
        .expect("restores")
        .iter()
        .map(|r| {
            (
                r["id"].as_str().expect("id").to_owned(),
                r["estimated_seconds"].as_f64().expect("estimate"),
            )
        })
        .collect()
}

#[test]
fn live_sizes_come_from_the_recovery_points() {
    let em = shared();
    let acct = em.fresh_account();
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let aws = Aws::new(em, &acct, "us-east-1").await;
        aws.vault("dr").await;
        for (table, bytes) in [("small", 1u64 << 20), ("big", 200u64 << 30)] {
            let arn = aws.table(table, None, 1).await;
            aws.ddb
                .tag_resource()
                .resource_arn(&arn)
                .tags(
                    aws_sdk_dynamodb::types::Tag::builder()
                        .key("restoreplan-emulator:size-bytes")
                        .value(bytes.to_string())
                        .build()
                        .expect("tag"),
                )
                .send()
                .await
                .expect("TagResource");
            aws.backup("dr", &arn).await;
        }
    });
    let plan = format!(
        r#"version: 1
name: sizes
source: {{ account: "{acct}", region: us-east-1 }}
target:
  account: "{acct}"
  region: us-east-1
  vault: dr
  role: arn:aws:iam::{acct}:role/service-role/AWSBackupDefaultServiceRole
defaults:
  name: "{{table}}-dr"
restores:
  - table: small
  - table: big
"#
    );
    let offline = Test::new()
        .write("plan.yaml", &plan)
        .args(["simulate", "plan.yaml", "--format", "json"])
        .run();
    let offline = estimates(&offline.stdout);
    assert_eq!(offline[0].1, offline[1].1, "no sizes: both get the default");

    let live = Test::new()
        .write("plan.yaml", &plan)
        .args(["simulate", "plan.yaml", "--live", "--format", "json"])
        .emulator(em)
        .roles(&[&acct])
        .run();
    let live = estimates(&live.stdout);
    let (small, big) = (live[0].1, live[1].1);
    assert!(
        big > small + 3600.0,
        "200 GiB restores far slower than 1 MiB: {live:?}"
    );
    // Read-only: the request log shows no mutating call from this account.
    let log = em.control("/_restoreplan/requests");
    let simulate_calls: Vec<&str> = log["requests"]
        .as_array()
        .expect("log")
        .iter()
        .filter(|r| r["account"] == acct.as_str())
        .filter_map(|r| r["operation"].as_str())
        .filter(|op| {
            ![
                "CreateBackupVault",
                "CreateTable",
                "PutItem",
                "TagResource",
                "StartBackupJob",
            ]
            .contains(op)
        })
        .collect();
    assert!(
        simulate_calls
            .iter()
            .all(|op| ["Describe", "List", "Get", "AssumeRole"]
                .iter()
                .any(|p| op.starts_with(p))),
        "{simulate_calls:?}"
    );
}
